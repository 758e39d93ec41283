//! A new applicant's journey through the portal in headless Chromium at 360×740 (issue 10,
//! must-show 1–3): from the start page through the four steps (the code read from the
//! development outbox, a photo for the face check, the sandbox payment) to the confirmation;
//! after approval (through the API) the applicant downloads the PDF, which `verifier check
//! --status online` calls VALID. Once in each language and once with JavaScript off; every
//! page is checked by axe-core (WCAG 2.0/2.1/2.2 A and AA) and for sideways scrolling.
//! Screenshots of the journey (zh, pt, en) go to `docs/portal/`. Skipped (with a printed
//! reason) without node, the npm packages or Chromium, unless `CCR_REQUIRE_ORACLES=1`.

#![recursion_limit = "512"]

use std::time::Duration;

use base64::Engine as _;
use ccr_tests::api::{FACE_JPEG_BASE64, IssuerService};
use serde_json::{Value, json};

/// Runs a scenario through `tests/browser/portal.mjs`; `None` when the browser is missing
/// (the skip is printed by `browser_driver`).
fn run(scenario: &Value, svc: &IssuerService, name: &str) -> Option<Value> {
    let driver = ccr_tests::browser_driver("portal.mjs")?;
    let file = svc.ws.file(format!("{name}.json"));
    std::fs::write(&file, serde_json::to_vec(scenario).expect("json")).expect("write");
    let out = ccr_tests::run_with_timeout(
        std::process::Command::new(&driver.node)
            .arg(&driver.script)
            .arg(&file),
        Duration::from_secs(600),
    );
    Some(
        serde_json::from_str(&out.stdout)
            .unwrap_or_else(|_| panic!("portal.mjs said:\n{}\n{}", out.stdout, out.stderr)),
    )
}

/// Asserts a driver report: no failure, axe ran where JavaScript is on and found nothing,
/// no sideways scrolling, the page in the expected language (`lang_tag`, or the tag after
/// `@` at the end of a check's label).
fn assert_clean(report: &Value, lang_tag: &str, javascript: bool) {
    assert_eq!(report["ok"], true, "{report:#}");
    let checks = report["checks"].as_array().expect("checks");
    assert!(!checks.is_empty(), "{report:#}");
    for check in checks {
        let label = check["label"].as_str().unwrap_or_default();
        assert_eq!(check["violations"], json!([]), "{label}: {check:#}");
        assert_eq!(check["axe"], javascript, "{label}: axe ran");
        assert!(
            check["overflow"].as_i64().is_some_and(|o| o <= 0),
            "{label}: {check:#}"
        );
        let expected = label.rsplit_once('@').map_or(lang_tag, |(_, tag)| tag);
        assert_eq!(check["lang"], expected, "{label}: {check:#}");
    }
}

/// Where the screenshots of the journey go (committed: the README shows them).
fn screenshot(code: &str, n: u8, page: &str) -> String {
    let dir = ccr_tests::workspace_root().join("docs").join("portal");
    std::fs::create_dir_all(&dir).expect("docs/portal");
    dir.join(format!("{code}-{n:02}-{page}.png"))
        .to_string_lossy()
        .into_owned()
}

/// The steps from the start page to the confirmation, for the applicant `subject`.
fn journey_steps(
    code: &str,
    subject: &str,
    mobile_local: &str,
    security: &str,
    face: &str,
    shots: bool,
) -> Vec<Value> {
    let shot =
        |n: u8, page: &str| shots.then(|| json!({ "screenshot": screenshot(code, n, page) }));
    let outbox = format!("/api/v1/dev/outbox?recipient=%2B853{mobile_local}");
    let language_radio = match code {
        "zh" => "#language",
        "pt" => "#language-2",
        _ => "#language-3",
    };
    let mut steps = vec![
        Some(json!({ "open": format!("/?lang={code}") })),
        Some(json!({ "check": "start" })),
        shot(1, "start"),
        Some(json!({ "click": "a.button--start" })),
        Some(json!({ "expect_url": "/sign-in" })),
        Some(json!({ "check": "sign-in" })),
        Some(json!({ "fill": "#subject", "value": subject })),
        Some(json!({ "click": "main form button.button" })),
        Some(json!({ "expect_url": "/apply" })),
        Some(json!({ "check": "step 1" })),
        shot(2, "step-1"),
        // Submitting nothing shows the error summary.
        Some(json!({ "click": "#select-form button.button" })),
        Some(json!({ "expect_text": lang_error_prefix(code) })),
        Some(json!({ "check": "step 1 errors" })),
        Some(json!({ "choose": "#usage" })),
        Some(json!({ "choose": "#format" })),
        Some(json!({ "fill": "#quantity", "value": "1" })),
        Some(json!({ "choose": "#express" })),
        Some(json!({ "choose": "#transfer_to" })),
        Some(json!({ "click": "#select-form button.button" })),
        Some(json!({ "expect_url": "/confirm" })),
        Some(json!({ "check": "step 2" })),
        Some(json!({ "fill": "#name_latin", "value": "CHAN TAI MAN" })),
        Some(json!({ "fill": "#date_of_birth", "value": "1990-03-27" })),
        Some(json!({ "choose": "#doc_type" })),
        Some(json!({ "fill": "#doc_number", "value": "5215299(8)" })),
        Some(json!({ "choose": language_radio })),
        Some(
            json!({ "fill": "#mobile", "value": format!("{} {}", &mobile_local[..4], &mobile_local[4..]) }),
        ),
        Some(json!({ "choose": "#consent" })),
        shot(3, "step-2"),
        Some(json!({ "click": "#confirm-form button.button" })),
        Some(json!({ "expect_url": "/code" })),
        Some(json!({ "check": "step 3 code" })),
        Some(json!({ "click": "form[action*='/code/send'] button" })),
        Some(json!({ "expect_url": "sent=1" })),
        Some(json!({ "fill_code": "#code", "outbox": outbox, "bearer": security })),
        shot(4, "step-3-code"),
        Some(json!({ "click": "form[action*='/code?lang'] button" })),
        Some(json!({ "expect_url": "/face" })),
        Some(json!({ "check": "step 3 face" })),
        Some(json!({ "upload": "#photo", "file": face })),
        Some(json!({ "click": "form[action*='/face'] button" })),
        Some(json!({ "expect_url": "/check" })),
        Some(json!({ "check": "step 4 check answers" })),
        shot(5, "step-4-check"),
        Some(json!({ "click": "form[action*='/pay'] button" })),
        Some(json!({ "expect_url": "/sandbox/pay/" })),
        Some(json!({ "check": "sandbox gateway" })),
        shot(6, "sandbox-gateway"),
        Some(json!({ "click": "form[action*='/sandbox/pay/'] button" })),
        Some(json!({ "expect_url": "/submitted" })),
        Some(json!({ "expect_text": "A-" })),
        Some(json!({ "check": "confirmation" })),
        shot(7, "confirmation"),
        Some(json!({ "click": "a[href*='/receipt']" })),
        Some(json!({ "expect_url": "/receipt" })),
        Some(json!({ "check": "receipt" })),
    ];
    steps.retain(Option::is_some);
    steps.into_iter().flatten().collect()
}

/// "Error:" as the page's language writes it (the error summary's title is prefixed).
fn lang_error_prefix(code: &str) -> &'static str {
    match code {
        "zh" => "出現問題",
        "pt" => "Há um problema",
        _ => "There is a problem",
    }
}

/// The applicant's one application over the API (the same development account).
fn application_of(svc: &IssuerService, subject: &str) -> (String, String) {
    let token = svc.applicant_token(subject);
    let list = svc.api.get("/api/v1/applications", Some(&token));
    list.expect(200);
    let apps = list.json();
    let apps = apps.as_array().expect("list");
    assert_eq!(apps.len(), 1, "one application for {subject}: {apps:?}");
    let id = apps[0]["id"].as_str().expect("id").to_owned();
    (token, id)
}

#[test]
fn a_new_applicant_applies_pays_and_downloads_a_valid_certificate_in_each_language() {
    let svc = IssuerService::start(None, "", &[]);
    let security = svc.staff_token(ccr_tests::api::SECURITY);
    let (face, _, _) = upload_files(&svc);
    let cases = [
        ("zh", "zh-TW", "zh-Hant-MO", true, "61230001"),
        ("pt", "pt-PT", "pt-MO", true, "61230002"),
        ("en", "en-GB", "en", true, "61230003"),
        ("en", "en-GB", "en", false, "61230004"),
    ];
    let trust = svc.ws.export_trust();
    for (code, locale, tag, javascript, mobile) in cases {
        let subject = format!("MO-journey-{code}-{javascript}");
        let shots = javascript;
        let steps = journey_steps(code, &subject, mobile, &security, &face, shots);
        // The run without JavaScript is also the narrowest phone: 320 CSS px.
        let width = if javascript { 360 } else { 320 };
        let scenario = json!({ "base": svc.api.base, "runs": [{
            "lang": locale, "javascript": javascript,
            "viewport": { "width": width, "height": 740 }, "steps": steps,
        }] });
        let Some(report) = run(&scenario, &svc, &format!("journey-{code}-{javascript}")) else {
            return;
        };
        assert_clean(&report, tag, javascript);

        // The bureau approves (through the API), and the certificate is issued.
        let (token, id) = application_of(&svc, &subject);
        svc.forward(&id);
        svc.decide(&id, &json!({ "approve": true })).expect(200);
        let pdf_over_api = svc.issued_pdf(&token, &id);
        assert!(pdf_over_api.starts_with(b"%PDF-"));

        // The applicant downloads it from the portal.
        let download = svc.ws.file(format!("download-{code}-{javascript}.pdf"));
        let steps = vec![
            json!({ "open": format!("/applications?lang={code}") }),
            json!({ "fill": "#subject", "value": subject }),
            json!({ "click": "main form button.button" }),
            json!({ "check": "your applications" }),
            json!({ "click": format!("a[href^='/applications/{id}']") }),
            json!({ "expect_url": format!("/applications/{id}") }),
            json!({ "check": "application progress" }),
            json!({ "download": "a[href^='/download/']", "save": download.to_string_lossy() }),
        ];
        let scenario = json!({ "base": svc.api.base, "runs": [{
            "lang": locale, "javascript": javascript,
            "viewport": { "width": 360, "height": 740 }, "steps": steps,
        }] });
        let report = run(&scenario, &svc, &format!("download-{code}-{javascript}"))
            .expect("the browser ran once already");
        assert_clean(&report, tag, javascript);
        let downloaded = std::fs::read(&download).expect("downloaded PDF");
        assert_eq!(downloaded, pdf_over_api, "the portal serves the issued PDF");
        let out = ccr_tests::check_online_out(
            &download,
            &trust.root,
            &svc.ws.file(format!("cache-{code}-{javascript}")),
            None,
        );
        let report = ccr_tests::Report::parse(out);
        report.assert_verdict("VALID");
    }
}

/// Writes the files the error-state runs upload: the face photo, a text file posing as a
/// photo, and a one-page PDF for exemption documents.
fn upload_files(svc: &IssuerService) -> (String, String, String) {
    let face = svc.ws.file("face.jpg");
    std::fs::write(
        &face,
        base64::engine::general_purpose::STANDARD
            .decode(FACE_JPEG_BASE64)
            .expect("jpeg"),
    )
    .expect("write face");
    let text = svc.ws.file("not-a-photo.txt");
    std::fs::write(&text, b"not a photo").expect("write text");
    let pdf = svc.ws.file("form.pdf");
    std::fs::write(
        &pdf,
        ccr_tests::pdf::one_page(b"BT /F1 12 Tf 72 720 Td (form) Tj ET", false),
    )
    .expect("write pdf");
    let path = |p: std::path::PathBuf| p.to_string_lossy().into_owned();
    (path(face), path(text), path(pdf))
}

/// Every step's page and its error states pass axe in each language: step 1 and 2 errors, a
/// language change in the middle of step 2 that keeps what was typed, the counter page of a
/// first-time non-resident worker, a wrong code, "not received", a file that is not a photo,
/// the exemption route with its errors and documents, the exemption confirmation, the list
/// and the progress page.
#[test]
fn every_step_and_its_error_states_pass_axe_in_every_language() {
    let svc = IssuerService::start(None, "", &[]);
    let security = svc.staff_token(ccr_tests::api::SECURITY);
    let (face, text, pdf) = upload_files(&svc);
    // (language, locale, tag, the language switched to, its tag, mobile, viewport width):
    // Portuguese, the longest text, on the narrowest phone.
    let cases = [
        ("zh", "zh-TW", "zh-Hant-MO", "pt", "pt-MO", "61240001", 360),
        ("pt", "pt-PT", "pt-MO", "en", "en", "61240002", 320),
        ("en", "en-GB", "en", "zh", "zh-Hant-MO", "61240003", 360),
    ];
    let mut runs = Vec::new();
    for (code, locale, _, other, other_tag, mobile, width) in cases {
        let outbox = format!("/api/v1/dev/outbox?recipient=%2B853{mobile}");
        runs.push(json!({ "lang": locale, "viewport": { "width": width, "height": 740 }, "steps": [
            { "open": format!("/apply?lang={code}") },
            { "fill": "#subject", "value": format!("MO-errors-{code}") },
            { "click": "main form button.button" },
            { "choose": "#usage" }, { "choose": "#format" }, { "choose": "#express" },
            { "click": "#select-form button.button" },
            { "expect_url": "/confirm" },
            { "click": "#confirm-form button.button" },
            { "expect_text": lang_error_prefix(code) },
            { "check": "step 2 errors" },
            { "fill": "#name_latin", "value": "LEI KA WAI" },
            { "fill": "#mobile", "value": format!("{}-{}", &mobile[..4], &mobile[4..]) },
            { "click": format!("button[name=switch_lang][value={other}]") },
            { "expect_value": "#name_latin", "value": "LEI KA WAI" },
            { "expect_value": "#mobile", "value": format!("{}-{}", &mobile[..4], &mobile[4..]) },
            { "check": format!("step 2 after switching language @{other_tag}") },
            { "click": format!("button[name=switch_lang][value={code}]") },
            { "expect_value": "#name_latin", "value": "LEI KA WAI" },
            { "fill": "#date_of_birth", "value": "1985-11-02" },
            { "choose": "#doc_type-2" },
            { "fill": "#doc_number", "value": "9123456(7)" },
            { "choose": "#consent" },
            { "click": "#confirm-form button.button" },
            { "check": "counter page (first-time non-resident worker)" },
            { "reopen": true },
            // Nothing was saved: the details are typed again, with a resident's card.
            { "fill": "#name_latin", "value": "LEI KA WAI" },
            { "fill": "#date_of_birth", "value": "1985-11-02" },
            { "fill": "#mobile", "value": format!("{}-{}", &mobile[..4], &mobile[4..]) },
            { "choose": "#doc_type" },
            { "fill": "#doc_number", "value": "5215299(8)" },
            { "choose": "#consent" },
            { "click": "#confirm-form button.button" },
            { "expect_url": "/code" },
            { "fill": "#code", "value": "12345" },
            { "click": "form[action*='/code?lang'] button" },
            { "check": "code format error" },
            { "fill": "#code", "value": "123456" },
            { "click": "form[action*='/code?lang'] button" },
            { "check": "code not sent yet" },
            { "click": "a[href*='/code/help']" },
            { "check": "not received" },
            { "click": "form[action*='/code/send'] button" },
            { "expect_url": "sent=1" },
            { "fill_code": "#code", "outbox": outbox, "bearer": security },
            { "click": "form[action*='/code?lang'] button" },
            { "expect_url": "/face" },
            { "click": "form[action*='/face'] button" },
            { "check": "face without a photo" },
            { "upload": "#photo", "file": text },
            { "click": "form[action*='/face'] button" },
            { "check": "face with a file that is not a photo" },
            { "upload": "#photo", "file": face },
            { "click": "form[action*='/face'] button" },
            { "expect_url": "/check" },
            { "click": "a[href*='/exemption']" },
            { "check": "exemption" },
            { "click": "main form button.button" },
            { "check": "exemption without a reason" },
            { "choose": "#kind-2" },
            { "click": "main form button.button" },
            { "expect_url": "/exemption/POVERTY" },
            { "check": "exemption documents" },
            { "click": "main form button.button" },
            { "check": "exemption documents missing" },
            { "upload": "#EXEMPTION_FORM", "file": pdf },
            { "upload": "#IAS_BENEFICIARY_CARD", "file": pdf },
            { "click": "main form button.button" },
            { "expect_url": "/submitted" },
            { "check": "exemption requested" },
            { "open": "/applications" },
            { "check": "your applications" },
            { "click": "td a" },
            { "check": "application progress" },
        ]}));
    }
    let Some(report) = run(
        &json!({ "base": svc.api.base, "runs": runs }),
        &svc,
        "errors",
    ) else {
        return;
    };
    assert_eq!(report["ok"], true, "{report:#}");
    let checks = report["checks"].as_array().expect("checks");
    assert_eq!(checks.len(), 3 * 15, "{report:#}");
    for (i, (_, _, tag, _, _, _, _)) in cases.into_iter().enumerate() {
        let mine = json!({ "ok": true, "checks": checks
            .iter()
            .filter(|c| c["run"] == i)
            .cloned()
            .collect::<Vec<_>>() });
        assert_clean(&mine, tag, true);
    }
    for check in checks {
        let label = check["label"].as_str().unwrap_or_default();
        let title = check["title"].as_str().unwrap_or_default();
        let is_error = label.contains("error")
            || label.contains("without")
            || label.contains("missing")
            || label.contains("not a photo")
            || label.contains("not sent");
        assert_eq!(
            ["錯誤", "Erro", "Error"]
                .iter()
                .any(|p| title.starts_with(p)),
            is_error,
            "{label}: {title}"
        );
    }
}

/// A keyboard-only run (Tab, Shift+Tab, Enter, Space and typing) completes steps 1 to 3.
#[test]
fn a_keyboard_only_applicant_completes_steps_one_to_three() {
    let svc = IssuerService::start(None, "", &[]);
    let security = svc.staff_token(ccr_tests::api::SECURITY);
    let (face, _, _) = upload_files(&svc);
    let steps = json!([
        { "open": "/apply?lang=en" },
        { "tab_to": "#subject" }, { "type": "MO-keyboard" }, { "press": "Enter" },
        { "expect_url": "/apply" },
        { "tab_to": "#usage" }, { "press": "Space" },
        { "tab_to": "#format" }, { "press": "Space" },
        { "tab_to": "#quantity" }, { "press": "Shift+Tab" }, { "press": "Tab" },
        { "expect_focus": "#quantity" },
        { "tab_to": "#express" }, { "press": "Space" },
        { "tab_to": "#transfer_to" }, { "press": "Space" },
        { "tab_to": "#select-form button.button" }, { "press": "Enter" },
        { "expect_url": "/confirm" },
        { "tab_to": "#name_latin" }, { "type": "WONG SIU MING" },
        { "tab_to": "#date_of_birth" }, { "type": "1978-06-30" },
        { "tab_to": "#doc_type" }, { "press": "Space" },
        { "tab_to": "#doc_number" }, { "type": "5215299(8)" },
        { "tab_to": "input[name=language]:checked" },
        { "tab_to": "#mobile" }, { "type": "6125 0001" },
        { "tab_to": "#consent" }, { "press": "Space" },
        { "tab_to": "#confirm-form button.button" }, { "press": "Enter" },
        { "expect_url": "/code" },
        { "tab_to": "form[action*='/code/send'] button" }, { "press": "Enter" },
        { "expect_url": "sent=1" },
        { "tab_to": "#code" },
        { "fill_code": "#code", "keyboard": true, "outbox": "/api/v1/dev/outbox?recipient=%2B85361250001", "bearer": security },
        { "press": "Enter" },
        { "expect_url": "/face" },
        { "tab_to": "#photo" }, { "choose_file_by_keyboard": face },
        { "tab_to": "form[action*='/face'] button" }, { "press": "Enter" },
        { "expect_url": "/check" },
        { "check": "step 4 reached by keyboard" },
    ]);
    let Some(report) = run(
        &json!({ "base": svc.api.base, "runs": [{ "lang": "en-GB", "steps": steps }] }),
        &svc,
        "keyboard",
    ) else {
        return;
    };
    assert_clean(&report, "en", true);
}
