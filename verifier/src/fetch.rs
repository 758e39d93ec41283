//! Status lists and trust bundles fetched from the issuer, cached by their own freshness
//! rules (SPEC §5), and the signed clock floor.
//!
//! The cache is the verifier's only state and is disposable: one file per URL (named by the
//! SHA-256 of the URL) holding the last authenticated copy, and `clock-floor` holding the
//! newest signed `iat` seen. A list younger than its `ttl` is used without a request; an
//! older one is refetched, and kept only if the fetch fails (then "status as of" applies
//! until its `exp`).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use time::OffsetDateTime;

use ccr_pki::chain::TrustRoot;
use ccr_pki::status_list::SignedStatusList;

use crate::status;

/// Largest response accepted.
pub const MAX_RESPONSE_BYTES: u64 = 4 * 1024 * 1024;
/// Time allowed for one request.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// A cached trust bundle is refetched after this long.
pub const BUNDLE_MAX_AGE: time::Duration = time::Duration::hours(1);
/// How far a clock may lag a signed time before it is refused.
pub const CLOCK_SKEW: time::Duration = time::Duration::seconds(60);

/// Fetches and caches the issuer's published documents.
#[derive(Debug, Clone)]
pub struct Fetcher {
    cache_dir: PathBuf,
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

/// GETs `url` with the request and size limits.
pub fn get(url: &str) -> Result<Vec<u8>, String> {
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(format!("{url}: only http and https URLs are fetched"));
    }
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(REQUEST_TIMEOUT))
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

impl Fetcher {
    /// A fetcher caching in `dir` (created if missing).
    pub fn new(dir: PathBuf) -> Self {
        Self { cache_dir: dir }
    }

    /// The default cache folder: `$XDG_CACHE_HOME/ccr-verifier` or `~/.cache/ccr-verifier`.
    pub fn default_dir() -> PathBuf {
        std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
            .unwrap_or_else(std::env::temp_dir)
            .join("ccr-verifier")
    }

    fn path_for(&self, url: &str) -> PathBuf {
        use sha2::Digest;
        self.cache_dir
            .join(hex::encode(sha2::Sha256::digest(url.as_bytes())))
    }

    fn store(&self, path: &Path, bytes: &[u8]) {
        // A cache that cannot be written only costs a request next time.
        if std::fs::create_dir_all(&self.cache_dir).is_ok() {
            let temp = path.with_extension(format!("{}.tmp", std::process::id()));
            if std::fs::write(&temp, bytes).is_ok() && std::fs::rename(&temp, path).is_err() {
                let _ = std::fs::remove_file(&temp);
            }
        }
    }

    /// The status list at `url`, authenticated against `root`, as fresh as the rules allow
    /// at `now`.
    pub fn status_list(
        &self,
        url: &str,
        root: &TrustRoot,
        now: OffsetDateTime,
    ) -> Result<(SignedStatusList, Origin), String> {
        let path = self.path_for(url);
        let cached = std::fs::read(&path)
            .ok()
            .and_then(|bytes| status::authenticate(&bytes, root).ok());
        let cached = cached.filter(|list| list.uri == url);
        if let Some(list) = &cached {
            let age = now - list.issued_at;
            if age >= time::Duration::ZERO
                && age.whole_seconds() < i64::try_from(list.ttl_seconds).unwrap_or(i64::MAX)
            {
                self.raise_floor(list.issued_at);
                return Ok((list.clone(), Origin::FreshCache));
            }
        }
        let fetched = get(url).and_then(|bytes| {
            let list = status::authenticate(&bytes, root)?;
            if list.uri != url {
                return Err(format!("{url} served the status list of {}", list.uri));
            }
            Ok((list, bytes))
        });
        match (fetched, cached) {
            (Ok((list, bytes)), cached) => {
                // Never replace a newer copy by an older one (a replayed response).
                if cached
                    .as_ref()
                    .is_none_or(|c| c.issued_at <= list.issued_at)
                {
                    self.store(&path, &bytes);
                }
                self.raise_floor(list.issued_at);
                Ok((list, Origin::Network))
            }
            (Err(_), Some(list)) => Ok((list, Origin::StaleCache)),
            (Err(e), None) => Err(e),
        }
    }

    /// The PEM trust bundle at `url` (cached for [`BUNDLE_MAX_AGE`]).
    pub fn bundle(&self, url: &str, now: OffsetDateTime) -> Result<Vec<u8>, String> {
        let path = self.path_for(url);
        let fresh = std::fs::metadata(&path)
            .and_then(|m| m.modified())
            .ok()
            .map(OffsetDateTime::from)
            .is_some_and(|at| now - at < BUNDLE_MAX_AGE && at <= now + CLOCK_SKEW);
        if let Some(bytes) = fresh.then(|| std::fs::read(&path).ok()).flatten() {
            return Ok(bytes);
        }
        match get(url) {
            Ok(bytes) => {
                self.store(&path, &bytes);
                Ok(bytes)
            }
            Err(e) => std::fs::read(&path).map_err(|_| e),
        }
    }

    fn floor_path(&self) -> PathBuf {
        self.cache_dir.join("clock-floor")
    }

    /// The newest signed time seen so far.
    pub fn clock_floor(&self) -> Option<OffsetDateTime> {
        let text = std::fs::read_to_string(self.floor_path()).ok()?;
        OffsetDateTime::from_unix_timestamp(text.trim().parse().ok()?).ok()
    }

    fn raise_floor(&self, seen: OffsetDateTime) {
        if self.clock_floor().is_none_or(|floor| floor < seen) {
            let path = self.floor_path();
            self.store(&path, seen.unix_timestamp().to_string().as_bytes());
        }
    }

    /// Refuses a clock earlier than the newest signed time seen (SPEC §5).
    pub fn check_clock(&self, now: OffsetDateTime) -> Result<(), String> {
        match self.clock_floor() {
            Some(floor) if now + CLOCK_SKEW < floor => Err(format!(
                "the clock ({now}) is earlier than a status list already seen signed at {floor}; \
                 correct the clock (the trusted time never goes back)"
            )),
            _ => Ok(()),
        }
    }
}

/// The issuer's base URL from a status list URI (`<base>/status/<list>`).
pub fn issuer_base(status_uri: &str) -> Option<&str> {
    status_uri.rsplit_once("/status/").map(|(base, _)| base)
}
