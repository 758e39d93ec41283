//! Portal sessions and form protection.
//!
//! The cookie holds 256 random bits; the registry keeps only their SHA-256 ([`crate::store::
//! web_sessions`]). On an https public URL the cookie is `__Host-ccr_session`, `Secure`,
//! `HttpOnly`, `SameSite=Lax`, `Path=/`; plain http is accepted only for a loopback public URL
//! (development), where the `__Host-` prefix and `Secure` cannot be used.
//!
//! Every unsafe request (a form post) must (1) not come from another site, by `Origin` and
//! `Sec-Fetch-Site`, and (2) carry the session's form token in the `csrf` field; otherwise it
//! is refused with 403 and nothing changes. A session starts anonymous and is replaced by a
//! new one at sign-in, so an id planted before sign-in is worthless after it.

use std::sync::Arc;

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use rand::Rng as _;
use serde::de::DeserializeOwned;
use time::{Duration, OffsetDateTime};

use super::i18n::Lang;
use crate::bureau::Services as AppState;
use crate::store::web_sessions::WebSessionRow;

/// Longest form body accepted, in bytes.
pub const MAX_FORM_BYTES: usize = 64 * 1024;
/// How long a portal session lives at most.
pub const LIFETIME: Duration = Duration::hours(8);

/// The three areas of the site. Each has its own sessions (a session opens only the area
/// it was made for) and its own cookie.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Area {
    /// The applicants' portal.
    Portal,
    /// The bureau's back office (`/staff`).
    Staff,
    /// The departments' portal (`/department`).
    Department,
}

impl Area {
    /// The sessions' `kind` in the registry.
    pub fn kind(self) -> &'static str {
        match self {
            Self::Portal => "portal",
            Self::Staff => "staff",
            Self::Department => "department",
        }
    }

    /// How long a session of this area lives unused.
    pub fn idle(self, state: &AppState) -> Duration {
        let a = &state.bureau.config().application;
        Duration::seconds(match self {
            Self::Portal => a.portal_idle_seconds,
            Self::Staff | Self::Department => a.back_office_idle_seconds,
        })
    }

    fn cookie_base(self) -> &'static str {
        match self {
            Self::Portal => "ccr_session",
            Self::Staff => "ccr_staff",
            Self::Department => "ccr_department",
        }
    }
}

/// An area known at compile time, for extractors.
pub trait InArea {
    /// The area.
    const AREA: Area;
}

/// The applicants' portal, as a type.
#[derive(Debug)]
pub struct PortalArea;
impl InArea for PortalArea {
    const AREA: Area = Area::Portal;
}

/// An area's cookie name and attributes for this public URL.
fn area_cookie(area: Area, public_url: &str) -> (String, &'static str) {
    let loopback_http = public_url.strip_prefix("http://").is_some_and(|rest| {
        let host = rest.split(['/', ':']).next().unwrap_or_default();
        matches!(host, "127.0.0.1" | "localhost") || rest.starts_with("[::1]")
    });
    if loopback_http {
        (area.cookie_base().to_owned(), "")
    } else {
        (format!("__Host-{}", area.cookie_base()), "; Secure")
    }
}

fn random_token() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v)
}

/// The visitor of a page: their live session, if any, and whether an earlier one has ended
/// (the pages then say so).
#[derive(Debug)]
pub struct Visitor {
    /// The live session.
    pub session: Option<WebSessionRow>,
    /// The cookie named a session that has timed out.
    pub timed_out: bool,
}

impl Visitor {
    /// The signed-in applicant, if any.
    pub fn applicant(&self) -> Option<&str> {
        self.session.as_ref()?.applicant_id.as_deref()
    }
}

impl FromRequestParts<Arc<AppState>> for Visitor {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        Self::of(parts, state, Area::Portal).await
    }
}

impl Visitor {
    /// The visitor of `area` (its cookie, its sessions).
    pub async fn of(parts: &Parts, state: &AppState, area: Area) -> Result<Self, Response> {
        let (name, _) = area_cookie(area, &state.bureau.config().public_url);
        let Some(id) = cookie_value(&parts.headers, &name) else {
            return Ok(Self {
                session: None,
                timed_out: false,
            });
        };
        let hash = crate::store::sha256_hex(id.as_bytes());
        let now = OffsetDateTime::now_utc();
        let store = state.bureau.store();
        let session = store
            .touch_web_session(&hash, area.kind(), now, area.idle(state))
            .await
            .map_err(|e| super::PageError::Internal(e.to_string()).into_response())?;
        let timed_out = session.is_none()
            && store
                .web_session_ended(&hash, now)
                .await
                .map_err(|e| super::PageError::Internal(e.to_string()).into_response())?;
        Ok(Self { session, timed_out })
    }
}

/// Who a new session is for.
#[derive(Debug, Default)]
pub struct SessionFor<'a> {
    /// A portal applicant.
    pub applicant: Option<&'a str>,
    /// A staff or department user who has given only the password (`role:name`).
    pub pending: Option<&'a str>,
    /// A staff or department user signed in with both factors (`role:name`).
    pub principal: Option<&'a str>,
}

/// Starts a portal session (anonymous, or for `applicant_id` at sign-in) and returns it with
/// the `Set-Cookie` value that hands it to the browser.
pub async fn start(
    state: &AppState,
    applicant_id: Option<&str>,
) -> Result<(WebSessionRow, HeaderValue), super::PageError> {
    start_in(
        state,
        Area::Portal,
        SessionFor {
            applicant: applicant_id,
            ..SessionFor::default()
        },
    )
    .await
}

/// Starts a session of `area` with a fresh id (never one the browser brought: no fixation).
pub async fn start_in(
    state: &AppState,
    area: Area,
    who: SessionFor<'_>,
) -> Result<(WebSessionRow, HeaderValue), super::PageError> {
    let id = random_token();
    let now = OffsetDateTime::now_utc();
    let idle = area.idle(state);
    let row = WebSessionRow {
        id_hash: crate::store::sha256_hex(id.as_bytes()),
        applicant_id: who.applicant.map(str::to_owned),
        kind: area.kind().to_owned(),
        pending: who.pending.map(str::to_owned),
        principal: who.principal.map(str::to_owned),
        csrf_token: random_token(),
        idle_until: crate::store::stored_instant(now + idle),
        expires_at: crate::store::stored_instant(now + LIFETIME),
    };
    state
        .bureau
        .store()
        .create_web_session(&row, now, idle, LIFETIME)
        .await
        .map_err(|e| super::PageError::Internal(e.to_string()))?;
    let (name, secure) = area_cookie(area, &state.bureau.config().public_url);
    let cookie = format!(
        "{name}={id}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
        LIFETIME.whole_seconds()
    );
    let header =
        HeaderValue::from_str(&cookie).map_err(|e| super::PageError::Internal(e.to_string()))?;
    Ok((row, header))
}

/// The `Set-Cookie` value that removes the portal's session cookie.
pub fn clear_cookie(state: &AppState) -> HeaderValue {
    clear_area_cookie(state, Area::Portal)
}

/// The `Set-Cookie` value that removes an area's session cookie.
pub fn clear_area_cookie(state: &AppState, area: Area) -> HeaderValue {
    let (name, secure) = area_cookie(area, &state.bureau.config().public_url);
    HeaderValue::from_str(&format!(
        "{name}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}"
    ))
    .unwrap_or(HeaderValue::from_static(""))
}

/// A form refused for coming from another site or without the session's token (the page in
/// the form's language).
#[derive(Debug)]
pub struct Forbidden(&'static str, Lang);

impl IntoResponse for Forbidden {
    fn into_response(self) -> Response {
        eprintln!("issuer: refused a form post: {}", self.0);
        let mut response = super::PageError::Forbidden(self.1).into_response();
        *response.status_mut() = StatusCode::FORBIDDEN;
        response
    }
}

/// Whether the request comes from our own pages: a browser's `Sec-Fetch-Site` must be
/// `same-origin` (or `none`, typed by the user), and an `Origin` must be the public URL's.
fn same_site(headers: &HeaderMap, public_url: &str) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok())
        && !matches!(site, "same-origin" | "none")
    {
        return false;
    }
    match headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        None => true,
        Some(origin) => {
            let expected = public_url.trim_end_matches('/');
            let scheme_host = expected
                .find("://")
                .and_then(|i| expected[i + 3..].find('/').map(|j| &expected[..i + 3 + j]))
                .unwrap_or(expected);
            origin == scheme_host
        }
    }
}

/// Compares two tokens in time independent of where they differ.
fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// A posted form of area `A` (the portal unless named) that passed the site and token
/// checks, with its session and its fields.
#[derive(Debug)]
pub struct CheckedForm<T, A = PortalArea> {
    /// The session the form belongs to.
    pub session: WebSessionRow,
    /// The fields.
    pub fields: T,
    area: std::marker::PhantomData<A>,
}

#[derive(serde::Deserialize)]
struct TokenOnly {
    #[serde(default)]
    csrf: String,
}

/// The language of a form post's answer: its action's `?lang=`, the cookie, `Accept-Language`.
pub fn form_lang(parts: &Parts) -> Lang {
    let chosen = parts
        .uri
        .query()
        .and_then(|q| serde_urlencoded::from_str::<super::LangQuery>(q).ok())
        .and_then(|q| q.lang);
    Lang::of_request(chosen.as_deref(), &parts.headers)
}

/// The session of a form post from this site, or the answer refusing it (403 for another
/// site, the timeout page without a live session).
pub async fn posting_session(
    parts: &mut Parts,
    state: &Arc<AppState>,
) -> Result<WebSessionRow, Response> {
    posting_session_in(parts, state, Area::Portal).await
}

/// [`posting_session`] of `area`.
pub async fn posting_session_in(
    parts: &Parts,
    state: &AppState,
    area: Area,
) -> Result<WebSessionRow, Response> {
    let lang = form_lang(parts);
    if !same_site(&parts.headers, &state.bureau.config().public_url) {
        return Err(Forbidden("cross-site request", lang).into_response());
    }
    let visitor = Visitor::of(parts, state, area).await?;
    visitor
        .session
        .ok_or_else(|| super::PageError::TimedOut(lang).into_response())
}

/// The cookie that carries a pending OpenID Connect sign-in's `state` and where to go after
/// it (ten minutes): the portal's callback accepts only the state this browser began, so
/// nobody can sign a victim into the attacker's account with a crafted callback link.
const OIDC_COOKIE: &str = "ccr_oidc";

/// `Set-Cookie` for a pending sign-in (`value` is `state.next`, both base64url).
pub fn oidc_cookie(state: &AppState, value: &str) -> Result<HeaderValue, super::PageError> {
    let (session_name, secure) = area_cookie(Area::Portal, &state.bureau.config().public_url);
    let name = oidc_cookie_name(&session_name);
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age=600{secure}"
    ))
    .map_err(|e| super::PageError::Internal(e.to_string()))
}

/// `Set-Cookie` removing the pending sign-in's cookie.
pub fn clear_oidc_cookie(state: &AppState) -> HeaderValue {
    let (session_name, secure) = area_cookie(Area::Portal, &state.bureau.config().public_url);
    let name = oidc_cookie_name(&session_name);
    HeaderValue::from_str(&format!(
        "{name}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}"
    ))
    .unwrap_or(HeaderValue::from_static(""))
}

/// The pending sign-in cookie's value, if the browser sent one.
pub fn oidc_cookie_value<'a>(state: &AppState, headers: &'a HeaderMap) -> Option<&'a str> {
    let (session_name, _) = area_cookie(Area::Portal, &state.bureau.config().public_url);
    cookie_value(headers, &oidc_cookie_name(&session_name))
}

/// `__Host-ccr_oidc` beside `__Host-ccr_session`, `ccr_oidc` beside `ccr_session`.
fn oidc_cookie_name(session_name: &str) -> String {
    session_name.replace("ccr_session", OIDC_COOKIE)
}

/// Whether two secrets are equal (constant time).
pub fn same_secret(a: &str, b: &str) -> bool {
    same_token(a, b)
}

/// Whether a form's token is its session's (constant time).
pub fn token_matches(sent: &str, session: &WebSessionRow) -> bool {
    same_token(sent, &session.csrf_token)
}

/// Refuses a form post: 403 (a page in `lang`) with the reason logged.
pub fn refuse(reason: &'static str, lang: Lang) -> Response {
    Forbidden(reason, lang).into_response()
}

impl<T: DeserializeOwned, A: InArea> FromRequest<Arc<AppState>> for CheckedForm<T, A> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &Arc<AppState>) -> Result<Self, Self::Rejection> {
        let (parts, body) = req.into_parts();
        let session = posting_session_in(&parts, state, A::AREA).await?;
        let lang = form_lang(&parts);
        let bytes = axum::body::to_bytes(body, MAX_FORM_BYTES)
            .await
            .map_err(|_| StatusCode::PAYLOAD_TOO_LARGE.into_response())?;
        let token: TokenOnly = serde_urlencoded::from_bytes(&bytes)
            .map_err(|_| Forbidden("unreadable form", lang).into_response())?;
        if !same_token(&token.csrf, &session.csrf_token) {
            return Err(Forbidden("missing or wrong form token", lang).into_response());
        }
        let fields = serde_urlencoded::from_bytes(&bytes)
            .map_err(|_| StatusCode::BAD_REQUEST.into_response())?;
        Ok(Self {
            session,
            fields,
            area: std::marker::PhantomData,
        })
    }
}

/// `POST /session/keep-alive`: the timeout warning's "stay signed in" (the session, of
/// whichever area carries the sent form token, was renewed by being looked up). The form
/// token comes in `x-csrf-token`.
pub async fn keep_alive(
    axum::extract::State(state): axum::extract::State<Arc<AppState>>,
    request: Request,
) -> Response {
    let (parts, _) = request.into_parts();
    let headers = &parts.headers;
    if !same_site(headers, &state.bureau.config().public_url) {
        return Forbidden("cross-site keep-alive", Lang::of_request(None, headers)).into_response();
    }
    let sent = headers
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let mut any = false;
    for area in [Area::Portal, Area::Staff, Area::Department] {
        let visitor = match Visitor::of(&parts, &state, area).await {
            Ok(v) => v,
            Err(response) => return response,
        };
        if let Some(session) = visitor.session {
            any = true;
            if same_token(sent, &session.csrf_token) {
                return StatusCode::NO_CONTENT.into_response();
            }
        }
    }
    if !any {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    Forbidden(
        "keep-alive without the form token",
        Lang::of_request(None, headers),
    )
    .into_response()
}

/// `GET /session/timed-out`: where the timeout warning sends a browser whose session ended.
pub async fn timed_out(
    axum::extract::Query(query): axum::extract::Query<super::LangQuery>,
    headers: HeaderMap,
) -> Response {
    let (lang, _) = super::language(&query, &headers);
    let mut response = super::PageError::TimedOut(lang).into_response();
    *response.status_mut() = StatusCode::OK;
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cookie_is_secure_except_on_loopback_http() {
        let spec = |url| area_cookie(Area::Portal, url);
        assert_eq!(spec("http://127.0.0.1:8080"), ("ccr_session".into(), ""));
        assert_eq!(spec("http://localhost:8080/"), ("ccr_session".into(), ""));
        assert_eq!(
            spec("https://ccr.dsi.gov.mo"),
            ("__Host-ccr_session".into(), "; Secure")
        );
        assert_eq!(
            spec("http://ccr.dsi.gov.mo"),
            ("__Host-ccr_session".into(), "; Secure")
        );
        assert_eq!(
            spec("http://127.0.0.1.evil.example"),
            ("__Host-ccr_session".into(), "; Secure")
        );
        assert_eq!(
            area_cookie(Area::Staff, "https://ccr.dsi.gov.mo"),
            ("__Host-ccr_staff".into(), "; Secure")
        );
    }

    #[test]
    fn only_our_own_origin_may_post() {
        let mut h = HeaderMap::new();
        assert!(same_site(&h, "https://ccr.dsi.gov.mo"));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://ccr.dsi.gov.mo"),
        );
        assert!(same_site(&h, "https://ccr.dsi.gov.mo/"));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://evil.example"),
        );
        assert!(!same_site(&h, "https://ccr.dsi.gov.mo"));
        let mut h = HeaderMap::new();
        h.insert("sec-fetch-site", HeaderValue::from_static("cross-site"));
        assert!(!same_site(&h, "https://ccr.dsi.gov.mo"));
        h.insert("sec-fetch-site", HeaderValue::from_static("same-origin"));
        assert!(same_site(&h, "https://ccr.dsi.gov.mo"));
        assert!(same_token("abc", "abc") && !same_token("abc", "abd") && !same_token("ab", "abc"));
    }
}
