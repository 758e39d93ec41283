//! Who is calling: roles (SPEC §1), bearer tokens (only their SHA-256 is stored), staff
//! password hashes (Argon2id) and the in-memory rate limiter for sign-in attempts.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::IpAddr;
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
    /// The person acting for a department (a department portal user), if any.
    pub person: Option<String>,
}

impl Principal {
    /// A caller with no person behind the id (applicants, staff, department systems).
    pub fn new(role: Role, id: impl Into<String>) -> Self {
        Self {
            role,
            id: id.into(),
            person: None,
        }
    }

    /// How the audit log names this caller: `role:id`, or `department:DSAL/alice` for a
    /// department's user.
    pub fn actor(&self) -> String {
        match &self.person {
            Some(person) => format!("{}:{}/{person}", self.role.as_str(), self.id),
            None => format!("{}:{}", self.role.as_str(), self.id),
        }
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

/// Keys a limiter tracks by default; when its table is full, the least recently used key is
/// forgotten (memory stays bounded under a flood of distinct keys, and nobody new is refused
/// because of it).
pub const DEFAULT_TRACKED_KEYS: usize = 100_000;

/// A table of at most `capacity` keys that forgets the least recently touched key first.
#[derive(Debug)]
struct Recent<V> {
    capacity: usize,
    entries: HashMap<String, (u64, V)>,
    /// Touch stamp → key, oldest first.
    order: BTreeMap<u64, String>,
    clock: u64,
}

impl<V: Default> Recent<V> {
    fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            entries: HashMap::new(),
            order: BTreeMap::new(),
            clock: 0,
        }
    }

    /// The value of `key` (a default one if new), now the most recently touched.
    fn touch(&mut self, key: &str) -> &mut V {
        self.clock += 1;
        let stamp = self.clock;
        if let Some((old, _)) = self.entries.get(key) {
            let old = *old;
            self.order.remove(&old);
        } else {
            while self.entries.len() >= self.capacity {
                let Some((_, oldest)) = self.order.pop_first() else {
                    break;
                };
                self.entries.remove(&oldest);
            }
        }
        self.order.insert(stamp, key.to_owned());
        let entry = self
            .entries
            .entry(key.to_owned())
            .or_insert_with(|| (stamp, V::default()));
        entry.0 = stamp;
        &mut entry.1
    }

    fn get(&self, key: &str) -> Option<&V> {
        self.entries.get(key).map(|(_, v)| v)
    }

    fn remove(&mut self, key: &str) {
        if let Some((stamp, _)) = self.entries.remove(key) {
            self.order.remove(&stamp);
        }
    }

    fn len(&self) -> usize {
        self.entries.len()
    }
}

fn locked<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A sliding-window limiter: at most `limit` events per key within `window`, over at most
/// `capacity` keys (least recently used forgotten first).
#[derive(Debug)]
pub struct RateLimiter {
    limit: usize,
    window: Duration,
    events: Mutex<Recent<VecDeque<Instant>>>,
}

impl RateLimiter {
    /// A limiter of `limit` events per `window` tracking at most `capacity` keys.
    pub fn new(limit: usize, window: Duration, capacity: usize) -> Self {
        Self {
            limit,
            window,
            events: Mutex::new(Recent::new(capacity)),
        }
    }

    /// Records an event for `key`; `Err(retry_after)` if the key is over its limit.
    pub fn hit(&self, key: &str) -> Result<(), Duration> {
        let now = Instant::now();
        let mut table = locked(&self.events);
        let queue = table.touch(key);
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

    /// Takes back the latest event of `key` (an attempt that turned out to be legitimate).
    pub fn forgive(&self, key: &str) {
        let mut table = locked(&self.events);
        if table.get(key).is_some() {
            table.touch(key).pop_back();
        }
    }

    /// Forgets a key (after a successful sign-in).
    pub fn clear(&self, key: &str) {
        locked(&self.events).remove(key);
    }

    /// Keys tracked now.
    pub fn tracked(&self) -> usize {
        locked(&self.events).len()
    }
}

/// Sign-in attempts allowed per (account name, client address) in [`SIGN_IN_WINDOW`]; a
/// successful sign-in clears the count.
pub const ATTEMPTS_PER_NAME_AND_ADDRESS: usize = 5;
/// Failed sign-in attempts allowed per client address (IPv6: per /64) in
/// [`SIGN_IN_WINDOW`], whatever the names tried.
pub const FAILURES_PER_ADDRESS: usize = 20;
/// The window of both counts.
pub const SIGN_IN_WINDOW: Duration = Duration::from_secs(15 * 60);
/// Consecutive failures for a name (from anywhere) before its checks are spaced out.
pub const FAILURES_BEFORE_BACKOFF: u32 = 3;
/// The first spacing; it doubles with each further failure, up to [`MAX_BACKOFF`].
pub const FIRST_BACKOFF: Duration = Duration::from_millis(250);
/// The longest spacing: an answer is delayed at most this long, never refused.
pub const MAX_BACKOFF: Duration = Duration::from_secs(4);

/// Consecutive failed sign-ins of one name.
#[derive(Debug, Default)]
struct Failures {
    count: u32,
    last: Option<Instant>,
}

/// The sign-in limits of one kind of credential (staff passwords, department secrets),
/// designed so that nobody can use them to keep an account's owner out:
/// - attempts per (name, address): someone guessing from one address is stopped there,
///   while the owner signing in from elsewhere is not;
/// - failures per address, whatever the names: one address cannot try many names;
/// - consecutive failures per name (from anywhere) space out the checks of that name with
///   an exponential back-off capped at [`MAX_BACKOFF`]: the answer is delayed, never
///   refused, so a correct password always gets in.
///
/// Each table holds at most `capacity` keys and forgets the least recently used first.
#[derive(Debug)]
pub struct SignInLimits {
    per_name_and_address: RateLimiter,
    per_address: RateLimiter,
    failures: Mutex<Recent<Failures>>,
}

/// How a sign-in attempt may go on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Check the credentials after waiting this long (the name's back-off; often zero).
    After(Duration),
    /// Refused: try again after this long.
    Refused(Duration),
}

impl SignInLimits {
    /// Limits tracking at most `capacity` keys per table.
    pub fn new(capacity: usize) -> Self {
        Self {
            per_name_and_address: RateLimiter::new(
                ATTEMPTS_PER_NAME_AND_ADDRESS,
                SIGN_IN_WINDOW,
                capacity,
            ),
            per_address: RateLimiter::new(FAILURES_PER_ADDRESS, SIGN_IN_WINDOW, capacity),
            failures: Mutex::new(Recent::new(capacity)),
        }
    }

    /// Before the credentials of `name` from `address` are checked.
    pub fn admit(&self, name: &str, address: IpAddr) -> Admission {
        let address = address_key(address);
        if let Err(retry) = self.per_address.hit(&address) {
            return Admission::Refused(retry);
        }
        if let Err(retry) = self.per_name_and_address.hit(&pair_key(name, &address)) {
            return Admission::Refused(retry);
        }
        Admission::After(self.backoff(name, Instant::now()))
    }

    /// The credentials were right: the name and the pair start afresh, and the attempt does
    /// not count against the address.
    pub fn succeeded(&self, name: &str, address: IpAddr) {
        let address = address_key(address);
        self.per_name_and_address.clear(&pair_key(name, &address));
        self.per_address.forgive(&address);
        locked(&self.failures).remove(name);
    }

    /// The credentials were wrong.
    pub fn failed(&self, name: &str) {
        let mut failures = locked(&self.failures);
        let entry = failures.touch(name);
        entry.count = entry.count.saturating_add(1);
        entry.last = Some(Instant::now());
    }

    /// How long a check of `name` must wait at `now`.
    fn backoff(&self, name: &str, now: Instant) -> Duration {
        let failures = locked(&self.failures);
        let Some(Failures {
            count,
            last: Some(last),
        }) = failures.get(name)
        else {
            return Duration::ZERO;
        };
        backoff_after(*count).saturating_sub(now.duration_since(*last))
    }

    /// Keys tracked now by each table (per pair, per address, per name).
    pub fn tracked(&self) -> (usize, usize, usize) {
        (
            self.per_name_and_address.tracked(),
            self.per_address.tracked(),
            locked(&self.failures).len(),
        )
    }
}

/// The spacing after `failures` consecutive failures.
pub fn backoff_after(failures: u32) -> Duration {
    if failures < FAILURES_BEFORE_BACKOFF {
        return Duration::ZERO;
    }
    let doublings = (failures - FAILURES_BEFORE_BACKOFF).min(16);
    FIRST_BACKOFF
        .saturating_mul(1 << doublings)
        .min(MAX_BACKOFF)
}

/// An address as the limits count it: IPv4 whole, IPv6 by its /64 (one subscriber's prefix),
/// IPv4-mapped IPv6 as IPv4.
fn address_key(address: IpAddr) -> String {
    match address {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

fn pair_key(name: &str, address: &str) -> String {
    format!("{address} {name}")
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
        let limiter = RateLimiter::new(3, Duration::from_secs(60), 100);
        for _ in 0..3 {
            assert!(limiter.hit("alice").is_ok());
        }
        let retry = limiter.hit("alice").expect_err("fourth attempt refused");
        assert!(retry <= Duration::from_secs(60));
        assert!(limiter.hit("bob").is_ok(), "keys are independent");
        limiter.forgive("alice");
        assert!(
            limiter.hit("alice").is_ok(),
            "a forgiven event frees a slot"
        );
        limiter.clear("alice");
        assert!(limiter.hit("alice").is_ok());
    }

    #[test]
    fn a_full_limiter_forgets_its_least_recently_used_keys_instead_of_refusing() {
        let limiter = RateLimiter::new(1, Duration::from_secs(600), 1_000);
        limiter.hit("kept").expect("first");
        for i in 0..200_000 {
            if i % 500 == 0 {
                // Touched now and then: stays among the recent keys.
                let _ = limiter.hit("kept");
            }
            limiter
                .hit(&format!("flood-{i}"))
                .expect("a new key is admitted");
        }
        assert_eq!(limiter.tracked(), 1_000);
        assert!(limiter.hit("kept").is_err(), "a recently used key is kept");
        assert!(
            limiter.hit("flood-0").is_ok(),
            "the oldest keys were forgotten"
        );
        assert!(limiter.hit("someone-new").is_ok());
    }

    const HERE: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 1));
    const THERE: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 2));

    fn admitted(limits: &SignInLimits, name: &str, address: IpAddr) -> bool {
        matches!(limits.admit(name, address), Admission::After(_))
    }

    #[test]
    fn guessing_from_one_address_does_not_keep_the_owner_out_elsewhere() {
        let limits = SignInLimits::new(DEFAULT_TRACKED_KEYS);
        for _ in 0..ATTEMPTS_PER_NAME_AND_ADDRESS {
            assert!(admitted(&limits, "clerk", THERE));
            limits.failed("clerk");
        }
        assert!(!admitted(&limits, "clerk", THERE), "the guesser is stopped");
        match limits.admit("clerk", HERE) {
            Admission::After(wait) => assert!(wait <= MAX_BACKOFF, "{wait:?}"),
            Admission::Refused(retry) => panic!("the owner was refused for {retry:?}"),
        }
        limits.succeeded("clerk", HERE);
        assert_eq!(
            limits.admit("clerk", HERE),
            Admission::After(Duration::ZERO),
            "a success ends the back-off"
        );
    }

    #[test]
    fn one_address_cannot_try_many_names() {
        let limits = SignInLimits::new(DEFAULT_TRACKED_KEYS);
        for i in 0..FAILURES_PER_ADDRESS {
            assert!(admitted(&limits, &format!("name-{i}"), THERE));
            limits.failed(&format!("name-{i}"));
        }
        assert!(!admitted(&limits, "another-name", THERE));
        assert!(admitted(&limits, "another-name", HERE));
        // Successes do not count against an address (an office behind one NAT).
        for i in 0..3 * FAILURES_PER_ADDRESS {
            assert!(admitted(&limits, &format!("staff-{i}"), HERE));
            limits.succeeded(&format!("staff-{i}"), HERE);
        }
        assert!(admitted(&limits, "one-more", HERE));
        // IPv6 addresses count by /64.
        let a: IpAddr = "2001:db8:1:2::1".parse().expect("v6");
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().expect("v6");
        for i in 0..FAILURES_PER_ADDRESS {
            assert!(admitted(&limits, &format!("v6-{i}"), a));
        }
        assert!(!admitted(&limits, "v6-next", b), "same /64");
    }

    #[test]
    fn the_back_off_doubles_and_stays_short() {
        assert_eq!(backoff_after(0), Duration::ZERO);
        assert_eq!(backoff_after(FAILURES_BEFORE_BACKOFF - 1), Duration::ZERO);
        assert_eq!(backoff_after(FAILURES_BEFORE_BACKOFF), FIRST_BACKOFF);
        assert_eq!(
            backoff_after(FAILURES_BEFORE_BACKOFF + 1),
            FIRST_BACKOFF * 2
        );
        assert_eq!(backoff_after(u32::MAX), MAX_BACKOFF);
        let limits = SignInLimits::new(10);
        for _ in 0..FAILURES_BEFORE_BACKOFF + 1 {
            limits.failed("officer");
        }
        match limits.admit("officer", HERE) {
            Admission::After(wait) => {
                assert!(
                    wait > Duration::ZERO && wait <= FIRST_BACKOFF * 2,
                    "{wait:?}"
                );
            }
            Admission::Refused(retry) => panic!("refused for {retry:?}"),
        }
        assert_eq!(
            limits.admit("other", HERE),
            Admission::After(Duration::ZERO)
        );
    }

    #[test]
    fn a_flood_of_200_000_client_ids_leaves_the_limits_bounded_and_open() {
        let limits = SignInLimits::new(DEFAULT_TRACKED_KEYS);
        for i in 0..200_000_u32 {
            let [_, a, b, c] = i.to_be_bytes();
            let address = IpAddr::V4(std::net::Ipv4Addr::new(10, a, b, c));
            let _ = limits.admit(&format!("client-{i}"), address);
            limits.failed(&format!("client-{i}"));
        }
        let (pairs, addresses, names) = limits.tracked();
        assert!(pairs <= DEFAULT_TRACKED_KEYS && addresses <= DEFAULT_TRACKED_KEYS);
        assert!(names <= DEFAULT_TRACKED_KEYS);
        assert_eq!(
            limits.admit("DSAL", HERE),
            Admission::After(Duration::ZERO),
            "a new client is still admitted"
        );
    }

    #[test]
    fn roles_round_trip() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("root"), None);
    }
}
