//! Certificates issued per second through `issuer serve`, end to end over HTTP (issue 4),
//! on SQLite and on PostgreSQL, with where the time goes.
//!
//! `cargo bench -p ccr-tests --bench issuer_throughput` (release binaries; PostgreSQL at
//! 127.0.0.1:5432, skipped with a message when unreachable). `CCR_BENCH_APPLICATIONS`
//! (default 60) sets how many applications are driven through.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;

use ccr_tests::api::{Api, CLERK, IssuerService, OFFICER, PgDatabase, SECURITY};

const CLIENT_THREADS: usize = 4;
/// Certificates per application.
const COPIES: usize = 2;
const JPEG_BASE64: &str = "/9j/4AAQSkZJRgABAQAAAQABAAD/2Q==";

type Timings = Arc<Mutex<BTreeMap<&'static str, Vec<Duration>>>>;

fn timed<T>(timings: &Timings, step: &'static str, f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let value = f();
    let elapsed = start.elapsed();
    timings
        .lock()
        .expect("timings")
        .entry(step)
        .or_default()
        .push(elapsed);
    value
}

/// Drives one application through the four steps; returns its id.
fn apply(svc: &IssuerService, api: &Api, security: &str, n: usize, timings: &Timings) -> String {
    let subject = format!("bench-{n}");
    let mobile = format!("+8536{:07}", n);
    let token = timed(timings, "sign-in", || svc.applicant_token(&subject));
    let t = Some(token.as_str());
    let app = timed(timings, "1 select", || {
        api.post(
            "/api/v1/applications",
            t,
            &json!({ "usage": "EMPLOYMENT", "format": "electronic", "quantity": COPIES, "express": false }),
        )
    });
    app.expect(201);
    let id = app.json()["id"].as_str().expect("id").to_owned();
    timed(timings, "2 confirm", || {
        api.put(
            &format!("/api/v1/applications/{id}/confirmation"),
            t,
            &json!({
                "holder": { "name_latin": "CHAN TAI MAN", "name_chinese": "陳大文", "date_of_birth": "1990-01-31",
                            "document": { "type": "BIR", "number": format!("{n:07}(1)") } },
                "language": "zh", "mobile": mobile, "consent_police_data": true
            }),
        )
    })
    .expect(200);
    timed(timings, "3a otp send", || {
        api.post(&format!("/api/v1/applications/{id}/otp"), t, &json!({}))
    })
    .expect(202);
    let code = svc.latest_otp(security, &mobile);
    timed(timings, "3b otp verify", || {
        api.post(
            &format!("/api/v1/applications/{id}/otp/verify"),
            t,
            &json!({ "code": code }),
        )
    })
    .expect(200);
    timed(timings, "3c face", || {
        api.post(
            &format!("/api/v1/applications/{id}/face"),
            t,
            &json!({ "image_base64": JPEG_BASE64 }),
        )
    })
    .expect(200);
    let payment = timed(timings, "4a payment", || {
        api.post(
            &format!("/api/v1/applications/{id}/payments"),
            t,
            &json!({}),
        )
    });
    payment.expect(201);
    let payment_id = payment.json()["payment_id"]
        .as_str()
        .expect("payment")
        .to_owned();
    timed(timings, "4b gateway callback", || {
        api.post(
            &format!("/api/v1/sandbox/payments/{payment_id}/complete"),
            t,
            &json!({}),
        )
    })
    .expect(200);
    id
}

fn run(label: &str, database: Option<&str>, applications: usize) {
    let svc = Arc::new(IssuerService::start(database, "", &[]));
    let security = svc.staff_token(SECURITY);
    let clerk = svc.staff_token(CLERK);
    let officer = svc.staff_token(OFFICER);
    let timings: Timings = Arc::default();
    let start = Instant::now();
    let ids: Arc<Mutex<Vec<String>>> = Arc::default();
    let threads: Vec<_> = (0..CLIENT_THREADS)
        .map(|t| {
            let (svc, timings, ids) = (Arc::clone(&svc), Arc::clone(&timings), Arc::clone(&ids));
            let (security, clerk) = (security.clone(), clerk.clone());
            std::thread::spawn(move || {
                let api = svc.api.clone();
                for n in (t..applications).step_by(CLIENT_THREADS) {
                    let id = apply(&svc, &api, &security, n, &timings);
                    timed(&timings, "5 clerk review", || {
                        api.post(
                            &format!("/api/v1/applications/{id}/review"),
                            Some(&clerk),
                            &json!({ "action": "forward" }),
                        )
                    })
                    .expect(200);
                    ids.lock().expect("ids").push(id);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("client thread");
    }
    let checked = start.elapsed();
    // Phase 2: the officer approves everything at once; the workers drain the queue.
    let ids = ids.lock().expect("ids").clone();
    let approving = Instant::now();
    for id in &ids {
        timed(&timings, "6 officer approval", || {
            svc.api.post(
                &format!("/api/v1/applications/{id}/decision"),
                Some(&officer),
                &json!({ "approve": true }),
            )
        })
        .expect(200);
    }
    for id in &ids {
        loop {
            let app = svc
                .api
                .get(&format!("/api/v1/applications/{id}"), Some(&clerk));
            if app.json()["state"] == "ISSUED" {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    let issuing = approving.elapsed();
    let total = start.elapsed();
    let certificates = applications * COPIES;
    println!(
        "\n== {label}: {applications} applications x {COPIES} certificates, {CLIENT_THREADS} client threads, 2 issuance workers =="
    );
    println!(
        "end to end: {:.1} certificates/s ({certificates} in {:.2} s: the four steps and the clerk's review took {:.2} s, approval to the last certificate {:.2} s)",
        certificates as f64 / total.as_secs_f64(),
        total.as_secs_f64(),
        checked.as_secs_f64(),
        issuing.as_secs_f64()
    );
    println!(
        "issuance queue alone: {:.1} certificates/s ({:.2} ms each)",
        certificates as f64 / issuing.as_secs_f64(),
        issuing.as_secs_f64() * 1e3 / certificates as f64
    );
    println!(
        "{:<22} {:>10} {:>10} {:>10}",
        "step", "median ms", "p95 ms", "total s"
    );
    for (step, mut samples) in std::mem::take(&mut *timings.lock().expect("timings")) {
        samples.sort();
        let median = samples[samples.len() / 2];
        let p95 = samples[(samples.len() * 95 / 100).min(samples.len() - 1)];
        let sum: Duration = samples.iter().sum();
        println!(
            "{step:<22} {:>10.2} {:>10.2} {:>10.2}",
            median.as_secs_f64() * 1e3,
            p95.as_secs_f64() * 1e3,
            sum.as_secs_f64()
        );
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let applications = std::env::var("CCR_BENCH_APPLICATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(60);
    run("SQLite (embedded)", None, applications);
    match PgDatabase::create() {
        Some(db) => run("PostgreSQL", Some(&db.url), applications),
        None => println!("PostgreSQL skipped: unreachable"),
    }
}
