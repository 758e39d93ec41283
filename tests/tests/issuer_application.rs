//! The online application end to end over HTTP (issue 4): an applicant through the four
//! steps, a clerk and an officer through review, the durable issuance job, and a download
//! that `verifier check` calls VALID — on SQLite and on PostgreSQL. Also: replayed and
//! forged payment callbacks, double submissions, `kill -9` in the middle of issuance, and bad
//! input that writes nothing.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use ccr_tests::api::{
    CLERK, FACE_JPEG_BASE64, IssuerService, LoopbackConnection, OFFICER, PgDatabase, SECURITY,
    holder_with_bir,
};
use ccr_tests::{Report, check_online_out, oracle};

const MOBILE: &str = "+85361234567";

/// An applicant with an application through steps 1–3 (IDENTIFIED), ready to pay.
struct Applicant {
    token: String,
    id: String,
}

fn identified(svc: &IssuerService, security: &str, subject: &str, selection: &Value) -> Applicant {
    let token = svc.applicant_token(subject);
    let api = &svc.api;
    let created = api.raw(
        "POST",
        "/api/v1/applications",
        Some(&token),
        &[
            ("content-type", "application/json"),
            ("idempotency-key", subject),
        ],
        Some(selection.to_string().into_bytes()),
    );
    created.expect(201);
    let app = created.json();
    assert_eq!(app["state"], "SELECTED");
    let id = app["id"].as_str().expect("id").to_owned();
    // Double submission with the same key: the same application, nothing new.
    let again = api.raw(
        "POST",
        "/api/v1/applications",
        Some(&token),
        &[
            ("content-type", "application/json"),
            ("idempotency-key", subject),
        ],
        Some(selection.to_string().into_bytes()),
    );
    again.expect(200);
    assert_eq!(again.json()["id"], id.as_str());

    let confirmed = api.put(
        &format!("/api/v1/applications/{id}/confirmation"),
        Some(&token),
        &json!({
            "holder": holder_with_bir("CHAN TAI MAN", &format!("{subject}(8)")),
            "language": "pt",
            "mobile": "6123 4567",
            "consent_police_data": true
        }),
    );
    confirmed.expect(200);
    assert_eq!(confirmed.json()["state"], "CONFIRMED");
    assert_eq!(confirmed.json()["mobile"], MOBILE);

    api.post(
        &format!("/api/v1/applications/{id}/otp"),
        Some(&token),
        &json!({}),
    )
    .expect(202);
    let code = svc.latest_otp(security, MOBILE);
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let refused = api.post(
        &format!("/api/v1/applications/{id}/otp/verify"),
        Some(&token),
        &json!({ "code": wrong }),
    );
    refused.expect(422);
    assert!(
        refused.message().contains("attempts left"),
        "{}",
        refused.message()
    );
    api.post(
        &format!("/api/v1/applications/{id}/otp/verify"),
        Some(&token),
        &json!({ "code": code }),
    )
    .expect(200);
    let face = api.post(
        &format!("/api/v1/applications/{id}/face"),
        Some(&token),
        &json!({ "image_base64": FACE_JPEG_BASE64 }),
    );
    face.expect(200);
    assert_eq!(face.json()["state"], "IDENTIFIED", "{}", face.json());
    Applicant { token, id }
}

/// Pays through the sandbox gateway; returns the delivered callback (body, signature).
fn pay(svc: &IssuerService, who: &Applicant) -> (String, String) {
    let path = format!("/api/v1/applications/{}/payments", who.id);
    let headers = [
        ("content-type", "application/json"),
        ("idempotency-key", "pay-1"),
    ];
    let payment = svc.api.raw(
        "POST",
        &path,
        Some(&who.token),
        &headers,
        Some(b"{}".to_vec()),
    );
    payment.expect(201);
    let payment_id = payment.json()["payment_id"]
        .as_str()
        .expect("payment id")
        .to_owned();
    let twice = svc.api.raw(
        "POST",
        &path,
        Some(&who.token),
        &headers,
        Some(b"{}".to_vec()),
    );
    assert_eq!(
        twice.json()["payment_id"],
        payment_id.as_str(),
        "double-submitted payment"
    );
    let done = svc.api.post(
        &format!("/api/v1/sandbox/payments/{payment_id}/complete"),
        Some(&who.token),
        &json!({}),
    );
    done.expect(200);
    let done = done.json();
    assert_eq!(done["outcome"], "applied");
    (
        done["callback"]["body"].as_str().expect("body").to_owned(),
        done["callback"]["signature"]
            .as_str()
            .expect("signature")
            .to_owned(),
    )
}

fn application(svc: &IssuerService, token: &str, id: &str) -> Value {
    let reply = svc
        .api
        .get(&format!("/api/v1/applications/{id}"), Some(token));
    reply.expect(200);
    reply.json()
}

#[track_caller]
fn wait_for_state(
    svc: &IssuerService,
    token: &str,
    id: &str,
    state: &str,
    within: Duration,
) -> Value {
    let deadline = Instant::now() + within;
    loop {
        let app = application(svc, token, id);
        if app["state"] == state {
            return app;
        }
        assert!(
            Instant::now() < deadline,
            "application {id} did not reach {state}: {app}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn review_and_approve(svc: &IssuerService, id: &str) {
    let clerk = svc.staff_token(CLERK);
    let queue = svc
        .api
        .get("/api/v1/applications?state=SUBMITTED", Some(&clerk));
    queue.expect(200);
    assert!(
        queue
            .json()
            .as_array()
            .expect("queue")
            .iter()
            .any(|a| a["id"] == id)
    );
    svc.api
        .post(
            &format!("/api/v1/applications/{id}/review"),
            Some(&clerk),
            &json!({ "action": "forward" }),
        )
        .expect(200);
    let officer = svc.staff_token(OFFICER);
    let approved = svc.api.post(
        &format!("/api/v1/applications/{id}/decision"),
        Some(&officer),
        &json!({ "approve": true }),
    );
    approved.expect(200);
    assert_eq!(approved.json()["state"], "APPROVED");
}

fn audit_count(svc: &IssuerService, security: &str) -> u64 {
    let reply = svc.api.get("/api/v1/audit/verify", Some(security));
    reply.expect(200);
    let body = reply.json();
    assert_eq!(body["intact"], true, "{body}");
    body["entries"].as_u64().expect("entries")
}

/// Must-show 1 and 3 (payments and double submission) on one backend.
fn whole_application(database: Option<&str>) {
    let svc = IssuerService::start(database, "", &[]);
    let security = svc.staff_token(SECURITY);
    let selection =
        json!({ "usage": "EMPLOYMENT", "format": "electronic", "quantity": 1, "express": true });
    let who = identified(&svc, &security, "1234567", &selection);
    let (body, signature) = pay(&svc, &who);
    let submitted = application(&svc, &who.token, &who.id);
    assert_eq!(submitted["state"], "SUBMITTED");
    assert_eq!(
        submitted["fee_avos"], 15_000,
        "express, one certificate: MOP 150.00"
    );
    assert!(
        submitted["due_date"].is_string(),
        "the pledge due date is shown: {submitted}"
    );
    assert!(
        submitted["working_days_left"]
            .as_u64()
            .is_some_and(|d| d <= 2),
        "{submitted}"
    );

    // A replayed callback changes nothing; a forged one is refused and changes nothing.
    let entries = audit_count(&svc, &security);
    let callback = |body: &str, signature: &str| {
        svc.api.raw(
            "POST",
            "/api/v1/payments/callback",
            None,
            &[
                ("content-type", "application/json"),
                ("x-gateway-signature", signature),
            ],
            Some(body.as_bytes().to_vec()),
        )
    };
    let replay = callback(&body, &signature);
    replay.expect(200);
    assert_eq!(replay.json()["outcome"], "replayed");
    let tampered = body.replace("\"amount_avos\":15000", "\"amount_avos\":1");
    assert_ne!(tampered, body);
    callback(&tampered, &signature).expect(401);
    let forged_signature = format!(
        "t={},v1={}",
        time::OffsetDateTime::now_utc().unix_timestamp(),
        "00".repeat(32)
    );
    callback(&body.replace("EVT-", "EVX-"), &forged_signature).expect(401);
    callback(&body, "").expect(401);
    assert_eq!(
        audit_count(&svc, &security),
        entries,
        "refused callbacks must not write"
    );
    assert_eq!(
        application(&svc, &who.token, &who.id)["updated_at"],
        submitted["updated_at"]
    );

    review_and_approve(&svc, &who.id);
    let issued = wait_for_state(&svc, &who.token, &who.id, "ISSUED", Duration::from_secs(60));
    assert_eq!(
        issued["next_step"],
        "download the certificate, or collect it on paper"
    );
    let certificates = svc.api.get(
        &format!("/api/v1/applications/{}/certificates", who.id),
        Some(&who.token),
    );
    certificates.expect(200);
    let certificates = certificates.json();
    let list = certificates.as_array().expect("list");
    assert_eq!(list.len(), 1, "{certificates}");
    assert_eq!(list[0]["status"], "VALID");
    let pdf = svc.api.get(
        list[0]["download"].as_str().expect("download"),
        Some(&who.token),
    );
    pdf.expect(200);
    assert_eq!(pdf.content_type, "application/pdf");
    assert!(pdf.body.starts_with(b"%PDF-"));
    let path = svc.ws.file("downloaded.pdf");
    std::fs::write(&path, &pdf.body).expect("save");
    let root = svc.home().join("pki").join("root.pem");
    let cache = svc.ws.file("verifier-cache");
    let report = Report::parse(check_online_out(&path, &root, &cache, None));
    report.assert_verdict("VALID");
    assert_eq!(report.code(), Some(0));

    // The applicant was told at each step, in Portuguese.
    let outbox = svc.api.get(
        &format!(
            "/api/v1/dev/outbox?recipient={}",
            MOBILE.replace('+', "%2B")
        ),
        Some(&security),
    );
    let messages = outbox.json();
    let subjects: Vec<&str> = messages
        .as_array()
        .expect("messages")
        .iter()
        .filter_map(|m| m["subject"].as_str())
        .collect();
    for m in messages.as_array().expect("messages") {
        assert_eq!(m["language"], "pt", "{m}");
    }
    assert!(
        subjects.len() >= 4,
        "OTP, received, approved, issued: {subjects:?}"
    );
    assert!(
        audit_count(&svc, &security) > entries,
        "every step was audited"
    );
}

#[test]
fn an_application_goes_from_first_click_to_a_valid_pdf_on_sqlite() {
    whole_application(None);
}

#[test]
fn an_application_goes_from_first_click_to_a_valid_pdf_on_postgresql() {
    let Some(db) = PgDatabase::create() else {
        return;
    };
    whole_application(Some(&db.url));
}

/// Runs `sql` on the service's registry with an independent client (sqlite3 or psql).
fn registry(svc: &IssuerService, sql: &str) -> String {
    let out = match &svc.database {
        Some(url) => {
            let Some(psql) = oracle("psql") else {
                panic!(
                    "psql is needed to inspect the registry (apt-get install postgresql-client)"
                );
            };
            std::process::Command::new(psql)
                .args([url.as_str(), "-At", "-c", sql])
                .output()
        }
        None => {
            let Some(sqlite3) = oracle("sqlite3") else {
                panic!("sqlite3 is needed to inspect the registry (apt-get install sqlite3)");
            };
            ccr_tests::sqlite3_on(&sqlite3, &svc.home().join("registry.sqlite"))
                .arg(sql)
                .output()
        }
    }
    .expect("registry client");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[test]
fn kill_9_in_the_middle_of_issuance_loses_nothing_and_issues_no_number_twice() {
    kill_9_mid_issuance(None);
}

#[test]
fn kill_9_in_the_middle_of_issuance_on_postgresql() {
    let Some(db) = PgDatabase::create() else {
        return;
    };
    kill_9_mid_issuance(Some(&db.url));
}

fn kill_9_mid_issuance(database: Option<&str>) {
    // Each job pauses 4 s between its reservation and its document; leases last 3 s.
    let mut svc = IssuerService::start(
        database,
        "[application]\nissuance_lease_seconds = 3\nissuance_workers = 1\n",
        &[(ccr_issuer_fault_env(), "4000")],
    );
    let security = svc.staff_token(SECURITY);
    let selection =
        json!({ "usage": "STUDY", "format": "electronic", "quantity": 3, "express": false });
    let who = identified(&svc, &security, "7654321", &selection);
    pay(&svc, &who);
    review_and_approve(&svc, &who.id);
    // Wait until the first job holds its reservation, then kill the process mid-issuance.
    let deadline = Instant::now() + Duration::from_secs(20);
    while registry(
        &svc,
        "SELECT COUNT(*) FROM issuance_jobs WHERE number IS NOT NULL",
    ) != "1"
    {
        assert!(Instant::now() < deadline, "no job reserved a number");
        std::thread::sleep(Duration::from_millis(100));
    }
    svc.kill_9();
    let reserved = registry(
        &svc,
        "SELECT number FROM issuance_jobs WHERE number IS NOT NULL",
    );
    assert_eq!(
        registry(&svc, "SELECT COUNT(*) FROM certificates"),
        "0",
        "killed before any document was recorded"
    );
    assert_eq!(registry(&svc, "SELECT state FROM applications"), "APPROVED");

    // Restart without the pause: the leases run out, the jobs complete.
    svc.env.clear();
    svc.restart();
    let token = svc.applicant_token("7654321");
    wait_for_state(&svc, &token, &who.id, "ISSUED", Duration::from_secs(60));
    let numbers = registry(&svc, "SELECT number FROM certificates ORDER BY number");
    let numbers: Vec<&str> = numbers.lines().collect();
    assert_eq!(numbers.len(), 3, "one certificate per copy: {numbers:?}");
    assert!(
        numbers.contains(&reserved.as_str()),
        "the reserved number {reserved} was used after the restart: {numbers:?}"
    );
    let year = &numbers[0][3..7];
    let expected: Vec<String> = (1..=3).map(|n| format!("CR-{year}-{n:06}")).collect();
    assert_eq!(numbers, expected, "no number skipped or issued twice");
    assert_eq!(registry(&svc, "SELECT COUNT(*) FROM reservations"), "3");
    assert_eq!(
        registry(
            &svc,
            "SELECT COUNT(*) FROM issuance_jobs WHERE state = 'done'"
        ),
        "3"
    );
    assert_eq!(
        registry(&svc, "SELECT COUNT(DISTINCT copy_no) FROM certificates"),
        "3"
    );
    audit_count(&svc, &svc.staff_token(SECURITY));
}

fn ccr_issuer_fault_env() -> &'static str {
    "CCR_FAULT_PAUSE_AFTER_RESERVE_MS"
}

#[test]
fn bad_input_gets_a_clear_4xx_and_writes_nothing() {
    let svc = IssuerService::start(None, "", &[]);
    let security = svc.staff_token(SECURITY);
    let token = svc.applicant_token("9999999");
    let before = audit_count(&svc, &security);
    let good = json!({ "usage": "EMPLOYMENT", "format": "paper", "quantity": 1, "collection_site": "DSI_HQ", "express": false });
    let with = |key: &str, value: Value| {
        let mut v = good.clone();
        v[key] = value;
        v
    };
    let without = |key: &str| {
        let mut v = good.clone();
        v.as_object_mut().expect("object").remove(key);
        v
    };
    let cases: Vec<(&str, Value, u16, &str)> = vec![
        ("missing usage", without("usage"), 422, "usage"),
        ("missing quantity", without("quantity"), 422, "quantity"),
        (
            "quantity as text",
            with("quantity", json!("one")),
            422,
            "quantity",
        ),
        (
            "express as text",
            with("express", json!("yes")),
            422,
            "express",
        ),
        ("quantity 0", with("quantity", json!(0)), 422, "quantity"),
        (
            "quantity 10,000",
            with("quantity", json!(10_000)),
            422,
            "quantity",
        ),
        (
            "unknown usage",
            with("usage", json!("SMUGGLING")),
            422,
            "usage",
        ),
        (
            "unknown site",
            with("collection_site", json!("MOON_BASE")),
            422,
            "collection_site",
        ),
        (
            "paper without a site",
            without("collection_site"),
            422,
            "collection_site",
        ),
        (
            "unknown format",
            with("format", json!("fax")),
            422,
            "format",
        ),
        (
            "unknown department",
            with("transfer_to", json!("NOPE")),
            422,
            "transfer_to",
        ),
        ("unknown field", with("colour", json!("red")), 422, "colour"),
    ];
    for (what, body, status, mentions) in &cases {
        let reply = svc.api.post("/api/v1/applications", Some(&token), body);
        assert_eq!(reply.status, *status, "{what}: {}", reply.message());
        assert!(
            reply.message().contains(mentions),
            "{what}: the message names {mentions}: {}",
            reply.message()
        );
    }
    let raw = |body: Vec<u8>, content_type: &str| {
        svc.api.raw(
            "POST",
            "/api/v1/applications",
            Some(&token),
            &[("content-type", content_type)],
            Some(body),
        )
    };
    raw(b"{\"usage\": ".to_vec(), "application/json").expect(400);
    raw(good.to_string().into_bytes(), "text/plain").expect(415);
    let mut huge = good.clone();
    huge["padding"] = json!("x".repeat(70 * 1024));
    let too_large = raw(huge.to_string().into_bytes(), "application/json");
    too_large.expect(413);

    // Step 2 with invalid dates, characters and consent.
    let created = svc.api.post("/api/v1/applications", Some(&token), &good);
    created.expect(201);
    let id = created.json()["id"].as_str().expect("id").to_owned();
    let confirm = |holder: Value, consent: bool, mobile: &str| {
        svc.api.put(
            &format!("/api/v1/applications/{id}/confirmation"),
            Some(&token),
            &json!({ "holder": holder, "language": "zh", "mobile": mobile, "consent_police_data": consent }),
        )
    };
    let mut bad_date = holder_with_bir("CHAN TAI MAN", "1234567(8)");
    bad_date["date_of_birth"] = json!("1990-02-30");
    assert!(
        confirm(bad_date, true, "61234567")
            .expect(422)
            .message()
            .contains("date_of_birth")
    );
    let mut future = holder_with_bir("CHAN TAI MAN", "1234567(8)");
    future["date_of_birth"] = json!("2999-01-01");
    confirm(future, true, "61234567").expect(422);
    confirm(
        holder_with_bir("CHAN 😀 MAN", "1234567(8)"),
        true,
        "61234567",
    )
    .expect(422);
    confirm(
        holder_with_bir("CHAN TAI MAN", "1234567(8)"),
        false,
        "61234567",
    )
    .expect(422);
    confirm(holder_with_bir("CHAN TAI MAN", "1234567(8)"), true, "12").expect(422);
    let mut worker = holder_with_bir("NGUYEN VAN A", "998877(6)");
    worker["document"]["type"] = json!("TI");
    let first_time = confirm(worker, true, "61234567");
    first_time.expect(422);
    assert!(
        first_time.message().contains("applied before"),
        "{}",
        first_time.message()
    );

    // Nothing written but the one good application.
    let mine = svc.api.get("/api/v1/applications", Some(&token));
    assert_eq!(mine.json().as_array().expect("list").len(), 1);
    assert_eq!(application(&svc, &token, &id)["state"], "SELECTED");
    assert_eq!(
        audit_count(&svc, &security),
        before + 1,
        "only the good application was audited"
    );
}

fn document(kind: &str) -> Value {
    use base64::Engine as _;
    json!({
        "kind": kind,
        "filename": format!("{kind}.pdf"),
        "media_type": "application/pdf",
        "content_base64": base64::engine::general_purpose::STANDARD
            .encode(ccr_tests::pdf::one_page(b"BT /F1 12 Tf 72 720 Td (scanned form) Tj ET", true)),
    })
}

#[test]
fn exemption_information_records_transfer_and_revocation() {
    let svc = IssuerService::start(None, "", &[]);
    let security = svc.staff_token(SECURITY);
    let clerk = svc.staff_token(CLERK);
    let officer = svc.staff_token(OFFICER);
    let selection = json!({ "usage": "EMPLOYMENT", "format": "electronic", "quantity": 1, "express": false, "transfer_to": "DSAL" });
    let who = identified(&svc, &security, "5550001", &selection);
    let api = &svc.api;
    let exemption = |docs: Vec<Value>| {
        api.post(
            &format!("/api/v1/applications/{}/exemption", who.id),
            Some(&who.token),
            &json!({ "kind": "POVERTY", "documents": docs }),
        )
    };
    let incomplete = exemption(vec![document("EXEMPTION_FORM")]);
    incomplete.expect(422);
    assert!(
        incomplete.message().contains("IAS_BENEFICIARY_CARD"),
        "{}",
        incomplete.message()
    );
    let requested = exemption(vec![
        document("EXEMPTION_FORM"),
        document("IAS_BENEFICIARY_CARD"),
    ]);
    requested.expect(200);
    assert_eq!(requested.json()["state"], "EXEMPTION_REQUESTED");
    let docs = api.get(
        &format!("/api/v1/applications/{}/documents", who.id),
        Some(&clerk),
    );
    assert_eq!(docs.json().as_array().expect("documents").len(), 2);
    let approved = api.post(
        &format!("/api/v1/applications/{}/exemption/decision", who.id),
        Some(&clerk),
        &json!({ "approve": true }),
    );
    approved.expect(200);
    assert_eq!(approved.json()["state"], "SUBMITTED");
    assert_eq!(approved.json()["fee_avos"], 0, "exempted");

    // More information, answered: the pledge counts again.
    let asked = api.post(
        &format!("/api/v1/applications/{}/review", who.id),
        Some(&clerk),
        &json!({ "action": "request_information", "message": "Please send the DSAL registration receipt." }),
    );
    asked.expect(200);
    assert_eq!(asked.json()["state"], "INFORMATION_REQUESTED");
    let answered = api.post(
        &format!("/api/v1/applications/{}/information", who.id),
        Some(&who.token),
        &json!({ "message": "Attached.", "documents": [document("DSAL_REGISTRATION_RECEIPTS")] }),
    );
    answered.expect(200);
    assert_eq!(answered.json()["state"], "SUBMITTED");

    // The record registry: one entry disclosed for employment, one only for adoption.
    for (case, usage) in [
        ("CR-EMP-2019-77", "EMPLOYMENT"),
        ("CR-ADO-2015-12", "ADOPTION"),
    ] {
        api.post(
            "/api/v1/records",
            Some(&officer),
            &json!({
                "document": { "type": "BIR", "number": "5550001(8)" },
                "court": "Tribunal Judicial de Base", "case_number": case, "decision_date": "2019-03-04",
                "offence": "Condução em estado de embriaguez", "sentence": "Multa de 60 dias",
                "disclose_for": [usage]
            }),
        )
        .expect(201);
    }
    let lookup = api.get(
        &format!("/api/v1/applications/{}/records", who.id),
        Some(&clerk),
    );
    assert_eq!(lookup.json().as_array().expect("records").len(), 2);
    review_and_approve(&svc, &who.id);
    wait_for_state(&svc, &who.token, &who.id, "ISSUED", Duration::from_secs(60));
    let certificates = api
        .get(
            &format!("/api/v1/applications/{}/certificates", who.id),
            Some(&who.token),
        )
        .json();
    let number = certificates[0]["number"]
        .as_str()
        .expect("number")
        .to_owned();
    let pdf = api.get(
        &format!("/api/v1/certificates/{number}/pdf"),
        Some(&who.token),
    );
    let path = svc.ws.file("records.pdf");
    std::fs::write(&path, &pdf.body).expect("save");
    if let Some(pdftotext) = oracle("pdftotext") {
        let out = std::process::Command::new(pdftotext)
            .arg(&path)
            .arg("-")
            .output()
            .expect("pdftotext");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("CR-EMP-2019-77"),
            "the employment entry is printed:\n{text}"
        );
        assert!(
            !text.contains("CR-ADO-2015-12"),
            "the adoption-only entry is not:\n{text}"
        );
    }

    // The department receives it, and is told when it is revoked.
    let credentials = api.post(
        "/api/v1/departments/DSAL/credentials",
        Some(&security),
        &json!({}),
    );
    credentials.expect(201);
    let credentials = credentials.json();
    let token = api.post("/api/v1/auth/department/token", None, &credentials);
    token.expect(200);
    let dsal = token.json()["token"].as_str().expect("token").to_owned();
    let transfers = api.get("/api/v1/transfers", Some(&dsal)).json();
    assert_eq!(transfers[0]["number"], number.as_str());
    api.post(
        &format!("/api/v1/certificates/{number}/revoke"),
        Some(&security),
        &json!({ "reason": "obtained by false declaration" }),
    )
    .expect(200);
    let transfers = api.get("/api/v1/transfers", Some(&dsal)).json();
    assert_eq!(transfers[0]["status"], "REVOKED");
    let notices = api
        .get("/api/v1/transfers/notifications", Some(&dsal))
        .json();
    assert!(
        notices
            .as_array()
            .expect("notices")
            .iter()
            .any(|n| n["reference"] == number.as_str()
                && n["body"].as_str().is_some_and(|b| b.contains(&number))),
        "{notices}"
    );
    // Every step and the officer's reads of record data are in the intact audit log.
    let log = api.get("/api/v1/audit?limit=500", Some(&security)).json();
    let actions: Vec<&str> = log
        .as_array()
        .expect("log")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    for action in [
        "application.exemption_approved",
        "application.information_requested",
        "record.read",
        "certificate.revoked",
        "certificate.downloaded",
        "session.started",
    ] {
        assert!(
            actions.contains(&action),
            "{action} missing from {actions:?}"
        );
    }
    audit_count(&svc, &security);
}

#[test]
fn a_refused_exemption_returns_the_application_to_payment() {
    let svc = IssuerService::start(None, "", &[]);
    let security = svc.staff_token(SECURITY);
    let clerk = svc.staff_token(CLERK);
    let selection = json!({ "usage": "VISA", "format": "paper", "quantity": 2, "collection_site": "SMART_LOCKER", "express": false });
    let who = identified(&svc, &security, "5550002", &selection);
    svc.api
        .post(
            &format!("/api/v1/applications/{}/exemption", who.id),
            Some(&who.token),
            &json!({ "kind": "DISABILITY", "documents": [document("EXEMPTION_FORM"), document("DISABILITY_REGISTRATION_CARD")] }),
        )
        .expect(200);
    let path = format!("/api/v1/applications/{}/exemption/decision", who.id);
    svc.api
        .post(&path, Some(&clerk), &json!({ "approve": false }))
        .expect(422);
    let refused = svc.api.post(
        &path,
        Some(&clerk),
        &json!({ "approve": false, "reason": "The card has expired." }),
    );
    refused.expect(200);
    let app = refused.json();
    assert_eq!(app["state"], "IDENTIFIED");
    assert_eq!(
        app["fee_avos"], 10_000,
        "two standard certificates: MOP 100.00"
    );
    assert_eq!(app["note"], "The card has expired.");
    pay(&svc, &who);
    let submitted = application(&svc, &who.token, &who.id);
    assert_eq!(submitted["state"], "SUBMITTED");
    assert_eq!(submitted["fee_avos"], 10_000);
}

#[test]
fn sign_in_and_one_time_passwords_are_rate_limited() {
    let svc = IssuerService::start(None, "", &[]);
    let security = svc.staff_token(SECURITY);
    // Five wrong passwords for one account from one address (127.0.0.2): that address may
    // not try the account again, even with the right password…
    let guesser = std::net::Ipv4Addr::new(127, 0, 0, 2);
    let mut from_guesser = LoopbackConnection::open(guesser, svc.port);
    for _ in 0..5 {
        from_guesser
            .post(
                "/api/v1/auth/staff/sign-in",
                &json!({ "username": CLERK, "password": "not the password at all", "code": "000000" }),
            )
            .expect(401);
    }
    let limited = from_guesser.post("/api/v1/auth/staff/sign-in", &svc.staff_credentials(CLERK));
    limited.expect(429);
    assert!(
        limited.message().contains("try again"),
        "{}",
        limited.message()
    );
    // …but the account is not locked: its owner signs in from another address (127.0.0.1),
    // at most briefly delayed by the name's back-off.
    let started = Instant::now();
    let mut from_owner = LoopbackConnection::open(std::net::Ipv4Addr::LOCALHOST, svc.port);
    from_owner
        .post("/api/v1/auth/staff/sign-in", &svc.staff_credentials(CLERK))
        .expect(200);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the owner waited {:?}",
        started.elapsed()
    );
    // Other accounts are unaffected, even from the guesser's address.
    from_guesser
        .post(
            "/api/v1/auth/staff/sign-in",
            &svc.staff_credentials(OFFICER),
        )
        .expect(200);

    // One-time passwords: a second send within 30 s is refused; five wrong codes lock it.
    let token = svc.applicant_token("4440001");
    let created = svc.api.post(
        "/api/v1/applications",
        Some(&token),
        &json!({ "usage": "STUDY", "format": "electronic", "quantity": 1, "express": false }),
    );
    let id = created.json()["id"].as_str().expect("id").to_owned();
    svc.api
        .put(
            &format!("/api/v1/applications/{id}/confirmation"),
            Some(&token),
            &json!({ "holder": holder_with_bir("LEI SIO PENG", "4440001(2)"), "language": "en", "mobile": "+85366660001", "consent_police_data": true }),
        )
        .expect(200);
    let otp = format!("/api/v1/applications/{id}/otp");
    svc.api.post(&otp, Some(&token), &json!({})).expect(202);
    let again = svc.api.post(&otp, Some(&token), &json!({}));
    again.expect(429);
    let code = svc.latest_otp(&security, "+85366660001");
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let verify = format!("/api/v1/applications/{id}/otp/verify");
    for _ in 0..5 {
        svc.api
            .post(&verify, Some(&token), &json!({ "code": wrong }))
            .expect(422);
    }
    let locked = svc
        .api
        .post(&verify, Some(&token), &json!({ "code": code }));
    locked.expect(429);
    assert_eq!(application(&svc, &token, &id)["otp_verified"], false);
}

/// A PNG of `width` × `height` 1-bit pixels, all black (an IDAT of zeros compresses about
/// a thousandfold: a large image is a small file).
fn png_of(width: u32, height: u32) -> Vec<u8> {
    use std::io::Write as _;
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        let mut crc = flate2::Crc::new();
        crc.update(kind);
        crc.update(data);
        out.extend_from_slice(&u32::try_from(data.len()).expect("chunk").to_be_bytes());
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        out.extend_from_slice(&crc.sum().to_be_bytes());
    }
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut header = Vec::new();
    header.extend_from_slice(&width.to_be_bytes());
    header.extend_from_slice(&height.to_be_bytes());
    header.extend_from_slice(&[1, 0, 0, 0, 0]); // 1 bit, grayscale, deflate, no filter, no interlace
    chunk(&mut out, b"IHDR", &header);
    let row = 1 + width.div_ceil(8) as usize;
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    let zeros = vec![0u8; row];
    for _ in 0..height {
        encoder.write_all(&zeros).expect("deflate");
    }
    chunk(&mut out, b"IDAT", &encoder.finish().expect("deflate"));
    chunk(&mut out, b"IEND", &[]);
    out
}

fn upload(kind: &str, filename: &str, media_type: &str, content: &[u8]) -> Value {
    use base64::Engine as _;
    json!({
        "kind": kind,
        "filename": filename,
        "media_type": media_type,
        "content_base64": base64::engine::general_purpose::STANDARD.encode(content),
    })
}

#[test]
fn hostile_supporting_documents_are_refused_with_nothing_stored() {
    let svc = IssuerService::start(None, "", &[]);
    let security = svc.staff_token(SECURITY);
    let clerk = svc.staff_token(CLERK);
    let selection =
        json!({ "usage": "EMPLOYMENT", "format": "electronic", "quantity": 1, "express": false });
    let who = identified(&svc, &security, "5550002", &selection);
    let pdf = ccr_tests::pdf::one_page(b"BT /F1 12 Tf 72 720 Td (IAS card) Tj ET", true);
    let form = upload("EXEMPTION_FORM", "form.pdf", "application/pdf", &pdf);
    let png = png_of(1, 1);
    let mut jpeg_then_pdf = vec![0xFF, 0xD8, 0xFF, 0xD9];
    jpeg_then_pdf.extend_from_slice(&pdf);
    let mut pdf_then_junk = pdf.clone();
    pdf_then_junk.extend_from_slice(b"<script>alert(1)</script>");
    let flate_bomb = ccr_tests::pdf::one_page(&vec![b' '; 40 * 1024 * 1024], true);
    let png_bomb = png_of(16_000, 16_000);
    let heic = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic\0\0\0\x08mdat";
    let card = |filename: &str, media_type: &str, content: &[u8]| {
        upload("IAS_BENEFICIARY_CARD", filename, media_type, content)
    };
    let cases = [
        (
            "type mismatch",
            card("card.pdf", "application/pdf", &png),
            "documents[1].content: the content is a PNG image, not application/pdf",
        ),
        (
            "polyglot (JPEG then PDF)",
            card("card.jpg", "image/jpeg", &jpeg_then_pdf),
            "bytes follow the end of the JPEG image",
        ),
        (
            "PDF with junk after %%EOF",
            card("card.pdf", "application/pdf", &pdf_then_junk),
            "not a readable PDF",
        ),
        (
            "Flate bomb in a PDF",
            card("card.pdf", "application/pdf", &flate_bomb),
            "decompressed bytes",
        ),
        (
            "PNG bomb",
            card("card.png", "image/png", &png_bomb),
            "16000 × 16000 pixels",
        ),
        (
            "HEIC",
            card("IMG_0001.HEIC", "image/jpeg", heic),
            "HEIC photos from iPhones are not accepted; export as JPEG",
        ),
        (
            "bidi file name",
            card("card\u{202E}fdp.exe", "application/pdf", &pdf),
            "documents[1].filename: U+202E",
        ),
        (
            "unknown kind",
            upload("PASSPORT_COPY", "passport.pdf", "application/pdf", &pdf),
            "documents[1].kind: \"PASSPORT_COPY\" is not one of EXEMPTION_FORM, IAS_BENEFICIARY_CARD",
        ),
    ];
    let path = format!("/api/v1/applications/{}/exemption", who.id);
    let stored = || {
        let reply = svc.api.get(
            &format!("/api/v1/applications/{}/documents", who.id),
            Some(&clerk),
        );
        reply.expect(200);
        reply.json().as_array().expect("documents").len()
    };
    for (what, bad, needle) in cases {
        let reply = svc.api.post(
            &path,
            Some(&who.token),
            &json!({ "kind": "POVERTY", "documents": [form.clone(), bad] }),
        );
        assert!(
            (400..500).contains(&reply.status),
            "{what}: {} {}",
            reply.status,
            reply.message()
        );
        assert!(
            reply.message().contains(needle),
            "{what}: {:?} does not say {needle:?}",
            reply.message()
        );
        assert_eq!(stored(), 0, "{what}: something was stored");
        assert_eq!(
            application(&svc, &who.token, &who.id)["state"],
            "IDENTIFIED"
        );
    }
    // The same request with an honest card goes through.
    svc.api
        .post(
            &path,
            Some(&who.token),
            &json!({ "kind": "POVERTY", "documents": [form, card("card.png", "image/png", &png)] }),
        )
        .expect(200);
    assert_eq!(stored(), 2);
}

/// Forwards a submitted application to an officer (the clerk's review).
fn forward(svc: &IssuerService, id: &str) {
    let clerk = svc.staff_token(CLERK);
    svc.api
        .post(
            &format!("/api/v1/applications/{id}/review"),
            Some(&clerk),
            &json!({ "action": "forward" }),
        )
        .expect(200);
}

/// A registry row written by another path than the API (an import of older data): the API
/// itself refuses entries the certificate could not print.
fn insert_legacy_record(svc: &IssuerService, id: &str, doc_key: &str, offence: &str) {
    registry(
        svc,
        &format!(
            "INSERT INTO criminal_records (id, doc_key, court, case_number, decision_date, offence, sentence, disclose_for, created_by, created_at) \
             VALUES ('{id}', '{doc_key}', 'Tribunal Judicial de Base', 'CR-{id}', '2018-01-01', '{offence}', 'Multa de 60 dias', '[]', 'import', '2020-01-01T00:00:00Z')"
        ),
    );
}

/// Issue 9 must-show 4: an officer's approval of a certificate that cannot be rendered (a
/// record entry outside the font, more entries than a certificate prints) is refused with
/// 422 naming why, and nothing is approved or queued; the registry API refuses such entries.
fn unrenderable_approval_is_refused(database: Option<&str>) {
    let svc = IssuerService::start(database, "", &[]);
    let security = svc.staff_token(SECURITY);
    let officer = svc.staff_token(OFFICER);
    let selection =
        json!({ "usage": "EMPLOYMENT", "format": "electronic", "quantity": 1, "express": false });
    let who = identified(&svc, &security, "5550002", &selection);
    pay(&svc, &who);
    forward(&svc, &who.id);
    let api = &svc.api;
    let record = |offence: &str, decision_date: &str| {
        api.post(
            "/api/v1/records",
            Some(&officer),
            &json!({
                "document": { "type": "BIR", "number": "5550002(8)" },
                "court": "Tribunal Judicial de Base", "case_number": "CR-2010-1", "decision_date": decision_date,
                "offence": offence, "sentence": "Multa de 60 dias", "disclose_for": []
            }),
        )
    };
    let added = record("Condução em estado de embriaguez", "2010-05-06");
    added.expect(201);
    let doc_key = added.json()["doc_key"]
        .as_str()
        .expect("doc_key")
        .to_owned();
    let outside_font = record("Furto \u{1F600}", "2011-05-06");
    outside_font.expect(422);
    assert!(
        outside_font.message().contains("U+1F600"),
        "{}",
        outside_font.message()
    );
    let approve = || {
        api.post(
            &format!("/api/v1/applications/{}/decision", who.id),
            Some(&officer),
            &json!({ "approve": true }),
        )
    };
    let nothing_queued = |what: &str| {
        assert_eq!(
            registry(&svc, "SELECT COUNT(*) FROM issuance_jobs"),
            "0",
            "{what}: no job queued"
        );
        assert_eq!(
            registry(&svc, "SELECT state FROM applications"),
            "CHECKED",
            "{what}: not approved"
        );
    };

    // An imported entry with a character the certificate font lacks.
    insert_legacy_record(&svc, "LEGACY-1", &doc_key, "Furto \u{1F600}");
    let refused = approve();
    refused.expect(422);
    assert!(
        refused.message().contains("record entry 2 offence")
            && refused.message().contains("U+1F600"),
        "{}",
        refused.message()
    );
    nothing_queued("a character outside the font");
    registry(&svc, "DELETE FROM criminal_records WHERE id = 'LEGACY-1'");

    // More entries than a certificate prints (20): refused at approval and by the registry.
    for i in 1..=20 {
        insert_legacy_record(&svc, &format!("LEGACY-{i:02}"), &doc_key, "Furto simples");
    }
    let refused = approve();
    refused.expect(422);
    assert!(
        refused
            .message()
            .contains("21 entries exceed the limit of 20"),
        "{}",
        refused.message()
    );
    nothing_queued("too many entries");
    let full = record("Furto simples", "2012-05-06");
    full.expect(422);
    assert!(full.message().contains("at most 20"), "{}", full.message());

    // Within the limits the same approval goes through.
    registry(&svc, "DELETE FROM criminal_records WHERE id = 'LEGACY-20'");
    let approved = approve();
    approved.expect(200);
    assert_eq!(approved.json()["state"], "APPROVED");
    assert_eq!(registry(&svc, "SELECT COUNT(*) FROM issuance_jobs"), "1");
}

#[test]
fn approval_of_an_unrenderable_certificate_is_refused_on_sqlite() {
    unrenderable_approval_is_refused(None);
}

#[test]
fn approval_of_an_unrenderable_certificate_is_refused_on_postgresql() {
    let Some(db) = PgDatabase::create() else {
        return;
    };
    unrenderable_approval_is_refused(Some(&db.url));
}

/// Issue 9 must-show 4: a job that fails the same way every time (its transfer department
/// was deactivated after the approval, while the job was held) ends FAILED at once, audited,
/// shown to staff with the reason; fixed and retried, it issues the number it reserved.
#[test]
fn a_permanently_failing_job_ends_failed_and_staff_see_it() {
    let mut svc = IssuerService::start(
        None,
        "[application]\nissuance_lease_seconds = 2\nissuance_workers = 1\nissuance_max_attempts = 3\nissuance_backoff_seconds = 1\n",
        &[(ccr_issuer_fault_env(), "60000")],
    );
    let security = svc.staff_token(SECURITY);
    let selection = json!({ "usage": "EMPLOYMENT", "format": "electronic", "quantity": 1, "express": false, "transfer_to": "DSAL" });
    let who = identified(&svc, &security, "5550003", &selection);
    pay(&svc, &who);
    review_and_approve(&svc, &who.id);
    let deadline = Instant::now() + Duration::from_secs(20);
    while registry(
        &svc,
        "SELECT COUNT(*) FROM issuance_jobs WHERE number IS NOT NULL",
    ) != "1"
    {
        assert!(Instant::now() < deadline, "the job reserved no number");
        std::thread::sleep(Duration::from_millis(100));
    }
    let reserved = registry(&svc, "SELECT number FROM issuance_jobs");
    // The receiving department is deactivated while the job is held, then the process dies.
    let departments = svc.api.get("/api/v1/departments", Some(&security));
    departments.expect(200);
    let dsal = departments
        .json()
        .as_array()
        .and_then(|all| all.iter().find(|d| d["code"] == "DSAL").cloned())
        .expect("DSAL is registered");
    let set_active = |svc: &IssuerService, active: bool| {
        svc.api
            .put(
                "/api/v1/departments/DSAL",
                Some(&svc.staff_token(SECURITY)),
                &json!({
                    "name_zh": dsal["name_zh"], "name_pt": dsal["name_pt"], "name_en": dsal["name_en"],
                    "active": active
                }),
            )
            .expect(200);
    };
    set_active(&svc, false);
    svc.kill_9();
    svc.env.clear();
    svc.restart();

    let officer = svc.staff_token(OFFICER);
    let deadline = Instant::now() + Duration::from_secs(30);
    let failed = loop {
        let reply = svc.api.get("/api/v1/jobs?state=failed", Some(&officer));
        reply.expect(200);
        let job = reply.json().as_array().and_then(|jobs| {
            jobs.iter()
                .find(|j| j["application_id"] == who.id.as_str())
                .cloned()
        });
        if let Some(job) = job {
            break job;
        }
        assert!(Instant::now() < deadline, "the job did not fail");
        std::thread::sleep(Duration::from_millis(200));
    };
    let reason = failed["last_error"].as_str().expect("last_error");
    assert!(
        reason.contains("transfer_to") && reason.contains("DSAL"),
        "{failed}"
    );
    // A permanent error is not retried: the attempt after the restart was the last one.
    assert_eq!(failed["attempts"], 2, "{failed}");
    assert_eq!(failed["number"], reserved.as_str());
    assert_eq!(failed["state"], "failed");
    // Security officers see it too; it stays failed (no more attempts) and audited.
    std::thread::sleep(Duration::from_secs(3));
    let seen = svc.api.get("/api/v1/jobs", Some(&security));
    seen.expect(200);
    assert_eq!(
        seen.json().as_array().map(Vec::len),
        Some(1),
        "{}",
        seen.json()
    );
    assert_eq!(seen.json()[0]["attempts"], 2, "not retried");
    assert_eq!(application(&svc, &who.token, &who.id)["state"], "APPROVED");
    let audit = svc.api.get("/api/v1/audit?limit=500", Some(&security));
    audit.expect(200);
    assert!(
        audit.json().to_string().contains("issuance.failed"),
        "the failure is audited"
    );
    svc.api
        .get("/api/v1/jobs?state=stuck", Some(&officer))
        .expect(422);

    // Fixed and retried by an officer: issued with the number reserved before the crash.
    set_active(&svc, true);
    let job_id = failed["id"].as_str().expect("job id");
    let retried = svc.api.post(
        &format!("/api/v1/jobs/{job_id}/retry"),
        Some(&officer),
        &json!({}),
    );
    retried.expect(202);
    wait_for_state(&svc, &who.token, &who.id, "ISSUED", Duration::from_secs(60));
    assert_eq!(registry(&svc, "SELECT number FROM certificates"), reserved);
    svc.api
        .post(
            &format!("/api/v1/jobs/{job_id}/retry"),
            Some(&officer),
            &json!({}),
        )
        .expect(409);
}
