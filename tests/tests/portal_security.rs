//! The portal over a real `issuer serve` once a certificate is issued (issue 10, must-show
//! 4): applicant B asking for applicant A's pages or A's PDF (`/download/{number}`) gets
//! "not found" with nothing of A in it; A gets the PDF, with the portal's strict headers and
//! uncached. Cookies are handled by hand over raw HTTP, as a browser would.

use ccr_tests::api::{Api, IssuerService, Reply, SECURITY, holder_with_bir};
use serde_json::json;

/// A portal session: its cookie (`name=value`) and form token.
struct Session {
    cookie: String,
    csrf: String,
}

/// `name=value` of the session cookie a reply sets.
fn session_cookie(reply: &Reply) -> String {
    reply
        .header_values("set-cookie")
        .into_iter()
        .find(|c| c.starts_with("ccr_session="))
        .and_then(|c| c.split(';').next())
        .unwrap_or_else(|| panic!("no session cookie in {:?}", reply.headers))
        .to_owned()
}

/// The value of the first `name="csrf"` input (or the `ccr-csrf` meta tag) of a page.
fn form_token(reply: &Reply) -> String {
    let page = String::from_utf8_lossy(&reply.body);
    for marker in ["name=\"csrf\" value=\"", "name=\"ccr-csrf\" content=\""] {
        if let Some(start) = page.find(marker) {
            let rest = &page[start + marker.len()..];
            return rest[..rest.find('"').expect("end of token")].to_owned();
        }
    }
    panic!("no form token in {page}");
}

/// `GET` with the session cookie (none if empty).
fn get(api: &Api, path: &str, cookie: &str) -> Reply {
    if cookie.is_empty() {
        return api.raw("GET", path, None, &[], None);
    }
    api.raw("GET", path, None, &[("cookie", cookie)], None)
}

/// Signs `subject` in on the portal with the development provider, through its form.
fn sign_in(api: &Api, subject: &str) -> Session {
    let form = api.raw("GET", "/sign-in", None, &[], None);
    form.expect(200);
    let anonymous = session_cookie(&form);
    let csrf = form_token(&form);
    let signed_in = api.raw(
        "POST",
        "/sign-in",
        None,
        &[
            ("cookie", &anonymous),
            ("content-type", "application/x-www-form-urlencoded"),
            ("origin", &api.base),
            ("sec-fetch-site", "same-origin"),
        ],
        Some(format!("subject={subject}&csrf={csrf}").into_bytes()),
    );
    signed_in.expect(303);
    let cookie = session_cookie(&signed_in);
    let list = get(api, "/applications", &cookie);
    list.expect(200);
    Session {
        csrf: form_token(&list),
        cookie,
    }
}

/// The portal's strict headers, and no caching.
#[track_caller]
fn assert_strict(reply: &Reply, what: &str) {
    let csp = reply.header("content-security-policy").unwrap_or_default();
    assert!(
        csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"),
        "{what}: {csp}"
    );
    assert_eq!(
        reply.header("x-content-type-options"),
        Some("nosniff"),
        "{what}"
    );
    assert_eq!(
        reply.header("referrer-policy"),
        Some("same-origin"),
        "{what}"
    );
    assert_eq!(reply.header("cache-control"), Some("no-store"), "{what}");
}

#[test]
fn another_applicants_certificate_and_pages_are_not_found_and_show_nothing_of_theirs() {
    let svc = IssuerService::start(None, "", &[]);
    let security = svc.staff_token(SECURITY);
    // Applicant A, through the API, to an issued electronic certificate.
    let (name, document, mobile) = ("CHAN TAI MAN", "1234567(8)", "+85368881234");
    let token = svc.applicant_token("MO-alice");
    let id = svc.select(&token);
    svc.confirm(&token, &id, &holder_with_bir(name, document), mobile)
        .expect(200);
    svc.pass_otp(&security, &token, &id, mobile).expect(200);
    svc.pass_face(&token, &id).expect(200);
    svc.pay_in_sandbox(&token, &id);
    svc.forward(&id);
    svc.decide(&id, &json!({ "approve": true })).expect(200);
    let pdf = svc.issued_pdf(&token, &id);
    let certificates = svc.api.get(
        &format!("/api/v1/applications/{id}/certificates"),
        Some(&token),
    );
    let number = certificates.json()[0]["number"]
        .as_str()
        .expect("number")
        .to_owned();
    let secrets = [
        id.as_str(),
        number.as_str(),
        name,
        "陳大文",
        document,
        mobile,
        "68881234",
    ];

    // A, on the portal: the application's page links the PDF, which downloads.
    let a = sign_in(&svc.api, "MO-alice");
    let page = get(&svc.api, &format!("/applications/{id}?lang=pt"), &a.cookie);
    page.expect(200);
    assert_strict(&page, "A's application page");
    let download = format!("/download/{number}");
    assert!(
        String::from_utf8_lossy(&page.body).contains(&format!("href=\"{download}\"")),
        "the page links the PDF"
    );
    let mine = get(&svc.api, &download, &a.cookie);
    mine.expect(200);
    assert_eq!(mine.content_type, "application/pdf");
    assert_eq!(mine.body, pdf, "the issued PDF");
    assert!(
        mine.header("content-disposition")
            .is_some_and(|d| d.starts_with("attachment")),
        "{:?}",
        mine.headers
    );
    assert_strict(&mine, "A's PDF");

    // B, signed in, asks for everything of A's.
    let b = sign_in(&svc.api, "MO-bob");
    let mut paths: Vec<String> = [
        "",
        "/confirm",
        "/code",
        "/code/help",
        "/face",
        "/check",
        "/exemption",
        "/exemption/POVERTY",
        "/submitted",
        "/receipt",
    ]
    .iter()
    .map(|end| format!("/applications/{id}{end}"))
    .collect();
    paths.push(download.clone());
    paths.push(format!("{download}?lang=zh"));
    paths.push("/download/CCR-NO-SUCH-NUMBER".to_owned());
    for path in &paths {
        let reply = get(&svc.api, path, &b.cookie);
        reply.expect(404);
        assert!(reply.content_type.starts_with("text/html"), "{path}");
        assert_strict(&reply, path);
        let text = String::from_utf8_lossy(&reply.body);
        for secret in secrets {
            assert!(!text.contains(secret), "{path} shows {secret:?} to B");
        }
        assert!(!reply.body.starts_with(b"%PDF"), "{path}");
    }
    // B's forms on A's application: not found either.
    for (path, body) in [
        (format!("/applications/{id}/pay"), String::new()),
        (
            format!("/applications/{id}/exemption"),
            "kind=POVERTY".to_owned(),
        ),
    ] {
        let reply = svc.api.raw(
            "POST",
            &path,
            None,
            &[
                ("cookie", &b.cookie),
                ("content-type", "application/x-www-form-urlencoded"),
                ("origin", &svc.api.base),
            ],
            Some(format!("{body}&csrf={}", b.csrf).into_bytes()),
        );
        reply.expect(404);
        let text = String::from_utf8_lossy(&reply.body);
        for secret in secrets {
            assert!(!text.contains(secret), "{path} shows {secret:?} to B");
        }
    }
    // Signed out: the download asks to sign in first, and is not cached.
    let anonymous = get(&svc.api, &download, "");
    anonymous.expect(303);
    assert!(
        anonymous
            .header("location")
            .is_some_and(|l| l.starts_with("/sign-in")),
        "{:?}",
        anonymous.headers
    );
    assert_strict(&anonymous, "signed-out download");
    // The application is as it was.
    let after = svc
        .api
        .get(&format!("/api/v1/applications/{id}"), Some(&token))
        .json();
    assert_eq!(after["state"], "ISSUED");
}
