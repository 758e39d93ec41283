//! The portal's pages in-process (tower `oneshot`, parsed with `scraper`): every page in all
//! three languages has the right status, `<html lang>`, title and strict headers, and shows
//! no string of another language.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use ccr_issuer::bureau::Bureau;
use ccr_issuer::http::web::i18n::{EN, Lang, PT, Text, ZH};
use ccr_issuer::setup::home::Home;
use http_body_util::BodyExt as _;
use scraper::{Html, Selector};
use tower::ServiceExt as _;

struct Portal {
    dir: tempfile::TempDir,
    router: axum::Router,
}

/// A fresh home and the issuer's application state over it.
async fn app_state() -> (tempfile::TempDir, Arc<ccr_issuer::http::api::AppState>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let home = Home::locate(Some(dir.path().join("home")));
    home.init("http://127.0.0.1:8080", time::OffsetDateTime::now_utc())
        .expect("init");
    let bureau = Arc::new(Bureau::open(home, None).await.expect("bureau"));
    let app =
        ccr_issuer::http::server::application_state(bureau, Arc::new(tokio::sync::Notify::new()))
            .await
            .expect("state");
    (dir, app)
}

async fn portal() -> Portal {
    let (dir, app) = app_state().await;
    Portal {
        dir,
        router: ccr_issuer::http::web::router(app),
    }
}

struct Page {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    html: Html,
}

async fn get(portal: &Portal, path: &str, accept_language: Option<&str>) -> Page {
    let mut request = Request::get(path);
    if let Some(al) = accept_language {
        request = request.header("accept-language", al);
    }
    send(portal, request.body(Body::empty()).expect("request"))
        .await
        .0
}

fn select_text(html: &Html, css: &str) -> String {
    let selector = Selector::parse(css).expect("selector");
    html.select(&selector)
        .map(|e| e.text().collect::<String>())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Every string of a catalog, for "no other language's text on this page".
fn strings(t: &Text) -> Vec<&'static str> {
    let mut all = vec![
        t.service_name,
        t.start_title,
        t.start_lead,
        t.start_who_heading,
        t.fees_heading,
        t.fees_note,
        t.validity_note,
        t.exemption_heading,
        t.start_now,
        t.resume,
        t.other_ways_heading,
    ];
    all.extend(t.start_needs);
    all.extend(t.exemption_names);
    all.extend(t.counters);
    all
}

fn assert_strict_headers(page: &Page, what: &str) {
    let h = |name: &str| {
        page.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let csp = h("content-security-policy");
    for directive in [
        "default-src 'none'",
        "frame-ancestors 'none'",
        "script-src 'self'",
        "style-src 'self'",
    ] {
        assert!(
            csp.contains(directive),
            "{what}: CSP {csp:?} lacks {directive}"
        );
    }
    assert!(!csp.contains("unsafe-inline"), "{what}: {csp}");
    assert_eq!(h("x-content-type-options"), "nosniff", "{what}");
    assert_eq!(h("referrer-policy"), "same-origin", "{what}");
    assert_eq!(h("x-frame-options"), "DENY", "{what}");
}

#[tokio::test]
async fn the_start_page_speaks_each_language_and_nothing_else() {
    let portal = portal().await;
    for (lang, t, others) in [
        (Lang::Zh, &ZH, [&PT, &EN]),
        (Lang::Pt, &PT, [&ZH, &EN]),
        (Lang::En, &EN, [&ZH, &PT]),
    ] {
        let page = get(&portal, &format!("/?lang={}", lang.code()), None).await;
        assert_eq!(page.status, StatusCode::OK);
        assert_strict_headers(&page, "start page");
        let root = page.html.root_element();
        assert_eq!(
            Html::parse_document(&page.html.html())
                .select(&Selector::parse("html").expect("s"))
                .next()
                .and_then(|e| e.value().attr("lang")),
            Some(lang.tag())
        );
        let title = select_text(&page.html, "title");
        assert!(title.starts_with(t.start_title), "{title}");
        assert_eq!(select_text(&page.html, "h1"), t.start_title);
        let text: String = root.text().collect();
        for s in strings(t) {
            assert!(text.contains(s), "{lang:?} start page lacks {s:?}");
        }
        for other in others {
            for s in strings(other) {
                assert!(!text.contains(s), "{lang:?} start page shows {s:?}");
            }
        }
        assert!(
            text.contains("MOP 50.00") && text.contains("MOP 150.00"),
            "fees"
        );
        // The language switch: every language named in itself, marked with its own lang.
        let switch = Selector::parse("nav a[hreflang]").expect("s");
        let links: Vec<_> = page.html.select(&switch).collect();
        assert_eq!(links.len(), 3);
        for link in links {
            assert_eq!(link.value().attr("lang"), link.value().attr("hreflang"));
        }
    }
}

#[tokio::test]
async fn the_first_visit_follows_accept_language_and_a_choice_is_remembered() {
    let portal = portal().await;
    for (header, lang) in [
        ("zh-TW,zh;q=0.9", Lang::Zh),
        ("pt-PT,pt;q=0.9,en;q=0.5", Lang::Pt),
        ("fr-FR", Lang::En),
    ] {
        let page = get(&portal, "/", Some(header)).await;
        let tag = page
            .html
            .select(&Selector::parse("html").expect("s"))
            .next()
            .and_then(|e| e.value().attr("lang"))
            .map(str::to_owned);
        assert_eq!(tag.as_deref(), Some(lang.tag()), "{header}");
        assert!(
            page.headers.get("set-cookie").is_none(),
            "nothing chosen yet"
        );
    }
    let chosen = get(&portal, "/?lang=pt", Some("zh-TW")).await;
    let cookie = chosen
        .headers
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert!(
        cookie.starts_with("lang=pt;") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
}

#[tokio::test]
async fn unknown_pages_and_assets() {
    let portal = portal().await;
    let css = get(&portal, ccr_issuer::http::web::assets::stylesheet(), None).await;
    assert_eq!(css.status, StatusCode::OK);
    assert!(
        css.headers
            .get("cache-control")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("immutable"))
    );
    assert_strict_headers(&css, "stylesheet");
    let missing = get(&portal, "/assets/site.000000000000.css", None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

/// The whole issuer, as `issuer serve` routes it: unknown paths get the portal's page outside
/// the API and the JSON error inside it.
#[tokio::test]
async fn unknown_paths_get_a_page_or_a_json_error() {
    let (dir, app) = app_state().await;
    let whole = Portal {
        dir,
        router: ccr_issuer::http::web::router(Arc::clone(&app))
            .merge(ccr_issuer::http::api::router(app)),
    };
    let page = get(&whole, "/no-such-page?x=1", Some("pt-PT")).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert_strict_headers(&page, "404 page");
    assert_eq!(select_text(&page.html, "h1"), PT.not_found_title);
    let api = whole
        .router
        .clone()
        .oneshot(
            Request::get("/api/v1/nothing")
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("response");
    assert_eq!(api.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        api.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/json")
    );
}

async fn send(portal: &Portal, request: Request<Body>) -> (Page, String) {
    let response = portal
        .router
        .clone()
        .oneshot(request)
        .await
        .expect("response");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    (
        Page {
            status,
            headers,
            html: Html::parse_document(&text),
        },
        text,
    )
}

/// A GET with the session cookie.
async fn send_with_cookie(portal: &Portal, path: &str, cookie: &str) -> (Page, String) {
    let request = Request::get(path)
        .header("cookie", cookie)
        .body(Body::empty())
        .expect("request");
    send(portal, request).await
}

fn session_cookie(page: &Page) -> String {
    page.headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("ccr_session="))
        .and_then(|c| c.split(';').next())
        .expect("a session cookie")
        .to_owned()
}

fn form_token(page: &Page) -> String {
    page.html
        .select(&Selector::parse("input[name=csrf]").expect("s"))
        .next()
        .and_then(|e| e.value().attr("value"))
        .expect("a form token")
        .to_owned()
}

fn form_post(path: &str, cookie: &str, body: &str, headers: &[(&str, &str)]) -> Request<Body> {
    let mut request = Request::post(path)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", cookie);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.body(Body::from(body.to_owned())).expect("request")
}

#[tokio::test]
async fn sign_in_is_protected_against_other_sites_and_shows_its_errors() {
    let portal = portal().await;
    let form = get(&portal, "/sign-in?lang=en&next=/applications", None).await;
    assert_eq!(form.status, StatusCode::OK);
    let cookie = session_cookie(&form);
    let set_cookie = form
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("ccr_session="))
        .unwrap_or_default()
        .to_owned();
    assert!(
        set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax"),
        "{set_cookie}"
    );
    let csrf = form_token(&form);

    // Refused, changing nothing: no token, a wrong token, another site.
    for (body, headers) in [
        ("subject=MO-1".to_owned(), vec![]),
        ("subject=MO-1&csrf=wrong".to_owned(), vec![]),
        (
            format!("subject=MO-1&csrf={csrf}"),
            vec![("origin", "https://evil.example")],
        ),
        (
            format!("subject=MO-1&csrf={csrf}"),
            vec![("sec-fetch-site", "cross-site")],
        ),
    ] {
        let (refused, _) = send(&portal, form_post("/sign-in", &cookie, &body, &headers)).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{body} {headers:?}");
        assert!(
            refused.headers.get("set-cookie").is_none(),
            "no session was made"
        );
    }

    // A form error: summary linked to the field, "Error:" in the title, typed value kept.
    let (error, _) = send(
        &portal,
        form_post(
            "/sign-in?lang=en",
            &cookie,
            &format!("subject=%20%20&csrf={csrf}"),
            &[],
        ),
    )
    .await;
    assert_eq!(error.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(select_text(&error.html, "title").starts_with("Error:"));
    let link = error
        .html
        .select(&Selector::parse(".error-summary a").expect("s"))
        .next()
        .and_then(|a| a.value().attr("href"))
        .map(str::to_owned);
    assert_eq!(link.as_deref(), Some("#subject"));
    assert!(select_text(&error.html, "#subject-error").contains(EN.subject_error));

    // Signed in: a new session (the anonymous one is gone), then the list of applications.
    let (signed_in, _) = send(
        &portal,
        form_post(
            "/sign-in?lang=en",
            &cookie,
            &format!("subject=MO-7&next=%2Fapplications&csrf={csrf}"),
            &[
                ("origin", "http://127.0.0.1:8080"),
                ("sec-fetch-site", "same-origin"),
            ],
        ),
    )
    .await;
    assert_eq!(signed_in.status, StatusCode::SEE_OTHER);
    assert_eq!(
        signed_in
            .headers
            .get("location")
            .and_then(|v| v.to_str().ok()),
        Some("/applications")
    );
    let new_cookie = session_cookie(&signed_in);
    assert_ne!(new_cookie, cookie, "the session id changes at sign-in");
    let (old, _) = send_with_cookie(&portal, "/applications", &cookie).await;
    assert_eq!(
        old.status,
        StatusCode::SEE_OTHER,
        "the anonymous session signs no one in"
    );
    let (list, _) = send_with_cookie(&portal, "/applications?lang=en", &new_cookie).await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(select_text(&list.html, "h1"), EN.my_applications_title);
    assert!(select_text(&list.html, "main").contains(EN.no_applications));
}

#[tokio::test]
async fn an_idle_session_ends_with_the_timeout_page_and_keep_alive_renews_it() {
    let portal = portal().await;
    let form = get(&portal, "/sign-in", None).await;
    let cookie = session_cookie(&form);
    let csrf = form_token(&form);
    let (signed_in, _) = send(
        &portal,
        form_post(
            "/sign-in",
            &cookie,
            &format!("subject=MO-idle&csrf={csrf}"),
            &[],
        ),
    )
    .await;
    let cookie = session_cookie(&signed_in);
    let (list, _) = send_with_cookie(&portal, "/applications?lang=pt", &cookie).await;
    assert_eq!(list.status, StatusCode::OK);
    // The signed-in page carries the timeout warning, its script and its token.
    assert!(
        list.html
            .select(&Selector::parse("dialog#timeout-dialog").expect("s"))
            .next()
            .is_some()
    );
    let token = list
        .html
        .select(&Selector::parse("meta[name=ccr-csrf]").expect("s"))
        .next()
        .and_then(|m| m.value().attr("content"))
        .expect("token")
        .to_owned();
    // "Stay signed in" needs the token.
    let keep = |token: &str| {
        Request::post("/session/keep-alive")
            .header("cookie", &cookie)
            .header("x-csrf-token", token)
            .body(Body::empty())
            .expect("r")
    };
    assert_eq!(
        send(&portal, keep("wrong")).await.0.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        send(&portal, keep(&token)).await.0.status,
        StatusCode::NO_CONTENT
    );

    // Time passes: the registry says the session went idle an hour ago.
    let url = format!(
        "sqlite://{}",
        portal
            .dir
            .path()
            .join("home")
            .join("registry.sqlite")
            .display()
    );
    let db = sqlx::SqlitePool::connect(&url).await.expect("registry");
    sqlx::query("UPDATE web_sessions SET idle_until = '2000-01-01T00:00:00.000000Z'")
        .execute(&db)
        .await
        .expect("expire");
    let (ended, _) = send_with_cookie(&portal, "/applications?lang=pt", &cookie).await;
    assert_eq!(ended.status, StatusCode::UNAUTHORIZED);
    assert_eq!(select_text(&ended.html, "h1"), PT.timed_out_title);
    assert!(
        ended
            .html
            .select(&Selector::parse("a[href^='/sign-in']").expect("s"))
            .next()
            .is_some(),
        "a way back in"
    );
    assert_eq!(
        send(&portal, keep(&token)).await.0.status,
        StatusCode::UNAUTHORIZED
    );
}
