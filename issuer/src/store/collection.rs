//! Paper certificates after issuance: the print queue, printed items, the Smart Locker and
//! collection (at a counter or from the locker). Each change writes its audit entry (and its
//! notifications) in the same transaction; every change is guarded by the item's current
//! state, so a repeated or concurrent request changes nothing twice.

use time::OffsetDateTime;

use super::applications::{Outgoing, Transition, transition_in};
use super::{StoreError, append_audit, commit, rfc3339};
use crate::rules::workflow;
use crate::store::Store;

/// An issued paper application whose certificates are not printed yet.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct PrintQueueRow {
    /// The application reference.
    pub application_id: String,
    /// The confirmed holder (JSON), for the name.
    pub holder_json: Option<String>,
    /// Certificates asked for.
    pub quantity: i64,
    /// Collection site code.
    pub collection_site: Option<String>,
    /// When the first of its certificates was issued (stored instant).
    pub issued_at: String,
}

/// A printed paper application: where it is and what happened to it.
#[derive(Clone, Debug, serde::Serialize, sqlx::FromRow)]
pub struct PaperItem {
    /// The application reference.
    pub application_id: String,
    /// Where the printed copies are now (a collection site code; `DSI_HQ` after a locker
    /// return).
    pub site: String,
    /// When printed.
    pub printed_at: String,
    /// Who marked it printed.
    pub printed_by: String,
    /// The locker pickup code (never serialised).
    #[serde(skip)]
    pub locker_code: Option<String>,
    /// When the locker collection notice was sent.
    pub locker_notice_at: Option<String>,
    /// When the locker code stops working.
    pub locker_deadline: Option<String>,
    /// Pickup code attempts so far.
    pub locker_attempts: i64,
    /// Who placed it in the locker.
    pub deposited_by: Option<String>,
    /// When it went back to the headquarters counter.
    pub returned_at: Option<String>,
    /// When collected.
    pub collected_at: Option<String>,
    /// The clerk who handed it over, or the locker.
    pub collected_by: Option<String>,
    /// `holder`, `representative` or `locker`.
    pub collector_kind: Option<String>,
    /// The representative's name.
    pub collector_name: Option<String>,
    /// The registry key of the document shown at the counter.
    pub collector_doc_key: Option<String>,
    /// The representative's authorisation reference.
    pub authorisation_ref: Option<String>,
}

const ITEM_COLUMNS: &str = "application_id, site, printed_at, printed_by, locker_code, locker_notice_at, locker_deadline, \
     locker_attempts, deposited_by, returned_at, collected_at, collected_by, collector_kind, collector_name, \
     collector_doc_key, authorisation_ref";

/// Who collected, as recorded.
#[derive(Clone, Debug)]
pub struct CollectionRecord<'a> {
    /// The clerk, or the locker.
    pub collected_by: &'a str,
    /// `holder`, `representative` or `locker`.
    pub kind: &'a str,
    /// The representative's name.
    pub name: Option<&'a str>,
    /// The registry key of the document shown.
    pub doc_key: Option<&'a str>,
    /// The authorisation reference.
    pub authorisation: Option<&'a str>,
    /// The item must be at this site (the counter's), or anywhere for the locker.
    pub at_site: &'a str,
}

/// A locker deposit: the code, its deadline and the collection notice.
#[derive(Clone, Debug)]
pub struct LockerDeposit<'a> {
    /// The application.
    pub application_id: &'a str,
    /// The locker's site code.
    pub locker_site: &'a str,
    /// The pickup code.
    pub code: &'a str,
    /// When the code stops working.
    pub deadline: OffsetDateTime,
    /// Who placed it.
    pub actor: &'a str,
    /// The collection notice.
    pub messages: Vec<Outgoing>,
    /// When.
    pub now: OffsetDateTime,
}

impl Store {
    /// Issued paper applications not yet printed, oldest issue first, at most `limit`.
    pub async fn print_queue(&self, limit: i64) -> Result<Vec<PrintQueueRow>, StoreError> {
        Ok(on_pool!(&self.pool, |p| {
            sqlx::query_as(
                "SELECT a.id AS application_id, a.holder_json, a.quantity, a.collection_site, MIN(c.issued_at) AS issued_at \
                 FROM applications a JOIN certificates c ON c.application_id = a.id \
                 LEFT JOIN paper_items i ON i.application_id = a.id \
                 WHERE a.state = $1 AND a.electronic = 0 AND i.application_id IS NULL \
                 GROUP BY a.id, a.holder_json, a.quantity, a.collection_site \
                 ORDER BY MIN(c.issued_at), a.id LIMIT $2",
            )
            .bind(workflow::ISSUED)
            .bind(limit)
            .fetch_all(p)
            .await?
        }))
    }

    /// The current (VALID) certificates of an application as `(number, pdf)`, by copy.
    pub async fn printable_certificates(
        &self,
        application_id: &str,
    ) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        Ok(on_pool!(&self.pool, |p| {
            sqlx::query_as(
                "SELECT number, pdf FROM certificates WHERE application_id = $1 AND status = 0 ORDER BY copy_no",
            )
            .bind(application_id)
            .fetch_all(p)
            .await?
        }))
    }

    /// Records that a print batch of these applications' certificates was produced.
    pub async fn audit_print_batch(
        &self,
        application_ids: &[String],
        numbers: &[String],
        actor: &str,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        let detail =
            serde_json::json!({ "applications": application_ids, "certificates": numbers })
                .to_string();
        append_audit(
            &mut tx,
            actor,
            "paper.print_batch",
            "print-batch",
            &detail,
            now,
        )
        .await?;
        commit(tx).await
    }

    /// Marks these issued paper applications printed, all or none: each must be ISSUED,
    /// paper, and not printed before. One audit entry per application.
    pub async fn mark_printed(
        &self,
        application_ids: &[String],
        actor: &str,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        for id in application_ids {
            let app: Option<(String, i64, Option<String>)> = on_tx!(&mut tx, |t| {
                sqlx::query_as(
                    "SELECT state, electronic, collection_site FROM applications WHERE id = $1",
                )
                .bind(id)
                .fetch_optional(&mut **t)
                .await?
            });
            let Some((state, electronic, site)) = app else {
                return Err(StoreError::NotFound(format!("no application {id}")));
            };
            let site = match site {
                Some(site) if electronic == 0 => site,
                _ => {
                    return Err(StoreError::Conflict(format!(
                        "application {id} is electronic: nothing to print"
                    )));
                }
            };
            if state != workflow::ISSUED {
                return Err(StoreError::Conflict(format!(
                    "application {id} is {state}; only ISSUED paper certificates are printed"
                )));
            }
            let inserted = on_tx!(&mut tx, |t| {
                sqlx::query(
                    "INSERT INTO paper_items (application_id, site, printed_at, printed_by) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (application_id) DO NOTHING",
                )
                .bind(id)
                .bind(&site)
                .bind(rfc3339(now))
                .bind(actor)
                .execute(&mut **t)
                .await?
                .rows_affected()
            });
            if inserted == 0 {
                return Err(StoreError::Conflict(format!(
                    "application {id} was already marked printed"
                )));
            }
            let detail = serde_json::json!({ "site": site }).to_string();
            append_audit(&mut tx, actor, "paper.printed", id, &detail, now).await?;
        }
        commit(tx).await
    }

    /// The printed item of an application, if printed.
    pub async fn paper_item(&self, application_id: &str) -> Result<Option<PaperItem>, StoreError> {
        let sql = format!("SELECT {ITEM_COLUMNS} FROM paper_items WHERE application_id = $1");
        Ok(on_pool!(&self.pool, |p| {
            sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(application_id)
                .fetch_optional(p)
                .await?
        }))
    }

    /// Places a printed item in the locker: stores the code and its deadline and sends the
    /// collection notice. Only a printed, uncollected item at the locker site without a code.
    pub async fn deposit_in_locker(&self, deposit: &LockerDeposit<'_>) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        let changed = on_tx!(&mut tx, |t| {
            sqlx::query(
                "UPDATE paper_items SET locker_code = $1, locker_notice_at = $2, locker_deadline = $3, \
                 deposited_by = $4, locker_attempts = 0 \
                 WHERE application_id = $5 AND site = $6 AND locker_code IS NULL AND locker_notice_at IS NULL \
                 AND collected_at IS NULL AND returned_at IS NULL",
            )
            .bind(deposit.code)
            .bind(rfc3339(deposit.now))
            .bind(rfc3339(deposit.deadline))
            .bind(deposit.actor)
            .bind(deposit.application_id)
            .bind(deposit.locker_site)
            .execute(&mut **t)
            .await?
            .rows_affected()
        });
        if changed == 0 {
            return Err(StoreError::Conflict(format!(
                "application {} is not a printed item waiting to go into the locker",
                deposit.application_id
            )));
        }
        for message in &deposit.messages {
            super::outbox::enqueue_in(&mut tx, message, deposit.now).await?;
        }
        let detail = serde_json::json!({ "deadline": rfc3339(deposit.deadline) }).to_string();
        append_audit(
            &mut tx,
            deposit.actor,
            "paper.deposited_in_locker",
            deposit.application_id,
            &detail,
            deposit.now,
        )
        .await?;
        commit(tx).await
    }

    /// Counts one pickup-code attempt on an item in the locker (before the code is compared,
    /// so guessing is bounded even under concurrent requests) and returns the item.
    pub async fn count_locker_attempt(
        &self,
        application_id: &str,
    ) -> Result<Option<PaperItem>, StoreError> {
        let sql = format!(
            "UPDATE paper_items SET locker_attempts = locker_attempts + 1 \
             WHERE application_id = $1 AND locker_code IS NOT NULL AND collected_at IS NULL AND returned_at IS NULL \
             RETURNING {ITEM_COLUMNS}"
        );
        let mut tx = self.begin().await?;
        let item = on_tx!(&mut tx, |t| {
            sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(application_id)
                .fetch_optional(&mut **t)
                .await?
        });
        commit(tx).await?;
        Ok(item)
    }

    /// Records who collected a printed item and moves the application on (`step`: ISSUED →
    /// COLLECTED, with its audit entry), in one transaction. The item must be printed, not
    /// collected, and at `record.at_site` (for the locker: still in it, before its deadline).
    pub async fn record_collection(
        &self,
        record: &CollectionRecord<'_>,
        step: &Transition<'_>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        let now = rfc3339(step.now);
        let locker = record.kind == "locker";
        let sql = if locker {
            "UPDATE paper_items SET collected_at = $1, collected_by = $2, collector_kind = $3, collector_name = $4, \
             collector_doc_key = $5, authorisation_ref = $6, locker_code = NULL \
             WHERE application_id = $7 AND collected_at IS NULL AND site = $8 AND returned_at IS NULL \
             AND locker_code IS NOT NULL AND locker_deadline > $1"
        } else {
            "UPDATE paper_items SET collected_at = $1, collected_by = $2, collector_kind = $3, collector_name = $4, \
             collector_doc_key = $5, authorisation_ref = $6 \
             WHERE application_id = $7 AND collected_at IS NULL AND site = $8"
        };
        let changed = on_tx!(&mut tx, |t| {
            sqlx::query(sql)
                .bind(&now)
                .bind(record.collected_by)
                .bind(record.kind)
                .bind(record.name)
                .bind(record.doc_key)
                .bind(record.authorisation)
                .bind(step.application_id)
                .bind(record.at_site)
                .execute(&mut **t)
                .await?
                .rows_affected()
        });
        if changed == 0 {
            return Err(StoreError::Conflict(format!(
                "application {}: no printed, uncollected item at {}",
                step.application_id, record.at_site
            )));
        }
        transition_in(&mut tx, step).await?;
        commit(tx).await
    }

    /// Items still in the locker at `locker_site` whose deadline has passed by `now`, at
    /// most `limit`.
    pub async fn expired_locker_items(
        &self,
        locker_site: &str,
        now: OffsetDateTime,
        limit: i64,
    ) -> Result<Vec<PaperItem>, StoreError> {
        let sql = format!(
            "SELECT {ITEM_COLUMNS} FROM paper_items WHERE site = $1 AND locker_deadline IS NOT NULL \
             AND locker_deadline <= $2 AND collected_at IS NULL AND returned_at IS NULL \
             ORDER BY locker_deadline, application_id LIMIT $3"
        );
        Ok(on_pool!(&self.pool, |p| {
            sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(locker_site)
                .bind(rfc3339(now))
                .bind(limit)
                .fetch_all(p)
                .await?
        }))
    }

    /// Moves an expired locker item to the headquarters counter (`hq_site`), voids its code
    /// and tells the applicant. `false` when it was already returned or collected (the sweep
    /// is idempotent).
    pub async fn return_to_headquarters(
        &self,
        application_id: &str,
        locker_site: &str,
        hq_site: &str,
        messages: &[Outgoing],
        actor: &str,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        let changed = on_tx!(&mut tx, |t| {
            sqlx::query(
                "UPDATE paper_items SET site = $1, returned_at = $2, locker_code = NULL \
                 WHERE application_id = $3 AND site = $4 AND locker_deadline IS NOT NULL AND locker_deadline <= $2 \
                 AND collected_at IS NULL AND returned_at IS NULL",
            )
            .bind(hq_site)
            .bind(rfc3339(now))
            .bind(application_id)
            .bind(locker_site)
            .execute(&mut **t)
            .await?
            .rows_affected()
        });
        if changed == 0 {
            return Ok(false);
        }
        for message in messages {
            super::outbox::enqueue_in(&mut tx, message, now).await?;
        }
        let detail = serde_json::json!({ "from": locker_site, "to": hq_site }).to_string();
        append_audit(
            &mut tx,
            actor,
            "paper.returned_to_headquarters",
            application_id,
            &detail,
            now,
        )
        .await?;
        commit(tx).await?;
        Ok(true)
    }
}
