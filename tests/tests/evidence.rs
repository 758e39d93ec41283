//! Issue 15 must-show 2: evidence bundles (SPEC §11). Replay gives the original verdict for
//! VALID, REVOKED and EXPIRED (the clock far in the future), with or without the PDF beside
//! it; one flipped byte, or a status list from another issuer (digest recomputed, as a forger
//! would), makes the bundle refused.

use std::path::{Path, PathBuf};

use ccr_tests::{Report, Trust, Workspace, check_with, fixture, unique, verifier};
use ccr_verifier::evidence::{self, Bundle};

/// `verifier check --evidence`: the report, and the bundle written.
fn check_with_evidence(
    ws: &Workspace,
    pdf: &Path,
    trust: &Trust,
    status: &Path,
    at: Option<&str>,
) -> (Report, PathBuf) {
    let bundle = ws.file(format!("evidence-{}.json", unique()));
    let bundle_arg = bundle.to_str().expect("utf-8 temp path");
    let report = check_with(
        pdf,
        &trust.root,
        Some(status),
        at,
        &["--evidence", bundle_arg],
    );
    assert!(bundle.is_file(), "no bundle written:\n{report}");
    (report, bundle)
}

fn replay(bundle: &Path, extra: &[&Path]) -> Report {
    let mut args = vec![
        std::ffi::OsString::from("replay"),
        bundle.as_os_str().to_owned(),
    ];
    for (flag, value) in ["--pdf", "--trust"].iter().zip(extra) {
        args.push((*flag).into());
        args.push(value.as_os_str().to_owned());
    }
    args.push("--json".into());
    Report::parse(verifier(args))
}

fn assert_refused(bundle: &Path, why: &str) {
    let out = verifier([std::ffi::OsStr::new("replay"), bundle.as_os_str()]);
    assert_eq!(
        out.code,
        Some(2),
        "{why}: the bundle must be refused:\n{out}"
    );
    assert!(out.stderr.contains("refused"), "{why}:\n{out}");
}

fn assert_same_verdict(original: &Report, bundle: &Path, pdf: &Path, trust: &Trust) {
    for replayed in [replay(bundle, &[]), replay(bundle, &[pdf, &trust.root])] {
        assert_eq!(replayed.verdict(), original.verdict(), "{replayed}");
        assert_eq!(replayed.code(), original.code(), "{replayed}");
    }
}

#[test]
fn replay_matches_valid_revoked_and_expired_verdicts() {
    let ws = Workspace::new();
    let valid = ws.issue(&fixture("chan-tai-man.json"));
    let revoked = ws.issue(&fixture("hkscs-name.json"));
    let trust = ws.export_trust();

    let (report, bundle) = check_with_evidence(&ws, &valid.pdf, &trust, trust.status_list(), None);
    report.assert_verdict("VALID");
    assert_same_verdict(&report, &bundle, &valid.pdf, &trust);

    // Far in the future: the certificate has expired (and the list is stale).
    let (report, bundle) = check_with_evidence(
        &ws,
        &valid.pdf,
        &trust,
        trust.status_list(),
        Some("2040-01-01T00:00:00Z"),
    );
    report.assert_verdict("EXPIRED");
    assert_same_verdict(&report, &bundle, &valid.pdf, &trust);

    ws.revoke(&revoked.number, "test").assert_success();
    let after = ws.export_trust();
    let (report, bundle) =
        check_with_evidence(&ws, &revoked.pdf, &after, after.status_list(), None);
    report.assert_verdict("REVOKED");
    assert_same_verdict(&report, &bundle, &revoked.pdf, &after);

    // The PDF beside the bundle must be the one it records.
    let out = verifier([
        std::ffi::OsStr::new("replay"),
        bundle.as_os_str(),
        std::ffi::OsStr::new("--pdf"),
        valid.pdf.as_os_str(),
    ]);
    assert_eq!(out.code, Some(2), "another PDF is refused:\n{out}");
}

#[test]
fn an_altered_bundle_is_refused() {
    let ws = Workspace::new();
    let issued = ws.issue(&fixture("chan-tai-man.json"));
    let trust = ws.export_trust();
    let (report, bundle) = check_with_evidence(&ws, &issued.pdf, &trust, trust.status_list(), None);
    report.assert_verdict("VALID");
    let bytes = std::fs::read(&bundle).expect("read the bundle");

    // One byte flipped, at several places (header, PDF, status list, report, digest).
    for pos in [
        10,
        bytes.len() / 4,
        bytes.len() / 2,
        bytes.len() - 40,
        bytes.len() - 2,
    ] {
        let mut flipped = bytes.clone();
        flipped[pos] ^= 0x01;
        let path = ws.file(format!("flipped-{pos}.json"));
        std::fs::write(&path, &flipped).expect("write");
        assert_refused(&path, &format!("byte {pos} flipped"));
    }

    // A status list from another issuer, digest recomputed as a forger would.
    let other = Workspace::new();
    other.issue(&fixture("chan-tai-man.json"));
    let foreign = other.export_trust();
    let foreign_list = std::fs::read(foreign.status_list()).expect("read the foreign list");
    let mut forged: Bundle = serde_json::from_slice(&bytes).expect("parse the bundle");
    use base64::Engine as _;
    forged.status_list_cwt = Some(base64::engine::general_purpose::STANDARD.encode(&foreign_list));
    let sealed = evidence::seal(&mut forged).expect("seal");
    let path = ws.file("foreign-status.json");
    std::fs::write(&path, sealed).expect("write");
    assert_refused(&path, "a status list from another issuer");

    // A recorded verdict changed (digest recomputed): re-verification disagrees.
    let mut forged: Bundle = serde_json::from_slice(&bytes).expect("parse the bundle");
    forged.report["verdict"] = "REVOKED".into();
    let sealed = evidence::seal(&mut forged).expect("seal");
    let path = ws.file("changed-verdict.json");
    std::fs::write(&path, sealed).expect("write");
    assert_refused(&path, "a changed verdict");
}

#[test]
fn the_bundle_conforms_to_its_schema() {
    let Some(python) = ccr_tests::python_with(&["jsonschema"]) else {
        return;
    };
    let ws = Workspace::new();
    let issued = ws.issue(&fixture("chan-tai-man.json"));
    let trust = ws.export_trust();
    let (_, bundle) = check_with_evidence(&ws, &issued.pdf, &trust, trust.status_list(), None);
    let out = ccr_tests::run(
        std::process::Command::new(python)
            .arg(ccr_tests::workspace_root().join("tests/oracles/validate_schema.py"))
            .arg(ccr_tests::workspace_root().join("schemas/evidence-bundle.schema.json"))
            .arg(&bundle),
    );
    assert!(out.success(), "{out}");
}

/// `POST <path>` with a PDF body to `127.0.0.1:port`; the status code and the body.
fn post_pdf(port: u16, path: &str, body: &[u8]) -> (u16, Vec<u8>) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(60)))
        .expect("timeout");
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/pdf\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).expect("write head");
    stream.write_all(body).expect("write body");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).expect("read");
    let split = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("an HTTP head");
    let head = String::from_utf8_lossy(&answer[..split]).into_owned();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status code");
    assert!(
        !head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked"),
        "a fixed-length answer is expected:\n{head}"
    );
    (status, answer[split + 4..].to_vec())
}

#[test]
fn the_service_answers_evidence_that_replays_offline() {
    let issuer_port = ccr_tests::free_port();
    let issuer_url = format!("http://127.0.0.1:{issuer_port}");
    let ws = Workspace::with_init_args(&["--public-url", &issuer_url]);
    let valid = ws.issue(&fixture("chan-tai-man.json"));
    let revoked = ws.issue(&fixture("hkscs-name.json"));
    ws.revoke(&revoked.number, "test").assert_success();
    let trust = ws.export_trust();
    let _issuer = ccr_tests::start_issuer_serve(&ws, issuer_port);
    let port = ccr_tests::free_port();
    let mut cmd = ccr_tests::bin_command("verifier");
    cmd.arg("serve")
        .arg("--trust")
        .arg(&trust.root)
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"))
        .arg("--issuer")
        .arg(&issuer_url);
    let _service = ccr_tests::spawn_until_healthy(cmd, port, "verifier serve");

    for (issued, verdict) in [(&valid, "VALID"), (&revoked, "REVOKED")] {
        let pdf = std::fs::read(&issued.pdf).expect("read the PDF");
        let (status, body) = post_pdf(port, "/api/v1/verify?evidence=1", &pdf);
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        let recorded: Bundle = serde_json::from_slice(&body).expect("an evidence bundle");
        assert_eq!(recorded.report["verdict"], verdict);
        assert!(
            recorded.status_list_cwt.is_some(),
            "the list fetched from the issuer is recorded"
        );
        let bundle = ws.file(format!("served-{verdict}.json"));
        std::fs::write(&bundle, &body).expect("write the bundle");
        // Offline, later: the issuer is gone from the replay's view (no network is used).
        let replayed = replay(&bundle, &[&issued.pdf, &trust.root]);
        replayed.assert_verdict(verdict);
        let mut flipped = body.clone();
        let middle = flipped.len() / 2;
        flipped[middle] ^= 0x01;
        let path = ws.file(format!("served-{verdict}-flipped.json"));
        std::fs::write(&path, flipped).expect("write");
        assert_refused(&path, "a byte flipped in a served bundle");
    }

    // Without the parameter the answer is the report; a bad value is refused, not ignored.
    let pdf = std::fs::read(&valid.pdf).expect("read the PDF");
    let (status, body) = post_pdf(port, "/api/v1/verify", &pdf);
    assert_eq!(status, 200);
    let report: serde_json::Value = serde_json::from_slice(&body).expect("a report");
    assert_eq!(report["verdict"], "VALID");
    assert!(report.get("bundle_sha256").is_none());
    let (status, _) = post_pdf(port, "/api/v1/verify?evidence=yes", &pdf);
    assert_eq!(status, 422);
}
