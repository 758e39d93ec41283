//! The portal's server-side cost: `cargo bench -p ccr-issuer --bench pages`.
//!
//! Per page, in-process through the router (no TCP): the median and 99th percentile of the
//! time from request to the whole body, over many requests one at a time; then the start
//! page's throughput with one request in flight per core on a two-worker runtime.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt as _;
use tower::ServiceExt as _;

const SAMPLES: usize = 2_000;

async fn timed(router: &axum::Router, path: &str, cookie: Option<&str>) -> Duration {
    let mut request = Request::get(path).header("accept-language", "zh-TW");
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    let start = Instant::now();
    let response = router
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "{path}: {}",
        response.status()
    );
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let elapsed = start.elapsed();
    assert!(!body.is_empty());
    elapsed
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let home = ccr_issuer::setup::home::Home::locate(Some(dir.path().join("home")));
        home.init("http://127.0.0.1:8080", time::OffsetDateTime::now_utc())
            .unwrap();
        let bureau = Arc::new(ccr_issuer::bureau::Bureau::open(home, None).await.unwrap());
        let app = ccr_issuer::http::server::application_state(
            bureau,
            Arc::new(tokio::sync::Notify::new()),
        )
        .await
        .unwrap();
        let router = ccr_issuer::http::web::router(Arc::clone(&app));
        // A signed-in session for the applicant's list.
        let form = router
            .clone()
            .oneshot(Request::get("/sign-in").body(Body::empty()).unwrap())
            .await
            .unwrap();
        let anonymous = form
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .and_then(|c| c.split(';').next())
            .unwrap()
            .to_owned();
        let html = String::from_utf8(
            form.into_body()
                .collect()
                .await
                .unwrap()
                .to_bytes()
                .to_vec(),
        )
        .unwrap();
        let csrf = html
            .split("name=\"csrf\" value=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap()
            .to_owned();
        let signed_in = router
            .clone()
            .oneshot(
                Request::post("/sign-in")
                    .header("content-type", "application/x-www-form-urlencoded")
                    .header("cookie", &anonymous)
                    .body(Body::from(format!("subject=bench&csrf={csrf}")))
                    .unwrap(),
            )
            .await
            .unwrap();
        let cookie = signed_in
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with("ccr_session="))
            .and_then(|c| c.split(';').next())
            .unwrap()
            .to_owned();

        // An application at step 2 of the signed-in applicant, for the step pages.
        let applicant = app
            .store()
            .applicant_for(
                "development",
                "bench",
                None,
                None,
                time::OffsetDateTime::now_utc(),
            )
            .await
            .unwrap();
        let who = ccr_issuer::identity::auth::Principal::new(
            ccr_issuer::identity::auth::Role::Applicant,
            applicant,
        );
        let selection = ccr_issuer::bureau::applying::Selection {
            usage: app.bureau.config().usages[0].code.clone(),
            format: ccr_issuer::bureau::applying::Format::Electronic,
            quantity: 1,
            collection_site: None,
            express: false,
            transfer_to: None,
        };
        let (application, _) = app.select(&who, &selection, None).await.unwrap();
        let confirm = format!("/applications/{}/confirm", application.id);
        let progress = format!("/applications/{}", application.id);

        println!("page                      median      p99   (n = {SAMPLES})");
        for (label, path, cookie) in [
            ("start page", "/", None),
            ("sign-in", "/sign-in", Some(anonymous.as_str())),
            ("your applications", "/applications", Some(cookie.as_str())),
            ("step 1 (choose)", "/apply", Some(cookie.as_str())),
            (
                "step 2 (your details)",
                confirm.as_str(),
                Some(cookie.as_str()),
            ),
            (
                "application progress",
                progress.as_str(),
                Some(cookie.as_str()),
            ),
        ] {
            for _ in 0..100 {
                timed(&router, path, cookie).await;
            }
            let mut times = Vec::with_capacity(SAMPLES);
            for _ in 0..SAMPLES {
                times.push(timed(&router, path, cookie).await);
            }
            times.sort();
            println!(
                "{label:<24} {:>8.1} µs {:>8.1} µs",
                percentile(&times, 0.5).as_secs_f64() * 1e6,
                percentile(&times, 0.99).as_secs_f64() * 1e6
            );
        }

        let requests = 20_000;
        let start = Instant::now();
        let tasks: Vec<_> = (0..2)
            .map(|_| {
                let router = router.clone();
                tokio::spawn(async move {
                    for _ in 0..requests / 2 {
                        timed(&router, "/", None).await;
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        let elapsed = start.elapsed();
        println!(
            "start page throughput: {:.0} pages/s ({requests} in {:.2} s, 2 workers)",
            requests as f64 / elapsed.as_secs_f64(),
            elapsed.as_secs_f64()
        );
    });
}
