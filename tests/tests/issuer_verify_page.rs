//! The verification page served by the issuer itself (SPEC §4, §7): the QR code of a
//! certificate issued on the embedded default opens `<public-url>/verify#<token>`, and that page
//! must work with no verifier running.
//!
//! a. Over HTTP: the page and its hashed assets are served at `/verify` (and at the path of a
//!    `verify_url` on the issuer's own origin) with a strict CSP (no inline script or style);
//!    `GET /api/v1/trust` gives the same token signers and usages as a verifier pointed at the
//!    issuer; `/trust` names the usages and conforms to `schemas/trust-bundle.schema.json`.
//! b. In headless Chromium (`tests/browser/run.mjs`, CSP enforced, a violation fails the run): a
//!    certificate issued by `issuer issue` on the served home, opened at its QR URL on the
//!    issuer, shows VALID with the usage by its name in zh, pt and en; no request carries the
//!    token and every request stays on the issuer. The verifier's page shows the usage by name
//!    too.
//! c. axe-core (`tests/browser/portal.mjs`): no WCAG 2.0/2.1/2.2 A or AA violation on the
//!    issuer's page, idle and showing a result, in the three languages at 360 CSS pixels, and
//!    no sideways scrolling.
//!
//! Browser parts are skipped (with a printed reason) without node, the npm packages or Chromium,
//! unless `CCR_REQUIRE_ORACLES=1`.

use std::path::Path;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ccr_tests::api::IssuerService;
use ccr_tests::{BrowserDriver, Issued, bin_command, fixture, free_port, spawn_until_healthy};
use serde_json::{Value, json};

/// `issuer issue` of `chan-tai-man.json` with `usage` on the service's home.
fn issue(svc: &IssuerService, usage: &str) -> Issued {
    let mut request: Value =
        serde_json::from_slice(&std::fs::read(fixture("chan-tai-man.json")).expect("fixture"))
            .expect("json");
    request["usage"] = json!(usage);
    let path = svc.ws.file(format!("request-{usage}.json"));
    std::fs::write(&path, serde_json::to_vec(&request).expect("json")).expect("write");
    svc.ws.issue(&path)
}

/// The token embedded in the PDF, and the URL its QR code encodes (`verify_url` + `#` + the
/// token in decimal, SPEC §4, as the issuer's engine writes it).
fn qr_url(svc: &IssuerService, issued: &Issued) -> (Vec<u8>, String) {
    let bytes = std::fs::read(&issued.pdf).expect("pdf");
    let token = ccr_pki::pades::inspect(&bytes, &ccr_pki::pdf::Limits::default())
        .expect("inspect")
        .token;
    let config = std::fs::read_to_string(svc.ws.home.join("issuer.toml")).expect("config");
    let verify_url = config
        .lines()
        .find_map(|l| l.strip_prefix("verify_url = "))
        .map(|v| v.trim().trim_matches('"').to_owned())
        .expect("verify_url in issuer.toml");
    (token.clone(), ccr_pki::token::to_url(&verify_url, &token))
}

struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> String {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

fn get(url: &str) -> Answer {
    let mut response = ureq::get(url)
        .config()
        .http_status_as_error(false)
        .build()
        .call()
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let headers = response
        .headers()
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_owned(),
                v.to_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    Answer {
        status: response.status().as_u16(),
        headers,
        body: response.body_mut().read_to_string().unwrap_or_default(),
    }
}

/// Asserts the page at `url` is the verification page with its strict headers; returns it.
#[track_caller]
fn assert_page(url: &str) -> Answer {
    let page = get(url);
    assert_eq!(page.status, 200, "GET {url}: {}", page.body);
    assert_eq!(
        page.header("content-type"),
        "text/html; charset=utf-8",
        "{url}"
    );
    assert!(page.body.contains("id=\"verdict\""), "{url}: {}", page.body);
    let csp = page.header("content-security-policy");
    for directive in [
        "script-src 'self'",
        "style-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ] {
        assert!(
            csp.contains(directive),
            "{url}: {directive} missing from {csp}"
        );
    }
    for loose in ["unsafe-inline", "unsafe-eval", "*"] {
        assert!(!csp.contains(loose), "{url}: {loose} in {csp}");
    }
    assert_eq!(page.header("x-content-type-options"), "nosniff", "{url}");
    assert_eq!(page.header("x-frame-options"), "DENY", "{url}");
    assert_eq!(page.header("referrer-policy"), "no-referrer", "{url}");
    // No inline script or style for the policy to refuse.
    assert!(!page.body.contains("<script>"), "{url}: inline script");
    assert!(!page.body.contains("<style"), "{url}: inline style");
    assert!(!page.body.contains(" style=\""), "{url}: style attribute");
    for handler in [
        "onclick=",
        "onload=",
        "onerror=",
        "onchange=",
        "javascript:",
    ] {
        assert!(!page.body.contains(handler), "{url}: inline {handler}");
    }
    page
}

fn start_verifier(root: &Path, issuer: &str) -> (ccr_tests::Server, String) {
    let port = free_port();
    let mut cmd = bin_command("verifier");
    cmd.arg("serve")
        .arg("--trust")
        .arg(root)
        .arg("--issuer")
        .arg(issuer)
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"));
    (
        spawn_until_healthy(cmd, port, "verifier serve"),
        format!("http://127.0.0.1:{port}"),
    )
}

#[test]
fn the_issuer_serves_the_verification_page_and_what_its_script_needs() {
    let mut svc = IssuerService::start(None, "", &[]);
    let base = svc.api.base.clone();

    // The page, its assets, and no PDF upload: the issuer verifies QR codes only.
    let page = assert_page(&format!("{base}/verify"));
    assert!(
        !page.body.contains("id=\"file\""),
        "no PDF upload on the issuer"
    );
    assert!(page.body.contains("id=\"pdf-elsewhere\""));
    assert!(
        !page.body.contains("pdf-verifier-link"),
        "no link without pdf_verifier_url"
    );
    for (pattern, mime) in [(".js\"", "text/javascript"), (".css\"", "text/css")] {
        let path = page
            .body
            .split('"')
            .find(|s| s.starts_with("/assets/verify.") && format!("{s}\"").ends_with(pattern))
            .unwrap_or_else(|| panic!("no hashed {pattern} asset in the page"));
        let asset = get(&format!("{base}{path}"));
        assert_eq!(asset.status, 200, "{path}");
        assert!(asset.header("content-type").starts_with(mime), "{path}");
        assert!(
            asset.header("cache-control").contains("immutable"),
            "{path}"
        );
    }

    // /trust names the usages; /api/v1/trust answers as a verifier pointed at the issuer does.
    let bundle = get(&format!("{base}/trust"));
    assert_eq!(bundle.status, 200);
    let bundle_json: serde_json::Value = serde_json::from_slice(
        &ccr_pki::bundle::signed::payload_unverified(bundle.body.as_bytes())
            .expect("/trust is a signed bundle"),
    )
    .expect("the bundle is JSON");
    let usages = bundle_json["usages"].as_array().expect("usages in /trust");
    assert!(
        usages.iter().any(|u| u["code"] == "EMPLOYMENT"
            && u["zh"] == "就業"
            && u["pt"] == "Emprego"
            && u["en"] == "Employment"),
        "{bundle_json:#}"
    );
    let bundle_file = svc.ws.file("served-bundle.json");
    std::fs::write(&bundle_file, &bundle.body).expect("write");
    let payload_file = svc.ws.file("served-bundle-payload.json");
    std::fs::write(&payload_file, bundle_json.to_string()).expect("write");
    if let Some(python) = ccr_tests::python_with(&["jsonschema"]) {
        for (schema, file) in [
            ("signed-trust-bundle.schema.json", &bundle_file),
            ("trust-bundle.schema.json", &payload_file),
        ] {
            let out = ccr_tests::run(
                std::process::Command::new(&python)
                    .arg(ccr_tests::workspace_root().join("tests/oracles/validate_schema.py"))
                    .arg(ccr_tests::workspace_root().join("schemas").join(schema))
                    .arg(file),
            );
            assert_eq!(out.code, Some(0), "/trust against {schema}:\n{out}");
        }
    }

    let issuer_trust = get(&format!("{base}/api/v1/trust"));
    assert_eq!(issuer_trust.status, 200, "{}", issuer_trust.body);
    let issuer_trust = issuer_trust.json();
    let trust = svc.ws.export_trust();
    let (_verifier, vbase) = start_verifier(&trust.root, &base);
    let verifier_trust = get(&format!("{vbase}/api/v1/trust"));
    assert_eq!(verifier_trust.status, 200, "{}", verifier_trust.body);
    assert_eq!(
        issuer_trust,
        verifier_trust.json(),
        "the issuer's and the verifier's /api/v1/trust differ"
    );
    assert_eq!(issuer_trust["usages"], bundle_json["usages"]);
    assert_eq!(
        issuer_trust["token_signers"].as_array().map(Vec::len),
        Some(1),
        "{issuer_trust:#}"
    );

    // A verify_url on the issuer's own origin, at another path: served there too (and still
    // at /verify); one naming a portal page is not taken over.
    let config_path = svc.ws.home.join("issuer.toml");
    let config = std::fs::read_to_string(&config_path).expect("config");
    let moved = config.replace(
        &format!("verify_url = \"{base}/verify\""),
        &format!("verify_url = \"{base}/ccr/verify\""),
    );
    assert_ne!(moved, config, "verify_url not found in issuer.toml");
    std::fs::write(&config_path, &moved).expect("write");
    svc.restart();
    assert_page(&format!("{base}/ccr/verify"));
    assert_page(&format!("{base}/verify"));
    let issued = issue(&svc, "STUDY");
    let (_, url) = qr_url(&svc, &issued);
    assert!(
        url.starts_with(&format!("{base}/ccr/verify#")),
        "the QR URL follows verify_url: {url}"
    );
}

/// The browser driver `script`, or `None` (skip, reason printed).
fn driver(script: &str) -> Option<BrowserDriver> {
    ccr_tests::browser_driver(script)
}

fn run_driver(driver: &BrowserDriver, scenario: &Value, dir: &Path) -> (ccr_tests::Out, Value) {
    let file = dir.join(format!("scenario-{}.json", ccr_tests::unique()));
    std::fs::write(&file, serde_json::to_vec_pretty(scenario).expect("json")).expect("write");
    let out = ccr_tests::run_with_timeout(
        std::process::Command::new(&driver.node)
            .arg(&driver.script)
            .arg(&file),
        Duration::from_secs(300),
    );
    let json: Value = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("the driver printed no JSON summary ({e}):\n{out}"));
    (out, json)
}

#[test]
fn a_qr_code_issued_by_the_issuer_opens_a_valid_result_on_the_issuer_with_its_usage_by_name() {
    let Some(browser) = driver("run.mjs") else {
        return;
    };
    let svc = IssuerService::start(None, "", &[]);
    let base = svc.api.base.clone();
    let issued = issue(&svc, "STUDY");
    let (token, url) = qr_url(&svc, &issued);
    assert!(url.starts_with(&format!("{base}/verify#")), "{url}");
    let fragment = url.split_once('#').expect("fragment").1.to_owned();
    assert_eq!(fragment, ccr_pki::token::decimal::encode(&token));
    // run.mjs takes the token to watch for in base64url and also looks for its decimal form.
    let forbidden = URL_SAFE_NO_PAD.encode(&token);

    let trust = svc.ws.export_trust();
    let (_verifier, vbase) = start_verifier(&trust.root, &base);

    let mut steps = Vec::new();
    for lang in ["zh", "pt", "en"] {
        steps.push(json!({ "open": format!("/verify?lang={lang}#{fragment}") }));
        steps.push(json!({ "expect": "VALID", "authoritative": true, "fields": true }));
    }
    // The same token on the verifier's page: the usage by name there too.
    steps.push(json!({ "open": format!("{vbase}/verify?lang=pt#{fragment}") }));
    steps.push(json!({ "expect": "VALID", "fields": true }));
    let (out, run) = run_driver(
        &browser,
        &json!({ "base": base, "forbid": forbidden, "steps": steps }),
        svc.ws.dir(),
    );
    assert_eq!(
        run["ok"],
        json!(true),
        "the browser run failed: {}\n{out}\nissuer log:\n{}",
        run["failures"],
        svc.log()
    );
    let results = run["results"].as_array().expect("results");
    assert_eq!(results.len(), 4, "{run:#}");
    for (result, (usage, lang)) in results.iter().zip([
        ("升學", "zh"),
        ("Estudos", "pt"),
        ("Study", "en"),
        ("Estudos", "pt"),
    ]) {
        assert_eq!(result["verdict"], "VALID", "{lang}: {result:#}");
        assert_eq!(
            result["fields"]["number"],
            json!(issued.number),
            "{result:#}"
        );
        assert_eq!(
            result["fields"]["usage"],
            json!(usage),
            "{lang}: the usage by its name: {result:#}"
        );
    }
    assert_eq!(results[0]["label"], "有效");
    assert_eq!(results[1]["label"], "Válido");
    assert_eq!(results[2]["label"], "Valid");

    // Every request of the issuer's page went to the issuer, as GETs, none with the token
    // (run.mjs checked URLs, headers and bodies for any 16-character piece of it).
    let requests = run["requests"].as_array().expect("requests");
    let on_issuer: Vec<&Value> = requests
        .iter()
        .filter(|r| r["expectation"].as_u64().is_some_and(|e| e < 3))
        .collect();
    assert!(
        on_issuer
            .iter()
            .any(|r| r["url"] == json!(format!("{base}/api/v1/trust"))),
        "{requests:#?}"
    );
    assert!(
        on_issuer
            .iter()
            .any(|r| r["url"] == json!(format!("{base}/status/1"))),
        "{requests:#?}"
    );
    for r in on_issuer {
        let u = r["url"].as_str().unwrap_or_default();
        assert!(u.starts_with(&format!("{base}/")), "left the issuer: {r}");
        assert_eq!(r["method"], "GET", "{r}");
        assert!(!u.contains('#'), "{r}");
        assert_ne!(r["carries_token"], json!(true), "{r}");
    }
}

#[test]
fn the_issuers_verification_page_passes_axe_at_360_pixels_in_three_languages() {
    let Some(portal) = driver("portal.mjs") else {
        return;
    };
    let svc = IssuerService::start(None, "", &[]);
    let issued = issue(&svc, "EMPLOYMENT");
    let (_, url) = qr_url(&svc, &issued);
    let fragment = url.split_once('#').expect("fragment").1.to_owned();
    let mut runs = Vec::new();
    for (locale, code) in [("zh-TW", "zh"), ("pt-PT", "pt"), ("en-GB", "en")] {
        runs.push(json!({
            "lang": locale,
            "viewport": { "width": 360, "height": 740 },
            "steps": [
                { "open": "/verify" },
                { "check": format!("idle {code}") },
                { "open": format!("/verify#{fragment}") },
                { "wait_visible": "#verdict[data-verdict='VALID']" },
                { "check": format!("valid {code}") },
            ]
        }));
    }
    let (out, report) = run_driver(
        &portal,
        &json!({
            "base": svc.api.base,
            "tags": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"],
            "runs": runs,
        }),
        svc.ws.dir(),
    );
    let checks = report["checks"].as_array().expect("checks");
    assert_eq!(checks.len(), 6, "{report:#}\n{out}");
    for check in checks {
        let label = check["label"].as_str().unwrap_or_default();
        assert_eq!(check["axe"], true, "{label}: axe ran");
        assert_eq!(check["violations"], json!([]), "{label}: {check:#}");
        assert!(
            check["overflow"].as_i64().is_some_and(|o| o <= 0),
            "{label}: scrolls sideways: {check:#}"
        );
        let expected = match label.rsplit(' ').next() {
            Some("zh") => "zh-Hant-MO",
            Some("pt") => "pt-MO",
            _ => "en",
        };
        assert_eq!(check["lang"], expected, "{label}");
    }
    assert_eq!(report["ok"], true, "{report:#}\n{out}");
}
