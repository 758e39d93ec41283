//! One end-to-end run of the back office and the department portal in headless Chromium at
//! 1280×800 (issue 11, must-show 1): a clerk asks for information, the applicant answers in
//! the applicant portal, the clerk forwards; the officer reads the record entries and
//! approves; the certificate is issued and the applicant downloads it; the security officer
//! revokes it; the receiving department's user sees it REVOKED with an unread notice and
//! acknowledges it. The clerk's forwarding and the officer's approval are done with the
//! keyboard only. Every page passes axe-core (WCAG 2.0/2.1/2.2 A and AA). Skipped (with a
//! printed reason) without node, the npm packages or Chromium, unless
//! `CCR_REQUIRE_ORACLES=1`.

use std::time::Duration;

use ccr_tests::api::{CLERK, IssuerService, OFFICER, SECURITY, STAFF_PASSWORD};
use serde_json::{Value, json};

const DEPARTMENT_USER: &str = "dsal.lam";
const SUBJECT: &str = "MO-back-office-1";
const DESKTOP: (u32, u32) = (1280, 800);
const PHONE: (u32, u32) = (360, 740);

/// A screenshot step into `docs/back-office/` (committed: the README shows them).
fn shot(name: &str) -> Value {
    let dir = ccr_tests::workspace_root().join("docs").join("back-office");
    std::fs::create_dir_all(&dir).expect("docs/back-office");
    json!({ "screenshot": dir.join(format!("{name}.png")).to_string_lossy() })
}

/// Runs one browser run of `steps`; `None` when the browser is missing.
fn run(svc: &IssuerService, name: &str, steps: Vec<Value>, viewport: (u32, u32)) -> Option<Value> {
    let driver = ccr_tests::browser_driver("portal.mjs")?;
    let scenario = json!({ "base": svc.api.base, "runs": [{
        "lang": "en-GB",
        "viewport": { "width": viewport.0, "height": viewport.1 },
        "steps": steps,
    }] });
    let file = svc.ws.file(format!("{name}.json"));
    std::fs::write(&file, serde_json::to_vec(&scenario).expect("json")).expect("write");
    let out = ccr_tests::run_with_timeout(
        std::process::Command::new(&driver.node)
            .arg(&driver.script)
            .arg(&file),
        Duration::from_secs(600),
    );
    let report: Value = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|_| panic!("portal.mjs said:\n{}\n{}", out.stdout, out.stderr));
    assert_eq!(report["ok"], true, "{name}: {report:#}");
    let checks = report["checks"].as_array().expect("checks");
    assert!(!checks.is_empty(), "{name}: no page was checked");
    for check in checks {
        let label = check["label"].as_str().unwrap_or_default();
        assert_eq!(check["violations"], json!([]), "{name}, {label}: {check:#}");
        assert_eq!(check["axe"], true, "{name}, {label}: axe ran");
        let expected = label.rsplit_once('@').map_or("en", |(_, tag)| tag);
        assert_eq!(check["lang"], expected, "{name}, {label}");
    }
    Some(report)
}

/// Signs in at `base` with the mouse: password, then the next unused code.
fn sign_in(svc: &IssuerService, base: &str, user: &str) -> Vec<Value> {
    vec![
        json!({ "open": format!("{base}/sign-in?lang=en") }),
        json!({ "check": format!("{base} sign-in") }),
        json!({ "fill": "#username", "value": user }),
        json!({ "fill": "#password", "value": STAFF_PASSWORD }),
        json!({ "click": "main form button.button" }),
        json!({ "expect_url": "/sign-in/code" }),
        json!({ "check": format!("{base} second factor") }),
        shot(&format!("00-{}-second-factor", &base[1..])),
        json!({ "fill": "#code", "value": svc.staff_code(user) }),
        json!({ "click": "main form button.button" }),
    ]
}

/// Signs in at `base` with the keyboard only.
fn sign_in_by_keyboard(svc: &IssuerService, base: &str, user: &str) -> Vec<Value> {
    vec![
        json!({ "open": format!("{base}/sign-in?lang=en") }),
        json!({ "tab_to": "#username" }),
        json!({ "type": user }),
        json!({ "tab_to": "#password" }),
        json!({ "type": STAFF_PASSWORD }),
        json!({ "press": "Enter" }),
        json!({ "expect_url": "/sign-in/code" }),
        json!({ "tab_to": "#code" }),
        json!({ "type": svc.staff_code(user) }),
        json!({ "press": "Enter" }),
    ]
}

/// An applicant's electronic application, transferred to DSAL, paid and submitted (over
/// the API); answers the applicant's token and the reference.
fn submitted_application(svc: &IssuerService) -> (String, String) {
    let security = svc.staff_token(SECURITY);
    let token = svc.applicant_token(SUBJECT);
    let created = svc.api.post(
        "/api/v1/applications",
        Some(&token),
        &json!({ "usage": "EMPLOYMENT", "format": "electronic", "quantity": 1,
                 "express": false, "transfer_to": "DSAL" }),
    );
    created.expect(201);
    let id = created.json()["id"].as_str().expect("id").to_owned();
    let mobile = "+85362221111";
    svc.confirm(
        &token,
        &id,
        &ccr_tests::api::holder_with_bir("CHAN TAI MAN", "5215299(8)"),
        mobile,
    )
    .expect(200);
    svc.pass_otp(&security, &token, &id, mobile).expect(200);
    svc.pass_face(&token, &id).expect(200);
    svc.pay_in_sandbox(&token, &id);
    (token, id)
}

fn state_of(svc: &IssuerService, token: &str, id: &str) -> String {
    let reply = svc
        .api
        .get(&format!("/api/v1/applications/{id}"), Some(token));
    reply.expect(200);
    reply.json()["state"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn review_approval_download_revocation_and_the_departments_notice_in_chromium() {
    let svc = IssuerService::start(None, "", &[]);
    if ccr_tests::browser_driver("portal.mjs").is_none() {
        return;
    }
    svc.add_department_user("DSAL", DEPARTMENT_USER)
        .assert_success();
    // A record entry of the holder, disclosed for another usage only: the officer sees it,
    // the employment certificate will not show it.
    svc.api
        .post(
            "/api/v1/records",
            Some(&svc.staff_token(OFFICER)),
            &json!({ "document": { "type": "BIR", "number": "5215299(8)" },
                     "court": "Tribunal Judicial de Base", "case_number": "CR1-21-0042-PCS",
                     "decision_date": "2021-06-15", "offence": "Condução em estado de embriaguez",
                     "sentence": "Multa de MOP 6.000", "disclose_for": ["ADOPTION"] }),
        )
        .expect(201);
    let (token, id) = submitted_application(&svc);
    let case = format!("a[href^='/staff/applications/{id}']");

    // 1. The clerk asks for information.
    let mut steps = sign_in(&svc, "/staff", CLERK);
    steps.extend([
        json!({ "expect_url": "/staff" }),
        json!({ "check": "queue" }),
        shot("01-queue"),
        json!({ "click": case }),
        json!({ "expect_url": format!("/staff/applications/{id}") }),
        json!({ "check": "case (submitted)" }),
        shot("02-case"),
        json!({ "fill": "#message", "value": "Please upload your employment contract." }),
        json!({ "click": "form[action*='/review'] button.button--secondary" }),
        json!({ "expect_text": "Done: Request information" }),
        json!({ "check": "case after the request" }),
    ]);
    run(&svc, "clerk-requests", steps, DESKTOP);
    assert_eq!(state_of(&svc, &token, &id), "INFORMATION_REQUESTED");

    // 2. The applicant answers in the portal (on a phone).
    let steps = vec![
        json!({ "open": format!("/applications/{id}?lang=en") }),
        json!({ "fill": "#subject", "value": SUBJECT }),
        json!({ "click": "main form button.button" }),
        json!({ "expect_url": format!("/applications/{id}") }),
        json!({ "expect_text": "Please upload your employment contract." }),
        json!({ "check": "applicant sees the request" }),
        json!({ "fill": "#message", "value": "The contract is attached." }),
        json!({ "click": "form[action*='/information'] button" }),
        json!({ "check": "applicant after answering" }),
    ];
    run(&svc, "applicant-answers", steps, PHONE);
    assert_eq!(state_of(&svc, &token, &id), "SUBMITTED");

    // 3. The clerk forwards, with the keyboard only.
    let mut steps = sign_in_by_keyboard(&svc, "/staff", CLERK);
    steps.extend([
        json!({ "expect_url": "/staff" }),
        json!({ "tab_to": case }),
        json!({ "press": "Enter" }),
        json!({ "expect_text": "The contract is attached." }),
        // Under its own label, not an English "applicant:" prefix.
        json!({ "expect_text": "The applicant's answer" }),
        json!({ "tab_to": "#forward" }),
        json!({ "press": "Enter" }),
        json!({ "expect_text": "Done: Checked: forward to an officer" }),
        json!({ "check": "case after forwarding" }),
    ]);
    run(&svc, "clerk-forwards", steps, DESKTOP);
    assert_eq!(state_of(&svc, &token, &id), "CHECKED");

    // 4. The officer reads the record entries and approves, with the keyboard only.
    let mut steps = sign_in_by_keyboard(&svc, "/staff", OFFICER);
    steps.extend([
        json!({ "expect_url": "/staff" }),
        json!({ "tab_to": case }),
        json!({ "press": "Enter" }),
        json!({ "tab_to": "#read-records" }),
        json!({ "press": "Enter" }),
        json!({ "expect_url": format!("/staff/applications/{id}/records") }),
        json!({ "expect_text": "CR1-21-0042-PCS" }),
        json!({ "check": "record entries" }),
        shot("03-record-entries"),
        // A wrong confirmation is refused and says why.
        json!({ "tab_to": "#approve-confirm" }),
        json!({ "type": "A-WRONG" }),
        json!({ "press": "Enter" }),
        json!({ "expect_text": "The reference typed is not this case's" }),
        json!({ "check": "approval with a wrong confirmation" }),
        json!({ "tab_to": "#approve-confirm" }),
        json!({ "type": id }),
        json!({ "press": "Enter" }),
        json!({ "expect_text": "Done: Approve and issue" }),
        json!({ "check": "case after approval" }),
        // The registry: the holder's entries and one entry's page.
        json!({ "open": "/staff/records?lang=en&type=BIR&number=5215299%288%29" }),
        json!({ "expect_text": "CR1-21-0042-PCS" }),
        json!({ "check": "registry lookup" }),
        json!({ "click": "a[href^='/staff/records/R']" }),
        json!({ "check": "record entry" }),
        json!({ "open": "/staff/records?lang=pt&type=BIR&number=5215299%288%29" }),
        json!({ "check": "registry lookup @pt-MO" }),
    ]);
    run(&svc, "officer-approves", steps, DESKTOP);

    // The certificate is issued; the applicant downloads it from the portal.
    let issued = svc.issued_pdf(&token, &id);
    let download = svc.ws.file("downloaded.pdf");
    let steps = vec![
        json!({ "open": format!("/applications/{id}?lang=en") }),
        json!({ "fill": "#subject", "value": SUBJECT }),
        json!({ "click": "main form button.button" }),
        json!({ "check": "application issued" }),
        json!({ "download": "a[href^='/download/']", "save": download.to_string_lossy() }),
    ];
    run(&svc, "applicant-downloads", steps, PHONE);
    assert_eq!(std::fs::read(&download).expect("download"), issued);
    let certificates = svc.api.get(
        &format!("/api/v1/applications/{id}/certificates"),
        Some(&token),
    );
    certificates.expect(200);
    let number = certificates.json()[0]["number"]
        .as_str()
        .expect("certificate number")
        .to_owned();

    // 5. The security officer revokes it.
    let mut steps = sign_in(&svc, "/staff", SECURITY);
    steps.extend([
        json!({ "expect_url": "/staff/certificates" }),
        json!({ "check": "find a certificate" }),
        json!({ "fill": "#number", "value": number }),
        json!({ "click": "main form button.button" }),
        json!({ "expect_url": format!("/staff/certificates/{number}") }),
        json!({ "check": "certificate" }),
        json!({ "choose": "#status-revoke" }),
        json!({ "fill": "#status-reason", "value": "Issued on a forged identity card" }),
        json!({ "fill": "#status-confirm", "value": number }),
        json!({ "click": "form[action*='/status'] button.button" }),
        json!({ "expect_text": "Done: Revoke" }),
        json!({ "expect_text": "Revoked" }),
        json!({ "check": "certificate revoked" }),
        shot("04-certificate-revoked"),
        json!({ "open": "/staff/audit?lang=en" }),
        json!({ "expect_text": "Audit log intact: hash chain verified" }),
        json!({ "expect_text": "record.read" }),
        json!({ "check": "audit log" }),
        shot("05-audit-log"),
        json!({ "open": "/staff/departments?lang=en" }),
        json!({ "check": "departments" }),
        json!({ "open": "/staff/accounts?lang=en" }),
        json!({ "check": "staff accounts" }),
        json!({ "fill": "#username", "value": "clerk.new" }),
        json!({ "fill": "#password", "value": "a long enough password" }),
        json!({ "choose": "#role-clerk" }),
        json!({ "click": "form[action^='/staff/accounts?'] button.button" }),
        json!({ "expect_text": "Set up the second factor" }),
        json!({ "check": "enrolment shown once" }),
        json!({ "open": "/staff/outbox?lang=en" }),
        json!({ "check": "development outbox" }),
        json!({ "open": "/staff/audit?lang=zh" }),
        json!({ "check": "audit log @zh-Hant-MO" }),
        json!({ "open": "/staff/accounts?lang=pt" }),
        json!({ "check": "staff accounts @pt-MO" }),
    ]);
    run(&svc, "security-revokes", steps, DESKTOP);

    // 6. The department's user sees it REVOKED with an unread notice, and acknowledges it.
    let mut steps = sign_in(&svc, "/department", DEPARTMENT_USER);
    steps.extend([
        json!({ "expect_url": "/department" }),
        json!({ "expect_text": number }),
        json!({ "expect_text": "Revoked" }),
        json!({ "expect_text": "Unread notices: 1" }),
        json!({ "check": "department inbox" }),
        shot("06-department-inbox"),
        json!({ "click": "a[href^='/department/notices']" }),
        json!({ "expect_text": "Issued on a forged identity card" }),
        json!({ "check": "notices (unread)" }),
        shot("07-department-notices"),
        json!({ "click": "form[action*='/acknowledge'] button" }),
        json!({ "expect_text": "Done: Acknowledge" }),
        json!({ "expect_text": format!("Acknowledged: department:DSAL/{DEPARTMENT_USER}") }),
        json!({ "check": "notices (acknowledged)" }),
        json!({ "open": "/department?lang=en" }),
        json!({ "check": "inbox after acknowledging" }),
        json!({ "click": format!("a[href^='/department/certificates/{number}']") }),
        json!({ "check": "received certificate" }),
        json!({ "open": "/department/notices?lang=zh" }),
        json!({ "check": "notices @zh-Hant-MO" }),
    ]);
    run(&svc, "department-acknowledges", steps, DESKTOP);

    // 7. The same pages on a 360 px phone in the three languages: axe-core and no sideways
    // scrolling on each, a screenshot of each language.
    let mut steps = sign_in(&svc, "/staff", OFFICER);
    steps.extend([
        json!({ "open": "/staff?lang=zh" }),
        json!({ "check": "queue @zh-Hant-MO" }),
        shot("phone-queue-zh"),
        json!({ "open": format!("/staff/applications/{id}?lang=pt") }),
        json!({ "check": "case @pt-MO" }),
        shot("phone-case-pt"),
        json!({ "open": format!("/staff/applications/{id}/records?lang=en") }),
        json!({ "check": "record entries" }),
        json!({ "open": format!("/staff/applications/{id}/records?lang=zh") }),
        json!({ "check": "record entries @zh-Hant-MO" }),
    ]);
    run(&svc, "officer-on-a-phone", steps, PHONE);
    let mut steps = sign_in(&svc, "/staff", SECURITY);
    steps.extend([
        json!({ "open": format!("/staff/certificates/{number}?lang=en") }),
        json!({ "check": "certificate" }),
        shot("phone-certificate-en"),
        json!({ "open": format!("/staff/certificates/{number}?lang=pt") }),
        json!({ "check": "certificate @pt-MO" }),
        json!({ "open": "/staff/audit?lang=pt" }),
        json!({ "check": "audit log @pt-MO" }),
    ]);
    run(&svc, "security-on-a-phone", steps, PHONE);
    let mut steps = sign_in(&svc, "/department", DEPARTMENT_USER);
    steps.extend([
        json!({ "open": "/department?lang=pt" }),
        json!({ "check": "department inbox @pt-MO" }),
        shot("phone-department-inbox-pt"),
        json!({ "open": format!("/department/certificates/{number}?lang=zh") }),
        json!({ "check": "received certificate @zh-Hant-MO" }),
        shot("phone-department-certificate-zh"),
        json!({ "open": "/department/notices?lang=en" }),
        json!({ "check": "notices" }),
    ]);
    run(&svc, "department-on-a-phone", steps, PHONE);

    // Every staff read of record data and every action is in the audit log, by name.
    let audit = svc
        .api
        .get("/api/v1/audit?limit=500", Some(&svc.staff_token(SECURITY)));
    audit.expect(200);
    let entries = audit.json();
    let has = |actor: &str, action: &str| {
        entries
            .as_array()
            .expect("entries")
            .iter()
            .any(|e| e["actor"].as_str() == Some(actor) && e["action"].as_str() == Some(action))
    };
    for (actor, action) in [
        (
            format!("clerk:{CLERK}"),
            "application.information_requested",
        ),
        (format!("clerk:{CLERK}"), "application.checked"),
        (format!("officer:{OFFICER}"), "record.read"),
        (format!("officer:{OFFICER}"), "application.approved"),
        (
            format!("security_officer:{SECURITY}"),
            "certificate.revoked",
        ),
        (
            format!("department:DSAL/{DEPARTMENT_USER}"),
            "notice.acknowledged",
        ),
    ] {
        assert!(has(&actor, action), "no {action} by {actor} in {entries:#}");
    }
}
