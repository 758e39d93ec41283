//! The people who sign in with a password and a second factor: bureau staff (the back
//! office) and department users (the department portal). Accounts are created with their
//! second factor's secret, shown once to whoever creates them; signing in takes the password
//! (under the sign-in limits), then a code accepted once (wrong codes limited per account).

use std::net::IpAddr;
use std::time::Duration;

use time::OffsetDateTime;

use super::{Bureau, BureauError, CaseError, Services};
use crate::identity::auth::{self, Admission, Principal, RateLimiter, Role, SignInLimits};
use crate::identity::totp::Secret;
use crate::store::accounts::{DepartmentUser, UserTable};

/// Wrong second-factor codes allowed per account in [`SECOND_FACTOR_WINDOW`].
pub const SECOND_FACTOR_FAILURES: usize = 5;
/// The window of [`SECOND_FACTOR_FAILURES`].
pub const SECOND_FACTOR_WINDOW: Duration = Duration::from_secs(15 * 60);
/// The issuer name authenticator apps show.
pub const TOTP_ISSUER: &str = "DSI CCR";

/// The limiter of wrong second-factor codes, tracking at most `capacity` accounts.
pub fn second_factor_limiter(capacity: usize) -> RateLimiter {
    RateLimiter::new(SECOND_FACTOR_FAILURES, SECOND_FACTOR_WINDOW, capacity)
}

/// Where a person signs in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Desk {
    /// The back office (clerks, officers, security officers).
    Staff,
    /// The department portal.
    Department,
}

impl Desk {
    fn table(self) -> UserTable {
        match self {
            Self::Staff => UserTable::Staff,
            Self::Department => UserTable::DepartmentUsers,
        }
    }
}

/// A new account's second factor, to show once to whoever created it.
#[derive(Debug)]
pub struct Enrolment {
    /// The account's name.
    pub username: String,
    /// The secret (typed form: [`Secret::base32`]).
    pub secret: Secret,
    /// The `otpauth://` URI an authenticator app reads from a QR code.
    pub uri: String,
}

impl Enrolment {
    fn new(username: &str, secret: Secret) -> Self {
        Self {
            uri: secret.otpauth_uri(TOTP_ISSUER, username),
            username: username.to_owned(),
            secret,
        }
    }
}

/// A sign-in name: 3 to 64 of `a-z A-Z 0-9 . _ -`.
pub fn check_username(username: &str) -> Result<(), CaseError> {
    let valid = (3..=64).contains(&username.len())
        && username
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    if valid {
        Ok(())
    } else {
        Err(CaseError::invalid(
            "username",
            "3 to 64 of a-z, A-Z, 0-9, '.', '_', '-'",
        ))
    }
}

async fn hashed(password: String) -> Result<String, CaseError> {
    tokio::task::spawn_blocking(move || auth::hash_password(&password))
        .await
        .map_err(|e| CaseError::internal(&e))?
        .map_err(|m| CaseError::invalid("password", m))
}

impl Bureau {
    /// Creates a staff account with a second factor (`actor` is audited).
    pub async fn add_staff(
        &self,
        username: &str,
        role: Role,
        password: &str,
        actor: &str,
    ) -> Result<Enrolment, CaseError> {
        check_username(username)?;
        if !role.is_staff() {
            return Err(CaseError::invalid(
                "role",
                "use clerk, officer or security_officer",
            ));
        }
        let hash = hashed(password.to_owned()).await?;
        let secret = Secret::generate();
        self.store()
            .add_staff(
                username,
                role.as_str(),
                &hash,
                &secret.stored(),
                actor,
                OffsetDateTime::now_utc(),
            )
            .await?;
        Ok(Enrolment::new(username, secret))
    }

    /// Creates a department user with a second factor.
    pub async fn add_department_user(
        &self,
        username: &str,
        department: &str,
        password: &str,
        actor: &str,
    ) -> Result<Enrolment, CaseError> {
        check_username(username)?;
        let hash = hashed(password.to_owned()).await?;
        let secret = Secret::generate();
        self.store()
            .add_department_user(
                &DepartmentUser {
                    username: username.to_owned(),
                    department: department.to_owned(),
                    password_hash: hash,
                    totp_secret: secret.stored(),
                    totp_last_step: None,
                    active: true,
                },
                actor,
                OffsetDateTime::now_utc(),
            )
            .await?;
        Ok(Enrolment::new(username, secret))
    }
}

impl Services {
    /// New API credentials for a department's systems (security officer): the client
    /// secret, to show once; the old one and its sessions stop working.
    pub async fn issue_department_credentials(
        &self,
        officer: &Principal,
        code: &str,
    ) -> Result<String, CaseError> {
        let (secret, hash) = auth::new_token();
        self.store()
            .set_department_secret(code, &hash, &officer.actor(), OffsetDateTime::now_utc())
            .await?;
        Ok(secret)
    }

    /// Lets a staff account sign in again, or stops it at once (security officer; not their
    /// own account).
    pub async fn set_staff_active(
        &self,
        officer: &Principal,
        username: &str,
        active: bool,
    ) -> Result<(), CaseError> {
        if username == officer.id {
            return Err(CaseError::Conflict(
                "a security officer cannot deactivate their own account".into(),
            ));
        }
        Ok(self
            .store()
            .set_staff_active(
                username,
                active,
                &officer.actor(),
                OffsetDateTime::now_utc(),
            )
            .await?)
    }
}

/// An account as the sign-in sees it, whichever desk.
struct Account {
    principal: Principal,
    password_hash: String,
    totp_secret: Option<String>,
    active: bool,
}

impl Services {
    async fn account(&self, desk: Desk, username: &str) -> Result<Option<Account>, CaseError> {
        Ok(match desk {
            Desk::Staff => match self.store().staff(username).await? {
                Some(a) => Some(Account {
                    principal: Principal::new(
                        Role::parse(&a.role)
                            .filter(|r| r.is_staff())
                            .ok_or_else(|| CaseError::Internal("stored staff role".into()))?,
                        a.username,
                    ),
                    password_hash: a.password_hash,
                    totp_secret: a.totp_secret,
                    active: a.active,
                }),
                None => None,
            },
            Desk::Department => match self.store().department_user(username).await? {
                Some(u) => {
                    let department_active = self
                        .store()
                        .department(&u.department)
                        .await?
                        .is_some_and(|d| d.active);
                    Some(Account {
                        principal: Principal {
                            role: Role::Department,
                            id: u.department,
                            person: Some(u.username),
                        },
                        password_hash: u.password_hash,
                        totp_secret: Some(u.totp_secret),
                        active: u.active && department_active,
                    })
                }
                None => None,
            },
        })
    }

    fn limits(&self, desk: Desk) -> &SignInLimits {
        match desk {
            Desk::Staff => &self.staff_sign_in,
            Desk::Department => &self.department_sign_in,
        }
    }

    /// The first factor: the password of an active account, under the desk's sign-in limits
    /// (an unknown name costs as much as a wrong password). Answers the account's name; the
    /// session it opens reaches only the second factor.
    pub async fn check_password(
        &self,
        desk: Desk,
        username: &str,
        password: &str,
        address: IpAddr,
    ) -> Result<String, CaseError> {
        if username.len() > 64 || password.len() > 1_024 {
            return Err(CaseError::Unauthenticated(
                "wrong username or password".into(),
            ));
        }
        let limits = self.limits(desk);
        match limits.admit(username, address) {
            Admission::Refused(retry) => {
                return Err(CaseError::Limited(format!(
                    "too many sign-in attempts from this address; try again in {} seconds",
                    retry.as_secs().max(1)
                )));
            }
            Admission::After(wait) if !wait.is_zero() => tokio::time::sleep(wait).await,
            Admission::After(_) => {}
        }
        let account = self.account(desk, username).await?;
        let hash = account.as_ref().map_or_else(
            || auth::dummy_password_hash().to_owned(),
            |a| a.password_hash.clone(),
        );
        let typed = password.to_owned();
        let matches = tokio::task::spawn_blocking(move || auth::verify_password(&typed, &hash))
            .await
            .map_err(|e| CaseError::internal(&e))?;
        if !(matches && account.as_ref().is_some_and(|a| a.active)) {
            limits.failed(username);
            return Err(CaseError::Unauthenticated(
                "wrong username or password".into(),
            ));
        }
        limits.succeeded(username, address);
        Ok(username.to_owned())
    }

    /// The second factor of `username` (who gave the right password): a code of the
    /// account's secret, for a time step later than the last one accepted. At most
    /// [`SECOND_FACTOR_FAILURES`] wrong codes per account in [`SECOND_FACTOR_WINDOW`]; after
    /// that even the right code is refused until the window has passed. Each refusal and
    /// each success is audited.
    pub async fn check_second_factor(
        &self,
        desk: Desk,
        username: &str,
        code: &str,
        now: OffsetDateTime,
    ) -> Result<Principal, CaseError> {
        let key = format!("{desk:?}:{username}");
        let account = self
            .account(desk, username)
            .await?
            .filter(|a| a.active)
            .ok_or_else(|| CaseError::Unauthenticated("the account cannot sign in".into()))?;
        let actor = account.principal.actor();
        // Counted before the check, so that guesses in parallel cannot pass the limit.
        if let Err(retry) = self.second_factor.hit(&key) {
            self.store()
                .audit(
                    &actor,
                    "sign_in.second_factor_locked",
                    username,
                    &serde_json::json!({}),
                    now,
                )
                .await?;
            return Err(CaseError::Limited(format!(
                "too many wrong codes; try again in {} minutes",
                retry.as_secs().div_ceil(60).max(1)
            )));
        }
        let secret = account
            .totp_secret
            .as_deref()
            .and_then(Secret::from_stored)
            .ok_or_else(|| {
                CaseError::Unauthenticated(
                    "this account has no second factor; ask the security officer".into(),
                )
            })?;
        let last = match desk {
            Desk::Staff => self
                .store()
                .staff(username)
                .await?
                .and_then(|a| a.totp_last_step),
            Desk::Department => self
                .store()
                .department_user(username)
                .await?
                .and_then(|u| u.totp_last_step),
        };
        let accepted = match secret.accepts(code, now, last) {
            Some(step) => {
                self.store()
                    .accept_totp_step(desk.table(), username, step)
                    .await?
            }
            None => false,
        };
        if !accepted {
            self.store()
                .audit(
                    &actor,
                    "sign_in.second_factor_refused",
                    username,
                    &serde_json::json!({}),
                    now,
                )
                .await?;
            return Err(CaseError::Unauthenticated(
                "the code is wrong, expired or already used".into(),
            ));
        }
        self.second_factor.clear(&key);
        self.store()
            .audit(
                &actor,
                "sign_in.succeeded",
                username,
                &serde_json::json!({}),
                now,
            )
            .await?;
        Ok(account.principal)
    }
}

/// Wraps a use-case error from account creation for the CLI.
impl From<CaseError> for BureauError {
    fn from(e: CaseError) -> Self {
        BureauError::Usage(e.to_string())
    }
}

/// A development account created on first start: its role's name, password and enrolment.
#[derive(Debug)]
pub struct DevelopmentAccount {
    /// What it is for (`clerk`, `department DSAL`…).
    pub what: String,
    /// Its random password.
    pub password: String,
    /// Its second factor.
    pub enrolment: Enrolment,
}

impl Bureau {
    /// On the first start of a development home: one account per staff role and one user
    /// of the first configured department, each with a random password and a second factor,
    /// written to `DEVELOPMENT-ACCOUNTS.txt` in the home (mode 0600) and returned for
    /// printing. Production homes create accounts with `issuer staff add` instead.
    pub async fn create_development_accounts(&self) -> Result<Vec<DevelopmentAccount>, CaseError> {
        use base64::Engine as _;
        use rand::Rng as _;
        let actor = "system:development-setup";
        let password = || {
            let bytes: [u8; 12] = rand::rng().random();
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
        };
        let mut made = Vec::new();
        for (name, role) in [
            ("clerk", Role::Clerk),
            ("officer", Role::Officer),
            ("security", Role::SecurityOfficer),
        ] {
            let secret = password();
            let enrolment = self.add_staff(name, role, &secret, actor).await?;
            made.push(DevelopmentAccount {
                what: role.as_str().to_owned(),
                password: secret,
                enrolment,
            });
        }
        if let Some(department) = self.store().departments().await?.into_iter().next() {
            let secret = password();
            let name = department.code.to_ascii_lowercase();
            let enrolment = self
                .add_department_user(&name, &department.code, &secret, actor)
                .await?;
            made.push(DevelopmentAccount {
                what: format!("department {}", department.code),
                password: secret,
                enrolment,
            });
        }
        let mut text = String::from(
            "DEVELOPMENT ACCOUNTS (not for production): sign in at /staff/sign-in or /department/sign-in.\n\
             The second factor: add the key to an authenticator app, or compute a code with\n\
             `oathtool --totp -b KEY`.\n\n",
        );
        for a in &made {
            text.push_str(&format!(
                "{}\n  username: {}\n  password: {}\n  key: {}\n  {}\n\n",
                a.what,
                a.enrolment.username,
                a.password,
                a.enrolment.secret.base32(),
                a.enrolment.uri
            ));
        }
        let path = self.home().dir().join("DEVELOPMENT-ACCOUNTS.txt");
        ccr_pki::signer::write_private_file(&path, text.as_bytes())
            .map_err(|e| CaseError::Internal(e.to_string()))?;
        Ok(made)
    }
}
