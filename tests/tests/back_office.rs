//! The back office (`/staff`) and the department portal (`/department`) in-process, through
//! the issuer's own page router (tower `oneshot`):
//! - the second factor: a wrong code, a replayed code and too many attempts are refused,
//!   and a session with only the password reaches nothing;
//! - the authorisation matrix of every staff and department page, for every role and for
//!   anonymous callers, an applicant and a half-signed-in session; the route list is read
//!   from the routers' source, so a new page without a row fails;
//! - the audit page shows the hash chain verified, and names the entry when one row is
//!   altered in the database.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use ccr_issuer::bureau::Bureau;
use ccr_issuer::identity::auth::Role;
use ccr_issuer::identity::totp::{Secret, step_of};
use ccr_issuer::setup::home::Home;
use http_body_util::BodyExt as _;
use tower::ServiceExt as _;

const PASSWORD: &str = "correct horse battery staple";

struct Office {
    _dir: tempfile::TempDir,
    home: std::path::PathBuf,
    router: axum::Router,
    app: Arc<ccr_issuer::http::api::AppState>,
}

async fn office() -> Office {
    let dir = tempfile::tempdir().expect("temp dir");
    let home_dir = dir.path().join("home");
    let home = Home::locate(Some(home_dir.clone()));
    home.init("http://127.0.0.1:8080", time::OffsetDateTime::now_utc())
        .expect("init");
    let bureau = Arc::new(Bureau::open(home, None).await.expect("bureau"));
    let app =
        ccr_issuer::http::server::application_state(bureau, Arc::new(tokio::sync::Notify::new()))
            .await
            .expect("state");
    Office {
        _dir: dir,
        home: home_dir,
        router: ccr_issuer::http::web::router(Arc::clone(&app)),
        app,
    }
}

struct Reply {
    status: StatusCode,
    location: String,
    body: String,
}

/// A browser: its cookies, sent back on every request.
#[derive(Default, Clone)]
struct Browser {
    cookies: HashMap<String, String>,
}

impl Browser {
    async fn send(
        &mut self,
        office: &Office,
        method: &str,
        path: &str,
        form: &[(&str, &str)],
    ) -> Reply {
        let cookie: Vec<String> = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let mut request = Request::builder().method(method).uri(path);
        if !cookie.is_empty() {
            request = request.header(header::COOKIE, cookie.join("; "));
        }
        let body = if method == "POST" {
            request = request.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
            Body::from(serde_urlencoded_pairs(form))
        } else {
            Body::empty()
        };
        let response = office
            .router
            .clone()
            .oneshot(request.body(body).expect("request"))
            .await
            .expect("router");
        for value in response.headers().get_all(header::SET_COOKIE) {
            let text = value.to_str().unwrap_or_default();
            let pair = text.split(';').next().unwrap_or_default();
            if let Some((name, value)) = pair.split_once('=') {
                if value.is_empty() || text.contains("Max-Age=0") {
                    self.cookies.remove(name);
                } else {
                    self.cookies.insert(name.to_owned(), value.to_owned());
                }
            }
        }
        let status = response.status();
        let location = response
            .headers()
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        Reply {
            status,
            location,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    async fn get(&mut self, office: &Office, path: &str) -> Reply {
        self.send(office, "GET", path, &[]).await
    }
}

fn serde_urlencoded_pairs(form: &[(&str, &str)]) -> String {
    form.iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn enc(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The form token on a page.
fn csrf(body: &str) -> String {
    let at = body
        .find("name=\"csrf\" value=\"")
        .unwrap_or_else(|| panic!("no form token on the page:\n{body}"));
    let rest = &body[at + "name=\"csrf\" value=\"".len()..];
    rest[..rest.find('"').expect("end of token")].to_owned()
}

/// A code of `secret` for a step after `last` (each step is accepted once).
fn code(secret: &Secret, step: i64) -> String {
    format!("{:06}", secret.code_at(step))
}

fn now_step() -> i64 {
    step_of(time::OffsetDateTime::now_utc())
}

/// Gives the password at `base` (`/staff` or `/department`); answers the reply.
async fn password(office: &Office, b: &mut Browser, base: &str, user: &str, pass: &str) -> Reply {
    let form = b.get(office, &format!("{base}/sign-in")).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    let token = csrf(&form.body);
    b.send(
        office,
        "POST",
        &format!("{base}/sign-in"),
        &[
            ("csrf", &token),
            ("username", user),
            ("password", pass),
            ("next", ""),
        ],
    )
    .await
}

/// Gives a code on the second-factor page.
async fn second_factor(office: &Office, b: &mut Browser, base: &str, typed: &str) -> Reply {
    let form = b.get(office, &format!("{base}/sign-in/code")).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    let token = csrf(&form.body);
    b.send(
        office,
        "POST",
        &format!("{base}/sign-in/code"),
        &[("csrf", &token), ("code", typed), ("next", "")],
    )
    .await
}

/// A browser signed in at `base` as `user` with `step`'s code.
async fn signed_in(office: &Office, base: &str, user: &str, secret: &Secret, step: i64) -> Browser {
    let mut b = Browser::default();
    let r = password(office, &mut b, base, user, PASSWORD).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{user}: {}", r.body);
    let r = second_factor(office, &mut b, base, &code(secret, step)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{user}: {}", r.body);
    assert!(r.location.starts_with(base), "{user} → {}", r.location);
    b
}

#[tokio::test]
async fn the_second_factor_refuses_wrong_replayed_and_repeated_codes() {
    let office = office().await;
    let clerk = office
        .app
        .bureau
        .add_staff("clerk.test", Role::Clerk, PASSWORD, "test")
        .await
        .expect("clerk");
    let secret = clerk.secret;
    let mut b = Browser::default();

    // The password alone reaches nothing: pages send to sign-in, forms are refused.
    let r = password(&office, &mut b, "/staff", "clerk.test", PASSWORD).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(
        r.location.starts_with("/staff/sign-in/code"),
        "{}",
        r.location
    );
    let pending_page = b.get(&office, "/staff/sign-in/code").await;
    let token = csrf(&pending_page.body);
    for path in [
        "/staff",
        "/staff/records",
        "/staff/audit",
        "/staff/applications/A1",
    ] {
        let r = b.get(&office, path).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{path}");
        assert!(
            r.location.starts_with("/staff/sign-in?"),
            "{path} → {}",
            r.location
        );
    }
    let r = b
        .send(
            &office,
            "POST",
            "/staff/applications/A1/assign",
            &[("csrf", &token)],
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::UNAUTHORIZED,
        "a pending session posts nothing"
    );
    // …nor does it open the department portal.
    let r = b.get(&office, "/department").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);

    // A wrong code.
    let step = now_step();
    let wrong = code(&secret, step + 7);
    let r = second_factor(&office, &mut b, "/staff", &wrong).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(
        r.body
            .contains("The code is wrong, expired or already used")
            || r.body.contains("驗證碼不正確")
    );
    // The right one.
    let right = code(&secret, step);
    let r = second_factor(&office, &mut b, "/staff", &right).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(b.get(&office, "/staff").await.status, StatusCode::OK);

    // The same code again, in a new sign-in: refused.
    let mut again = Browser::default();
    password(&office, &mut again, "/staff", "clerk.test", PASSWORD).await;
    let r = second_factor(&office, &mut again, "/staff", &right).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "a replayed code");
    // Four more wrong codes reach the limit (five per account in fifteen minutes)…
    for _ in 0..4 {
        let r = second_factor(&office, &mut again, "/staff", &wrong).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    // …after which even the next right code is refused.
    let r = second_factor(&office, &mut again, "/staff", &code(&secret, step + 1)).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
    assert_eq!(
        again.get(&office, "/staff").await.status,
        StatusCode::SEE_OTHER
    );

    // Each refusal and each success is in the audit log.
    let actions: Vec<String> = office
        .app
        .store()
        .audit_entries()
        .await
        .expect("audit")
        .into_iter()
        .filter(|e| e.subject == "clerk.test")
        .map(|e| e.action)
        .collect();
    assert_eq!(
        actions
            .iter()
            .filter(|a| *a == "sign_in.second_factor_refused")
            .count(),
        6,
        "{actions:?}"
    );
    assert!(actions.contains(&"sign_in.second_factor_locked".to_owned()));
    assert_eq!(
        actions.iter().filter(|a| *a == "sign_in.succeeded").count(),
        1
    );
}

/// Who calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Who {
    Anonymous,
    Applicant,
    Pending,
    Clerk,
    Officer,
    Security,
    Department,
}

const EVERYONE: [Who; 7] = [
    Who::Anonymous,
    Who::Applicant,
    Who::Pending,
    Who::Clerk,
    Who::Officer,
    Who::Security,
    Who::Department,
];

/// Which signed-in roles a route admits (`None`: a sign-in route, open to all).
fn table() -> BTreeMap<(&'static str, &'static str), Option<Vec<Who>>> {
    use Who::*;
    let caseworkers = vec![Clerk, Officer];
    let mut t = BTreeMap::new();
    for base in ["/staff", "/department"] {
        let sign_in: &'static str = if base == "/staff" {
            "/staff/sign-in"
        } else {
            "/department/sign-in"
        };
        let code: &'static str = if base == "/staff" {
            "/staff/sign-in/code"
        } else {
            "/department/sign-in/code"
        };
        t.insert(("GET", sign_in), None);
        t.insert(("POST", sign_in), None);
        t.insert(("GET", code), None);
        t.insert(("POST", code), None);
    }
    // Signing out ends whatever session of the area the caller has: open to all.
    t.insert(("POST", "/staff/sign-out"), None);
    t.insert(("GET", "/staff"), Some(caseworkers.clone()));
    t.insert(
        ("GET", "/staff/applications/{id}"),
        Some(caseworkers.clone()),
    );
    t.insert(
        ("GET", "/staff/applications/{id}/documents/{document}"),
        Some(caseworkers.clone()),
    );
    t.insert(
        ("POST", "/staff/applications/{id}/assign"),
        Some(caseworkers.clone()),
    );
    t.insert(
        ("POST", "/staff/applications/{id}/review"),
        Some(vec![Clerk]),
    );
    t.insert(
        ("POST", "/staff/applications/{id}/exemption"),
        Some(vec![Clerk]),
    );
    t.insert(
        ("GET", "/staff/applications/{id}/records"),
        Some(vec![Officer]),
    );
    t.insert(
        ("POST", "/staff/applications/{id}/decision"),
        Some(vec![Officer]),
    );
    t.insert(
        ("GET", "/staff/certificates"),
        Some(vec![Officer, Security]),
    );
    t.insert(
        ("GET", "/staff/certificates/{number}"),
        Some(vec![Officer, Security]),
    );
    t.insert(
        ("POST", "/staff/certificates/{number}/status"),
        Some(vec![Security]),
    );
    t.insert(
        ("POST", "/staff/certificates/{number}/reissue"),
        Some(vec![Officer]),
    );
    t.insert(("GET", "/staff/records"), Some(vec![Officer]));
    t.insert(
        ("POST", "/staff/applications/{id}/collection"),
        Some(vec![Clerk]),
    );
    t.insert(
        ("POST", "/staff/applications/{id}/locker"),
        Some(vec![Clerk]),
    );
    t.insert(("GET", "/staff/printing"), Some(vec![Clerk]));
    t.insert(("POST", "/staff/printing"), Some(vec![Clerk]));
    t.insert(
        ("POST", "/staff/departments/{code}/endpoint"),
        Some(vec![Security]),
    );
    t.insert(
        ("POST", "/staff/departments/{code}/active"),
        Some(vec![Security]),
    );
    t.insert(("POST", "/staff/records"), Some(vec![Officer]));
    t.insert(("GET", "/staff/records/{id}"), Some(vec![Officer]));
    t.insert(("POST", "/staff/records/{id}"), Some(vec![Officer]));
    t.insert(("POST", "/staff/records/{id}/close"), Some(vec![Officer]));
    t.insert(("GET", "/staff/audit"), Some(vec![Security]));
    t.insert(("GET", "/staff/keys"), Some(vec![Security]));
    t.insert(
        ("POST", "/staff/keys/{role}/compromise"),
        Some(vec![Security]),
    );
    t.insert(("GET", "/staff/departments"), Some(vec![Security]));
    t.insert(
        ("POST", "/staff/departments/{code}/users"),
        Some(vec![Security]),
    );
    t.insert(
        ("POST", "/staff/departments/{code}/credentials"),
        Some(vec![Security]),
    );
    t.insert(
        ("POST", "/staff/accounts/{username}/active"),
        Some(vec![Security]),
    );
    t.insert(("GET", "/staff/accounts"), Some(vec![Security]));
    t.insert(("POST", "/staff/accounts"), Some(vec![Security]));
    t.insert(("GET", "/staff/outbox"), Some(vec![Security]));
    t.insert(("POST", "/department/sign-out"), None);
    t.insert(("GET", "/department"), Some(vec![Department]));
    t.insert(
        ("GET", "/department/certificates/{number}"),
        Some(vec![Department]),
    );
    t.insert(
        ("GET", "/department/certificates/{number}/pdf"),
        Some(vec![Department]),
    );
    t.insert(("GET", "/department/notices"), Some(vec![Department]));
    t.insert(
        ("POST", "/department/notices/{id}/acknowledge"),
        Some(vec![Department]),
    );
    t.insert(("GET", "/department/verify"), Some(vec![Department]));
    t
}

#[tokio::test]
async fn every_staff_and_department_page_admits_only_its_roles() {
    let declared: BTreeSet<(String, String)> =
        ccr_tests::routes::declared_routes("issuer/src/http/web/staff/mod.rs")
            .into_iter()
            .chain(ccr_tests::routes::declared_routes(
                "issuer/src/http/web/department.rs",
            ))
            .collect();
    let table = table();
    let named: BTreeSet<(String, String)> = table
        .keys()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    let missing: Vec<_> = declared.difference(&named).collect();
    let stale: Vec<_> = named.difference(&declared).collect();
    assert!(missing.is_empty(), "routes without a row: {missing:?}");
    assert!(stale.is_empty(), "rows without a route: {stale:?}");

    let office = office().await;
    let bureau = &office.app.bureau;
    let mut secrets = BTreeMap::new();
    for (name, role, who) in [
        ("clerk.m", Role::Clerk, Who::Clerk),
        ("officer.m", Role::Officer, Who::Officer),
        ("security.m", Role::SecurityOfficer, Who::Security),
    ] {
        secrets.insert(
            who,
            (
                name,
                bureau
                    .add_staff(name, role, PASSWORD, "test")
                    .await
                    .expect("staff")
                    .secret,
            ),
        );
    }
    let dsal = bureau
        .add_department_user("dsal.m", "DSAL", PASSWORD, "test")
        .await
        .expect("department user");
    secrets.insert(Who::Department, ("dsal.m", dsal.secret));
    let step = now_step();
    let mut browsers: BTreeMap<Who, Browser> = BTreeMap::new();
    for (who, (name, secret)) in &secrets {
        let base = if *who == Who::Department {
            "/department"
        } else {
            "/staff"
        };
        browsers.insert(*who, signed_in(&office, base, name, secret, step).await);
    }
    // An applicant signed in to the portal.
    let mut applicant = Browser::default();
    let form = applicant.get(&office, "/sign-in").await;
    let token = csrf(&form.body);
    let r = applicant
        .send(
            &office,
            "POST",
            "/sign-in",
            &[
                ("csrf", &token),
                ("subject", "applicant-m"),
                ("next", "/applications"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    browsers.insert(Who::Applicant, applicant);
    // A clerk who gave only the password.
    let mut pending = Browser::default();
    password(&office, &mut pending, "/staff", "clerk.m", PASSWORD).await;
    browsers.insert(Who::Pending, pending);
    browsers.insert(Who::Anonymous, Browser::default());

    let mut failures = Vec::new();
    let mut cells = 0;
    for ((method, template), admitted) in &table {
        let Some(admitted) = admitted else {
            continue;
        };
        let path = template
            .replace("{id}", "A-NOT-THERE")
            .replace("{document}", "D-NOT-THERE")
            .replace("{number}", "CCR-NOT-THERE")
            .replace("{code}", "PSP")
            .replace("{username}", "nobody.m")
            .replace("{role}", "tsa");
        for who in EVERYONE {
            let mut b = browsers[&who].clone();
            let base = if template.starts_with("/department") {
                "/department"
            } else {
                "/staff"
            };
            // A form carries the token of the caller's own session of the area, if any.
            let token = if *method == "POST" {
                let page = b.get(&office, &format!("{base}/sign-in")).await;
                page.body
                    .find("name=\"csrf\"")
                    .map(|_| csrf(&page.body))
                    .unwrap_or_default()
            } else {
                String::new()
            };
            let token = if *method == "POST" && browsers[&who].cookies.is_empty() {
                String::new()
            } else {
                token
            };
            let reply = b.send(&office, method, &path, &[("csrf", &token)]).await;
            cells += 1;
            let to_sign_in = reply.status == StatusCode::SEE_OTHER
                && reply.location.starts_with(&format!("{base}/sign-in"));
            let ok = if admitted.contains(&who) {
                !to_sign_in
                    && !matches!(
                        reply.status,
                        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN
                    )
            } else if matches!(who, Who::Anonymous | Who::Applicant | Who::Pending)
                || (base == "/department") != (who == Who::Department)
            {
                // Not signed in to this area: pages lead to its sign-in, forms are refused.
                if *method == "GET" {
                    to_sign_in
                } else {
                    matches!(
                        reply.status,
                        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN
                    )
                }
            } else {
                reply.status == StatusCode::FORBIDDEN
            };
            if !ok {
                failures.push(format!(
                    "{method} {path} as {who:?}: {} {}",
                    reply.status, reply.location
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {cells} cells wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(cells >= 150, "{cells} cells");
}

#[tokio::test]
async fn the_audit_page_verifies_the_chain_and_names_an_altered_entry() {
    let office = office().await;
    let security = office
        .app
        .bureau
        .add_staff("security.a", Role::SecurityOfficer, PASSWORD, "test")
        .await
        .expect("security");
    let mut b = signed_in(
        &office,
        "/staff",
        "security.a",
        &security.secret,
        now_step(),
    )
    .await;
    let page = b.get(&office, "/staff/audit?lang=en").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body
            .contains("Audit log intact: hash chain verified over"),
        "{}",
        page.body
    );

    // One row altered behind the service's back.
    let entries = office.app.store().audit_entries().await.expect("audit");
    assert!(entries.len() >= 2, "{} entries", entries.len());
    let victim = entries[entries.len() - 2].id;
    let url = format!("sqlite://{}", office.home.join("registry.sqlite").display());
    let pool = sqlx::SqlitePool::connect(&url).await.expect("sqlite");
    sqlx::query("UPDATE audit_log SET detail = '{\"altered\":true}' WHERE id = $1")
        .bind(victim)
        .execute(&pool)
        .await
        .expect("alter");
    pool.close().await;
    let page = b.get(&office, "/staff/audit?lang=en").await;
    assert_eq!(page.status, StatusCode::CONFLICT);
    assert!(
        page.body
            .contains(&format!("The audit log has been altered: Entry #{victim}")),
        "{}",
        page.body
    );
    assert!(!page.body.contains("hash chain verified"));
}

#[tokio::test]
async fn the_security_officer_declares_a_key_compromise_after_typing_its_key_id() {
    let office = office().await;
    let security = office
        .app
        .bureau
        .add_staff("security.k", Role::SecurityOfficer, PASSWORD, "test")
        .await
        .expect("security");
    let mut b = signed_in(
        &office,
        "/staff",
        "security.k",
        &security.secret,
        now_step(),
    )
    .await;
    let page = b.get(&office, "/staff/keys?lang=en").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains("Key registry version 1"),
        "{}",
        page.body
    );
    let (_, keys) = office
        .app
        .bureau
        .keys(time::OffsetDateTime::now_utc())
        .expect("keys");
    let tsa_key = keys
        .iter()
        .find(|k| k.entry.role.name() == "tsa" && k.state == "active")
        .map(|k| k.entry.key_id.clone())
        .expect("the TSA's key");
    assert!(page.body.contains(&tsa_key), "{}", page.body);
    let token = csrf(&page.body);
    let since = (time::OffsetDateTime::now_utc() - time::Duration::minutes(5))
        .to_offset(time::macros::offset!(+8))
        .format(time::macros::format_description!(
            "[year]-[month]-[day]T[hour]:[minute]"
        ))
        .expect("since");
    let path = "/staff/keys/tsa/compromise?lang=en";

    // The key id typed wrong, a future instant, no reason: nothing happens.
    let refused = b
        .send(
            &office,
            "POST",
            path,
            &[
                ("csrf", &token),
                ("since", "2999-01-01T00:00"),
                ("reason", ""),
                ("confirm", "0000"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    for message in [
        "Enter a moment no later than now",
        "Enter a reason",
        "The key id typed is not this role&#39;s signing key",
    ] {
        assert!(
            refused.body.contains(message),
            "{message}: {}",
            refused.body
        );
    }
    let (sequence, _) = office
        .app
        .bureau
        .keys(time::OffsetDateTime::now_utc())
        .expect("keys");
    assert_eq!(sequence, 1, "a refused declaration changes nothing");

    let declared = b
        .send(
            &office,
            "POST",
            path,
            &[
                ("csrf", &token),
                ("since", &since),
                ("reason", "drill"),
                ("confirm", &tsa_key),
            ],
        )
        .await;
    assert_eq!(declared.status, StatusCode::SEE_OTHER, "{}", declared.body);
    let page = b.get(&office, &declared.location).await;
    assert!(
        page.body
            .contains("Key declared compromised; 0 certificate(s) re-issued."),
        "{}",
        page.body
    );
    let (sequence, keys) = office
        .app
        .bureau
        .keys(time::OffsetDateTime::now_utc())
        .expect("keys");
    assert!(sequence > 1);
    let old = keys
        .iter()
        .find(|k| k.entry.key_id == tsa_key)
        .expect("the old key is still listed");
    assert!(old.entry.compromised_since.is_some());
    assert!(
        keys.iter()
            .any(|k| k.entry.role.name() == "tsa" && k.state == "active")
    );
    let audit = office.app.store().audit_entries().await.expect("audit");
    assert!(
        audit
            .iter()
            .any(|e| e.action == "key.compromised" && e.actor.contains("security.k")),
        "the declaration is audited with who made it"
    );
}

#[tokio::test]
async fn an_officer_adds_corrects_and_closes_a_record_entry_and_each_step_is_audited() {
    let office = office().await;
    let officer = office
        .app
        .bureau
        .add_staff("officer.r", Role::Officer, PASSWORD, "test")
        .await
        .expect("officer");
    let mut b = signed_in(&office, "/staff", "officer.r", &officer.secret, now_step()).await;
    let page = b.get(&office, "/staff/records?lang=en").await;
    assert_eq!(page.status, StatusCode::OK);
    let token = csrf(&page.body);
    let added = b
        .send(
            &office,
            "POST",
            "/staff/records?lang=en",
            &[
                ("csrf", &token),
                ("type", "BIR"),
                ("number", "5215299(8)"),
                ("court", "Tribunal Judicial de Base"),
                ("case_number", "CR2-22-0101-PCS"),
                ("decision_date", "2022-02-01"),
                ("offence", "Furto"),
                ("sentence", "Multa"),
                ("disclose_for", "EMPLOYMENT"),
                ("disclose_for", "ADOPTION"),
            ],
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    let listed = b.get(&office, &added.location).await;
    assert!(
        listed.body.contains("Done: Add an entry"),
        "{}",
        listed.body
    );
    assert!(listed.body.contains("CR2-22-0101-PCS"));
    let at = listed.body.find("/staff/records/R").expect("entry link");
    let id: String = listed.body[at + "/staff/records/".len()..]
        .chars()
        .take_while(|c| *c != '?' && *c != '"')
        .collect();

    // A wrong date is refused with the reason; the entry is unchanged.
    let r = b
        .send(
            &office,
            "POST",
            &format!("/staff/records/{id}?lang=en"),
            &[
                ("csrf", &token),
                ("court", "Tribunal Judicial de Base"),
                ("case_number", "CR2-22-0101-PCS"),
                ("decision_date", "2022-02-31"),
                ("offence", "Furto"),
                ("sentence", "Multa"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    // Corrected: the sentence, and shown for employment only.
    let r = b
        .send(
            &office,
            "POST",
            &format!("/staff/records/{id}?lang=en"),
            &[
                ("csrf", &token),
                ("court", "Tribunal Judicial de Base"),
                ("case_number", "CR2-22-0101-PCS"),
                ("decision_date", "2022-02-01"),
                ("offence", "Furto"),
                ("sentence", "Multa de MOP 3.000"),
                ("disclose_for", "EMPLOYMENT"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let entry = office
        .app
        .store()
        .read_record(&id, "test", time::OffsetDateTime::now_utc())
        .await
        .expect("entry");
    assert_eq!(entry.sentence, "Multa de MOP 3.000");
    assert!(entry.disclosed_for("EMPLOYMENT") && !entry.disclosed_for("ADOPTION"));
    // Closing needs a reason; closed, it is never disclosed again.
    let r = b
        .send(
            &office,
            "POST",
            &format!("/staff/records/{id}/close?lang=en"),
            &[("csrf", &token), ("reason", " ")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = b
        .send(
            &office,
            "POST",
            &format!("/staff/records/{id}/close?lang=en"),
            &[
                ("csrf", &token),
                ("reason", "Rehabilitation (reabilitação) granted"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = b.get(&office, &r.location).await;
    assert!(page.body.contains("Closed"), "{}", page.body);
    let entry = office
        .app
        .store()
        .read_record(&id, "test", time::OffsetDateTime::now_utc())
        .await
        .expect("entry");
    assert!(entry.closed_at.is_some() && !entry.disclosed_for("EMPLOYMENT"));
    let actions: Vec<String> = office
        .app
        .store()
        .audit_entries()
        .await
        .expect("audit")
        .into_iter()
        .filter(|e| e.actor == "officer:officer.r")
        .map(|e| e.action)
        .collect();
    for action in [
        "record.added",
        "record.read",
        "record.corrected",
        "record.closed",
    ] {
        assert!(
            actions.iter().any(|a| a == action),
            "{action} not in {actions:?}"
        );
    }
}
