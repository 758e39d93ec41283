//! Issue 12 must-show 2: three independent decoders read the token URL of every fixture's QR
//! code, from clean renders and from a simulated phone photo of the print.
//!
//! - `zbarimg` and zxing-cpp (PyPI `zxing-cpp`) read the 150 dpi and the 100 dpi render;
//! - OpenCV (PyPI `opencv-python-headless`, `QRCodeDetector`, else `QRCodeDetectorAruco`) reads
//!   the 300 dpi render;
//! - all three read a simulated phone photo: the QR region of the 300 dpi render rotated 3°, in
//!   perspective, blurred and saved as JPEG quality 40 (`tests/oracles/qr_decoders.py`).
//!
//! At 100 and 150 dpi every pixel of the symbol is black or white (its modules sit on whole
//! pixels). Every decoder must return exactly the URL the issuer encoded (`verify_url` + `#` + the
//! embedded token in decimal). The URL read from each photo verifies VALID with `verifier token`
//! against the running issuer and on the issuer's verification page in Chromium.
//!
//! Skipped (with a printed reason) when pdftoppm, zbarimg, the Python modules, node or Chromium
//! are missing, unless `CCR_REQUIRE_ORACLES=1`.

use std::path::Path;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ccr_tests::api::IssuerService;
use ccr_tests::tools::{python_qr_decoders, render_last_page, zbarimg};
use ccr_tests::{Report, fixture, verifier};
use serde_json::{Value, json};

const FIXTURES: [&str; 7] = [
    "chan-tai-man.json",
    "hkscs-name.json",
    "portuguese-name.json",
    "vietnamese-name.json",
    "with-records.json",
    "transfer-dsal.json",
    "longest-name.json",
];

/// The URL the issuer encoded in the QR code of `pdf`: its `verify_url`, `#`, and the embedded
/// token in decimal.
fn expected_url(svc: &IssuerService, pdf: &Path) -> (Vec<u8>, String) {
    let bytes = std::fs::read(pdf).expect("pdf");
    let token = ccr_pki::pades::inspect(&bytes, &ccr_pki::pdf::Limits::default())
        .expect("inspect")
        .token;
    let config = std::fs::read_to_string(svc.ws.home.join("issuer.toml")).expect("config");
    let verify_url = config
        .lines()
        .find_map(|l| l.strip_prefix("verify_url = "))
        .map(|v| v.trim().trim_matches('"').to_owned())
        .expect("verify_url in issuer.toml");
    let url = ccr_pki::token::to_url(&verify_url, &token);
    (token, url)
}

fn texts(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not a list of texts: {v}"))
        .iter()
        .map(|t| t.as_str().expect("text").to_owned())
        .collect()
}

#[test]
fn three_decoders_read_every_fixture_from_renders_and_a_phone_photo() {
    let svc = IssuerService::start(None, "", &[]);
    let trust = svc.ws.export_trust();
    let mut photo_urls = Vec::new();
    let mut rows = Vec::new();
    for request in FIXTURES {
        let issued = svc.ws.issue(&fixture(request));
        let (token, url) = expected_url(&svc, &issued.pdf);
        let dir = svc.ws.file(format!("qr-{request}"));
        std::fs::create_dir_all(&dir).expect("mkdir");
        let (Some(p150), Some(p100), Some(p300)) = (
            render_last_page(&issued.pdf, 150, &dir),
            render_last_page(&issued.pdf, 100, &dir),
            render_last_page(&issued.pdf, 300, &dir),
        ) else {
            return;
        };
        let photo = dir.join("photo.jpg");
        let Some(python) = python_qr_decoders(&p150, &p100, &p300, &photo) else {
            return;
        };
        let (Some(z150), Some(z100), Some(zphoto)) =
            (zbarimg(&p150), zbarimg(&p100), zbarimg(&photo))
        else {
            return;
        };
        let readings = [
            ("zbarimg 150 dpi", z150),
            ("zbarimg 100 dpi", z100),
            ("zxing-cpp 150 dpi", texts(&python["zxing_150"])),
            ("zxing-cpp 100 dpi", texts(&python["zxing_100"])),
            ("OpenCV 300 dpi", texts(&python["opencv_300"])),
            ("zbarimg photo", zphoto),
            ("zxing-cpp photo", texts(&python["zxing_photo"])),
            ("OpenCV photo", texts(&python["opencv_photo"])),
        ];
        // The modules sit on whole pixels of these renders: a symbol straddling pixels turned
        // grey at every module edge at 100 dpi, and zbarimg then missed some tokens.
        for grey in ["grey_100", "grey_150"] {
            assert_eq!(
                python[grey],
                json!(0),
                "{request}: {grey}: pixels of the symbol neither black nor white"
            );
        }
        for (decoder, read) in &readings {
            assert_eq!(
                read,
                std::slice::from_ref(&url),
                "{request}: {decoder} does not read exactly the token URL ({} bytes of token, \
                 photo {}); OpenCV detectors: {}",
                token.len(),
                photo.display(),
                python["opencv_detectors"]
            );
        }
        rows.push(format!(
            "| {request} | {} | {} | {} | {} |",
            token.len(),
            url.len(),
            ccr_pki::token::qr::version(&url).expect("version"),
            python["opencv_detectors"]
        ));
        photo_urls.push((request, token, url));
    }
    eprintln!(
        "| fixture | token bytes | URL chars | QR version (M) | OpenCV detector |\n|---|---|---|---|---|\n{}",
        rows.join("\n")
    );

    // The URL read from each photo verifies with the CLI, against the running issuer.
    let cache = svc.ws.file("token-cache");
    for (request, _, url) in &photo_urls {
        let report = Report::parse(verifier([
            "token".as_ref(),
            url.as_ref(),
            "--trust".as_ref(),
            trust.root.as_os_str(),
            "--issuer".as_ref(),
            svc.api.base.as_ref(),
            "--bundle".as_ref(),
            "online".as_ref(),
            "--status".as_ref(),
            "online".as_ref(),
            "--cache-dir".as_ref(),
            cache.as_os_str(),
            "--json".as_ref(),
        ]));
        assert_eq!(report.verdict(), "VALID", "{request}: {report}");
    }

    // And on the issuer's verification page in Chromium, opened at the URL the photo gave.
    let Some(browser) = ccr_tests::browser_driver("run.mjs") else {
        return;
    };
    let mut steps = Vec::new();
    for (_, _, url) in &photo_urls {
        steps.push(json!({ "open": url }));
        steps.push(json!({ "expect": "VALID", "fields": true }));
    }
    // run.mjs watches every request for the token (given in base64url, decimal derived).
    let forbid = URL_SAFE_NO_PAD.encode(&photo_urls[0].1);
    let scenario = json!({ "base": svc.api.base, "forbid": forbid, "steps": steps });
    let file = svc.ws.file("scenario-photos.json");
    std::fs::write(&file, serde_json::to_vec_pretty(&scenario).expect("json")).expect("write");
    let out = ccr_tests::run_with_timeout(
        std::process::Command::new(&browser.node)
            .arg(&browser.script)
            .arg(&file),
        Duration::from_secs(300),
    );
    let run: Value = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("run.mjs printed no JSON summary ({e}):\n{out}"));
    assert_eq!(run["ok"], json!(true), "the browser run failed:\n{out}");
    let verdicts: Vec<&str> = run["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| r["verdict"].as_str().unwrap_or("none"))
        .collect();
    assert_eq!(verdicts, vec!["VALID"; photo_urls.len()], "{out}");
}
