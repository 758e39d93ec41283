//! The transfer outbox (SPEC §9): envelopes queued in the transaction of the change that
//! causes them, one gap-free ordered lane per department, leased by delivery workers so that
//! several instances on one database never send the same delivery at once.

use ccr_pki::status_list::Status;
use ccr_pki::transfer::{Envelope, EnvelopeKind};
use time::OffsetDateTime;

use super::applications::Outgoing;
use super::{StoreError, Tx, rfc3339};
use crate::store::Store;

/// The failure after which the security officer and the department are told.
pub const ALERT_AFTER_FAILURES: i64 = 4;

/// A department's push registration.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Endpoint {
    /// The department.
    pub code: String,
    /// Where envelopes are POSTed.
    pub endpoint: String,
    /// The receipt-verification key (SPKI PEM).
    pub receipt_key_pem: String,
    /// Last change.
    pub updated_at: String,
}

/// A delivery claimed by one worker until `lease_until`.
#[derive(Clone, Debug)]
pub struct ClaimedDelivery {
    /// The delivery id (`webhook-id`).
    pub id: String,
    /// The department.
    pub department: String,
    /// Its position in the lane.
    pub seq: i64,
    /// The exact body.
    pub body: Vec<u8>,
    /// Failures so far.
    pub failures: i64,
    /// When the first failure happened.
    pub first_failure_at: Option<String>,
    /// Where to send it.
    pub endpoint: String,
    /// The department's receipt key (PEM).
    pub receipt_key_pem: String,
}

/// One delivery as shown to staff, the department's pull feed and the applicant.
#[derive(Clone, Debug, serde::Serialize, sqlx::FromRow)]
pub struct DeliveryView {
    /// The delivery id.
    pub id: String,
    /// The department.
    pub department: String,
    /// Its position in the lane.
    pub seq: i64,
    /// `certificate` or `status-change`.
    pub kind: String,
    /// The certificate.
    pub certificate: String,
    /// `queued`, `delivered` or `rejected`.
    pub state: String,
    /// When queued.
    pub created_at: String,
    /// When delivered or rejected.
    pub done_at: Option<String>,
    /// The department's reason code of a rejection.
    pub reject_reason: Option<String>,
    /// Failed attempts.
    pub failures: i64,
    /// The last failure (why it is not delivered yet).
    pub last_error: Option<String>,
    /// The next attempt.
    pub next_attempt_at: String,
}

const VIEW_COLUMNS: &str = "id, department, seq, kind, certificate, state, created_at, done_at, reject_reason, failures, last_error, next_attempt_at";

/// Queues the transfer copy `number` for `department` inside `tx`.
pub(super) async fn queue_certificate_in(
    tx: &mut Tx,
    number: &str,
    department: &str,
    pdf: &[u8],
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    use base64::Engine as _;
    let pdf = base64::engine::general_purpose::STANDARD.encode(pdf);
    queue_in(tx, department, number, now, |envelope| {
        envelope.kind = EnvelopeKind::Certificate;
        envelope.pdf = Some(pdf);
    })
    .await
}

/// Queues a status change of `number` for the department holding it (if any) inside `tx`.
pub(super) async fn queue_status_change_in(
    tx: &mut Tx,
    number: &str,
    status: Status,
    reason: &str,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    let holder: Option<Option<String>> = on_tx!(&mut *tx, |t| {
        sqlx::query_scalar("SELECT transfer_to FROM certificates WHERE number = $1")
            .bind(number)
            .fetch_optional(&mut **t)
            .await?
    });
    let Some(Some(department)) = holder else {
        return Ok(());
    };
    queue_in(tx, &department, number, now, |envelope| {
        envelope.kind = EnvelopeKind::StatusChange;
        envelope.status = Some(status.name().to_owned());
        envelope.reason = Some(reason.to_owned());
    })
    .await?;
    // …and its users see it in the department portal until one acknowledges it.
    super::back_office::add_notice_in(tx, &department, number, status.name(), reason, now).await
}

async fn queue_in(
    tx: &mut Tx,
    department: &str,
    number: &str,
    now: OffsetDateTime,
    fill: impl FnOnce(&mut Envelope),
) -> Result<(), StoreError> {
    // The lane's row lock orders concurrent writers; a rolled-back change gives its number
    // back, so the committed sequence has no gaps.
    let seq: i64 = on_tx!(&mut *tx, |t| {
        sqlx::query_scalar(
            "INSERT INTO transfer_lanes (department, last_seq) VALUES ($1, 1) \
             ON CONFLICT (department) DO UPDATE SET last_seq = transfer_lanes.last_seq + 1 \
             RETURNING last_seq",
        )
        .bind(department)
        .fetch_one(&mut **t)
        .await?
    });
    let id = super::random_id("T");
    let mut envelope = Envelope {
        delivery_id: id.clone(),
        kind: EnvelopeKind::Certificate,
        department: department.to_owned(),
        sequence: u64::try_from(seq).map_err(|_| StoreError::Corrupt("lane sequence".into()))?,
        certificate_number: number.to_owned(),
        pdf: None,
        status: None,
        reason: None,
        created_at: rfc3339(now),
    };
    fill(&mut envelope);
    let kind = match envelope.kind {
        EnvelopeKind::Certificate => "certificate",
        EnvelopeKind::StatusChange => "status-change",
    };
    on_tx!(&mut *tx, |t| {
        sqlx::query(
            "INSERT INTO deliveries (id, department, seq, kind, certificate, body, created_at, next_attempt_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
        )
        .bind(&id)
        .bind(department)
        .bind(seq)
        .bind(kind)
        .bind(number)
        .bind(envelope.to_body())
        .bind(rfc3339(now))
        .execute(&mut **t)
        .await?;
    });
    Ok(())
}

/// How a claimed delivery ended.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// A valid receipt: `accepted` (`reject_reason` none) or `rejected` (final).
    Receipt {
        /// The compact JWS.
        jws: String,
        /// The rejection's reason code.
        reject_reason: Option<String>,
    },
    /// Not delivered; try again at `retry_at`.
    Failed {
        /// Why (shown to staff).
        error: String,
        /// The next attempt.
        retry_at: OffsetDateTime,
    },
}

impl Store {
    /// Registers (or changes) a department's push endpoint and receipt key, audited.
    pub async fn set_department_endpoint(
        &self,
        code: &str,
        endpoint: &str,
        receipt_key_pem: &str,
        actor: &str,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        let known: Option<String> = on_tx!(&mut tx, |t| {
            sqlx::query_scalar("SELECT code FROM departments WHERE code = $1")
                .bind(code)
                .fetch_optional(&mut **t)
                .await?
        });
        if known.is_none() {
            return Err(StoreError::NotFound(format!("no department {code}")));
        }
        on_tx!(&mut tx, |t| {
            sqlx::query(
                "INSERT INTO department_endpoints (code, endpoint, receipt_key_pem, updated_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (code) DO UPDATE SET endpoint = excluded.endpoint, \
                 receipt_key_pem = excluded.receipt_key_pem, updated_at = excluded.updated_at",
            )
            .bind(code)
            .bind(endpoint)
            .bind(receipt_key_pem)
            .bind(rfc3339(now))
            .execute(&mut **t)
            .await?;
        });
        let detail = serde_json::json!({ "endpoint": endpoint }).to_string();
        super::append_audit(&mut tx, actor, "department.endpoint", code, &detail, now).await?;
        super::commit(tx).await
    }

    /// A department's push registration.
    pub async fn department_endpoint(&self, code: &str) -> Result<Option<Endpoint>, StoreError> {
        let row: Option<(String, String, String, String)> = on_pool!(&self.pool, |p| {
            sqlx::query_as(
                "SELECT code, endpoint, receipt_key_pem, updated_at FROM department_endpoints WHERE code = $1",
            )
            .bind(code)
            .fetch_optional(p)
            .await?
        });
        Ok(
            row.map(|(code, endpoint, receipt_key_pem, updated_at)| Endpoint {
                code,
                endpoint,
                receipt_key_pem,
                updated_at,
            }),
        )
    }

    /// Claims the head of one lane that is due, for `owner` until `now + lease`. Only the
    /// oldest open delivery of a lane is ever a candidate, so a lane is delivered in order and
    /// by one worker at a time; inactive departments and those without an endpoint wait.
    pub async fn claim_delivery(
        &self,
        owner: &str,
        now: OffsetDateTime,
        lease: time::Duration,
    ) -> Result<Option<ClaimedDelivery>, StoreError> {
        let now_text = rfc3339(now);
        type Row = (
            String,
            String,
            i64,
            Vec<u8>,
            i64,
            Option<String>,
            String,
            String,
        );
        let candidates: Vec<Row> = on_pool!(&self.pool, |p| {
            sqlx::query_as(
                "SELECT d.id, d.department, d.seq, d.body, d.failures, d.first_failure_at, e.endpoint, e.receipt_key_pem \
                 FROM deliveries d JOIN department_endpoints e ON e.code = d.department \
                 JOIN departments dep ON dep.code = d.department \
                 WHERE d.state = 'queued' AND dep.active = 1 AND d.next_attempt_at <= $1 \
                 AND (d.lease_until IS NULL OR d.lease_until < $1) \
                 AND NOT EXISTS (SELECT 1 FROM deliveries o WHERE o.department = d.department \
                                 AND o.state = 'queued' AND o.seq < d.seq) \
                 ORDER BY d.next_attempt_at, d.department LIMIT 8",
            )
            .bind(&now_text)
            .fetch_all(p)
            .await?
        });
        for (id, department, seq, body, failures, first_failure_at, endpoint, key) in candidates {
            let claimed = on_pool!(&self.pool, |p| {
                sqlx::query(
                    "UPDATE deliveries SET lease_owner = $1, lease_until = $2, attempts = attempts + 1 \
                     WHERE id = $3 AND state = 'queued' AND (lease_until IS NULL OR lease_until < $4)",
                )
                .bind(owner)
                .bind(rfc3339(now + lease))
                .bind(&id)
                .bind(&now_text)
                .execute(p)
                .await?
                .rows_affected()
            });
            if claimed == 1 {
                return Ok(Some(ClaimedDelivery {
                    id,
                    department,
                    seq,
                    body,
                    failures,
                    first_failure_at,
                    endpoint,
                    receipt_key_pem: key,
                }));
            }
        }
        Ok(None)
    }

    /// Records how a claimed delivery ended. A receipt closes it (audited); a failure
    /// schedules the next attempt, and the [`ALERT_AFTER_FAILURES`]th failure tells the
    /// security officer and the department in the same transaction. Returns false when the
    /// lease was lost (another worker owns the delivery now; nothing is changed).
    pub async fn finish_delivery(
        &self,
        claimed: &ClaimedDelivery,
        owner: &str,
        outcome: &Outcome,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        let changed = match outcome {
            Outcome::Receipt { jws, reject_reason } => {
                let state = if reject_reason.is_some() {
                    "rejected"
                } else {
                    "delivered"
                };
                on_tx!(&mut tx, |t| {
                    sqlx::query(
                        "UPDATE deliveries SET state = $1, done_at = $2, receipt = $3, reject_reason = $4, \
                         lease_owner = NULL, lease_until = NULL WHERE id = $5 AND state = 'queued' AND lease_owner = $6",
                    )
                    .bind(state)
                    .bind(rfc3339(now))
                    .bind(jws)
                    .bind(reject_reason.as_deref())
                    .bind(&claimed.id)
                    .bind(owner)
                    .execute(&mut **t)
                    .await?
                    .rows_affected()
                })
            }
            Outcome::Failed { error, retry_at } => on_tx!(&mut tx, |t| {
                sqlx::query(
                    "UPDATE deliveries SET failures = failures + 1, first_failure_at = COALESCE(first_failure_at, $1), \
                     next_attempt_at = $2, last_error = $3, lease_owner = NULL, lease_until = NULL \
                     WHERE id = $4 AND state = 'queued' AND lease_owner = $5",
                )
                .bind(rfc3339(now))
                .bind(rfc3339(*retry_at))
                .bind(error)
                .bind(&claimed.id)
                .bind(owner)
                .execute(&mut **t)
                .await?
                .rows_affected()
            }),
        };
        if changed != 1 {
            return Ok(false);
        }
        match outcome {
            Outcome::Receipt { reject_reason, .. } => {
                let detail = serde_json::json!({
                    "delivery": claimed.id, "department": claimed.department,
                    "seq": claimed.seq, "rejected": reject_reason,
                })
                .to_string();
                super::append_audit(
                    &mut tx,
                    "system:transfer",
                    "transfer.receipt",
                    &claimed.id,
                    &detail,
                    now,
                )
                .await?;
            }
            Outcome::Failed { error, .. } if claimed.failures + 1 == ALERT_AFTER_FAILURES => {
                let text = format!(
                    "Delivery {} (sequence {}) to {} failed {ALERT_AFTER_FAILURES} times; it is retried until it lands. Last error: {error}",
                    claimed.id, claimed.seq, claimed.department
                );
                for (channel, recipient) in [
                    ("security", "security-officer".to_owned()),
                    ("department", claimed.department.clone()),
                ] {
                    let alert = Outgoing {
                        channel,
                        recipient,
                        language: "en",
                        subject: "Transfer delivery failing".into(),
                        body: text.clone(),
                        reference: claimed.id.clone(),
                    };
                    super::outbox::enqueue_in(&mut tx, &alert, now).await?;
                }
            }
            Outcome::Failed { .. } => {}
        }
        super::commit(tx).await?;
        Ok(true)
    }

    /// The stored receipt of a finished delivery.
    pub async fn delivery_receipt(&self, id: &str) -> Result<Option<String>, StoreError> {
        Ok(on_pool!(&self.pool, |p| {
            sqlx::query_scalar::<_, Option<String>>("SELECT receipt FROM deliveries WHERE id = $1")
                .bind(id)
                .fetch_optional(p)
                .await?
        })
        .flatten())
    }

    /// Deliveries of one department's lane after sequence `after`, in order, with their bodies
    /// (the pull feed).
    pub async fn lane(
        &self,
        department: &str,
        after: i64,
        limit: i64,
    ) -> Result<Vec<(DeliveryView, Vec<u8>)>, StoreError> {
        let sql = format!(
            "SELECT {VIEW_COLUMNS}, body FROM deliveries WHERE department = $1 AND seq > $2 ORDER BY seq LIMIT $3"
        );
        type Row = (
            String,
            String,
            i64,
            String,
            String,
            String,
            String,
            Option<String>,
            Option<String>,
            i64,
            Option<String>,
            String,
            Vec<u8>,
        );
        let rows: Vec<Row> = on_pool!(&self.pool, |p| {
            sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(department)
                .bind(after)
                .bind(limit)
                .fetch_all(p)
                .await?
        });
        Ok(rows
            .into_iter()
            .map(|r| {
                (
                    DeliveryView {
                        id: r.0,
                        department: r.1,
                        seq: r.2,
                        kind: r.3,
                        certificate: r.4,
                        state: r.5,
                        created_at: r.6,
                        done_at: r.7,
                        reject_reason: r.8,
                        failures: r.9,
                        last_error: r.10,
                        next_attempt_at: r.11,
                    },
                    r.12,
                )
            })
            .collect())
    }

    /// Every delivery of the certificates of one application, oldest first.
    pub async fn deliveries_of_application(
        &self,
        application_id: &str,
    ) -> Result<Vec<DeliveryView>, StoreError> {
        let sql = format!(
            "SELECT {VIEW_COLUMNS} FROM deliveries WHERE certificate IN \
             (SELECT number FROM certificates WHERE application_id = $1) ORDER BY created_at, seq"
        );
        Ok(on_pool!(&self.pool, |p| {
            sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(application_id)
                .fetch_all(p)
                .await?
        }))
    }

    /// Every delivery of one certificate, oldest first.
    pub async fn deliveries_of_certificate(
        &self,
        number: &str,
    ) -> Result<Vec<DeliveryView>, StoreError> {
        let sql = format!(
            "SELECT {VIEW_COLUMNS} FROM deliveries WHERE certificate = $1 ORDER BY created_at, seq"
        );
        Ok(on_pool!(&self.pool, |p| {
            sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(number)
                .fetch_all(p)
                .await?
        }))
    }

    /// The downloads of the certificates of one application, as audited: (certificate,
    /// actor, at).
    pub async fn downloads_of_application(
        &self,
        application_id: &str,
    ) -> Result<Vec<(String, String, String)>, StoreError> {
        Ok(on_pool!(&self.pool, |p| {
            sqlx::query_as(
                "SELECT subject, actor, at FROM audit_log WHERE action = 'certificate.downloaded' \
                 AND subject IN (SELECT number FROM certificates WHERE application_id = $1) ORDER BY id",
            )
            .bind(application_id)
            .fetch_all(p)
            .await?
        }))
    }
}
