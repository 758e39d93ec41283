//! SPEC §6 command-line contract, issue 2 must-show 1: `issuer init` → `issuer issue` →
//! `issuer export-trust` → `verifier check … --json` says `VALID` with every check listed.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use ccr_tests::{Workspace, check, fixture, verifier};

const GOOD_FIXTURES: [&str; 6] = [
    "chan-tai-man.json",
    "hkscs-name.json",
    "portuguese-name.json",
    "vietnamese-name.json",
    "with-records.json",
    "transfer-dsal.json",
];

#[test]
fn init_issue_export_check_is_valid_with_every_check_passing() {
    let ws = Workspace::new();
    let issued = ws.issue(&fixture("chan-tai-man.json"));
    let trust = ws.export_trust();
    let report = check(&issued.pdf, &trust.root, Some(trust.status_list()), None);
    report.assert_verdict("VALID");

    let checks = report.checks();
    assert!(
        !checks.is_empty(),
        "a VALID report lists its checks:\n{report}"
    );
    let mut names = BTreeSet::new();
    for c in &checks {
        assert!(
            !c.name.trim().is_empty(),
            "a check without a name:\n{report}"
        );
        assert_eq!(
            c.outcome, "pass",
            "check {:?} did not pass in a VALID report:\n{report}",
            c.name
        );
        assert!(
            names.insert(c.name.clone()),
            "check {:?} is listed twice:\n{report}",
            c.name
        );
    }
    // SPEC §5 lists what is checked; each topic must appear among the checks' names.
    for (topic, keywords) in [
        (
            "the file parses within limits",
            &["file", "pars", "limit", "syntax", "read"][..],
        ),
        (
            "the signature's coverage / later revisions",
            &[
                "structure",
                "cover",
                "revision",
                "modif",
                "byte",
                "range",
                "update",
                "incremental",
            ],
        ),
        (
            "the CMS signature",
            &["cms", "signature", "digest", "cades"],
        ),
        (
            "the signer's chain",
            &["chain", "trust", "certificate", "signer", "path"],
        ),
        (
            "the signature time-stamp",
            &["timestamp", "time_stamp", "time-stamp", "tst"],
        ),
        ("the embedded token", &["token"]),
        (
            "the validity period",
            &["valid", "current", "expir", "period"],
        ),
        ("the status list", &["status", "revoc"]),
    ] {
        assert!(
            !report.checks_like(keywords).is_empty(),
            "no check about {topic} (names like {keywords:?}):\n{report}"
        );
    }
    assert!(
        checks.len() >= 8,
        "SPEC §5 lists eight checks; the report has {}:\n{report}",
        checks.len()
    );

    // The report carries the certificate's disclosed fields.
    assert!(
        report.mentions(&issued.number),
        "the report does not carry the certificate number {}:\n{report}",
        issued.number
    );
    assert!(
        report
            .strings_where(|_| true)
            .iter()
            .any(|(_, v)| v.contains("CHAN TAI MAN")),
        "the report does not carry the holder's name:\n{report}"
    );
}

#[test]
fn issue_prints_the_certificate_number_as_its_last_line() {
    let ws = Workspace::new();
    let first = ws.issue(&fixture("chan-tai-man.json"));
    let second = ws.issue(&fixture("chan-tai-man.json"));
    for issued in [&first, &second] {
        let n = &issued.number;
        assert!(
            !n.is_empty()
                && !n.contains(char::is_whitespace)
                && n.chars().any(|c| c.is_ascii_digit()),
            "the last line of `issuer issue` is not a certificate number: {n:?}\n{}",
            issued.out
        );
    }
    assert_ne!(
        first.number, second.number,
        "two issuances got the same certificate number"
    );

    // The printed number is the certificate's: the verifier reads the same number from the PDF.
    let trust = ws.export_trust();
    for issued in [&first, &second] {
        let report = check(&issued.pdf, &trust.root, Some(trust.status_list()), None);
        report.assert_verdict("VALID");
        assert!(
            report.mentions(&issued.number),
            "report does not carry {}:\n{report}",
            issued.number
        );
    }
}

#[test]
fn every_good_fixture_issues_and_verifies_valid() {
    let ws = Workspace::new();
    let issued: Vec<_> = GOOD_FIXTURES
        .iter()
        .map(|f| (f, ws.issue(&fixture(f))))
        .collect();
    let trust = ws.export_trust();
    let mut numbers = BTreeSet::new();
    for (name, cert) in &issued {
        assert!(
            numbers.insert(cert.number.clone()),
            "{name}: duplicate certificate number {}",
            cert.number
        );
        let report = check(&cert.pdf, &trust.root, Some(trust.status_list()), None);
        assert_eq!(report.verdict(), "VALID", "{name}: {report}");
        assert_eq!(report.code(), Some(0), "{name}: {report}");
        let size = std::fs::metadata(&cert.pdf).map(|m| m.len()).unwrap_or(0);
        eprintln!("{name}: {} {} bytes", cert.number, size);
    }
}

#[test]
fn without_a_status_list_the_verdict_is_status_unknown() {
    let ws = Workspace::new();
    let issued = ws.issue(&fixture("chan-tai-man.json"));
    let trust = ws.export_trust();
    let report = check(&issued.pdf, &trust.root, None, None);
    report.assert_verdict("STATUS_UNKNOWN");
    let status = report.status_check();
    assert_ne!(
        status.outcome, "pass",
        "with no status list the status check cannot pass:\n{report}"
    );
    // Everything else about the certificate is fine.
    for c in report.checks() {
        if c.name != status.name {
            assert_eq!(
                c.outcome, "pass",
                "check {:?} should pass:\n{report}",
                c.name
            );
        }
    }
}

fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read dir") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.insert(path.clone(), std::fs::read(&path).unwrap_or_default());
            }
        }
    }
    out
}

#[test]
fn init_refuses_to_overwrite_an_existing_home() {
    let ws = Workspace::new();
    let before = snapshot(&ws.home);
    assert!(!before.is_empty(), "issuer init created an empty home");
    let again = ws.init(&[]);
    assert!(
        !again.success() && again.code.is_some(),
        "a second `issuer init` on the same home must fail:\n{again}"
    );
    assert!(
        !again.stderr.trim().is_empty(),
        "the refusal says why on stderr:\n{again}"
    );
    assert!(
        !again.stderr.contains("panicked"),
        "the refusal is a panic:\n{again}"
    );
    assert_eq!(
        before,
        snapshot(&ws.home),
        "the refused `issuer init` changed the home"
    );
    // The home still works.
    ws.issue(&fixture("chan-tai-man.json"));
}

#[test]
fn init_creates_a_home_with_a_development_pki() {
    let ws = Workspace::uninitialised();
    let out = ws.init(&[]);
    out.assert_success();
    assert!(ws.home.is_dir());
    let trust = ws.export_trust();
    let roots = ccr_tests::tools::pem_certificates(&trust.root);
    assert_eq!(
        roots.len(),
        1,
        "root.pem holds exactly the one trust anchor"
    );
    let bundle = ccr_tests::tools::pem_certificates(&trust.bundle);
    assert!(
        bundle.len() >= 3,
        "bundle.pem holds the issuing CA, token-signing and TSA certificates, found {}",
        bundle.len()
    );
    let root_subject = ccr_tests::tools::subject(&roots[0]);
    for cert in &bundle {
        assert_ne!(
            ccr_tests::tools::subject(cert),
            root_subject,
            "bundle.pem should not repeat the root"
        );
    }
}

#[test]
fn verifier_exits_2_on_usage_and_io_errors() {
    let ws = Workspace::new();
    let issued = ws.issue(&fixture("chan-tai-man.json"));
    let trust = ws.export_trust();
    let pdf = issued.pdf.to_str().expect("utf-8 path");
    let root = trust.root.to_str().expect("utf-8 path");
    let status = trust.status_list().to_str().expect("utf-8 path");
    let missing_pdf = ws.file("no-such-file.pdf");
    let missing_pdf = missing_pdf.to_str().expect("utf-8 path");
    let missing_root = ws.file("no-such-root.pem");
    let missing_root = missing_root.to_str().expect("utf-8 path");
    let missing_status = ws.file("status-missing.cwt");
    let missing_status = missing_status.to_str().expect("utf-8 path");

    let cases: Vec<(&str, Vec<&str>)> = vec![
        (
            "missing PDF file",
            vec![
                "check",
                missing_pdf,
                "--trust",
                root,
                "--status",
                status,
                "--json",
            ],
        ),
        (
            "missing PDF file, no --json",
            vec!["check", missing_pdf, "--trust", root],
        ),
        (
            "missing trust file",
            vec![
                "check",
                pdf,
                "--trust",
                missing_root,
                "--status",
                status,
                "--json",
            ],
        ),
        (
            "missing status file",
            vec![
                "check",
                pdf,
                "--trust",
                root,
                "--status",
                missing_status,
                "--json",
            ],
        ),
        ("no --trust", vec!["check", pdf, "--json"]),
        ("no file", vec!["check", "--trust", root, "--json"]),
        (
            "unparsable --at",
            vec![
                "check",
                pdf,
                "--trust",
                root,
                "--status",
                status,
                "--at",
                "yesterday",
                "--json",
            ],
        ),
        (
            "unknown option",
            vec!["check", pdf, "--trust", root, "--frobnicate", "--json"],
        ),
        ("unknown subcommand", vec!["frobnicate"]),
        ("no arguments", vec![]),
    ];
    for (what, args) in cases {
        let out = verifier(&args);
        assert_eq!(out.code, Some(2), "{what}: expected exit code 2\n{out}");
        assert!(
            !out.stderr.trim().is_empty(),
            "{what}: the error is explained on stderr\n{out}"
        );
        assert!(
            !out.stderr.contains("panicked"),
            "{what}: the verifier panicked\n{out}"
        );
    }
    // The good invocation, for contrast.
    assert_eq!(
        verifier(["check", pdf, "--trust", root, "--status", status, "--json"]).code,
        Some(0)
    );
}
