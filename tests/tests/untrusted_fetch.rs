//! Issue 9: the verifier never fetches a URL named by an unauthenticated token, and instants
//! outside 1970..9000 are refused (HTTP 422, CLI exit 2), never a panic; unknown query
//! parameters are refused. Real processes over loopback.

use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use ccr_tests::api::Api;
use ccr_tests::{
    Report, Workspace, bin_command, fixture, free_port, spawn_until_healthy, start_issuer_serve,
    verifier,
};
use serde_json::json;

/// A listener that counts the connections it accepts (and closes them at once).
struct Canary {
    url: String,
    accepted: Arc<AtomicUsize>,
}

impl Canary {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the canary");
        let port = listener.local_addr().expect("canary address").port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&accepted);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stream.is_ok() {
                    counter.fetch_add(1, Ordering::SeqCst);
                }
            }
        });
        Self {
            url: format!("http://127.0.0.1:{port}"),
            accepted,
        }
    }

    fn connections(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

/// The token embedded in an issued PDF.
fn embedded_token(pdf: &Path) -> Vec<u8> {
    let bytes = std::fs::read(pdf).expect("read pdf");
    ccr_pki::pades::inspect(&bytes, &ccr_pki::pdf::Limits::default())
        .expect("inspect")
        .token
}

/// The genuine token's claims naming the canary's status list, signed by a fresh key that
/// chains to nothing.
fn forged_token(genuine: &[u8], canary: &Canary) -> String {
    let mut claims = ccr_pki::token::parse(genuine)
        .expect("parse the genuine token")
        .claims_unverified()
        .clone();
    claims.status.uri = format!("{}/status/1", canary.url);
    let (key, _) = ccr_pki::signer::FileKey::generate().expect("key");
    let token = ccr_pki::token::sign(&claims, &key, [7; ccr_pki::token::KID_LEN]).expect("sign");
    ccr_pki::token::to_url(&format!("{}/verify", canary.url), &token)
}

fn token_cli(url: &str, root: &Path, cache: &Path, issuer: Option<&str>) -> ccr_tests::Out {
    let mut args: Vec<std::ffi::OsString> = vec![
        "token".into(),
        url.into(),
        "--trust".into(),
        root.into(),
        "--bundle".into(),
        "online".into(),
        "--status".into(),
        "online".into(),
        "--cache-dir".into(),
        cache.into(),
        "--json".into(),
    ];
    if let Some(issuer) = issuer {
        args.extend(["--issuer".into(), issuer.into()]);
    }
    verifier(args)
}

fn start_verifier(root: &Path, issuer: Option<&str>) -> (ccr_tests::Server, Api) {
    let port = free_port();
    let mut cmd = bin_command("verifier");
    cmd.arg("serve")
        .arg("--trust")
        .arg(root)
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"));
    if let Some(issuer) = issuer {
        cmd.arg("--issuer").arg(issuer);
    }
    (
        spawn_until_healthy(cmd, port, "verifier serve"),
        Api::new(port),
    )
}

#[test]
fn a_forged_token_makes_no_request_and_a_genuine_one_still_verifies() {
    let issuer_port = free_port();
    let issuer_url = format!("http://127.0.0.1:{issuer_port}");
    let ws = Workspace::with_init_args(&["--public-url", &issuer_url]);
    let genuine = ws.issue(&fixture("chan-tai-man.json"));
    let trust = ws.export_trust();
    let _issuer = start_issuer_serve(&ws, issuer_port);
    let canary = Canary::start();
    let genuine_token = embedded_token(&genuine.pdf);
    let forged = forged_token(&genuine_token, &canary);
    let genuine_url = ccr_pki::token::to_url("http://127.0.0.1:8081/verify", &genuine_token);

    // The command line: without --issuer, `--bundle online` is refused before any request.
    let out = token_cli(&forged, &trust.root, &ws.file("cache-a"), None);
    assert_eq!(out.code, Some(2), "{out}");
    assert!(out.stderr.contains("--issuer"), "{out}");
    // With --issuer, the forged token does not authenticate, so its list is not fetched.
    let out = token_cli(&forged, &trust.root, &ws.file("cache-b"), Some(&issuer_url));
    Report::parse(out).assert_verdict("UNTRUSTED");
    // A genuine token still verifies, list fetched.
    let out = token_cli(
        &genuine_url,
        &trust.root,
        &ws.file("cache-c"),
        Some(&issuer_url),
    );
    Report::parse(out).assert_verdict("VALID");
    // A genuine PDF without --issuer: authenticated first, then its list is fetched.
    Report::parse(ccr_tests::check_online_out(
        &genuine.pdf,
        &trust.root,
        &ws.file("cache-d"),
        None,
    ))
    .assert_verdict("VALID");

    // The service without --issuer: a token cannot be authenticated, so it is refused
    // without a request; a genuine PDF still verifies.
    let (_service, api) = start_verifier(&trust.root, None);
    let reply = api.call(
        "POST",
        "/api/v1/verify-token",
        None,
        Some(&json!({ "token": forged })),
    );
    assert_eq!(reply.status, 503, "{}", reply.message());
    assert!(reply.message().contains("--issuer"), "{}", reply.message());
    let pdf = std::fs::read(&genuine.pdf).expect("read pdf");
    let reply = api.raw(
        "POST",
        "/api/v1/verify",
        None,
        &[("content-type", "application/pdf")],
        Some(pdf),
    );
    assert_eq!(reply.json()["verdict"], "VALID", "{}", reply.message());

    // The service with --issuer: the forged token is UNTRUSTED, the genuine one VALID.
    let (_service, api) = start_verifier(&trust.root, Some(&issuer_url));
    let reply = api.call(
        "POST",
        "/api/v1/verify-token",
        None,
        Some(&json!({ "token": forged })),
    );
    assert_eq!(reply.json()["verdict"], "UNTRUSTED", "{}", reply.message());
    let reply = api.call(
        "POST",
        "/api/v1/verify-token",
        None,
        Some(&json!({ "token": genuine_url })),
    );
    assert_eq!(reply.json()["verdict"], "VALID", "{}", reply.message());

    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(canary.connections(), 0, "the canary was contacted");
}

#[test]
fn instants_outside_the_range_are_refused_and_unknown_parameters_named() {
    let ws = Workspace::new();
    let genuine = ws.issue(&fixture("chan-tai-man.json"));
    let trust = ws.export_trust();
    let token_url = ccr_pki::token::to_url(
        "http://127.0.0.1:8081/verify",
        &embedded_token(&genuine.pdf),
    );
    let pdf = std::fs::read(&genuine.pdf).expect("read pdf");
    let (_service, api) = start_verifier(&trust.root, None);
    let status = trust.status_list().to_str().expect("utf-8").to_owned();
    let root = trust.root.to_str().expect("utf-8").to_owned();
    let pdf_path = genuine.pdf.to_str().expect("utf-8").to_owned();

    for at in [
        "9999-12-31T23:59:59Z",
        "9000-01-01T00:00:01Z",
        "0001-01-01T00:00:00Z",
        "1969-12-31T23:59:59Z",
    ] {
        let out = verifier([
            "check", &pdf_path, "--trust", &root, "--status", &status, "--at", at,
        ]);
        assert_eq!(out.code, Some(2), "check --at {at}: {out}");
        assert!(out.stderr.contains("--at must lie between"), "{out}");
        let out = verifier(["token", &token_url, "--trust", &root, "--at", at]);
        assert_eq!(out.code, Some(2), "token --at {at}: {out}");

        let reply = api.raw(
            "POST",
            &format!("/api/v1/verify?at={at}"),
            None,
            &[("content-type", "application/pdf")],
            Some(pdf.clone()),
        );
        assert_eq!(reply.status, 422, "?at={at}: {}", reply.message());
        assert!(
            reply.message().contains("must lie between"),
            "{}",
            reply.message()
        );
        let reply = api.call(
            "POST",
            "/api/v1/verify-token",
            None,
            Some(&json!({ "token": token_url, "at": at })),
        );
        assert_eq!(reply.status, 422, "body at {at}: {}", reply.message());

        let far = ws.file("far.pdf");
        let out = ws.try_issue(&fixture("chan-tai-man.json"), &far, &["--issued-at", at]);
        // The issuer's command line exits 1 on any refusal (its contract), never 101.
        assert_eq!(out.code, Some(1), "issue --issued-at {at}: {out}");
        assert!(out.stderr.contains("--issued-at must lie between"), "{out}");
        assert!(!far.exists(), "nothing is written for --issued-at {at}");
    }
    // The bounds themselves are accepted.
    let out = verifier([
        "check",
        &pdf_path,
        "--trust",
        &root,
        "--status",
        &status,
        "--at",
        "9000-01-01T00:00:00Z",
        "--json",
    ]);
    Report::parse(out).assert_verdict("EXPIRED");

    // An unknown query parameter is named, not ignored.
    let reply = api.raw(
        "POST",
        "/api/v1/verify?verbose=1",
        None,
        &[("content-type", "application/pdf")],
        Some(pdf),
    );
    assert_eq!(reply.status, 422);
    assert!(reply.message().contains("verbose"), "{}", reply.message());
    let reply = api.call(
        "POST",
        "/api/v1/verify-token?verbose=1",
        None,
        Some(&json!({ "token": token_url })),
    );
    assert_eq!(reply.status, 400);
    assert!(reply.message().contains("verbose"), "{}", reply.message());
}

/// `X-Content-Type-Options: nosniff` (and no referrer, no framing) on a JSON answer, an
/// error and a public document, on both services.
#[test]
fn every_answer_forbids_sniffing() {
    let issuer_port = free_port();
    let issuer_url = format!("http://127.0.0.1:{issuer_port}");
    let ws = Workspace::with_init_args(&["--public-url", &issuer_url]);
    let trust = ws.export_trust();
    let _issuer = start_issuer_serve(&ws, issuer_port);
    let (_service, verifier_api) = start_verifier(&trust.root, Some(&issuer_url));
    let issuer_api = Api::new(issuer_port);
    for (api, path, status) in [
        (&issuer_api, "/api/openapi.json", 200),
        (&issuer_api, "/api/v1/no-such-thing", 404),
        (&issuer_api, "/trust.pem", 200),
        (&issuer_api, "/trust", 200),
        (&verifier_api, "/api/openapi.json", 200),
        (&verifier_api, "/no-such-thing", 404),
        (&verifier_api, "/api/v1/trust", 200),
    ] {
        let url = format!("{}{path}", api.base);
        let response = ureq::get(&url)
            .config()
            .http_status_as_error(false)
            .build()
            .call()
            .unwrap_or_else(|e| panic!("GET {url}: {e}"));
        assert_eq!(response.status().as_u16(), status, "GET {url}");
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        assert_eq!(header("x-content-type-options"), "nosniff", "GET {url}");
        assert_eq!(header("referrer-policy"), "no-referrer", "GET {url}");
        assert!(
            header("content-security-policy").contains("frame-ancestors 'none'"),
            "GET {url}"
        );
    }
}
