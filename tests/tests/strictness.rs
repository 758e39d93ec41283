//! Issue 2 must-show 3: the verifier's strictness, each case with its SPEC §5 verdict and, where
//! it means something, compared with pyHanko's judgement.

use std::path::Path;

use ccr_tests::pdf::{self, Signature};
use ccr_tests::tools::{self, pem_certificates, pyhanko_validate, write_temp};
use ccr_tests::{
    Issued, Trust, Workspace, check, fixture, macao_date, macao_instant, parse_rfc3339,
};
use time::OffsetDateTime;

fn issued_and_trusted() -> (Workspace, Issued, Trust) {
    let ws = Workspace::new();
    let issued = ws.issue(&fixture("chan-tai-man.json"));
    let trust = ws.export_trust();
    (ws, issued, trust)
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// pyHanko (trusting only `root`) must reject `pdf`; returns its summary for the log.
fn pyhanko_must_reject(pdf: &Path, root: &Path, what: &str) {
    let Some(result) = pyhanko_validate(pdf, root) else {
        return;
    };
    eprintln!(
        "pyHanko on {what}: {:?} (exit {:?})",
        result.summaries, result.out.code
    );
    assert!(
        result.rejects(),
        "pyHanko should reject {what}:\n{}",
        result.out
    );
}

#[test]
fn the_untouched_certificate_is_valid_for_us_and_for_pyhanko() {
    let (_ws, issued, trust) = issued_and_trusted();
    check(&issued.pdf, &trust.root, Some(trust.status_list()), None).assert_verdict("VALID");
    let Some(result) = pyhanko_validate(&issued.pdf, &trust.root) else {
        return;
    };
    eprintln!("pyHanko on the untouched file: {:?}", result.summaries);
    assert!(
        result.is_good(),
        "pyHanko should accept the untouched certificate:\n{}",
        result.out
    );
}

#[test]
fn a_byte_flipped_in_the_header_comment_is_an_invalid_signature() {
    let (ws, issued, trust) = issued_and_trusted();
    let bytes = read(&issued.pdf);
    let sig = pdf::signature(&bytes);
    let pos = pdf::header_comment_byte(&bytes);
    assert!(
        pos < sig.byte_range[1],
        "the header is in the first signed range"
    );
    let tampered = write_temp(
        ws.dir(),
        "flipped-header.pdf",
        &pdf::flip_byte(&bytes, pos, 0x01),
    );
    check(&tampered, &trust.root, Some(trust.status_list()), None)
        .assert_verdict("INVALID_SIGNATURE");
    pyhanko_must_reject(
        &tampered,
        &trust.root,
        "a byte flipped in the header comment",
    );
}

/// A byte in the middle of the first signed range, inside the data of a stream (so that the
/// object structure still parses): the ByteRange digest no longer matches.
#[test]
fn a_byte_flipped_in_the_middle_of_the_signed_revision_is_an_invalid_signature() {
    let (ws, issued, trust) = issued_and_trusted();
    let bytes = read(&issued.pdf);
    let sig: Signature = pdf::signature(&bytes);
    let first_range_end = sig.byte_range[1];
    let middle = first_range_end / 2;
    let streams = pdf::stream_data_ranges(&bytes, first_range_end);
    // The stream data nearest to the middle of the first range.
    let stream = streams
        .iter()
        .filter(|r| r.len() > 16)
        .min_by_key(|r| {
            let centre = (r.start + r.end) / 2;
            centre.abs_diff(middle)
        })
        .expect("the signed revision has streams");
    let pos = if stream.contains(&middle) {
        middle
    } else {
        (stream.start + stream.end) / 2
    };
    eprintln!(
        "flipping byte {pos} (first signed range 0..{first_range_end}, stream data {stream:?})"
    );
    let tampered = write_temp(
        ws.dir(),
        "flipped-middle.pdf",
        &pdf::flip_byte(&bytes, pos, 0x01),
    );
    check(&tampered, &trust.root, Some(trust.status_list()), None)
        .assert_verdict("INVALID_SIGNATURE");
    pyhanko_must_reject(
        &tampered,
        &trust.root,
        "a byte flipped in a stream of the signed revision",
    );
}

#[test]
fn an_appended_update_changing_the_page_content_is_modified() {
    let (ws, issued, trust) = issued_and_trusted();
    let bytes = read(&issued.pdf);
    let modified = pdf::append_content_change(&bytes);
    assert!(modified.starts_with(&bytes), "the update is appended");
    let tampered = write_temp(ws.dir(), "content-changed.pdf", &modified);
    let report = check(&tampered, &trust.root, Some(trust.status_list()), None);
    report.assert_verdict("MODIFIED");
    pyhanko_must_reject(
        &tampered,
        &trust.root,
        "an appended update changing the page content",
    );
    let Some(result) = pyhanko_validate(&tampered, &trust.root) else {
        return;
    };
    assert!(
        result
            .summaries
            .iter()
            .any(|s| s.contains("ILLEGAL_MODIFICATIONS")),
        "pyHanko should call the changed page an illegal modification:\n{}",
        result.out
    );
    // poppler still calls the signature valid (FIELD-NOTES): only record what it says.
    if let Some(sig) = tools::pdfsig(&tampered, &trust.root, ws.dir()) {
        eprintln!(
            "pdfsig on the modified file: {:?} / {:?}",
            sig.signature_validation(),
            sig.certificate_validation()
        );
    }
}

/// SPEC §3: later revisions may only add validation data or document time-stamps. pyHanko
/// accepts an `/Info` edit; our policy does not.
#[test]
fn an_appended_update_changing_only_the_info_dictionary_is_modified() {
    let (ws, issued, trust) = issued_and_trusted();
    let bytes = read(&issued.pdf);
    let tampered = write_temp(
        ws.dir(),
        "info-changed.pdf",
        &pdf::append_info_change(&bytes),
    );
    check(&tampered, &trust.root, Some(trust.status_list()), None).assert_verdict("MODIFIED");
    if let Some(result) = pyhanko_validate(&tampered, &trust.root) {
        eprintln!(
            "pyHanko on an /Info-only update (accepted by its policy): {:?}",
            result.summaries
        );
    }
}

#[test]
fn a_look_alike_pki_with_identical_names_is_untrusted() {
    let genuine = Workspace::new();
    genuine.issue(&fixture("chan-tai-man.json"));
    let trust = genuine.export_trust();

    let impostor = Workspace::new();
    let forged = impostor.issue(&fixture("chan-tai-man.json"));
    let impostor_trust = impostor.export_trust();

    // Same names, other keys.
    let a = &pem_certificates(&trust.root)[0];
    let b = &pem_certificates(&impostor_trust.root)[0];
    assert_eq!(
        tools::subject(a),
        tools::subject(b),
        "the look-alike root has the same subject"
    );
    assert_ne!(
        a.tbs_certificate().subject_public_key_info(),
        b.tbs_certificate().subject_public_key_info(),
        "the look-alike root has its own key"
    );
    let subjects = |t: &Trust| {
        pem_certificates(&t.bundle)
            .iter()
            .map(tools::subject)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        subjects(&trust),
        subjects(&impostor_trust),
        "the look-alike bundle has the same names"
    );

    // Valid in its own world…
    check(
        &forged.pdf,
        &impostor_trust.root,
        Some(impostor_trust.status_list()),
        None,
    )
    .assert_verdict("VALID");
    // …untrusted in ours, with or without our status list.
    check(&forged.pdf, &trust.root, Some(trust.status_list()), None).assert_verdict("UNTRUSTED");
    check(&forged.pdf, &trust.root, None, None).assert_verdict("UNTRUSTED");

    let Some(result) = pyhanko_validate(&forged.pdf, &trust.root) else {
        return;
    };
    eprintln!(
        "pyHanko on the look-alike (trusting only the genuine root): {:?}",
        result.summaries
    );
    assert!(
        !result.out.success()
            && result
                .summaries
                .iter()
                .all(|s| !s.starts_with("INTACT:TRUSTED")),
        "pyHanko must not trust the look-alike signature:\n{}",
        result.out
    );
}

#[test]
fn the_validity_period_ends_at_macao_midnight_after_d_plus_90() {
    let ws = Workspace::new();
    // Issue until the issuance did not straddle a Macao midnight, so D is known from our clock.
    let (issued, day) = (0..3)
        .find_map(|_| {
            let before = OffsetDateTime::now_utc();
            let issued = ws.issue(&fixture("chan-tai-man.json"));
            let after = OffsetDateTime::now_utc();
            (macao_date(before) == macao_date(after)).then(|| (issued, macao_date(before)))
        })
        .expect("an issuance within one Macao day");
    let trust = ws.export_trust();

    let now = check(&issued.pdf, &trust.root, Some(trust.status_list()), None);
    now.assert_verdict("VALID");
    // The report's own idea of the issue instant and validity end, when it states them.
    for (path, value) in now.strings_where(|k| k.contains("issued_at") || k == "issued") {
        if let Ok(t) =
            time::OffsetDateTime::parse(&value, &time::format_description::well_known::Rfc3339)
        {
            assert_eq!(
                macao_date(t),
                day,
                "{path} = {value} is not on Macao date {day}"
            );
        }
    }
    let last_second = macao_instant(day, 90, "23:59:59");
    let first_expired = macao_instant(day, 91, "00:00:00");
    for (path, value) in
        now.strings_where(|k| k.contains("valid_until") || k.contains("validity_end"))
    {
        if value.contains('T') {
            assert_eq!(
                parse_rfc3339(&value),
                parse_rfc3339(&last_second),
                "{path} = {value}"
            );
        } else {
            assert_eq!(value, last_second[..10], "{path}");
        }
    }

    for status in [Some(trust.status_list()), None] {
        // 23:59:59 on D+90: still current. The one-hour status list has expired by then, so the
        // verdict is STATUS_UNKNOWN (never VALID without a fresh list), with the validity check
        // passing and nothing else wrong.
        let inside = check(&issued.pdf, &trust.root, status, Some(&last_second));
        inside.assert_verdict("STATUS_UNKNOWN");
        let validity = inside.validity_check();
        assert_eq!(
            validity.outcome, "pass",
            "{:?} at {last_second}:\n{inside}",
            validity.name
        );
        let status_check = inside.status_check();
        for c in inside.checks() {
            if c.name != status_check.name {
                assert_eq!(
                    c.outcome, "pass",
                    "{:?} at {last_second}:\n{inside}",
                    c.name
                );
            }
        }
        // 00:00:00 on D+91: expired (EXPIRED outranks STATUS_UNKNOWN).
        let outside = check(&issued.pdf, &trust.root, status, Some(&first_expired));
        outside.assert_verdict("EXPIRED");
        let validity = outside.validity_check();
        assert_eq!(
            validity.outcome, "fail",
            "{:?} at {first_expired}:\n{outside}",
            validity.name
        );
    }
}

#[test]
fn a_revoked_certificate_is_revoked_and_others_stay_valid() {
    let ws = Workspace::new();
    let revoked = ws.issue(&fixture("chan-tai-man.json"));
    let kept = ws.issue(&fixture("hkscs-name.json"));
    let before = ws.export_trust();
    check(&revoked.pdf, &before.root, Some(before.status_list()), None).assert_verdict("VALID");

    ws.revoke(&revoked.number, "test");
    let after = ws.export_trust();
    check(&revoked.pdf, &after.root, Some(after.status_list()), None).assert_verdict("REVOKED");
    check(&kept.pdf, &after.root, Some(after.status_list()), None).assert_verdict("VALID");
    // Revocation shows only through the status list: the older list still says VALID.
    check(&revoked.pdf, &before.root, Some(before.status_list()), None).assert_verdict("VALID");
}

#[test]
fn revoking_an_unknown_certificate_fails_cleanly() {
    let ws = Workspace::new();
    ws.issue(&fixture("chan-tai-man.json"));
    let out = ws.issuer("revoke", ["CR-0000-999999", "--reason", "test"]);
    assert!(
        !out.success() && out.code.is_some(),
        "revoking an unknown number must fail:\n{out}"
    );
    assert!(!out.stderr.contains("panicked"), "{out}");
}

/// A 1×1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0xf0,
    0x1f, 0x00, 0x05, 0x00, 0x01, 0xff, 0x89, 0x99, 0x3d, 0x1d, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

#[test]
fn empty_truncated_and_non_pdf_files_are_malformed() {
    let (ws, issued, trust) = issued_and_trusted();
    let bytes = read(&issued.pdf);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        (
            "truncated to its first half",
            bytes[..bytes.len() / 2].to_vec(),
        ),
        (
            "truncated to its first 1000 bytes",
            bytes[..1000.min(bytes.len())].to_vec(),
        ),
        ("a PNG image", PNG.to_vec()),
        (
            "a text file",
            b"This is not a PDF.\nCHAN TAI MAN\n".to_vec(),
        ),
        ("a PDF header and nothing else", b"%PDF-1.7\n".to_vec()),
    ];
    for (what, content) in cases {
        let file = write_temp(ws.dir(), "malformed.pdf", &content);
        let report = check(&file, &trust.root, Some(trust.status_list()), None);
        assert_eq!(report.verdict(), "MALFORMED", "{what}:\n{report}");
        assert_eq!(
            report.code(),
            Some(1),
            "{what}: MALFORMED is a verdict (exit 1), not an I/O error:\n{report}"
        );
    }
}

/// §2 counts days in Macao time (UTC+8): an issue instant at 15:59:59Z is still Macao day d,
/// one at 16:00:00Z is already Macao day d+1. Issued with `--issued-at` (yesterday UTC, so both
/// instants are in the past), the two certificates expire one Macao midnight apart.
#[test]
fn the_issue_day_is_the_macao_date_not_the_utc_date() {
    let ws = Workspace::new();
    let yesterday = OffsetDateTime::now_utc()
        .date()
        .previous_day()
        .expect("a previous day");
    let late = format!("{yesterday}T15:59:59Z");
    let early = format!("{yesterday}T16:00:00Z");
    let a = ws.issue_with(&fixture("chan-tai-man.json"), &["--issued-at", &late]);
    let b = ws.issue_with(&fixture("chan-tai-man.json"), &["--issued-at", &early]);
    let trust = ws.export_trust();
    let day_a = macao_date(parse_rfc3339(&late));
    let day_b = macao_date(parse_rfc3339(&early));
    assert_eq!(day_a, yesterday);
    assert_eq!(day_b, yesterday.next_day().expect("a next day"));

    for (cert, day, issued_at) in [(&a, day_a, &late), (&b, day_b, &early)] {
        let now = check(&cert.pdf, &trust.root, Some(trust.status_list()), None);
        now.assert_verdict("VALID");
        let reported: Vec<_> = now.strings_where(|k| k == "issued_at");
        assert!(
            reported
                .iter()
                .any(|(_, v)| parse_rfc3339(v) == parse_rfc3339(issued_at)),
            "the report's issued_at is not the --issued-at instant {issued_at}:\n{now}"
        );
        let last_second = macao_instant(day, 90, "23:59:59");
        let first_expired = macao_instant(day, 91, "00:00:00");
        for (path, value) in now.strings_where(|k| k == "valid_until") {
            assert_eq!(
                parse_rfc3339(&value),
                parse_rfc3339(&last_second),
                "{path} for issue at {issued_at}"
            );
        }
        let inside = check(&cert.pdf, &trust.root, None, Some(&last_second));
        inside.assert_verdict("STATUS_UNKNOWN");
        assert_eq!(
            inside.validity_check().outcome,
            "pass",
            "issued {issued_at}, at {last_second}:\n{inside}"
        );
        let outside = check(&cert.pdf, &trust.root, None, Some(&first_expired));
        outside.assert_verdict("EXPIRED");
    }
}

/// Universal signature forgery: the CMS in `/Contents` replaced by zeros (same length, so the
/// file still parses and the ByteRange still fits).
#[test]
fn a_zeroed_signature_is_an_invalid_signature() {
    let (ws, issued, trust) = issued_and_trusted();
    let mut bytes = read(&issued.pdf);
    let sig = pdf::signature(&bytes);
    bytes[sig.contents_hex.clone()].fill(b'0');
    let tampered = write_temp(ws.dir(), "zeroed-signature.pdf", &bytes);
    check(&tampered, &trust.root, Some(trust.status_list()), None)
        .assert_verdict("INVALID_SIGNATURE");
    if let Some(result) = pyhanko_validate(&tampered, &trust.root) {
        eprintln!(
            "pyHanko on a zeroed /Contents: {:?} (exit {:?})",
            result.summaries, result.out.code
        );
        assert!(
            !result.out.success(),
            "pyHanko accepts a zeroed signature:\n{}",
            result.out
        );
    }
}

/// Without the B-LT update (the file cut at the end of the signed revision) the signature is
/// still intact, but the validation data the verifier needs offline is gone: never VALID.
#[test]
fn the_signed_revision_without_its_validation_data_is_not_valid() {
    let (ws, issued, trust) = issued_and_trusted();
    let bytes = read(&issued.pdf);
    let sig = pdf::signature(&bytes);
    let cut = write_temp(ws.dir(), "without-dss.pdf", &bytes[..sig.signed_end()]);
    let report = check(&cut, &trust.root, Some(trust.status_list()), None);
    eprintln!(
        "without the DSS: {} {:?}",
        report.verdict(),
        report.not_passed()
    );
    assert_eq!(report.code(), Some(1), "{report}");
    assert!(
        !["VALID", "MALFORMED", "MODIFIED"].contains(&report.verdict()),
        "the B-T revision alone is a well-formed, unmodified file, but not verifiable offline:\n{report}"
    );
}
