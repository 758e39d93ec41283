//! The portal's pages in-process (tower `oneshot`, parsed with `scraper`): every page in all
//! three languages has the right status, `<html lang>`, title and strict headers, and shows
//! no string of another language; form errors, language changes, paying twice, timeouts and
//! resuming; forms from other sites, other applicants' pages, cookies and headers.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use ccr_issuer::bureau::Bureau;
use ccr_issuer::http::web::i18n::{EN, Lang, PT, Text, ZH};
use ccr_issuer::setup::home::Home;
use http_body_util::BodyExt as _;
use scraper::{Html, Selector};
use tower::ServiceExt as _;

/// The public URL of the test homes (loopback http: the development cookie).
const PUBLIC_URL: &str = "http://127.0.0.1:8080";

struct Portal {
    dir: tempfile::TempDir,
    router: axum::Router,
    app: Arc<ccr_issuer::http::api::AppState>,
}

/// A fresh home and the issuer's application state over it.
async fn app_state() -> (tempfile::TempDir, Arc<ccr_issuer::http::api::AppState>) {
    app_state_at(PUBLIC_URL).await
}

/// A fresh home with `public_url` and the issuer's application state over it.
async fn app_state_at(
    public_url: &str,
) -> (tempfile::TempDir, Arc<ccr_issuer::http::api::AppState>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let home = Home::locate(Some(dir.path().join("home")));
    home.init(public_url, time::OffsetDateTime::now_utc())
        .expect("init");
    let bureau = Arc::new(Bureau::open(home, None).await.expect("bureau"));
    let app =
        ccr_issuer::http::server::application_state(bureau, Arc::new(tokio::sync::Notify::new()))
            .await
            .expect("state");
    (dir, app)
}

async fn portal() -> Portal {
    portal_at(PUBLIC_URL).await
}

async fn portal_at(public_url: &str) -> Portal {
    let (dir, app) = app_state_at(public_url).await;
    Portal {
        dir,
        router: ccr_issuer::http::web::router(Arc::clone(&app)),
        app,
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
            .merge(ccr_issuer::http::api::router(Arc::clone(&app))),
        app,
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
        .find(|c| c.starts_with("ccr_session=") || c.starts_with("__Host-ccr_session="))
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
        .find(|c| c.starts_with("ccr_session=") || c.starts_with("__Host-ccr_session="))
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
    let cookie = sign_in(&portal, "MO-idle").await.cookie;
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
    portal.expire_sessions().await;
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

// ---------------------------------------------------------------------------------------
// Signed-in pages: helpers that drive an application through the pages' own forms.
// ---------------------------------------------------------------------------------------

/// What the development face matcher accepts as a photograph (a 1×1 JPEG; the same as
/// `ccr_tests::api::FACE_JPEG_BASE64`, which this crate cannot use). Also a valid JPEG
/// supporting document.
const JPEG_BASE64: &str = "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHRofHh0aHBwgJC4nICIsIxwcKDcpLDAxNDQ0Hyc5PTgyPC4zNDL/wAALCAABAAEBAREA/8QAFAABAAAAAAAAAAAAAAAAAAAACf/EABQQAQAAAAAAAAAAAAAAAAAAAAD/2gAIAQEAAD8AKp//2Q==";

fn jpeg() -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(JPEG_BASE64)
        .expect("jpeg")
}

/// A form post from our own pages, as a browser sends it.
const SAME_ORIGIN: [(&str, &str); 2] = [("origin", PUBLIC_URL), ("sec-fetch-site", "same-origin")];

/// A signed-in applicant: their session cookie and form token.
struct Visitor {
    cookie: String,
    csrf: String,
}

impl Portal {
    async fn registry(&self) -> sqlx::SqlitePool {
        let url = format!(
            "sqlite://{}",
            self.dir
                .path()
                .join("home")
                .join("registry.sqlite")
                .display()
        );
        sqlx::SqlitePool::connect(&url).await.expect("registry")
    }

    /// Time passes: the registry says every session went idle long ago.
    async fn expire_sessions(&self) {
        sqlx::query("UPDATE web_sessions SET idle_until = '2000-01-01T00:00:00.000000Z'")
            .execute(&self.registry().await)
            .await
            .expect("expire");
    }

    async fn count(&self, table: &str) -> i64 {
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
            .fetch_one(&self.registry().await)
            .await
            .expect("count")
    }

    /// Every row a request could change, as text (a session's last use and idle deadline
    /// aside: every request renews them).
    async fn snapshot(&self) -> Vec<String> {
        let db = self.registry().await;
        let mut rows = Vec::new();
        for table in [
            "applicants",
            "applications",
            "otp_challenges",
            "payments",
            "payment_callbacks",
            "supporting_documents",
            "outbox",
            "audit_log",
            "certificates",
            "web_sessions",
        ] {
            let columns: Vec<String> = sqlx::query_scalar("SELECT name FROM pragma_table_info($1)")
                .bind(table)
                .fetch_all(&db)
                .await
                .expect("columns");
            let row = columns
                .iter()
                .filter(|c| !matches!(c.as_str(), "last_seen_at" | "idle_until"))
                .map(|c| format!("quote({c})"))
                .collect::<Vec<_>>()
                .join(" || '|' || ");
            let found: Vec<String> =
                sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT {row} FROM {table}")))
                    .fetch_all(&db)
                    .await
                    .expect("rows");
            rows.extend(found.into_iter().map(|r| format!("{table}: {r}")));
        }
        rows.sort();
        rows
    }

    async fn application(&self, id: &str) -> ccr_issuer::store::applications::ApplicationRow {
        self.app
            .store()
            .application(id)
            .await
            .expect("registry")
            .expect("application")
    }
}

/// Signs `subject` in with the development provider through the sign-in form.
async fn sign_in(portal: &Portal, subject: &str) -> Visitor {
    let form = get(portal, "/sign-in", None).await;
    let anonymous = session_cookie(&form);
    let csrf = form_token(&form);
    let (signed_in, _) = send(
        portal,
        form_post(
            "/sign-in",
            &anonymous,
            &format!("subject={subject}&csrf={csrf}"),
            &[],
        ),
    )
    .await;
    assert_eq!(signed_in.status, StatusCode::SEE_OTHER, "sign-in");
    let cookie = session_cookie(&signed_in);
    let (list, _) = send_with_cookie(portal, "/applications", &cookie).await;
    let csrf = form_token(&list);
    Visitor { cookie, csrf }
}

fn with_lang(path: &str, lang: Lang) -> String {
    let sep = if path.contains('?') { '&' } else { '?' };
    format!("{path}{sep}lang={}", lang.code())
}

/// `path` in `lang` (by `?lang=`) for the visitor.
async fn open(portal: &Portal, who: &Visitor, path: &str, lang: Lang) -> Page {
    send_with_cookie(portal, &with_lang(path, lang), &who.cookie)
        .await
        .0
}

/// `path` for the visitor, in the language `Accept-Language` asks for.
async fn open_accepting(portal: &Portal, who: &Visitor, path: &str, lang: Lang) -> Page {
    let accept = match lang {
        Lang::Zh => "zh-MO,zh;q=0.9,en;q=0.5",
        Lang::Pt => "pt-PT,pt;q=0.9",
        Lang::En => "en-GB,en;q=0.9",
    };
    let request = Request::get(path)
        .header("cookie", &who.cookie)
        .header("accept-language", accept)
        .body(Body::empty())
        .expect("request");
    send(portal, request).await.0
}

/// Posts `fields` and the visitor's form token to `path` from our own pages.
async fn submit(portal: &Portal, who: &Visitor, path: &str, fields: &[(&str, &str)]) -> Page {
    let mut all = fields.to_vec();
    all.push(("csrf", &who.csrf));
    let body = serde_urlencoded::to_string(&all).expect("form");
    send(portal, form_post(path, &who.cookie, &body, &SAME_ORIGIN))
        .await
        .0
}

/// A file of a multipart form: field, file name, media type, content.
type FilePart<'a> = (&'a str, &'a str, &'a str, &'a [u8]);

const BOUNDARY: &str = "ccr-test-boundary-7MA4YWxkTrZu0gW";

fn multipart_post(
    path: &str,
    cookie: &str,
    texts: &[(&str, &str)],
    files: &[FilePart<'_>],
    headers: &[(&str, &str)],
) -> Request<Body> {
    let mut body = Vec::new();
    for (name, value) in texts {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    for (name, filename, media_type, content) in files {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\nContent-Type: {media_type}\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    let mut request = Request::post(path)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .header("cookie", cookie);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.body(Body::from(body)).expect("request")
}

/// Posts `files` (and the visitor's form token) to `path` from our own pages.
async fn upload(portal: &Portal, who: &Visitor, path: &str, files: &[FilePart<'_>]) -> Page {
    let request = multipart_post(
        path,
        &who.cookie,
        &[("csrf", &who.csrf)],
        files,
        &SAME_ORIGIN,
    );
    send(portal, request).await.0
}

fn location(page: &Page) -> String {
    page.headers
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

#[track_caller]
fn assert_redirect(page: &Page, to: &str) {
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let at = location(page);
    assert!(at.starts_with(to), "went to {at:?}, not {to:?}");
}

fn input_value(page: &Page, css: &str) -> Option<String> {
    page.html
        .select(&Selector::parse(css).expect("s"))
        .next()
        .and_then(|e| e.value().attr("value"))
        .map(str::to_owned)
}

/// An applicant's details as typed in step 2.
struct Holder {
    name: &'static str,
    chinese: &'static str,
    document: &'static str,
    mobile: &'static str,
    /// The mobile number as stored (E.164).
    stored_mobile: &'static str,
}

const HOLDER_A: Holder = Holder {
    name: "CHAN TAI MAN",
    chinese: "陳大文",
    document: "1234567(8)",
    mobile: "6888 1234",
    stored_mobile: "+85368881234",
};

const HOLDER_B: Holder = Holder {
    name: "LEI SIO PENG",
    chinese: "李小萍",
    document: "7654321(0)",
    mobile: "6765 4321",
    stored_mobile: "+85367654321",
};

impl Holder {
    fn fields(&self) -> [(&'static str, &'static str); 8] {
        [
            ("name_latin", self.name),
            ("name_chinese", self.chinese),
            ("date_of_birth", "1990-01-31"),
            ("doc_type", "BIR"),
            ("doc_number", self.document),
            ("language", "en"),
            ("mobile", self.mobile),
            ("consent", "yes"),
        ]
    }
}

/// Step 1's answers: one electronic certificate for employment, standard handling.
fn choice(key: &str) -> [(&'static str, &str); 5] {
    [
        ("usage", "EMPLOYMENT"),
        ("format", "electronic"),
        ("quantity", "1"),
        ("express", "no"),
        ("key", key),
    ]
}

/// Step 1 through its form: the application's reference and the form's key.
async fn choose(portal: &Portal, who: &Visitor) -> (String, String) {
    let form = open(portal, who, "/apply", Lang::En).await;
    assert_eq!(form.status, StatusCode::OK);
    let key = input_value(&form, "input[name=key]").expect("a key");
    let done = submit(portal, who, "/apply", &choice(&key)).await;
    assert_redirect(&done, "/applications/");
    let at = location(&done);
    let id = at
        .strip_prefix("/applications/")
        .and_then(|rest| rest.strip_suffix("/confirm"))
        .unwrap_or_else(|| panic!("step 1 went to {at}"))
        .to_owned();
    (id, key)
}

/// Step 2 through its form.
async fn confirm_as(portal: &Portal, who: &Visitor, id: &str, holder: &Holder) {
    let path = format!("/applications/{id}/confirm");
    let done = submit(portal, who, &path, &holder.fields()).await;
    assert_redirect(&done, &format!("/applications/{id}/code"));
}

/// Step 3's code: sent, read from the development SMS outbox, typed.
async fn pass_code(portal: &Portal, who: &Visitor, id: &str, holder: &Holder) {
    let sent = submit(portal, who, &format!("/applications/{id}/code/send"), &[]).await;
    assert_redirect(&sent, &format!("/applications/{id}/code?sent=1"));
    let messages = portal
        .app
        .store()
        .messages_to(holder.stored_mobile, 10)
        .await
        .expect("outbox");
    let code = messages
        .iter()
        .find_map(|m| six_digits(&m.body))
        .expect("a code in the outbox");
    let typed = submit(
        portal,
        who,
        &format!("/applications/{id}/code"),
        &[("code", &code)],
    )
    .await;
    assert_redirect(&typed, &format!("/applications/{id}/face"));
}

fn six_digits(text: &str) -> Option<String> {
    text.as_bytes()
        .windows(6)
        .enumerate()
        .find(|(i, w)| {
            w.iter().all(u8::is_ascii_digit)
                && !text.as_bytes().get(i + 6).is_some_and(u8::is_ascii_digit)
                && (*i == 0 || !text.as_bytes()[i - 1].is_ascii_digit())
        })
        .map(|(_, w)| String::from_utf8_lossy(w).into_owned())
}

/// Step 3's face check with a photograph.
async fn pass_face(portal: &Portal, who: &Visitor, id: &str) {
    let photo = jpeg();
    let done = upload(
        portal,
        who,
        &format!("/applications/{id}/face"),
        &[("photo", "me.jpg", "image/jpeg", &photo)],
    )
    .await;
    assert_redirect(&done, &format!("/applications/{id}/check"));
}

/// Steps 1 to 3: an IDENTIFIED application's reference.
async fn identified(portal: &Portal, who: &Visitor, holder: &Holder) -> String {
    let (id, _) = choose(portal, who).await;
    confirm_as(portal, who, &id, holder).await;
    pass_code(portal, who, &id, holder).await;
    pass_face(portal, who, &id).await;
    id
}

/// "Pay": the gateway's page of the application's payment; the payment's id.
async fn open_payment(portal: &Portal, who: &Visitor, id: &str) -> String {
    let paying = submit(portal, who, &format!("/applications/{id}/pay"), &[]).await;
    assert_redirect(&paying, "/sandbox/pay/");
    location(&paying)
        .trim_start_matches("/sandbox/pay/")
        .split('?')
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// The sandbox gateway's "pay" button; back on the return page.
async fn press_pay(portal: &Portal, who: &Visitor, payment: &str) {
    let paid = submit(portal, who, &format!("/sandbox/pay/{payment}"), &[]).await;
    assert_redirect(&paid, &format!("/payments/{payment}/return"));
}

// ---------------------------------------------------------------------------------------
// What a page must be in its language.
// ---------------------------------------------------------------------------------------

/// The string literals of a catalog's `Debug` form (every field, arrays and pairs included).
fn literals(debug: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = debug.chars();
    while let Some(c) = chars.next() {
        if c != '"' {
            continue;
        }
        let mut literal = String::new();
        while let Some(c) = chars.next() {
            match c {
                '"' => break,
                '\\' => match chars.next() {
                    Some('n') => literal.push('\n'),
                    Some('t') => literal.push('\t'),
                    Some('r') => literal.push('\r'),
                    Some('u') => {
                        let hex: String =
                            chars.by_ref().skip(1).take_while(|c| *c != '}').collect();
                        if let Some(c) = u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32)
                        {
                            literal.push(c);
                        }
                    }
                    Some(other) => literal.push(other),
                    None => {}
                },
                other => literal.push(other),
            }
        }
        out.push(literal);
    }
    out
}

/// Every string of a language's catalogs (pages and steps).
fn catalog(lang: Lang) -> Vec<String> {
    let mut all = literals(&format!("{:?}", lang.text()));
    all.extend(literals(&format!("{:?}", lang.steps())));
    all
}

/// The pieces of a catalog string a page shows verbatim (around `{0}`, `{1}`…).
fn fragments(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        out.push(rest[..open].to_owned());
        rest = rest[open..]
            .find('}')
            .map_or("", |close| &rest[open + close + 1..]);
    }
    out.push(rest.to_owned());
    out.into_iter()
        .map(|f| {
            f.trim_matches(|c: char| c.is_whitespace() || c.is_ascii_punctuation())
                .to_owned()
        })
        .filter(|f| {
            // Long enough to be a sentence of one language, not a word of every one.
            let cjk = f.chars().any(|c| c as u32 >= 0x2E80);
            if cjk {
                f.chars().count() >= 2
            } else {
                f.chars().count() >= 6
            }
        })
        .collect()
}

/// The text a page shows, accessible names included.
fn shown_text(page: &Page) -> String {
    let mut text: String = page
        .html
        .root_element()
        .text()
        .collect::<Vec<_>>()
        .join(" ");
    for attr in ["aria-label", "alt", "placeholder", "title"] {
        let selector = Selector::parse(&format!("[{attr}]")).expect("s");
        for e in page.html.select(&selector) {
            text.push(' ');
            text.push_str(e.value().attr(attr).unwrap_or_default());
        }
    }
    text
}

/// The page is in `lang`: `<html lang>`, its title (`title`, after "Error:" when
/// `has_errors`), the service's strict headers, no empty label, legend, heading, button or
/// link, no unfilled placeholder, and no string of another language.
#[track_caller]
fn assert_speaks(page: &Page, lang: Lang, title: &str, has_errors: bool, what: &str) {
    let what = format!("{what} ({lang:?})");
    assert_strict_headers(page, &what);
    assert_eq!(
        page.headers
            .get("cache-control")
            .and_then(|v| v.to_str().ok()),
        Some("no-store"),
        "{what}"
    );
    let tag = page
        .html
        .select(&Selector::parse("html").expect("s"))
        .next()
        .and_then(|e| e.value().attr("lang"))
        .map(str::to_owned);
    assert_eq!(tag.as_deref(), Some(lang.tag()), "{what}");
    let t = lang.text();
    let prefix = if has_errors {
        format!("{} ", t.error_prefix)
    } else {
        String::new()
    };
    assert_eq!(
        select_text(&page.html, "title"),
        format!("{prefix}{title} – {} – {}", t.service_name, t.bureau),
        "{what}"
    );
    for css in [
        "label", "legend", "h1", "h2", "h3", "button", "a", "dt", "th", "caption", "summary",
        "option",
    ] {
        let selector = Selector::parse(css).expect("s");
        for e in page.html.select(&selector) {
            let text: String = e.text().collect();
            assert!(
                !text.trim().is_empty() || e.value().attr("aria-label").is_some(),
                "{what}: an empty <{css}>: {}",
                e.html()
            );
        }
    }
    let text = shown_text(page);
    for placeholder in ["{0}", "{1}", "{{", "}}"] {
        assert!(!text.contains(placeholder), "{what}: {placeholder} shown");
    }
    let own = catalog(lang);
    for other in Lang::ALL.into_iter().filter(|l| *l != lang) {
        for string in catalog(other) {
            for fragment in fragments(&string) {
                if own.iter().any(|s| s.contains(&fragment))
                    || Lang::ALL.iter().any(|l| l.native_name() == fragment)
                {
                    continue;
                }
                assert!(
                    !text.contains(&fragment),
                    "{what} shows {other:?} text {fragment:?}"
                );
            }
        }
    }
}

/// The page in each language, by `?lang=` and by `Accept-Language`: `status`, and
/// [`assert_speaks`] with the title `title(lang)`.
async fn assert_every_language(
    portal: &Portal,
    who: &Visitor,
    path: &str,
    status: StatusCode,
    title: impl Fn(Lang) -> String,
) {
    for lang in Lang::ALL {
        for page in [
            open(portal, who, path, lang).await,
            open_accepting(portal, who, path, lang).await,
        ] {
            assert_eq!(page.status, status, "{path} {lang:?}");
            assert_speaks(&page, lang, &title(lang), false, path);
        }
    }
}

#[tokio::test]
async fn every_page_speaks_each_language_and_nothing_else() {
    let portal = portal().await;
    // Signed out.
    let nobody = Visitor {
        cookie: String::new(),
        csrf: String::new(),
    };
    assert_every_language(&portal, &nobody, "/", StatusCode::OK, |l| {
        l.text().start_title.into()
    })
    .await;
    assert_every_language(&portal, &nobody, "/sign-in", StatusCode::OK, |l| {
        l.text().sign_in_title.into()
    })
    .await;
    assert_every_language(
        &portal,
        &nobody,
        "/session/timed-out",
        StatusCode::OK,
        |l| l.text().timed_out_title.into(),
    )
    .await;

    let who = sign_in(&portal, "MO-pages").await;
    assert_every_language(&portal, &who, "/applications", StatusCode::OK, |l| {
        l.text().my_applications_title.into()
    })
    .await;
    assert_every_language(&portal, &who, "/apply", StatusCode::OK, |l| {
        l.steps().select_title.into()
    })
    .await;
    assert_every_language(
        &portal,
        &who,
        "/applications/A-NO-SUCH",
        StatusCode::NOT_FOUND,
        |l| l.text().not_found_title.into(),
    )
    .await;

    // Step 2.
    let (id, _) = choose(&portal, &who).await;
    let app = |end: &str| format!("/applications/{id}{end}");
    assert_every_language(&portal, &who, &app("/confirm"), StatusCode::OK, |l| {
        l.steps().confirm_title.into()
    })
    .await;
    // Step 3.
    confirm_as(&portal, &who, &id, &HOLDER_A).await;
    for path in [app("/code"), app("/code?sent=1")] {
        assert_every_language(&portal, &who, &path, StatusCode::OK, |l| {
            l.steps().code_title.into()
        })
        .await;
    }
    assert_every_language(&portal, &who, &app("/code/help"), StatusCode::OK, |l| {
        l.steps().not_received_title.into()
    })
    .await;
    pass_code(&portal, &who, &id, &HOLDER_A).await;
    assert_every_language(&portal, &who, &app("/face"), StatusCode::OK, |l| {
        l.steps().face_title.into()
    })
    .await;
    pass_face(&portal, &who, &id).await;
    // Step 4.
    assert_every_language(&portal, &who, &app("/check"), StatusCode::OK, |l| {
        l.steps().check_title.into()
    })
    .await;
    for path in [
        app("/exemption"),
        app("/exemption/UNEMPLOYMENT"),
        app("/exemption/POVERTY"),
        app("/exemption/DISABILITY"),
    ] {
        assert_every_language(&portal, &who, &path, StatusCode::OK, |l| {
            l.steps().exemption_title.into()
        })
        .await;
    }
    let payment = open_payment(&portal, &who, &id).await;
    assert_every_language(
        &portal,
        &who,
        &format!("/sandbox/pay/{payment}"),
        StatusCode::OK,
        |l| l.steps().sandbox_title.into(),
    )
    .await;
    assert_every_language(
        &portal,
        &who,
        &format!("/payments/{payment}/return"),
        StatusCode::OK,
        |l| l.steps().payment_pending_title.into(),
    )
    .await;
    press_pay(&portal, &who, &payment).await;
    assert_every_language(&portal, &who, &app("/submitted"), StatusCode::OK, |l| {
        l.steps().submitted_title.into()
    })
    .await;
    assert_every_language(&portal, &who, &app("/receipt"), StatusCode::OK, |l| {
        l.steps().receipt_title.into()
    })
    .await;
    assert_every_language(&portal, &who, &app(""), StatusCode::OK, |l| {
        ccr_issuer::http::web::i18n::fill(l.steps().application_title, &[&id])
    })
    .await;
    assert_every_language(&portal, &who, "/applications", StatusCode::OK, |l| {
        l.text().my_applications_title.into()
    })
    .await;

    // The other way through step 4: a fee exemption with its documents.
    let other = identified(&portal, &who, &HOLDER_A).await;
    let document = jpeg();
    let asked = upload(
        &portal,
        &who,
        &format!("/applications/{other}/exemption/POVERTY"),
        &[
            ("EXEMPTION_FORM", "form.jpg", "image/jpeg", &document),
            ("IAS_BENEFICIARY_CARD", "card.jpg", "image/jpeg", &document),
        ],
    )
    .await;
    assert_redirect(&asked, &format!("/applications/{other}/submitted"));
    assert_every_language(
        &portal,
        &who,
        &format!("/applications/{other}/submitted"),
        StatusCode::OK,
        |l| l.steps().exemption_sent_title.into(),
    )
    .await;
    assert_every_language(
        &portal,
        &who,
        &format!("/applications/{other}"),
        StatusCode::OK,
        |l| ccr_issuer::http::web::i18n::fill(l.steps().application_title, &[&other]),
    )
    .await;

    // The counter page: a first-time non-resident worker cannot go on online.
    let (worker, _) = choose(&portal, &who).await;
    for lang in Lang::ALL {
        let mut fields = HOLDER_A.fields();
        fields[3] = ("doc_type", "TI");
        fields[4] = ("doc_number", "998877(6)");
        let counter = submit(
            &portal,
            &who,
            &with_lang(&format!("/applications/{worker}/confirm"), lang),
            &fields,
        )
        .await;
        assert_eq!(counter.status, StatusCode::OK);
        assert_speaks(
            &counter,
            lang,
            lang.steps().counter_title,
            false,
            "counter page",
        );
    }
}

/// The error summary's links, in order.
fn summary_links(page: &Page) -> Vec<String> {
    page.html
        .select(&Selector::parse(".error-summary a").expect("s"))
        .filter_map(|a| a.value().attr("href").map(str::to_owned))
        .collect()
}

/// A form sent with errors: 422, "Error:" before the title, the summary linking to each of
/// `fields` (each an element of the page), in `lang`.
#[track_caller]
fn assert_form_error(page: &Page, lang: Lang, title: &str, fields: &[&str], what: &str) {
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{what}");
    assert_speaks(page, lang, title, true, what);
    let expected: Vec<String> = fields.iter().map(|f| format!("#{f}")).collect();
    assert_eq!(summary_links(page), expected, "{what} ({lang:?})");
    for field in fields {
        let selector = Selector::parse(&format!("[id='{field}']")).expect("s");
        assert!(
            page.html.select(&selector).next().is_some(),
            "{what}: the summary links to #{field}, which is not on the page"
        );
        let message = Selector::parse(&format!("[id='{field}-error']")).expect("s");
        assert!(
            page.html.select(&message).next().is_some(),
            "{what}: no message at #{field}"
        );
    }
    assert!(
        select_text(&page.html, ".error-summary h2").contains(lang.text().there_is_a_problem),
        "{what}"
    );
}

#[tokio::test]
async fn a_form_error_shows_the_summary_and_keeps_what_was_typed() {
    let portal = portal().await;
    // Sign-in, in every language.
    for lang in Lang::ALL {
        let form = get(&portal, &with_lang("/sign-in", lang), None).await;
        let cookie = session_cookie(&form);
        let csrf = form_token(&form);
        let (error, _) = send(
            &portal,
            form_post(
                &with_lang("/sign-in", lang),
                &cookie,
                &format!("subject=%20%20&csrf={csrf}"),
                &[],
            ),
        )
        .await;
        assert_form_error(
            &error,
            lang,
            lang.text().sign_in_title,
            &["subject"],
            "sign-in",
        );
    }
    let who = sign_in(&portal, "MO-errors").await;
    for lang in Lang::ALL {
        let s = lang.steps();
        // Step 1: nothing chosen, an unreadable quantity.
        let error = submit(
            &portal,
            &who,
            &with_lang("/apply", lang),
            &[("quantity", "two"), ("key", "W-typed")],
        )
        .await;
        assert_form_error(
            &error,
            lang,
            s.select_title,
            &["usage", "format", "quantity", "express"],
            "step 1",
        );
        assert_eq!(input_value(&error, "#quantity").as_deref(), Some("two"));
        assert_eq!(
            input_value(&error, "input[name=key]").as_deref(),
            Some("W-typed"),
            "the form keeps its key"
        );
        // A paper certificate without a site.
        let error = submit(
            &portal,
            &who,
            &with_lang("/apply", lang),
            &[
                ("usage", "EMPLOYMENT"),
                ("format", "paper"),
                ("quantity", "2"),
                ("express", "yes"),
            ],
        )
        .await;
        assert_form_error(
            &error,
            lang,
            s.select_title,
            &["collection_site"],
            "step 1 site",
        );
        for checked in [
            "input[name=usage][value=EMPLOYMENT][checked]",
            "input[name=format][value=paper][checked]",
            "input[name=express][value=yes][checked]",
        ] {
            assert!(
                error
                    .html
                    .select(&Selector::parse(checked).expect("s"))
                    .next()
                    .is_some(),
                "{checked} kept ({lang:?})"
            );
        }
        assert_eq!(input_value(&error, "#quantity").as_deref(), Some("2"));
    }
    assert_eq!(portal.count("applications").await, 0, "nothing was saved");

    // Step 2: a name and a number typed, the rest missing.
    let (id, _) = choose(&portal, &who).await;
    for lang in Lang::ALL {
        let error = submit(
            &portal,
            &who,
            &with_lang(&format!("/applications/{id}/confirm"), lang),
            &[("name_latin", "CHAN TAI MAN"), ("mobile", "6888 1234")],
        )
        .await;
        assert_form_error(
            &error,
            lang,
            lang.steps().confirm_title,
            &[
                "date_of_birth",
                "doc_type",
                "doc_number",
                "language",
                "consent",
            ],
            "step 2",
        );
        assert_eq!(
            input_value(&error, "#name_latin").as_deref(),
            Some("CHAN TAI MAN")
        );
        assert_eq!(input_value(&error, "#mobile").as_deref(), Some("6888 1234"));
        // A mobile number the use case refuses: its field, the rest kept.
        let mut fields = HOLDER_A.fields();
        fields[6] = ("mobile", "12");
        let error = submit(
            &portal,
            &who,
            &with_lang(&format!("/applications/{id}/confirm"), lang),
            &fields,
        )
        .await;
        assert_form_error(
            &error,
            lang,
            lang.steps().confirm_title,
            &["mobile"],
            "step 2 mobile",
        );
        assert_eq!(input_value(&error, "#mobile").as_deref(), Some("12"));
        assert_eq!(
            input_value(&error, "#name_chinese").as_deref(),
            Some("陳大文")
        );
    }
    assert_eq!(portal.application(&id).await.state, "SELECTED");

    // Step 3: a code that is not six digits; no photograph.
    confirm_as(&portal, &who, &id, &HOLDER_A).await;
    for lang in Lang::ALL {
        let error = submit(
            &portal,
            &who,
            &with_lang(&format!("/applications/{id}/code"), lang),
            &[("code", "12 34")],
        )
        .await;
        assert_form_error(&error, lang, lang.steps().code_title, &["code"], "code");
        assert_eq!(input_value(&error, "#code").as_deref(), Some("12 34"));
    }
    pass_code(&portal, &who, &id, &HOLDER_A).await;
    for lang in Lang::ALL {
        let error = upload(
            &portal,
            &who,
            &with_lang(&format!("/applications/{id}/face"), lang),
            &[],
        )
        .await;
        assert_form_error(&error, lang, lang.steps().face_title, &["photo"], "face");
        let heic = upload(
            &portal,
            &who,
            &with_lang(&format!("/applications/{id}/face"), lang),
            &[("photo", "IMG_0001.HEIC", "image/heic", b"....ftypheic")],
        )
        .await;
        assert_form_error(
            &heic,
            lang,
            lang.steps().face_title,
            &["photo"],
            "face HEIC",
        );
        assert!(select_text(&heic.html, "#photo-error").contains(lang.steps().err_heic));
    }
    pass_face(&portal, &who, &id).await;

    // Step 4: no reason for an exemption; no documents.
    for lang in Lang::ALL {
        let error = submit(
            &portal,
            &who,
            &with_lang(&format!("/applications/{id}/exemption"), lang),
            &[],
        )
        .await;
        assert_form_error(
            &error,
            lang,
            lang.steps().exemption_title,
            &["kind"],
            "exemption",
        );
        let error = upload(
            &portal,
            &who,
            &with_lang(&format!("/applications/{id}/exemption/UNEMPLOYMENT"), lang),
            &[],
        )
        .await;
        assert_form_error(
            &error,
            lang,
            lang.steps().exemption_title,
            &[
                "EXEMPTION_FORM",
                "UNEMPLOYMENT_DECLARATION",
                "DSAL_REGISTRATION_RECEIPTS",
            ],
            "exemption documents",
        );
    }
    assert_eq!(portal.application(&id).await.state, "IDENTIFIED");
    assert_eq!(portal.count("supporting_documents").await, 0);
}

#[tokio::test]
async fn switching_language_in_step_2_keeps_what_was_typed_and_saves_nothing() {
    let portal = portal().await;
    let who = sign_in(&portal, "MO-switch").await;
    let (id, _) = choose(&portal, &who).await;
    let before = portal.snapshot().await;
    let mut fields = HOLDER_A.fields().to_vec();
    fields.retain(|(name, _)| *name != "date_of_birth");
    fields.push(("switch_lang", "pt"));
    let switched = submit(
        &portal,
        &who,
        &format!("/applications/{id}/confirm?lang=en"),
        &fields,
    )
    .await;
    assert_eq!(
        switched.status,
        StatusCode::OK,
        "no error: nothing was checked"
    );
    assert_speaks(
        &switched,
        Lang::Pt,
        Lang::Pt.steps().confirm_title,
        false,
        "switched",
    );
    assert!(summary_links(&switched).is_empty());
    assert_eq!(
        input_value(&switched, "#name_latin").as_deref(),
        Some(HOLDER_A.name)
    );
    assert_eq!(
        input_value(&switched, "#name_chinese").as_deref(),
        Some(HOLDER_A.chinese)
    );
    assert_eq!(
        input_value(&switched, "#doc_number").as_deref(),
        Some(HOLDER_A.document)
    );
    assert_eq!(
        input_value(&switched, "#mobile").as_deref(),
        Some(HOLDER_A.mobile)
    );
    assert_eq!(
        input_value(&switched, "#date_of_birth").as_deref(),
        Some("")
    );
    for checked in [
        "input[name=doc_type][value=BIR][checked]",
        "input[name=language][value=en][checked]",
        "input[name=consent][checked]",
    ] {
        assert!(
            switched
                .html
                .select(&Selector::parse(checked).expect("s"))
                .next()
                .is_some(),
            "{checked}"
        );
    }
    // The form posts on in Portuguese, and the language switch still submits it.
    let action = switched
        .html
        .select(&Selector::parse("form#confirm-form").expect("s"))
        .next()
        .and_then(|f| f.value().attr("action"))
        .map(str::to_owned);
    assert_eq!(action, Some(format!("/applications/{id}/confirm?lang=pt")));
    assert_eq!(
        switched
            .html
            .select(&Selector::parse("button[form=confirm-form][name=switch_lang]").expect("s"))
            .count(),
        3
    );
    let remembered = switched
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|c| c.starts_with("lang=pt;"));
    assert!(remembered, "the choice is remembered");
    assert_eq!(portal.snapshot().await, before, "nothing saved");
    assert_eq!(portal.application(&id).await.state, "SELECTED");

    // Step 1 likewise.
    let switched = submit(
        &portal,
        &who,
        "/apply?lang=en",
        &[
            ("quantity", "3"),
            ("usage", "EMPLOYMENT"),
            ("switch_lang", "zh"),
        ],
    )
    .await;
    assert_eq!(switched.status, StatusCode::OK);
    assert_speaks(
        &switched,
        Lang::Zh,
        Lang::Zh.steps().select_title,
        false,
        "step 1 switched",
    );
    assert_eq!(input_value(&switched, "#quantity").as_deref(), Some("3"));
    assert_eq!(portal.snapshot().await, before, "nothing saved");
}

#[tokio::test]
async fn paying_twice_going_back_or_resubmitting_makes_no_second_payment() {
    let portal = portal().await;
    let who = sign_in(&portal, "MO-twice").await;
    let (id, key) = choose(&portal, &who).await;
    confirm_as(&portal, &who, &id, &HOLDER_A).await;
    pass_code(&portal, &who, &id, &HOLDER_A).await;
    pass_face(&portal, &who, &id).await;
    // "Pay" twice (a double click, or back from the gateway and "Pay" again).
    let payment = open_payment(&portal, &who, &id).await;
    assert_eq!(open_payment(&portal, &who, &id).await, payment);
    // The gateway's button twice.
    press_pay(&portal, &who, &payment).await;
    press_pay(&portal, &who, &payment).await;
    let back = open(
        &portal,
        &who,
        &format!("/payments/{payment}/return"),
        Lang::En,
    )
    .await;
    assert_redirect(&back, &format!("/applications/{id}/submitted"));
    // Back to step 4 and "Pay" again: where the application stands, no new payment.
    let again = submit(&portal, &who, &format!("/applications/{id}/pay"), &[]).await;
    assert_redirect(&again, &format!("/applications/{id}"));
    let page = open(&portal, &who, &format!("/sandbox/pay/{payment}"), Lang::En).await;
    assert_redirect(&page, &format!("/payments/{payment}/return"));
    let check = open(
        &portal,
        &who,
        &format!("/applications/{id}/check"),
        Lang::En,
    )
    .await;
    assert_redirect(&check, &format!("/applications/{id}"));
    // Step 1's form sent again (back, back, back, resubmit): the same application.
    let resent = submit(&portal, &who, "/apply", &choice(&key)).await;
    assert_redirect(&resent, &format!("/applications/{id}"));
    assert_eq!(portal.count("payments").await, 1, "one payment");
    assert_eq!(portal.count("applications").await, 1, "one application");
    let app = portal.application(&id).await;
    assert_eq!(app.state, "SUBMITTED");
    assert_eq!(app.fee_avos, Some(5000));
    let paid: Vec<(String, String)> = sqlx::query_as("SELECT id, state FROM payments")
        .fetch_all(&portal.registry().await)
        .await
        .expect("payments");
    assert_eq!(paid, vec![(payment, "paid".to_owned())]);
}

#[tokio::test]
async fn an_expired_session_shows_the_timeout_page_and_changes_nothing() {
    let portal = portal().await;
    let who = sign_in(&portal, "MO-expired").await;
    let (id, _) = choose(&portal, &who).await;
    portal.expire_sessions().await;
    for lang in Lang::ALL {
        for path in [
            "/applications".to_owned(),
            "/apply".to_owned(),
            "/apply/resume".to_owned(),
            format!("/applications/{id}"),
            format!("/applications/{id}/confirm"),
        ] {
            let page = open(&portal, &who, &path, lang).await;
            assert_eq!(page.status, StatusCode::UNAUTHORIZED, "{path}");
            assert_speaks(&page, lang, lang.text().timed_out_title, false, &path);
            // The way back in: signing in again in the same language, then resuming.
            let again = page
                .html
                .select(&Selector::parse("main a[href^='/sign-in']").expect("s"))
                .next()
                .and_then(|a| a.value().attr("href"))
                .map(str::to_owned);
            assert_eq!(
                again.as_deref(),
                Some(format!("/sign-in?next=/apply/resume&lang={}", lang.code()).as_str())
            );
            let sign_in_page = get(&portal, &again.unwrap_or_default(), None).await;
            assert_speaks(
                &sign_in_page,
                lang,
                lang.text().sign_in_title,
                false,
                "sign in again",
            );
            assert_eq!(
                input_value(&sign_in_page, "input[name=next]").as_deref(),
                Some("/apply/resume")
            );
        }
    }
    let before = portal.snapshot().await;
    // A form sent after the session ended: the timeout page in the form's language, nothing
    // saved.
    for lang in Lang::ALL {
        for (path, fields) in [
            (
                format!("/applications/{id}/confirm"),
                HOLDER_A.fields().to_vec(),
            ),
            ("/apply".to_owned(), choice("W-after-timeout").to_vec()),
            ("/sign-out".to_owned(), Vec::new()),
        ] {
            let page = submit(&portal, &who, &with_lang(&path, lang), &fields).await;
            assert_eq!(page.status, StatusCode::UNAUTHORIZED, "{path}");
            assert_speaks(&page, lang, lang.text().timed_out_title, false, &path);
        }
        let page = upload(
            &portal,
            &who,
            &with_lang(&format!("/applications/{id}/face"), lang),
            &[("photo", "me.jpg", "image/jpeg", &jpeg())],
        )
        .await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED);
        assert_speaks(&page, lang, lang.text().timed_out_title, false, "face");
    }
    assert_eq!(portal.snapshot().await, before, "nothing changed");
    assert_eq!(portal.application(&id).await.state, "SELECTED");
}

async fn resume(portal: &Portal, who: &Visitor) -> Page {
    open(portal, who, "/apply/resume", Lang::En).await
}

#[tokio::test]
async fn resuming_opens_the_first_unfinished_step() {
    let portal = portal().await;
    let who = sign_in(&portal, "MO-resume").await;
    assert_redirect(&resume(&portal, &who).await, "/applications");
    let (id, _) = choose(&portal, &who).await;
    assert_redirect(
        &resume(&portal, &who).await,
        &format!("/applications/{id}/confirm"),
    );
    confirm_as(&portal, &who, &id, &HOLDER_A).await;
    assert_redirect(
        &resume(&portal, &who).await,
        &format!("/applications/{id}/code"),
    );
    pass_code(&portal, &who, &id, &HOLDER_A).await;
    assert_redirect(
        &resume(&portal, &who).await,
        &format!("/applications/{id}/face"),
    );
    pass_face(&portal, &who, &id).await;
    assert_redirect(
        &resume(&portal, &who).await,
        &format!("/applications/{id}/check"),
    );
    // Steps already done send the applicant on to the first unfinished one; step 2 stays
    // open ("Change" from check your answers).
    let change = open(
        &portal,
        &who,
        &format!("/applications/{id}/confirm"),
        Lang::En,
    )
    .await;
    assert_eq!(change.status, StatusCode::OK);
    for done in ["/code", "/face"] {
        let page = open(
            &portal,
            &who,
            &format!("/applications/{id}{done}"),
            Lang::En,
        )
        .await;
        assert_redirect(&page, &format!("/applications/{id}/check"));
    }
    let payment = open_payment(&portal, &who, &id).await;
    press_pay(&portal, &who, &payment).await;
    assert_redirect(&resume(&portal, &who).await, "/applications");
    // After signing in again (the timeout page's way back), the same.
    let (other, _) = choose(&portal, &who).await;
    let again = sign_in(&portal, "MO-resume").await;
    assert_redirect(
        &resume(&portal, &again).await,
        &format!("/applications/{other}/confirm"),
    );
}

// ---------------------------------------------------------------------------------------
// Security: forms from elsewhere, other applicants' pages, cookies.
// ---------------------------------------------------------------------------------------

/// A state-changing form of the portal, as its page would send it.
struct Post {
    path: String,
    fields: Vec<(&'static str, String)>,
    /// File inputs (a multipart form, each with a JPEG).
    files: Vec<&'static str>,
}

impl Post {
    fn form(path: String, fields: &[(&'static str, &str)]) -> Self {
        Self {
            path,
            fields: fields.iter().map(|(n, v)| (*n, (*v).to_owned())).collect(),
            files: Vec::new(),
        }
    }

    fn upload(path: String, fields: &[(&'static str, &str)], files: &[&'static str]) -> Self {
        Self {
            files: files.to_vec(),
            ..Self::form(path, fields)
        }
    }

    /// The request with `cookie`, the token `csrf` (none if `None`) and `headers`.
    fn request(&self, cookie: &str, csrf: Option<&str>, headers: &[(&str, &str)]) -> Request<Body> {
        let mut texts: Vec<(&str, &str)> =
            self.fields.iter().map(|(n, v)| (*n, v.as_str())).collect();
        if let Some(csrf) = csrf {
            texts.push(("csrf", csrf));
        }
        if self.files.is_empty() {
            let body = serde_urlencoded::to_string(&texts).expect("form");
            return form_post(&self.path, cookie, &body, headers);
        }
        let content = jpeg();
        let files: Vec<FilePart<'_>> = self
            .files
            .iter()
            .map(|f| (*f, "document.jpg", "image/jpeg", content.as_slice()))
            .collect();
        multipart_post(&self.path, cookie, &texts, &files, headers)
    }
}

/// A forged form: the token it carries (none if `None`), its headers, what it is.
type Forgery<'a> = (Option<&'a str>, &'a [(&'a str, &'a str)], &'a str);

/// Sends `post` as another site would, or without its token, in every way; each is refused
/// with 403 and the "could not process" page.
async fn assert_forgeries_refused(
    portal: &Portal,
    post: &Post,
    cookie: &str,
    csrf: &str,
    other_csrf: &str,
) {
    let same: &[(&str, &str)] = &SAME_ORIGIN;
    let forgeries: [Forgery<'_>; 8] = [
        (
            Some(csrf),
            &[("origin", "https://evil.example")],
            "foreign Origin",
        ),
        (Some(csrf), &[("origin", "null")], "opaque Origin"),
        (
            Some(csrf),
            &[("origin", "http://127.0.0.1:8081")],
            "another port",
        ),
        (
            Some(csrf),
            &[("sec-fetch-site", "cross-site")],
            "cross-site",
        ),
        (Some(csrf), &[("sec-fetch-site", "same-site")], "same-site"),
        (None, same, "no token"),
        (Some("wrong"), same, "wrong token"),
        (Some(other_csrf), same, "another session's token"),
    ];
    for (i, (token, headers, why)) in forgeries.into_iter().enumerate() {
        // The refusal in the form's language (its action's `?lang=`).
        let lang = Lang::ALL[i % 3];
        let sent = Post {
            path: with_lang(&post.path, lang),
            fields: post.fields.clone(),
            files: post.files.clone(),
        };
        let (page, _) = send(portal, sent.request(cookie, token, headers)).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{} {why}", post.path);
        assert_speaks(&page, lang, lang.text().forbidden_title, false, why);
        assert!(
            page.headers.get("set-cookie").is_none(),
            "{} {why}: no session made or ended",
            post.path
        );
    }
}

#[tokio::test]
async fn forms_from_other_sites_or_without_their_token_are_refused_and_change_nothing() {
    let portal = portal().await;
    let who = sign_in(&portal, "MO-victim").await;
    let other = sign_in(&portal, "MO-other").await;
    // Applications at each step, so that every form has something to change.
    let (selected, key) = choose(&portal, &who).await;
    let (confirmed, _) = choose(&portal, &who).await;
    confirm_as(&portal, &who, &confirmed, &HOLDER_A).await;
    let (coded, _) = choose(&portal, &who).await;
    confirm_as(&portal, &who, &coded, &HOLDER_A).await;
    pass_code(&portal, &who, &coded, &HOLDER_A).await;
    let paying = identified(&portal, &who, &HOLDER_A).await;
    let payment = open_payment(&portal, &who, &paying).await;
    let exempting = identified(&portal, &who, &HOLDER_A).await;

    let details: Vec<(&'static str, &str)> = HOLDER_A.fields().to_vec();
    let posts = [
        Post::form("/apply".into(), &choice(&format!("{key}-new"))),
        Post::form(format!("/applications/{selected}/confirm"), &details),
        Post::form(format!("/applications/{confirmed}/code/send"), &[]),
        Post::form(
            format!("/applications/{confirmed}/code"),
            &[("code", "123456")],
        ),
        Post::upload(format!("/applications/{coded}/face"), &[], &["photo"]),
        Post::form(format!("/applications/{exempting}/pay"), &[]),
        Post::form(format!("/sandbox/pay/{payment}"), &[]),
        Post::form(
            format!("/applications/{exempting}/exemption"),
            &[("kind", "POVERTY")],
        ),
        Post::upload(
            format!("/applications/{exempting}/exemption/POVERTY"),
            &[],
            &["EXEMPTION_FORM", "IAS_BENEFICIARY_CARD"],
        ),
        Post::upload(
            format!("/applications/{paying}/information"),
            &[("message", "Here it is")],
            &["attachment"],
        ),
        Post::form("/sign-out".into(), &[]),
    ];
    let before = portal.snapshot().await;
    for post in &posts {
        assert_forgeries_refused(&portal, post, &who.cookie, &who.csrf, &other.csrf).await;
    }
    // "Stay signed in" from another site.
    for headers in [
        [
            ("origin", "https://evil.example"),
            ("x-csrf-token", who.csrf.as_str()),
        ],
        [
            ("sec-fetch-site", "cross-site"),
            ("x-csrf-token", who.csrf.as_str()),
        ],
    ] {
        let mut request = Request::post("/session/keep-alive").header("cookie", &who.cookie);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let (page, _) = send(&portal, request.body(Body::empty()).expect("r")).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN);
    }
    assert_eq!(portal.snapshot().await, before, "nothing changed");
    // Signing in from another site: no session is made.
    let form = get(&portal, "/sign-in", None).await;
    let anonymous = session_cookie(&form);
    let before_sign_in = portal.snapshot().await;
    assert_forgeries_refused(
        &portal,
        &Post::form("/sign-in".into(), &[("subject", "MO-victim")]),
        &anonymous,
        &form_token(&form),
        &who.csrf,
    )
    .await;
    assert_eq!(portal.snapshot().await, before_sign_in, "sign-in refused");
    assert_eq!(portal.application(&selected).await.state, "SELECTED");
    assert_eq!(portal.application(&paying).await.state, "IDENTIFIED");

    // The same forms from our own pages with their token do what they are for (so the
    // refusals above were of working forms).
    for post in &posts {
        let (page, _) = send(
            &portal,
            post.request(&who.cookie, Some(&who.csrf), &SAME_ORIGIN),
        )
        .await;
        assert!(
            page.status == StatusCode::SEE_OTHER || page.status == StatusCode::UNPROCESSABLE_ENTITY,
            "{}: {}",
            post.path,
            page.status
        );
    }
    assert_eq!(portal.application(&selected).await.state, "CONFIRMED");
    assert_eq!(portal.application(&coded).await.state, "IDENTIFIED");
    assert_eq!(portal.application(&paying).await.state, "SUBMITTED");
    assert_eq!(
        portal.application(&exempting).await.state,
        "EXEMPTION_REQUESTED"
    );
    let (signed_out, _) = send_with_cookie(&portal, "/applications", &who.cookie).await;
    assert_redirect(&signed_out, "/sign-in");
}

/// What of applicant A a page must never show to anyone else.
fn assert_nothing_of(text: &str, secrets: &[&str], what: &str) {
    for secret in secrets {
        assert!(!text.contains(secret), "{what} shows {secret:?}");
    }
}

#[tokio::test]
async fn another_applicants_pages_are_not_found_and_show_nothing_of_theirs() {
    let portal = portal().await;
    let a = sign_in(&portal, "MO-alice").await;
    let paid = identified(&portal, &a, &HOLDER_A).await;
    let payment = open_payment(&portal, &a, &paid).await;
    press_pay(&portal, &a, &payment).await;
    let (at_code, _) = choose(&portal, &a).await;
    confirm_as(&portal, &a, &at_code, &HOLDER_A).await;
    let secrets = [
        paid.as_str(),
        at_code.as_str(),
        payment.as_str(),
        HOLDER_A.name,
        HOLDER_A.chinese,
        HOLDER_A.document,
        HOLDER_A.mobile,
        HOLDER_A.stored_mobile,
        "68881234",
    ];

    let b = sign_in(&portal, "MO-bob").await;
    let own = identified(&portal, &b, &HOLDER_B).await;
    let mut paths = Vec::new();
    for id in [&paid, &at_code] {
        for end in [
            "",
            "/confirm",
            "/code",
            "/code/help",
            "/face",
            "/check",
            "/exemption",
            "/exemption/UNEMPLOYMENT",
            "/submitted",
            "/receipt",
        ] {
            paths.push(format!("/applications/{id}{end}"));
        }
    }
    paths.push(format!("/sandbox/pay/{payment}"));
    paths.push(format!("/payments/{payment}/return"));
    for path in &paths {
        for lang in Lang::ALL {
            let (page, text) = send_with_cookie(&portal, &with_lang(path, lang), &b.cookie).await;
            assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}");
            assert_speaks(&page, lang, lang.text().not_found_title, false, path);
            assert_nothing_of(&text, &secrets, path);
        }
        // A's own pages exist (so "not found" above is about whose they are); an unpaid
        // application has no receipt.
        if *path != format!("/applications/{at_code}/receipt") {
            let (mine, _) = send_with_cookie(&portal, path, &a.cookie).await;
            assert_ne!(mine.status, StatusCode::NOT_FOUND, "{path} for A");
        }
    }

    // B's forms on A's application: not found, nothing changed.
    let before = portal.snapshot().await;
    let details: Vec<(&'static str, &str)> = HOLDER_B.fields().to_vec();
    for post in [
        Post::form(format!("/applications/{at_code}/confirm"), &details),
        Post::form(format!("/applications/{at_code}/code/send"), &[]),
        Post::form(
            format!("/applications/{at_code}/code"),
            &[("code", "123456")],
        ),
        Post::upload(format!("/applications/{at_code}/face"), &[], &["photo"]),
        Post::form(format!("/applications/{paid}/pay"), &[]),
        Post::form(format!("/sandbox/pay/{payment}"), &[]),
        Post::form(
            format!("/applications/{paid}/exemption"),
            &[("kind", "POVERTY")],
        ),
        Post::upload(
            format!("/applications/{paid}/exemption/POVERTY"),
            &[],
            &["EXEMPTION_FORM", "IAS_BENEFICIARY_CARD"],
        ),
        Post::upload(
            format!("/applications/{paid}/information"),
            &[("message", "Mine now")],
            &["attachment"],
        ),
    ] {
        let (page, text) = send(
            &portal,
            post.request(&b.cookie, Some(&b.csrf), &SAME_ORIGIN),
        )
        .await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{}", post.path);
        assert_nothing_of(&text, &secrets, &post.path);
    }
    assert_eq!(portal.snapshot().await, before, "nothing changed");
    // B's list shows B's application only.
    let (list, text) = send_with_cookie(&portal, "/applications", &b.cookie).await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(text.contains(&own));
    assert_nothing_of(&text, &secrets, "B's list");
}

fn set_cookie_of(page: &Page, name: &str) -> String {
    page.headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} cookie"))
        .to_owned()
}

#[track_caller]
fn assert_cookie_flags(cookie: &str, secure: bool) {
    let attributes: Vec<&str> = cookie.split(';').map(str::trim).skip(1).collect();
    for flag in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(attributes.contains(&flag), "{cookie} lacks {flag}");
    }
    assert_eq!(attributes.contains(&"Secure"), secure, "{cookie}");
    assert!(
        !attributes.iter().any(|a| a.starts_with("Domain")),
        "{cookie}: no Domain"
    );
}

#[tokio::test]
async fn session_cookies_are_host_only_http_only_same_site_and_secure_on_https() {
    // An https public URL: `__Host-` and `Secure`.
    let tls = portal_at("https://ccr.dsi.example.mo").await;
    let form = get(&tls, "/sign-in", None).await;
    let anonymous = set_cookie_of(&form, "__Host-ccr_session");
    assert_cookie_flags(&anonymous, true);
    assert!(
        form.headers
            .get_all("set-cookie")
            .iter()
            .all(|c| !c.to_str().unwrap_or_default().starts_with("ccr_session="))
    );
    let cookie = session_cookie(&form);
    let csrf = form_token(&form);
    // A form of this https site is accepted; the http origin of the same host is another site.
    let (refused, _) = send(
        &tls,
        form_post(
            "/sign-in",
            &cookie,
            &format!("subject=MO-tls&csrf={csrf}"),
            &[("origin", "http://ccr.dsi.example.mo")],
        ),
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let (signed_in, _) = send(
        &tls,
        form_post(
            "/sign-in",
            &cookie,
            &format!("subject=MO-tls&csrf={csrf}"),
            &[
                ("origin", "https://ccr.dsi.example.mo"),
                ("sec-fetch-site", "same-origin"),
            ],
        ),
    )
    .await;
    assert_eq!(signed_in.status, StatusCode::SEE_OTHER);
    let session = set_cookie_of(&signed_in, "__Host-ccr_session");
    assert_cookie_flags(&session, true);
    let cookie = session_cookie(&signed_in);
    let (list, _) = send_with_cookie(&tls, "/applications?lang=zh", &cookie).await;
    assert_eq!(list.status, StatusCode::OK);
    assert_speaks(
        &list,
        Lang::Zh,
        ZH.my_applications_title,
        false,
        "https list",
    );
    // Signing out clears the cookie with the same attributes.
    let csrf = form_token(&list);
    let (out, _) = send(
        &tls,
        form_post(
            "/sign-out",
            &cookie,
            &format!("csrf={csrf}"),
            &[("origin", "https://ccr.dsi.example.mo")],
        ),
    )
    .await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    let cleared = set_cookie_of(&out, "__Host-ccr_session");
    assert_cookie_flags(&cleared, true);
    assert!(cleared.contains("Max-Age=0"), "{cleared}");

    // Loopback http (development): `ccr_session`, not Secure (a browser would drop it).
    let portal = portal().await;
    let form = get(&portal, "/sign-in", None).await;
    assert_cookie_flags(&set_cookie_of(&form, "ccr_session"), false);
    let who = sign_in(&portal, "MO-loopback").await;
    let (list, _) = send_with_cookie(&portal, "/applications", &who.cookie).await;
    assert_eq!(list.status, StatusCode::OK);
    // A redirect to sign in is not cached either.
    let (redirect, _) = send_with_cookie(&portal, "/applications", "").await;
    assert_eq!(redirect.status, StatusCode::SEE_OTHER);
    assert_strict_headers(&redirect, "redirect");
    assert_eq!(
        redirect
            .headers
            .get("cache-control")
            .and_then(|v| v.to_str().ok()),
        Some("no-store")
    );
}

/// The language check itself: a page of one language showing a string of another, an empty
/// label or an unfilled placeholder does not pass.
#[tokio::test]
async fn the_language_check_finds_foreign_empty_and_unfilled_strings() {
    let portal = portal().await;
    let page = get(&portal, "/?lang=zh", None).await;
    assert_speaks(&page, Lang::Zh, ZH.start_title, false, "start page");
    let html = page.html.html();
    for (broken, why) in [
        (
            html.replacen("</h1>", &format!(" {}</h1>", PT.there_is_a_problem), 1),
            "Portuguese",
        ),
        (
            html.replacen(
                "</main>",
                &format!("<p>{}</p></main>", EN.timed_out_body),
                1,
            ),
            "English",
        ),
        (
            html.replacen("</main>", "<label for=x> </label></main>", 1),
            "empty label",
        ),
        (
            html.replacen("</main>", "<p>Passo {0} de 4</p></main>", 1),
            "placeholder",
        ),
    ] {
        let page = Page {
            status: page.status,
            headers: page.headers.clone(),
            html: Html::parse_document(&broken),
        };
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            assert_speaks(&page, Lang::Zh, ZH.start_title, false, why);
        }));
        assert!(caught.is_err(), "{why} not found");
    }
}

/// Sends the answer to a request for information: `message` and `files`.
async fn answer(
    portal: &Portal,
    who: &Visitor,
    path: &str,
    message: &str,
    files: &[FilePart<'_>],
) -> Page {
    let texts = [("csrf", who.csrf.as_str()), ("message", message)];
    send(
        portal,
        multipart_post(path, &who.cookie, &texts, files, &SAME_ORIGIN),
    )
    .await
    .0
}

#[tokio::test]
async fn a_request_for_information_is_answered_on_the_application_page() {
    let portal = portal().await;
    let who = sign_in(&portal, "MO-answer").await;
    let id = identified(&portal, &who, &HOLDER_A).await;
    let payment = open_payment(&portal, &who, &id).await;
    press_pay(&portal, &who, &payment).await;
    // The bureau asks for more (as the clerk's review leaves it).
    let request = "Envie os recibos da DSAL dos últimos 12 meses.";
    sqlx::query("UPDATE applications SET state = 'INFORMATION_REQUESTED', note = $1 WHERE id = $2")
        .bind(request)
        .bind(&id)
        .execute(&portal.registry().await)
        .await
        .expect("request information");
    let path = format!("/applications/{id}");
    let title = |l: Lang| ccr_issuer::http::web::i18n::fill(l.steps().application_title, &[&id]);
    assert_every_language(&portal, &who, &path, StatusCode::OK, title).await;
    let page = open(&portal, &who, &path, Lang::En).await;
    assert!(select_text(&page.html, ".inset").contains(request));
    assert!(
        page.html
            .select(&Selector::parse("form textarea#message").expect("s"))
            .next()
            .is_some()
    );
    let information = format!("/applications/{id}/information");
    for lang in Lang::ALL {
        let empty = answer(&portal, &who, &with_lang(&information, lang), " ", &[]).await;
        assert_form_error(&empty, lang, &title(lang), &["message"], "empty answer");
        let heic = answer(
            &portal,
            &who,
            &with_lang(&information, lang),
            "Segue em anexo.",
            &[("attachment", "IMG_0002.HEIC", "image/heic", b"....ftypheic")],
        )
        .await;
        assert_form_error(&heic, lang, &title(lang), &["attachment"], "HEIC answer");
        assert_eq!(select_text(&heic.html, "#message"), "Segue em anexo.");
    }
    assert_eq!(portal.application(&id).await.state, "INFORMATION_REQUESTED");
    let receipts = jpeg();
    let sent = answer(
        &portal,
        &who,
        &with_lang(&information, Lang::Pt),
        "Segue em anexo.",
        &[("attachment", "recibos.jpg", "image/jpeg", &receipts)],
    )
    .await;
    assert_redirect(&sent, &format!("/applications/{id}?lang=pt"));
    assert_eq!(portal.application(&id).await.state, "SUBMITTED");
    assert_eq!(portal.count("supporting_documents").await, 1);
    // Answered: no form any more; sending again changes nothing.
    let page = open(&portal, &who, &path, Lang::Pt).await;
    assert!(
        page.html
            .select(&Selector::parse("textarea#message").expect("s"))
            .next()
            .is_none()
    );
    let before = portal.snapshot().await;
    let again = answer(&portal, &who, &information, "Outra vez.", &[]).await;
    assert_redirect(&again, &path);
    assert_eq!(portal.snapshot().await, before);
}
