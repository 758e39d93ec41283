//! The notification outbox: messages are written in the transaction of the step they report,
//! and delivered afterwards by the dispatcher through each channel's transport.

use time::OffsetDateTime;

use super::applications::Outgoing;
use super::{StoreError, Tx, rfc3339};
use crate::store::Store;

/// A stored message.
#[derive(Clone, Debug, serde::Serialize, sqlx::FromRow)]
pub struct OutboxEntry {
    /// Id.
    pub id: i64,
    /// `sms` or `department`.
    pub channel: String,
    /// Phone number or department code.
    pub recipient: String,
    /// Language.
    pub language: String,
    /// Subject.
    pub subject: String,
    /// Text.
    pub body: String,
    /// What it is about.
    pub reference: String,
    /// When written.
    pub created_at: String,
    /// When delivered.
    pub delivered_at: Option<String>,
}

/// Adds a message inside `tx`.
pub(super) async fn enqueue_in(
    tx: &mut Tx,
    m: &Outgoing,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    on_tx!(&mut *tx, |t| {
        sqlx::query(
            "INSERT INTO outbox (channel, recipient, language, subject, body, reference, created_at, attempts) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 0)",
        )
        .bind(m.channel)
        .bind(&m.recipient)
        .bind(m.language)
        .bind(&m.subject)
        .bind(&m.body)
        .bind(&m.reference)
        .bind(rfc3339(now))
        .execute(&mut **t)
        .await?;
    });
    Ok(())
}

const COLUMNS: &str =
    "id, channel, recipient, language, subject, body, reference, created_at, delivered_at";

impl Store {
    /// Adds a message on its own (no step goes with it, e.g. a one-time password).
    pub async fn enqueue(&self, m: &Outgoing, now: OffsetDateTime) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        enqueue_in(&mut tx, m, now).await?;
        super::commit(tx).await
    }

    /// The latest messages of every channel, newest first (the development outbox page).
    pub async fn recent_messages(&self, limit: i64) -> Result<Vec<OutboxEntry>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM outbox ORDER BY id DESC LIMIT $1");
        Ok(on_pool!(&self.pool, |p| {
            sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(limit)
                .fetch_all(p)
                .await?
        }))
    }

    /// Undelivered messages of one channel, oldest first.
    pub async fn undelivered(
        &self,
        channel: &str,
        limit: i64,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM outbox WHERE delivered_at IS NULL AND channel = $1 ORDER BY id LIMIT $2"
        );
        Ok(on_pool!(&self.pool, |p| {
            sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(channel)
                .bind(limit)
                .fetch_all(p)
                .await?
        }))
    }

    /// Marks a message delivered (or notes a failed attempt).
    pub async fn mark_delivery(
        &self,
        id: i64,
        outcome: Result<(), String>,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        on_pool!(&self.pool, |p| {
            match &outcome {
                Ok(()) => sqlx::query(
                    "UPDATE outbox SET delivered_at = $1, attempts = attempts + 1 WHERE id = $2",
                )
                .bind(rfc3339(now))
                .bind(id),
                Err(e) => sqlx::query(
                    "UPDATE outbox SET last_error = $1, attempts = attempts + 1 WHERE id = $2",
                )
                .bind(e.clone())
                .bind(id),
            }
            .execute(p)
            .await?;
        });
        Ok(())
    }

    /// Messages for one recipient, newest first (the development outbox reader).
    pub async fn messages_to(
        &self,
        recipient: &str,
        limit: i64,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        let sql =
            format!("SELECT {COLUMNS} FROM outbox WHERE recipient = $1 ORDER BY id DESC LIMIT $2");
        Ok(on_pool!(&self.pool, |p| {
            sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(recipient)
                .bind(limit)
                .fetch_all(p)
                .await?
        }))
    }
}
