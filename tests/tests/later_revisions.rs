//! Issue 15 must-show 1: later revisions (SPEC §3). A department archiving a certificate with
//! pyHanko (an `ltvfix` DSS update with /VRI, or a document time-stamp) leaves it VALID with
//! the extra revision reported; a time-stamp from a foreign TSA is reported and not counted;
//! a DSS update that also touches a page is MODIFIED.

use std::path::{Path, PathBuf};

use ccr_tests::tools::{PyHankoExtension, pyhanko_extend};
use ccr_tests::{CheckEntry, Issued, Report, Trust, Workspace, check, fixture};

struct Case {
    ws: Workspace,
    issued: Issued,
    trust: Trust,
}

fn issued() -> Case {
    let ws = Workspace::new();
    let issued = ws.issue(&fixture("chan-tai-man.json"));
    let trust = ws.export_trust();
    Case { ws, issued, trust }
}

/// The certificate extended by pyHanko, or `None` when pyHanko is missing (oracle pattern).
fn extended(case: &Case, how: PyHankoExtension, name: &str) -> Option<PathBuf> {
    let out_pdf = case.ws.file(name);
    let out = pyhanko_extend(how, &case.issued.pdf, &out_pdf, &case.ws.home, &case.trust)?;
    out.assert_success();
    let original = std::fs::read(&case.issued.pdf).expect("read the certificate");
    let extended = std::fs::read(&out_pdf).expect("read the extended certificate");
    assert!(
        extended.len() > original.len() && extended.starts_with(&original),
        "pyHanko must append an incremental update:\n{out}"
    );
    Some(out_pdf)
}

fn verify(case: &Case, pdf: &Path) -> Report {
    check(pdf, &case.trust.root, Some(case.trust.status_list()), None)
}

fn named(report: &Report, name: &str) -> Vec<CheckEntry> {
    report
        .checks()
        .into_iter()
        .filter(|c| c.name == name)
        .collect()
}

fn detail(entry: &CheckEntry) -> &str {
    entry.detail.as_deref().unwrap_or_default()
}

#[test]
fn an_ltvfix_dss_update_with_vri_stays_valid_and_is_reported() {
    let case = issued();
    let Some(pdf) = extended(&case, PyHankoExtension::LtvFix, "ltvfix.pdf") else {
        return;
    };
    let report = verify(&case, &pdf);
    report.assert_verdict("VALID");
    let structure = named(&report, "signature_structure");
    assert!(
        structure
            .iter()
            .any(|c| detail(c).contains("2 later revision(s): 2 adding only validation data")),
        "the extra DSS revision is reported:\n{report}"
    );
    assert!(named(&report, "document_timestamp").is_empty(), "{report}");
}

#[test]
fn a_document_timestamp_by_the_bureaus_tsa_is_counted() {
    let case = issued();
    let Some(pdf) = extended(&case, PyHankoExtension::BureauTimestamp, "bureau-ts.pdf") else {
        return;
    };
    let report = verify(&case, &pdf);
    report.assert_verdict("VALID");
    let stamps = named(&report, "document_timestamp");
    assert_eq!(stamps.len(), 1, "one document time-stamp check:\n{report}");
    assert_eq!(stamps[0].outcome, "pass", "{report}");
    assert!(detail(&stamps[0]).contains("counted"), "{report}");
    assert!(
        named(&report, "signature_structure")
            .iter()
            .any(|c| detail(c).contains("1 document time-stamp(s)")),
        "{report}"
    );
}

#[test]
fn a_document_timestamp_by_a_foreign_tsa_is_reported_and_not_counted() {
    let case = issued();
    let Some(pdf) = extended(&case, PyHankoExtension::ForeignTimestamp, "foreign-ts.pdf") else {
        return;
    };
    let report = verify(&case, &pdf);
    // SPEC §3: it does not count as the bureau's, and it changes nothing the bureau signed.
    report.assert_verdict("VALID");
    let stamps = named(&report, "document_timestamp");
    assert_eq!(stamps.len(), 1, "{report}");
    assert_eq!(stamps[0].outcome, "skip", "{report}");
    assert!(
        detail(&stamps[0]).contains("Foreign Test TSA")
            && detail(&stamps[0]).contains("not counted"),
        "{report}"
    );
}

#[test]
fn a_dss_update_that_also_changes_a_page_is_modified() {
    let case = issued();
    let Some(pdf) = extended(&case, PyHankoExtension::DssAndPage, "dss-and-page.pdf") else {
        return;
    };
    let report = verify(&case, &pdf);
    report.assert_verdict("MODIFIED");
    assert!(
        named(&report, "signature_structure")
            .iter()
            .any(|c| c.outcome == "fail" && detail(c).contains("replaces existing object")),
        "{report}"
    );
}

/// Item 4: the bureau's archive copy extended to B-LTA by `issuer timestamp` is VALID for us
/// and accepted by pyHanko's AdES validation.
#[test]
fn issuer_timestamp_makes_a_b_lta_copy_valid_for_us_and_pyhanko() {
    let case = issued();
    let lta = case.ws.file("archive-lta.pdf");
    case.ws
        .issuer(
            "timestamp",
            [
                case.issued.pdf.as_os_str(),
                std::ffi::OsStr::new("--out"),
                lta.as_os_str(),
            ],
        )
        .assert_success();
    let report = verify(&case, &lta);
    report.assert_verdict("VALID");
    let stamps = named(&report, "document_timestamp");
    assert_eq!(stamps.len(), 1, "{report}");
    assert_eq!(stamps[0].outcome, "pass", "{report}");

    let Some(result) = ccr_tests::tools::pyhanko_adesverify(&lta, &case.trust.root) else {
        return;
    };
    eprintln!(
        "pyHanko adesverify on the B-LTA copy: {:?}",
        result.summaries
    );
    assert!(
        result.is_good()
            && result.summaries[0].contains("EXTENDED_WITH_LTA_UPDATES")
            && result.summaries[0].contains("ACCEPTABLE_MODIFICATIONS"),
        "pyHanko should accept the B-LTA copy:\n{}",
        result.out
    );
}

/// Item 4's configuration switch: with `[archive] document_timestamp = true` the registry keeps
/// a B-LTA archive copy of each certificate, made at issuance; `issuer archive` writes it out.
/// The holder's copy stays B-LT. With the switch off there is no archive copy to write.
#[test]
fn the_archive_switch_keeps_a_b_lta_copy_beside_the_holders_b_lt_copy() {
    let ws = Workspace::new();
    let config = ws.home.join("issuer.toml");
    let mut text = std::fs::read_to_string(&config).expect("config");
    text.push_str("\n[archive]\ndocument_timestamp = true\n");
    std::fs::write(&config, text).expect("write config");
    let issued = ws.issue(&fixture("chan-tai-man.json"));
    let trust = ws.export_trust();
    let case = Case { ws, issued, trust };

    let holders = verify(&case, &case.issued.pdf);
    holders.assert_verdict("VALID");
    assert!(
        named(&holders, "document_timestamp").is_empty(),
        "{holders}"
    );

    let archive = case.ws.file("archive-copy.pdf");
    case.ws
        .issuer(
            "archive",
            [
                std::ffi::OsStr::new(&case.issued.number),
                std::ffi::OsStr::new("--out"),
                archive.as_os_str(),
            ],
        )
        .assert_success();
    let holders_bytes = std::fs::read(&case.issued.pdf).expect("holder's copy");
    let archive_bytes = std::fs::read(&archive).expect("archive copy");
    assert!(
        archive_bytes.len() > holders_bytes.len() && archive_bytes.starts_with(&holders_bytes),
        "the archive copy is the holder's copy with an incremental update"
    );
    let report = verify(&case, &archive);
    report.assert_verdict("VALID");
    let stamps = named(&report, "document_timestamp");
    assert_eq!(stamps.len(), 1, "{report}");
    assert_eq!(stamps[0].outcome, "pass", "{report}");

    let Some(result) = ccr_tests::tools::pyhanko_adesverify(&archive, &case.trust.root) else {
        return;
    };
    assert!(
        result.is_good() && result.summaries[0].contains("EXTENDED_WITH_LTA_UPDATES"),
        "pyHanko should accept the archive copy:\n{}",
        result.out
    );
}

#[test]
fn without_the_archive_switch_there_is_no_archive_copy_to_write() {
    let case = issued();
    let out_pdf = case.ws.file("no-archive.pdf");
    let out = case.ws.issuer(
        "archive",
        [
            std::ffi::OsStr::new(&case.issued.number),
            std::ffi::OsStr::new("--out"),
            out_pdf.as_os_str(),
        ],
    );
    assert!(!out.success(), "{out}");
    assert!(out.stderr.contains("document_timestamp"), "{out}");
    assert!(!out_pdf.exists(), "nothing is written");
}

#[test]
fn issuer_timestamp_of_a_missing_file_writes_nothing() {
    let case = issued();
    let out_pdf = case.ws.file("never.pdf");
    let missing = case.ws.file("missing.pdf");
    let out = case.ws.issuer(
        "timestamp",
        [
            missing.as_os_str(),
            std::ffi::OsStr::new("--out"),
            out_pdf.as_os_str(),
        ],
    );
    assert!(!out.success(), "{out}");
    assert!(!out_pdf.exists(), "nothing is written on failure");
}

/// A second approval signature, even by the bureau's own document signer, is still refused:
/// MODIFIED (a policy failure with intact cryptography is never INVALID_SIGNATURE).
#[test]
fn a_second_approval_signature_is_modified() {
    let case = issued();
    let Some(pyhanko) = ccr_tests::oracle("pyhanko") else {
        return;
    };
    let pki = case.ws.home.join("pki");
    let out_pdf = case.ws.file("second-signature.pdf");
    let out = ccr_tests::run(
        std::process::Command::new(pyhanko)
            .args(["sign", "addsig", "--field", "Sig2", "pemder", "--key"])
            .arg(pki.join("document-signer.key.p8"))
            .arg("--cert")
            .arg(pki.join("document-signer.pem"))
            .arg("--no-pass")
            .arg(&case.issued.pdf)
            .arg(&out_pdf),
    );
    out.assert_success();
    let report = verify(&case, &out_pdf);
    report.assert_verdict("MODIFIED");
    assert!(
        named(&report, "signature_structure")
            .iter()
            .any(|c| detail(c).contains("exactly one approval signature")),
        "{report}"
    );
}
