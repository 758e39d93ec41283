//! Integrity first (issue 9): a look-alike identity-document number never yields a clean
//! certificate for a recorded person, and identity checks hold only for what they proved.
//! Over real HTTP against `issuer serve`, on SQLite and PostgreSQL.

use serde_json::{Value, json};

use ccr_tests::api::{IssuerService, OFFICER, PgDatabase, SECURITY, holder_with_bir};
use ccr_tests::{Report, check_online_out};

/// The recorded holder's number, and spellings of it that only look the same.
const RECORDED: &str = "5215299(8)";
const LOOK_ALIKES: [&str; 7] = [
    "521529\u{FF19}(8)",        // fullwidth digit nine
    "5215299\u{FF08}8\u{FF09}", // fullwidth parentheses
    "\u{0665}\u{0662}\u{0661}\u{0665}\u{0662}\u{0669}\u{0669}(\u{0668})", // Arabic-Indic digits
    "5215299(8)\u{200B}",       // zero-width space
    "5215\u{00A0}299(8)",       // no-break space
    "52152\u{0301}99(8)",       // combining acute
    "5215299(\u{1D7D6})",       // mathematical bold eight
];

fn record(document: &str, case: &str) -> Value {
    json!({
        "document": { "type": "BIR", "number": document },
        "court": "Tribunal Judicial de Base", "case_number": case,
        "decision_date": "2021-03-04", "offence": "Burla", "sentence": "Multa de 90 dias",
        "disclose_for": []
    })
}

fn look_alikes_never_give_a_clean_certificate(database: Option<&str>) {
    let svc = IssuerService::start(database, "", &[]);
    let officer = svc.staff_token(OFFICER);
    let security = svc.staff_token(SECURITY);
    let added = svc.api.post(
        "/api/v1/records",
        Some(&officer),
        &record(RECORDED, "CR1-21-0001-PCS"),
    );
    added.expect(201);
    let key = added.json()["doc_key"]
        .as_str()
        .expect("doc_key")
        .to_owned();

    // The reverse direction: a record entered with a look-alike is refused, a visible
    // variant is canonicalised to the same key.
    for alike in LOOK_ALIKES {
        let refused = svc
            .api
            .post("/api/v1/records", Some(&officer), &record(alike, "X"));
        refused.expect(422);
        assert!(
            refused.message().contains("document.number"),
            "{alike:?}: {}",
            refused.message()
        );
    }
    let spaced = svc.api.post(
        "/api/v1/records",
        Some(&officer),
        &record("5215299 (8)", "CR1-22-0002-PCS"),
    );
    spaced.expect(201);
    assert_eq!(spaced.json()["doc_key"], key.as_str());
    assert_eq!(spaced.json()["document"]["number"], RECORDED);

    // The holder tries every look-alike at step 2: each is refused, naming the field and the
    // character, and the application does not move.
    let token = svc.applicant_token("holder-with-a-record");
    let id = svc.select(&token);
    for alike in LOOK_ALIKES {
        let refused = svc.confirm(
            &token,
            &id,
            &holder_with_bir("CHAN TAI MAN", alike),
            "6123 4567",
        );
        refused.expect(422);
        let message = refused.message();
        assert!(
            message.contains("holder.document.number") && message.contains("U+"),
            "{alike:?}: {message}"
        );
        let app = svc
            .api
            .get(&format!("/api/v1/applications/{id}"), Some(&token));
        assert_eq!(app.json()["state"], "SELECTED", "{alike:?}");
    }

    // The number without its parentheses is the same number, printed canonically, and the
    // certificate lists both record entries.
    let confirmed = svc.confirm(
        &token,
        &id,
        &holder_with_bir("CHAN TAI MAN", "52152998"),
        "6123 4567",
    );
    confirmed.expect(200);
    assert_eq!(confirmed.json()["holder"]["document"]["number"], RECORDED);
    svc.pass_otp(&security, &token, &id, "+85361234567")
        .expect(200);
    let identified = svc.pass_face(&token, &id);
    identified.expect(200);
    assert_eq!(identified.json()["state"], "IDENTIFIED");
    svc.pay_in_sandbox(&token, &id);
    svc.forward(&id);
    svc.decide(&id, &json!({ "approve": true })).expect(200);
    let pdf = svc.issued_pdf(&token, &id);
    let path = svc.ws.file("recorded.pdf");
    std::fs::write(&path, pdf).expect("save");
    let report = Report::parse(check_online_out(
        &path,
        &svc.home().join("pki").join("root.pem"),
        &svc.ws.file("verifier-cache"),
        None,
    ));
    report.assert_verdict("VALID");
    assert_eq!(
        report.json["certificate"]["record_result"], 2,
        "both entries are on the certificate: {}",
        report.json
    );
}

#[test]
fn look_alike_document_numbers_never_give_a_clean_certificate_on_sqlite() {
    look_alikes_never_give_a_clean_certificate(None);
}

#[test]
fn look_alike_document_numbers_never_give_a_clean_certificate_on_postgresql() {
    let Some(db) = PgDatabase::create() else {
        return;
    };
    look_alikes_never_give_a_clean_certificate(Some(&db.url));
}

fn checks(svc: &IssuerService, token: &str, id: &str) -> (bool, bool, Value) {
    let app = svc
        .api
        .get(&format!("/api/v1/applications/{id}"), Some(token));
    app.expect(200);
    let app = app.json();
    (
        app["otp_verified"].as_bool().expect("otp_verified"),
        app["face_verified"].as_bool().expect("face_verified"),
        app,
    )
}

#[test]
fn a_changed_mobile_or_holder_clears_the_identity_checks() {
    let svc = IssuerService::start(None, "", &[]);
    let security = svc.staff_token(SECURITY);
    let holder = holder_with_bir("CHAN TAI MAN", "1234567(8)");

    // A code sent to one number proves nothing once the application names another.
    let token = svc.applicant_token("changes-their-number");
    let id = svc.select(&token);
    svc.confirm(&token, &id, &holder, "6123 4567").expect(200);
    svc.api
        .post(
            &format!("/api/v1/applications/{id}/otp"),
            Some(&token),
            &json!({}),
        )
        .expect(202);
    let code_for_old_number = svc.latest_otp(&security, "+85361234567");
    svc.confirm(&token, &id, &holder, "6555 0000").expect(200);
    svc.api
        .post(
            &format!("/api/v1/applications/{id}/otp/verify"),
            Some(&token),
            &json!({ "code": code_for_old_number }),
        )
        .expect(422);
    assert!(!checks(&svc, &token, &id).0);

    // A passed check survives confirming the same data again, not another number.
    let token = svc.applicant_token("changes-their-number-later");
    let id = svc.select(&token);
    svc.confirm(&token, &id, &holder, "6777 0000").expect(200);
    svc.pass_otp(&security, &token, &id, "+85367770000")
        .expect(200);
    assert!(checks(&svc, &token, &id).0);
    svc.confirm(&token, &id, &holder, "6777-0000").expect(200);
    assert!(
        checks(&svc, &token, &id).0,
        "the same number, spaced otherwise"
    );
    let cleared = svc.confirm(&token, &id, &holder, "6888 0000");
    cleared.expect(200);
    assert_eq!(cleared.json()["otp_verified"], false, "{}", cleared.json());
    // The face check alone does not identify.
    svc.pass_face(&token, &id).expect(200);
    assert_eq!(checks(&svc, &token, &id).2["state"], "CONFIRMED");

    // A passed face check is cleared by another holder; passing both again identifies.
    let token = svc.applicant_token("changes-the-holder");
    let id = svc.select(&token);
    svc.confirm(&token, &id, &holder, "6999 0000").expect(200);
    svc.pass_face(&token, &id).expect(200);
    let changed = svc.confirm(
        &token,
        &id,
        &holder_with_bir("CHAN TAI MAN", "7654321(0)"),
        "6999 0000",
    );
    changed.expect(200);
    assert_eq!(changed.json()["face_verified"], false, "{}", changed.json());
    let passed = svc.pass_otp(&security, &token, &id, "+85369990000");
    passed.expect(200);
    assert_eq!(
        passed.json()["state"],
        "CONFIRMED",
        "the face check no longer holds"
    );
    let identified = svc.pass_face(&token, &id);
    identified.expect(200);
    assert_eq!(identified.json()["state"], "IDENTIFIED");
    // Once identified, the same details confirmed again ("Change" from check your answers,
    // nothing changed) stay identified; changed details go back to step 3.
    let same = svc.confirm(
        &token,
        &id,
        &holder_with_bir("CHAN TAI MAN", "7654321(0)"),
        "6999 0000",
    );
    same.expect(200);
    assert_eq!(same.json()["state"], "IDENTIFIED", "{}", same.json());
    let back = svc.confirm(&token, &id, &holder, "6999 0000");
    back.expect(200);
    assert_eq!(back.json()["state"], "CONFIRMED", "{}", back.json());
    assert_eq!(back.json()["otp_verified"], false, "{}", back.json());
    assert_eq!(back.json()["face_verified"], false, "{}", back.json());

    // The clearings are in the audit trail.
    let audit = svc.api.get("/api/v1/audit?limit=500", Some(&security));
    audit.expect(200);
    let cleared = audit
        .json()
        .to_string()
        .matches(r#"\"identity_checks_cleared\":true"#)
        .count();
    assert_eq!(cleared, 3, "{}", audit.json());
}

/// The development provider stands in for a provider that verifies a document: a holder
/// other than that document is flagged, and only an officer's reason approves it.
#[test]
fn a_holder_other_than_the_verified_document_needs_an_audited_override() {
    let svc = IssuerService::start(None, "", &[]);
    let security = svc.staff_token(SECURITY);
    let signed_in = svc.api.post(
        "/api/v1/auth/dev/sign-in",
        None,
        &json!({ "subject": "verified-person", "document": { "type": "BIR", "number": "1234567(8)" } }),
    );
    signed_in.expect(200);
    let token = signed_in.json()["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let id = svc.select(&token);
    let confirmed = svc.confirm(
        &token,
        &id,
        &holder_with_bir("WONG SIU MING", "7654321(0)"),
        "6123 4567",
    );
    confirmed.expect(200);
    let mismatch = confirmed.json()["identity_mismatch"]
        .as_str()
        .expect("mismatch shown")
        .to_owned();
    assert!(
        mismatch.contains("BIR:76543210") && mismatch.contains("BIR:12345678"),
        "{mismatch}"
    );
    svc.pass_otp(&security, &token, &id, "+85361234567")
        .expect(200);
    svc.pass_face(&token, &id).expect(200);
    svc.pay_in_sandbox(&token, &id);
    svc.forward(&id);
    let refused = svc.decide(&id, &json!({ "approve": true }));
    refused.expect(422);
    assert!(
        refused.message().contains("identity_override"),
        "{}",
        refused.message()
    );
    let approved = svc.decide(
        &id,
        &json!({ "approve": true, "identity_override": "guardian applying for a ward; court order 12/2026 seen" }),
    );
    approved.expect(200);
    assert_eq!(approved.json()["state"], "APPROVED");
    assert!(
        approved.json()["identity_override"]
            .as_str()
            .is_some_and(|r| r.contains("court order"))
    );
    let audit = svc.api.get("/api/v1/audit/verify", Some(&security));
    audit.expect(200);
    assert_eq!(audit.json()["intact"], true);
}
