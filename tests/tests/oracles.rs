//! Issue 2 must-show 2: independent tools judge our certificates. Each test skips when its tool is
//! missing, unless `CCR_REQUIRE_ORACLES=1` (CI), which makes every one mandatory.

use std::path::Path;

use ccr_tests::tools::{
    self, bundle_certificate_pem, openssl_cms_verify, openssl_ts_verify, pdftotext,
    pyhanko_adesverify, pyhanko_validate, python_verify_cose, qpdf_check, read_qr, write_temp,
};
use ccr_tests::{Issued, Trust, Workspace, check, fixture, python_with, run, workspace_root};
use serde_json::Value;
use sha2::{Digest, Sha256};

const PUBLIC_URL: &str = "https://ccr-test.example.mo";

fn issued_and_trusted(request: &str) -> (Workspace, Issued, Trust) {
    let ws = Workspace::with_init_args(&["--public-url", PUBLIC_URL]);
    let issued = ws.issue(&fixture(request));
    let trust = ws.export_trust();
    (ws, issued, trust)
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

#[test]
fn pyhanko_validate_judges_the_pdf_intact_and_trusted_with_only_ltv_updates() {
    let (_ws, issued, trust) = issued_and_trusted("chan-tai-man.json");
    let Some(result) = pyhanko_validate(&issued.pdf, &trust.root) else {
        return;
    };
    eprintln!("pyhanko sign validate:\n{}", result.out);
    let fields = result.fields();
    assert!(
        result.is_good(),
        "pyHanko validate: {fields:?}\n{}",
        result.out
    );
    // B-LT: the DSS is an incremental update after the signature.
    assert!(
        fields.iter().any(|f| f == "EXTENDED_WITH_LTA_UPDATES"),
        "expected only LTV updates after the signature: {fields:?}"
    );
}

#[test]
fn pyhanko_adesverify_judges_the_pdf_intact_and_trusted_offline() {
    let (_ws, issued, trust) = issued_and_trusted("chan-tai-man.json");
    let Some(result) = pyhanko_adesverify(&issued.pdf, &trust.root) else {
        return;
    };
    eprintln!("pyhanko sign adesverify:\n{}", result.out);
    let fields = result.fields();
    assert!(
        result.is_good(),
        "pyHanko adesverify: {fields:?}\n{}",
        result.out
    );
}

#[test]
fn pdfsig_says_the_signature_is_valid_and_the_certificate_trusted() {
    let (ws, issued, trust) = issued_and_trusted("chan-tai-man.json");
    let Some(sig) = tools::pdfsig(&issued.pdf, &trust.root, ws.dir()) else {
        return;
    };
    eprintln!("pdfsig:\n{}", sig.out);
    assert_eq!(
        sig.signature_count(),
        1,
        "exactly one signature:\n{}",
        sig.out
    );
    assert_eq!(
        sig.signature_type().as_deref(),
        Some("ETSI.CAdES.detached"),
        "{}",
        sig.out
    );
    assert_eq!(
        sig.signature_validation().as_deref(),
        Some("Signature is Valid."),
        "{}",
        sig.out
    );
    assert_eq!(
        sig.certificate_validation().as_deref(),
        Some("Certificate is Trusted."),
        "{}",
        sig.out
    );
}

#[test]
fn qpdf_check_is_clean() {
    let (_ws, issued, _trust) = issued_and_trusted("chan-tai-man.json");
    let Some(out) = qpdf_check(&issued.pdf) else {
        return;
    };
    eprintln!("{out}");
    assert!(
        out.success(),
        "qpdf --check exit code (3 = warnings):\n{out}"
    );
    assert!(
        out.stdout
            .contains("No syntax or stream encoding errors found"),
        "{out}"
    );
    assert!(
        !out.all_output().to_lowercase().contains("warning"),
        "qpdf warnings:\n{out}"
    );
}

#[test]
fn the_signature_covers_the_whole_first_revision_and_openssl_cms_accepts_it() {
    let (ws, issued, trust) = issued_and_trusted("chan-tai-man.json");
    let bytes = read(&issued.pdf);
    let sig = ccr_tests::pdf::signature(&bytes);
    // Only the /Contents hex string is left out; the rest of the file after the signed revision
    // is the B-LT update.
    let [_, b, c, _] = sig.byte_range;
    assert_eq!(
        c - b,
        sig.contents_hex.len() + 2,
        "the ByteRange gap is exactly the /Contents string"
    );
    assert!(
        sig.signed_end() < bytes.len(),
        "B-LT: an update (the DSS) follows the signed revision"
    );
    let tail = &bytes[sig.signed_end()..];
    assert!(
        tail.windows(4).any(|w| w == b"/DSS"),
        "the update after the signature holds a /DSS"
    );

    let cms = write_temp(ws.dir(), "sig.der", &sig.cms);
    let signed = write_temp(ws.dir(), "signed.bin", &sig.signed_bytes(&bytes));
    let Some(out) = openssl_cms_verify(&cms, &signed, &trust.root) else {
        return;
    };
    eprintln!("{out}");
    assert!(out.success(), "openssl cms -verify:\n{out}");
    assert!(
        out.all_output().contains("Verification successful"),
        "{out}"
    );

    // The same CMS against other content must fail (openssl really checked the digest).
    let mut other = sig.signed_bytes(&bytes);
    other[10] ^= 1;
    let other = write_temp(ws.dir(), "other.bin", &other);
    let Some(bad) = openssl_cms_verify(&cms, &other, &trust.root) else {
        return;
    };
    assert!(
        !bad.success() && !bad.all_output().contains("Verification successful"),
        "{bad}"
    );
}

#[test]
fn openssl_ts_accepts_the_signature_timestamp_token() {
    let (ws, issued, trust) = issued_and_trusted("chan-tai-man.json");
    let bytes = read(&issued.pdf);
    let sig = ccr_tests::pdf::signature(&bytes);
    let digest = Sha256::digest(sig.signed_bytes(&bytes));
    let verified = ccr_pki::cades::verify(
        &sig.cms,
        ccr_pki::cades::Expect::Pades {
            content_digest: &digest,
        },
    )
    .unwrap_or_else(|e| panic!("the CMS does not verify: {e}"));
    let tst = verified
        .timestamp_token
        .expect("B-T: the CMS carries a signature time-stamp token");
    let tst = write_temp(ws.dir(), "tst.der", &tst);
    let sigvalue = write_temp(ws.dir(), "sigvalue.bin", &verified.signature_value);
    let Some(out) = openssl_ts_verify(&tst, &sigvalue, &trust.root, &trust.bundle) else {
        return;
    };
    eprintln!("{out}");
    assert!(out.success(), "openssl ts -verify:\n{out}");
    assert!(out.all_output().contains("Verification: OK"), "{out}");

    // Over other data it must fail.
    let mut other_value = verified.signature_value.clone();
    other_value[0] ^= 1;
    let other = write_temp(ws.dir(), "othervalue.bin", &other_value);
    let Some(bad) = openssl_ts_verify(&tst, &other, &trust.root, &trust.bundle) else {
        return;
    };
    assert!(!bad.all_output().contains("Verification: OK"), "{bad}");
}

#[test]
fn pdftotext_returns_the_holders_names_exactly() {
    let ws = Workspace::new();
    for (request, names) in [
        ("hkscs-name.json", &["陳𨋢文", "CHAN KEI MAN"][..]),
        ("portuguese-name.json", &["JOÃO CONCEIÇÃO GONÇALVES"]),
        ("vietnamese-name.json", &["NGUYỄN THỊ MINH KHAI"]),
        ("chan-tai-man.json", &["陳大文", "CHAN TAI MAN"]),
        ("transfer-dsal.json", &["李嘉慧", "LEI KA WAI"]),
        (
            "longest-name.json",
            &[
                "歐陽嘉慧美玲",
                "MARIA DA CONCEIÇÃO D'ALMEIDA-FERREIRA DOS SANTOS SOUSA LEITE",
            ],
        ),
    ] {
        let issued = ws.issue(&fixture(request));
        let Some(out) = pdftotext(&issued.pdf) else {
            return;
        };
        out.assert_success();
        // A name on two lines (SPEC §3: broken only at a space) comes back with a line break
        // where the space was; nothing else is changed.
        let text = out.stdout.replace('\n', " ");
        for name in names {
            assert!(
                text.contains(name),
                "{request}: pdftotext does not return {name:?}:\n{}",
                out.stdout
            );
        }
        assert!(
            out.stdout.contains(&issued.number),
            "{request}: the certificate number is not in the text"
        );
    }
}

/// SPEC §3: every certificate, the longest realistic one included (a 60-character Latin name,
/// 6 Chinese characters, a transfer copy), is at most 64 KiB signed (B-T + B-LT); and the
/// longest one is still accepted by pyHanko and pdfsig.
#[test]
fn every_certificate_is_within_64_kib_and_the_longest_is_accepted_by_pyhanko_and_pdfsig() {
    let ws = Workspace::with_init_args(&["--public-url", PUBLIC_URL]);
    let mut sizes = Vec::new();
    let mut longest = None;
    for request in [
        "chan-tai-man.json",
        "hkscs-name.json",
        "portuguese-name.json",
        "vietnamese-name.json",
        "with-records.json",
        "transfer-dsal.json",
        "longest-name.json",
    ] {
        let issued = ws.issue(&fixture(request));
        let size = read(&issued.pdf).len();
        sizes.push(format!("{request}: {size} B"));
        assert!(size <= 65_536, "{request}: {size} B > 64 KiB");
        if request == "longest-name.json" {
            longest = Some(issued);
        }
    }
    eprintln!("{}", sizes.join("\n"));
    let longest = longest.expect("issued");
    let trust = ws.export_trust();
    let Some(result) = pyhanko_validate(&longest.pdf, &trust.root) else {
        return;
    };
    assert!(result.is_good(), "pyHanko validate:\n{}", result.out);
    let Some(sig) = tools::pdfsig(&longest.pdf, &trust.root, ws.dir()) else {
        return;
    };
    assert_eq!(
        sig.signature_validation().as_deref(),
        Some("Signature is Valid."),
        "{}",
        sig.out
    );
    assert_eq!(
        sig.certificate_validation().as_deref(),
        Some("Certificate is Trusted."),
        "{}",
        sig.out
    );
}

#[test]
fn pdftotext_shows_records_and_the_receiving_department() {
    let ws = Workspace::new();
    let records = ws.issue(&fixture("with-records.json"));
    let Some(out) = pdftotext(&records.pdf) else {
        return;
    };
    for needle in ["CR1-18-0123-PCC", "456/2019"] {
        assert!(
            out.stdout.contains(needle),
            "record entry {needle:?} is not printed:\n{}",
            out.stdout
        );
    }
    let nothing = ws.issue(&fixture("chan-tai-man.json"));
    let Some(out) = pdftotext(&nothing.pdf) else {
        return;
    };
    for statement in ["沒有刑事紀錄", "Nada consta", "No criminal record"] {
        assert!(
            out.stdout.contains(statement),
            "the nothing-on-record statement {statement:?} is missing:\n{}",
            out.stdout
        );
    }
    let transfer = ws.issue(&fixture("transfer-dsal.json"));
    let Some(out) = pdftotext(&transfer.pdf) else {
        return;
    };
    assert!(
        [
            "DSAL",
            "勞工事務局",
            "Labour Affairs",
            "Direcção dos Serviços para os Assuntos Laborais"
        ]
        .iter()
        .any(|n| out.stdout.contains(n)),
        "the transfer copy does not name the receiving department:\n{}",
        out.stdout
    );
}

/// The raw claims (integer labels as strings) of a token verified by the Python oracle.
fn verified_claims(ws: &Workspace, url: &str, trust: &Trust) -> Option<Value> {
    let token_file = write_temp(ws.dir(), "token-url.txt", url.as_bytes());
    let cert = write_temp(
        ws.dir(),
        "token-signer.pem",
        bundle_certificate_pem(&trust.bundle, "Token").as_bytes(),
    );
    let out = python_verify_cose(&token_file, &cert)?;
    eprintln!("{out}");
    assert!(
        out.success(),
        "the Python COSE oracle rejects the token:\n{out}"
    );
    Some(
        serde_json::from_str(&out.stdout)
            .unwrap_or_else(|e| panic!("oracle output is not JSON ({e}):\n{out}")),
    )
}

fn all_strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|i| all_strings(i, out)),
        Value::Object(map) => map.values().for_each(|i| all_strings(i, out)),
        _ => {}
    }
}

#[test]
fn the_qr_code_carries_a_token_that_python_verifies_with_the_token_signing_key() {
    let (ws, issued, trust) = issued_and_trusted("chan-tai-man.json");
    let Some((_render, scan)) = read_qr(&issued.pdf, ws.dir()) else {
        return;
    };
    eprintln!("{scan}");
    assert!(scan.success(), "zbarimg found no QR code:\n{scan}");
    let lines: Vec<&str> = scan
        .stdout
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(lines.len(), 1, "exactly one QR code on the page: {lines:?}");
    let url = lines[0];
    let (base, fragment) = url
        .split_once('#')
        .unwrap_or_else(|| panic!("the QR URL has no #fragment: {url}"));
    assert!(
        base.starts_with("http://") || base.starts_with("https://"),
        "the QR holds a URL: {url}"
    );
    eprintln!("QR URL base: {base} ({} characters in all)", url.len());
    assert!(
        !fragment.is_empty() && fragment.bytes().all(|b| b.is_ascii_digit()),
        "the fragment is the token in decimal digits (SPEC §4): {fragment}"
    );
    let Some(claims) = verified_claims(&ws, url, &trust) else {
        return;
    };
    let mut strings = Vec::new();
    all_strings(&claims, &mut strings);
    assert!(
        strings.contains(&issued.number),
        "the token does not carry the certificate number: {claims}"
    );
    assert!(
        strings.iter().any(|s| s == "CHAN TAI MAN"),
        "the token does not carry the Latin name: {claims}"
    );
    let status_prefix = format!("{PUBLIC_URL}/status/");
    assert!(
        strings.iter().any(|s| s.starts_with(&status_prefix)),
        "the token's status reference is not under {status_prefix}: {claims}"
    );

    // The same token is also what the verifier reads from the PDF: the report names this number.
    let report = check(&issued.pdf, &trust.root, Some(trust.status_list()), None);
    report.assert_verdict("VALID");

    // The token with one byte changed no longer verifies.
    let token = ccr_pki::token::from_url_or_text(fragment).expect("a decimal token fragment");
    let mut forged = token.clone();
    let last = forged.len() - 1;
    forged[last] ^= 1;
    let forged_file = write_temp(ws.dir(), "forged.cose", &forged);
    let cert = write_temp(
        ws.dir(),
        "token-signer.pem",
        bundle_certificate_pem(&trust.bundle, "Token").as_bytes(),
    );
    let Some(bad) = python_verify_cose(&forged_file, &cert) else {
        return;
    };
    assert!(
        !bad.success(),
        "the Python oracle accepts a forged token:\n{bad}"
    );
}

#[test]
fn the_status_list_read_by_python_flips_to_revoked() {
    let (ws, issued, trust) = issued_and_trusted("chan-tai-man.json");
    let Some((_render, scan)) = read_qr(&issued.pdf, ws.dir()) else {
        return;
    };
    scan.assert_success();
    let url = scan.stdout.trim().to_owned();
    let Some(claims) = verified_claims(&ws, &url, &trust) else {
        return;
    };
    let status = &claims["65535"]["status_list"];
    let idx = status["idx"]
        .as_u64()
        .unwrap_or_else(|| panic!("no status_list idx (claim 65535) in the token: {claims}"));
    let uri = status["uri"].as_str().expect("status_list uri");
    assert!(
        uri.starts_with(&format!("{PUBLIC_URL}/status/")),
        "status uri {uri}"
    );

    let Some(python) = python_with(&["cbor2"]) else {
        return;
    };
    let script = workspace_root().join("tests/oracles/status_bits.py");
    assert!(script.is_file(), "tests/oracles/status_bits.py is missing");
    let bits = |t: &Trust| -> Value {
        let out = run(std::process::Command::new(&python)
            .arg(&script)
            .arg(t.status_list())
            .arg(idx.to_string()));
        out.assert_success();
        serde_json::from_str(&out.stdout)
            .unwrap_or_else(|e| panic!("status_bits output ({e}):\n{out}"))
    };
    let before = bits(&trust);
    eprintln!("status list before: {before}");
    assert_eq!(
        before["uri"].as_str(),
        Some(uri),
        "the list is the one the token names"
    );
    assert_eq!(before["bits"], 2, "2 bits per certificate");
    assert!(
        before["len"].as_u64().unwrap_or(0) >= 131_072,
        "at least 131,072 entries"
    );
    assert_eq!(
        before["statuses"][idx.to_string()],
        0,
        "VALID before revocation"
    );

    // The status list is signed by the token-signing certificate.
    let cert = write_temp(
        ws.dir(),
        "token-signer.pem",
        bundle_certificate_pem(&trust.bundle, "Token").as_bytes(),
    );
    let Some(sig) = python_verify_cose(trust.status_list(), &cert) else {
        return;
    };
    assert!(
        sig.success(),
        "the status list's signature does not verify:\n{sig}"
    );

    ws.revoke(&issued.number, "test");
    let after_trust = ws.export_trust();
    let after = bits(&after_trust);
    eprintln!("status list after: {after}");
    assert_eq!(
        after["statuses"][idx.to_string()],
        1,
        "REVOKED (1) after revocation"
    );
}

/// SPEC §4: the QR code of a typical certificate is at version 12-M or lower (two segments:
/// the URL prefix in byte mode, the decimal token in numeric mode). The URL is read back from
/// the rendered page by zbarimg; prints the table fixture / token bytes / URL chars / version.
#[test]
fn the_token_url_fits_a_version_12_m_qr_code() {
    let ws = Workspace::new();
    let mut rows = Vec::new();
    for (request, budget) in [
        ("chan-tai-man.json", 12),
        ("hkscs-name.json", 12),
        ("vietnamese-name.json", 12),
        ("with-records.json", 12),
        ("portuguese-name.json", 13),
        ("transfer-dsal.json", 13),
        // SPEC §4: the longest realistic one (60-character Latin name, 6 Chinese characters,
        // a transfer copy) at version 14 or lower.
        ("longest-name.json", 14),
    ] {
        let issued = ws.issue(&fixture(request));
        let Some((_render, scan)) = read_qr(&issued.pdf, ws.dir()) else {
            return;
        };
        scan.assert_success();
        let url = scan.stdout.trim();
        let token = ccr_pki::token::from_url_or_text(url).expect("the QR holds a token URL");
        let version = ccr_pki::token::qr::version(url).expect("fits a QR code");
        rows.push(format!(
            "| {request} | {} | {} | {version}-M |",
            token.len(),
            url.len()
        ));
        assert!(
            version <= budget,
            "{request}: token of {} bytes, URL of {} characters: QR version {version}-M > {budget}-M\n{url}",
            token.len(),
            url.len()
        );
    }
    eprintln!(
        "| fixture | token bytes | URL chars | QR version |\n|---|---|---|---|\n{}",
        rows.join("\n")
    );
}

/// SPEC §3: A4, one page unless records need more, fonts embedded and subset with a ToUnicode
/// map (`pdffonts`: emb/sub/uni all "yes"), PDF/A-2b identification in the XMP (`pdfinfo -meta`).
#[test]
fn poppler_sees_a4_pages_embedded_subset_fonts_and_pdfa_2b() {
    let ws = Workspace::new();
    for request in [
        "chan-tai-man.json",
        "hkscs-name.json",
        "portuguese-name.json",
        "vietnamese-name.json",
        "with-records.json",
    ] {
        let issued = ws.issue(&fixture(request));
        let (Some(pdffonts), Some(pdfinfo)) =
            (ccr_tests::oracle("pdffonts"), ccr_tests::oracle("pdfinfo"))
        else {
            return;
        };
        let fonts = run(std::process::Command::new(pdffonts).arg(&issued.pdf));
        fonts.assert_success();
        let rows: Vec<&str> = fonts
            .stdout
            .lines()
            .skip(2)
            .filter(|l| !l.trim().is_empty())
            .collect();
        assert!(!rows.is_empty(), "{request}: no fonts:\n{fonts}");
        for row in rows {
            let cols: Vec<&str> = row.split_whitespace().collect();
            assert!(
                cols.len() >= 6,
                "{request}: unexpected pdffonts row {row:?}"
            );
            let flags = &cols[cols.len() - 5..cols.len() - 2];
            assert_eq!(
                flags,
                ["yes", "yes", "yes"],
                "{request}: font not embedded/subset/unicode: {row:?}"
            );
        }

        let info = run(std::process::Command::new(&pdfinfo).arg(&issued.pdf));
        info.assert_success();
        let field = |name: &str| {
            info.stdout
                .lines()
                .find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_owned()))
                .unwrap_or_else(|| panic!("{request}: pdfinfo has no {name}:\n{info}"))
        };
        assert!(
            field("Page size:").contains("(A4)"),
            "{request}: not A4:\n{info}"
        );
        let pages: u32 = field("Pages:").parse().expect("page count");
        if request == "with-records.json" {
            assert!(pages >= 1, "{request}: {pages} pages");
        } else {
            assert_eq!(
                pages, 1,
                "{request}: one page when nothing is on record:\n{info}"
            );
        }

        let meta = run(std::process::Command::new(&pdfinfo)
            .arg("-meta")
            .arg(&issued.pdf));
        meta.assert_success();
        let xmp = meta.stdout.replace(['"', '\''], "");
        assert!(
            (xmp.contains("<pdfaid:part>2</pdfaid:part>") || xmp.contains("pdfaid:part=2"))
                && (xmp.contains("<pdfaid:conformance>B</pdfaid:conformance>")
                    || xmp.contains("pdfaid:conformance=B")),
            "{request}: no PDF/A-2b identification in the XMP:\n{}",
            meta.stdout
        );
    }
}
