//! Status lists and trust bundles fetched from the issuer, cached by their own freshness
//! rules (SPEC §5), and the signed clock floor.
//!
//! The freshness rules live in [`Fetcher`]; where the copies are kept is a [`CacheStore`]:
//! [`DiskCache`] for the command line (a process per check, so the cache must outlive it) and
//! [`MemoryCache`] for `verifier serve` (no writes to disk; a restart only costs requests).
//!
//! A list younger than its `ttl` is used without a request; an older one is refetched, and
//! kept only if the fetch fails (then "status as of" applies until its `exp`).

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use time::OffsetDateTime;

use ccr_pki::chain::TrustRoot;
use ccr_pki::hierarchy::Revocation;
use ccr_pki::status_list::SignedStatusList;

use crate::status;
use crate::trust::Trusted;

/// Largest response accepted.
pub const MAX_RESPONSE_BYTES: u64 = 4 * 1024 * 1024;
/// Time allowed for one request.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// A cached trust bundle is refetched after this long.
pub const BUNDLE_MAX_AGE: time::Duration = time::Duration::hours(1);
/// How far a clock may lag a signed time before it is refused.
pub const CLOCK_SKEW: time::Duration = time::Duration::seconds(60);

/// Where fetched copies are kept. Implementations only store and load; every freshness
/// decision is the [`Fetcher`]'s, so the command line and the service judge alike.
pub trait CacheStore: Send + Sync + std::fmt::Debug {
    /// The last list stored for `url`, authenticated against `root`.
    fn status_list(&self, url: &str, root: &TrustRoot) -> Option<Arc<SignedStatusList>>;
    /// Keeps an authenticated list fetched from `url` (its signed bytes and its reading).
    fn put_status_list(&self, url: &str, bytes: &[u8], list: &Arc<SignedStatusList>);
    /// The signed bytes of the last list stored for `url` (not re-authenticated).
    fn status_list_cwt(&self, url: &str) -> Option<Vec<u8>>;
    /// The document (trust bundle) stored for `url`, and when it was stored.
    fn document(&self, url: &str) -> Option<(Vec<u8>, OffsetDateTime)>;
    /// Keeps a document fetched from `url` at `now`.
    fn put_document(&self, url: &str, bytes: &[u8], now: OffsetDateTime);
    /// The newest signed time seen.
    fn clock_floor(&self) -> Option<OffsetDateTime>;
    /// Records a signed time seen (the store keeps the newest).
    fn raise_clock_floor(&self, seen: OffsetDateTime);
    /// The highest trust-bundle sequence seen from `issuer` (SPEC §10).
    fn bundle_floor(&self, issuer: &str) -> Option<u64>;
    /// Records a bundle sequence seen from `issuer` (the store keeps the highest).
    fn raise_bundle_floor(&self, issuer: &str, sequence: u64);
}

/// The command line's cache: one file per URL (named by the SHA-256 of the URL) holding the
/// last authenticated copy, and `clock-floor` holding the newest signed `iat` seen. Files are
/// re-authenticated when read: the folder is not trusted.
#[derive(Debug, Clone)]
pub struct DiskCache {
    dir: PathBuf,
}

impl DiskCache {
    /// A cache in `dir` (created when first written).
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    fn path_for(&self, url: &str) -> PathBuf {
        use sha2::Digest;
        self.dir
            .join(hex::encode(sha2::Sha256::digest(url.as_bytes())))
    }

    fn floor_path(&self) -> PathBuf {
        self.dir.join("clock-floor")
    }

    fn bundle_floor_path(&self, issuer: &str) -> PathBuf {
        let mut name = self.path_for(issuer).into_os_string();
        name.push(".bundle-floor");
        PathBuf::from(name)
    }

    fn store(&self, path: &Path, bytes: &[u8]) {
        // A cache that cannot be written only costs a request next time.
        if std::fs::create_dir_all(&self.dir).is_ok() {
            let temp = path.with_extension(format!("{}.tmp", std::process::id()));
            if std::fs::write(&temp, bytes).is_ok() && std::fs::rename(&temp, path).is_err() {
                let _ = std::fs::remove_file(&temp);
            }
        }
    }
}

impl CacheStore for DiskCache {
    fn status_list(&self, url: &str, root: &TrustRoot) -> Option<Arc<SignedStatusList>> {
        let bytes = std::fs::read(self.path_for(url)).ok()?;
        status::authenticate(&bytes, root).ok().map(Arc::new)
    }

    fn put_status_list(&self, url: &str, bytes: &[u8], _list: &Arc<SignedStatusList>) {
        self.store(&self.path_for(url), bytes);
    }

    fn status_list_cwt(&self, url: &str) -> Option<Vec<u8>> {
        std::fs::read(self.path_for(url)).ok()
    }

    fn document(&self, url: &str) -> Option<(Vec<u8>, OffsetDateTime)> {
        let path = self.path_for(url);
        let stored = std::fs::metadata(&path).and_then(|m| m.modified()).ok()?;
        Some((std::fs::read(&path).ok()?, OffsetDateTime::from(stored)))
    }

    fn put_document(&self, url: &str, bytes: &[u8], _now: OffsetDateTime) {
        // The file's mtime records when it was stored.
        self.store(&self.path_for(url), bytes);
    }

    fn clock_floor(&self) -> Option<OffsetDateTime> {
        let text = std::fs::read_to_string(self.floor_path()).ok()?;
        OffsetDateTime::from_unix_timestamp(text.trim().parse().ok()?).ok()
    }

    fn raise_clock_floor(&self, seen: OffsetDateTime) {
        if self.clock_floor().is_none_or(|floor| floor < seen) {
            let path = self.floor_path();
            self.store(&path, seen.unix_timestamp().to_string().as_bytes());
        }
    }

    fn bundle_floor(&self, issuer: &str) -> Option<u64> {
        let text = std::fs::read_to_string(self.bundle_floor_path(issuer)).ok()?;
        text.trim().parse().ok()
    }

    fn raise_bundle_floor(&self, issuer: &str, sequence: u64) {
        if self
            .bundle_floor(issuer)
            .is_none_or(|floor| floor < sequence)
        {
            let path = self.bundle_floor_path(issuer);
            self.store(&path, sequence.to_string().as_bytes());
        }
    }
}

/// Most entries a [`MemoryCache`] map holds before it starts over. Lists are stored only once
/// authenticated, but bundles come from URLs that unauthenticated tokens name (when no issuer
/// is configured), so the maps must not grow without bound.
pub const MAX_MEMORY_ENTRIES: usize = 256;

/// Largest document a [`MemoryCache`] keeps (a trust bundle is far smaller).
pub const MAX_MEMORY_DOCUMENT_BYTES: usize = ccr_pki::bundle::signed::MAX_SIGNED_BUNDLE_BYTES;

/// A document's bytes and when they were stored.
type StoredDocument = (Arc<[u8]>, OffsetDateTime);

/// An authenticated list and the signed bytes it was read from.
type KeptList = (Arc<SignedStatusList>, Arc<[u8]>);

/// The service's cache: authenticated lists kept as read (no re-authentication per request),
/// bundles with the time they were fetched, and the clock floor; nothing touches the disk.
#[derive(Debug)]
pub struct MemoryCache {
    /// Authenticated lists, with the signed bytes they were read from.
    lists: RwLock<HashMap<String, KeptList>>,
    documents: RwLock<HashMap<String, StoredDocument>>,
    /// Unix seconds; `i64::MIN` until a signed time is seen.
    floor: AtomicI64,
    /// The highest bundle sequence seen, by issuer (only from authenticated bundles).
    bundle_floors: RwLock<HashMap<String, u64>>,
}

impl Default for MemoryCache {
    fn default() -> Self {
        Self {
            lists: RwLock::default(),
            documents: RwLock::default(),
            floor: AtomicI64::new(i64::MIN),
            bundle_floors: RwLock::default(),
        }
    }
}

fn bounded_insert<V>(map: &RwLock<HashMap<String, V>>, key: &str, value: V) {
    let mut map = map.write().unwrap_or_else(PoisonError::into_inner);
    if map.len() >= MAX_MEMORY_ENTRIES && !map.contains_key(key) {
        map.clear();
    }
    map.insert(key.to_owned(), value);
}

impl CacheStore for MemoryCache {
    fn status_list(&self, url: &str, _root: &TrustRoot) -> Option<Arc<SignedStatusList>> {
        // Only authenticated lists are ever stored.
        self.lists
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(url)
            .map(|(list, _)| Arc::clone(list))
    }

    fn put_status_list(&self, url: &str, bytes: &[u8], list: &Arc<SignedStatusList>) {
        bounded_insert(&self.lists, url, (Arc::clone(list), Arc::from(bytes)));
    }

    fn status_list_cwt(&self, url: &str) -> Option<Vec<u8>> {
        self.lists
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(url)
            .map(|(_, bytes)| bytes.to_vec())
    }

    fn document(&self, url: &str) -> Option<(Vec<u8>, OffsetDateTime)> {
        self.documents
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(url)
            .map(|(bytes, at)| (bytes.to_vec(), *at))
    }

    fn put_document(&self, url: &str, bytes: &[u8], now: OffsetDateTime) {
        if bytes.len() <= MAX_MEMORY_DOCUMENT_BYTES {
            bounded_insert(&self.documents, url, (Arc::from(bytes), now));
        }
    }

    fn clock_floor(&self) -> Option<OffsetDateTime> {
        match self.floor.load(Ordering::Relaxed) {
            i64::MIN => None,
            secs => OffsetDateTime::from_unix_timestamp(secs).ok(),
        }
    }

    fn raise_clock_floor(&self, seen: OffsetDateTime) {
        self.floor
            .fetch_max(seen.unix_timestamp(), Ordering::Relaxed);
    }

    fn bundle_floor(&self, issuer: &str) -> Option<u64> {
        self.bundle_floors
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(issuer)
            .copied()
    }

    fn raise_bundle_floor(&self, issuer: &str, sequence: u64) {
        let mut floors = self
            .bundle_floors
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        // Never cleared when full: forgetting a floor would let an old bundle back in.
        // Floors are raised only by bundles signed under the one configured root, so the
        // map holds that bureau's issuer URLs.
        let floor = floors.entry(issuer.to_owned()).or_insert(sequence);
        *floor = (*floor).max(sequence);
    }
}

/// A bundle accepted from a copy stored at that time.
type AcceptedBundle = (OffsetDateTime, Arc<Trusted>);

/// Fetches the issuer's published documents through a [`CacheStore`].
#[derive(Debug, Clone)]
pub struct Fetcher {
    store: Arc<dyn CacheStore>,
    timeout: Duration,
    /// Held while refreshing, so that many requests finding the same copy stale make one
    /// fetch, not one each.
    refresh: Arc<Mutex<()>>,
    /// The last bundle accepted per URL, by the time its copy was stored: a cached copy is
    /// opened (two signature checks) once, not on every verification.
    accepted: Arc<Mutex<HashMap<String, AcceptedBundle>>>,
}

/// Where a status list came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A cached copy younger than its ttl: no request made.
    FreshCache,
    /// Fetched now.
    Network,
    /// The fetch failed; the last cached copy is used.
    StaleCache,
}

/// GETs `url` with the default request timeout and the size limit.
pub fn get(url: &str) -> Result<Vec<u8>, String> {
    get_within(url, REQUEST_TIMEOUT)
}

/// GETs `url`, giving up after `timeout`, reading at most [`MAX_RESPONSE_BYTES`].
pub fn get_within(url: &str, timeout: Duration) -> Result<Vec<u8>, String> {
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(format!("{url}: only http and https URLs are fetched"));
    }
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .build()
        .into();
    let response = agent.get(url).call().map_err(|e| format!("{url}: {e}"))?;
    let mut body = Vec::new();
    response
        .into_body()
        .into_reader()
        .take(MAX_RESPONSE_BYTES + 1)
        .read_to_end(&mut body)
        .map_err(|e| format!("{url}: {e}"))?;
    if body.len() as u64 > MAX_RESPONSE_BYTES {
        return Err(format!(
            "{url}: response exceeds {MAX_RESPONSE_BYTES} bytes"
        ));
    }
    Ok(body)
}

/// A cached list is fresh at `now` while younger than its ttl (and not from the future).
fn is_fresh(list: &SignedStatusList, now: OffsetDateTime) -> bool {
    let age = now - list.issued_at;
    age >= time::Duration::ZERO
        && age.whole_seconds() < i64::try_from(list.ttl_seconds).unwrap_or(i64::MAX)
}

impl Fetcher {
    /// A fetcher caching on disk in `dir` (created if missing): the command line's.
    pub fn new(dir: PathBuf) -> Self {
        Self::with_store(Arc::new(DiskCache::new(dir)))
    }

    /// A fetcher caching in memory only: the service's.
    pub fn in_memory() -> Self {
        Self::with_store(Arc::new(MemoryCache::default()))
    }

    /// A fetcher over any store.
    pub fn with_store(store: Arc<dyn CacheStore>) -> Self {
        Self {
            store,
            timeout: REQUEST_TIMEOUT,
            refresh: Arc::default(),
            accepted: Arc::default(),
        }
    }

    /// Gives up on a request after `timeout` instead of [`REQUEST_TIMEOUT`].
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The default cache folder: `$XDG_CACHE_HOME/ccr-verifier` or `~/.cache/ccr-verifier`.
    pub fn default_dir() -> PathBuf {
        std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
            .unwrap_or_else(std::env::temp_dir)
            .join("ccr-verifier")
    }

    /// The status list at `url`, authenticated against `root`, as fresh as the rules allow
    /// at `now`.
    pub fn status_list(
        &self,
        url: &str,
        root: &TrustRoot,
        now: OffsetDateTime,
    ) -> Result<(SignedStatusList, Origin), String> {
        self.shared_status_list(url, root, now)
            .map(|(list, origin)| (Arc::unwrap_or_clone(list), origin))
    }

    /// Like [`Fetcher::status_list`], sharing the cached copy instead of cloning it.
    pub fn shared_status_list(
        &self,
        url: &str,
        root: &TrustRoot,
        now: OffsetDateTime,
    ) -> Result<(Arc<SignedStatusList>, Origin), String> {
        let cached = || {
            self.store
                .status_list(url, root)
                .filter(|list| list.uri == url)
        };
        if let Some(list) = cached().filter(|list| is_fresh(list, now)) {
            self.store.raise_clock_floor(list.issued_at);
            return Ok((list, Origin::FreshCache));
        }
        let _refreshing = self.refresh.lock().unwrap_or_else(PoisonError::into_inner);
        // Another caller may have refreshed the copy while this one waited.
        let cached = cached();
        if let Some(list) = cached.as_ref().filter(|list| is_fresh(list, now)) {
            return Ok((Arc::clone(list), Origin::FreshCache));
        }
        let fetched = get_within(url, self.timeout).and_then(|bytes| {
            let list = status::authenticate(&bytes, root)?;
            if list.uri != url {
                return Err(format!("{url} served the status list of {}", list.uri));
            }
            Ok((Arc::new(list), bytes))
        });
        match (fetched, cached) {
            (Ok((list, bytes)), cached) => {
                // Never replace a newer copy by an older one (a replayed response).
                if cached
                    .as_ref()
                    .is_none_or(|c| c.issued_at <= list.issued_at)
                {
                    self.store.put_status_list(url, &bytes, &list);
                }
                self.store.raise_clock_floor(list.issued_at);
                Ok((list, Origin::Network))
            }
            (Err(_), Some(list)) => Ok((list, Origin::StaleCache)),
            (Err(e), None) => Err(e),
        }
    }

    /// The signed bytes (CWT) of `list`, a list this fetcher gave for `url`, for an evidence
    /// bundle (SPEC §11): the bytes kept are authenticated again and must read as `list`, so
    /// a bundle never records a list other than the one the verdict used.
    pub fn status_list_cwt(
        &self,
        url: &str,
        root: &TrustRoot,
        list: &SignedStatusList,
    ) -> Option<Vec<u8>> {
        let bytes = self.store.status_list_cwt(url)?;
        let read = status::authenticate(&bytes, root).ok()?;
        (read == *list).then_some(bytes)
    }

    /// The trust bundle at `url` (cached for [`BUNDLE_MAX_AGE`]), accepted as
    /// [`crate::trust::accept`] says. A fetched bundle that is refused (older than one seen,
    /// or not signed by the bureau) never replaces the cached copy, which is used instead.
    pub fn trusted_bundle(
        &self,
        url: &str,
        root: &TrustRoot,
        now: OffsetDateTime,
    ) -> Result<Arc<Trusted>, String> {
        let fresh = |stored: &OffsetDateTime| {
            now - *stored < BUNDLE_MAX_AGE && *stored <= now.saturating_add(CLOCK_SKEW)
        };
        let memo = |stored: OffsetDateTime| {
            let accepted = self.accepted.lock().unwrap_or_else(PoisonError::into_inner);
            accepted
                .get(url)
                .filter(|(at, _)| *at == stored)
                .map(|(_, trusted)| Arc::clone(trusted))
        };
        let accept_unrevoked = |bytes: &[u8], stored: OffsetDateTime, revoked: &[Revocation]| {
            let trusted = Arc::new(crate::trust::accept(
                bytes,
                root,
                revoked,
                now,
                self.store.as_ref(),
            )?);
            let mut accepted = self.accepted.lock().unwrap_or_else(PoisonError::into_inner);
            if accepted.len() >= MAX_MEMORY_ENTRIES {
                accepted.clear();
            }
            accepted.insert(url.to_owned(), (stored, Arc::clone(&trusted)));
            Ok::<_, String>(trusted)
        };
        // A copy stored earlier was checked against the root's CRL when it was fetched.
        let accept = |bytes: &[u8], stored: OffsetDateTime| accept_unrevoked(bytes, stored, &[]);
        if let Some((bytes, stored)) = self.store.document(url).filter(|(_, at)| fresh(at)) {
            return memo(stored).map_or_else(|| accept(&bytes, stored), Ok);
        }
        let _refreshing = self.refresh.lock().unwrap_or_else(PoisonError::into_inner);
        let cached = self.store.document(url);
        if let Some((bytes, stored)) = cached.as_ref().filter(|(_, at)| fresh(at)) {
            return memo(*stored).map_or_else(|| accept(bytes, *stored), Ok);
        }
        let fetched = get_within(url, self.timeout).and_then(|bytes| {
            let revoked = self.root_revocations(url, root);
            let trusted = accept_unrevoked(&bytes, now, &revoked)?;
            self.store.put_document(url, &bytes, now);
            Ok(trusted)
        });
        match (fetched, cached) {
            (Ok(trusted), _) => Ok(trusted),
            (Err(why), Some((bytes, stored))) => {
                eprintln!("verifier: {url}: {why}; using the bundle cached before");
                accept(&bytes, stored)
            }
            (Err(why), None) => Err(why),
        }
    }

    /// Accepts a bundle given as bytes (a file), against the floors this fetcher's store
    /// keeps ([`crate::trust::accept`]).
    pub fn accept_bundle(
        &self,
        bytes: &[u8],
        root: &TrustRoot,
        now: OffsetDateTime,
    ) -> Result<Arc<Trusted>, String> {
        crate::trust::accept(bytes, root, &[], now, self.store.as_ref()).map(Arc::new)
    }

    /// The root's revocations of issuing CAs, from `<issuer>/crl/root.crl` beside a bundle
    /// URL `<issuer>/trust`: the newest CRL the root signed among the one fetched now and
    /// the one kept in the store, so that a host serving an older CRL cannot take a
    /// revocation back. Empty (and logged) when neither is at hand: the bundle's own checks
    /// still apply.
    pub fn root_revocations(&self, bundle_url: &str, root: &TrustRoot) -> Vec<Revocation> {
        let Some(issuer) = bundle_url.strip_suffix("/trust") else {
            return Vec::new();
        };
        let url = format!("{issuer}/crl/root.crl");
        let Ok(root_cert) = ccr_pki::hierarchy::parse_certificate(root.der()) else {
            return Vec::new();
        };
        let open = |bytes: Vec<u8>| {
            ccr_pki::hierarchy::verify_crl(&bytes, &root_cert)
                .map(|crl| (bytes, crl))
                .map_err(|e| e.to_string())
        };
        let fetched = get_within(&url, self.timeout).and_then(open);
        let kept = self
            .store
            .document(&url)
            .and_then(|(bytes, _)| open(bytes).ok());
        let newest = match (fetched, kept) {
            (Ok(fetched), Some(kept)) if kept.1.number > fetched.1.number => kept,
            (Ok((bytes, crl)), _) => {
                self.store
                    .put_document(&url, &bytes, OffsetDateTime::now_utc());
                (bytes, crl)
            }
            (Err(_), Some(kept)) => kept,
            (Err(why), None) => {
                eprintln!("verifier: the root's CRL is not at hand ({why})");
                return Vec::new();
            }
        };
        newest.1.revoked
    }

    /// The newest signed time seen so far.
    pub fn clock_floor(&self) -> Option<OffsetDateTime> {
        self.store.clock_floor()
    }

    /// Refuses a clock earlier than the newest signed time seen (SPEC §5).
    pub fn check_clock(&self, now: OffsetDateTime) -> Result<(), String> {
        match self.clock_floor() {
            Some(floor) if now.saturating_add(CLOCK_SKEW) < floor => Err(format!(
                "the clock ({now}) is earlier than a status list already seen signed at {floor}; \
                 correct the clock (the trusted time never goes back)"
            )),
            _ => Ok(()),
        }
    }
}

/// Whether `uri` is a status list published by `issuer` (`<issuer>/status/<list>`): with an
/// issuer configured, nothing else is fetched.
pub fn is_status_list_of(issuer: &str, uri: &str) -> bool {
    uri.strip_prefix(issuer)
        .is_some_and(|rest| rest.starts_with("/status/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_memory_floor_only_rises() {
        let cache = MemoryCache::default();
        assert!(cache.clock_floor().is_none());
        let t = OffsetDateTime::from_unix_timestamp(1_800_000_000).expect("time");
        cache.raise_clock_floor(t);
        cache.raise_clock_floor(t - time::Duration::hours(1));
        assert_eq!(cache.clock_floor(), Some(t));
    }

    #[test]
    fn memory_documents_are_bounded() {
        let cache = MemoryCache::default();
        let now = OffsetDateTime::now_utc();
        for i in 0..MAX_MEMORY_ENTRIES + 10 {
            cache.put_document(&format!("http://h/{i}"), b"x", now);
        }
        let len = cache
            .documents
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len();
        assert!(len <= MAX_MEMORY_ENTRIES);
        cache.put_document("http://big", &vec![0; MAX_MEMORY_DOCUMENT_BYTES + 1], now);
        assert!(cache.document("http://big").is_none());
    }

    #[test]
    fn a_stale_bundle_is_served_when_the_issuer_is_unreachable() {
        let (root, signed) = crate::trust::tests::signed_bundle(3);
        let fetcher = Fetcher::in_memory().with_timeout(Duration::from_secs(2));
        // Port 9 (discard) on loopback: nothing listens in a test environment.
        let url = "http://127.0.0.1:9/trust";
        let long_ago = OffsetDateTime::now_utc() - time::Duration::hours(2);
        fetcher.store.put_document(url, &signed, long_ago);
        let got = fetcher
            .trusted_bundle(url, &root, OffsetDateTime::now_utc())
            .expect("the cached bundle");
        assert_eq!(got.sequence, Some(3));
    }
}
