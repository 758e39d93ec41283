//! The issuer's OpenAPI document (`issuer/openapi.json`, served at `/api/openapi.json`)
//! against the running service, checked by schemathesis: every operation of both routers is
//! fuzzed (examples, coverage, fuzzing and stateful phases) anonymously, as an applicant, a
//! clerk, an officer and a security officer, and every answer must be a non-5xx with a
//! documented status, content type, headers and body schema.
//!
//! Before the runs, one applicant takes applications to SELECTED, CONFIRMED, IDENTIFIED and
//! SUBMITTED and one through to an issued certificate, so that the generated requests also
//! reach those states (their ids, the certificate number, the configured department codes and
//! the applicants' mobile numbers are offered to schemathesis as dictionaries for the `{id}`,
//! `{number}` and `{code}` path parameters and the `recipient` query parameter).
//!
//! Schemathesis comes from the workspace venv (`pip install schemathesis`, see `.ci/run`);
//! without it the test is skipped unless `CCR_REQUIRE_ORACLES=1`. `CCR_SCHEMATHESIS_SEED`
//! replays a run with the seed it printed.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use ccr_tests::api::{CLERK, FACE_JPEG_BASE64, IssuerService, OFFICER, SECURITY};
use ccr_tests::{Out, run_with_timeout};

/// Test cases per operation and phase: bounded so that the five runs take well under three
/// minutes on two cores.
const MAX_EXAMPLES: &str = "25";

/// The checks: no 5xx, and every answer as documented (status, content type, headers, body).
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,\
                      response_headers_conformance,response_schema_conformance";

/// The longest one schemathesis run may take.
const RUN_TIMEOUT: Duration = Duration::from_secs(240);

/// How far [`application`] takes an application.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Step {
    Selected,
    Confirmed,
    Identified,
    Submitted,
}

/// Creates an application as `token` and takes it to `until`; returns its id.
fn application(svc: &IssuerService, token: &str, security: &str, n: u32, until: Step) -> String {
    let api = &svc.api;
    let created = api.post(
        "/api/v1/applications",
        Some(token),
        &json!({ "usage": "EMPLOYMENT", "format": "electronic", "quantity": 1, "express": false }),
    );
    created.expect(201);
    let id = created.json()["id"].as_str().expect("id").to_owned();
    if until == Step::Selected {
        return id;
    }
    let mobile = format!("+8536200{n:04}");
    api.put(
        &format!("/api/v1/applications/{id}/confirmation"),
        Some(token),
        &json!({
            "holder": {
                "name_latin": "CHAN TAI MAN",
                "name_chinese": "陳大文",
                "date_of_birth": "1990-01-31",
                "document": { "type": "BIR", "number": format!("51{n:05}(8)") }
            },
            "language": "en",
            "mobile": mobile,
            "consent_police_data": true
        }),
    )
    .expect(200);
    if until == Step::Confirmed {
        return id;
    }
    api.post(
        &format!("/api/v1/applications/{id}/otp"),
        Some(token),
        &json!({}),
    )
    .expect(202);
    let code = svc.latest_otp(security, &mobile);
    api.post(
        &format!("/api/v1/applications/{id}/otp/verify"),
        Some(token),
        &json!({ "code": code }),
    )
    .expect(200);
    let face = api.post(
        &format!("/api/v1/applications/{id}/face"),
        Some(token),
        &json!({ "image_base64": FACE_JPEG_BASE64 }),
    );
    face.expect(200);
    assert_eq!(face.json()["state"], "IDENTIFIED", "{}", face.json());
    if until == Step::Identified {
        return id;
    }
    let payment = api.post(
        &format!("/api/v1/applications/{id}/payments"),
        Some(token),
        &json!({}),
    );
    payment.expect(201);
    let payment_id = payment.json()["payment_id"]
        .as_str()
        .expect("payment id")
        .to_owned();
    let paid = api.post(
        &format!("/api/v1/sandbox/payments/{payment_id}/complete"),
        Some(token),
        &json!({}),
    );
    paid.expect(200);
    assert_eq!(paid.json()["outcome"], "applied", "{}", paid.json());
    id
}

/// Reviews and approves a SUBMITTED application and waits for its certificate's number.
fn issue(svc: &IssuerService, clerk: &str, officer: &str, applicant: &str, id: &str) -> String {
    let api = &svc.api;
    api.post(
        &format!("/api/v1/applications/{id}/review"),
        Some(clerk),
        &json!({ "action": "forward" }),
    )
    .expect(200);
    api.post(
        &format!("/api/v1/applications/{id}/decision"),
        Some(officer),
        &json!({ "approve": true }),
    )
    .expect(200);
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let list = api.get(
            &format!("/api/v1/applications/{id}/certificates"),
            Some(applicant),
        );
        list.expect(200);
        if let Some(number) = list.json()[0]["number"].as_str() {
            return number.to_owned();
        }
        assert!(
            Instant::now() < deadline,
            "application {id} was not issued: {}",
            api.get(&format!("/api/v1/applications/{id}"), Some(applicant))
                .json()
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// A TOML array of strings.
fn toml_strings(values: &[&str]) -> String {
    let quoted: Vec<String> = values.iter().map(|v| Value::from(*v).to_string()).collect();
    format!("[{}]", quoted.join(", "))
}

/// The schemathesis configuration: the seeded ids as dictionaries of the path parameters
/// (half of the generated requests use one), and the seeded mobile numbers for the outbox.
/// `DSAL` and `PSP` are departments of the default configuration.
fn write_config(dir: &Path, applications: &[&str], certificate: &str, mobiles: &[&str]) -> String {
    let text = format!(
        "[dictionaries.applications]\nvalues = {}\n\n\
         [dictionaries.certificates]\nvalues = {}\n\n\
         [dictionaries.recipients]\nvalues = {}\n\n\
         [dictionaries.departments]\nvalues = [\"DSAL\", \"PSP\"]\n\n\
         [parameters]\n\
         \"path.id\" = {{ dictionary = \"applications\", probability = 0.5 }}\n\
         \"path.number\" = {{ dictionary = \"certificates\", probability = 0.5 }}\n\
         \"path.code\" = {{ dictionary = \"departments\", probability = 0.5 }}\n\
         \"query.recipient\" = {{ dictionary = \"recipients\", probability = 0.5 }}\n",
        toml_strings(applications),
        toml_strings(&[certificate]),
        toml_strings(mobiles),
    );
    let path = dir.join("schemathesis.toml");
    std::fs::write(&path, text).expect("write schemathesis.toml");
    path.to_string_lossy().into_owned()
}

/// One schemathesis run against the served document.
fn schemathesis(
    python: &Path,
    config: &str,
    base: &str,
    token: Option<&str>,
    work_dir: &Path,
) -> Out {
    let mut cmd = Command::new(python);
    cmd.current_dir(work_dir)
        .env("NO_COLOR", "1")
        .env("PYTHONIOENCODING", "utf-8")
        .args(["-m", "schemathesis.cli", "--config-file", config, "run"])
        .arg(format!("{base}/api/openapi.json"))
        .args(["--url", base])
        .args(["--checks", CHECKS])
        .args(["--phases", "examples,coverage,fuzzing,stateful"])
        .args(["--max-examples", MAX_EXAMPLES])
        .args(["--request-timeout", "20"])
        .args(["--workers", "1"])
        .args(["--generation-database", "none"])
        .args(["--suppress-health-check", "too_slow,filter_too_much"])
        .args(["--wait-for-schema", "30"])
        .arg("--no-color");
    if let Ok(seed) = std::env::var("CCR_SCHEMATHESIS_SEED") {
        cmd.args(["--seed", &seed]);
    }
    if let Some(token) = token {
        // Signing out would end the session the rest of the run relies on.
        cmd.args(["-H", &format!("Authorization: Bearer {token}")])
            .args(["--exclude-path", "/api/v1/auth/sign-out"]);
    }
    run_with_timeout(&mut cmd, RUN_TIMEOUT)
}

/// The FAILURES section of a schemathesis report (the whole output if there is none).
fn failures(out: &Out) -> String {
    let text = &out.stdout;
    let start = text.find(" FAILURES ").and_then(|i| text[..i].rfind('\n'));
    let end = [" WARNINGS ", " SUMMARY "]
        .iter()
        .filter_map(|m| start.and_then(|s| text[s..].find(m).map(|i| s + i)))
        .min()
        .and_then(|i| text[..i].rfind('\n'));
    match (start, end) {
        (Some(s), Some(e)) if s < e => text[s..e].trim().to_owned(),
        _ => out.all_output(),
    }
}

#[test]
fn issuer_api_conforms_to_its_openapi_document() {
    let Some(python) = ccr_tests::python_with(&["schemathesis"]) else {
        return;
    };
    let started = Instant::now();
    let svc = IssuerService::start(None, "", &[]);
    let base = svc.api.base.clone();

    // The served document is the file in the repository.
    let served = svc.api.get("/api/openapi.json", None);
    served.expect(200);
    let file = ccr_tests::workspace_root().join("issuer/openapi.json");
    let on_disk: Value =
        serde_json::from_slice(&std::fs::read(&file).expect("issuer/openapi.json"))
            .expect("issuer/openapi.json is JSON");
    assert_eq!(
        served.json(),
        on_disk,
        "/api/openapi.json is not issuer/openapi.json"
    );

    let security = svc.staff_token(SECURITY);
    let clerk = svc.staff_token(CLERK);
    let officer = svc.staff_token(OFFICER);
    let applicant = svc.applicant_token("schemathesis-applicant");
    let issued = application(&svc, &applicant, &security, 1, Step::Submitted);
    let number = issue(&svc, &clerk, &officer, &applicant, &issued);
    let ids = [
        application(&svc, &applicant, &security, 2, Step::Selected),
        application(&svc, &applicant, &security, 3, Step::Confirmed),
        application(&svc, &applicant, &security, 4, Step::Identified),
        application(&svc, &applicant, &security, 5, Step::Submitted),
        issued,
    ];
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let mobiles: Vec<String> = (1..=5).map(|n| format!("+8536200{n:04}")).collect();
    let mobiles: Vec<&str> = mobiles.iter().map(String::as_str).collect();
    let config = write_config(svc.ws.dir(), &ids, &number, &mobiles);
    eprintln!(
        "seeded applications {ids:?} and certificate {number} in {:.1?}",
        started.elapsed()
    );

    let runs: [(&str, Option<&str>); 5] = [
        ("anonymous", None),
        ("applicant", Some(&applicant)),
        ("clerk", Some(&clerk)),
        ("officer", Some(&officer)),
        ("security officer", Some(&security)),
    ];
    let mut failed = Vec::new();
    for (who, token) in runs {
        let run_started = Instant::now();
        let out = schemathesis(&python, &config, &base, token, svc.ws.dir());
        eprintln!(
            "=== schemathesis as {who}: exit {:?} in {:.1?}\n{}\n{}",
            out.code,
            run_started.elapsed(),
            out.stdout,
            out.stderr
        );
        if !out.success() {
            failed.push(format!(
                "--- as {who} (exit {:?}):\n{}",
                out.code,
                failures(&out)
            ));
        }
    }
    eprintln!("schemathesis: five runs in {:.1?}", started.elapsed());
    assert!(
        failed.is_empty(),
        "schemathesis found responses that break issuer/openapi.json:\n{}",
        failed.join("\n")
    );
}
