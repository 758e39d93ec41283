//! The bureau's criminal record registry: entries managed by staff, looked up by identity
//! document. Every staff read is audited in the transaction that reads.

use time::OffsetDateTime;

use super::{StoreError, append_audit, commit, random_id, rfc3339};
use crate::store::Store;

/// One record entry.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize, sqlx::FromRow)]
pub struct RecordRow {
    /// Id.
    pub id: String,
    /// Identity document key.
    pub doc_key: String,
    /// Court.
    pub court: String,
    /// Case number.
    pub case_number: String,
    /// `YYYY-MM-DD`.
    pub decision_date: String,
    /// Offence.
    pub offence: String,
    /// Sentence.
    pub sentence: String,
    /// JSON array of usage codes it is disclosed for (empty: every usage).
    pub disclose_for: String,
    /// When it was closed (never printed again).
    pub closed_at: Option<String>,
}

impl RecordRow {
    /// Whether this entry may be printed on a certificate for `usage`.
    pub fn disclosed_for(&self, usage: &str) -> bool {
        if self.closed_at.is_some() {
            return false;
        }
        let usages: Vec<String> = serde_json::from_str(&self.disclose_for).unwrap_or_default();
        usages.is_empty() || usages.iter().any(|u| u == usage)
    }
}

impl Store {
    /// Adds an entry (audited; the audit detail names the case, not the offence), unless the
    /// document already has `max_per_document` entries: a certificate could not print more.
    pub async fn add_record(
        &self,
        entry: &RecordRow,
        max_per_document: usize,
        actor: &str,
        now: OffsetDateTime,
    ) -> Result<String, StoreError> {
        let id = random_id("R");
        let mut tx = self.begin().await?;
        let existing: i64 = on_tx!(&mut tx, |t| {
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM criminal_records WHERE doc_key = $1 AND closed_at IS NULL",
            )
            .bind(&entry.doc_key)
            .fetch_one(&mut **t)
            .await?
        });
        if usize::try_from(existing).unwrap_or(usize::MAX) >= max_per_document {
            return Err(StoreError::Invalid(format!(
                "the document already has {existing} record entries; a certificate prints at most {max_per_document}"
            )));
        }
        on_tx!(&mut tx, |t| {
            sqlx::query(
                "INSERT INTO criminal_records (id, doc_key, court, case_number, decision_date, offence, sentence, disclose_for, created_by, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(&id)
            .bind(&entry.doc_key)
            .bind(&entry.court)
            .bind(&entry.case_number)
            .bind(&entry.decision_date)
            .bind(&entry.offence)
            .bind(&entry.sentence)
            .bind(&entry.disclose_for)
            .bind(actor)
            .bind(rfc3339(now))
            .execute(&mut **t)
            .await?;
        });
        let detail =
            serde_json::json!({ "doc_key": entry.doc_key, "case_number": entry.case_number })
                .to_string();
        append_audit(&mut tx, actor, "record.added", &id, &detail, now).await?;
        commit(tx).await?;
        Ok(id)
    }

    /// The entries for a document, with an audit entry saying who read them and why
    /// (`purpose`: an application id or `lookup`).
    pub async fn read_records(
        &self,
        doc_key: &str,
        actor: &str,
        purpose: &str,
        now: OffsetDateTime,
    ) -> Result<Vec<RecordRow>, StoreError> {
        let mut tx = self.begin().await?;
        let rows: Vec<RecordRow> = on_tx!(&mut tx, |t| {
            sqlx::query_as(
                "SELECT id, doc_key, court, case_number, decision_date, offence, sentence, disclose_for, closed_at \
                 FROM criminal_records WHERE doc_key = $1 ORDER BY decision_date, id",
            )
            .bind(doc_key)
            .fetch_all(&mut **t)
            .await?
        });
        let detail =
            serde_json::json!({ "doc_key": doc_key, "purpose": purpose, "entries": rows.len() })
                .to_string();
        append_audit(&mut tx, actor, "record.read", doc_key, &detail, now).await?;
        commit(tx).await?;
        Ok(rows)
    }

    /// One entry, its reading audited (to correct or close it).
    pub async fn read_record(
        &self,
        id: &str,
        actor: &str,
        now: OffsetDateTime,
    ) -> Result<RecordRow, StoreError> {
        let mut tx = self.begin().await?;
        let row: Option<RecordRow> = on_tx!(&mut tx, |t| {
            sqlx::query_as(
                "SELECT id, doc_key, court, case_number, decision_date, offence, sentence, disclose_for, closed_at \
                 FROM criminal_records WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(&mut **t)
            .await?
        });
        let row = row.ok_or_else(|| StoreError::NotFound(format!("no record entry {id}")))?;
        let detail =
            serde_json::json!({ "doc_key": row.doc_key, "purpose": "entry", "entries": 1 })
                .to_string();
        append_audit(&mut tx, actor, "record.read", &row.doc_key, &detail, now).await?;
        commit(tx).await?;
        Ok(row)
    }

    /// Corrects an open entry's content and disclosure (audited with what it said before).
    pub async fn correct_record(
        &self,
        entry: &RecordRow,
        actor: &str,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let before = self.read_record(&entry.id, actor, now).await?;
        if before.closed_at.is_some() {
            return Err(StoreError::Conflict(format!(
                "record entry {} is closed",
                entry.id
            )));
        }
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, |t| {
            sqlx::query(
                "UPDATE criminal_records SET court = $1, case_number = $2, decision_date = $3, offence = $4, \
                 sentence = $5, disclose_for = $6 WHERE id = $7 AND closed_at IS NULL",
            )
            .bind(&entry.court)
            .bind(&entry.case_number)
            .bind(&entry.decision_date)
            .bind(&entry.offence)
            .bind(&entry.sentence)
            .bind(&entry.disclose_for)
            .bind(&entry.id)
            .execute(&mut **t)
            .await?;
        });
        let detail =
            serde_json::json!({ "doc_key": before.doc_key, "before": before, "after": entry })
                .to_string();
        append_audit(&mut tx, actor, "record.corrected", &entry.id, &detail, now).await?;
        commit(tx).await
    }

    /// Closes an entry with a reason: it stays in the registry and is never printed again.
    pub async fn close_record(
        &self,
        id: &str,
        reason: &str,
        actor: &str,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        let changed = on_tx!(&mut tx, |t| {
            sqlx::query(
                "UPDATE criminal_records SET closed_at = $1, closed_reason = $2 WHERE id = $3 AND closed_at IS NULL",
            )
            .bind(rfc3339(now))
            .bind(reason)
            .bind(id)
            .execute(&mut **t)
            .await?
            .rows_affected()
        });
        if changed == 0 {
            return Err(StoreError::Conflict(format!(
                "record entry {id} is closed or does not exist"
            )));
        }
        let detail = serde_json::json!({ "reason": reason }).to_string();
        append_audit(&mut tx, actor, "record.closed", id, &detail, now).await?;
        commit(tx).await
    }
}
