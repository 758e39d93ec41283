//! Authorisation of the issuer service, route by route and caller by caller (SPEC §1, §7):
//! every route of `issuer serve` (the application API of `issuer/src/http/api/mod.rs` and the
//! public router of `issuer/src/http/server.rs`) is called by every kind of caller (anonymous, two
//! applicants, clerk, officer, security officer, the department a certificate was transferred
//! to and one it was not) against real data driven through the API, and each answer is
//! classified: allowed (the role check passed: 2xx, or a 4xx of the handler's own such as 409
//! or 422), 401, 403, or 404 hiding someone else's data. Bad bearer tokens (garbage, malformed,
//! signed out, expired) are 401 on every route that reads the caller. The table must name every
//! declared route, so a new route without a row fails here. Every mismatch is listed at once.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use base64::Engine as _;
use ccr_tests::api::{Api, CLERK, IssuerService, OFFICER, Reply, SECURITY, STAFF_PASSWORD};
use serde_json::{Value, json};

const A_SUBJECT: &str = "authz-applicant-a";
const B_SUBJECT: &str = "authz-applicant-b";
const A_NAME: &str = "CHAN TAI MAN";
const A_DOCUMENT: &str = "1234567(8)";
const A_MOBILE: &str = "+85361234567";
const B_NAME: &str = "LEI SIO WA";
const B_DOCUMENT: &str = "7654321(0)";
const B_MOBILE: &str = "+85362345678";

/// The start of a JFIF file: enough for the development face matcher.
const TINY_JPEG: &[u8] = &[
    0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00, 0x01, 0x01, 0x00, 0x00, 0x01,
    0x00, 0x01, 0x00, 0x00, 0xFF, 0xD9,
];

// ---------------------------------------------------------------------------------------------
// Callers and outcomes

/// Who calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Who {
    Anonymous,
    ApplicantA,
    ApplicantB,
    Clerk,
    Officer,
    Security,
    /// The department A's certificate was transferred to.
    Dsal,
    /// A department with credentials but no transfers.
    Psp,
}

impl Who {
    const ALL: [Who; 8] = [
        Who::Anonymous,
        Who::ApplicantA,
        Who::ApplicantB,
        Who::Clerk,
        Who::Officer,
        Who::Security,
        Who::Dsal,
        Who::Psp,
    ];

    fn index(self) -> usize {
        self as usize
    }
}

/// A bearer credential that opens no session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum BadToken {
    /// Random text never issued.
    Garbage,
    /// `Authorization: Basic …` (not a bearer token).
    Malformed,
    /// A real token whose session was ended by `POST /api/v1/auth/sign-out`.
    SignedOut,
}

/// The class of outcome a cell expects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    /// The role check passed: 2xx, or a 4xx of the handler itself (not 401/403/404, not an
    /// extractor rejection of the body).
    Allowed,
    /// 401.
    Unauthenticated,
    /// A sign-in refused: 401, or 429 after too many attempts.
    Refused,
    /// 403.
    Forbidden,
    /// 404 `not_found`: someone else's data, indistinguishable from a wrong reference.
    Hidden,
    /// 404: the feature (OIDC) is not configured in this service.
    Unconfigured,
}

fn error_code(reply: &Reply) -> Option<String> {
    serde_json::from_slice::<Value>(&reply.body)
        .ok()
        .and_then(|v| v["error"]["code"].as_str().map(str::to_owned))
}

impl Expect {
    fn matches(self, reply: &Reply) -> bool {
        let status = reply.status;
        match self {
            Expect::Allowed => {
                let message = reply.message();
                let extractor_rejection = message
                    .starts_with("the request body does not match the schema")
                    || message.starts_with("the request body is not valid JSON")
                    || matches!(status, 405 | 413 | 415);
                (200..300).contains(&status)
                    || ((400..500).contains(&status)
                        && !matches!(status, 401 | 403 | 404)
                        && !extractor_rejection)
            }
            Expect::Unauthenticated => status == 401,
            Expect::Refused => matches!(status, 401 | 429),
            Expect::Forbidden => status == 403,
            Expect::Hidden => status == 404 && error_code(reply).as_deref() == Some("not_found"),
            Expect::Unconfigured => status == 404 && reply.message().contains("configured"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The table

/// A request body.
#[derive(Clone, Debug)]
enum Payload {
    None,
    Json(Value),
    /// Raw bytes with their own headers (the gateway callback).
    Raw(Vec<(String, String)>, Vec<u8>),
}

/// One route with every caller's expected outcome.
#[derive(Clone, Debug)]
struct Row {
    method: &'static str,
    /// The path as declared in the router.
    template: &'static str,
    /// The path called (real ids filled in).
    path: String,
    payload: Payload,
    /// The handler reads the caller (the `Caller` extractor), so a bad token is 401.
    reads_session: bool,
    /// Each caller uses a fresh session of its own (the call ends it).
    fresh_session: bool,
    expect: [Expect; 8],
}

/// A route for signed-in callers: anonymous 401, everyone else 403 until allowed.
fn route(method: &'static str, template: &'static str, path: impl Into<String>) -> Row {
    let mut expect = [Expect::Forbidden; 8];
    expect[Who::Anonymous.index()] = Expect::Unauthenticated;
    Row {
        method,
        template,
        path: path.into(),
        payload: Payload::None,
        reads_session: true,
        fresh_session: false,
        expect,
    }
}

impl Row {
    fn json(mut self, body: Value) -> Self {
        self.payload = Payload::Json(body);
        self
    }

    fn allow(mut self, who: &[Who]) -> Self {
        for w in who {
            self.expect[w.index()] = Expect::Allowed;
        }
        self
    }

    fn hide(mut self, who: &[Who]) -> Self {
        for w in who {
            self.expect[w.index()] = Expect::Hidden;
        }
        self
    }

    /// No session involved: everyone, anonymous included, is allowed.
    fn public(mut self) -> Self {
        self.reads_session = false;
        self.expect = [Expect::Allowed; 8];
        self
    }

    /// No session involved, and the feature is not configured: 404 for everyone.
    fn unconfigured(mut self) -> Self {
        self.reads_session = false;
        self.expect = [Expect::Unconfigured; 8];
        self
    }

    /// Every caller, anonymous included, is refused (401, or 429 once the name's attempts
    /// from this address are used up).
    fn refused_to_everyone(mut self) -> Self {
        self.expect = [Expect::Refused; 8];
        self
    }

    fn fresh_session(mut self) -> Self {
        self.fresh_session = true;
        self
    }

    /// What a bad bearer credential gets: 401 wherever the caller is read, else whatever
    /// an anonymous caller gets (the header is not looked at).
    fn expect_bad_token(&self) -> Expect {
        if self.reads_session {
            Expect::Unauthenticated
        } else {
            self.expect[Who::Anonymous.index()]
        }
    }

    fn send(&self, api: &Api, token: Option<&str>, extra: &[(&str, &str)]) -> Reply {
        match &self.payload {
            Payload::None => api.raw(self.method, &self.path, token, extra, None),
            Payload::Json(body) => {
                let mut headers = vec![("content-type", "application/json")];
                headers.extend_from_slice(extra);
                api.raw(
                    self.method,
                    &self.path,
                    token,
                    &headers,
                    Some(body.to_string().into_bytes()),
                )
            }
            Payload::Raw(own, bytes) => {
                let mut headers: Vec<(&str, &str)> =
                    own.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                headers.extend_from_slice(extra);
                api.raw(
                    self.method,
                    &self.path,
                    token,
                    &headers,
                    Some(bytes.clone()),
                )
            }
        }
    }
}

/// The real data the rows refer to.
#[derive(Debug)]
struct Fixture {
    /// A's application, ISSUED, electronic, transferred to DSAL.
    a_app: String,
    /// A's completed payment.
    payment: String,
    /// The sandbox gateway's signed callback of that payment (body, signature).
    callback: (String, String),
    /// A's certificate.
    number: String,
    /// DSAL's client credentials.
    dsal: (String, String),
    /// The issuance job of A's certificate (done: a retry is refused with 409).
    job: String,
}

/// Every route × caller. State-changing calls come after the reads that need the state, the
/// certificate status changes near the end, sign-out (fresh sessions) last.
fn table(f: &Fixture) -> Vec<Row> {
    use Who::{ApplicantA as A, ApplicantB as B, Clerk, Dsal, Officer, Psp, Security};
    let everyone = [A, B, Clerk, Officer, Security, Dsal, Psp];
    let app = |suffix: &str| format!("/api/v1/applications/{}{suffix}", f.a_app);
    let cert = |suffix: &str| format!("/api/v1/certificates/{}{suffix}", f.number);
    let holder = json!({
        "holder": {
            "name_latin": A_NAME,
            "name_chinese": null,
            "date_of_birth": "1990-01-31",
            "document": { "type": "BIR", "number": A_DOCUMENT }
        },
        "language": "en",
        "mobile": A_MOBILE,
        "consent_police_data": true
    });
    vec![
        // The public router (server.rs).
        route("GET", "/status/{list}", "/status/1").public(),
        route("GET", "/trust", "/trust").public(),
        route("GET", "/trust.pem", "/trust.pem").public(),
        route("GET", "/api/v1/trust", "/api/v1/trust").public(),
        route("GET", "/crl/{name}", "/crl/root.crl").public(),
        route("GET", "/healthz", "/healthz").public(),
        route("GET", "/metrics", "/metrics").public(),
        // Public parts of the API.
        route("GET", "/api/openapi.json", "/api/openapi.json").public(),
        route("GET", "/api/v1/options", "/api/v1/options").public(),
        route(
            "POST",
            "/api/v1/auth/dev/sign-in",
            "/api/v1/auth/dev/sign-in",
        )
        .json(json!({ "subject": "authz-table-probe" }))
        .public(),
        route("GET", "/api/v1/auth/oidc/start", "/api/v1/auth/oidc/start").unconfigured(),
        route(
            "GET",
            "/api/v1/auth/oidc/callback",
            "/api/v1/auth/oidc/callback?code=probe&state=probe",
        )
        .unconfigured(),
        route(
            "POST",
            "/api/v1/auth/staff/sign-in",
            "/api/v1/auth/staff/sign-in",
        )
        // Without an account, its password and its second factor's code nobody gets a
        // session: refused for every caller (no real account is used, so none is locked).
        .json(json!({ "username": "authz.nobody", "password": STAFF_PASSWORD, "code": "000000" }))
        .public()
        .refused_to_everyone(),
        route(
            "POST",
            "/api/v1/auth/department/token",
            "/api/v1/auth/department/token",
        )
        .json(json!({ "client_id": f.dsal.0, "client_secret": f.dsal.1 }))
        .public(),
        // The gateway's callback is authenticated by its signature, not by a session: a
        // correctly signed replay is answered (outcome "replayed") whoever sends it.
        Row {
            payload: Payload::Raw(
                vec![
                    ("content-type".into(), "application/json".into()),
                    ("x-gateway-signature".into(), f.callback.1.clone()),
                ],
                f.callback.0.clone().into_bytes(),
            ),
            ..route(
                "POST",
                "/api/v1/payments/callback",
                "/api/v1/payments/callback",
            )
            .public()
        },
        // Sessions.
        route("GET", "/api/v1/me", "/api/v1/me").allow(&everyone),
        // Applications.
        route("POST", "/api/v1/applications", "/api/v1/applications")
            .json(json!({
                "usage": "EMPLOYMENT", "format": "electronic", "quantity": 1,
                "express": false, "transfer_to": null
            }))
            .allow(&[A, B]),
        route("GET", "/api/v1/applications", "/api/v1/applications").allow(&[A, B, Clerk, Officer]),
        route("GET", "/api/v1/applications/{id}", app(""))
            .allow(&[A, Clerk, Officer])
            .hide(&[B]),
        route(
            "PUT",
            "/api/v1/applications/{id}/confirmation",
            app("/confirmation"),
        )
        .json(holder)
        .allow(&[A])
        .hide(&[B]),
        route("POST", "/api/v1/applications/{id}/otp", app("/otp"))
            .allow(&[A])
            .hide(&[B]),
        route(
            "POST",
            "/api/v1/applications/{id}/otp/verify",
            app("/otp/verify"),
        )
        .json(json!({ "code": "123456" }))
        .allow(&[A])
        .hide(&[B]),
        route("POST", "/api/v1/applications/{id}/face", app("/face"))
            .json(json!({
                "image_base64": base64::engine::general_purpose::STANDARD.encode(TINY_JPEG)
            }))
            .allow(&[A])
            .hide(&[B]),
        route(
            "POST",
            "/api/v1/applications/{id}/payments",
            app("/payments"),
        )
        .allow(&[A])
        .hide(&[B]),
        route(
            "POST",
            "/api/v1/sandbox/payments/{id}/complete",
            format!("/api/v1/sandbox/payments/{}/complete", f.payment),
        )
        .allow(&[A])
        .hide(&[B]),
        route(
            "POST",
            "/api/v1/applications/{id}/exemption",
            app("/exemption"),
        )
        .json(json!({ "kind": "UNEMPLOYMENT", "documents": [] }))
        .allow(&[A])
        .hide(&[B]),
        route(
            "POST",
            "/api/v1/applications/{id}/information",
            app("/information"),
        )
        .json(json!({ "message": "the requested information" }))
        .allow(&[A])
        .hide(&[B]),
        route(
            "GET",
            "/api/v1/applications/{id}/certificates",
            app("/certificates"),
        )
        .allow(&[A, Clerk, Officer])
        .hide(&[B]),
        route(
            "GET",
            "/api/v1/applications/{id}/transfers",
            app("/transfers"),
        )
        .allow(&[A, Clerk, Officer])
        .hide(&[B]),
        // The bureau's work on the application.
        route(
            "POST",
            "/api/v1/applications/{id}/exemption/decision",
            app("/exemption/decision"),
        )
        .json(json!({ "approve": true }))
        .allow(&[Clerk]),
        route("POST", "/api/v1/applications/{id}/review", app("/review"))
            .json(json!({ "action": "forward" }))
            .allow(&[Clerk]),
        route(
            "POST",
            "/api/v1/applications/{id}/decision",
            app("/decision"),
        )
        .json(json!({ "approve": true }))
        .allow(&[Officer]),
        route(
            "POST",
            "/api/v1/applications/{id}/collected",
            app("/collected"),
        )
        .json(json!({
            "site": "DSI_HQ",
            "collector": { "by": "holder", "document": { "type": "BIR", "number": "1234567(8)" } }
        }))
        .allow(&[Clerk]),
        // Paper certificates: printing and the Smart Locker (A's application is electronic:
        // the clerk's calls are refused with 409, after the role check).
        route("POST", "/api/v1/applications/{id}/locker", app("/locker")).allow(&[Clerk]),
        route(
            "GET",
            "/api/v1/paper/print-queue",
            "/api/v1/paper/print-queue",
        )
        .allow(&[Clerk]),
        route(
            "POST",
            "/api/v1/paper/print-batch",
            "/api/v1/paper/print-batch",
        )
        .json(json!({ "applications": [f.a_app] }))
        .allow(&[Clerk]),
        route("POST", "/api/v1/paper/printed", "/api/v1/paper/printed")
            .json(json!({ "applications": [f.a_app] }))
            .allow(&[Clerk]),
        route("GET", "/api/v1/applications/{id}/records", app("/records")).allow(&[Clerk, Officer]),
        route(
            "GET",
            "/api/v1/applications/{id}/documents",
            app("/documents"),
        )
        .allow(&[Clerk, Officer]),
        route("POST", "/api/v1/records", "/api/v1/records")
            .json(json!({
                "document": { "type": "BIR", "number": "1111111(1)" },
                "court": "Tribunal Judicial de Base",
                "case_number": "CR1-26-0001-PCC",
                "decision_date": "2020-05-04",
                "offence": "Simple theft",
                "sentence": "Fine of MOP 3,000",
                "disclose_for": ["EMPLOYMENT"]
            }))
            .allow(&[Officer]),
        // Issuance jobs: the failed ones staff must see, and the officer's retry.
        route("GET", "/api/v1/jobs", "/api/v1/jobs?state=failed").allow(&[Officer, Security]),
        route(
            "POST",
            "/api/v1/jobs/{id}/retry",
            format!("/api/v1/jobs/{}/retry", f.job),
        )
        .allow(&[Officer]),
        // Certificates and departments.
        route("GET", "/api/v1/certificates/{number}/pdf", cert("/pdf"))
            .allow(&[A, Officer, Dsal])
            .hide(&[B, Psp]),
        route("GET", "/api/v1/transfers", "/api/v1/transfers").allow(&[Dsal, Psp]),
        route(
            "GET",
            "/api/v1/transfers/envelopes",
            "/api/v1/transfers/envelopes",
        )
        .allow(&[Dsal, Psp]),
        route(
            "GET",
            "/api/v1/transfers/notifications",
            "/api/v1/transfers/notifications",
        )
        .allow(&[Dsal, Psp]),
        route("GET", "/api/v1/departments", "/api/v1/departments").allow(&[Security]),
        route(
            "PUT",
            "/api/v1/departments/{code}",
            "/api/v1/departments/IPIM",
        )
        .json(json!({
            "name_zh": "澳門貿易投資促進局",
            "name_pt": "Instituto de Promoção do Comércio e do Investimento de Macau",
            "name_en": "Macao Trade and Investment Promotion Institute",
            "active": true
        }))
        .allow(&[Security]),
        // IPIM, not DSAL or PSP: new credentials end the department's sessions.
        route(
            "POST",
            "/api/v1/departments/{code}/credentials",
            "/api/v1/departments/IPIM/credentials",
        )
        .allow(&[Security]),
        route(
            "PUT",
            "/api/v1/departments/{code}/endpoint",
            "/api/v1/departments/IPIM/endpoint",
        )
        .json(json!({
            "endpoint": "http://127.0.0.1:9/inbox",
            "receipt_key_pem": ccr_pki::transfer::ReceiptKey::Ed25519(vec![7; 32]).to_pem(),
        }))
        .allow(&[Security]),
        route(
            "GET",
            "/api/v1/departments/{code}/deliveries",
            "/api/v1/departments/DSAL/deliveries",
        )
        .allow(&[Security, Officer]),
        route("GET", "/api/v1/audit", "/api/v1/audit?limit=5").allow(&[Security]),
        route("GET", "/api/v1/audit/verify", "/api/v1/audit/verify").allow(&[Security]),
        route(
            "GET",
            "/api/v1/dev/outbox",
            format!(
                "/api/v1/dev/outbox?recipient={}",
                A_MOBILE.replace('+', "%2B")
            ),
        )
        .allow(&[Security]),
        // Certificate status changes: suspend and reinstate leave it VALID; re-issue then
        // supersedes it; revoking a superseded certificate may be refused by state (409).
        route(
            "POST",
            "/api/v1/certificates/{number}/suspend",
            cert("/suspend"),
        )
        .json(json!({ "reason": "authorisation test" }))
        .allow(&[Security]),
        route(
            "POST",
            "/api/v1/certificates/{number}/reinstate",
            cert("/reinstate"),
        )
        .json(json!({ "reason": "authorisation test" }))
        .allow(&[Security]),
        route(
            "POST",
            "/api/v1/certificates/{number}/reissue",
            cert("/reissue"),
        )
        .json(json!({ "reason": "authorisation test" }))
        .allow(&[Officer]),
        route(
            "POST",
            "/api/v1/certificates/{number}/revoke",
            cert("/revoke"),
        )
        .json(json!({ "reason": "authorisation test" }))
        .allow(&[Security]),
        // Last: ends the session it is called with (each caller signs in afresh for it).
        route("POST", "/api/v1/auth/sign-out", "/api/v1/auth/sign-out")
            .allow(&everyone)
            .fresh_session(),
    ]
}

// ---------------------------------------------------------------------------------------------
// Declared routes

// ---------------------------------------------------------------------------------------------
// Driving the API

#[track_caller]
fn ok(reply: Reply, status: u16, what: &str) -> Value {
    assert_eq!(
        reply.status,
        status,
        "{what}: unexpected status; body: {}",
        String::from_utf8_lossy(&reply.body)
    );
    if reply.body.is_empty() {
        Value::Null
    } else {
        reply.json()
    }
}

#[track_caller]
fn text(value: &Value, key: &str, what: &str) -> String {
    value[key]
        .as_str()
        .unwrap_or_else(|| panic!("{what}: no string {key:?} in {value}"))
        .to_owned()
}

fn post_empty(api: &Api, path: &str, token: &str) -> Reply {
    api.raw("POST", path, Some(token), &[], None)
}

/// New client credentials for a registered department.
#[track_caller]
fn department_credentials(api: &Api, security: &str, code: &str) -> (String, String) {
    let v = ok(
        post_empty(
            api,
            &format!("/api/v1/departments/{code}/credentials"),
            security,
        ),
        201,
        "department credentials",
    );
    (
        text(&v, "client_id", "credentials"),
        text(&v, "client_secret", "credentials"),
    )
}

#[track_caller]
fn department_token(api: &Api, credentials: &(String, String)) -> String {
    let v = ok(
        api.post(
            "/api/v1/auth/department/token",
            None,
            &json!({ "client_id": credentials.0, "client_secret": credentials.1 }),
        ),
        200,
        "department token",
    );
    text(&v, "token", "department token")
}

/// Step 1; returns the application id.
#[track_caller]
fn create_application(api: &Api, token: &str, transfer_to: Option<&str>) -> String {
    let v = ok(
        api.post(
            "/api/v1/applications",
            Some(token),
            &json!({
                "usage": "EMPLOYMENT",
                "format": "electronic",
                "quantity": 1,
                "express": false,
                "transfer_to": transfer_to
            }),
        ),
        201,
        "step 1",
    );
    assert_eq!(v["state"], "SELECTED", "step 1: {v}");
    text(&v, "id", "step 1")
}

/// Step 2.
#[track_caller]
fn confirm(api: &Api, token: &str, app: &str, name: &str, document: &str, mobile: &str) {
    let v = ok(
        api.put(
            &format!("/api/v1/applications/{app}/confirmation"),
            Some(token),
            &json!({
                "holder": {
                    "name_latin": name,
                    "name_chinese": null,
                    "date_of_birth": "1990-01-31",
                    "document": { "type": "BIR", "number": document }
                },
                "language": "en",
                "mobile": mobile,
                "consent_police_data": true
            }),
        ),
        200,
        "step 2",
    );
    assert_eq!(v["state"], "CONFIRMED", "step 2: {v}");
}

/// Step 3: one-time password and face check.
#[track_caller]
fn identify(svc: &IssuerService, token: &str, security: &str, app: &str, mobile: &str) {
    let api = &svc.api;
    ok(
        post_empty(api, &format!("/api/v1/applications/{app}/otp"), token),
        202,
        "step 3: send the one-time password",
    );
    let code = svc.latest_otp(security, mobile);
    ok(
        api.post(
            &format!("/api/v1/applications/{app}/otp/verify"),
            Some(token),
            &json!({ "code": code }),
        ),
        200,
        "step 3: verify the one-time password",
    );
    let v = ok(
        api.post(
            &format!("/api/v1/applications/{app}/face"),
            Some(token),
            &json!({ "image_base64": base64::engine::general_purpose::STANDARD.encode(TINY_JPEG) }),
        ),
        200,
        "step 3: face check",
    );
    assert_eq!(v["state"], "IDENTIFIED", "step 3: {v}");
}

/// Step 4 through the sandbox gateway; returns the payment id and the signed callback.
#[track_caller]
fn pay(api: &Api, token: &str, app: &str) -> (String, (String, String)) {
    let v = ok(
        post_empty(api, &format!("/api/v1/applications/{app}/payments"), token),
        201,
        "step 4: payment",
    );
    let payment = text(&v, "payment_id", "step 4");
    let v = ok(
        post_empty(
            api,
            &format!("/api/v1/sandbox/payments/{payment}/complete"),
            token,
        ),
        200,
        "step 4: sandbox gateway",
    );
    assert_eq!(v["outcome"], "applied", "step 4: {v}");
    let callback = (
        text(&v["callback"], "body", "sandbox callback"),
        text(&v["callback"], "signature", "sandbox callback"),
    );
    (payment, callback)
}

#[track_caller]
fn wait_until_issued(api: &Api, token: &str, app: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let v = ok(
            api.get(&format!("/api/v1/applications/{app}"), Some(token)),
            200,
            "progress enquiry",
        );
        if v["state"] == "ISSUED" {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "application {app} not ISSUED within 60 s: {v}"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

fn ids(list: &Value) -> BTreeSet<String> {
    list.as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i["id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn numbers(list: &Value) -> Vec<String> {
    list.as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i["number"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn describe(reply: &Reply) -> String {
    let mut message = reply.message();
    if message.chars().count() > 160 {
        message = message.chars().take(160).collect::<String>() + "…";
    }
    if reply.body.starts_with(b"%PDF-") {
        message = format!("<PDF, {} bytes>", reply.body.len());
    }
    format!("{} {message}", reply.status)
}

/// A's personal data appearing in an answer meant for someone else.
fn leaks_a(reply: &Reply) -> Option<&'static str> {
    let body = String::from_utf8_lossy(&reply.body);
    [A_NAME, A_DOCUMENT, "61234567"]
        .into_iter()
        .find(|needle| body.contains(needle))
}

// ---------------------------------------------------------------------------------------------
// The test

#[test]
fn every_route_admits_exactly_the_callers_it_should() {
    let started = Instant::now();
    let mut svc = IssuerService::start(None, "", &[]);
    let api = svc.api.clone();
    let mut failures: Vec<String> = Vec::new();
    let mut fail = |message: String| failures.push(message);

    // --- Real data over HTTP.
    let clerk = svc.staff_token(CLERK);
    let officer = svc.staff_token(OFFICER);
    let security = svc.staff_token(SECURITY);
    let a = svc.applicant_token(A_SUBJECT);
    let b = svc.applicant_token(B_SUBJECT);
    let dsal_credentials = department_credentials(&api, &security, "DSAL");
    let psp_credentials = department_credentials(&api, &security, "PSP");
    let dsal = department_token(&api, &dsal_credentials);
    let psp = department_token(&api, &psp_credentials);

    let a_app = create_application(&api, &a, Some("DSAL"));
    confirm(&api, &a, &a_app, A_NAME, A_DOCUMENT, A_MOBILE);
    identify(&svc, &a, &security, &a_app, A_MOBILE);
    let (payment, callback) = pay(&api, &a, &a_app);
    let v = ok(
        api.post(
            &format!("/api/v1/applications/{a_app}/review"),
            Some(&clerk),
            &json!({ "action": "forward" }),
        ),
        200,
        "clerk review",
    );
    assert_eq!(v["state"], "CHECKED", "clerk review: {v}");
    let v = ok(
        api.post(
            &format!("/api/v1/applications/{a_app}/decision"),
            Some(&officer),
            &json!({ "approve": true }),
        ),
        200,
        "officer decision",
    );
    assert_eq!(v["state"], "APPROVED", "officer decision: {v}");
    wait_until_issued(&api, &a, &a_app);
    let certificates = ok(
        api.get(
            &format!("/api/v1/applications/{a_app}/certificates"),
            Some(&a),
        ),
        200,
        "A's certificates",
    );
    let number = numbers(&certificates)
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("no certificate listed for {a_app}: {certificates}"));

    let b_app = create_application(&api, &b, None);
    confirm(&api, &b, &b_app, B_NAME, B_DOCUMENT, B_MOBILE);

    // A token whose session has ended.
    let signed_out = svc.applicant_token(A_SUBJECT);
    ok(
        post_empty(&api, "/api/v1/auth/sign-out", &signed_out),
        204,
        "sign-out",
    );
    let setup_time = started.elapsed();

    // --- Specific assertions.
    // B cannot see A's application, certificate list or PDF, and learns nothing of A.
    for path in [
        format!("/api/v1/applications/{a_app}"),
        format!("/api/v1/applications/{a_app}/certificates"),
        format!("/api/v1/certificates/{number}/pdf"),
    ] {
        let reply = api.get(&path, Some(&b));
        if reply.status != 404 {
            fail(format!(
                "B's GET {path}: expected 404, got {}",
                describe(&reply)
            ));
        }
        if let Some(leak) = leaks_a(&reply) {
            fail(format!("B's GET {path}: the answer contains A's {leak:?}"));
        }
        if reply.body.starts_with(b"%PDF-") {
            fail(format!("B's GET {path}: the answer is a PDF"));
        }
    }
    // Nor A B's application.
    let reply = api.get(&format!("/api/v1/applications/{b_app}"), Some(&a));
    if reply.status != 404 || String::from_utf8_lossy(&reply.body).contains(B_NAME) {
        fail(format!(
            "A's GET of B's application: expected 404 without B's data, got {}",
            describe(&reply)
        ));
    }
    // Each applicant lists only their own applications.
    for (who, token, own) in [("A", &a, &a_app), ("B", &b, &b_app)] {
        let reply = api.get("/api/v1/applications", Some(token));
        let listed = if reply.status == 200 {
            ids(&reply.json())
        } else {
            BTreeSet::new()
        };
        let expected: BTreeSet<String> = [own.clone()].into();
        if reply.status != 200 || listed != expected {
            fail(format!(
                "{who}'s GET /api/v1/applications: expected exactly {expected:?}, got {} {listed:?}",
                reply.status
            ));
        }
    }
    if leaks_a(&api.get("/api/v1/applications", Some(&b))).is_some() {
        fail("B's application list contains A's data".into());
    }
    // DSAL sees and downloads A's certificate; PSP sees nothing and gets 404.
    let reply = api.get("/api/v1/transfers", Some(&dsal));
    let listed = if reply.status == 200 {
        numbers(&reply.json())
    } else {
        Vec::new()
    };
    if listed != [number.clone()] {
        fail(format!(
            "DSAL's GET /api/v1/transfers: expected [{number}], got {} {listed:?}",
            reply.status
        ));
    }
    let reply = api.get(&format!("/api/v1/certificates/{number}/pdf"), Some(&dsal));
    if reply.status != 200 || !reply.body.starts_with(b"%PDF-") {
        fail(format!(
            "DSAL's PDF of {number}: expected 200 %PDF-, got {}",
            describe(&reply)
        ));
    }
    let reply = api.get(&format!("/api/v1/certificates/{number}/pdf"), Some(&a));
    if reply.status != 200 || !reply.body.starts_with(b"%PDF-") {
        fail(format!(
            "A's PDF of {number}: expected 200 %PDF-, got {}",
            describe(&reply)
        ));
    }
    let reply = api.get("/api/v1/transfers", Some(&psp));
    if reply.status != 200 || reply.body.as_slice() != b"[]" {
        fail(format!(
            "PSP's GET /api/v1/transfers: expected 200 [], got {}",
            describe(&reply)
        ));
    }
    let reply = api.get(&format!("/api/v1/certificates/{number}/pdf"), Some(&psp));
    if reply.status != 404 || reply.body.starts_with(b"%PDF-") || leaks_a(&reply).is_some() {
        fail(format!(
            "PSP's PDF of {number}: expected 404 without A's data, got {}",
            describe(&reply)
        ));
    }
    // The gateway callback without a valid signature is 401 (a session is no substitute).
    for token in [None, Some(a.as_str()), Some(security.as_str())] {
        let reply = api.raw(
            "POST",
            "/api/v1/payments/callback",
            token,
            &[("content-type", "application/json")],
            Some(callback.0.clone().into_bytes()),
        );
        if reply.status != 401 {
            fail(format!(
                "unsigned gateway callback (session {}): expected 401, got {}",
                token.is_some(),
                describe(&reply)
            ));
        }
    }

    // --- The table.
    let done_jobs = ok(
        api.get("/api/v1/jobs?state=done", Some(&officer)),
        200,
        "done jobs",
    );
    let job = done_jobs
        .as_array()
        .and_then(|jobs| jobs.iter().find(|j| j["application_id"] == a_app.as_str()))
        .map(|j| text(j, "id", "job"))
        .expect("A's issuance job is listed as done");
    let fixture = Fixture {
        a_app: a_app.clone(),
        payment,
        callback,
        number: number.clone(),
        dsal: dsal_credentials.clone(),
        job,
    };
    let rows = table(&fixture);

    let mut covered = BTreeSet::new();
    for row in &rows {
        if !covered.insert((row.method.to_owned(), row.template.to_owned())) {
            fail(format!(
                "table: {} {} has two rows",
                row.method, row.template
            ));
        }
    }
    let api_routes = ccr_tests::routes::declared_routes("issuer/src/http/api/mod.rs");
    let public_routes = ccr_tests::routes::declared_routes("issuer/src/http/server.rs");
    assert!(
        api_routes.len() >= 40 && public_routes.len() >= 5,
        "the route parser found too few routes: {api_routes:?} {public_routes:?}"
    );
    let declared: BTreeSet<_> = api_routes.union(&public_routes).cloned().collect();
    for (method, path) in declared.difference(&covered) {
        fail(format!(
            "table: no row for the declared route {method} {path}"
        ));
    }
    for (method, path) in covered.difference(&declared) {
        fail(format!(
            "table: row for {method} {path}, which no router declares"
        ));
    }

    let token_of = |who: Who| -> Option<String> {
        match who {
            Who::Anonymous => None,
            Who::ApplicantA => Some(a.clone()),
            Who::ApplicantB => Some(b.clone()),
            Who::Clerk => Some(clerk.clone()),
            Who::Officer => Some(officer.clone()),
            Who::Security => Some(security.clone()),
            Who::Dsal => Some(dsal.clone()),
            Who::Psp => Some(psp.clone()),
        }
    };
    let fresh_token_of = |who: Who| -> Option<String> {
        match who {
            Who::Anonymous => None,
            Who::ApplicantA => Some(svc.applicant_token(A_SUBJECT)),
            Who::ApplicantB => Some(svc.applicant_token(B_SUBJECT)),
            Who::Clerk => Some(svc.fresh_staff_token(CLERK)),
            Who::Officer => Some(svc.fresh_staff_token(OFFICER)),
            Who::Security => Some(svc.fresh_staff_token(SECURITY)),
            Who::Dsal => Some(department_token(&api, &dsal_credentials)),
            Who::Psp => Some(department_token(&api, &psp_credentials)),
        }
    };

    // CCR_AUTHZ_VERBOSE=1 prints every cell.
    let verbose = std::env::var_os("CCR_AUTHZ_VERBOSE").is_some_and(|v| v == "1");
    let mut cells = 0;
    let mut bad_token_cells = 0;
    let mut reissued: Option<String> = None;
    for row in &rows {
        for who in Who::ALL {
            let expected = row.expect[who.index()];
            let token = if row.fresh_session {
                fresh_token_of(who)
            } else {
                token_of(who)
            };
            let reply = row.send(&api, token.as_deref(), &[]);
            cells += 1;
            if verbose {
                println!(
                    "{:<6} {:<60} {:<11} {:<15} {}",
                    row.method,
                    row.path,
                    format!("{who:?}"),
                    format!("{expected:?}"),
                    describe(&reply)
                );
            }
            if !expected.matches(&reply) {
                fail(format!(
                    "{} {} as {who:?}: expected {expected:?}, got {}",
                    row.method,
                    row.path,
                    describe(&reply)
                ));
            }
            if matches!(who, Who::Anonymous | Who::ApplicantB | Who::Psp)
                && row.reads_session
                && let Some(leak) = leaks_a(&reply)
            {
                fail(format!(
                    "{} {} as {who:?}: the answer contains A's {leak:?}",
                    row.method, row.path
                ));
            }
            if row.template.ends_with("/reissue") && reply.status == 201 {
                reissued = serde_json::from_slice::<Value>(&reply.body)
                    .ok()
                    .and_then(|v| v["number"].as_str().map(str::to_owned));
            }
            if row.fresh_session
                && let Some(token) = &token
            {
                let after = api.get("/api/v1/me", Some(token));
                if after.status != 401 {
                    fail(format!(
                        "{} as {who:?}: the session still works afterwards (GET /api/v1/me {})",
                        row.path,
                        describe(&after)
                    ));
                }
            }
        }
        for bad in [BadToken::Garbage, BadToken::Malformed, BadToken::SignedOut] {
            let expected = row.expect_bad_token();
            let reply = match bad {
                BadToken::Garbage => row.send(
                    &api,
                    Some("bm90LWEtcmVhbC10b2tlbi1hdC1hbGwtMDEyMzQ1Njc4OQ"),
                    &[],
                ),
                BadToken::Malformed => row.send(
                    &api,
                    None,
                    &[("authorization", "Basic Y2xlcmsuY2hhbjpwYXNzd29yZA==")],
                ),
                BadToken::SignedOut => row.send(&api, Some(&signed_out), &[]),
            };
            bad_token_cells += 1;
            if !expected.matches(&reply) {
                fail(format!(
                    "{} {} with a {bad:?} token: expected {expected:?}, got {}",
                    row.method,
                    row.path,
                    describe(&reply)
                ));
            }
        }
    }

    // --- After the table.
    // A re-issued certificate still belongs to its applicant and its department.
    if let Some(new) = &reissued {
        let reply = api.get(&format!("/api/v1/certificates/{new}/pdf"), Some(&dsal));
        if reply.status != 200 || !reply.body.starts_with(b"%PDF-") {
            fail(format!(
                "DSAL's PDF of the re-issued {new}: expected 200 %PDF-, got {}",
                describe(&reply)
            ));
        }
        let reply = api.get(&format!("/api/v1/certificates/{new}/pdf"), Some(&a));
        if reply.status != 200 || !reply.body.starts_with(b"%PDF-") {
            fail(format!(
                "A's PDF of the re-issued {new} (replacing A's {number}): expected 200 %PDF-, got {}",
                describe(&reply)
            ));
        }
        let reply = api.get(
            &format!("/api/v1/applications/{a_app}/certificates"),
            Some(&a),
        );
        let listed = if reply.status == 200 {
            numbers(&reply.json())
        } else {
            Vec::new()
        };
        if !listed.contains(new) {
            fail(format!(
                "A's certificates of {a_app} after re-issue: expected {new} listed, got {} \
                 {listed:?}",
                reply.status
            ));
        }
        let reply = api.get(&format!("/api/v1/certificates/{new}/pdf"), Some(&b));
        if reply.status != 404 {
            fail(format!(
                "B's PDF of the re-issued {new}: expected 404, got {}",
                describe(&reply)
            ));
        }
    } else {
        fail("the officer's re-issue row produced no new certificate number".into());
    }

    // A deactivated department loses access at once, as it does with new credentials: no
    // new session, and the one it already holds stops working.
    let departments = ok(
        api.get("/api/v1/departments", Some(&security)),
        200,
        "departments",
    );
    let dsal_entry = departments
        .as_array()
        .and_then(|d| d.iter().find(|d| d["code"] == "DSAL"))
        .cloned()
        .unwrap_or_else(|| panic!("DSAL not in the registry: {departments}"));
    ok(
        api.put(
            "/api/v1/departments/DSAL",
            Some(&security),
            &json!({
                "name_zh": dsal_entry["name_zh"],
                "name_pt": dsal_entry["name_pt"],
                "name_en": dsal_entry["name_en"],
                "active": false
            }),
        ),
        200,
        "deactivate DSAL",
    );
    let reply = api.post(
        "/api/v1/auth/department/token",
        None,
        &json!({ "client_id": dsal_credentials.0, "client_secret": dsal_credentials.1 }),
    );
    if reply.status != 401 {
        fail(format!(
            "a deactivated department's sign-in: expected 401, got {}",
            describe(&reply)
        ));
    }
    for path in [
        "/api/v1/transfers".to_owned(),
        format!("/api/v1/certificates/{number}/pdf"),
    ] {
        let reply = api.get(&path, Some(&dsal));
        if !matches!(reply.status, 401 | 403) {
            fail(format!(
                "GET {path} with the session DSAL opened before it was deactivated: expected \
                 401 (or 403), got {}",
                describe(&reply)
            ));
        }
    }

    // Expired sessions: restart with sessions that expire as they open.
    let config = svc.home().join("issuer.toml");
    let text_before = std::fs::read_to_string(&config).expect("issuer.toml");
    assert!(
        text_before.contains("\n[application]\n"),
        "issuer.toml has no [application] section"
    );
    let expired_config = text_before.replacen(
        "\n[application]\n",
        "\n[application]\napplicant_session_minutes = -1\nstaff_session_minutes = -1\n\
         department_session_minutes = -1\n",
        1,
    );
    std::fs::write(&config, expired_config).expect("issuer.toml");
    svc.restart();
    let expired = [
        ("applicant", svc.applicant_token(A_SUBJECT)),
        ("officer", svc.fresh_staff_token(OFFICER)),
        ("security officer", svc.fresh_staff_token(SECURITY)),
        ("department", department_token(&api, &psp_credentials)),
    ];
    for row in rows.iter().filter(|r| r.reads_session) {
        for (whose, token) in &expired {
            let reply = row.send(&api, Some(token), &[]);
            bad_token_cells += 1;
            if reply.status != 401 {
                fail(format!(
                    "{} {} with an expired {whose} session: expected 401, got {}",
                    row.method,
                    row.path,
                    describe(&reply)
                ));
            }
        }
    }

    println!(
        "issuer_authz: {} routes × {} callers = {cells} cells, {bad_token_cells} bad-token \
         calls; setup {:.1} s, total {:.1} s",
        rows.len(),
        Who::ALL.len(),
        setup_time.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    assert!(
        failures.is_empty(),
        "{} authorisation mismatch(es):\n  {}",
        failures.len(),
        failures.join("\n  ")
    );
}
