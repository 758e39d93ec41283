//! SPEC §8 through the command line: hostile files get `MALFORMED` (exit 1), never a crash, a
//! hang or unbounded memory; each limit can be set on the command line.

use std::time::{Duration, Instant};

use ccr_tests::pdf::{Updater, last_startxref};
use ccr_tests::tools::write_temp;
use ccr_tests::{Report, Workspace, check, check_with, fixture};

/// A structurally complete one-page PDF whose catalog holds `extra` (hand-written xref).
fn pdf_with_catalog_extra(extra: &[u8]) -> Vec<u8> {
    let mut catalog = b"<< /Type /Catalog /Pages 2 0 R /X ".to_vec();
    catalog.extend_from_slice(extra);
    catalog.extend_from_slice(b" >>");
    let objects: Vec<Vec<u8>> = vec![
        catalog,
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>".to_vec(),
    ];
    let mut out = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for off in offsets {
        out.extend_from_slice(format!("{off:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

fn timed_check(ws: &Workspace, name: &str, bytes: &[u8]) -> (Report, Duration) {
    let issued = ws.issue(&fixture("chan-tai-man.json"));
    let trust = ws.export_trust();
    let _ = issued;
    let file = write_temp(ws.dir(), name, bytes);
    let started = Instant::now();
    let report = check(&file, &trust.root, Some(trust.status_list()), None);
    (report, started.elapsed())
}

#[test]
fn deeply_nested_arrays_are_malformed_not_a_crash() {
    let ws = Workspace::new();
    let depth = 100_000;
    let mut nested = vec![b'['; depth];
    nested.extend(std::iter::repeat_n(b']', depth));
    let (report, took) = timed_check(&ws, "deep-arrays.pdf", &pdf_with_catalog_extra(&nested));
    report.assert_verdict("MALFORMED");
    assert!(took < Duration::from_secs(20), "took {took:?}");
    eprintln!("deep arrays: {:?}", report.not_passed());
}

#[test]
fn deeply_nested_dictionaries_are_malformed_not_a_crash() {
    let ws = Workspace::new();
    let depth = 50_000;
    let mut nested = Vec::new();
    for _ in 0..depth {
        nested.extend_from_slice(b"<< /A ");
    }
    nested.extend_from_slice(b"1");
    for _ in 0..depth {
        nested.extend_from_slice(b" >>");
    }
    let (report, took) = timed_check(&ws, "deep-dicts.pdf", &pdf_with_catalog_extra(&nested));
    report.assert_verdict("MALFORMED");
    assert!(took < Duration::from_secs(20), "took {took:?}");
}

#[test]
fn an_oversized_file_is_malformed_and_names_the_limit() {
    let ws = Workspace::new();
    let issued = ws.issue(&fixture("chan-tai-man.json"));
    let trust = ws.export_trust();
    // 1 GiB, sparse: a real certificate followed by a hole of zeros.
    let file = ws.file("huge.pdf");
    std::fs::copy(&issued.pdf, &file).expect("copy");
    std::fs::OpenOptions::new()
        .write(true)
        .open(&file)
        .expect("open")
        .set_len(1 << 30)
        .expect("set_len");
    let started = Instant::now();
    let report = check(&file, &trust.root, Some(trust.status_list()), None);
    let took = started.elapsed();
    report.assert_verdict("MALFORMED");
    assert!(took < Duration::from_secs(20), "took {took:?}");
    let text = report.not_passed().join(" ").to_lowercase();
    assert!(
        ["size", "limit", "large", "bytes", "exceed"]
            .iter()
            .any(|w| text.contains(w)),
        "the failing check should name the size limit: {text}"
    );
}

#[test]
fn an_xref_chain_that_loops_is_malformed_not_a_hang() {
    let ws = Workspace::new();
    let issued = ws.issue(&fixture("chan-tai-man.json"));
    let trust = ws.export_trust();
    let bytes = std::fs::read(&issued.pdf).expect("pdf");
    // An update whose /Prev points at itself.
    let mut looped = Updater::new(&bytes).finish();
    let own = last_startxref(&looped);
    let tail = String::from_utf8_lossy(&looped[own..]).into_owned();
    let prev_at = tail.find("/Prev ").expect("/Prev in the update") + own + "/Prev ".len();
    let prev_end = looped[prev_at..]
        .iter()
        .position(|b| !b.is_ascii_digit())
        .expect("digits")
        + prev_at;
    // The xref section starts before its trailer, so rewriting /Prev moves nothing it points at.
    let new = own.to_string();
    looped.splice(prev_at..prev_end, new.into_bytes());
    let file = write_temp(ws.dir(), "xref-loop.pdf", &looped);
    let started = Instant::now();
    let report = check(&file, &trust.root, Some(trust.status_list()), None);
    assert!(started.elapsed() < Duration::from_secs(20));
    report.assert_verdict("MALFORMED");
}

/// The verifier's limits are explicit options (`verifier check --help`); set tight, each one
/// turns a good certificate into `MALFORMED` naming the limit, and the defaults accept it.
#[test]
fn each_limit_is_configurable_and_names_itself_when_exceeded() {
    let ws = Workspace::new();
    let issued = ws.issue(&fixture("chan-tai-man.json"));
    let trust = ws.export_trust();
    let status = Some(trust.status_list());
    check(&issued.pdf, &trust.root, status, None).assert_verdict("VALID");
    for (option, value, words) in [
        ("--max-file-bytes", "1000", &["byte", "size", "large"][..]),
        ("--max-nesting", "1", &["nest", "depth"]),
        ("--max-objects", "3", &["object", "entries", "xref"]),
        (
            "--max-decompressed-bytes",
            "100",
            &["decompress", "inflate"],
        ),
    ] {
        let report = check_with(&issued.pdf, &trust.root, status, None, &[option, value]);
        assert_eq!(report.verdict(), "MALFORMED", "{option} {value}:\n{report}");
        assert_eq!(report.code(), Some(1), "{option} {value}:\n{report}");
        let text = report.not_passed().join(" ").to_lowercase();
        assert!(
            words.iter().any(|w| text.contains(w)),
            "{option} {value}: the failure should name the limit ({words:?}): {text}"
        );
        eprintln!("{option} {value}: {text}");
    }
}
