//! Applicant sign-in through OpenID Connect, end to end: a real `issuer serve` configured with
//! `[providers] identity = "oidc"` against an independent fake OpenID provider written in
//! Python (`tests/oracles/fake_oidc.py`: ES256 ID tokens, client_secret_basic, PKCE S256).
//! Skipped (with a printed reason) without Python and `cryptography`, unless
//! `CCR_REQUIRE_ORACLES=1`.
#![cfg(unix)]

use std::fs::OpenOptions;
use std::io::{BufRead as _, BufReader, Write as _};
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ccr_tests::api::{IssuerService, holder_with_bir};
use ccr_tests::{Server, http_get, workspace_root};
use serde_json::json;

const CLIENT_ID: &str = "ccr-issuer-e2e";
/// Has characters that client_secret_basic must form-encode before base64 (RFC 6749 §2.3.1).
const CLIENT_SECRET: &str = "e2e-S3cr3t+/=%:~ never-logged";
const CALLBACK: &str = "/api/v1/auth/oidc/callback";

/// The fake IdP, killed when dropped; shows its log if the test fails.
struct FakeIdp {
    _server: Server,
    /// Held open: the IdP exits when it closes, even if this process dies without unwinding.
    _stdin: std::process::ChildStdin,
    port: u16,
    /// `http://127.0.0.1:<port>`, also its issuer identifier.
    base: String,
    log: PathBuf,
}

impl FakeIdp {
    /// Starts `fake_oidc.py` on a free port and reads the issuer URL it prints.
    fn start(python: &Path, secret_file: &Path, log: PathBuf) -> Self {
        let stderr = std::fs::File::create(&log).expect("fake IdP log");
        let mut child = Command::new(python)
            .arg(workspace_root().join("tests/oracles/fake_oidc.py"))
            .args([
                "--port",
                "0",
                "--exit-on-stdin-eof",
                "--client-id",
                CLIENT_ID,
            ])
            .arg("--client-secret-file")
            .arg(secret_file)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("spawn fake_oidc.py");
        let stdout = child.stdout.take().expect("stdout");
        let stdin = child.stdin.take().expect("stdin");
        let server = Server(child);
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read fake IdP address");
        let base = line.trim().to_owned();
        let port = base
            .strip_prefix("http://127.0.0.1:")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| {
                panic!(
                    "fake_oidc.py printed {line:?}; its log:\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                )
            });
        Self {
            _server: server,
            _stdin: stdin,
            port,
            base,
            log,
        }
    }
}

impl Drop for FakeIdp {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "--- fake_oidc.py log ---\n{}",
                std::fs::read_to_string(&self.log).unwrap_or_default()
            );
        }
    }
}

/// A header of a response head (name compared case-insensitively).
fn header(head: &str, wanted: &str) -> Option<String> {
    head.lines().skip(1).find_map(|l| {
        let (name, value) = l.split_once(':')?;
        name.eq_ignore_ascii_case(wanted)
            .then(|| value.trim().to_owned())
    })
}

/// The response statuses `issuer/openapi.json` documents for an operation.
fn documented_statuses(path: &str, method: &str) -> Vec<String> {
    let text = std::fs::read_to_string(workspace_root().join("issuer/openapi.json"))
        .expect("issuer/openapi.json");
    let doc: serde_json::Value = serde_json::from_str(&text).expect("OpenAPI JSON");
    doc["paths"][path][method]["responses"]
        .as_object()
        .map(|r| r.keys().cloned().collect())
        .unwrap_or_default()
}

/// One query parameter (raw, not percent-decoded) of a URL.
fn query_param<'a>(url: &'a str, name: &str) -> Option<&'a str> {
    let (_, query) = url.split_once('?')?;
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == name).then_some(v)
    })
}

/// What `client_secret_basic` form-encoding makes of a value (all but unreserved escaped).
fn form_encoded(value: &str) -> String {
    value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Starts a sign-in at the issuer and lets the IdP answer it (with `idp_params` appended to
/// its authorization URL, e.g. `login_hint` or `fake_tamper`); returns the callback path and
/// query the browser would be sent to.
#[track_caller]
fn authorize(svc: &IssuerService, idp: &FakeIdp, idp_params: &str) -> String {
    let (status, head) = http_get(svc.port, "/api/v1/auth/oidc/start", "").expect("oidc/start");
    // The status must be a redirect the OpenAPI document lists for this operation.
    let documented = documented_statuses("/api/v1/auth/oidc/start", "get");
    assert!(
        matches!(status, 302 | 303) && documented.contains(&status.to_string()),
        "GET /api/v1/auth/oidc/start answered {status}; issuer/openapi.json documents {documented:?}:\n{head}"
    );
    assert_eq!(header(&head, "cache-control").as_deref(), Some("no-store"));
    let to_idp = header(&head, "location").unwrap_or_else(|| panic!("no Location in:\n{head}"));
    let authorize_path = to_idp
        .strip_prefix(&idp.base)
        .filter(|p| p.starts_with("/authorize?"))
        .unwrap_or_else(|| panic!("start redirected to {to_idp}, not {}/authorize", idp.base));
    assert_eq!(query_param(&to_idp, "client_id"), Some(CLIENT_ID));
    assert_eq!(query_param(&to_idp, "response_type"), Some("code"));
    assert_eq!(query_param(&to_idp, "code_challenge_method"), Some("S256"));
    for name in ["state", "nonce", "code_challenge"] {
        let value = query_param(&to_idp, name).unwrap_or_default();
        assert!(value.len() >= 43, "{name} too short or missing: {to_idp}");
    }
    assert!(!to_idp.contains(&form_encoded(CLIENT_SECRET)));

    let (status, head) = http_get(idp.port, &format!("{authorize_path}{idp_params}"), "")
        .expect("fake IdP /authorize");
    assert_eq!(status, 302, "fake IdP /authorize:\n{head}");
    let back = header(&head, "location").unwrap_or_else(|| panic!("no Location in:\n{head}"));
    let callback = back
        .strip_prefix(&svc.api.base)
        .filter(|p| p.starts_with(&format!("{CALLBACK}?")))
        .unwrap_or_else(|| panic!("the IdP redirected to {back}, not our callback"));
    assert_eq!(
        query_param(callback, "state"),
        query_param(&to_idp, "state"),
        "the IdP must return our state"
    );
    callback.to_owned()
}

/// A fake IdP and `issuer serve` signing applicants in through it, for the API
/// (`redirect_uri`) and for the portal (`portal_redirect_uri`). The temporary folder holds
/// the client secret; keep it alive as long as the service.
fn service_with_idp(python: &Path) -> (tempfile::TempDir, FakeIdp, IssuerService) {
    let dir = tempfile::Builder::new()
        .prefix("ccr-oidc-")
        .tempdir()
        .expect("temp dir");
    let secret_file = dir.path().join("oidc-client-secret");
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&secret_file)
        .and_then(|mut f| writeln!(f, "{CLIENT_SECRET}"))
        .expect("write client secret");

    let idp = FakeIdp::start(python, &secret_file, dir.path().join("fake-oidc.log"));
    let secret_path =
        serde_json::to_string(secret_file.to_str().expect("UTF-8 path")).expect("TOML string");
    let svc = IssuerService::start_with(
        None,
        |port| {
            format!(
                "[providers]\nidentity = \"oidc\"\n\
                 [oidc]\nissuer = \"{}\"\nclient_id = \"{CLIENT_ID}\"\n\
                 client_secret_file = {secret_path}\n\
                 redirect_uri = \"http://127.0.0.1:{port}{CALLBACK}\"\n\
                 portal_redirect_uri = \"http://127.0.0.1:{port}/sign-in/callback\"\n\
                 allow_insecure_http = true\n\
                 document_claim = \"identity_document\"\n",
                idp.base
            )
        },
        &[],
    );
    (dir, idp, svc)
}

#[test]
fn oidc_sign_in_through_issuer_serve() {
    let Some(python) = ccr_tests::python_with(&["cryptography"]) else {
        return;
    };
    let (_dir, idp, svc) = service_with_idp(&python);
    let api = &svc.api;

    // The development sign-in is gone once OIDC is the identity provider.
    api.post(
        "/api/v1/auth/dev/sign-in",
        None,
        &json!({ "subject": "MO-1234567" }),
    )
    .expect(404);

    // Start → IdP → callback: an applicant session.
    let callback = authorize(&svc, &idp, "&login_hint=MO-1234567");
    let session = api.get(&callback, None);
    session.expect(200);
    let session = session.json();
    assert_eq!(session["role"], "applicant", "{session}");
    let token = session["token"].as_str().expect("token");
    let principal = session["principal"].as_str().expect("principal");
    assert!(!token.is_empty() && !principal.is_empty(), "{session}");
    assert!(session["expires_at"].is_string(), "{session}");
    let me = api.get("/api/v1/me", Some(token));
    me.expect(200);
    assert_eq!(
        me.json(),
        json!({ "role": "applicant", "principal": principal })
    );

    // Each state is good once: the same callback again is refused.
    let replay = api.get(&callback, None);
    replay.expect(401);
    assert!(replay.message().contains("state"), "{}", replay.message());
    // A state the issuer never issued.
    api.get(
        &format!("{CALLBACK}?code=whatever&state=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
        None,
    )
    .expect(401);

    // The same person again maps to the same applicant; another person to another one.
    let again = api.get(&authorize(&svc, &idp, "&login_hint=MO-1234567"), None);
    again.expect(200);
    assert_eq!(again.json()["principal"], principal);
    let other = api.get(&authorize(&svc, &idp, "&login_hint=MO-7654321"), None);
    other.expect(200);
    assert_ne!(other.json()["principal"], principal);

    // A code issued for one login, brought back with another login's state: the IdP's PKCE
    // check refuses the exchange (the verifier is the other login's).
    let first = authorize(&svc, &idp, "");
    let second = authorize(&svc, &idp, "");
    let injected = format!(
        "{CALLBACK}?code={}&state={}",
        query_param(&first, "code").expect("code"),
        query_param(&second, "state").expect("state")
    );
    let refused = api.get(&injected, None);
    refused.expect(401);
    assert!(
        refused.message().contains("token endpoint"),
        "{}",
        refused.message()
    );

    // ID tokens the relying party must refuse, each for its own reason.
    for (mode, reason) in [
        ("wrong_nonce", "nonce"),
        ("wrong_aud", "audience"),
        ("wrong_iss", "issuer"),
        ("expired", "expired"),
        ("wrong_key", "signature"),
    ] {
        let callback = authorize(&svc, &idp, &format!("&fake_tamper={mode}"));
        let reply = api.get(&callback, None);
        assert_eq!(reply.status, 401, "{mode}: {}", reply.message());
        assert!(
            reply.message().contains(reason),
            "{mode}: {}",
            reply.message()
        );
        // The failed login's state is spent too.
        api.get(&callback, None).expect(401);
    }

    // The IdP's own refusal, and a callback without a code.
    let state = query_param(&authorize(&svc, &idp, ""), "state")
        .expect("state")
        .to_owned();
    api.get(
        &format!("{CALLBACK}?error=access_denied&state={state}"),
        None,
    )
    .expect(401);
    api.get(&format!("{CALLBACK}?state={state}"), None)
        .expect(400);

    // A document the IdP verified: a holder with another document is flagged, and only an
    // officer's audited reason approves the application (issue 9).
    let session = api.get(
        &authorize(
            &svc,
            &idp,
            "&login_hint=MO-5550001&fake_document=BIR:5550001(8)",
        ),
        None,
    );
    session.expect(200);
    let token = session.json()["token"].as_str().expect("token").to_owned();
    let security = svc.staff_token(ccr_tests::api::SECURITY);
    let id = svc.select(&token);
    let matching = svc.confirm(
        &token,
        &id,
        &holder_with_bir("CHAN TAI MAN", "5550001 (8)"),
        "6123 4567",
    );
    matching.expect(200);
    assert!(
        matching.json()["identity_mismatch"].is_null(),
        "{}",
        matching.json()
    );
    let other = svc.confirm(
        &token,
        &id,
        &holder_with_bir("CHAN TAI MAN", "1357913(5)"),
        "6123 4567",
    );
    other.expect(200);
    assert!(
        other.json()["identity_mismatch"]
            .as_str()
            .is_some_and(|m| m.contains("BIR:55500018")),
        "{}",
        other.json()
    );
    svc.pass_otp(&security, &token, &id, "+85361234567")
        .expect(200);
    svc.pass_face(&token, &id).expect(200);
    svc.pay_in_sandbox(&token, &id);
    svc.forward(&id);
    svc.decide(&id, &json!({ "approve": true })).expect(422);
    svc.decide(&id, &json!({ "approve": true, "identity_override": "power of attorney 7/2026 checked at the counter" }))
        .expect(200);
    let audit = api.get("/api/v1/audit?limit=500", Some(&security));
    audit.expect(200);
    assert!(
        audit
            .json()
            .to_string()
            .contains("power of attorney 7/2026"),
        "the override is audited"
    );
    // A document claim the bureau cannot read refuses the sign-in rather than skipping the check.
    let unreadable = api.get(
        &authorize(
            &svc,
            &idp,
            "&login_hint=MO-5550002&fake_document=BIR:555000%EF%BC%92(8)",
        ),
        None,
    );
    unreadable.expect(401);
    assert!(
        unreadable.message().contains("document claim"),
        "{}",
        unreadable.message()
    );

    // Neither the client secret nor its encodings on the wire ever reach the log.
    let log = svc.log();
    let basic = STANDARD.encode(format!(
        "{}:{}",
        form_encoded(CLIENT_ID),
        form_encoded(CLIENT_SECRET)
    ));
    for secret in [CLIENT_SECRET, &form_encoded(CLIENT_SECRET), &basic] {
        assert!(!log.contains(secret), "the issuer logged the client secret");
    }
}

/// The portal signs applicants in through the identity provider (issue 10): the sign-in page
/// leads to the provider, the provider back to the portal's callback, which opens a portal
/// session. A callback this browser did not begin (no or another sign-in cookie) is refused
/// without using up the sign-in, and each sign-in finishes once.
#[test]
fn the_portal_signs_in_through_the_identity_provider() {
    let Some(python) = ccr_tests::python_with(&["cryptography"]) else {
        return;
    };
    let (_dir, idp, svc) = service_with_idp(&python);
    let page = svc.api.raw("GET", "/sign-in?lang=en", None, &[], None);
    page.expect(200);
    let html = String::from_utf8_lossy(&page.body);
    assert!(
        html.contains("href=\"/sign-in/oidc?next=%2Fapplications\""),
        "{html}"
    );
    assert!(
        !html.contains("id=\"subject\""),
        "no development form: {html}"
    );

    let (status, head) =
        http_get(svc.port, "/sign-in/oidc?next=/applications", "").expect("sign-in/oidc");
    assert_eq!(status, 302, "{head}");
    let to_idp = header(&head, "location").expect("location");
    let callback_uri = format!("{}/sign-in/callback", svc.api.base);
    assert_eq!(
        query_param(&to_idp, "redirect_uri"),
        Some(form_encoded(&callback_uri).as_str()),
        "{to_idp}"
    );
    let set_cookie = header(&head, "set-cookie").expect("the sign-in cookie");
    assert!(
        set_cookie.starts_with("ccr_oidc=")
            && set_cookie.contains("HttpOnly")
            && set_cookie.contains("SameSite=Lax"),
        "{set_cookie}"
    );
    let cookie = set_cookie.split(';').next().expect("cookie").to_owned();
    let authorize_path = to_idp.strip_prefix(&idp.base).expect("IdP path");
    let (status, head) = http_get(
        idp.port,
        &format!("{authorize_path}&login_hint=MO-portal-1"),
        "",
    )
    .expect("fake IdP /authorize");
    assert_eq!(status, 302, "{head}");
    let back = header(&head, "location").expect("location");
    let callback = back
        .strip_prefix(&svc.api.base)
        .filter(|p| p.starts_with("/sign-in/callback?"))
        .unwrap_or_else(|| panic!("the IdP sent the browser to {back}"))
        .to_owned();

    // Login CSRF: the same callback in a browser that did not begin it, or with another
    // sign-in's cookie, opens nothing.
    for foreign in ["", "Cookie: ccr_oidc=forged.L2FwcGxpY2F0aW9ucw\r\n"] {
        let (status, head) = http_get(svc.port, &callback, foreign).expect("callback");
        assert_eq!(status, 403, "{head}");
        assert!(header(&head, "set-cookie").is_none(), "{head}");
    }

    let (status, head) =
        http_get(svc.port, &callback, &format!("Cookie: {cookie}\r\n")).expect("callback");
    assert_eq!(status, 303, "{head}");
    assert_eq!(header(&head, "location").as_deref(), Some("/applications"));
    let session = head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .filter(|(n, _)| n.eq_ignore_ascii_case("set-cookie"))
        .map(|(_, v)| v.trim())
        .find(|v| v.starts_with("ccr_session="))
        .unwrap_or_else(|| panic!("no portal session in:\n{head}"))
        .split(';')
        .next()
        .expect("session cookie")
        .to_owned();
    let mine = svc.api.raw(
        "GET",
        "/applications?lang=en",
        None,
        &[("cookie", session.as_str())],
        None,
    );
    mine.expect(200);
    assert!(
        String::from_utf8_lossy(&mine.body).contains("Your applications"),
        "{}",
        String::from_utf8_lossy(&mine.body)
    );

    // Each sign-in finishes once.
    let (status, head) =
        http_get(svc.port, &callback, &format!("Cookie: {cookie}\r\n")).expect("replay");
    assert_eq!(status, 403, "{head}");
    assert!(
        !head
            .to_ascii_lowercase()
            .contains("set-cookie: ccr_session="),
        "{head}"
    );
}
