//! Accounts and sessions: applicants (known by their identity provider's subject), staff
//! (password hashes), departments (the registry and their client-secret hashes), bearer
//! sessions (token hashes) and pending OIDC logins.

use time::OffsetDateTime;

use super::{StoreError, append_audit, rfc3339};
use crate::store::Store;

/// A staff account as stored.
#[derive(Clone, Debug)]
pub struct StaffAccount {
    /// Sign-in name.
    pub username: String,
    /// `clerk`, `officer` or `security_officer`.
    pub role: String,
    /// PHC string of the password hash.
    pub password_hash: String,
    /// Whether the account may sign in.
    pub active: bool,
    /// The second factor's secret (stored form of [`crate::identity::totp::Secret`]).
    pub totp_secret: Option<String>,
    /// The last time step whose code was accepted.
    pub totp_last_step: Option<i64>,
}

/// A registered department.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Department {
    /// Its code, e.g. `DSAL`.
    pub code: String,
    /// Traditional Chinese name.
    pub name_zh: String,
    /// Portuguese name.
    pub name_pt: String,
    /// English name.
    pub name_en: String,
    /// Whether it accepts transfers.
    pub active: bool,
    /// Whether it has API credentials.
    pub has_credentials: bool,
}

/// A live session.
#[derive(Clone, Debug)]
pub struct Session {
    /// The role name.
    pub role: String,
    /// Applicant id, staff username or department code.
    pub principal: String,
    /// When it ends.
    pub expires_at: String,
}

/// A pending OIDC login.
#[derive(Clone, Debug)]
pub struct OidcLogin {
    /// Nonce expected in the ID token.
    pub nonce: String,
    /// PKCE verifier.
    pub code_verifier: String,
    /// When the login started.
    pub created_at: String,
}

/// Most OIDC logins pending at once (each lives at most the provider's login lifetime).
pub const MAX_PENDING_LOGINS: i64 = 10_000;

type DepartmentRow = (String, String, String, String, i64, Option<String>);
type StaffRow = (String, String, String, i64, Option<String>, Option<i64>);
type DepartmentUserRow = (String, String, String, String, Option<i64>, i64);

fn staff_account(row: StaffRow) -> StaffAccount {
    let (username, role, password_hash, active, totp_secret, totp_last_step) = row;
    StaffAccount {
        username,
        role,
        password_hash,
        active: active != 0,
        totp_secret,
        totp_last_step,
    }
}

fn department_user(row: DepartmentUserRow) -> DepartmentUser {
    let (username, department, password_hash, totp_secret, totp_last_step, active) = row;
    DepartmentUser {
        username,
        department,
        password_hash,
        totp_secret,
        totp_last_step,
        active: active != 0,
    }
}

/// A person of a registered department who uses the department portal.
#[derive(Clone, Debug)]
pub struct DepartmentUser {
    /// Sign-in name.
    pub username: String,
    /// The department's code.
    pub department: String,
    /// PHC string of the password hash.
    pub password_hash: String,
    /// The second factor's secret (stored form).
    pub totp_secret: String,
    /// The last time step whose code was accepted.
    pub totp_last_step: Option<i64>,
    /// Whether the user may sign in.
    pub active: bool,
}

/// The tables of people who sign in with a password and a second factor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UserTable {
    /// Bureau staff.
    Staff,
    /// Department users.
    DepartmentUsers,
}

fn department(row: DepartmentRow) -> Department {
    let (code, name_zh, name_pt, name_en, active, secret) = row;
    Department {
        code,
        name_zh,
        name_pt,
        name_en,
        active: active != 0,
        has_credentials: secret.is_some(),
    }
}

impl Store {
    /// The applicant known to `provider` as `subject`, created on first sign-in. The identity
    /// document the provider verified this time (its registry key), if any, replaces the one
    /// it verified before.
    pub async fn applicant_for(
        &self,
        provider: &str,
        subject: &str,
        name: Option<&str>,
        verified_document: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<String, StoreError> {
        let id = super::random_id("P");
        let found: String = on_pool!(&self.pool, |p| {
            sqlx::query_scalar(
                "INSERT INTO applicants (id, provider, subject, name, verified_document, created_at) VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (provider, subject) DO UPDATE SET name = COALESCE(excluded.name, applicants.name), \
                 verified_document = excluded.verified_document \
                 RETURNING id",
            )
            .bind(&id)
            .bind(provider)
            .bind(subject)
            .bind(name)
            .bind(verified_document)
            .bind(rfc3339(now))
            .fetch_one(p)
            .await?
        });
        Ok(found)
    }

    /// The registry key of the identity document the provider verified for an applicant at
    /// the last sign-in, if it gave one.
    pub async fn applicant_verified_document(
        &self,
        applicant_id: &str,
    ) -> Result<Option<String>, StoreError> {
        let found: Option<Option<String>> = on_pool!(&self.pool, |p| {
            sqlx::query_scalar("SELECT verified_document FROM applicants WHERE id = $1")
                .bind(applicant_id)
                .fetch_optional(p)
                .await?
        });
        Ok(found.flatten())
    }

    /// Creates a staff account with its second factor's secret (refuses an existing name).
    pub async fn add_staff(
        &self,
        username: &str,
        role: &str,
        password_hash: &str,
        totp_secret: &str,
        actor: &str,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        let inserted = on_tx!(&mut tx, |t| {
            sqlx::query(
                "INSERT INTO staff (username, role, password_hash, active, created_at, totp_secret) VALUES ($1, $2, $3, 1, $4, $5) \
                 ON CONFLICT (username) DO NOTHING",
            )
            .bind(username)
            .bind(role)
            .bind(password_hash)
            .bind(rfc3339(now))
            .bind(totp_secret)
            .execute(&mut **t)
            .await?
            .rows_affected()
        });
        if inserted == 0 {
            return Err(StoreError::Conflict(format!(
                "a staff account named {username} exists"
            )));
        }
        let detail = serde_json::json!({ "role": role }).to_string();
        append_audit(&mut tx, actor, "staff.created", username, &detail, now).await?;
        super::commit(tx).await
    }

    /// The staff account named `username`.
    pub async fn staff(&self, username: &str) -> Result<Option<StaffAccount>, StoreError> {
        let row: Option<StaffRow> = on_pool!(&self.pool, |p| {
            sqlx::query_as(
                "SELECT username, role, password_hash, active, totp_secret, totp_last_step FROM staff WHERE username = $1",
            )
            .bind(username)
            .fetch_optional(p)
            .await?
        });
        Ok(row.map(staff_account))
    }

    /// Every staff account, by name.
    pub async fn staff_accounts(&self) -> Result<Vec<StaffAccount>, StoreError> {
        let rows: Vec<StaffRow> = on_pool!(&self.pool, |p| {
            sqlx::query_as(
                "SELECT username, role, password_hash, active, totp_secret, totp_last_step FROM staff ORDER BY username",
            )
            .fetch_all(p)
            .await?
        });
        Ok(rows.into_iter().map(staff_account).collect())
    }

    /// Lets a staff account sign in, or stops it (its sessions end at once).
    pub async fn set_staff_active(
        &self,
        username: &str,
        active: bool,
        actor: &str,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        let changed = on_tx!(&mut tx, |t| {
            let n = sqlx::query("UPDATE staff SET active = $1 WHERE username = $2")
                .bind(i64::from(active))
                .bind(username)
                .execute(&mut **t)
                .await?
                .rows_affected();
            if !active {
                sqlx::query("DELETE FROM sessions WHERE role <> 'applicant' AND role <> 'department' AND principal = $1")
                    .bind(username)
                    .execute(&mut **t)
                    .await?;
                sqlx::query("DELETE FROM web_sessions WHERE kind = 'staff' AND (principal LIKE $1 OR pending LIKE $1)")
                    .bind(format!("%:{username}"))
                    .execute(&mut **t)
                    .await?;
            }
            n
        });
        if changed == 0 {
            return Err(StoreError::NotFound(format!("no staff account {username}")));
        }
        let action = if active {
            "staff.activated"
        } else {
            "staff.deactivated"
        };
        append_audit(&mut tx, actor, action, username, "{}", now).await?;
        super::commit(tx).await
    }

    /// Accepts time step `step` of an account's second factor if it is later than the last
    /// one accepted (atomically: of two sign-ins with the same code, one wins). `table` is
    /// `staff` or `department_users`.
    pub async fn accept_totp_step(
        &self,
        table: UserTable,
        username: &str,
        step: i64,
    ) -> Result<bool, StoreError> {
        let sql = match table {
            UserTable::Staff => {
                "UPDATE staff SET totp_last_step = $1 WHERE username = $2 AND (totp_last_step IS NULL OR totp_last_step < $1)"
            }
            UserTable::DepartmentUsers => {
                "UPDATE department_users SET totp_last_step = $1 WHERE username = $2 AND (totp_last_step IS NULL OR totp_last_step < $1)"
            }
        };
        let n = on_pool!(&self.pool, |p| {
            sqlx::query(sql)
                .bind(step)
                .bind(username)
                .execute(p)
                .await?
                .rows_affected()
        });
        Ok(n == 1)
    }

    /// Creates a department user (refuses an existing name or an unknown department).
    pub async fn add_department_user(
        &self,
        user: &DepartmentUser,
        actor: &str,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        if self.department(&user.department).await?.is_none() {
            return Err(StoreError::NotFound(format!(
                "no department {}",
                user.department
            )));
        }
        let mut tx = self.begin().await?;
        let inserted = on_tx!(&mut tx, |t| {
            sqlx::query(
                "INSERT INTO department_users (username, department_code, password_hash, totp_secret, active, created_at) \
                 VALUES ($1, $2, $3, $4, 1, $5) ON CONFLICT (username) DO NOTHING",
            )
            .bind(&user.username)
            .bind(&user.department)
            .bind(&user.password_hash)
            .bind(&user.totp_secret)
            .bind(rfc3339(now))
            .execute(&mut **t)
            .await?
            .rows_affected()
        });
        if inserted == 0 {
            return Err(StoreError::Conflict(format!(
                "a department user named {} exists",
                user.username
            )));
        }
        let detail = serde_json::json!({ "department": user.department }).to_string();
        append_audit(
            &mut tx,
            actor,
            "department_user.created",
            &user.username,
            &detail,
            now,
        )
        .await?;
        super::commit(tx).await
    }

    /// The department user named `username`.
    pub async fn department_user(
        &self,
        username: &str,
    ) -> Result<Option<DepartmentUser>, StoreError> {
        let row: Option<DepartmentUserRow> = on_pool!(&self.pool, |p| {
            sqlx::query_as(
                "SELECT username, department_code, password_hash, totp_secret, totp_last_step, active FROM department_users WHERE username = $1",
            )
            .bind(username)
            .fetch_optional(p)
            .await?
        });
        Ok(row.map(department_user))
    }

    /// The users of every department (or of one), by department and name.
    pub async fn department_users(
        &self,
        department: Option<&str>,
    ) -> Result<Vec<DepartmentUser>, StoreError> {
        let rows: Vec<DepartmentUserRow> = on_pool!(&self.pool, |p| {
            sqlx::query_as(
                "SELECT username, department_code, password_hash, totp_secret, totp_last_step, active FROM department_users \
                 WHERE CAST($1 AS TEXT) IS NULL OR department_code = $1 ORDER BY department_code, username",
            )
            .bind(department)
            .fetch_all(p)
            .await?
        });
        Ok(rows.into_iter().map(department_user).collect())
    }

    /// Adds the configured departments that the registry does not know yet.
    pub async fn seed_departments(
        &self,
        entries: &[crate::setup::config::CodedEntry],
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        for d in entries {
            on_pool!(&self.pool, |p| {
                sqlx::query(
                    "INSERT INTO departments (code, name_zh, name_pt, name_en, active, created_at) \
                     VALUES ($1, $2, $3, $4, 1, $5) ON CONFLICT (code) DO NOTHING",
                )
                .bind(&d.code)
                .bind(&d.zh)
                .bind(&d.pt)
                .bind(&d.en)
                .bind(rfc3339(now))
                .execute(p)
                .await?;
            });
        }
        Ok(())
    }

    /// All departments, by code.
    pub async fn departments(&self) -> Result<Vec<Department>, StoreError> {
        let rows: Vec<DepartmentRow> = on_pool!(&self.pool, |p| {
            sqlx::query_as(
                "SELECT code, name_zh, name_pt, name_en, active, secret_hash FROM departments ORDER BY code",
            )
            .fetch_all(p)
            .await?
        });
        Ok(rows.into_iter().map(department).collect())
    }

    /// The department with this code.
    pub async fn department(&self, code: &str) -> Result<Option<Department>, StoreError> {
        let row: Option<DepartmentRow> = on_pool!(&self.pool, |p| {
            sqlx::query_as(
                "SELECT code, name_zh, name_pt, name_en, active, secret_hash FROM departments WHERE code = $1",
            )
            .bind(code)
            .fetch_optional(p)
            .await?
        });
        Ok(row.map(department))
    }

    /// Registers or updates a department (names and whether it is active).
    pub async fn put_department(
        &self,
        d: &Department,
        actor: &str,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, |t| {
            sqlx::query(
                "INSERT INTO departments (code, name_zh, name_pt, name_en, active, created_at) VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (code) DO UPDATE SET name_zh = excluded.name_zh, name_pt = excluded.name_pt, \
                 name_en = excluded.name_en, active = excluded.active",
            )
            .bind(&d.code)
            .bind(&d.name_zh)
            .bind(&d.name_pt)
            .bind(&d.name_en)
            .bind(i64::from(d.active))
            .bind(rfc3339(now))
            .execute(&mut **t)
            .await?;
        });
        if !d.active {
            // A deactivated department's open sessions end with it.
            on_tx!(&mut tx, |t| {
                sqlx::query("DELETE FROM sessions WHERE role = 'department' AND principal = $1")
                    .bind(&d.code)
                    .execute(&mut **t)
                    .await?;
            });
        }
        let detail = serde_json::json!({ "active": d.active, "name_en": d.name_en }).to_string();
        append_audit(
            &mut tx,
            actor,
            "department.registered",
            &d.code,
            &detail,
            now,
        )
        .await?;
        super::commit(tx).await
    }

    /// Replaces a department's client-secret hash (the old secret stops working at once, and
    /// its sessions end).
    pub async fn set_department_secret(
        &self,
        code: &str,
        secret_hash: &str,
        actor: &str,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        let changed = on_tx!(&mut tx, |t| {
            let n = sqlx::query("UPDATE departments SET secret_hash = $1 WHERE code = $2")
                .bind(secret_hash)
                .bind(code)
                .execute(&mut **t)
                .await?
                .rows_affected();
            sqlx::query("DELETE FROM sessions WHERE role = 'department' AND principal = $1")
                .bind(code)
                .execute(&mut **t)
                .await?;
            n
        });
        if changed == 0 {
            return Err(StoreError::NotFound(format!("no department {code}")));
        }
        append_audit(
            &mut tx,
            actor,
            "department.credentials_issued",
            code,
            "{}",
            now,
        )
        .await?;
        super::commit(tx).await
    }

    /// The client-secret hash of an active department.
    pub async fn department_secret_hash(&self, code: &str) -> Result<Option<String>, StoreError> {
        let hash: Option<Option<String>> = on_pool!(&self.pool, |p| {
            sqlx::query_scalar("SELECT secret_hash FROM departments WHERE code = $1 AND active = 1")
                .bind(code)
                .fetch_optional(p)
                .await?
        });
        Ok(hash.flatten())
    }

    /// Stores a session under its token's hash.
    pub async fn create_session(
        &self,
        token_hash: &str,
        role: &str,
        principal: &str,
        now: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, |t| {
            sqlx::query("DELETE FROM sessions WHERE expires_at < $1")
                .bind(rfc3339(now))
                .execute(&mut **t)
                .await?;
            sqlx::query(
                "INSERT INTO sessions (token_hash, role, principal, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(token_hash)
            .bind(role)
            .bind(principal)
            .bind(rfc3339(now))
            .bind(rfc3339(expires_at))
            .execute(&mut **t)
            .await?;
        });
        // Who signed in, as what, until when (never the token).
        let detail = serde_json::json!({ "expires_at": rfc3339(expires_at) }).to_string();
        let actor = format!("{role}:{principal}");
        append_audit(&mut tx, &actor, "session.started", principal, &detail, now).await?;
        super::commit(tx).await
    }

    /// The unexpired session with this token hash.
    pub async fn session(
        &self,
        token_hash: &str,
        now: OffsetDateTime,
    ) -> Result<Option<Session>, StoreError> {
        let row: Option<(String, String, String)> = on_pool!(&self.pool, |p| {
            sqlx::query_as(
                "SELECT role, principal, expires_at FROM sessions WHERE token_hash = $1 AND expires_at > $2",
            )
            .bind(token_hash)
            .bind(rfc3339(now))
            .fetch_optional(p)
            .await?
        });
        Ok(row.map(|(role, principal, expires_at)| Session {
            role,
            principal,
            expires_at,
        }))
    }

    /// Ends a session (sign-out), audited under its owner.
    pub async fn end_session(
        &self,
        token_hash: &str,
        actor: &str,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, |t| {
            sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
                .bind(token_hash)
                .execute(&mut **t)
                .await?;
        });
        append_audit(&mut tx, actor, "session.ended", actor, "{}", now).await?;
        super::commit(tx).await
    }

    /// Remembers a started OIDC login. Logins older than `expired_before` are forgotten
    /// first, and at most [`MAX_PENDING_LOGINS`] may be pending at once, so unauthenticated
    /// starts cannot grow the table without bound.
    pub async fn put_oidc_login(
        &self,
        state: &str,
        login: &OidcLogin,
        expired_before: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let pending: i64 = on_pool!(&self.pool, |p| {
            sqlx::query("DELETE FROM oidc_logins WHERE created_at < $1")
                .bind(rfc3339(expired_before))
                .execute(p)
                .await?;
            sqlx::query_scalar("SELECT COUNT(*) FROM oidc_logins")
                .fetch_one(p)
                .await?
        });
        if pending >= MAX_PENDING_LOGINS {
            return Err(StoreError::Limit(
                "too many sign-ins in progress; try again in a few minutes".into(),
            ));
        }
        on_pool!(&self.pool, |p| {
            sqlx::query(
                "INSERT INTO oidc_logins (state, nonce, code_verifier, created_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(state)
            .bind(&login.nonce)
            .bind(&login.code_verifier)
            .bind(&login.created_at)
            .execute(p)
            .await?;
        });
        Ok(())
    }

    /// Takes (and forgets) a started OIDC login: each `state` is good for one callback.
    pub async fn take_oidc_login(&self, state: &str) -> Result<Option<OidcLogin>, StoreError> {
        let row: Option<(String, String, String)> = on_pool!(&self.pool, |p| {
            sqlx::query_as(
                "DELETE FROM oidc_logins WHERE state = $1 RETURNING nonce, code_verifier, created_at",
            )
            .bind(state)
            .fetch_optional(p)
            .await?
        });
        Ok(row.map(|(nonce, code_verifier, created_at)| OidcLogin {
            nonce,
            code_verifier,
            created_at,
        }))
    }
}
