//! Paper certificates after issuance, in-process on a fresh home (issue 11, must show 3): the
//! print queue to counter collection by an authorised representative, recorded with who
//! collected; the Smart Locker code accepted within 3 days and refused after, with the item
//! then returned to the headquarters counter and the applicant told (the clock is a
//! parameter). Each scenario runs on SQLite and, when reachable, on PostgreSQL.

use std::sync::Arc;

use sqlx::Connection;
use time::{Duration, OffsetDateTime};

use ccr_issuer::bureau::collecting::{Collector, CounterCollection, MAX_LOCKER_ATTEMPTS};
use ccr_issuer::bureau::{Bureau, CaseError, Services};
use ccr_issuer::identity::auth::{Principal, Role};
use ccr_issuer::rules::request::DocumentRequest;
use ccr_issuer::setup::home::Home;
use ccr_issuer::store::applications::{NewApplication, SideEffect, Transition, Value};

const PUBLIC_URL: &str = "http://127.0.0.1:8080";
const ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
const HOLDER_DOCUMENT: &str = "1234567(8)";
const MOBILE: &str = "+85366001122";

/// A fresh home and the use cases over it: SQLite, or the PostgreSQL database `database`.
struct World {
    _dir: tempfile::TempDir,
    services: Arc<Services>,
    bureau: Arc<Bureau>,
}

async fn world(database: Option<&str>) -> World {
    let dir = tempfile::tempdir().expect("temp dir");
    let home = Home::locate(Some(dir.path().join("home")));
    home.init(PUBLIC_URL, OffsetDateTime::now_utc())
        .expect("init");
    let bureau = Arc::new(Bureau::open(home, database).await.expect("bureau"));
    let services = ccr_issuer::http::server::application_state(
        Arc::clone(&bureau),
        Arc::new(tokio::sync::Notify::new()),
    )
    .await
    .expect("state");
    World {
        _dir: dir,
        services,
        bureau,
    }
}

/// A throw-away PostgreSQL database, or `None` (with the reason printed) when unreachable
/// and not required (`CCR_REQUIRE_ORACLES=1` makes it required).
async fn pg_database() -> Option<(String, String)> {
    let mut admin = match sqlx::PgConnection::connect(ADMIN_URL).await {
        Ok(c) => c,
        Err(e) => {
            assert!(
                std::env::var("CCR_REQUIRE_ORACLES").as_deref() != Ok("1"),
                "PostgreSQL is required but {ADMIN_URL} is unreachable: {e}"
            );
            eprintln!("SKIP PostgreSQL: {ADMIN_URL} is unreachable ({e})");
            return None;
        }
    };
    let nanos = OffsetDateTime::now_utc().unix_timestamp_nanos() % 1_000_000_000;
    let name = format!("ccr_paper_{}_{nanos}", std::process::id());
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .expect("create database");
    Some((
        name.clone(),
        format!("postgres://postgres@127.0.0.1:5432/{name}"),
    ))
}

async fn pg_drop(name: &str) {
    if let Ok(mut admin) = sqlx::PgConnection::connect(ADMIN_URL).await {
        let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
        )))
        .execute(&mut admin)
        .await;
    }
}

fn clerk() -> Principal {
    Principal::new(Role::Clerk, "clerk.wong")
}

fn document(number: &str) -> DocumentRequest {
    DocumentRequest {
        kind: "BIR".into(),
        number: number.into(),
    }
}

/// An ISSUED paper application for `site` with `quantity` real (signed) certificates: the
/// steps before approval are written directly, the issuance runs as in production.
async fn issued_paper(w: &World, site: &str, quantity: i64, subject: &str) -> String {
    let store = w.bureau.store();
    let now = OffsetDateTime::now_utc();
    let applicant = store
        .applicant_for("development", subject, None, None, now)
        .await
        .expect("applicant");
    let (app, _) = store
        .create_application(
            &NewApplication {
                applicant_id: &applicant,
                usage: "EMPLOYMENT",
                electronic: false,
                quantity,
                collection_site: Some(site),
                express: false,
                transfer_to: None,
                idempotency_key: None,
            },
            now,
        )
        .await
        .expect("application");
    let holder = serde_json::json!({
        "name_latin": "CHAN Tai Man",
        "name_chinese": "陳大文",
        "date_of_birth": "1990-05-17",
        "document": { "type": "BIR", "number": HOLDER_DOCUMENT },
    });
    let key = ccr_issuer::rules::request::doc_key(
        &document(HOLDER_DOCUMENT)
            .parse("holder.document")
            .expect("document"),
    );
    store
        .transition(&Transition {
            application_id: &app.id,
            from: &["SELECTED"],
            to: "APPROVED",
            set: vec![
                ("holder_json", Value::Text(Some(holder.to_string()))),
                ("doc_key", Value::Text(Some(key))),
                ("language", Value::Text(Some("en".into()))),
                ("mobile", Value::Text(Some(MOBILE.into()))),
                ("records_json", Value::Text(Some("[]".into()))),
            ],
            actor: "test",
            action: "application.approved",
            detail: serde_json::json!({}),
            messages: Vec::new(),
            effect: SideEffect::IssuanceJobs(quantity),
            now,
        })
        .await
        .expect("approved");
    while let Some(job) = store
        .claim_job(OffsetDateTime::now_utc(), Duration::minutes(5))
        .await
        .expect("claim")
    {
        w.bureau.run_job(&job, None).await.expect("issued");
    }
    ccr_issuer::issuance::jobs::finish_applications(&w.bureau).await;
    let app = store
        .application(&app.id)
        .await
        .expect("read")
        .expect("app");
    assert_eq!(app.state, "ISSUED");
    app.id
}

async fn messages(w: &World) -> Vec<String> {
    w.bureau
        .store()
        .messages_to(MOBILE, 100)
        .await
        .expect("outbox")
        .into_iter()
        .map(|m| m.body)
        .collect()
}

async fn audit(
    w: &World,
    subject: &str,
    action: &str,
) -> Vec<ccr_issuer::rules::audit::AuditEntry> {
    w.bureau
        .store()
        .audit_entries()
        .await
        .expect("audit")
        .into_iter()
        .filter(|e| e.subject == subject && e.action == action)
        .collect()
}

async fn print_queue_to_representative(w: &World) {
    let clerk = clerk();
    let id = issued_paper(w, "DSI_HQ", 2, "paper-counter").await;
    // Not printed yet: nothing can be collected.
    let holder_at_hq = CounterCollection {
        site: "DSI_HQ".into(),
        collector: Collector::Holder {
            document: document(HOLDER_DOCUMENT),
        },
    };
    let refused = w
        .services
        .collect_at_counter(&clerk, &id, &holder_at_hq, OffsetDateTime::now_utc())
        .await;
    assert!(
        matches!(&refused, Err(CaseError::Conflict(m)) if m.contains("not printed")),
        "{refused:?}"
    );

    // The print queue shows it with the holder's name, quantity, site and issue time.
    let queue = w.services.print_queue(&clerk).await.expect("queue");
    let line = queue
        .iter()
        .find(|q| q.reference == id)
        .expect("in the queue");
    assert_eq!(line.holder_name, "CHAN Tai Man");
    assert_eq!(line.holder_name_chinese.as_deref(), Some("陳大文"));
    assert_eq!((line.quantity, line.site.as_str()), (2, "DSI_HQ"));
    assert!(!line.issued_at.is_empty());

    // The batch PDF carries both certificates' pages; making it is audited.
    let batch = w
        .services
        .print_batch_pdf(&clerk, std::slice::from_ref(&id), OffsetDateTime::now_utc())
        .await
        .expect("batch");
    assert_eq!(batch.numbers.len(), 2);
    let pdf = lopdf::Document::load_mem(&batch.pdf).expect("a readable PDF");
    assert_eq!(pdf.get_pages().len(), 2, "one page per certificate");
    assert_eq!(audit(w, "print-batch", "paper.print_batch").await.len(), 1);
    let too_many: Vec<String> = (0..51).map(|i| format!("A-{i}")).collect();
    assert!(matches!(
        w.services
            .print_batch_pdf(&clerk, &too_many, OffsetDateTime::now_utc())
            .await,
        Err(CaseError::Invalid { .. })
    ));
    // Not a clerk: nothing.
    let officer = Principal::new(Role::Officer, "officer.lei");
    assert!(matches!(
        w.services.print_queue(&officer).await,
        Err(CaseError::NotFound(_))
    ));

    // Marked printed (audited, who and when): it leaves the queue; twice is refused.
    let printed_at = OffsetDateTime::now_utc();
    let items = w
        .services
        .mark_printed(&clerk, std::slice::from_ref(&id), printed_at)
        .await
        .expect("printed");
    assert_eq!(items[0].printed_by, "clerk:clerk.wong");
    assert_eq!(items[0].site, "DSI_HQ");
    let printed = audit(w, &id, "paper.printed").await;
    assert_eq!(printed.len(), 1);
    assert_eq!(printed[0].actor, "clerk:clerk.wong");
    assert!(
        !w.services
            .print_queue(&clerk)
            .await
            .expect("queue")
            .iter()
            .any(|q| q.reference == id)
    );
    assert!(matches!(
        w.services
            .mark_printed(&clerk, std::slice::from_ref(&id), printed_at)
            .await,
        Err(CaseError::Conflict(_))
    ));

    // At another counter: refused. Someone else's document as the holder's: refused, clearly.
    let elsewhere = CounterCollection {
        site: "CSG_ISLANDS".into(),
        ..holder_at_hq.clone()
    };
    let refused = w
        .services
        .collect_at_counter(&clerk, &id, &elsewhere, OffsetDateTime::now_utc())
        .await;
    assert!(
        matches!(&refused, Err(CaseError::Conflict(m)) if m.contains("DSI_HQ")),
        "{refused:?}"
    );
    let impostor = CounterCollection {
        site: "DSI_HQ".into(),
        collector: Collector::Holder {
            document: document("5215299(8)"),
        },
    };
    let refused = w
        .services
        .collect_at_counter(&clerk, &id, &impostor, OffsetDateTime::now_utc())
        .await;
    assert!(
        matches!(&refused, Err(CaseError::Invalid { field, message })
            if field == "collector.document" && message.contains("not the holder")),
        "{refused:?}"
    );
    // A representative needs an authorisation reference.
    let unauthorised = CounterCollection {
        site: "DSI_HQ".into(),
        collector: Collector::Representative {
            name: "LEI Mei Ling".into(),
            document: document("5215299(8)"),
            authorisation: "  ".into(),
        },
    };
    let refused = w
        .services
        .collect_at_counter(&clerk, &id, &unauthorised, OffsetDateTime::now_utc())
        .await;
    assert!(
        matches!(&refused, Err(CaseError::Invalid { field, .. }) if field == "collector.authorisation"),
        "{refused:?}"
    );

    // The authorised representative collects: recorded with who collected, COLLECTED.
    let representative = CounterCollection {
        site: "DSI_HQ".into(),
        collector: Collector::Representative {
            name: "LEI Mei Ling".into(),
            // The canonical comparison: spaces and brackets do not matter.
            document: document("5215299 (8)"),
            authorisation: "AUTH-2026-0042".into(),
        },
    };
    let app = w
        .services
        .collect_at_counter(&clerk, &id, &representative, OffsetDateTime::now_utc())
        .await
        .expect("collected");
    assert_eq!(app.state, "COLLECTED");
    let item = w
        .services
        .paper_item(&clerk, &id)
        .await
        .expect("item")
        .expect("printed");
    assert_eq!(item.collector_kind.as_deref(), Some("representative"));
    assert_eq!(item.collector_name.as_deref(), Some("LEI Mei Ling"));
    assert_eq!(item.collector_doc_key.as_deref(), Some("BIR:52152998"));
    assert_eq!(item.authorisation_ref.as_deref(), Some("AUTH-2026-0042"));
    assert_eq!(item.collected_by.as_deref(), Some("clerk:clerk.wong"));
    assert!(item.collected_at.is_some());
    let collected = audit(w, &id, "application.collected").await;
    assert_eq!(collected.len(), 1);
    assert_eq!(collected[0].actor, "clerk:clerk.wong");
    let detail: serde_json::Value = serde_json::from_str(&collected[0].detail).expect("detail");
    assert_eq!(detail["by"], "representative");
    assert_eq!(detail["representative"], "LEI Mei Ling");
    assert_eq!(detail["authorisation"], "AUTH-2026-0042");
    assert_eq!(detail["document"], "BIR:…998");
    // Once.
    assert!(matches!(
        w.services
            .collect_at_counter(&clerk, &id, &representative, OffsetDateTime::now_utc())
            .await,
        Err(CaseError::Conflict(_))
    ));
    let chain = w
        .bureau
        .verify_audit()
        .await
        .expect("the audit chain holds");
    assert!(chain > 0);
}

async fn locker_code_within_three_days_then_returned(w: &World) {
    let clerk = clerk();
    let t0 = OffsetDateTime::now_utc().replace_nanosecond(0).expect("t0");
    let three_days = Duration::days(3);

    // One item collected with its code just before the deadline.
    let early = issued_paper(w, "SMART_LOCKER", 1, "paper-locker-1").await;
    // The issuance sends no locker notice yet: the code comes with the deposit.
    assert!(!messages(w).await.iter().any(|m| m.contains("Pickup code")));
    // Not printed: not into the locker.
    assert!(matches!(
        w.services.deposit_in_locker(&clerk, &early, t0).await,
        Err(CaseError::Conflict(_))
    ));
    w.services
        .mark_printed(&clerk, std::slice::from_ref(&early), t0)
        .await
        .expect("printed");
    let pickup = w
        .services
        .deposit_in_locker(&clerk, &early, t0)
        .await
        .expect("deposited");
    assert_eq!(pickup.code.len(), 8);
    assert!(pickup.code.bytes().all(|b| b.is_ascii_digit()));
    assert_eq!(pickup.deadline, t0 + three_days);
    assert_eq!(
        pickup.qr_payload,
        format!("CCR-LOCKER:{early}:{}", pickup.code)
    );
    // Sent with the collection notice, with the deadline.
    let notices = messages(w).await;
    assert!(
        notices
            .iter()
            .any(|m| m.contains(&pickup.code) && m.contains(&early)),
        "{notices:?}"
    );
    // The applicant's page can show it again (text and QR); staff cannot read it.
    let app = w
        .bureau
        .store()
        .application(&early)
        .await
        .expect("read")
        .expect("app");
    let applicant = Principal::new(Role::Applicant, app.applicant_id.clone());
    let shown = w
        .services
        .locker_pickup(&applicant, &early, t0)
        .await
        .expect("pickup")
        .expect("in the locker");
    assert_eq!(shown.code, pickup.code);
    assert!(w.services.locker_pickup(&clerk, &early, t0).await.is_err());
    // Not deposited twice; the code is not in the audit log.
    assert!(matches!(
        w.services.deposit_in_locker(&clerk, &early, t0).await,
        Err(CaseError::Conflict(_))
    ));
    let deposited = audit(w, &early, "paper.deposited_in_locker").await;
    assert_eq!(deposited.len(), 1);
    assert!(!deposited[0].detail.contains(&pickup.code));

    // A wrong code is refused; the right one within 3 days is accepted.
    let wrong = if pickup.code == "00000000" {
        "00000001"
    } else {
        "00000000"
    };
    let refused = w
        .services
        .collect_from_locker(&early, wrong, t0 + Duration::hours(1))
        .await;
    assert!(
        matches!(&refused, Err(CaseError::Invalid { field, .. }) if field == "code"),
        "{refused:?}"
    );
    let collected = w
        .services
        .collect_from_locker(&early, &pickup.code, t0 + three_days - Duration::seconds(1))
        .await
        .expect("accepted within 3 days");
    assert_eq!(collected.state, "COLLECTED");
    let item = w
        .bureau
        .store()
        .paper_item(&early)
        .await
        .expect("read")
        .expect("item");
    assert_eq!(item.collector_kind.as_deref(), Some("locker"));
    assert_eq!(
        audit(w, &early, "application.collected").await[0].actor,
        "locker:SMART_LOCKER"
    );

    // Another item: the code is refused at the deadline, the sweep returns it to the
    // headquarters counter and tells the applicant, once.
    let late = issued_paper(w, "SMART_LOCKER", 1, "paper-locker-2").await;
    w.services
        .mark_printed(&clerk, std::slice::from_ref(&late), t0)
        .await
        .expect("printed");
    let pickup = w
        .services
        .deposit_in_locker(&clerk, &late, t0)
        .await
        .expect("deposited");
    let refused = w
        .services
        .collect_from_locker(&late, &pickup.code, t0 + three_days)
        .await;
    assert!(
        matches!(&refused, Err(CaseError::Conflict(m)) if m.contains("expired")),
        "{refused:?}"
    );
    let before = w
        .services
        .return_expired_locker_items(t0 + three_days - Duration::seconds(1))
        .await
        .expect("sweep");
    assert_eq!(before, 0, "nothing is due before the deadline");
    assert_eq!(
        w.services
            .return_expired_locker_items(t0 + three_days)
            .await
            .expect("sweep"),
        1
    );
    let item = w
        .bureau
        .store()
        .paper_item(&late)
        .await
        .expect("read")
        .expect("item");
    assert_eq!(item.site, "DSI_HQ");
    assert!(item.returned_at.is_some());
    assert!(item.locker_code.is_none());
    let told: Vec<String> = messages(w)
        .await
        .into_iter()
        .filter(|m| m.contains(&late) && m.contains("not collected from the Smart Locker"))
        .collect();
    assert_eq!(told.len(), 1, "{told:?}");
    assert!(told[0].contains("China Plaza"), "{told:?}");
    assert_eq!(
        audit(w, &late, "paper.returned_to_headquarters")
            .await
            .len(),
        1
    );
    // Idempotent.
    assert_eq!(
        w.services
            .return_expired_locker_items(t0 + three_days + Duration::days(1))
            .await
            .expect("sweep"),
        0
    );
    assert_eq!(
        messages(w)
            .await
            .iter()
            .filter(|m| m.contains(&late) && m.contains("not collected from the Smart Locker"))
            .count(),
        1
    );
    // The code no longer opens anything; the holder collects at the headquarters counter.
    assert!(
        w.services
            .collect_from_locker(&late, &pickup.code, t0 + Duration::hours(1))
            .await
            .is_err()
    );
    let at_hq = CounterCollection {
        site: "DSI_HQ".into(),
        collector: Collector::Holder {
            document: document("1234567 (8)"),
        },
    };
    let app = w
        .services
        .collect_at_counter(&clerk, &late, &at_hq, t0 + Duration::days(4))
        .await
        .expect("collected at headquarters");
    assert_eq!(app.state, "COLLECTED");
}

async fn locker_tries_are_limited(w: &World) {
    let clerk = clerk();
    let t0 = OffsetDateTime::now_utc();
    let id = issued_paper(w, "SMART_LOCKER", 1, "paper-locker-3").await;
    w.services
        .mark_printed(&clerk, std::slice::from_ref(&id), t0)
        .await
        .expect("printed");
    let pickup = w
        .services
        .deposit_in_locker(&clerk, &id, t0)
        .await
        .expect("deposited");
    let wrong = if pickup.code == "99999999" {
        "99999998"
    } else {
        "99999999"
    };
    for _ in 0..MAX_LOCKER_ATTEMPTS {
        assert!(matches!(
            w.services.collect_from_locker(&id, wrong, t0).await,
            Err(CaseError::Invalid { .. })
        ));
    }
    let refused = w.services.collect_from_locker(&id, &pickup.code, t0).await;
    assert!(
        matches!(&refused, Err(CaseError::Limited(_))),
        "{refused:?}"
    );
    assert!(matches!(
        w.services.collect_from_locker(&id, "12ab", t0).await,
        Err(CaseError::Invalid { .. })
    ));
    assert!(matches!(
        w.services
            .collect_from_locker("A-NOTHING", "12345678", t0)
            .await,
        Err(CaseError::NotFound(_))
    ));
}

#[tokio::test]
async fn print_queue_to_counter_collection_by_a_representative() {
    print_queue_to_representative(&world(None).await).await;
    if let Some((name, url)) = pg_database().await {
        print_queue_to_representative(&world(Some(&url)).await).await;
        pg_drop(&name).await;
    }
}

#[tokio::test]
async fn locker_code_is_accepted_within_three_days_and_the_item_returns_after() {
    locker_code_within_three_days_then_returned(&world(None).await).await;
    if let Some((name, url)) = pg_database().await {
        locker_code_within_three_days_then_returned(&world(Some(&url)).await).await;
        pg_drop(&name).await;
    }
}

#[tokio::test]
async fn locker_code_tries_are_limited() {
    locker_tries_are_limited(&world(None).await).await;
    if let Some((name, url)) = pg_database().await {
        locker_tries_are_limited(&world(Some(&url)).await).await;
        pg_drop(&name).await;
    }
}
