//! `verifier token` (SPEC §6): the QR token verified on its own, offline, with the bundle and
//! a status list; tampering, foreign keys and missing trust material are refused without
//! showing personal data.

use std::ffi::OsString;
use std::path::Path;

use ccr_tests::{Report, Trust, Workspace, fixture, verifier};

/// The token URL embedded in a signed certificate (the same bytes its QR code carries).
fn token_url(pdf: &Path) -> String {
    let bytes = std::fs::read(pdf).expect("read pdf");
    let doc = ccr_pki::pades::inspect(&bytes, &ccr_pki::pdf::Limits::default()).expect("inspect");
    ccr_pki::token::to_url("http://127.0.0.1:8080/verify", &doc.token)
}

fn verify_token(token: &str, trust: &Trust, bundle: Option<&Path>, status: bool) -> Report {
    let mut args: Vec<OsString> = vec![
        "token".into(),
        token.into(),
        "--trust".into(),
        trust.root.clone().into(),
    ];
    if let Some(bundle) = bundle {
        args.push("--bundle".into());
        args.push(bundle.into());
    }
    if status {
        args.push("--status".into());
        args.push(trust.status_list().into());
    }
    args.push("--json".into());
    Report::parse(verifier(args))
}

#[test]
fn a_real_token_is_valid_and_discloses_only_the_token_fields() {
    let ws = Workspace::new();
    let issued = ws.issue(&fixture("chan-tai-man.json"));
    let trust = ws.export_trust();
    let report = verify_token(&token_url(&issued.pdf), &trust, Some(&trust.bundle), true);
    report.assert_verdict("VALID");
    let cert = report.json.get("certificate").expect("disclosed fields");
    assert_eq!(cert["number"], issued.number.as_str());
    assert_eq!(cert["name_latin"], "CHAN TAI MAN");
    assert_eq!(
        cert["document"]["last3"], "(8)",
        "only the last three characters are disclosed"
    );
    let text = report.json.to_string();
    assert!(
        !text.contains("1234567"),
        "the full document number must not be disclosed: {text}"
    );
}

#[test]
fn without_status_the_token_is_status_unknown_and_without_bundle_untrusted() {
    let ws = Workspace::new();
    let issued = ws.issue(&fixture("chan-tai-man.json"));
    let trust = ws.export_trust();
    let url = token_url(&issued.pdf);
    verify_token(&url, &trust, Some(&trust.bundle), false).assert_verdict("STATUS_UNKNOWN");
    let untrusted = verify_token(&url, &trust, None, true);
    untrusted.assert_verdict("UNTRUSTED");
    assert!(
        untrusted
            .json
            .get("certificate")
            .is_none_or(|c| c.is_null()),
        "no personal data from an unauthenticated token"
    );
}

#[test]
fn every_tampered_byte_is_rejected_without_showing_personal_data() {
    let ws = Workspace::new();
    let issued = ws.issue(&fixture("chan-tai-man.json"));
    let trust = ws.export_trust();
    let bytes = std::fs::read(&issued.pdf).expect("read pdf");
    let token = ccr_pki::pades::inspect(&bytes, &ccr_pki::pdf::Limits::default())
        .expect("inspect")
        .token;
    // Header, payload and signature: every 7th byte, and the first and last (each run is a
    // process; all bytes are covered in the pki crate's unit tests).
    let positions: Vec<usize> = (0..token.len())
        .step_by(7)
        .chain([token.len() - 1])
        .collect();
    for i in positions {
        let mut forged = token.clone();
        forged[i] ^= 0x01;
        let url = ccr_pki::token::to_url("http://127.0.0.1:8080/verify", &forged);
        let report = verify_token(&url, &trust, Some(&trust.bundle), true);
        assert_ne!(report.verdict(), "VALID", "byte {i} flipped was accepted");
        assert!(
            report.json.get("certificate").is_none_or(|c| c.is_null()),
            "byte {i}: a rejected token must not disclose fields: {}",
            report.json
        );
        assert!(
            !report.out.stdout.contains("CHAN TAI MAN"),
            "byte {i}: the name leaked"
        );
    }
}

#[test]
fn a_token_from_a_look_alike_pki_is_untrusted() {
    let ours = Workspace::new();
    let theirs = Workspace::new();
    let forged = theirs.issue(&fixture("chan-tai-man.json"));
    let our_trust = ours.export_trust();
    let their_trust = theirs.export_trust();
    // Their bundle offered with our root: the token signer does not chain to it.
    let report = verify_token(
        &token_url(&forged.pdf),
        &our_trust,
        Some(&their_trust.bundle),
        false,
    );
    report.assert_verdict("UNTRUSTED");
}

#[test]
fn a_revoked_certificate_token_is_revoked() {
    let ws = Workspace::new();
    let issued = ws.issue(&fixture("chan-tai-man.json"));
    ws.revoke(&issued.number, "test").assert_success();
    let trust = ws.export_trust();
    verify_token(&token_url(&issued.pdf), &trust, Some(&trust.bundle), true)
        .assert_verdict("REVOKED");
}
