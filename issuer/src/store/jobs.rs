//! Durable issuance jobs: one per certificate an approved application asks for. A job's
//! number and status position are reserved (and committed) before its document is rendered,
//! and the job is marked done in the transaction that records the certificate: a crash at any
//! point leaves a job that, retried, issues the same number, and never a second one.

use time::OffsetDateTime;

use super::{
    CopyOf, IssuedRecord, Reservation, StoreError, append_audit, commit, insert_certificate,
    reserve_in, rfc3339,
};
use crate::store::Store;

/// A job claimed by a worker until `lease` runs out.
#[derive(Clone, Debug)]
pub struct ClaimedJob {
    /// Job id.
    pub id: String,
    /// The application.
    pub application_id: String,
    /// Which copy.
    pub copy_no: i64,
    /// Attempts so far, this one included.
    pub attempts: i64,
}

/// Why an attempt failed, and what the worker's policy allows.
#[derive(Clone, Debug)]
pub struct JobFailure<'a> {
    /// The error, as staff will read it.
    pub error: &'a str,
    /// Whether every retry would fail the same way (e.g. a page that cannot be rendered).
    pub permanent: bool,
    /// Attempts a job gets before it is marked failed.
    pub max_attempts: i64,
    /// When a transient failure is retried.
    pub retry_at: OffsetDateTime,
}

/// What became of a failed attempt's job.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobOutcome {
    /// Back in the queue after its backoff.
    Retry,
    /// Marked failed: staff see it and may retry it after a fix.
    Failed,
}

/// An issuance job as staff see it.
#[derive(Clone, Debug, serde::Serialize, sqlx::FromRow)]
pub struct JobSummary {
    /// Job id.
    pub id: String,
    /// The application.
    pub application_id: String,
    /// Which copy.
    pub copy_no: i64,
    /// `queued`, `done` or `failed`.
    pub state: String,
    /// Attempts so far.
    pub attempts: i64,
    /// The last attempt's error.
    pub last_error: Option<String>,
    /// The reserved certificate number, once reserved.
    pub number: Option<String>,
    /// When the job was queued.
    pub created_at: String,
    /// When it was done or failed.
    pub finished_at: Option<String>,
}

/// A certificate as listed to its holder, staff or the receiving department.
#[derive(Clone, Debug, serde::Serialize, sqlx::FromRow)]
pub struct CertificateSummary {
    /// Certificate number.
    pub number: String,
    /// Status code (0 valid, 1 revoked, 2 suspended, 3 superseded).
    #[serde(skip)]
    pub status: i64,
    /// Issue instant.
    pub issued_at: String,
    /// Validity end.
    pub valid_until: String,
    /// The application, if issued online.
    pub application_id: Option<String>,
    /// The receiving department.
    pub transfer_to: Option<String>,
}

/// Who may see a certificate's document.
#[derive(Clone, Debug)]
pub struct CertificateOwner {
    /// The applicant (online applications).
    pub applicant_id: Option<String>,
    /// The receiving department.
    pub transfer_to: Option<String>,
}

impl Store {
    /// Claims the oldest queued job whose lease has run out (or that has none).
    pub async fn claim_job(
        &self,
        now: OffsetDateTime,
        lease: time::Duration,
    ) -> Result<Option<ClaimedJob>, StoreError> {
        let now_text = rfc3339(now);
        let candidates: Vec<(String, String, i64, i64)> = on_pool!(&self.pool, |p| {
            sqlx::query_as(
                "SELECT id, application_id, copy_no, attempts FROM issuance_jobs WHERE state = 'queued' \
                 AND (locked_until IS NULL OR locked_until < $1) ORDER BY created_at, id LIMIT 8",
            )
            .bind(&now_text)
            .fetch_all(p)
            .await?
        });
        for (id, application_id, copy_no, attempts) in candidates {
            let claimed = on_pool!(&self.pool, |p| {
                sqlx::query(
                    "UPDATE issuance_jobs SET locked_until = $1, attempts = attempts + 1 WHERE id = $2 \
                     AND state = 'queued' AND (locked_until IS NULL OR locked_until < $3)",
                )
                .bind(rfc3339(now + lease))
                .bind(&id)
                .bind(&now_text)
                .execute(p)
                .await?
                .rows_affected()
            });
            if claimed == 1 {
                return Ok(Some(ClaimedJob {
                    id,
                    application_id,
                    copy_no,
                    attempts: attempts + 1,
                }));
            }
        }
        Ok(None)
    }

    /// The job's reservation: made (and committed) on the first attempt, the same one on
    /// every retry.
    pub async fn reserve_for_job(
        &self,
        job_id: &str,
        year: i32,
        list_size: u32,
        now: OffsetDateTime,
    ) -> Result<Reservation, StoreError> {
        let mut tx = self.begin().await?;
        let existing: Option<(String, i64, i64)> = on_tx!(&mut tx, |t| {
            sqlx::query_as(
                "SELECT r.number, r.list_id, r.list_index FROM issuance_jobs j JOIN reservations r ON r.number = j.number \
                 WHERE j.id = $1",
            )
            .bind(job_id)
            .fetch_optional(&mut **t)
            .await?
        });
        if let Some((number, list_id, index)) = existing {
            let index = u32::try_from(index).map_err(|_| StoreError::Corrupt("index".into()))?;
            return Ok(Reservation {
                number,
                list_id,
                index,
            });
        }
        let reservation = reserve_in(&mut tx, year, list_size, now).await?;
        let updated = on_tx!(&mut tx, |t| {
            sqlx::query("UPDATE issuance_jobs SET number = $1 WHERE id = $2 AND number IS NULL")
                .bind(&reservation.number)
                .bind(job_id)
                .execute(&mut **t)
                .await?
                .rows_affected()
        });
        if updated != 1 {
            return Err(StoreError::Conflict(format!(
                "job {job_id} was reserved concurrently"
            )));
        }
        commit(tx).await?;
        Ok(reservation)
    }

    /// Records the job's certificate and marks the job done, in one transaction.
    pub async fn complete_job(
        &self,
        job: &ClaimedJob,
        reservation: &Reservation,
        record: &IssuedRecord<'_>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        let copy = CopyOf {
            application_id: &job.application_id,
            copy_no: job.copy_no,
        };
        insert_certificate(&mut tx, reservation, record, Some(copy)).await?;
        let done = on_tx!(&mut tx, |t| {
            sqlx::query(
                "UPDATE issuance_jobs SET state = 'done', finished_at = $1, locked_until = NULL, last_error = NULL \
                 WHERE id = $2 AND state = 'queued' AND number = $3",
            )
            .bind(rfc3339(record.issued_at))
            .bind(&job.id)
            .bind(&reservation.number)
            .execute(&mut **t)
            .await?
            .rows_affected()
        });
        if done != 1 {
            return Err(StoreError::Conflict(format!(
                "job {} is not queued",
                job.id
            )));
        }
        commit(tx).await
    }

    /// Notes a failed attempt. A permanent error, or the `max_attempts`-th attempt, marks
    /// the job failed (audited with its error, in the same transaction; it is never claimed
    /// again); otherwise it is retried after `retry_at`. The job keeps its reservation.
    pub async fn fail_job(
        &self,
        job: &ClaimedJob,
        failure: &JobFailure<'_>,
        now: OffsetDateTime,
    ) -> Result<JobOutcome, StoreError> {
        let give_up = failure.permanent || job.attempts >= failure.max_attempts;
        let mut tx = self.begin().await?;
        if !give_up {
            on_tx!(&mut tx, |t| {
                sqlx::query(
                    "UPDATE issuance_jobs SET last_error = $1, locked_until = $2 WHERE id = $3 AND state = 'queued'",
                )
                .bind(failure.error)
                .bind(rfc3339(failure.retry_at))
                .bind(&job.id)
                .execute(&mut **t)
                .await?;
            });
            commit(tx).await?;
            return Ok(JobOutcome::Retry);
        }
        let failed = on_tx!(&mut tx, |t| {
            sqlx::query(
                "UPDATE issuance_jobs SET state = 'failed', last_error = $1, locked_until = NULL, finished_at = $2 \
                 WHERE id = $3 AND state = 'queued'",
            )
            .bind(failure.error)
            .bind(rfc3339(now))
            .bind(&job.id)
            .execute(&mut **t)
            .await?
            .rows_affected()
        });
        if failed != 1 {
            return Err(StoreError::Conflict(format!(
                "job {} is not queued",
                job.id
            )));
        }
        let detail = serde_json::json!({
            "application_id": job.application_id,
            "copy_no": job.copy_no,
            "attempts": job.attempts,
            "permanent": failure.permanent,
            "error": failure.error,
        })
        .to_string();
        append_audit(
            &mut tx,
            "issuer:jobs",
            "issuance.failed",
            &job.id,
            &detail,
            now,
        )
        .await?;
        commit(tx).await?;
        Ok(JobOutcome::Failed)
    }

    /// Jobs in `state` (`queued`, `done` or `failed`), oldest first, at most `limit`.
    pub async fn jobs_in_state(
        &self,
        state: &str,
        limit: i64,
    ) -> Result<Vec<JobSummary>, StoreError> {
        Ok(on_pool!(&self.pool, |p| {
            sqlx::query_as(
                "SELECT id, application_id, copy_no, state, attempts, last_error, number, created_at, finished_at \
                 FROM issuance_jobs WHERE state = $1 ORDER BY created_at, id LIMIT $2",
            )
            .bind(state)
            .bind(limit)
            .fetch_all(p)
            .await?
        }))
    }

    /// Puts a failed job back in the queue for a fresh round of attempts (after the cause
    /// was fixed), audited. It keeps its reserved number, if it had one.
    pub async fn retry_job(
        &self,
        job_id: &str,
        actor: &str,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        let requeued = on_tx!(&mut tx, |t| {
            sqlx::query(
                "UPDATE issuance_jobs SET state = 'queued', attempts = 0, locked_until = NULL, finished_at = NULL \
                 WHERE id = $1 AND state = 'failed'",
            )
            .bind(job_id)
            .execute(&mut **t)
            .await?
            .rows_affected()
        });
        if requeued != 1 {
            let exists: Option<String> = on_tx!(&mut tx, |t| {
                sqlx::query_scalar("SELECT state FROM issuance_jobs WHERE id = $1")
                    .bind(job_id)
                    .fetch_optional(&mut **t)
                    .await?
            });
            return Err(match exists {
                None => StoreError::NotFound(format!("no issuance job {job_id}")),
                Some(state) => StoreError::Conflict(format!(
                    "job {job_id} is {state}; only failed jobs are retried"
                )),
            });
        }
        append_audit(&mut tx, actor, "issuance.retried", job_id, "{}", now).await?;
        commit(tx).await
    }

    /// Jobs not yet done: (queued, of which leased now).
    pub async fn pending_jobs(&self) -> Result<i64, StoreError> {
        Ok(on_pool!(&self.pool, |p| {
            sqlx::query_scalar("SELECT COUNT(*) FROM issuance_jobs WHERE state = 'queued'")
                .fetch_one(p)
                .await?
        }))
    }

    /// Approved applications whose every job is done (ready to be marked issued).
    pub async fn finished_applications(&self) -> Result<Vec<String>, StoreError> {
        Ok(on_pool!(&self.pool, |p| {
            sqlx::query_scalar(
                "SELECT a.id FROM applications a WHERE a.state = 'APPROVED' AND NOT EXISTS \
                 (SELECT 1 FROM issuance_jobs j WHERE j.application_id = a.id AND j.state <> 'done') \
                 ORDER BY a.updated_at, a.id",
            )
            .fetch_all(p)
            .await?
        }))
    }

    /// The certificates issued for an application, by copy.
    pub async fn certificates_of(
        &self,
        application_id: &str,
    ) -> Result<Vec<CertificateSummary>, StoreError> {
        Ok(on_pool!(&self.pool, |p| {
            sqlx::query_as(
                "SELECT number, status, issued_at, valid_until, application_id, transfer_to FROM certificates \
                 WHERE application_id = $1 ORDER BY copy_no",
            )
            .bind(application_id)
            .fetch_all(p)
            .await?
        }))
    }

    /// The numbers of the certificates still VALID and unexpired at `now` that were issued
    /// in `[from, until)`, oldest first: what a compromised key signed (SPEC §10).
    pub async fn current_certificates_issued_between(
        &self,
        from: OffsetDateTime,
        until: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(String,)> = on_pool!(&self.pool, |p| {
            sqlx::query_as(
                "SELECT number FROM certificates WHERE status = $1 AND issued_at >= $2 \
                 AND issued_at < $3 AND valid_until > $4 ORDER BY issued_at, number",
            )
            .bind(i64::from(ccr_pki::status_list::Status::Valid.code()))
            .bind(super::stored_instant(from))
            .bind(super::stored_instant(until))
            .bind(super::stored_instant(now))
            .fetch_all(p)
            .await?
        });
        Ok(rows.into_iter().map(|(number,)| number).collect())
    }

    /// The certificates transferred to a department, newest first.
    pub async fn transfers_to(
        &self,
        department: &str,
    ) -> Result<Vec<CertificateSummary>, StoreError> {
        Ok(on_pool!(&self.pool, |p| {
            sqlx::query_as(
                "SELECT number, status, issued_at, valid_until, application_id, transfer_to FROM certificates \
                 WHERE transfer_to = $1 ORDER BY issued_at DESC, number",
            )
            .bind(department)
            .fetch_all(p)
            .await?
        }))
    }

    /// One certificate's summary and who may see it.
    pub async fn certificate(
        &self,
        number: &str,
    ) -> Result<Option<(CertificateSummary, CertificateOwner)>, StoreError> {
        type Row = (
            String,
            i64,
            String,
            String,
            Option<String>,
            Option<String>,
            Option<String>,
        );
        let row: Option<Row> = on_pool!(&self.pool, |p| {
            sqlx::query_as(
                "SELECT c.number, c.status, c.issued_at, c.valid_until, c.application_id, c.transfer_to, a.applicant_id \
                 FROM certificates c LEFT JOIN applications a ON a.id = c.application_id WHERE c.number = $1",
            )
            .bind(number)
            .fetch_optional(p)
            .await?
        });
        Ok(row.map(
            |(
                number,
                status,
                issued_at,
                valid_until,
                application_id,
                transfer_to,
                applicant_id,
            )| {
                (
                    CertificateSummary {
                        number,
                        status,
                        issued_at,
                        valid_until,
                        application_id,
                        transfer_to: transfer_to.clone(),
                    },
                    CertificateOwner {
                        applicant_id,
                        transfer_to,
                    },
                )
            },
        ))
    }

    /// A certificate's signed PDF, with an audit entry naming who took it.
    pub async fn certificate_pdf(
        &self,
        number: &str,
        actor: &str,
        now: OffsetDateTime,
    ) -> Result<Vec<u8>, StoreError> {
        self.taken_copy(number, StoredCopy::Holders, actor, now)
            .await?
            .ok_or_else(|| StoreError::UnknownCertificate(number.to_owned()))
    }

    /// The bureau's B-LTA archive copy of a certificate (`None` when it was issued with the
    /// archive switch off), with an audit entry naming who took it.
    pub async fn archive_pdf(
        &self,
        number: &str,
        actor: &str,
        now: OffsetDateTime,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        self.taken_copy(number, StoredCopy::Archive, actor, now)
            .await
    }

    async fn taken_copy(
        &self,
        number: &str,
        copy: StoredCopy,
        actor: &str,
        now: OffsetDateTime,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let (query, action) = match copy {
            StoredCopy::Holders => (
                "SELECT pdf FROM certificates WHERE number = $1",
                "certificate.downloaded",
            ),
            StoredCopy::Archive => (
                "SELECT archive_pdf FROM certificates WHERE number = $1",
                "certificate.archive_copy_taken",
            ),
        };
        let mut tx = self.begin().await?;
        let pdf: Option<Option<Vec<u8>>> = on_tx!(&mut tx, |t| {
            sqlx::query_scalar(query)
                .bind(number)
                .fetch_optional(&mut **t)
                .await?
        });
        let pdf = pdf.ok_or_else(|| StoreError::UnknownCertificate(number.to_owned()))?;
        if pdf.is_some() {
            append_audit(&mut tx, actor, action, number, "{}", now).await?;
            commit(tx).await?;
        }
        Ok(pdf)
    }
}

/// Which stored PDF of a certificate.
#[derive(Clone, Copy)]
enum StoredCopy {
    /// The holder's copy (B-LT), as delivered.
    Holders,
    /// The bureau's archive copy (B-LTA).
    Archive,
}
