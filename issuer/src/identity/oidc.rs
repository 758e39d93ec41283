//! Applicant sign-in through OpenID Connect (in production: Macao One Account).
//!
//! Authorization-code flow with PKCE (S256) for a confidential client: [`OidcProvider::start`]
//! builds the authorization URL and a [`PendingLogin`] the caller keeps server-side, keyed by
//! `state`; [`OidcProvider::finish`] exchanges the returned code and verifies the ID token.
//!
//! Every network call here is blocking (ureq): run it inside `tokio::task::spawn_blocking`.
//! Everything read from the network is bounded (size, time, key count), and no client secret,
//! code, verifier, nonce or token ever appears in a `Debug` output or an error message.

use std::fmt;
use std::fs::File;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rand::RngCore as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use time::OffsetDateTime;

/// Time limit for each HTTP request (connect, send and read), so a stuck IdP cannot hold a
/// blocking thread for long.
pub const HTTP_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest discovery, JWKS or token response body read, so a hostile IdP cannot exhaust memory.
pub const MAX_RESPONSE_BYTES: u64 = 256 * 1024;
/// Largest ID token accepted; real ones are a few KiB.
pub const MAX_ID_TOKEN_BYTES: usize = 16 * 1024;
/// Most keys accepted in a JWKS; real IdPs publish two or three.
pub const MAX_JWKS_KEYS: usize = 20;
/// Clock skew tolerated between us and the IdP for `exp`, `iat` and `nbf`.
pub const CLOCK_LEEWAY: time::Duration = time::Duration::seconds(60);
/// How long a [`PendingLogin`] stays usable; callers may purge older ones.
pub const PENDING_LOGIN_LIFETIME: time::Duration = time::Duration::minutes(10);
/// Least time between two JWKS refetches triggered by an unknown `kid`, so forged or stray
/// tokens cannot make us hammer the IdP.
pub const JWKS_REFRESH_INTERVAL: time::Duration = time::Duration::seconds(60);

const MAX_SECRET_FILE_BYTES: u64 = 4096;
const MAX_CODE_BYTES: usize = 4096;
const MAX_SUBJECT_BYTES: usize = 255;
const MAX_URL_BYTES: usize = 2048;
/// Random bytes in `state`, `nonce` and the PKCE verifier (256 bits; 43 base64url chars).
const RANDOM_BYTES: usize = 32;

/// The `[oidc]` section of issuer.toml: which IdP to trust and how we are registered with it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcConfig {
    /// Issuer identifier, compared exactly with the discovery document's `issuer`; discovery is
    /// fetched from `{issuer}/.well-known/openid-configuration`.
    pub issuer: String,
    /// Our client id at the IdP; ID tokens must be addressed to it.
    pub client_id: String,
    /// File holding the client secret (kept out of issuer.toml); refused if group/other can
    /// access it.
    pub client_secret_file: PathBuf,
    /// Our callback URL, registered at the IdP.
    pub redirect_uri: String,
    /// Scopes requested; must include `openid`.
    #[serde(default = "default_scopes")]
    pub scopes: Vec<String>,
    /// Allows `http://` for a loopback IdP (127.0.0.1, [::1], localhost) in tests and local
    /// development; any other host always needs https.
    #[serde(default)]
    pub allow_insecure_http: bool,
    /// The ID-token claim in which the IdP states the identity document it verified, as an
    /// object `{"type": "BIR", "number": "1234567(8)"}` (none when unset). The holder of an
    /// application must then match it, or an officer must override with an audited reason.
    #[serde(default)]
    pub document_claim: Option<String>,
    /// The portal's callback URL (`<public URL>/sign-in/callback`), registered at the IdP
    /// beside `redirect_uri`; without it the portal offers no OIDC sign-in.
    #[serde(default)]
    pub portal_redirect_uri: Option<String>,
}

fn default_scopes() -> Vec<String> {
    vec!["openid".to_owned(), "profile".to_owned()]
}

impl OidcConfig {
    /// Checks the configuration without touching the network or the secret file, so a bad
    /// issuer.toml fails at start-up rather than at the first sign-in.
    pub fn validate(&self) -> Result<(), OidcError> {
        check_url("issuer", &self.issuer, self.allow_insecure_http).map_err(OidcError::Config)?;
        if self.issuer.contains('?') {
            return Err(OidcError::Config(
                "issuer must not contain a query".to_owned(),
            ));
        }
        check_url("redirect_uri", &self.redirect_uri, self.allow_insecure_http)
            .map_err(OidcError::Config)?;
        if let Some(portal) = &self.portal_redirect_uri {
            check_url("portal_redirect_uri", portal, self.allow_insecure_http)
                .map_err(OidcError::Config)?;
        }
        if self.client_id.is_empty()
            || self.client_id.len() > 255
            || self.client_id.chars().any(char::is_control)
        {
            return Err(OidcError::Config(
                "client_id must be 1 to 255 bytes without control characters".to_owned(),
            ));
        }
        if !self.scopes.iter().any(|s| s == "openid") {
            return Err(OidcError::Config(
                "scopes must include \"openid\"".to_owned(),
            ));
        }
        // RFC 6749 §3.3 scope-token: %x21 / %x23-5B / %x5D-7E.
        let bad_scope = self.scopes.iter().any(|s| {
            s.is_empty()
                || s.len() > 128
                || !s
                    .bytes()
                    .all(|b| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b))
        });
        if bad_scope || self.scopes.len() > 32 {
            return Err(OidcError::Config(
                "each scope must be 1 to 128 printable ASCII characters without spaces, quotes or backslashes (at most 32 scopes)".to_owned(),
            ));
        }
        Ok(())
    }
}

/// Everything that can go wrong signing someone in. Messages name what failed and why, never a
/// secret, code or token.
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    /// issuer.toml `[oidc]` or the client secret file is unusable.
    #[error("OIDC configuration: {0}")]
    Config(String),
    /// The discovery document is missing, malformed or inconsistent with the configuration.
    #[error("OIDC discovery: {0}")]
    Discovery(String),
    /// The IdP could not be reached or answered with an unexpected HTTP status.
    #[error("OIDC HTTP: {0}")]
    Http(String),
    /// A response body exceeded [`MAX_RESPONSE_BYTES`].
    #[error("OIDC {what} response is larger than {limit} bytes")]
    ResponseTooLarge {
        /// Which response: "discovery", "JWKS" or "token".
        what: &'static str,
        /// The limit that was exceeded, in bytes.
        limit: u64,
    },
    /// The IdP's key set is malformed, too large or has no usable key.
    #[error("OIDC JWKS: {0}")]
    Jwks(String),
    /// The token endpoint refused the code or answered with something unusable.
    #[error("OIDC token endpoint: {0}")]
    Token(String),
    /// The ID token failed a signature or claim check; the reason says which.
    #[error("invalid ID token: {0}")]
    InvalidIdToken(String),
    /// The `state` the browser brought back is not the pending login's (possible CSRF).
    #[error("the returned state does not match the pending login")]
    StateMismatch,
    /// The pending login is older than [`PENDING_LOGIN_LIFETIME`]; the applicant must start
    /// again.
    #[error("the sign-in took longer than 10 minutes; please start again")]
    Expired,
}

/// What a sign-in in progress needs when the browser comes back; the caller keeps it
/// server-side, keyed by `state`, and uses it once.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingLogin {
    /// Anti-CSRF value sent in the authorization URL; the callback must return it.
    pub state: String,
    /// Replay guard: the ID token must carry it.
    pub nonce: String,
    /// PKCE verifier whose S256 challenge was sent; proves the code exchange is ours.
    pub code_verifier: String,
    /// When the login started; older than [`PENDING_LOGIN_LIFETIME`] means expired.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

impl PendingLogin {
    /// True once the login can no longer be finished (older than [`PENDING_LOGIN_LIFETIME`], or
    /// dated more than [`CLOCK_LEEWAY`] ahead of `now`), so the caller can purge it.
    pub fn is_expired(&self, now: OffsetDateTime) -> bool {
        let age = now - self.created_at;
        age > PENDING_LOGIN_LIFETIME || age < -CLOCK_LEEWAY
    }
}

impl fmt::Debug for PendingLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingLogin")
            .field("state", &"<redacted>")
            .field("nonce", &"<redacted>")
            .field("code_verifier", &"<redacted>")
            .field("created_at", &self.created_at)
            .finish()
    }
}

/// The person the IdP vouched for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedIdentity {
    /// The IdP's stable identifier for the person (`sub`): 1 to 255 bytes, no control
    /// characters.
    pub subject: String,
    /// The `name` claim, if the IdP sent one; display text chosen by the IdP, not checked.
    pub name: Option<String>,
    /// The issuer that vouched (`iss`, equal to the configured issuer).
    pub issuer: String,
    /// The identity document the IdP verified (the configured `document_claim`), as sent:
    /// the issuer puts it in canonical form before comparing.
    pub document: Option<crate::rules::request::DocumentRequest>,
}

/// A configured, discovered IdP: metadata, client credentials and its signing keys. Share it
/// (e.g. in an `Arc`) across requests; it is `Send + Sync`.
pub struct OidcProvider {
    issuer: String,
    client_id: String,
    client_secret: ClientSecret,
    redirect_uri: String,
    portal_redirect_uri: Option<String>,
    scopes: Vec<String>,
    document_claim: Option<String>,
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
    client_auth: ClientAuth,
    agent: ureq::Agent,
    keys: RwLock<Arc<Vec<Jwk>>>,
    /// When an unknown `kid` last made us refetch the JWKS; held while refetching so
    /// concurrent callers wait for one fetch instead of each starting one.
    last_refresh: Mutex<Option<OffsetDateTime>>,
}

impl fmt::Debug for OidcProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OidcProvider")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("redirect_uri", &self.redirect_uri)
            .field("scopes", &self.scopes)
            .field("authorization_endpoint", &self.authorization_endpoint)
            .field("token_endpoint", &self.token_endpoint)
            .field("jwks_uri", &self.jwks_uri)
            .field("client_auth", &self.client_auth)
            .field("keys", &self.keys_snapshot().len())
            .finish_non_exhaustive()
    }
}

impl OidcProvider {
    /// Reads the client secret, fetches the discovery document and the JWKS (blocking), and
    /// checks the discovery `issuer` equals the configured one exactly (OIDC Discovery §4.3),
    /// so a misconfigured or spoofed discovery cannot substitute another issuer.
    pub fn discover(config: &OidcConfig) -> Result<Self, OidcError> {
        config.validate()?;
        let client_secret = read_client_secret(&config.client_secret_file)?;
        let loopback = check_url("issuer", &config.issuer, config.allow_insecure_http)
            .map_err(OidcError::Config)?;
        let agent = build_agent(config.allow_insecure_http, loopback);

        let url = if config.issuer.ends_with('/') {
            format!("{}.well-known/openid-configuration", config.issuer)
        } else {
            format!("{}/.well-known/openid-configuration", config.issuer)
        };
        let body = get(&agent, "discovery", &url, "application/json")?;
        let doc: DiscoveryDocument = serde_json::from_slice(&body).map_err(|e| {
            OidcError::Discovery(format!("malformed document: {}", json_error_summary(&e)))
        })?;
        if doc.issuer != config.issuer {
            return Err(OidcError::Discovery(format!(
                "issuer mismatch: configured {:?}, discovery document says {:?}",
                config.issuer,
                truncated(&doc.issuer)
            )));
        }
        for (what, url) in [
            ("authorization_endpoint", &doc.authorization_endpoint),
            ("token_endpoint", &doc.token_endpoint),
            ("jwks_uri", &doc.jwks_uri),
        ] {
            check_url(what, url, config.allow_insecure_http).map_err(OidcError::Discovery)?;
        }
        if doc.authorization_endpoint.contains('#') {
            return Err(OidcError::Discovery(
                "authorization_endpoint must not contain a fragment".to_owned(),
            ));
        }
        if let Some(types) = &doc.response_types_supported
            && !types.iter().any(|t| t == "code")
        {
            return Err(OidcError::Discovery(
                "the IdP does not support response_type \"code\"".to_owned(),
            ));
        }
        if let Some(methods) = &doc.code_challenge_methods_supported
            && !methods.iter().any(|m| m == "S256")
        {
            return Err(OidcError::Discovery(
                "the IdP does not support PKCE S256".to_owned(),
            ));
        }
        if let Some(algs) = &doc.id_token_signing_alg_values_supported
            && !algs.iter().any(|a| a == "ES256" || a == "RS256")
        {
            return Err(OidcError::Discovery(
                "the IdP signs ID tokens with neither ES256 nor RS256".to_owned(),
            ));
        }
        let client_auth = ClientAuth::choose(doc.token_endpoint_auth_methods_supported.as_deref())?;
        let keys = fetch_jwks(&agent, &doc.jwks_uri)?;

        Ok(Self {
            issuer: config.issuer.clone(),
            client_id: config.client_id.clone(),
            client_secret,
            redirect_uri: config.redirect_uri.clone(),
            portal_redirect_uri: config.portal_redirect_uri.clone(),
            scopes: config.scopes.clone(),
            document_claim: config.document_claim.clone(),
            authorization_endpoint: doc.authorization_endpoint,
            token_endpoint: doc.token_endpoint,
            jwks_uri: doc.jwks_uri,
            client_auth,
            agent,
            keys: RwLock::new(Arc::new(keys)),
            last_refresh: Mutex::new(None),
        })
    }

    /// Starts a sign-in: fresh random `state`, `nonce` and PKCE verifier (256 bits each,
    /// base64url) and the authorization URL to redirect the browser to. Keep the
    /// [`PendingLogin`] server-side keyed by its `state`; never put it in the browser.
    pub fn start(&self, now: OffsetDateTime) -> (String, PendingLogin) {
        self.start_to(now, &self.redirect_uri)
    }

    /// The portal's callback URL, if the portal signs in through this IdP.
    pub fn portal_redirect_uri(&self) -> Option<&str> {
        self.portal_redirect_uri.as_deref()
    }

    /// Like [`OidcProvider::start`], returning to `redirect_uri` (the API's or the portal's;
    /// [`OidcProvider::finish_to`] must be given the same).
    pub fn start_to(&self, now: OffsetDateTime, redirect_uri: &str) -> (String, PendingLogin) {
        let pending = PendingLogin {
            state: random_token(),
            nonce: random_token(),
            code_verifier: random_token(),
            created_at: now,
        };
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(pending.code_verifier.as_bytes()));
        let scope = self.scopes.join(" ");
        let query = form_encode(&[
            ("response_type", "code"),
            ("client_id", &self.client_id),
            ("redirect_uri", redirect_uri),
            ("scope", &scope),
            ("state", &pending.state),
            ("nonce", &pending.nonce),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ]);
        let endpoint = &self.authorization_endpoint;
        let separator = if endpoint.ends_with('?') || endpoint.ends_with('&') {
            ""
        } else if endpoint.contains('?') {
            "&"
        } else {
            "?"
        };
        (format!("{endpoint}{separator}{query}"), pending)
    }

    /// Finishes a sign-in: checks `returned_state` (constant time) and the pending login's age,
    /// exchanges `code` at the token endpoint with the PKCE verifier and client authentication
    /// (client_secret_basic preferred, else client_secret_post), then verifies the ID token
    /// against the pending nonce. The caller must drop `pending` afterwards, success or not.
    pub fn finish(
        &self,
        pending: &PendingLogin,
        code: &str,
        returned_state: &str,
        now: OffsetDateTime,
    ) -> Result<VerifiedIdentity, OidcError> {
        self.finish_to(pending, code, returned_state, now, &self.redirect_uri)
    }

    /// [`OidcProvider::finish`] of a sign-in started with [`OidcProvider::start_to`] for
    /// `redirect_uri`.
    pub fn finish_to(
        &self,
        pending: &PendingLogin,
        code: &str,
        returned_state: &str,
        now: OffsetDateTime,
        redirect_uri: &str,
    ) -> Result<VerifiedIdentity, OidcError> {
        if pending.state.is_empty()
            || !constant_time_eq(returned_state.as_bytes(), pending.state.as_bytes())
        {
            return Err(OidcError::StateMismatch);
        }
        if pending.is_expired(now) {
            return Err(OidcError::Expired);
        }
        if code.is_empty()
            || code.len() > MAX_CODE_BYTES
            || !code.bytes().all(|b| (0x20..=0x7e).contains(&b))
        {
            return Err(OidcError::Token(
                "the authorization code is empty, longer than 4 KiB or not printable ASCII"
                    .to_owned(),
            ));
        }
        let id_token = self.exchange_code(code, &pending.code_verifier, redirect_uri)?;
        self.verify_id_token(&id_token, &pending.nonce, now)
    }

    /// Verifies a compact-JWS ID token and returns who it names. Only ES256 and RS256 are
    /// accepted (never `none` or HMAC, which would let a public key act as a shared secret),
    /// and the alg must match the JWK's kty and alg. The key is found by `kid` (an unknown
    /// `kid` refetches the JWKS, at most once per [`JWKS_REFRESH_INTERVAL`], to follow key
    /// rotation). Claims: `iss` is the configured issuer, `aud` holds our client id (with
    /// `azp` equal to it when present or when `aud` lists several), `exp`/`iat`/`nbf` within
    /// [`CLOCK_LEEWAY`], `nonce` equals `expected_nonce`, `sub` is 1 to 255 bytes.
    pub fn verify_id_token(
        &self,
        id_token: &str,
        expected_nonce: &str,
        now: OffsetDateTime,
    ) -> Result<VerifiedIdentity, OidcError> {
        let jws = CompactJws::parse(id_token)?;
        let key = self.find_key(jws.alg, jws.kid.as_deref(), now)?;
        key.verify(jws.alg, jws.signing_input, &jws.signature)?;
        let claims: Claims = serde_json::from_slice(&jws.payload).map_err(|e| {
            OidcError::InvalidIdToken(format!("malformed claims: {}", json_error_summary(&e)))
        })?;
        self.check_claims(claims, expected_nonce, now)
    }

    fn check_claims(
        &self,
        claims: Claims,
        expected_nonce: &str,
        now: OffsetDateTime,
    ) -> Result<VerifiedIdentity, OidcError> {
        let invalid = |reason: &str| Err(OidcError::InvalidIdToken(reason.to_owned()));
        if claims.iss != self.issuer {
            return Err(OidcError::InvalidIdToken(format!(
                "issuer {:?} is not the configured issuer",
                truncated(&claims.iss)
            )));
        }
        let audiences: Vec<&str> = match &claims.aud {
            Audience::One(a) => vec![a.as_str()],
            Audience::Many(list) => list.iter().map(String::as_str).collect(),
        };
        if !audiences.contains(&self.client_id.as_str()) {
            return invalid("the audience does not include our client_id");
        }
        match claims.azp.as_deref() {
            Some(azp) if azp != self.client_id => {
                return invalid("azp is not our client_id");
            }
            None if audiences.len() > 1 => {
                return invalid("several audiences but no azp");
            }
            _ => {}
        }
        let now_ts = now.unix_timestamp();
        let leeway = CLOCK_LEEWAY.whole_seconds();
        if claims.exp.0 <= now_ts.saturating_sub(leeway) {
            return invalid("expired (exp is in the past)");
        }
        if claims.iat.0 > now_ts.saturating_add(leeway) {
            return invalid("issued in the future (iat)");
        }
        if let Some(nbf) = claims.nbf
            && nbf.0 > now_ts.saturating_add(leeway)
        {
            return invalid("not yet valid (nbf)");
        }
        match claims.nonce.as_deref() {
            None => return invalid("no nonce"),
            Some(nonce)
                if expected_nonce.is_empty()
                    || !constant_time_eq(nonce.as_bytes(), expected_nonce.as_bytes()) =>
            {
                return invalid("nonce does not match the pending login");
            }
            Some(_) => {}
        }
        if claims.sub.is_empty()
            || claims.sub.len() > MAX_SUBJECT_BYTES
            || claims.sub.chars().any(char::is_control)
        {
            return invalid("sub is empty, longer than 255 bytes or has control characters");
        }
        let document = match &self.document_claim {
            None => None,
            Some(name) => match claims.other.get(name) {
                None => None,
                Some(value) => Some(
                    serde_json::from_value::<crate::rules::request::DocumentRequest>(value.clone())
                        .map_err(|_| {
                            OidcError::InvalidIdToken(format!(
                                "the {name:?} claim is not an object with a type and a number"
                            ))
                        })?,
                ),
            },
        };
        Ok(VerifiedIdentity {
            subject: claims.sub,
            name: claims.name,
            issuer: claims.iss,
            document,
        })
    }

    fn keys_snapshot(&self) -> Arc<Vec<Jwk>> {
        Arc::clone(&self.keys.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Finds the verification key, refetching the JWKS once (rate-limited) if `kid` is unknown.
    fn find_key(&self, alg: Alg, kid: Option<&str>, now: OffsetDateTime) -> Result<Jwk, OidcError> {
        if let Some(key) = select_key(&self.keys_snapshot(), alg, kid)? {
            return Ok(key);
        }
        let mut last = self
            .last_refresh
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        // Another thread may have refetched while we waited for the lock.
        if let Some(key) = select_key(&self.keys_snapshot(), alg, kid)? {
            return Ok(key);
        }
        if let Some(at) = *last
            && (now - at).abs() < JWKS_REFRESH_INTERVAL
        {
            return Err(OidcError::InvalidIdToken(
                "unknown key id (the JWKS was refetched less than 60 s ago)".to_owned(),
            ));
        }
        *last = Some(now);
        let keys = fetch_jwks(&self.agent, &self.jwks_uri)?;
        let found = select_key(&keys, alg, kid)?;
        *self.keys.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(keys);
        found.ok_or_else(|| {
            OidcError::InvalidIdToken("unknown key id, even after refetching the JWKS".to_owned())
        })
    }

    fn exchange_code(
        &self,
        code: &str,
        code_verifier: &str,
        redirect_uri: &str,
    ) -> Result<String, OidcError> {
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("code_verifier", code_verifier),
        ];
        let mut request = self
            .agent
            .post(&self.token_endpoint)
            .header("Accept", "application/json")
            .header("Content-Type", "application/x-www-form-urlencoded");
        match self.client_auth {
            ClientAuth::Basic => {
                // RFC 6749 §2.3.1: both parts form-encoded before base64.
                let credentials = format!(
                    "{}:{}",
                    form_component(&self.client_id),
                    form_component(&self.client_secret.0)
                );
                request = request.header(
                    "Authorization",
                    format!("Basic {}", STANDARD.encode(credentials)),
                );
            }
            ClientAuth::Post => {
                form.push(("client_id", &self.client_id));
                form.push(("client_secret", &self.client_secret.0));
            }
        }
        let response = request
            .send(form_encode(&form).as_bytes())
            .map_err(|e| ureq_error("token", e))?;
        let status = response.status().as_u16();
        let body = read_body("token", response)?;
        if status != 200 {
            let code = serde_json::from_slice::<TokenErrorResponse>(&body)
                .ok()
                .map(|e| e.error)
                .filter(|e| {
                    !e.is_empty()
                        && e.len() <= 64
                        && e.bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b))
                })
                .unwrap_or_else(|| "unreadable".to_owned());
            return Err(OidcError::Token(format!(
                "refused with HTTP {status}, error {code}"
            )));
        }
        let parsed: TokenResponse = serde_json::from_slice(&body).map_err(|e| {
            OidcError::Token(format!("malformed response: {}", json_error_summary(&e)))
        })?;
        parsed
            .id_token
            .ok_or_else(|| OidcError::Token("the response has no id_token".to_owned()))
    }
}

/// The client secret; its `Debug` never shows it.
struct ClientSecret(String);

impl fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

fn read_client_secret(path: &Path) -> Result<ClientSecret, OidcError> {
    let shown = path.display();
    let file = File::open(path)
        .map_err(|e| OidcError::Config(format!("cannot open client secret file {shown}: {e}")))?;
    let meta = file.metadata().map_err(|e| {
        OidcError::Config(format!("cannot inspect client secret file {shown}: {e}"))
    })?;
    if !meta.is_file() {
        return Err(OidcError::Config(format!(
            "client secret file {shown} is not a regular file"
        )));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = meta.permissions().mode();
        if mode & 0o077 != 0 {
            return Err(OidcError::Config(format!(
                "client secret file {shown} is accessible to group or others (mode {:o}); chmod 600 it",
                mode & 0o777
            )));
        }
    }
    let mut raw = Vec::new();
    file.take(MAX_SECRET_FILE_BYTES + 1)
        .read_to_end(&mut raw)
        .map_err(|e| OidcError::Config(format!("cannot read client secret file {shown}: {e}")))?;
    if raw.len() as u64 > MAX_SECRET_FILE_BYTES {
        return Err(OidcError::Config(format!(
            "client secret file {shown} is larger than {MAX_SECRET_FILE_BYTES} bytes"
        )));
    }
    let text = String::from_utf8(raw)
        .map_err(|_| OidcError::Config(format!("client secret file {shown} is not UTF-8")))?;
    let secret = text.trim();
    if secret.is_empty() || secret.chars().any(char::is_control) {
        return Err(OidcError::Config(format!(
            "client secret file {shown} is empty or holds control characters"
        )));
    }
    Ok(ClientSecret(secret.to_owned()))
}

/// How we authenticate to the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ClientAuth {
    Basic,
    Post,
}

impl ClientAuth {
    /// Prefers client_secret_basic; an absent list means the spec default, basic.
    fn choose(supported: Option<&[String]>) -> Result<Self, OidcError> {
        let Some(methods) = supported else {
            return Ok(Self::Basic);
        };
        if methods.iter().any(|m| m == "client_secret_basic") {
            Ok(Self::Basic)
        } else if methods.iter().any(|m| m == "client_secret_post") {
            Ok(Self::Post)
        } else {
            Err(OidcError::Discovery(
                "the token endpoint supports neither client_secret_basic nor client_secret_post"
                    .to_owned(),
            ))
        }
    }
}

#[derive(Deserialize)]
struct DiscoveryDocument {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
    #[serde(default)]
    response_types_supported: Option<Vec<String>>,
    #[serde(default)]
    token_endpoint_auth_methods_supported: Option<Vec<String>>,
    #[serde(default)]
    code_challenge_methods_supported: Option<Vec<String>>,
    #[serde(default)]
    id_token_signing_alg_values_supported: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct TokenResponse {
    #[serde(default)]
    id_token: Option<String>,
}

#[derive(Deserialize)]
struct TokenErrorResponse {
    error: String,
}

/// The only signature algorithms accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Alg {
    Es256,
    Rs256,
}

impl Alg {
    fn from_name(name: &str) -> Option<Self> {
        match name {
            "ES256" => Some(Self::Es256),
            "RS256" => Some(Self::Rs256),
            _ => None,
        }
    }
}

/// One JWKS entry, reduced to what verification needs.
#[derive(Debug, Clone)]
struct Jwk {
    kid: Option<String>,
    /// The JWK's own `alg`, if it names one.
    alg: Option<Alg>,
    key: JwkKey,
}

#[derive(Debug, Clone)]
enum JwkKey {
    /// Uncompressed SEC1 point, 0x04 || x || y.
    P256(Vec<u8>),
    Rsa {
        n: Vec<u8>,
        e: Vec<u8>,
    },
    /// Present (its kid is known) but not usable for ES256/RS256 signatures.
    Unusable,
}

impl Jwk {
    fn from_json(value: &serde_json::Value) -> Self {
        let field = |name: &str| value.get(name).and_then(serde_json::Value::as_str);
        let kid = field("kid").map(str::to_owned);
        let unusable = |kid| Self {
            kid,
            alg: None,
            key: JwkKey::Unusable,
        };
        if field("use").is_some_and(|u| u != "sig") {
            return unusable(kid);
        }
        if let Some(ops) = value.get("key_ops") {
            let verify = ops
                .as_array()
                .is_some_and(|ops| ops.iter().any(|op| op.as_str() == Some("verify")));
            if !verify {
                return unusable(kid);
            }
        }
        let alg = match field("alg") {
            None => None,
            Some(name) => match Alg::from_name(name) {
                Some(alg) => Some(alg),
                None => return unusable(kid),
            },
        };
        let b64 = |name: &str| field(name).and_then(|v| URL_SAFE_NO_PAD.decode(v).ok());
        let key = match field("kty") {
            Some("EC") if field("crv") == Some("P-256") => match (b64("x"), b64("y")) {
                (Some(x), Some(y)) if x.len() == 32 && y.len() == 32 => {
                    let mut point = Vec::with_capacity(65);
                    point.push(0x04);
                    point.extend_from_slice(&x);
                    point.extend_from_slice(&y);
                    JwkKey::P256(point)
                }
                _ => JwkKey::Unusable,
            },
            Some("RSA") => match (b64("n"), b64("e")) {
                (Some(n), Some(e)) => {
                    let n = strip_leading_zeros(n);
                    let e = strip_leading_zeros(e);
                    if (256..=1024).contains(&n.len()) && (1..=8).contains(&e.len()) {
                        JwkKey::Rsa { n, e }
                    } else {
                        JwkKey::Unusable
                    }
                }
                _ => JwkKey::Unusable,
            },
            _ => JwkKey::Unusable,
        };
        Self { kid, alg, key }
    }

    /// Whether this key may verify `alg`: its kty must fit, and its own alg, if any, must equal.
    fn fits(&self, alg: Alg) -> bool {
        let kty_fits = matches!(
            (&self.key, alg),
            (JwkKey::P256(_), Alg::Es256) | (JwkKey::Rsa { .. }, Alg::Rs256)
        );
        kty_fits && self.alg.is_none_or(|own| own == alg)
    }

    fn verify(&self, alg: Alg, signing_input: &[u8], signature: &[u8]) -> Result<(), OidcError> {
        use ring::signature;
        let result = match (&self.key, alg) {
            (JwkKey::P256(point), Alg::Es256) => {
                signature::UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point)
                    .verify(signing_input, signature)
            }
            (JwkKey::Rsa { n, e }, Alg::Rs256) => signature::RsaPublicKeyComponents { n, e }
                .verify(
                    &signature::RSA_PKCS1_2048_8192_SHA256,
                    signing_input,
                    signature,
                ),
            _ => {
                return Err(OidcError::InvalidIdToken(
                    "the token's alg does not match its key".to_owned(),
                ));
            }
        };
        result.map_err(|_| OidcError::InvalidIdToken("the signature does not verify".to_owned()))
    }
}

fn strip_leading_zeros(mut bytes: Vec<u8>) -> Vec<u8> {
    let zeros = bytes.iter().take_while(|b| **b == 0).count();
    bytes.drain(..zeros);
    bytes
}

/// `Ok(None)` means the kid is unknown (a JWKS refetch may help); errors mean it never will.
fn select_key(keys: &[Jwk], alg: Alg, kid: Option<&str>) -> Result<Option<Jwk>, OidcError> {
    match kid {
        Some(kid) => {
            let mut named = keys
                .iter()
                .filter(|k| k.kid.as_deref() == Some(kid))
                .peekable();
            if named.peek().is_none() {
                return Ok(None);
            }
            named
                .find(|k| k.fits(alg))
                .cloned()
                .map(Some)
                .ok_or_else(|| {
                    OidcError::InvalidIdToken(
                        "the token's alg does not match its key's kty/alg".to_owned(),
                    )
                })
        }
        // OIDC Core §10.1: without a kid, the JWKS must leave no doubt which key is meant.
        None => {
            let fitting: Vec<&Jwk> = keys.iter().filter(|k| k.fits(alg)).collect();
            match fitting.as_slice() {
                [] => Ok(None),
                [key] => Ok(Some((*key).clone())),
                _ => Err(OidcError::InvalidIdToken(
                    "the token has no kid and several keys could have signed it".to_owned(),
                )),
            }
        }
    }
}

fn fetch_jwks(agent: &ureq::Agent, url: &str) -> Result<Vec<Jwk>, OidcError> {
    #[derive(Deserialize)]
    struct RawJwks {
        keys: Vec<serde_json::Value>,
    }
    let body = get(
        agent,
        "JWKS",
        url,
        "application/jwk-set+json, application/json",
    )?;
    let raw: RawJwks = serde_json::from_slice(&body)
        .map_err(|e| OidcError::Jwks(format!("malformed key set: {}", json_error_summary(&e))))?;
    if raw.keys.len() > MAX_JWKS_KEYS {
        return Err(OidcError::Jwks(format!(
            "{} keys; at most {MAX_JWKS_KEYS} accepted",
            raw.keys.len()
        )));
    }
    let keys: Vec<Jwk> = raw.keys.iter().map(Jwk::from_json).collect();
    if !keys
        .iter()
        .any(|k| k.fits(Alg::Es256) || k.fits(Alg::Rs256))
    {
        return Err(OidcError::Jwks(
            "no usable ES256 (P-256) or RS256 (2048-8192 bit) signing key".to_owned(),
        ));
    }
    Ok(keys)
}

/// A compact JWS split and decoded, not yet verified.
struct CompactJws<'a> {
    alg: Alg,
    kid: Option<String>,
    signing_input: &'a [u8],
    payload: Vec<u8>,
    signature: Vec<u8>,
}

impl<'a> CompactJws<'a> {
    fn parse(token: &'a str) -> Result<Self, OidcError> {
        #[derive(Deserialize)]
        struct Header {
            alg: String,
            #[serde(default)]
            kid: Option<String>,
            #[serde(default)]
            crit: Option<serde_json::Value>,
        }
        let invalid = |reason: &str| OidcError::InvalidIdToken(reason.to_owned());
        if token.len() > MAX_ID_TOKEN_BYTES {
            return Err(invalid("longer than 16 KiB"));
        }
        let parts: Vec<&str> = token.split('.').collect();
        let [header_b64, payload_b64, signature_b64] = parts.as_slice() else {
            return Err(if parts.len() == 5 {
                invalid("encrypted (JWE) ID tokens are not supported")
            } else {
                invalid("not a compact JWS (three dot-separated parts)")
            });
        };
        let decode = |what: &str, part: &str| {
            URL_SAFE_NO_PAD
                .decode(part)
                .map_err(|_| OidcError::InvalidIdToken(format!("{what} is not base64url")))
        };
        let header: Header =
            serde_json::from_slice(&decode("header", header_b64)?).map_err(|e| {
                OidcError::InvalidIdToken(format!("malformed header: {}", json_error_summary(&e)))
            })?;
        let alg = match header.alg.as_str() {
            "none" => return Err(invalid("alg \"none\" (unsigned) is refused")),
            name => Alg::from_name(name).ok_or_else(|| {
                OidcError::InvalidIdToken(format!(
                    "alg {:?} is refused (only ES256 and RS256)",
                    truncated(name)
                ))
            })?,
        };
        if header.crit.is_some() {
            return Err(invalid("critical header extensions are not supported"));
        }
        let signature = decode("signature", signature_b64)?;
        if signature.is_empty() {
            return Err(invalid("empty signature"));
        }
        let payload = decode("payload", payload_b64)?;
        let signing_input = &token.as_bytes()[..header_b64.len() + 1 + payload_b64.len()];
        Ok(Self {
            alg,
            kid: header.kid,
            signing_input,
            payload,
            signature,
        })
    }
}

#[derive(Deserialize)]
struct Claims {
    iss: String,
    sub: String,
    aud: Audience,
    exp: NumericDate,
    iat: NumericDate,
    #[serde(default)]
    nbf: Option<NumericDate>,
    #[serde(default)]
    nonce: Option<String>,
    #[serde(default)]
    azp: Option<String>,
    #[serde(default)]
    name: Option<String>,
    /// Every other claim, for the configured document claim.
    #[serde(flatten)]
    other: serde_json::Map<String, serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

/// Seconds since the epoch; JWT allows fractions, which are floored.
#[derive(Clone, Copy)]
struct NumericDate(i64);

impl<'de> Deserialize<'de> for NumericDate {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let number = serde_json::Number::deserialize(deserializer)?;
        if let Some(seconds) = number.as_i64() {
            return Ok(Self(seconds));
        }
        match number.as_f64() {
            Some(f) if f.is_finite() && f.abs() < 1e15 => Ok(Self(f.floor() as i64)),
            _ => Err(serde::de::Error::custom("NumericDate out of range")),
        }
    }
}

fn build_agent(allow_insecure_http: bool, loopback_issuer: bool) -> ureq::Agent {
    let mut builder = ureq::Agent::config_builder()
        .timeout_global(Some(HTTP_TIMEOUT))
        .http_status_as_error(false)
        .max_redirects(0)
        .https_only(!allow_insecure_http)
        .user_agent("ccr-issuer-oidc");
    if loopback_issuer {
        // Never send a loopback IdP's traffic to an environment proxy.
        builder = builder.proxy(None);
    }
    builder.build().new_agent()
}

/// GET with the size limit; anything but 200 is an error.
fn get(
    agent: &ureq::Agent,
    what: &'static str,
    url: &str,
    accept: &str,
) -> Result<Vec<u8>, OidcError> {
    let response = agent
        .get(url)
        .header("Accept", accept)
        .call()
        .map_err(|e| ureq_error(what, e))?;
    let status = response.status().as_u16();
    if status != 200 {
        return Err(OidcError::Http(format!("{what}: HTTP status {status}")));
    }
    read_body(what, response)
}

fn read_body(
    what: &'static str,
    mut response: ureq::http::Response<ureq::Body>,
) -> Result<Vec<u8>, OidcError> {
    response
        .body_mut()
        .with_config()
        .limit(MAX_RESPONSE_BYTES)
        .read_to_vec()
        .map_err(|e| ureq_error(what, e))
}

fn ureq_error(what: &'static str, error: ureq::Error) -> OidcError {
    match error {
        ureq::Error::BodyExceedsLimit(_) => OidcError::ResponseTooLarge {
            what,
            limit: MAX_RESPONSE_BYTES,
        },
        ureq::Error::Timeout(_) => OidcError::Http(format!(
            "{what}: no answer within {} s",
            HTTP_TIMEOUT.as_secs()
        )),
        other => OidcError::Http(format!("{what}: {other}")),
    }
}

/// Checks an http(s) URL; returns whether its host is loopback. `http` only for a loopback
/// host and only when `allow_insecure_http`.
fn check_url(what: &str, url: &str, allow_insecure_http: bool) -> Result<bool, String> {
    if url.len() > MAX_URL_BYTES || !url.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(format!(
            "{what} must be printable ASCII without spaces, at most {MAX_URL_BYTES} bytes"
        ));
    }
    if url.contains('#') {
        return Err(format!("{what} must not contain a fragment"));
    }
    let (rest, secure) = if let Some(rest) = url.strip_prefix("https://") {
        (rest, true)
    } else if let Some(rest) = url.strip_prefix("http://") {
        (rest, false)
    } else {
        return Err(format!("{what} must be an https:// URL"));
    };
    let authority = &rest[..rest.find(['/', '?']).unwrap_or(rest.len())];
    if authority.contains('@') {
        return Err(format!("{what} must not contain user information"));
    }
    let (host, port) = if authority.starts_with('[') {
        match authority.find(']') {
            Some(end) => (&authority[..=end], &authority[end + 1..]),
            None => return Err(format!("{what} has a malformed IPv6 host")),
        }
    } else {
        match authority.find(':') {
            Some(colon) => (&authority[..colon], &authority[colon..]),
            None => (authority, ""),
        }
    };
    if host.is_empty() {
        return Err(format!("{what} has no host"));
    }
    if !port.is_empty() {
        let digits = port.strip_prefix(':').unwrap_or("x");
        if digits.is_empty() || digits.len() > 5 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("{what} has a malformed port"));
        }
    }
    let loopback = host.eq_ignore_ascii_case("localhost") || host == "127.0.0.1" || host == "[::1]";
    if !secure {
        if !allow_insecure_http {
            return Err(format!(
                "{what} must use https (allow_insecure_http permits http only for a loopback test IdP)"
            ));
        }
        if !loopback {
            return Err(format!(
                "{what} may use http only for 127.0.0.1, [::1] or localhost"
            ));
        }
    }
    Ok(loopback)
}

/// 256 random bits, base64url without padding (also a valid PKCE verifier).
fn random_token() -> String {
    let mut bytes = [0u8; RANDOM_BYTES];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Percent-encodes all but RFC 3986 unreserved characters (valid in queries and form bodies).
fn form_component(value: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0x0f)]));
        }
    }
    out
}

fn form_encode(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", form_component(k), form_component(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

/// A JSON error without echoing values (serde_json quotes offending values, which for a token
/// response or ID token could be personal data).
fn json_error_summary(error: &serde_json::Error) -> String {
    let text = error.to_string();
    if text.starts_with("missing field") || text.starts_with("duplicate field") {
        text
    } else {
        format!(
            "{:?} error at line {} column {}",
            error.classify(),
            error.line(),
            error.column()
        )
    }
}

/// At most 100 characters of untrusted text, for messages (shown with `{:?}` to escape it).
fn truncated(text: &str) -> &str {
    match text.char_indices().nth(100) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use ring::rand::SystemRandom;
    use ring::signature::{self, EcdsaKeyPair, KeyPair as _, RsaKeyPair};
    use serde_json::{Value, json};
    use std::collections::HashMap;
    use std::io::{BufRead as _, BufReader, Write as _};
    use std::net::{SocketAddr, TcpListener, TcpStream};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::thread::JoinHandle;

    /// TEST-ONLY RSA key (see fixtures/oidc/README.md).
    const TEST_RSA_PKCS8: &[u8] = include_bytes!("../../../fixtures/oidc/test-rsa-2048.pk8");
    const CLIENT_ID: &str = "ccr-issuer-test";
    const CLIENT_SECRET: &str = "s3cr3t-value-for-tests";
    const SUBJECT: &str = "MO-1234567";

    /// A signing key the fake IdP holds, with the kid it publishes.
    enum Signer {
        Es(EcdsaKeyPair, String),
        Rs(RsaKeyPair, String),
    }

    impl Signer {
        fn es256(kid: &str) -> Self {
            let rng = SystemRandom::new();
            let alg = &signature::ECDSA_P256_SHA256_FIXED_SIGNING;
            let pkcs8 = EcdsaKeyPair::generate_pkcs8(alg, &rng).unwrap();
            Self::Es(
                EcdsaKeyPair::from_pkcs8(alg, pkcs8.as_ref(), &rng).unwrap(),
                kid.to_owned(),
            )
        }

        fn rs256(kid: &str) -> Self {
            Self::Rs(
                RsaKeyPair::from_pkcs8(TEST_RSA_PKCS8).unwrap(),
                kid.to_owned(),
            )
        }

        fn jwk(&self) -> Value {
            match self {
                Self::Es(key, kid) => {
                    let point = key.public_key().as_ref();
                    json!({"kty": "EC", "crv": "P-256", "kid": kid, "use": "sig", "alg": "ES256",
                        "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
                        "y": URL_SAFE_NO_PAD.encode(&point[33..65])})
                }
                Self::Rs(key, kid) => {
                    let parts = signature::RsaPublicKeyComponents::<Vec<u8>>::from(key.public());
                    json!({"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
                        "n": URL_SAFE_NO_PAD.encode(&parts.n),
                        "e": URL_SAFE_NO_PAD.encode(&parts.e)})
                }
            }
        }

        fn alg(&self) -> &'static str {
            match self {
                Self::Es(..) => "ES256",
                Self::Rs(..) => "RS256",
            }
        }

        fn kid(&self) -> &str {
            match self {
                Self::Es(_, kid) | Self::Rs(_, kid) => kid,
            }
        }

        fn sign_raw(&self, input: &[u8]) -> Vec<u8> {
            let rng = SystemRandom::new();
            match self {
                Self::Es(key, _) => key.sign(&rng, input).unwrap().as_ref().to_vec(),
                Self::Rs(key, _) => {
                    let mut sig = vec![0; key.public().modulus_len()];
                    key.sign(&signature::RSA_PKCS1_SHA256, &rng, input, &mut sig)
                        .unwrap();
                    sig
                }
            }
        }

        /// A compact JWS over `claims` with the given header.
        fn sign_with_header(&self, header: &Value, claims: &Value) -> String {
            let input = format!(
                "{}.{}",
                URL_SAFE_NO_PAD.encode(header.to_string()),
                URL_SAFE_NO_PAD.encode(claims.to_string())
            );
            let sig = self.sign_raw(input.as_bytes());
            format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
        }

        fn sign(&self, claims: &Value) -> String {
            self.sign_with_header(
                &json!({"alg": self.alg(), "kid": self.kid(), "typ": "JWT"}),
                claims,
            )
        }
    }

    #[derive(Default)]
    struct IdpState {
        base: String,
        issuer_override: Option<String>,
        token_endpoint_override: Option<String>,
        auth_methods: Vec<&'static str>,
        jwks: String,
        jwks_hits: usize,
        token_hits: usize,
        signer: Option<Signer>,
        /// code → (S256 challenge, nonce)
        codes: HashMap<String, (String, String)>,
        token_failures: Vec<String>,
    }

    struct FakeIdp {
        addr: SocketAddr,
        base: String,
        state: Arc<Mutex<IdpState>>,
        stop: Arc<AtomicBool>,
        thread: Option<JoinHandle<()>>,
        dir: tempfile::TempDir,
    }

    impl Drop for FakeIdp {
        fn drop(&mut self) {
            self.stop.store(true, Ordering::SeqCst);
            let _ = TcpStream::connect(self.addr); // wake accept()
            if let Some(thread) = self.thread.take() {
                let _ = thread.join();
            }
        }
    }

    impl FakeIdp {
        fn start(signer: Signer, auth_methods: &[&'static str]) -> Self {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = listener.local_addr().unwrap();
            let base = format!("http://127.0.0.1:{}", addr.port());
            let jwks = json!({"keys": [signer.jwk()]}).to_string();
            let state = Arc::new(Mutex::new(IdpState {
                base: base.clone(),
                auth_methods: auth_methods.to_vec(),
                jwks,
                signer: Some(signer),
                ..IdpState::default()
            }));
            let stop = Arc::new(AtomicBool::new(false));
            let thread = {
                let (state, stop) = (Arc::clone(&state), Arc::clone(&stop));
                // Bounded: at most 100 connections, and it stops when the test drops it.
                std::thread::spawn(move || {
                    for stream in listener.incoming().take(100) {
                        if stop.load(Ordering::SeqCst) {
                            break;
                        }
                        if let Ok(mut stream) = stream {
                            let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                            let _ = serve(&mut stream, &state);
                        }
                    }
                })
            };
            let dir = tempfile::tempdir().unwrap();
            Self {
                addr,
                base,
                state,
                stop,
                thread: Some(thread),
                dir,
            }
        }

        fn state(&self) -> std::sync::MutexGuard<'_, IdpState> {
            self.state.lock().unwrap()
        }

        /// A config pointing at this IdP, with a 0600 secret file.
        fn config(&self) -> OidcConfig {
            let path = self.dir.path().join("client-secret");
            std::fs::write(&path, format!("{CLIENT_SECRET}\n")).unwrap();
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt as _;
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
            }
            OidcConfig {
                issuer: self.base.clone(),
                client_id: CLIENT_ID.to_owned(),
                client_secret_file: path,
                redirect_uri: "http://127.0.0.1:8080/api/v1/auth/oidc/callback".to_owned(),
                scopes: default_scopes(),
                allow_insecure_http: true,
                document_claim: None,
                portal_redirect_uri: None,
            }
        }

        fn provider(&self) -> OidcProvider {
            OidcProvider::discover(&self.config()).unwrap()
        }

        fn sign(&self, claims: &Value) -> String {
            self.state().signer.as_ref().unwrap().sign(claims)
        }

        fn claims(&self, nonce: &str) -> Value {
            let now = OffsetDateTime::now_utc().unix_timestamp();
            json!({"iss": self.base, "sub": SUBJECT, "aud": CLIENT_ID, "exp": now + 300,
                "iat": now, "nonce": nonce, "name": "CHAN Tai Man"})
        }

        fn set_keys(&self, signers: &[&Signer]) {
            let keys: Vec<Value> = signers.iter().map(|s| s.jwk()).collect();
            self.state().jwks = json!({ "keys": keys }).to_string();
        }
    }

    fn serve(stream: &mut TcpStream, state: &Mutex<IdpState>) -> std::io::Result<()> {
        let mut reader = BufReader::new(stream.try_clone()?);
        let mut request_line = String::new();
        reader.read_line(&mut request_line)?;
        let mut headers = HashMap::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line)? == 0 {
                break;
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((k, v)) = line.split_once(':') {
                headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
            }
        }
        let length: usize = headers
            .get("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; length.min(64 * 1024)];
        std::io::Read::read_exact(&mut reader, &mut body)?;
        let mut parts = request_line.split_whitespace();
        let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        let (status, content) = {
            let mut state = state.lock().unwrap();
            route(&mut state, method, path, &headers, &body)
        };
        write!(
            stream,
            "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            content.len()
        )?;
        stream.write_all(content.as_bytes())?;
        stream.flush()
    }

    fn route(
        state: &mut IdpState,
        method: &str,
        path: &str,
        headers: &HashMap<String, String>,
        body: &[u8],
    ) -> (u16, String) {
        match (method, path) {
            ("GET", "/.well-known/openid-configuration") => {
                let base = &state.base;
                let doc = json!({
                    "issuer": state.issuer_override.clone().unwrap_or_else(|| base.clone()),
                    "authorization_endpoint": format!("{base}/authorize"),
                    "token_endpoint": state.token_endpoint_override.clone()
                        .unwrap_or_else(|| format!("{base}/token")),
                    "jwks_uri": format!("{base}/jwks"),
                    "response_types_supported": ["code"],
                    "subject_types_supported": ["public"],
                    "id_token_signing_alg_values_supported": ["ES256", "RS256"],
                    "code_challenge_methods_supported": ["S256"],
                    "token_endpoint_auth_methods_supported": state.auth_methods,
                });
                (200, doc.to_string())
            }
            ("GET", "/jwks") => {
                state.jwks_hits += 1;
                (200, state.jwks.clone())
            }
            ("POST", "/token") => {
                state.token_hits += 1;
                match token(state, headers, body) {
                    Ok(id_token) => (
                        200,
                        json!({"access_token": "at", "token_type": "Bearer", "expires_in": 300,
                            "id_token": id_token})
                        .to_string(),
                    ),
                    Err(why) => {
                        state.token_failures.push(why);
                        (400, json!({"error": "invalid_grant"}).to_string())
                    }
                }
            }
            _ => (404, "{}".to_owned()),
        }
    }

    fn parse_form(text: &str) -> HashMap<String, String> {
        fn decode(s: &str) -> String {
            let bytes = s.as_bytes();
            let mut out = Vec::new();
            let mut i = 0;
            while i < bytes.len() {
                match bytes[i] {
                    b'%' => {
                        out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
                        i += 3;
                    }
                    b'+' => {
                        out.push(b' ');
                        i += 1;
                    }
                    b => {
                        out.push(b);
                        i += 1;
                    }
                }
            }
            String::from_utf8(out).unwrap()
        }
        text.split('&')
            .filter_map(|pair| pair.split_once('='))
            .map(|(k, v)| (decode(k), decode(v)))
            .collect()
    }

    /// The token endpoint: checks client authentication (the first advertised method), the
    /// code, redirect_uri and the PKCE verifier, then issues an ID token.
    fn token(
        state: &mut IdpState,
        headers: &HashMap<String, String>,
        body: &[u8],
    ) -> Result<String, String> {
        let form = parse_form(std::str::from_utf8(body).map_err(|e| e.to_string())?);
        let field = |name: &str| form.get(name).cloned().unwrap_or_default();
        if headers.get("content-type").map(String::as_str)
            != Some("application/x-www-form-urlencoded")
        {
            return Err("content-type".into());
        }
        let basic = headers.get("authorization").cloned();
        let expected_basic = format!(
            "Basic {}",
            STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"))
        );
        let preferred = if state.auth_methods.contains(&"client_secret_basic") {
            "client_secret_basic"
        } else {
            "client_secret_post"
        };
        match preferred {
            "client_secret_basic" => {
                if basic.as_deref() != Some(expected_basic.as_str())
                    || form.contains_key("client_secret")
                {
                    return Err("basic client authentication".into());
                }
            }
            _ => {
                if basic.is_some()
                    || field("client_id") != CLIENT_ID
                    || field("client_secret") != CLIENT_SECRET
                {
                    return Err("post client authentication".into());
                }
            }
        }
        if field("grant_type") != "authorization_code" {
            return Err("grant_type".into());
        }
        if field("redirect_uri") != "http://127.0.0.1:8080/api/v1/auth/oidc/callback" {
            return Err("redirect_uri".into());
        }
        let (challenge, nonce) = state.codes.remove(&field("code")).ok_or("unknown code")?;
        let verifier = field("code_verifier");
        if URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) != challenge {
            return Err("PKCE verifier".into());
        }
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let claims = json!({"iss": state.base, "sub": SUBJECT, "aud": CLIENT_ID,
            "exp": now + 300, "iat": now, "nonce": nonce, "name": "CHAN Tai Man"});
        Ok(state.signer.as_ref().ok_or("no signer")?.sign(&claims))
    }

    fn query_of(url: &str) -> HashMap<String, String> {
        parse_form(url.split_once('?').unwrap().1)
    }

    fn expect_invalid(result: Result<VerifiedIdentity, OidcError>, needle: &str) {
        match result {
            Err(OidcError::InvalidIdToken(reason)) => {
                assert!(
                    reason.contains(needle),
                    "reason {reason:?} lacks {needle:?}"
                );
            }
            other => panic!("expected InvalidIdToken({needle}), got {other:?}"),
        }
    }

    fn full_flow(signer: Signer, methods: &[&'static str]) {
        let idp = FakeIdp::start(signer, methods);
        let provider = idp.provider();
        let now = OffsetDateTime::now_utc();
        let (url, pending) = provider.start(now);
        assert!(url.starts_with(&format!("{}/authorize?", idp.base)));
        let q = query_of(&url);
        assert_eq!(q["response_type"], "code");
        assert_eq!(q["client_id"], CLIENT_ID);
        assert_eq!(q["scope"], "openid profile");
        assert_eq!(
            q["redirect_uri"],
            "http://127.0.0.1:8080/api/v1/auth/oidc/callback"
        );
        assert_eq!(q["state"], pending.state);
        assert_eq!(q["nonce"], pending.nonce);
        assert_eq!(q["code_challenge_method"], "S256");
        for value in [&pending.state, &pending.nonce, &pending.code_verifier] {
            assert_eq!(URL_SAFE_NO_PAD.decode(value).unwrap().len(), 32);
        }
        idp.state().codes.insert(
            "code-1".into(),
            (q["code_challenge"].clone(), q["nonce"].clone()),
        );
        let identity = provider.finish(&pending, "code-1", &q["state"], now);
        assert!(
            idp.state().token_failures.is_empty(),
            "{:?}",
            idp.state().token_failures
        );
        let identity = identity.unwrap();
        assert_eq!(
            identity,
            VerifiedIdentity {
                subject: SUBJECT.into(),
                name: Some("CHAN Tai Man".into()),
                issuer: idp.base.clone(),
                document: None,
            }
        );
        // A code is single-use at the IdP: replaying it fails.
        assert!(matches!(
            provider.finish(&pending, "code-1", &q["state"], now),
            Err(OidcError::Token(_))
        ));
    }

    #[test]
    fn happy_path_es256_client_secret_basic() {
        full_flow(
            Signer::es256("ec-1"),
            &["client_secret_post", "client_secret_basic"],
        );
    }

    #[test]
    fn happy_path_rs256_client_secret_post() {
        full_flow(Signer::rs256("rsa-1"), &["client_secret_post"]);
    }

    #[test]
    fn wrong_state_is_refused_before_the_token_endpoint() {
        let idp = FakeIdp::start(Signer::es256("k1"), &["client_secret_basic"]);
        let provider = idp.provider();
        let now = OffsetDateTime::now_utc();
        let (_, pending) = provider.start(now);
        let mut forged = pending.state.clone();
        forged.replace_range(0..1, if forged.starts_with('A') { "B" } else { "A" });
        for state in [forged.as_str(), "", "x"] {
            assert!(matches!(
                provider.finish(&pending, "code", state, now),
                Err(OidcError::StateMismatch)
            ));
        }
        assert_eq!(idp.state().token_hits, 0);
    }

    #[test]
    fn expired_pending_login_is_refused() {
        let idp = FakeIdp::start(Signer::es256("k1"), &["client_secret_basic"]);
        let provider = idp.provider();
        let now = OffsetDateTime::now_utc();
        let (_, pending) = provider.start(now - time::Duration::minutes(11));
        assert!(pending.is_expired(now));
        assert!(matches!(
            provider.finish(&pending, "code", &pending.state, now),
            Err(OidcError::Expired)
        ));
        assert_eq!(idp.state().token_hits, 0);
        let (_, fresh) = provider.start(now - time::Duration::minutes(9));
        assert!(!fresh.is_expired(now));
    }

    #[test]
    fn claim_checks() {
        let idp = FakeIdp::start(Signer::es256("k1"), &["client_secret_basic"]);
        let provider = idp.provider();
        let now = OffsetDateTime::now_utc();
        let ts = now.unix_timestamp();
        let ok = idp.claims("n-1");
        assert_eq!(
            provider
                .verify_id_token(&idp.sign(&ok), "n-1", now)
                .unwrap()
                .subject,
            SUBJECT
        );

        let with = |key: &str, value: Value| {
            let mut claims = ok.clone();
            claims[key] = value;
            idp.sign(&claims)
        };
        let without = |key: &str| {
            let mut claims = ok.clone();
            claims.as_object_mut().unwrap().remove(key);
            idp.sign(&claims)
        };
        let verify = |token: &str| provider.verify_id_token(token, "n-1", now);

        // nonce
        expect_invalid(verify(&with("nonce", json!("n-2"))), "nonce");
        expect_invalid(verify(&without("nonce")), "nonce");
        expect_invalid(provider.verify_id_token(&idp.sign(&ok), "", now), "nonce");
        // audience and azp
        expect_invalid(verify(&with("aud", json!("someone-else"))), "audience");
        expect_invalid(verify(&with("aud", json!(["a", "b"]))), "audience");
        expect_invalid(verify(&with("aud", json!([CLIENT_ID, "other"]))), "azp");
        let mut multi = ok.clone();
        multi["aud"] = json!([CLIENT_ID, "other"]);
        multi["azp"] = json!(CLIENT_ID);
        assert!(verify(&idp.sign(&multi)).is_ok());
        multi["azp"] = json!("other");
        expect_invalid(verify(&idp.sign(&multi)), "azp");
        assert!(verify(&with("aud", json!([CLIENT_ID]))).is_ok());
        // issuer
        expect_invalid(
            verify(&with("iss", json!("https://evil.example"))),
            "issuer",
        );
        expect_invalid(
            verify(&with("iss", json!(format!("{}/", idp.base)))),
            "issuer",
        );
        // times, with 60 s leeway
        expect_invalid(verify(&with("exp", json!(ts - 120))), "expired");
        assert!(verify(&with("exp", json!(ts - 30))).is_ok());
        expect_invalid(verify(&with("iat", json!(ts + 300))), "future");
        assert!(verify(&with("iat", json!(ts + 30))).is_ok());
        expect_invalid(verify(&with("nbf", json!(ts + 300))), "nbf");
        assert!(verify(&with("exp", json!(ts as f64 + 100.5))).is_ok());
        expect_invalid(verify(&with("exp", json!("tomorrow"))), "claims");
        // subject
        expect_invalid(verify(&with("sub", json!(""))), "sub");
        expect_invalid(verify(&with("sub", json!("x".repeat(256)))), "sub");
        assert!(verify(&with("sub", json!("x".repeat(255)))).is_ok());
        expect_invalid(verify(&without("sub")), "sub");
        // name is optional
        assert_eq!(verify(&without("name")).unwrap().name, None);
    }

    #[test]
    fn expired_token_through_finish() {
        let idp = FakeIdp::start(Signer::es256("k1"), &["client_secret_basic"]);
        let provider = idp.provider();
        let now = OffsetDateTime::now_utc();
        let (url, pending) = provider.start(now);
        let q = query_of(&url);
        idp.state().codes.insert(
            "c".into(),
            (q["code_challenge"].clone(), q["nonce"].clone()),
        );
        // The IdP issues exp = real now + 300 s; verifying 9 minutes later makes it stale.
        let later = now + time::Duration::minutes(9);
        match provider.finish(&pending, "c", &pending.state, later) {
            Err(OidcError::InvalidIdToken(reason)) => assert!(reason.contains("expired")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn alg_none_and_other_algs_are_refused() {
        let idp = FakeIdp::start(Signer::es256("k1"), &["client_secret_basic"]);
        let provider = idp.provider();
        let now = OffsetDateTime::now_utc();
        let payload = URL_SAFE_NO_PAD.encode(idp.claims("n").to_string());
        for alg in ["none", "None", "NONE"] {
            let header = URL_SAFE_NO_PAD.encode(json!({"alg": alg, "kid": "k1"}).to_string());
            for token in [
                format!("{header}.{payload}."),
                format!("{header}.{payload}.AAAA"),
            ] {
                expect_invalid(provider.verify_id_token(&token, "n", now), "alg");
            }
        }
        let signer = Signer::es256("k1");
        for alg in ["ES384", "PS256", "RS512", "EdDSA", ""] {
            let token =
                signer.sign_with_header(&json!({"alg": alg, "kid": "k1"}), &idp.claims("n"));
            expect_invalid(provider.verify_id_token(&token, "n", now), "refused");
        }
        // RS256 header naming an EC key: alg must fit the key's kty.
        let token =
            signer.sign_with_header(&json!({"alg": "RS256", "kid": "k1"}), &idp.claims("n"));
        expect_invalid(provider.verify_id_token(&token, "n", now), "does not match");
    }

    fn hmac_token(secret: &[u8], kid: &str, claims: &Value) -> String {
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(json!({"alg": "HS256", "typ": "JWT", "kid": kid}).to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret);
        let tag = ring::hmac::sign(&key, input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
    }

    #[test]
    fn hs256_with_public_key_as_secret_is_refused() {
        let rsa = Signer::rs256("rsa-1");
        let Signer::Rs(key, _) = &rsa else {
            unreachable!()
        };
        let public_der = key.public().as_ref().to_vec();
        let jwk_text = rsa.jwk().to_string();
        let idp = FakeIdp::start(rsa, &["client_secret_basic"]);
        let provider = idp.provider();
        let now = OffsetDateTime::now_utc();
        let claims = idp.claims("n");
        for secret in [public_der.as_slice(), jwk_text.as_bytes()] {
            expect_invalid(
                provider.verify_id_token(&hmac_token(secret, "rsa-1", &claims), "n", now),
                "HS256",
            );
        }
        // Same for an EC key's uncompressed point.
        let idp = FakeIdp::start(Signer::es256("ec-1"), &["client_secret_basic"]);
        let point = match idp.state().signer.as_ref().unwrap() {
            Signer::Es(key, _) => key.public_key().as_ref().to_vec(),
            Signer::Rs(..) => unreachable!(),
        };
        let provider = idp.provider();
        expect_invalid(
            provider.verify_id_token(&hmac_token(&point, "ec-1", &claims), "n", now),
            "HS256",
        );
    }

    #[test]
    fn tampered_and_malformed_tokens_are_refused() {
        let idp = FakeIdp::start(Signer::rs256("rsa-1"), &["client_secret_basic"]);
        let provider = idp.provider();
        let now = OffsetDateTime::now_utc();
        let token = idp.sign(&idp.claims("n"));
        assert!(provider.verify_id_token(&token, "n", now).is_ok());
        let parts: Vec<&str> = token.split('.').collect();

        let mut claims = idp.claims("n");
        claims["sub"] = json!("MO-7654321");
        let forged_payload = URL_SAFE_NO_PAD.encode(claims.to_string());
        let tampered = format!("{}.{forged_payload}.{}", parts[0], parts[2]);
        expect_invalid(provider.verify_id_token(&tampered, "n", now), "signature");

        let mut sig = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
        sig[10] ^= 1;
        let flipped = format!("{}.{}.{}", parts[0], parts[1], URL_SAFE_NO_PAD.encode(sig));
        expect_invalid(provider.verify_id_token(&flipped, "n", now), "signature");

        let cases = [
            (format!("{}.{}", parts[0], parts[1]), "three"),
            (format!("{token}.x"), "three"),
            (format!("{token}.x.y"), "JWE"),
            (format!("{}.{}.", parts[0], parts[1]), "empty signature"),
            (
                format!("{}=.{}.{}", parts[0], parts[1], parts[2]),
                "base64url",
            ),
            (format!("{}.{}.{}", parts[0], "e30", parts[2]), "signature"),
            ("a".repeat(MAX_ID_TOKEN_BYTES + 1), "16 KiB"),
        ];
        for (bad, needle) in cases {
            expect_invalid(provider.verify_id_token(&bad, "n", now), needle);
        }
        let crit = Signer::rs256("rsa-1").sign_with_header(
            &json!({"alg": "RS256", "kid": "rsa-1", "crit": ["b64"], "b64": false}),
            &idp.claims("n"),
        );
        expect_invalid(provider.verify_id_token(&crit, "n", now), "critical");
    }

    #[test]
    fn unknown_kid_refetches_jwks_rate_limited_then_follows_rotation() {
        let old = Signer::es256("k1");
        let idp = FakeIdp::start(Signer::es256("k1"), &["client_secret_basic"]);
        idp.set_keys(&[&old]);
        let provider = idp.provider();
        assert_eq!(idp.state().jwks_hits, 1);
        let now = OffsetDateTime::now_utc();

        // Rotation already published: one refetch finds the new key.
        let new = Signer::es256("k2");
        idp.set_keys(&[&old, &new]);
        let token = new.sign(&idp.claims("n"));
        assert!(provider.verify_id_token(&token, "n", now).is_ok());
        assert_eq!(idp.state().jwks_hits, 2);
        assert!(provider.verify_id_token(&token, "n", now).is_ok());
        assert_eq!(idp.state().jwks_hits, 2, "known kid must not refetch");

        // A kid the IdP has not published yet: refetch, still unknown.
        let newer = Signer::rs256("k3");
        let token = newer.sign(&idp.claims("n"));
        let t1 = now + time::Duration::seconds(61);
        expect_invalid(provider.verify_id_token(&token, "n", t1), "unknown key id");
        assert_eq!(idp.state().jwks_hits, 3);
        // Published now, but within 60 s of the last refetch: no new fetch.
        idp.set_keys(&[&new, &newer]);
        expect_invalid(
            provider.verify_id_token(&token, "n", t1 + time::Duration::seconds(30)),
            "less than 60 s",
        );
        assert_eq!(idp.state().jwks_hits, 3);
        // After 60 s it refetches and succeeds; k1 is gone with the new set.
        let t2 = t1 + time::Duration::seconds(61);
        assert!(provider.verify_id_token(&token, "n", t2).is_ok());
        assert_eq!(idp.state().jwks_hits, 4);
        let old_token = old.sign(&idp.claims("n"));
        expect_invalid(
            provider.verify_id_token(&old_token, "n", t2),
            "less than 60 s",
        );
    }

    #[test]
    fn token_without_kid_needs_a_single_fitting_key() {
        let idp = FakeIdp::start(Signer::es256("k1"), &["client_secret_basic"]);
        let provider = idp.provider();
        let now = OffsetDateTime::now_utc();
        let claims = idp.claims("n");
        let token = idp
            .state()
            .signer
            .as_ref()
            .unwrap()
            .sign_with_header(&json!({"alg": "ES256"}), &claims);
        assert!(provider.verify_id_token(&token, "n", now).is_ok());

        let (a, b) = (Signer::es256("a"), Signer::es256("b"));
        idp.set_keys(&[&a, &b]);
        let provider = idp.provider();
        let token = a.sign_with_header(&json!({"alg": "ES256"}), &claims);
        expect_invalid(provider.verify_id_token(&token, "n", now), "no kid");
    }

    #[test]
    fn oversized_or_unusable_jwks_is_refused() {
        let idp = FakeIdp::start(Signer::es256("k1"), &["client_secret_basic"]);
        let padding = "x".repeat(MAX_RESPONSE_BYTES as usize + 10);
        idp.state().jwks = json!({"keys": [], "padding": padding}).to_string();
        match OidcProvider::discover(&idp.config()) {
            Err(OidcError::ResponseTooLarge {
                what: "JWKS",
                limit,
            }) => {
                assert_eq!(limit, MAX_RESPONSE_BYTES);
            }
            other => panic!("{other:?}"),
        }

        let keys: Vec<Value> = (0..21)
            .map(|i| Signer::es256(&format!("k{i}")).jwk())
            .collect();
        idp.state().jwks = json!({ "keys": keys }).to_string();
        assert!(
            matches!(OidcProvider::discover(&idp.config()), Err(OidcError::Jwks(m)) if m.contains("at most 20"))
        );

        let unusable = [
            json!({"kty": "EC", "crv": "P-384", "kid": "a", "x": "AA", "y": "AA"}),
            json!({"kty": "oct", "kid": "b", "k": "c2VjcmV0"}),
            json!({"kty": "RSA", "kid": "c", "n": "AQAB", "e": "AQAB"}),
            json!({"kty": "RSA", "kid": "d", "alg": "RS256", "use": "enc", "n": "AQAB", "e": "AQAB"}),
        ];
        idp.state().jwks = json!({ "keys": unusable }).to_string();
        assert!(
            matches!(OidcProvider::discover(&idp.config()), Err(OidcError::Jwks(m)) if m.contains("no usable"))
        );
        idp.state().jwks = "not json".to_owned();
        assert!(matches!(
            OidcProvider::discover(&idp.config()),
            Err(OidcError::Jwks(_))
        ));
    }

    #[test]
    fn jwk_alg_must_match_token_alg() {
        let idp = FakeIdp::start(Signer::rs256("r"), &["client_secret_basic"]);
        let mut jwk = idp.state().signer.as_ref().unwrap().jwk();
        let extra = Signer::es256("e");
        jwk["alg"] = json!("ES256"); // an RSA key claiming ES256 can verify nothing
        idp.state().jwks = json!({"keys": [jwk, extra.jwk()]}).to_string();
        let provider = idp.provider();
        let token = idp.sign(&idp.claims("n"));
        expect_invalid(
            provider.verify_id_token(&token, "n", OffsetDateTime::now_utc()),
            "does not match",
        );
    }

    #[test]
    fn discovery_issuer_mismatch_is_refused() {
        let idp = FakeIdp::start(Signer::es256("k1"), &["client_secret_basic"]);
        idp.state().issuer_override = Some("https://account.gov.mo".into());
        match OidcProvider::discover(&idp.config()) {
            Err(OidcError::Discovery(m)) => assert!(m.contains("issuer mismatch"), "{m}"),
            other => panic!("{other:?}"),
        }
        // Trailing slash is a different issuer.
        let mut config = idp.config();
        config.issuer.push('/');
        idp.state().issuer_override = None;
        assert!(matches!(
            OidcProvider::discover(&config),
            Err(OidcError::Discovery(_))
        ));
    }

    #[test]
    fn discovered_endpoints_must_be_https_or_loopback() {
        let idp = FakeIdp::start(Signer::es256("k1"), &["client_secret_basic"]);
        idp.state().token_endpoint_override = Some("http://idp.example/token".into());
        assert!(
            matches!(OidcProvider::discover(&idp.config()), Err(OidcError::Discovery(m)) if m.contains("token_endpoint"))
        );
    }

    #[test]
    fn unsupported_client_auth_is_refused() {
        let idp = FakeIdp::start(Signer::es256("k1"), &["private_key_jwt"]);
        assert!(
            matches!(OidcProvider::discover(&idp.config()), Err(OidcError::Discovery(m)) if m.contains("client_secret_basic"))
        );
        assert_eq!(ClientAuth::choose(None).unwrap(), ClientAuth::Basic);
    }

    #[cfg(unix)]
    #[test]
    fn group_or_world_readable_secret_file_is_refused() {
        use std::os::unix::fs::PermissionsExt as _;
        let idp = FakeIdp::start(Signer::es256("k1"), &["client_secret_basic"]);
        let config = idp.config();
        for mode in [0o644, 0o640, 0o604, 0o660] {
            std::fs::set_permissions(
                &config.client_secret_file,
                std::fs::Permissions::from_mode(mode),
            )
            .unwrap();
            match OidcProvider::discover(&config) {
                Err(e @ OidcError::Config(_)) => {
                    let text = e.to_string();
                    assert!(text.contains("chmod 600"), "{text}");
                    assert!(!text.contains(CLIENT_SECRET));
                }
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(idp.state().jwks_hits, 0, "refused before any request");
        std::fs::set_permissions(
            &config.client_secret_file,
            std::fs::Permissions::from_mode(0o400),
        )
        .unwrap();
        assert!(OidcProvider::discover(&config).is_ok());
        std::fs::set_permissions(
            &config.client_secret_file,
            std::fs::Permissions::from_mode(0o600),
        )
        .unwrap();
        std::fs::write(&config.client_secret_file, " \n").unwrap();
        assert!(
            matches!(OidcProvider::discover(&config), Err(OidcError::Config(m)) if m.contains("empty"))
        );
        let missing = OidcConfig {
            client_secret_file: idp.dir.path().join("nope"),
            ..config
        };
        assert!(matches!(
            OidcProvider::discover(&missing),
            Err(OidcError::Config(_))
        ));
    }

    #[test]
    fn https_required_unless_insecure_allowed_for_loopback() {
        let ok = |url: &str, insecure: bool| check_url("u", url, insecure);
        assert_eq!(ok("https://account.gov.mo", false), Ok(false));
        assert_eq!(ok("https://account.gov.mo:8443/path?x=1", false), Ok(false));
        assert_eq!(ok("http://127.0.0.1:8080", true), Ok(true));
        assert_eq!(ok("http://localhost/x", true), Ok(true));
        assert_eq!(ok("http://[::1]:9000/", true), Ok(true));
        for (url, insecure) in [
            ("http://127.0.0.1:8080", false),
            ("http://account.gov.mo", true),
            ("http://127.0.0.1.evil.example", true),
            ("http://evil.example@127.0.0.1", true),
            ("http://127.0.0.1@evil.example", true),
            ("http://127.0.0.2", true),
            ("ftp://127.0.0.1", true),
            ("https://", false),
            ("https://a b", false),
            ("https://x/#frag", false),
            ("https://x:99999999/", false),
            ("https://x:/", false),
            ("https://[::1", false),
            ("//account.gov.mo", false),
        ] {
            assert!(ok(url, insecure).is_err(), "{url} accepted");
        }

        let base = OidcConfig {
            issuer: "https://account.gov.mo".into(),
            client_id: CLIENT_ID.into(),
            client_secret_file: "/nonexistent".into(),
            redirect_uri: "https://issuer.example/api/v1/auth/oidc/callback".into(),
            scopes: default_scopes(),
            allow_insecure_http: false,
            document_claim: None,
            portal_redirect_uri: None,
        };
        assert!(base.validate().is_ok());
        let refused = |config: OidcConfig| {
            assert!(
                matches!(config.validate(), Err(OidcError::Config(_))),
                "{config:?}"
            );
            assert!(matches!(
                OidcProvider::discover(&config),
                Err(OidcError::Config(_))
            ));
        };
        refused(OidcConfig {
            issuer: "http://127.0.0.1:1".into(),
            ..base.clone()
        });
        refused(OidcConfig {
            issuer: "http://account.gov.mo".into(),
            allow_insecure_http: true,
            ..base.clone()
        });
        refused(OidcConfig {
            redirect_uri: "http://issuer.example/cb".into(),
            ..base.clone()
        });
        refused(OidcConfig {
            issuer: "https://account.gov.mo?x=1".into(),
            ..base.clone()
        });
        refused(OidcConfig {
            scopes: vec!["profile".into()],
            ..base.clone()
        });
        refused(OidcConfig {
            scopes: vec!["openid".into(), "a b".into()],
            ..base.clone()
        });
        refused(OidcConfig {
            client_id: String::new(),
            ..base.clone()
        });
        // A loopback IdP over http with the flag is fine (the secret file then is the problem).
        let local = OidcConfig {
            issuer: "http://127.0.0.1:1".into(),
            allow_insecure_http: true,
            ..base
        };
        assert!(local.validate().is_ok());
    }

    #[test]
    fn config_deserializes_with_defaults_and_denies_unknown_fields() {
        let config: OidcConfig = serde_json::from_value(json!({
            "issuer": "https://account.gov.mo", "client_id": "c",
            "client_secret_file": "/etc/ccr/oidc-secret",
            "redirect_uri": "https://issuer.example/api/v1/auth/oidc/callback"}))
        .unwrap();
        assert_eq!(config.scopes, ["openid", "profile"]);
        assert!(!config.allow_insecure_http);
        let unknown = serde_json::from_value::<OidcConfig>(json!({
            "issuer": "https://account.gov.mo", "client_id": "c", "client_secret": "oops",
            "client_secret_file": "/x", "redirect_uri": "https://i/cb"}));
        assert!(unknown.is_err());
    }

    #[test]
    fn debug_output_hides_secrets_and_provider_is_shareable() {
        fn shareable<T: Send + Sync>() {}
        shareable::<OidcProvider>();
        let idp = FakeIdp::start(Signer::es256("k1"), &["client_secret_basic"]);
        let provider = idp.provider();
        let (_, pending) = provider.start(OffsetDateTime::now_utc());
        let text = format!("{provider:?} {pending:?}");
        for secret in [
            CLIENT_SECRET,
            &pending.state,
            &pending.nonce,
            &pending.code_verifier,
        ] {
            assert!(!text.contains(secret), "{text}");
        }
        // And a pending login round-trips through JSON for server-side storage.
        let stored = serde_json::to_string(&pending).unwrap();
        assert_eq!(
            serde_json::from_str::<PendingLogin>(&stored).unwrap(),
            pending
        );
    }

    #[test]
    fn token_endpoint_errors_carry_no_secrets() {
        let idp = FakeIdp::start(Signer::es256("k1"), &["client_secret_basic"]);
        let provider = idp.provider();
        let now = OffsetDateTime::now_utc();
        let (_, pending) = provider.start(now);
        let code = "very-secret-code";
        match provider.finish(&pending, code, &pending.state, now) {
            Err(e @ OidcError::Token(_)) => {
                let text = format!("{e} {e:?}");
                assert!(text.contains("invalid_grant"), "{text}");
                for secret in [code, CLIENT_SECRET, &pending.code_verifier] {
                    assert!(!text.contains(secret), "{text}");
                }
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            provider.finish(&pending, "bad\ncode", &pending.state, now),
            Err(OidcError::Token(_))
        ));
    }

    #[test]
    fn unreachable_idp_is_an_http_error() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let idp = FakeIdp::start(Signer::es256("k1"), &["client_secret_basic"]);
        let config = OidcConfig {
            issuer: format!("http://127.0.0.1:{port}"),
            ..idp.config()
        };
        assert!(matches!(
            OidcProvider::discover(&config),
            Err(OidcError::Http(_))
        ));
    }

    #[test]
    fn authorization_url_keeps_existing_query() {
        let idp = FakeIdp::start(Signer::es256("k1"), &["client_secret_basic"]);
        let mut provider = idp.provider();
        provider.authorization_endpoint = format!("{}/authorize?ui_locales=zh-MO", idp.base);
        let (url, _) = provider.start(OffsetDateTime::now_utc());
        assert!(url.starts_with(&format!(
            "{}/authorize?ui_locales=zh-MO&response_type=code&",
            idp.base
        )));
    }
}
