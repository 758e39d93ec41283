//! Applications through their steps, with everything that changes alongside a step in the same
//! transaction: the audit entry, the notifications, supporting documents, payments and the
//! issuance jobs. Every step is a guarded transition: it happens only from the states it names,
//! so a repeated or concurrent request changes nothing twice.

use time::OffsetDateTime;

use super::{StoreError, Tx, append_audit, commit, random_id, rfc3339};
use crate::store::Store;

/// An application as stored (booleans kept as 0/1 so one query text serves both backends).
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ApplicationRow {
    /// Reference shown to the applicant.
    pub id: String,
    /// Who applies.
    pub applicant_id: String,
    /// Workflow state (`crate::rules::workflow::State`).
    pub state: String,
    /// Usage code.
    pub usage: String,
    /// 1 electronic, 0 paper.
    pub electronic: i64,
    /// Certificates asked for.
    pub quantity: i64,
    /// Collection site code (paper).
    pub collection_site: Option<String>,
    /// 1 express.
    pub express: i64,
    /// Receiving department.
    pub transfer_to: Option<String>,
    /// Confirmed holder data (JSON).
    pub holder_json: Option<String>,
    /// Identity document key.
    pub doc_key: Option<String>,
    /// 1 when no earlier certificate exists for the document.
    pub first_time: Option<i64>,
    /// Notification language.
    pub language: Option<String>,
    /// Mobile number for SMS.
    pub mobile: Option<String>,
    /// Consent to obtain data from the police.
    pub consent_at: Option<String>,
    /// One-time password passed.
    pub otp_verified_at: Option<String>,
    /// Face check passed.
    pub face_verified_at: Option<String>,
    /// What the one-time password proved: the identity fingerprint at the time.
    pub otp_verified_for: Option<String>,
    /// What the face check proved: the identity fingerprint at the time.
    pub face_verified_for: Option<String>,
    /// The registry key of the document the identity provider verified at sign-in, when the
    /// holder's document differs from it.
    pub identity_mismatch: Option<String>,
    /// The officer's reason for approving despite [`Self::identity_mismatch`].
    pub identity_override: Option<String>,
    /// Fee due (avos).
    pub fee_avos: Option<i64>,
    /// Exemption asked for.
    pub exemption_kind: Option<String>,
    /// When all documents were received (the pledge counts from the next day).
    pub documents_received_at: Option<String>,
    /// Pledge due date.
    pub due_date: Option<String>,
    /// Record entries snapshotted at approval (JSON).
    pub records_json: Option<String>,
    /// The last message between staff and applicant (request for information, reason).
    pub note: Option<String>,
    /// Created.
    pub created_at: String,
    /// Last change.
    pub updated_at: String,
}

const APPLICATION_COLUMNS: &str = "id, applicant_id, state, usage, electronic, quantity, collection_site, express, transfer_to, \
     holder_json, doc_key, first_time, language, mobile, consent_at, otp_verified_at, face_verified_at, otp_verified_for, face_verified_for, identity_mismatch, identity_override, fee_avos, \
     exemption_kind, documents_received_at, due_date, records_json, note, created_at, updated_at";

/// Step 1: what is asked for.
#[derive(Clone, Debug)]
pub struct NewApplication<'a> {
    /// Who.
    pub applicant_id: &'a str,
    /// Usage code.
    pub usage: &'a str,
    /// Electronic or paper.
    pub electronic: bool,
    /// How many certificates.
    pub quantity: i64,
    /// Collection site (paper).
    pub collection_site: Option<&'a str>,
    /// Express service.
    pub express: bool,
    /// Receiving department.
    pub transfer_to: Option<&'a str>,
    /// Client's idempotency key.
    pub idempotency_key: Option<&'a str>,
}

/// A column value set by a transition.
#[derive(Clone, Debug)]
pub enum Value {
    /// Text or NULL.
    Text(Option<String>),
    /// Integer or NULL.
    Int(Option<i64>),
}

/// A notification to enqueue with a transition.
#[derive(Clone, Debug)]
pub struct Outgoing {
    /// `sms` or `department`.
    pub channel: &'static str,
    /// Phone number or department code.
    pub recipient: String,
    /// `zh`, `pt` or `en`.
    pub language: &'static str,
    /// Subject line.
    pub subject: String,
    /// Text.
    pub body: String,
    /// The application or certificate it is about.
    pub reference: String,
}

impl Outgoing {
    /// An SMS telling `event` to `mobile` in `language`, about `reference`.
    pub fn sms(
        mobile: &str,
        language: crate::rules::request::Language,
        event: &crate::notify::messages::Event<'_>,
        reference: &str,
    ) -> Self {
        let message = crate::notify::messages::render(event, language);
        Self {
            channel: "sms",
            recipient: mobile.to_owned(),
            language: language.code(),
            subject: message.subject,
            body: message.body,
            reference: reference.to_owned(),
        }
    }
}

/// A supporting document to store with a transition.
#[derive(Clone, Debug)]
pub struct NewDocument {
    /// `exemption` or `information`.
    pub purpose: &'static str,
    /// Document kind code.
    pub kind: String,
    /// Original file name.
    pub filename: String,
    /// Media type.
    pub media_type: String,
    /// The bytes.
    pub content: Vec<u8>,
}

/// Further rows a transition writes in its transaction.
#[derive(Clone, Debug, Default)]
pub enum SideEffect {
    /// Nothing else.
    #[default]
    None,
    /// Supporting documents.
    Documents(Vec<NewDocument>),
    /// One issuance job per copy (approval).
    IssuanceJobs(i64),
}

/// A guarded step of an application.
#[derive(Clone, Debug)]
pub struct Transition<'a> {
    /// The application.
    pub application_id: &'a str,
    /// States it may leave from.
    pub from: &'a [&'a str],
    /// State it reaches.
    pub to: &'a str,
    /// Columns set with it.
    pub set: Vec<(&'static str, Value)>,
    /// Who.
    pub actor: &'a str,
    /// Audit action, e.g. `application.confirmed`.
    pub action: &'a str,
    /// Audit detail (never secrets or record contents).
    pub detail: serde_json::Value,
    /// Notifications.
    pub messages: Vec<Outgoing>,
    /// Other rows.
    pub effect: SideEffect,
    /// When.
    pub now: OffsetDateTime,
}

/// A payment as stored.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct PaymentRow {
    /// Payment id (given to the gateway).
    pub id: String,
    /// The application.
    pub application_id: String,
    /// Amount (avos).
    pub amount_avos: i64,
    /// `pending` or `paid`.
    pub state: String,
    /// Created.
    pub created_at: String,
}

/// What a gateway callback did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallbackOutcome {
    /// The payment is now paid and the application submitted.
    Applied,
    /// This event was seen before: nothing changed.
    Replayed,
    /// The payment was already paid: nothing changed.
    AlreadyPaid,
}

/// What an OTP check found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OtpCheck {
    /// Correct: the challenge is used up.
    Passed,
    /// Wrong code; attempts left.
    Wrong(i64),
    /// No live challenge (never sent, expired or used up).
    NoChallenge,
    /// Too many wrong attempts: a new code must be requested.
    Locked,
}

/// Limits on one-time passwords.
#[derive(Clone, Copy, Debug)]
pub struct OtpPolicy {
    /// Lifetime of a code.
    pub ttl: time::Duration,
    /// Wait between two sends.
    pub resend_after: time::Duration,
    /// Sends per hour.
    pub sends_per_hour: i64,
    /// Wrong attempts per code.
    pub attempts: i64,
}

/// A stored supporting document's description.
#[derive(Clone, Debug, serde::Serialize, sqlx::FromRow)]
pub struct DocumentInfo {
    /// Id.
    pub id: String,
    /// `exemption` or `information`.
    pub purpose: String,
    /// Kind code.
    pub kind: String,
    /// File name.
    pub filename: String,
    /// Media type.
    pub media_type: String,
    /// SHA-256 (hex).
    pub sha256: String,
    /// When.
    pub uploaded_at: String,
}

impl Store {
    /// Creates an application (step 1). With an idempotency key already used by this
    /// applicant, returns the earlier application instead (`false`: nothing created).
    pub async fn create_application(
        &self,
        new: &NewApplication<'_>,
        now: OffsetDateTime,
    ) -> Result<(ApplicationRow, bool), StoreError> {
        if let Some(key) = new.idempotency_key
            && let Some(existing) = self.application_by_key(new.applicant_id, key).await?
        {
            return Ok((existing, false));
        }
        let id = random_id("A");
        let mut tx = self.begin().await?;
        let inserted = on_tx!(&mut tx, |t| {
            sqlx::query(
                "INSERT INTO applications (id, applicant_id, idempotency_key, state, usage, electronic, quantity, \
                 collection_site, express, transfer_to, created_at, updated_at) \
                 VALUES ($1, $2, $3, 'SELECTED', $4, $5, $6, $7, $8, $9, $10, $10) \
                 ON CONFLICT (applicant_id, idempotency_key) DO NOTHING",
            )
            .bind(&id)
            .bind(new.applicant_id)
            .bind(new.idempotency_key)
            .bind(new.usage)
            .bind(i64::from(new.electronic))
            .bind(new.quantity)
            .bind(new.collection_site)
            .bind(i64::from(new.express))
            .bind(new.transfer_to)
            .bind(rfc3339(now))
            .execute(&mut **t)
            .await?
            .rows_affected()
        });
        if inserted == 0 {
            // A concurrent request with the same key won.
            drop(tx);
            let key = new.idempotency_key.unwrap_or_default();
            let existing = self
                .application_by_key(new.applicant_id, key)
                .await?
                .ok_or_else(|| StoreError::Conflict("application key reused".into()))?;
            return Ok((existing, false));
        }
        let detail = serde_json::json!({
            "usage": new.usage, "electronic": new.electronic, "quantity": new.quantity,
            "collection_site": new.collection_site, "express": new.express, "transfer_to": new.transfer_to,
        })
        .to_string();
        append_audit(
            &mut tx,
            &format!("applicant:{}", new.applicant_id),
            "application.created",
            &id,
            &detail,
            now,
        )
        .await?;
        commit(tx).await?;
        let row = self
            .application(&id)
            .await?
            .ok_or_else(|| StoreError::Corrupt("application vanished".into()))?;
        Ok((row, true))
    }

    async fn application_by_key(
        &self,
        applicant_id: &str,
        key: &str,
    ) -> Result<Option<ApplicationRow>, StoreError> {
        let sql = format!(
            "SELECT {APPLICATION_COLUMNS} FROM applications WHERE applicant_id = $1 AND idempotency_key = $2"
        );
        Ok(on_pool!(&self.pool, |p| {
            sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(applicant_id)
                .bind(key)
                .fetch_optional(p)
                .await?
        }))
    }

    /// One application.
    pub async fn application(&self, id: &str) -> Result<Option<ApplicationRow>, StoreError> {
        let sql = format!("SELECT {APPLICATION_COLUMNS} FROM applications WHERE id = $1");
        Ok(on_pool!(&self.pool, |p| {
            sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(id)
                .fetch_optional(p)
                .await?
        }))
    }

    /// An applicant's applications, newest first.
    pub async fn applications_of(
        &self,
        applicant_id: &str,
    ) -> Result<Vec<ApplicationRow>, StoreError> {
        let sql = format!(
            "SELECT {APPLICATION_COLUMNS} FROM applications WHERE applicant_id = $1 ORDER BY created_at DESC, id"
        );
        Ok(on_pool!(&self.pool, |p| {
            sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(applicant_id)
                .fetch_all(p)
                .await?
        }))
    }

    /// Applications in one state, oldest first (work queues), at most `limit`.
    pub async fn applications_in(
        &self,
        state: &str,
        limit: i64,
    ) -> Result<Vec<ApplicationRow>, StoreError> {
        let sql = format!(
            "SELECT {APPLICATION_COLUMNS} FROM applications WHERE state = $1 ORDER BY updated_at, id LIMIT $2"
        );
        Ok(on_pool!(&self.pool, |p| {
            sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(state)
                .bind(limit)
                .fetch_all(p)
                .await?
        }))
    }

    /// Performs a guarded transition with its audit entry, notifications and side effects,
    /// all in one transaction. [`StoreError::Conflict`] if the application is not in a
    /// state the step may leave from.
    pub async fn transition(&self, step: &Transition<'_>) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        transition_in(&mut tx, step).await?;
        commit(tx).await
    }

    /// Step 3 complete: the application becomes IDENTIFIED, in one guarded statement, only if
    /// both identity checks proved `fingerprint` and the holder and mobile are still the ones
    /// it was computed from (a concurrent change of step 2 makes this a no-op). Returns whether
    /// it happened.
    pub async fn mark_identified(
        &self,
        application_id: &str,
        holder_json: &str,
        mobile: &str,
        fingerprint: &str,
        actor: &str,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        let changed = on_tx!(&mut tx, |t| {
            sqlx::query(
                "UPDATE applications SET state = $1, updated_at = $2 WHERE id = $3 AND state = $4 \
                 AND otp_verified_for = $5 AND face_verified_for = $5 AND holder_json = $6 AND mobile = $7",
            )
            .bind(crate::rules::workflow::IDENTIFIED)
            .bind(rfc3339(now))
            .bind(application_id)
            .bind(crate::rules::workflow::CONFIRMED)
            .bind(fingerprint)
            .bind(holder_json)
            .bind(mobile)
            .execute(&mut **t)
            .await?
            .rows_affected()
        });
        if changed == 0 {
            return Ok(false);
        }
        append_audit(
            &mut tx,
            actor,
            "application.identified",
            application_id,
            "{}",
            now,
        )
        .await?;
        commit(tx).await?;
        Ok(true)
    }

    /// Whether any certificate was ever issued for this identity document (the applicant is
    /// then not a first-time applicant).
    pub async fn has_certificate_for(&self, doc_key: &str) -> Result<bool, StoreError> {
        let n: i64 = on_pool!(&self.pool, |p| {
            sqlx::query_scalar("SELECT COUNT(*) FROM certificates WHERE doc_key = $1")
                .bind(doc_key)
                .fetch_one(p)
                .await?
        });
        Ok(n > 0)
    }

    /// Stores a new one-time password for an application, within the sending limits.
    /// Returns `Err(Conflict)` with the reason when a limit refuses it.
    pub async fn put_otp(
        &self,
        application_id: &str,
        code_hash: &str,
        policy: OtpPolicy,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        let row: Option<(i64, String, String)> = on_tx!(&mut tx, |t| {
            sqlx::query_as(
                "SELECT sent_count, window_start, last_sent_at FROM otp_challenges WHERE application_id = $1",
            )
            .bind(application_id)
            .fetch_optional(&mut **t)
            .await?
        });
        let (mut sent, mut window_start) = (0, now);
        if let Some((count, start, last)) = row {
            let start = super::parse_time(&start)?;
            let last = super::parse_time(&last)?;
            if now - last < policy.resend_after {
                return Err(StoreError::Limit(format!(
                    "a code was sent less than {} seconds ago; wait before asking again",
                    policy.resend_after.whole_seconds()
                )));
            }
            if now - start < time::Duration::HOUR {
                if count >= policy.sends_per_hour {
                    return Err(StoreError::Limit(format!(
                        "at most {} codes per hour may be sent",
                        policy.sends_per_hour
                    )));
                }
                sent = count;
                window_start = start;
            }
        }
        on_tx!(&mut tx, |t| {
            sqlx::query(
                "INSERT INTO otp_challenges (application_id, code_hash, expires_at, attempts, sent_count, window_start, last_sent_at) \
                 VALUES ($1, $2, $3, 0, $4, $5, $6) ON CONFLICT (application_id) DO UPDATE SET \
                 code_hash = excluded.code_hash, expires_at = excluded.expires_at, attempts = 0, \
                 sent_count = excluded.sent_count, window_start = excluded.window_start, last_sent_at = excluded.last_sent_at",
            )
            .bind(application_id)
            .bind(code_hash)
            .bind(rfc3339(now + policy.ttl))
            .bind(sent + 1)
            .bind(rfc3339(window_start))
            .bind(rfc3339(now))
            .execute(&mut **t)
            .await?;
        });
        commit(tx).await
    }

    /// Checks a one-time password: counts the attempt first, so guessing is bounded even
    /// under concurrent requests; a correct code is used up.
    pub async fn check_otp(
        &self,
        application_id: &str,
        code_hash: &str,
        max_attempts: i64,
        now: OffsetDateTime,
    ) -> Result<OtpCheck, StoreError> {
        let mut tx = self.begin().await?;
        let row: Option<(String, String, i64)> = on_tx!(&mut tx, |t| {
            sqlx::query_as(
                "UPDATE otp_challenges SET attempts = attempts + 1 WHERE application_id = $1 AND code_hash <> '' \
                 RETURNING code_hash, expires_at, attempts",
            )
            .bind(application_id)
            .fetch_optional(&mut **t)
            .await?
        });
        let Some((stored, expires_at, attempts)) = row else {
            return Ok(OtpCheck::NoChallenge);
        };
        let outcome = if super::parse_time(&expires_at)? <= now {
            OtpCheck::NoChallenge
        } else if attempts > max_attempts {
            OtpCheck::Locked
        } else if constant_time_eq(stored.as_bytes(), code_hash.as_bytes()) {
            OtpCheck::Passed
        } else {
            OtpCheck::Wrong(max_attempts - attempts)
        };
        if outcome == OtpCheck::Passed {
            on_tx!(&mut tx, |t| {
                sqlx::query("UPDATE otp_challenges SET code_hash = '' WHERE application_id = $1")
                    .bind(application_id)
                    .execute(&mut **t)
                    .await?;
            });
        }
        commit(tx).await?;
        Ok(outcome)
    }

    /// Creates a payment for an application awaiting payment, or returns the one created
    /// earlier with the same idempotency key.
    pub async fn create_payment(
        &self,
        application_id: &str,
        amount_avos: i64,
        idempotency_key: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<PaymentRow, StoreError> {
        // At most one payment is open per application: a second request (whatever its key)
        // gets the open one, so the applicant can never be charged twice.
        let open: Option<PaymentRow> = on_pool!(&self.pool, |p| {
            sqlx::query_as(
                "SELECT id, application_id, amount_avos, state, created_at FROM payments \
                 WHERE application_id = $1 AND state = 'pending' ORDER BY created_at LIMIT 1",
            )
            .bind(application_id)
            .fetch_optional(p)
            .await?
        });
        if let Some(open) = open {
            return Ok(open);
        }
        if let Some(key) = idempotency_key {
            let existing: Option<PaymentRow> = on_pool!(&self.pool, |p| {
                sqlx::query_as(
                    "SELECT id, application_id, amount_avos, state, created_at FROM payments \
                     WHERE application_id = $1 AND idempotency_key = $2",
                )
                .bind(application_id)
                .bind(key)
                .fetch_optional(p)
                .await?
            });
            if let Some(existing) = existing {
                return Ok(existing);
            }
        }
        let id = random_id("PAY");
        on_pool!(&self.pool, |p| {
            sqlx::query(
                "INSERT INTO payments (id, application_id, idempotency_key, amount_avos, state, created_at) \
                 VALUES ($1, $2, $3, $4, 'pending', $5)",
            )
            .bind(&id)
            .bind(application_id)
            .bind(idempotency_key)
            .bind(amount_avos)
            .bind(rfc3339(now))
            .execute(p)
            .await?;
        });
        self.payment(&id)
            .await?
            .ok_or_else(|| StoreError::Corrupt("payment vanished".into()))
    }

    /// One payment.
    pub async fn payment(&self, id: &str) -> Result<Option<PaymentRow>, StoreError> {
        Ok(on_pool!(&self.pool, |p| {
            sqlx::query_as(
                "SELECT id, application_id, amount_avos, state, created_at FROM payments WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(p)
            .await?
        }))
    }

    /// Applies an authenticated gateway callback: records the event (a replay stops here),
    /// marks the payment paid and submits the application, all in one transaction.
    /// `submit` is the application's step, prepared by the caller.
    pub async fn apply_payment(
        &self,
        event_id: &str,
        payment: &PaymentRow,
        gateway_ref: &str,
        submit: &Transition<'_>,
    ) -> Result<CallbackOutcome, StoreError> {
        let now = submit.now;
        let mut tx = self.begin().await?;
        let fresh = on_tx!(&mut tx, |t| {
            sqlx::query(
                "INSERT INTO payment_callbacks (event_id, payment_id, received_at, outcome) VALUES ($1, $2, $3, 'received') \
                 ON CONFLICT (event_id) DO NOTHING",
            )
            .bind(event_id)
            .bind(&payment.id)
            .bind(rfc3339(now))
            .execute(&mut **t)
            .await?
            .rows_affected()
        });
        if fresh == 0 {
            return Ok(CallbackOutcome::Replayed);
        }
        let state: Option<String> = on_tx!(&mut tx, |t| {
            sqlx::query_scalar("SELECT state FROM payments WHERE id = $1")
                .bind(&payment.id)
                .fetch_optional(&mut **t)
                .await?
        });
        if state.as_deref() == Some("paid") {
            // Another notification of a payment already applied: acknowledged, no change.
            commit(tx).await?;
            return Ok(CallbackOutcome::AlreadyPaid);
        }
        // The application's step first: if it was already submitted (or moved on), this
        // payment cannot apply; the transaction rolls back and the caller answers 409.
        transition_in(&mut tx, submit).await?;
        let paid = on_tx!(&mut tx, |t| {
            sqlx::query(
                "UPDATE payments SET state = 'paid', gateway_ref = $1, paid_at = $2 WHERE id = $3 AND state = 'pending'",
            )
            .bind(gateway_ref)
            .bind(rfc3339(now))
            .bind(&payment.id)
            .execute(&mut **t)
            .await?
            .rows_affected()
        });
        if paid == 0 {
            return Err(StoreError::Conflict(format!(
                "payment {} is not pending",
                payment.id
            )));
        }
        commit(tx).await?;
        Ok(CallbackOutcome::Applied)
    }

    /// The supporting documents of an application (descriptions only).
    pub async fn documents_of(
        &self,
        application_id: &str,
    ) -> Result<Vec<DocumentInfo>, StoreError> {
        Ok(on_pool!(&self.pool, |p| {
            sqlx::query_as(
                "SELECT id, purpose, kind, filename, media_type, sha256, uploaded_at FROM supporting_documents \
                 WHERE application_id = $1 ORDER BY uploaded_at, id",
            )
            .bind(application_id)
            .fetch_all(p)
            .await?
        }))
    }
}

/// The transition itself, inside `tx`.
pub(super) async fn transition_in(tx: &mut Tx, step: &Transition<'_>) -> Result<(), StoreError> {
    let now = rfc3339(step.now);
    let mut sql = String::from("UPDATE applications SET state = $1, updated_at = $2");
    for (i, (column, _)) in step.set.iter().enumerate() {
        sql.push_str(&format!(", {column} = ${}", i + 3));
    }
    let id_param = step.set.len() + 3;
    sql.push_str(&format!(" WHERE id = ${id_param} AND state IN ("));
    for i in 0..step.from.len() {
        if i > 0 {
            sql.push_str(", ");
        }
        sql.push_str(&format!("${}", id_param + 1 + i));
    }
    sql.push(')');
    let changed = on_tx!(&mut *tx, |t| {
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(step.to)
            .bind(&now);
        for (_, value) in &step.set {
            query = match value {
                Value::Text(v) => query.bind(v.clone()),
                Value::Int(v) => query.bind(*v),
            };
        }
        query = query.bind(step.application_id);
        for state in step.from {
            query = query.bind(*state);
        }
        query.execute(&mut **t).await?.rows_affected()
    });
    if changed == 0 {
        let current: Option<String> = on_tx!(&mut *tx, |t| {
            sqlx::query_scalar("SELECT state FROM applications WHERE id = $1")
                .bind(step.application_id)
                .fetch_optional(&mut **t)
                .await?
        });
        return Err(match current {
            None => StoreError::NotFound(format!("no application {}", step.application_id)),
            Some(state) => StoreError::Conflict(format!(
                "application {} is {state}; this step needs {}",
                step.application_id,
                step.from.join(" or ")
            )),
        });
    }
    match &step.effect {
        SideEffect::None => {}
        SideEffect::Documents(docs) => {
            for doc in docs {
                let digest = super::sha256_hex(&doc.content);
                on_tx!(&mut *tx, |t| {
                    sqlx::query(
                        "INSERT INTO supporting_documents (id, application_id, purpose, kind, filename, media_type, sha256, content, uploaded_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                    )
                    .bind(random_id("D"))
                    .bind(step.application_id)
                    .bind(doc.purpose)
                    .bind(&doc.kind)
                    .bind(&doc.filename)
                    .bind(&doc.media_type)
                    .bind(&digest)
                    .bind(&doc.content)
                    .bind(&now)
                    .execute(&mut **t)
                    .await?;
                });
            }
        }
        SideEffect::IssuanceJobs(copies) => {
            for copy_no in 1..=*copies {
                on_tx!(&mut *tx, |t| {
                    sqlx::query(
                        "INSERT INTO issuance_jobs (id, application_id, copy_no, state, attempts, created_at) \
                         VALUES ($1, $2, $3, 'queued', 0, $4)",
                    )
                    .bind(random_id("J"))
                    .bind(step.application_id)
                    .bind(copy_no)
                    .bind(&now)
                    .execute(&mut **t)
                    .await?;
                });
            }
        }
    }
    for message in &step.messages {
        super::outbox::enqueue_in(tx, message, step.now).await?;
    }
    append_audit(
        tx,
        step.actor,
        step.action,
        step.application_id,
        &step.detail.to_string(),
        step.now,
    )
    .await
}

/// Compares without an early exit (codes and hashes).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
