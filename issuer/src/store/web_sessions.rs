//! The portal's server-side sessions: looked up by the SHA-256 of the cookie's random id,
//! valid until idle for too long or past their absolute end, renewed on use.

use time::{Duration, OffsetDateTime};

use super::{StoreError, rfc3339};
use crate::store::Store;

/// A live portal session.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct WebSessionRow {
    /// SHA-256 (hex) of the cookie's id.
    pub id_hash: String,
    /// The signed-in applicant, if any (portal sessions).
    pub applicant_id: Option<String>,
    /// `portal`, `staff` or `department`: a session opens only the area it was made for.
    pub kind: String,
    /// A staff or department user (`role:name`) who gave the password but not yet the second
    /// factor: such a session reaches only the second-factor page.
    pub pending: Option<String>,
    /// The staff or department user (`role:name`) signed in with both factors.
    pub principal: Option<String>,
    /// The token every form of this session carries.
    pub csrf_token: String,
    /// When it ends if not used.
    pub idle_until: String,
    /// When it ends at the latest.
    pub expires_at: String,
}

impl Store {
    /// Starts a session (`row`'s deadlines are recomputed from `now`).
    pub async fn create_web_session(
        &self,
        row: &WebSessionRow,
        now: OffsetDateTime,
        idle: Duration,
        lifetime: Duration,
    ) -> Result<(), StoreError> {
        on_pool!(&self.pool, |p| {
            sqlx::query(
                "INSERT INTO web_sessions (id_hash, applicant_id, csrf_token, created_at, last_seen_at, idle_until, expires_at, kind, pending, principal) \
                 VALUES ($1, $2, $3, $4, $4, $5, $6, $7, $8, $9)",
            )
            .bind(&row.id_hash)
            .bind(&row.applicant_id)
            .bind(&row.csrf_token)
            .bind(rfc3339(now))
            .bind(rfc3339(now + idle))
            .bind(rfc3339(now + lifetime))
            .bind(&row.kind)
            .bind(&row.pending)
            .bind(&row.principal)
            .execute(p)
            .await?;
        });
        Ok(())
    }

    /// The session of `kind` if it is still live, its idle deadline moved on by `idle`.
    pub async fn touch_web_session(
        &self,
        id_hash: &str,
        kind: &str,
        now: OffsetDateTime,
        idle: Duration,
    ) -> Result<Option<WebSessionRow>, StoreError> {
        let at = rfc3339(now);
        let row: Option<WebSessionRow> = on_pool!(&self.pool, |p| {
            sqlx::query_as(
                "UPDATE web_sessions SET last_seen_at = $2, idle_until = $3 \
                 WHERE id_hash = $1 AND idle_until > $2 AND expires_at > $2 AND kind = $4 \
                 RETURNING id_hash, applicant_id, kind, pending, principal, csrf_token, idle_until, expires_at",
            )
            .bind(id_hash)
            .bind(&at)
            .bind(rfc3339(now + idle))
            .bind(kind)
            .fetch_optional(p)
            .await?
        });
        Ok(row)
    }

    /// Whether a session with this id existed but has ended (idle or past its end): the
    /// portal then says so instead of starting afresh silently.
    pub async fn web_session_ended(
        &self,
        id_hash: &str,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let n: i64 = on_pool!(&self.pool, |p| {
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM web_sessions WHERE id_hash = $1 AND (idle_until <= $2 OR expires_at <= $2)",
            )
            .bind(id_hash)
            .bind(rfc3339(now))
            .fetch_one(p)
            .await?
        });
        Ok(n > 0)
    }

    /// Ends a session (sign-out, or replaced at sign-in).
    pub async fn end_web_session(&self, id_hash: &str) -> Result<(), StoreError> {
        on_pool!(&self.pool, |p| {
            sqlx::query("DELETE FROM web_sessions WHERE id_hash = $1")
                .bind(id_hash)
                .execute(p)
                .await?;
        });
        Ok(())
    }

    /// Forgets sessions that ended more than a day ago.
    pub async fn purge_web_sessions(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        let before = rfc3339(now - Duration::DAY);
        let n = on_pool!(&self.pool, |p| {
            sqlx::query("DELETE FROM web_sessions WHERE idle_until < $1 OR expires_at < $1")
                .bind(&before)
                .execute(p)
                .await?
                .rows_affected()
        });
        Ok(n)
    }
}
