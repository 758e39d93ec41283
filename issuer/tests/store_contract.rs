//! One contract for the registry, run on both backends: SQLite (embedded default) and
//! PostgreSQL (127.0.0.1:5432, trust auth; each test in its own database). Without a
//! reachable PostgreSQL the PostgreSQL half is skipped with a printed reason, unless
//! `CCR_REQUIRE_ORACLES=1` (CI), which makes it fail.

use sqlx::Connection;
use time::OffsetDateTime;

use ccr_issuer::rules::audit::{ChainBreak, verify_chain};
use ccr_issuer::store::{IssuedRecord, StatusChange, Store, StoreError};
use ccr_pki::status_list::Status;

const LIST_SIZE: u32 = 131_072;
const ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A throw-away PostgreSQL database, dropped at the end of the test.
struct PgDatabase {
    name: String,
}

impl PgDatabase {
    async fn create() -> Option<(Self, String)> {
        let mut admin = match sqlx::PgConnection::connect(ADMIN_URL).await {
            Ok(c) => c,
            Err(e) => {
                assert!(
                    std::env::var("CCR_REQUIRE_ORACLES").as_deref() != Ok("1"),
                    "PostgreSQL is required (CCR_REQUIRE_ORACLES=1) but {ADMIN_URL} is unreachable: {e}"
                );
                eprintln!("SKIP PostgreSQL contract: {ADMIN_URL} is unreachable ({e})");
                return None;
            }
        };
        let name = format!("ccr_test_{}_{}", std::process::id(), rand_suffix());
        // The name is ours: digits and underscores only.
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .expect("create database");
        let url = format!("postgres://postgres@127.0.0.1:5432/{name}");
        Some((Self { name }, url))
    }

    async fn drop_now(self) {
        if let Ok(mut admin) = sqlx::PgConnection::connect(ADMIN_URL).await {
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            )))
            .execute(&mut admin)
            .await;
        }
    }
}

fn rand_suffix() -> u64 {
    let nanos = OffsetDateTime::now_utc().unix_timestamp_nanos();
    u64::try_from(nanos % 1_000_000_000).unwrap_or_default()
}

/// What the contract records for a certificate (the content does not matter to the store).
fn placeholder_record(now: OffsetDateTime) -> IssuedRecord<'static> {
    IssuedRecord {
        actor: "test",
        issued_at: now,
        valid_until: now,
        data_json: b"{}",
        token: b"t",
        pdf: b"%PDF",
        archive_pdf: None,
        doc_key: "BIR:12345678",
        transfer_to: None,
    }
}

async fn issue(store: &Store, year: i32) -> (String, i64, u32) {
    let now = OffsetDateTime::now_utc();
    let mut pending = store
        .begin_issuance(year, LIST_SIZE, now)
        .await
        .expect("begin");
    let r = pending.reservation.clone();
    pending
        .record(&placeholder_record(now))
        .await
        .expect("record");
    pending.commit().await.expect("commit");
    (r.number, r.list_id, r.index)
}

/// The contract every backend keeps.
/// Durable issuance jobs: a reservation is made once and kept across retries, a leased job
/// is not handed out twice, and a job completes once.
async fn jobs_contract(store: &Store) {
    use ccr_issuer::store::applications::{NewApplication, SideEffect, Transition};
    let now = OffsetDateTime::now_utc();
    let applicant = store
        .applicant_for("development", "jobs-contract", None, None, now)
        .await
        .expect("applicant");
    let (app, created) = store
        .create_application(
            &NewApplication {
                applicant_id: &applicant,
                usage: "EMPLOYMENT",
                electronic: true,
                quantity: 2,
                collection_site: None,
                express: false,
                transfer_to: None,
                idempotency_key: Some("once"),
            },
            now,
        )
        .await
        .expect("application");
    assert!(created);
    let step = |from: &'static [&'static str], effect| Transition {
        application_id: &app.id,
        from,
        to: "APPROVED",
        set: Vec::new(),
        actor: "test",
        action: "application.approved",
        detail: serde_json::json!({}),
        messages: Vec::new(),
        effect,
        now,
    };
    store
        .transition(&step(&["SELECTED"], SideEffect::IssuanceJobs(2)))
        .await
        .expect("approve");
    let again = store
        .transition(&step(&["SELECTED"], SideEffect::IssuanceJobs(2)))
        .await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");

    let lease = time::Duration::seconds(30);
    let first = store
        .claim_job(now, lease)
        .await
        .expect("claim")
        .expect("a job");
    let second = store
        .claim_job(now, lease)
        .await
        .expect("claim")
        .expect("another job");
    assert_ne!(first.id, second.id);
    assert!(
        store.claim_job(now, lease).await.expect("claim").is_none(),
        "both are leased"
    );
    let reserved = store
        .reserve_for_job(&first.id, 2031, LIST_SIZE, now)
        .await
        .expect("reserve");
    let retried = store
        .reserve_for_job(&first.id, 2031, LIST_SIZE, now)
        .await
        .expect("reserve");
    assert_eq!(
        reserved.number, retried.number,
        "a retry keeps the reservation"
    );
    assert_eq!(reserved.index, retried.index);
    // After the lease runs out (a crash), the job is handed out again, same reservation.
    let later = now + time::Duration::seconds(31);
    let taken_over = store
        .claim_job(later, lease)
        .await
        .expect("claim")
        .expect("expired lease");
    let over = store
        .reserve_for_job(&taken_over.id, 2031, LIST_SIZE, later)
        .await
        .expect("reserve");
    if taken_over.id == first.id {
        assert_eq!(over.number, reserved.number);
    }
    store
        .complete_job(&first, &reserved, &placeholder_record(now))
        .await
        .expect("complete");
    let twice = store
        .complete_job(&first, &reserved, &placeholder_record(now))
        .await;
    assert!(twice.is_err(), "a job completes once");
    assert!(
        store
            .finished_applications()
            .await
            .expect("finished")
            .is_empty()
    );
    let other = if taken_over.id == first.id {
        &second
    } else {
        &taken_over
    };
    let r2 = store
        .reserve_for_job(&other.id, 2031, LIST_SIZE, later)
        .await
        .expect("reserve");
    assert_ne!(r2.number, reserved.number);
    store
        .complete_job(other, &r2, &placeholder_record(now))
        .await
        .expect("complete");
    assert_eq!(
        store.finished_applications().await.expect("finished"),
        vec![app.id.clone()]
    );
    let certificates = store.certificates_of(&app.id).await.expect("certificates");
    assert_eq!(certificates.len(), 2);
}

/// Jobs that keep failing end `failed` (after `max_attempts`, or at once when permanent),
/// audited, listed for staff and never claimed again; a retry keeps the reservation.
async fn failing_jobs_contract(store: &Store) {
    use ccr_issuer::store::applications::{NewApplication, SideEffect, Transition};
    use ccr_issuer::store::jobs::{JobFailure, JobOutcome};
    let now = OffsetDateTime::now_utc();
    let applicant = store
        .applicant_for("development", "failing-jobs-contract", None, None, now)
        .await
        .expect("applicant");
    let (app, _) = store
        .create_application(
            &NewApplication {
                applicant_id: &applicant,
                usage: "EMPLOYMENT",
                electronic: true,
                quantity: 2,
                collection_site: None,
                express: false,
                transfer_to: None,
                idempotency_key: Some("failing"),
            },
            now,
        )
        .await
        .expect("application");
    store
        .transition(&Transition {
            application_id: &app.id,
            from: &["SELECTED"],
            to: "APPROVED",
            set: Vec::new(),
            actor: "test",
            action: "application.approved",
            detail: serde_json::json!({}),
            messages: Vec::new(),
            effect: SideEffect::IssuanceJobs(2),
            now,
        })
        .await
        .expect("approve");
    let lease = time::Duration::seconds(30);
    let max_attempts = 3;
    let failure = |error, permanent, at: OffsetDateTime| JobFailure {
        error,
        permanent,
        max_attempts,
        retry_at: at + time::Duration::seconds(1),
    };

    // A transient error: retried until the third attempt, then failed.
    let mut at = now;
    let first = store
        .claim_job(at, lease)
        .await
        .expect("claim")
        .expect("a job");
    let reserved = store
        .reserve_for_job(&first.id, 2032, LIST_SIZE, at)
        .await
        .expect("reserve");
    let mut outcomes = Vec::new();
    let mut job = first.clone();
    for attempt in 1..=max_attempts {
        assert_eq!(job.id, first.id);
        assert_eq!(job.attempts, attempt);
        let outcome = store
            .fail_job(&job, &failure("registry busy", false, at), at)
            .await
            .expect("fail");
        outcomes.push(outcome);
        at += time::Duration::seconds(2);
        if outcome == JobOutcome::Failed {
            break;
        }
        // The other job is leased or younger: this one comes back after its backoff.
        job = store
            .claim_job(at, lease)
            .await
            .expect("claim")
            .expect("the retried job");
    }
    assert_eq!(
        outcomes,
        vec![JobOutcome::Retry, JobOutcome::Retry, JobOutcome::Failed]
    );

    // A permanent error fails the other job at its first attempt.
    let second = store
        .claim_job(at, lease)
        .await
        .expect("claim")
        .expect("the second job");
    assert_ne!(second.id, first.id);
    assert_eq!(second.attempts, 1);
    let outcome = store
        .fail_job(
            &second,
            &failure("record entry 1 offence: not printable", true, at),
            at,
        )
        .await
        .expect("fail");
    assert_eq!(outcome, JobOutcome::Failed);

    // Failed jobs are never claimed again, and the application is not finished.
    let much_later = at + time::Duration::days(1);
    assert!(
        store
            .claim_job(much_later, lease)
            .await
            .expect("claim")
            .is_none()
    );
    assert!(
        !store
            .finished_applications()
            .await
            .expect("finished")
            .contains(&app.id)
    );
    let failed = store
        .jobs_in_state("failed", 10)
        .await
        .expect("failed jobs");
    let mine: Vec<_> = failed
        .iter()
        .filter(|j| j.application_id == app.id)
        .collect();
    assert_eq!(mine.len(), 2, "{failed:?}");
    let transient = mine.iter().find(|j| j.id == first.id).expect("first");
    assert_eq!(transient.attempts, max_attempts);
    assert_eq!(transient.last_error.as_deref(), Some("registry busy"));
    assert_eq!(transient.number.as_deref(), Some(reserved.number.as_str()));
    let permanent = mine.iter().find(|j| j.id == second.id).expect("second");
    assert_eq!(permanent.attempts, 1);
    assert!(permanent.finished_at.is_some());
    let audited = store
        .audit_entries()
        .await
        .expect("audit")
        .into_iter()
        .filter(|e| {
            e.action == "issuance.failed" && (e.subject == first.id || e.subject == second.id)
        })
        .count();
    assert_eq!(audited, 2, "each failure is audited");

    // Staff retry after a fix: queued again, fresh attempts, the same reservation.
    let not_failed = store.retry_job("J-none", "officer", at).await;
    assert!(
        matches!(not_failed, Err(StoreError::NotFound(_))),
        "{not_failed:?}"
    );
    store
        .retry_job(&first.id, "officer", much_later)
        .await
        .expect("retry");
    let again = store.retry_job(&first.id, "officer", much_later).await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    let retried = store
        .claim_job(much_later, lease)
        .await
        .expect("claim")
        .expect("the retried job");
    assert_eq!(
        (retried.id.as_str(), retried.attempts),
        (first.id.as_str(), 1)
    );
    let kept = store
        .reserve_for_job(&retried.id, 2032, LIST_SIZE, much_later)
        .await
        .expect("reserve");
    assert_eq!(
        kept.number, reserved.number,
        "a retried job keeps its number"
    );
}

async fn contract(store: &Store) {
    let now = OffsetDateTime::now_utc();
    // Numbers are sequential per year and never reused, even after a rolled-back issuance.
    let (first, list, idx) = issue(store, 2026).await;
    assert_eq!(first, "CR-2026-000001");
    assert_eq!(list, 1);
    assert!(idx < LIST_SIZE);
    let abandoned = store
        .begin_issuance(2026, LIST_SIZE, now)
        .await
        .expect("begin");
    assert_eq!(abandoned.reservation.number, "CR-2026-000002");
    drop(abandoned); // rolled back: the number is free again, nothing was recorded
    let (second, _, idx2) = issue(store, 2026).await;
    assert_eq!(
        second, "CR-2026-000002",
        "a rolled-back reservation leaves no gap and no row"
    );
    assert_ne!(idx, idx2, "indexes in one list are unique");
    assert_eq!(
        issue(store, 2027).await.0,
        "CR-2027-000001",
        "sequences are per year"
    );

    // Status changes: allowed transitions only, recorded, visible in the list and the marker.
    let marker = store.change_marker().await.expect("marker");
    store
        .change_status(&first, Status::Suspended, "officer:a", "enquiry", now)
        .await
        .expect("suspend");
    store
        .change_status(&first, Status::Valid, "officer:a", "cleared", now)
        .await
        .expect("reinstate");
    store
        .change_status(&first, Status::Revoked, "security:b", "fraud", now)
        .await
        .expect("revoke");
    let refused = store
        .change_status(&first, Status::Valid, "security:b", "undo", now)
        .await;
    assert!(
        matches!(refused, Err(StoreError::Transition { .. })),
        "revocation is final: {refused:?}"
    );
    assert!(matches!(
        store
            .change_status("CR-1999-000001", Status::Revoked, "x", "y", now)
            .await,
        Err(StoreError::UnknownCertificate(_))
    ));
    assert_ne!(store.change_marker().await.expect("marker"), marker);
    let list_now = store.status_list(1).await.expect("list");
    assert_eq!(list_now.get(idx), Some(Status::Revoked));
    assert_eq!(list_now.get(idx2), Some(Status::Valid));
    assert_eq!(store.status_list_ids().await.expect("ids"), vec![1]);

    // A re-issue supersedes its predecessor in the same transaction, or not at all.
    let mut pending = store
        .begin_issuance(2026, LIST_SIZE, now)
        .await
        .expect("begin");
    let change = StatusChange {
        number: &second,
        wanted: Status::Superseded,
        actor: "officer:a",
        reason: "re-issue",
        now,
    };
    pending.supersede(&change).await.expect("supersede");
    drop(pending);
    assert_eq!(
        store.status_list(1).await.expect("list").get(idx2),
        Some(Status::Valid),
        "rolled back with the issuance"
    );
    let mut pending = store
        .begin_issuance(2026, LIST_SIZE, now)
        .await
        .expect("begin");
    pending
        .record(&placeholder_record(now))
        .await
        .expect("record");
    pending.supersede(&change).await.expect("supersede");
    pending.commit().await.expect("commit");
    assert_eq!(
        store.status_list(1).await.expect("list").get(idx2),
        Some(Status::Superseded)
    );
    assert_eq!(store.certificate_data(&second).await.expect("data"), b"{}");

    // Every state change left one audit entry, chained: 4 issuances, 3 status changes and
    // the supersession; nothing from the rolled-back attempts.
    let entries = store.audit_entries().await.expect("audit");
    assert_eq!(verify_chain(&entries), Ok(8), "{entries:#?}");
    assert_eq!(entries[3].action, "certificate.suspended");
    assert_eq!(entries[3].actor, "officer:a");
    assert!(entries[3].detail.contains("enquiry"));
    jobs_contract(store).await;
    failing_jobs_contract(store).await;
    archive_contract(store).await;
}

/// The bureau's archive copy is kept beside the holder's copy, read back byte for byte with an
/// audit entry; a certificate issued without one answers `None` and leaves no entry.
async fn archive_contract(store: &Store) {
    let now = OffsetDateTime::now_utc();
    let mut pending = store
        .begin_issuance(2031, LIST_SIZE, now)
        .await
        .expect("begin");
    let with_copy = pending.reservation.number.clone();
    let archive = b"%PDF archive copy".to_vec();
    pending
        .record(&IssuedRecord {
            archive_pdf: Some(&archive),
            ..placeholder_record(now)
        })
        .await
        .expect("record");
    pending.commit().await.expect("commit");
    let (without_copy, _, _) = issue(store, 2031).await;

    let before = store.audit_entries().await.expect("audit").len();
    assert_eq!(
        store
            .archive_pdf(&with_copy, "test:archive", now)
            .await
            .expect("archive copy"),
        Some(archive)
    );
    assert_eq!(
        store
            .certificate_pdf(&with_copy, "test:archive", now)
            .await
            .expect("holder's copy"),
        b"%PDF",
        "the holder's copy is unchanged"
    );
    assert_eq!(
        store
            .archive_pdf(&without_copy, "test:archive", now)
            .await
            .expect("no copy"),
        None
    );
    assert!(matches!(
        store
            .archive_pdf("CR-2031-999999", "test:archive", now)
            .await,
        Err(StoreError::UnknownCertificate(_))
    ));
    let entries = store.audit_entries().await.expect("audit");
    let taken: Vec<_> = entries[before..]
        .iter()
        .map(|e| e.action.as_str())
        .collect();
    assert_eq!(
        taken,
        ["certificate.archive_copy_taken", "certificate.downloaded"],
        "each copy taken is audited, a missing one is not"
    );
}

#[tokio::test]
async fn the_contract_holds_on_sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("r.sqlite").display()
    );
    let store = Store::open(&url).await.expect("open");
    contract(&store).await;
    let mut raw = sqlx::SqliteConnection::connect(&url)
        .await
        .expect("raw connection");
    sqlx::query("UPDATE audit_log SET detail = '{}' WHERE id = 2")
        .execute(&mut raw)
        .await
        .expect("tamper");
    let entries = store.audit_entries().await.expect("audit");
    assert_eq!(verify_chain(&entries), Err(ChainBreak::Content(2)));
    sqlx::query("DELETE FROM audit_log WHERE id = 2")
        .execute(&mut raw)
        .await
        .expect("delete");
    let entries = store.audit_entries().await.expect("audit");
    assert_eq!(
        verify_chain(&entries),
        Err(ChainBreak::Gap {
            previous: 1,
            found: 3
        })
    );
}

#[tokio::test]
async fn the_contract_holds_on_postgresql() {
    let Some((db, url)) = PgDatabase::create().await else {
        return;
    };
    let store = Store::open(&url).await.expect("open postgres");
    contract(&store).await;
    let mut raw = sqlx::PgConnection::connect(&url)
        .await
        .expect("raw connection");
    sqlx::query("UPDATE audit_log SET actor = 'nobody' WHERE id = 5")
        .execute(&mut raw)
        .await
        .expect("tamper");
    let entries = store.audit_entries().await.expect("audit");
    assert_eq!(verify_chain(&entries), Err(ChainBreak::Content(5)));
    drop(raw);
    drop(store);
    db.drop_now().await;
}
