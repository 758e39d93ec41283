//! What the back office and the department portal read and record beyond the workflow's
//! transitions: the work queue, supporting documents' content, and the notices a department
//! acknowledges.

use time::OffsetDateTime;

use super::{StoreError, append_audit, rfc3339};
use crate::store::Store;
use crate::store::applications::ApplicationRow;

/// A notice to a department about a certificate it holds.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct NoticeRow {
    /// Id.
    pub id: String,
    /// The department.
    pub department_code: String,
    /// The certificate.
    pub certificate_number: String,
    /// The new status's name (`REVOKED`, `SUSPENDED`, `VALID`…).
    pub status: String,
    /// Why.
    pub reason: String,
    /// When.
    pub created_at: String,
    /// When a user of the department acknowledged it.
    pub acknowledged_at: Option<String>,
    /// Who acknowledged it.
    pub acknowledged_by: Option<String>,
}

/// A supporting document's content.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct DocumentContent {
    /// Its media type as checked at upload.
    pub media_type: String,
    /// Its file name as uploaded.
    pub filename: String,
    /// The bytes.
    pub content: Vec<u8>,
}

/// Records a notice to `department` about a status change of `number`, inside the
/// transaction that changes it.
pub(super) async fn add_notice_in(
    tx: &mut super::Tx,
    department: &str,
    number: &str,
    status: &str,
    reason: &str,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    on_tx!(&mut *tx, |t| {
        sqlx::query(
            "INSERT INTO department_notices (id, department_code, certificate_number, status, reason, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(super::random_id("N"))
        .bind(department)
        .bind(number)
        .bind(status)
        .bind(reason)
        .bind(rfc3339(now))
        .execute(&mut **t)
        .await?;
    });
    Ok(())
}

/// Most applications a queue shows.
pub const QUEUE_LIMIT: i64 = 500;

impl Store {
    /// Applications in any of `states`, oldest change first, at most [`QUEUE_LIMIT`].
    pub async fn applications_in_states(
        &self,
        states: &[&str],
    ) -> Result<Vec<ApplicationRow>, StoreError> {
        let mut rows = Vec::new();
        for state in states {
            rows.extend(self.applications_in(state, QUEUE_LIMIT).await?);
        }
        rows.truncate(usize::try_from(QUEUE_LIMIT).unwrap_or(usize::MAX));
        Ok(rows)
    }

    /// How many applications are in each state.
    pub async fn state_counts(&self) -> Result<Vec<(String, i64)>, StoreError> {
        Ok(on_pool!(&self.pool, |p| {
            sqlx::query_as("SELECT state, COUNT(*) FROM applications GROUP BY state ORDER BY state")
                .fetch_all(p)
                .await?
        }))
    }

    /// A supporting document of an application, its reading audited as `actor`'s.
    pub async fn read_document(
        &self,
        application_id: &str,
        document_id: &str,
        actor: &str,
        now: OffsetDateTime,
    ) -> Result<DocumentContent, StoreError> {
        let found: Option<DocumentContent> = on_pool!(&self.pool, |p| {
            sqlx::query_as(
                "SELECT media_type, filename, content FROM supporting_documents WHERE application_id = $1 AND id = $2",
            )
            .bind(application_id)
            .bind(document_id)
            .fetch_optional(p)
            .await?
        });
        let document = found.ok_or_else(|| {
            StoreError::NotFound(format!("no document {document_id} in {application_id}"))
        })?;
        let mut tx = self.begin().await?;
        let detail = serde_json::json!({ "document": document_id }).to_string();
        append_audit(
            &mut tx,
            actor,
            "document.viewed",
            application_id,
            &detail,
            now,
        )
        .await?;
        super::commit(tx).await?;
        Ok(document)
    }

    /// A department's notices, unread first, then newest first.
    pub async fn notices_of(&self, department: &str) -> Result<Vec<NoticeRow>, StoreError> {
        Ok(on_pool!(&self.pool, |p| {
            sqlx::query_as(
                "SELECT id, department_code, certificate_number, status, reason, created_at, acknowledged_at, acknowledged_by \
                 FROM department_notices WHERE department_code = $1 \
                 ORDER BY (CASE WHEN acknowledged_at IS NULL THEN 0 ELSE 1 END), created_at DESC, id LIMIT 500",
            )
            .bind(department)
            .fetch_all(p)
            .await?
        }))
    }

    /// Marks a department's notice read (once; audited). [`StoreError::NotFound`] for a
    /// notice of another department.
    pub async fn acknowledge_notice(
        &self,
        department: &str,
        id: &str,
        actor: &str,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        let changed = on_tx!(&mut tx, |t| {
            sqlx::query(
                "UPDATE department_notices SET acknowledged_at = $1, acknowledged_by = $2 \
                 WHERE id = $3 AND department_code = $4 AND acknowledged_at IS NULL",
            )
            .bind(rfc3339(now))
            .bind(actor)
            .bind(id)
            .bind(department)
            .execute(&mut **t)
            .await?
            .rows_affected()
        });
        if changed == 0 {
            let exists: i64 = on_tx!(&mut tx, |t| {
                sqlx::query_scalar(
                    "SELECT COUNT(*) FROM department_notices WHERE id = $1 AND department_code = $2",
                )
                .bind(id)
                .bind(department)
                .fetch_one(&mut **t)
                .await?
            });
            if exists == 0 {
                return Err(StoreError::NotFound(format!("no notice {id}")));
            }
            return Ok(());
        }
        append_audit(&mut tx, actor, "notice.acknowledged", id, "{}", now).await?;
        super::commit(tx).await
    }
}

impl Store {
    /// Gives a case to a member of staff (audited).
    pub async fn assign(
        &self,
        application_id: &str,
        username: &str,
        actor: &str,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        let changed = on_tx!(&mut tx, |t| {
            sqlx::query("UPDATE applications SET assigned_to = $1 WHERE id = $2")
                .bind(username)
                .bind(application_id)
                .execute(&mut **t)
                .await?
                .rows_affected()
        });
        if changed == 0 {
            return Err(StoreError::NotFound(format!(
                "no application {application_id}"
            )));
        }
        let detail = serde_json::json!({ "to": username }).to_string();
        append_audit(
            &mut tx,
            actor,
            "application.assigned",
            application_id,
            &detail,
            now,
        )
        .await?;
        super::commit(tx).await
    }

    /// Who each open application (not yet issued, collected or rejected) is assigned to.
    pub async fn assignees(&self) -> Result<Vec<(String, String)>, StoreError> {
        Ok(on_pool!(&self.pool, |p| {
            sqlx::query_as(
                "SELECT id, assigned_to FROM applications WHERE assigned_to IS NOT NULL \
                 AND state NOT IN ('COLLECTED', 'REJECTED')",
            )
            .fetch_all(p)
            .await?
        }))
    }
}
