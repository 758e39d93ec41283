//! Who is calling: roles (SPEC §1), bearer tokens (only their SHA-256 is stored), staff
//! password hashes (Argon2id) and the in-memory rate limiter for sign-in attempts.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine as _;
use rand::Rng;

/// Shortest staff password accepted.
pub const MIN_PASSWORD_CHARS: usize = 12;

/// A caller's role. Each endpoint names the roles it admits; nothing is implied by another.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// A person applying for their own certificate.
    Applicant,
    /// Reviews applications, asks for information, decides exemptions.
    Clerk,
    /// Approves, rejects, issues and re-issues; manages record entries.
    Officer,
    /// Revokes and suspends; manages the department registry; reads the audit log.
    SecurityOfficer,
    /// A registered government department (API client).
    Department,
}

impl Role {
    /// Every role, for authorisation tables.
    pub const ALL: [Role; 5] = [
        Role::Applicant,
        Role::Clerk,
        Role::Officer,
        Role::SecurityOfficer,
        Role::Department,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Applicant => "applicant",
            Self::Clerk => "clerk",
            Self::Officer => "officer",
            Self::SecurityOfficer => "security_officer",
            Self::Department => "department",
        }
    }

    /// Parses a stored name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == name)
    }

    /// Whether this is a bureau staff role.
    pub fn is_staff(self) -> bool {
        matches!(self, Self::Clerk | Self::Officer | Self::SecurityOfficer)
    }
}

/// An authenticated caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    /// The role.
    pub role: Role,
    /// Applicant id, staff username or department code.
    pub id: String,
}

impl Principal {
    /// How the audit log names this caller.
    pub fn actor(&self) -> String {
        format!("{}:{}", self.role.as_str(), self.id)
    }
}

/// The development identity provider's subject as typed: 1 to 128 printable characters,
/// trimmed. The API and the portal's development sign-in both take it through here.
pub fn development_subject(text: &str) -> Option<&str> {
    let subject = text.trim();
    (!subject.is_empty() && subject.len() <= 128 && !subject.chars().any(char::is_control))
        .then_some(subject)
}

/// A fresh bearer token (256 random bits, base64url) and the hash under which it is stored.
pub fn new_token() -> (String, String) {
    let bytes: [u8; 32] = rand::rng().random();
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let hash = token_hash(&token);
    (token, hash)
}

/// The stored form of a bearer token or client secret: they are high-entropy random values,
/// so a plain SHA-256 suffices (no password stretching needed).
pub fn token_hash(token: &str) -> String {
    crate::store::sha256_hex(token.as_bytes())
}

/// Hashes a staff password (Argon2id, random salt, PHC string).
pub fn hash_password(password: &str) -> Result<String, String> {
    use argon2::password_hash::{PasswordHasher, SaltString};
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(format!(
            "a staff password needs at least {MIN_PASSWORD_CHARS} characters"
        ));
    }
    let salt_bytes: [u8; 16] = rand::rng().random();
    let salt = SaltString::encode_b64(&salt_bytes).map_err(|e| e.to_string())?;
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// Checks a staff password against its stored hash.
pub fn verify_password(password: &str, phc: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    PasswordHash::new(phc).is_ok_and(|hash| {
        argon2::Argon2::default()
            .verify_password(password.as_bytes(), &hash)
            .is_ok()
    })
}

/// A hash that verifies no password, checked when the account does not exist so that an
/// unknown name costs as much time as a wrong password.
pub fn dummy_password_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| hash_password("not-a-password-of-anyone").unwrap_or_default())
}

/// Most keys a limiter tracks; beyond that, new keys are refused until old windows expire
/// (memory stays bounded under a flood of distinct keys).
const MAX_TRACKED_KEYS: usize = 100_000;

/// A sliding-window limiter: at most `limit` events per key within `window`.
#[derive(Debug)]
pub struct RateLimiter {
    limit: usize,
    window: Duration,
    events: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl RateLimiter {
    /// A limiter of `limit` events per `window`.
    pub fn new(limit: usize, window: Duration) -> Self {
        Self {
            limit,
            window,
            events: Mutex::default(),
        }
    }

    /// Records an event for `key`; `Err(retry_after)` if the key is over its limit.
    pub fn hit(&self, key: &str) -> Result<(), Duration> {
        let now = Instant::now();
        let mut events = self
            .events
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if events.len() >= MAX_TRACKED_KEYS && !events.contains_key(key) {
            events.retain(|_, q| {
                q.back()
                    .is_some_and(|t| now.duration_since(*t) < self.window)
            });
            if events.len() >= MAX_TRACKED_KEYS {
                return Err(self.window);
            }
        }
        let queue = events.entry(key.to_owned()).or_default();
        while queue
            .front()
            .is_some_and(|t| now.duration_since(*t) >= self.window)
        {
            queue.pop_front();
        }
        if queue.len() >= self.limit {
            let oldest = queue.front().copied().unwrap_or(now);
            return Err(self.window.saturating_sub(now.duration_since(oldest)));
        }
        queue.push_back(now);
        Ok(())
    }

    /// Forgets a key (after a successful sign-in).
    pub fn clear(&self, key: &str) {
        self.events
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_themselves() {
        let hash = hash_password("correct horse battery").expect("hash");
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("correct horse batterx", &hash));
        assert!(!verify_password(
            "correct horse battery",
            dummy_password_hash()
        ));
        assert!(hash_password("short").is_err());
    }

    #[test]
    fn tokens_are_random_and_stored_hashed() {
        let (a, hash_a) = new_token();
        let (b, _) = new_token();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(token_hash(&a), hash_a);
        assert!(!hash_a.contains(&a));
    }

    #[test]
    fn the_limiter_refuses_past_its_limit_per_key() {
        let limiter = RateLimiter::new(3, Duration::from_secs(60));
        for _ in 0..3 {
            assert!(limiter.hit("alice").is_ok());
        }
        let retry = limiter.hit("alice").expect_err("fourth attempt refused");
        assert!(retry <= Duration::from_secs(60));
        assert!(limiter.hit("bob").is_ok(), "keys are independent");
        limiter.clear("alice");
        assert!(limiter.hit("alice").is_ok());
    }

    #[test]
    fn roles_round_trip() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("root"), None);
    }
}
