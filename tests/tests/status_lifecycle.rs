//! Issue 3 must-show 1: issue → `issuer serve` → `verifier check --status online` says VALID →
//! revoke → REVOKED once the cached copy is older than its ttl; suspend → SUSPENDED →
//! reinstate → VALID; re-issue → old SUPERSEDED, new VALID; a list past `exp` →
//! STATUS_UNKNOWN; a clock set back before a seen `iat` → refused. The verifier's clock is
//! injected with `--at`, so the test takes seconds, not minutes.

use std::path::Path;

use ccr_tests::{
    Report, Workspace, etag_of, fixture, free_port, http_get, start_issuer_serve,
    wait_for_republish,
};
use time::OffsetDateTime;

fn check_online(pdf: &Path, root: &Path, cache: &Path, at: OffsetDateTime) -> Report {
    Report::parse(ccr_tests::check_online_out(pdf, root, cache, Some(at)))
}

#[test]
fn status_changes_reach_the_verifier_once_its_copy_is_older_than_ttl() {
    let port = free_port();
    let ws = Workspace::with_init_args(&["--public-url", &format!("http://127.0.0.1:{port}")]);
    // Republish within a second of a change, for a quick test (default 20 s, SPEC max 60 s).
    let config = ws.home.join("issuer.toml");
    let text = std::fs::read_to_string(&config)
        .expect("config")
        .replace("status_poll_seconds = 20", "status_poll_seconds = 1");
    std::fs::write(&config, text).expect("config");

    let a = ws.issue(&fixture("chan-tai-man.json"));
    let b = ws.issue(&fixture("portuguese-name.json"));
    let trust = ws.export_trust();
    let _server = start_issuer_serve(&ws, port);
    let cache = ws.file("verifier-cache");
    let t0 = OffsetDateTime::now_utc();
    // Each step judges five minutes and a bit later than the last, so the cached list is
    // always older than its 300 s ttl and is fetched again.
    let step = |n: i64| t0 + time::Duration::seconds(310 * n);

    let (code, head) = http_get(port, "/status/1", "").expect("status list");
    assert_eq!(code, 200, "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("cache-control: public, max-age=300"),
        "{head}"
    );
    let etag = etag_of(&head);
    assert!(!etag.is_empty(), "an ETag is sent: {head}");
    let (code, _) =
        http_get(port, "/status/1", &format!("If-None-Match: {etag}\r\n")).expect("conditional");
    assert_eq!(code, 304, "an unchanged list answers 304");

    check_online(&a.pdf, &trust.root, &cache, t0).assert_verdict("VALID");

    ws.revoke(&a.number, "test revocation").assert_success();
    let etag = wait_for_republish(port, &etag);
    // Within the ttl the cached copy is authoritative: no request, still VALID.
    check_online(&a.pdf, &trust.root, &cache, t0 + time::Duration::seconds(5))
        .assert_verdict("VALID");
    let revoked = check_online(&a.pdf, &trust.root, &cache, step(1));
    revoked.assert_verdict("REVOKED");
    assert!(
        revoked.json["status"]["age_seconds"].as_i64().is_some(),
        "the report shows the list's age"
    );

    ws.issuer("suspend", [b.number.as_str(), "--reason", "enquiry"])
        .assert_success();
    let etag = wait_for_republish(port, &etag);
    check_online(&b.pdf, &trust.root, &cache, step(2)).assert_verdict("SUSPENDED");

    ws.issuer("reinstate", [b.number.as_str(), "--reason", "cleared"])
        .assert_success();
    let etag = wait_for_republish(port, &etag);
    check_online(&b.pdf, &trust.root, &cache, step(3)).assert_verdict("VALID");

    let b2_pdf = ws.file("b2.pdf");
    let out = ws.issuer(
        "reissue",
        [
            b.number.as_str(),
            "--reason",
            "name corrected",
            "--out",
            b2_pdf.to_str().expect("utf-8"),
        ],
    );
    out.assert_success();
    wait_for_republish(port, &etag);
    check_online(&b.pdf, &trust.root, &cache, step(4)).assert_verdict("SUPERSEDED");
    check_online(&b2_pdf, &trust.root, &cache, step(4)).assert_verdict("VALID");

    // Two hours on, every list the issuer can serve was signed now and is past its exp.
    check_online(&b2_pdf, &trust.root, &cache, t0 + time::Duration::hours(2))
        .assert_verdict("STATUS_UNKNOWN");

    // A clock set back before a signed iat already seen is refused, with a clear message.
    let back = ccr_tests::check_online_out(
        &b2_pdf,
        &trust.root,
        &cache,
        Some(t0 - time::Duration::hours(1)),
    );
    assert_eq!(back.code, Some(2), "{back}");
    assert!(
        back.stderr
            .contains("earlier than a status list already seen"),
        "{back}"
    );
}
