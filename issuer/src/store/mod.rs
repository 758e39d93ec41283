//! The registry: certificate numbers, status-list positions, statuses and their history.
//!
//! SQLite is the embedded default, PostgreSQL the choice for scale. Every query is written
//! once, checked at run time, with `$N` placeholders (which SQLite accepts too); the
//! [`on_pool!`] and [`on_tx!`] macros run that one text on whichever backend is open, so the
//! two can never drift apart. Each backend has its own migrations folder.

use rand::Rng;
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use sqlx::{Postgres, Sqlite, SqlitePool, Transaction};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use ccr_pki::status_list::{Status, StatusList};

/// Attempts to find a free random index before giving up (a list is never allowed to fill
/// beyond what makes collisions likely: a new list starts when it is full).
const INDEX_ATTEMPTS: usize = 64;

/// Registry errors.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database failed.
    #[error("registry: {0}")]
    Database(#[from] sqlx::Error),
    /// Migrations failed.
    #[error("registry migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// No such certificate.
    #[error("no certificate numbered {0}")]
    UnknownCertificate(String),
    /// The change is not allowed from the current status.
    #[error("certificate {number} is {current}; it cannot become {wanted}")]
    Transition {
        /// The certificate.
        number: String,
        /// Its status.
        current: &'static str,
        /// The refused status.
        wanted: &'static str,
    },
    /// Stored data is inconsistent.
    #[error("registry data: {0}")]
    Corrupt(String),
    /// The change conflicts with the current state (a repeated or concurrent request).
    #[error("{0}")]
    Conflict(String),
    /// No such thing.
    #[error("{0}")]
    NotFound(String),
    /// A rate or attempt limit refuses the request.
    #[error("{0}")]
    Limit(String),
    /// The data would break a limit of what can be issued (HTTP 422).
    #[error("{0}")]
    Invalid(String),
}

/// A reserved position for a certificate being issued (inside an open transaction).
#[derive(Debug, Clone)]
pub struct Reservation {
    /// The certificate number.
    pub number: String,
    /// The status list.
    pub list_id: i64,
    /// The index in it.
    pub index: u32,
}

/// The open database.
#[derive(Debug, Clone)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// An open transaction on either backend.
#[derive(Debug)]
enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

/// Runs `$body` with `$p` bound to the pool of whichever backend is open.
macro_rules! on_pool {
    ($pool:expr, |$p:ident| $body:expr) => {
        match $pool {
            $crate::store::Pool::Sqlite($p) => $body,
            $crate::store::Pool::Postgres($p) => $body,
        }
    };
}

/// Runs `$body` with `$t` bound to the transaction of whichever backend is open.
macro_rules! on_tx {
    ($tx:expr, |$t:ident| $body:expr) => {
        match $tx {
            $crate::store::Tx::Sqlite($t) => $body,
            $crate::store::Tx::Postgres($t) => $body,
        }
    };
}

pub mod accounts;
pub mod applications;
pub mod back_office;
pub mod collection;
pub mod deliveries;
pub mod jobs;
pub mod outbox;
pub mod records;
pub mod web_sessions;

/// The registry.
#[derive(Debug, Clone)]
pub struct Store {
    pool: Pool,
}

/// Instants are stored as UTC RFC 3339 with exactly six fraction digits, so that comparing
/// the text (leases, expiries) compares the instants.
const STORED_INSTANT: &[time::format_description::BorrowedFormatItem<'static>] = time::macros::format_description!(
    "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
);

fn rfc3339(t: OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .format(STORED_INSTANT)
        .unwrap_or_default()
}

/// An instant in the stored form (UTC, six fraction digits).
pub fn stored_instant(t: OffsetDateTime) -> String {
    rfc3339(t)
}

/// Reads a stored instant.
pub fn parse_time(text: &str) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::parse(text, &Rfc3339)
        .map_err(|e| StoreError::Corrupt(format!("stored instant {text:?}: {e}")))
}

/// A new random identifier: a prefix and 80 random bits in Crockford base 32 (readable
/// aloud at a counter, not guessable).
pub fn random_id(prefix: &str) -> String {
    const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let bits: u128 = rand::rng().random::<u128>() >> 48;
    let text: String = (0..16)
        .rev()
        .map(|i| char::from(ALPHABET[((bits >> (i * 5)) & 31) as usize]))
        .collect();
    format!("{prefix}-{}-{}", &text[..8], &text[8..])
}

/// An issuance in progress: the transaction commits only when the document is finished.
#[derive(Debug)]
pub struct PendingIssuance {
    tx: Tx,
    /// The reserved number and status position.
    pub reservation: Reservation,
}

impl Store {
    /// Opens and migrates the database at `url`: `sqlite://…` (created if missing) or
    /// `postgres://…`.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = PgPoolOptions::new().max_connections(8).connect(url).await?;
            sqlx::migrate!("migrations/postgres").run(&pool).await?;
            return Ok(Self {
                pool: Pool::Postgres(pool),
            });
        }
        let options: SqliteConnectOptions = url.parse()?;
        let options = options
            .create_if_missing(true)
            .foreign_keys(true)
            .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
            .busy_timeout(std::time::Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await?;
        sqlx::migrate!("migrations/sqlite").run(&pool).await?;
        Ok(Self {
            pool: Pool::Sqlite(pool),
        })
    }

    async fn begin(&self) -> Result<Tx, StoreError> {
        Ok(match &self.pool {
            // IMMEDIATE takes the write lock at the start: a deferred transaction that reads
            // and then writes fails at once with "database is locked" when another writer
            // got there first, instead of waiting for the busy timeout.
            Pool::Sqlite(p) => Tx::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?),
            Pool::Postgres(p) => Tx::Postgres(p.begin().await?),
        })
    }

    /// Starts an issuance: reserves the next certificate number of `year` and a random free
    /// index in the current status list (starting a new list when it is full).
    pub async fn begin_issuance(
        &self,
        year: i32,
        list_size: u32,
        now: OffsetDateTime,
    ) -> Result<PendingIssuance, StoreError> {
        let mut tx = self.begin().await?;
        let reservation = reserve_in(&mut tx, year, list_size, now).await?;
        Ok(PendingIssuance { tx, reservation })
    }

    /// All statuses of list `list_id` as a status list, with its size.
    pub async fn status_list(&self, list_id: i64) -> Result<StatusList, StoreError> {
        let size: Option<i64> = on_pool!(&self.pool, |p| {
            sqlx::query_scalar("SELECT size FROM status_lists WHERE id = $1")
                .bind(list_id)
                .fetch_optional(p)
                .await?
        });
        let size = size.ok_or_else(|| StoreError::Corrupt(format!("no status list {list_id}")))?;
        let size = u32::try_from(size).map_err(|_| StoreError::Corrupt("list size".into()))?;
        let mut list = StatusList::new(size).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let rows: Vec<(i64, i64)> = on_pool!(&self.pool, |p| {
            sqlx::query_as(
                "SELECT list_index, status FROM certificates WHERE list_id = $1 AND status <> 0",
            )
            .bind(list_id)
            .fetch_all(p)
            .await?
        });
        for (idx, code) in rows {
            let status = u8::try_from(code)
                .ok()
                .and_then(Status::from_code)
                .ok_or_else(|| StoreError::Corrupt("status".into()))?;
            let idx = u32::try_from(idx).map_err(|_| StoreError::Corrupt("index".into()))?;
            list.set(idx, status)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        }
        Ok(list)
    }

    /// A value that changes whenever a status changes or a list is added: the publisher
    /// re-signs when it moves.
    pub async fn change_marker(&self) -> Result<(i64, i64), StoreError> {
        Ok(on_pool!(&self.pool, |p| {
            sqlx::query_as(
                "SELECT (SELECT COALESCE(MAX(id), 0) FROM status_events), (SELECT COUNT(*) FROM status_lists)",
            )
            .fetch_one(p)
            .await?
        }))
    }

    /// The ids of all status lists.
    pub async fn status_list_ids(&self) -> Result<Vec<i64>, StoreError> {
        Ok(on_pool!(&self.pool, |p| {
            sqlx::query_scalar("SELECT id FROM status_lists ORDER BY id")
                .fetch_all(p)
                .await?
        }))
    }

    /// Changes a certificate's status and records who, when and why. Returns its list id.
    pub async fn change_status(
        &self,
        number: &str,
        wanted: Status,
        actor: &str,
        reason: &str,
        now: OffsetDateTime,
    ) -> Result<i64, StoreError> {
        let mut tx = self.begin().await?;
        let list_id = change_status_in(
            &mut tx,
            &StatusChange {
                number,
                wanted,
                actor,
                reason,
                now,
            },
        )
        .await?;
        commit(tx).await?;
        Ok(list_id)
    }

    /// The whole audit log, in order.
    pub async fn audit_entries(&self) -> Result<Vec<crate::rules::audit::AuditEntry>, StoreError> {
        let rows: Vec<AuditRow> = on_pool!(&self.pool, |p| {
            sqlx::query_as("SELECT id, at, actor, action, subject, detail, prev_hash, hash FROM audit_log ORDER BY id")
                .fetch_all(p)
                .await?
        });
        Ok(rows.into_iter().map(audit_entry).collect())
    }

    /// Counts for the service's metrics: applications by state, queued issuance jobs,
    /// certificates by status, undelivered messages.
    pub async fn metric_counts(&self) -> Result<Vec<(String, i64)>, StoreError> {
        let mut counts: Vec<(String, i64)> = on_pool!(&self.pool, |p| {
            sqlx::query_as(
                "SELECT 'applications{state=\"' || state || '\"}', COUNT(*) FROM applications GROUP BY state \
                 UNION ALL SELECT 'certificates{status=\"' || CAST(status AS TEXT) || '\"}', COUNT(*) FROM certificates GROUP BY status \
                 UNION ALL SELECT 'issuance_jobs_queued', COUNT(*) FROM issuance_jobs WHERE state = 'queued' \
                 UNION ALL SELECT 'outbox_undelivered{channel=\"' || channel || '\"}', COUNT(*) FROM outbox WHERE delivered_at IS NULL GROUP BY channel",
            )
            .fetch_all(p)
            .await?
        });
        counts.sort();
        Ok(counts)
    }

    /// Appends one entry to the audit log on its own (a sign-in, a read of record data).
    pub async fn audit(
        &self,
        actor: &str,
        action: &str,
        subject: &str,
        detail: &serde_json::Value,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        append_audit(&mut tx, actor, action, subject, &detail.to_string(), now).await?;
        commit(tx).await
    }

    /// Audit entries about `subject` (an application, a certificate), newest last, at most
    /// `limit`.
    pub async fn audit_of(
        &self,
        subject: &str,
        limit: i64,
    ) -> Result<Vec<crate::rules::audit::AuditEntry>, StoreError> {
        let rows: Vec<AuditRow> = on_pool!(&self.pool, |p| {
            sqlx::query_as("SELECT id, at, actor, action, subject, detail, prev_hash, hash FROM audit_log WHERE subject = $1 ORDER BY id DESC LIMIT $2")
                .bind(subject)
                .bind(limit)
                .fetch_all(p)
                .await?
        });
        let mut entries: Vec<_> = rows.into_iter().map(audit_entry).collect();
        entries.reverse();
        Ok(entries)
    }

    /// Audit entries after `after`, at most `limit`, in order.
    pub async fn audit_page(
        &self,
        after: i64,
        limit: i64,
    ) -> Result<Vec<crate::rules::audit::AuditEntry>, StoreError> {
        let rows: Vec<AuditRow> = on_pool!(&self.pool, |p| {
            sqlx::query_as("SELECT id, at, actor, action, subject, detail, prev_hash, hash FROM audit_log WHERE id > $1 ORDER BY id LIMIT $2")
                .bind(after)
                .bind(limit)
                .fetch_all(p)
                .await?
        });
        Ok(rows.into_iter().map(audit_entry).collect())
    }

    /// The embedded certificate data JSON of a certificate.
    pub async fn certificate_data(&self, number: &str) -> Result<Vec<u8>, StoreError> {
        let data: Option<Vec<u8>> = on_pool!(&self.pool, |p| {
            sqlx::query_scalar("SELECT data_json FROM certificates WHERE number = $1")
                .bind(number)
                .fetch_optional(p)
                .await?
        });
        data.ok_or_else(|| StoreError::UnknownCertificate(number.to_owned()))
    }
}

/// Reserves, inside `tx`, the next certificate number of `year` and a random free index in
/// the current status list (starting a new list when it is full). The reservation row makes
/// the pair unique before any document exists.
async fn reserve_in(
    tx: &mut Tx,
    year: i32,
    list_size: u32,
    now: OffsetDateTime,
) -> Result<Reservation, StoreError> {
    let seq: i64 = on_tx!(&mut *tx, |t| {
        sqlx::query_scalar(
            "INSERT INTO certificate_sequences (year, last_seq) VALUES ($1, 1) \
             ON CONFLICT (year) DO UPDATE SET last_seq = certificate_sequences.last_seq + 1 \
             RETURNING last_seq",
        )
        .bind(year)
        .fetch_one(&mut **t)
        .await?
    });
    let number = format!("CR-{year}-{seq:06}");
    let current: Option<(i64, i64)> = on_tx!(&mut *tx, |t| {
        sqlx::query_as("SELECT id, size FROM status_lists ORDER BY id DESC LIMIT 1")
            .fetch_optional(&mut **t)
            .await?
    });
    let (mut list_id, mut size) = current.unwrap_or_default();
    let used: i64 = on_tx!(&mut *tx, |t| {
        sqlx::query_scalar("SELECT COUNT(*) FROM reservations WHERE list_id = $1")
            .bind(list_id)
            .fetch_one(&mut **t)
            .await?
    });
    if list_id == 0 || used >= size {
        list_id += 1;
        size = i64::from(list_size);
        on_tx!(&mut *tx, |t| {
            sqlx::query("INSERT INTO status_lists (id, size, created_at) VALUES ($1, $2, $3)")
                .bind(list_id)
                .bind(size)
                .bind(rfc3339(now))
                .execute(&mut **t)
                .await?;
        });
    }
    let size_u32 = u32::try_from(size).map_err(|_| StoreError::Corrupt("list size".into()))?;
    let mut index = None;
    for _ in 0..INDEX_ATTEMPTS {
        let candidate = rand::rng().random_range(0..size_u32);
        let taken: Option<i64> = on_tx!(&mut *tx, |t| {
            sqlx::query_scalar(
                "SELECT list_index FROM reservations WHERE list_id = $1 AND list_index = $2",
            )
            .bind(list_id)
            .bind(i64::from(candidate))
            .fetch_optional(&mut **t)
            .await?
        });
        if taken.is_none() {
            index = Some(candidate);
            break;
        }
    }
    let index = index.ok_or_else(|| StoreError::Corrupt("no free status index found".into()))?;
    on_tx!(&mut *tx, |t| {
        sqlx::query(
            "INSERT INTO reservations (number, list_id, list_index, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(&number)
        .bind(list_id)
        .bind(i64::from(index))
        .bind(rfc3339(now))
        .execute(&mut **t)
        .await?;
    });
    Ok(Reservation {
        number,
        list_id,
        index,
    })
}

type AuditRow = (i64, String, String, String, String, String, String, String);

fn audit_entry(row: AuditRow) -> crate::rules::audit::AuditEntry {
    let (id, at, actor, action, subject, detail, prev_hash, hash) = row;
    crate::rules::audit::AuditEntry {
        id,
        at,
        actor,
        action,
        subject,
        detail,
        prev_hash,
        hash,
    }
}

/// One status change, as recorded.
#[derive(Debug, Clone, Copy)]
pub struct StatusChange<'a> {
    /// The certificate.
    pub number: &'a str,
    /// Its new status.
    pub wanted: Status,
    /// Who.
    pub actor: &'a str,
    /// Why.
    pub reason: &'a str,
    /// When.
    pub now: OffsetDateTime,
}

/// Applies an allowed status change inside `tx` and appends it to the history.
async fn change_status_in(tx: &mut Tx, change: &StatusChange<'_>) -> Result<i64, StoreError> {
    let number = change.number;
    let row: Option<(i64, i64)> = on_tx!(&mut *tx, |t| {
        sqlx::query_as("SELECT status, list_id FROM certificates WHERE number = $1")
            .bind(number)
            .fetch_optional(&mut **t)
            .await?
    });
    let (current, list_id) =
        row.ok_or_else(|| StoreError::UnknownCertificate(number.to_owned()))?;
    let current = u8::try_from(current)
        .ok()
        .and_then(Status::from_code)
        .ok_or_else(|| StoreError::Corrupt("status".into()))?;
    // Revoked and superseded are final; a suspension is lifted or made final.
    let allowed = matches!(
        (current, change.wanted),
        (
            Status::Valid,
            Status::Revoked | Status::Suspended | Status::Superseded
        ) | (
            Status::Suspended,
            Status::Valid | Status::Revoked | Status::Superseded
        )
    );
    if !allowed {
        return Err(StoreError::Transition {
            number: number.to_owned(),
            current: current.name(),
            wanted: change.wanted.name(),
        });
    }
    on_tx!(&mut *tx, |t| {
        sqlx::query("UPDATE certificates SET status = $1 WHERE number = $2")
            .bind(i64::from(change.wanted.code()))
            .bind(number)
            .execute(&mut **t)
            .await?;
        sqlx::query(
            "INSERT INTO status_events (number, old_status, new_status, actor, reason, at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(number)
        .bind(i64::from(current.code()))
        .bind(i64::from(change.wanted.code()))
        .bind(change.actor)
        .bind(change.reason)
        .bind(rfc3339(change.now))
        .execute(&mut **t)
        .await?;
    });
    let detail = serde_json::json!({ "from": current.name(), "to": change.wanted.name(), "reason": change.reason }).to_string();
    let action = format!("certificate.{}", change.wanted.name().to_ascii_lowercase());
    append_audit(tx, change.actor, &action, number, &detail, change.now).await?;
    // The department holding a transfer copy learns of the change in the same transaction.
    deliveries::queue_status_change_in(tx, number, change.wanted, change.reason, change.now)
        .await?;
    Ok(list_id)
}

impl StoreError {
    /// Whether the stored data itself is at fault (retrying cannot help), as opposed to the
    /// database being unreachable or busy, or a concurrent writer winning a race.
    pub fn is_permanent(&self) -> bool {
        match self {
            Self::Corrupt(_) | Self::Invalid(_) | Self::UnknownCertificate(_) => true,
            Self::Database(_)
            | Self::Migrate(_)
            | Self::Transition { .. }
            | Self::Conflict(_)
            | Self::NotFound(_)
            | Self::Limit(_) => false,
        }
    }
}

/// Appends an entry to the hash-chained audit log inside `tx`.
async fn append_audit(
    tx: &mut Tx,
    actor: &str,
    action: &str,
    subject: &str,
    detail: &str,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    if let Tx::Postgres(t) = tx {
        // Concurrent writers would read the same chain head; serialise them.
        sqlx::query("SELECT pg_advisory_xact_lock(7413)")
            .execute(&mut **t)
            .await?;
    }
    let head: Option<(i64, String)> = on_tx!(&mut *tx, |t| {
        sqlx::query_as("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1")
            .fetch_optional(&mut **t)
            .await?
    });
    let (prev_id, prev_hash) = head.unwrap_or_else(|| (0, crate::rules::audit::GENESIS.to_owned()));
    let id = prev_id + 1;
    let at = rfc3339(now);
    let hash = crate::rules::audit::entry_hash(id, &at, actor, action, subject, detail, &prev_hash);
    on_tx!(&mut *tx, |t| {
        sqlx::query(
            "INSERT INTO audit_log (id, at, actor, action, subject, detail, prev_hash, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(id)
        .bind(&at)
        .bind(actor)
        .bind(action)
        .bind(subject)
        .bind(detail)
        .bind(&prev_hash)
        .bind(&hash)
        .execute(&mut **t)
        .await?;
    });
    Ok(())
}

/// What is recorded for an issued certificate.
#[derive(Debug)]
pub struct IssuedRecord<'a> {
    /// Who issued it.
    pub actor: &'a str,
    /// Issue instant.
    pub issued_at: OffsetDateTime,
    /// Validity end.
    pub valid_until: OffsetDateTime,
    /// Embedded data JSON.
    pub data_json: &'a [u8],
    /// Token bytes.
    pub token: &'a [u8],
    /// The PDF.
    pub pdf: &'a [u8],
    /// The bureau's B-LTA archive copy, when the archive switch is on.
    pub archive_pdf: Option<&'a [u8]>,
    /// The holder's identity document key (`TYPE:NUMBER`), for first-time checks.
    pub doc_key: &'a str,
    /// The receiving department of a transfer copy.
    pub transfer_to: Option<&'a str>,
}

impl PendingIssuance {
    /// Records the certificate inside the transaction (not yet committed).
    pub async fn record(&mut self, record: &IssuedRecord<'_>) -> Result<(), StoreError> {
        insert_certificate(&mut self.tx, &self.reservation, record, None).await
    }

    /// Records a re-issued certificate as a further copy of `application_id` (so that its
    /// applicant, who could download the old one, can download the new one).
    pub async fn record_for_application(
        &mut self,
        record: &IssuedRecord<'_>,
        application_id: &str,
    ) -> Result<(), StoreError> {
        let last: Option<i64> = on_tx!(&mut self.tx, |t| {
            sqlx::query_scalar("SELECT MAX(copy_no) FROM certificates WHERE application_id = $1")
                .bind(application_id)
                .fetch_one(&mut **t)
                .await?
        });
        let copy = CopyOf {
            application_id,
            copy_no: last.unwrap_or(0) + 1,
        };
        insert_certificate(&mut self.tx, &self.reservation, record, Some(copy)).await
    }

    /// Marks the certificate this one replaces as SUPERSEDED, in the same transaction, so the
    /// re-issue and the supersession happen together or not at all. Returns the old list id.
    pub async fn supersede(&mut self, change: &StatusChange<'_>) -> Result<i64, StoreError> {
        change_status_in(&mut self.tx, change).await
    }

    /// Makes the issuance durable.
    pub async fn commit(self) -> Result<(), StoreError> {
        commit(self.tx).await
    }
}

/// The application copy a certificate is issued for.
#[derive(Clone, Copy, Debug)]
pub struct CopyOf<'a> {
    /// The application.
    pub application_id: &'a str,
    /// Which copy (1-based).
    pub copy_no: i64,
}

/// Inserts an issued certificate on its reservation and audits it, inside `tx`.
async fn insert_certificate(
    tx: &mut Tx,
    reservation: &Reservation,
    record: &IssuedRecord<'_>,
    copy: Option<CopyOf<'_>>,
) -> Result<(), StoreError> {
    let digest = sha256_hex(record.pdf);
    let detail = serde_json::json!({
        "list_id": reservation.list_id,
        "index": reservation.index,
        "pdf_sha256": digest,
        "application": copy.map(|c| c.application_id),
        "archive_sha256": record.archive_pdf.map(sha256_hex),
    })
    .to_string();
    on_tx!(&mut *tx, |t| {
        sqlx::query(
            "INSERT INTO certificates (number, list_id, list_index, status, issued_at, valid_until, data_json, token, pdf, pdf_sha256, \
             doc_key, transfer_to, application_id, copy_no, archive_pdf) \
             VALUES ($1, $2, $3, 0, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        )
        .bind(&reservation.number)
        .bind(reservation.list_id)
        .bind(i64::from(reservation.index))
        .bind(rfc3339(record.issued_at))
        .bind(rfc3339(record.valid_until))
        .bind(record.data_json)
        .bind(record.token)
        .bind(record.pdf)
        .bind(&digest)
        .bind(record.doc_key)
        .bind(record.transfer_to)
        .bind(copy.map(|c| c.application_id))
        .bind(copy.map(|c| c.copy_no))
        .bind(record.archive_pdf)
        .execute(&mut **t)
        .await?;
    });
    append_audit(
        tx,
        record.actor,
        "certificate.issued",
        &reservation.number,
        &detail,
        record.issued_at,
    )
    .await?;
    if let Some(department) = record.transfer_to {
        deliveries::queue_certificate_in(
            tx,
            &reservation.number,
            department,
            record.pdf,
            record.issued_at,
        )
        .await?;
    }
    Ok(())
}

async fn commit(tx: Tx) -> Result<(), StoreError> {
    on_tx!(tx, |t| t.commit().await?);
    Ok(())
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}
