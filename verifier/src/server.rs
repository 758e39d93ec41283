//! `verifier serve`: the stateless verification service and page (SPEC §6–§8).
//!
//! - `POST /api/v1/verify` (a PDF body) and `POST /api/v1/verify-token` answer the same JSON
//!   report as `verifier check --json` / `verifier token --json`, with the status list named
//!   in the certificate fetched from the issuer and cached in memory by its own ttl/exp.
//! - `GET /api/v1/trust` gives the browser the token-signing keys (from the issuer's bundle,
//!   only those chaining to the configured root), so a QR token is verified in the browser.
//! - The page (`/`, `/verify`, `/assets/…`: `ccr_web::verify_page`, the same page the issuer
//!   serves), `/healthz`, `/metrics`, `/api/openapi.json`.
//!
//! Limits (SPEC §8): a body over `max_body_bytes` is refused while being read (413); more
//! than `max_concurrent` verifications in flight are refused at once (429), never queued;
//! a verification over `timeout` answers 503. Nothing is written to disk: the caches are the
//! only state, so any number of instances answer alike.

mod metrics;

use std::net::SocketAddr;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{MatchedPath, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use http_body_util::BodyExt as _;
use serde::Deserialize;
use serde_json::json;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use ccr_pki::chain::TrustRoot;
use ccr_pki::pdf::Limits;
use ccr_pki::status_list::SignedStatusList;

use crate::check::{CheckContext, StatusInput, check_pdf, check_token};
use crate::evidence::{self, StatusUsed};
use crate::fetch::{self, Fetcher};
use crate::report::{Report, Verdict};
use crate::trust::Trusted;

pub use ccr_pki::bundle::{TokenSigner, TrustAnswer};
pub use metrics::Metrics;

use ccr_web::verify_page::{self, PdfUpload, VerifyPage};

const OPENAPI_JSON: &str = include_str!("../openapi.json");
const REPORT_SCHEMA: &str = include_str!("../../schemas/verification-report.schema.json");
const EVIDENCE_SCHEMA: &str = include_str!("../../schemas/evidence-bundle.schema.json");

/// Largest `verify-token` body: a token URL is at most 4 KiB, so this is generous.
const MAX_TOKEN_BODY_BYTES: usize = 64 * 1024;

/// Largest first allocation for a body.
const MAX_PREALLOCATION: usize = 16 * 1024 * 1024;

/// The routes, as metric labels (a fixed set, so arbitrary paths cannot grow the metrics).
const ROUTES: [&str; 11] = [
    "/",
    "/verify",
    "/assets/verify.js",
    "/assets/style.css",
    "/api/v1/verify",
    "/api/v1/verify-token",
    "/api/v1/trust",
    "/api/openapi.json",
    "/healthz",
    "/metrics",
    "unmatched",
];

/// How `verifier serve` is configured.
#[derive(Debug, Clone)]
pub struct Config {
    /// The one trust anchor.
    pub root: TrustRoot,
    /// The issuer's public base URL (no trailing slash): the bundle comes from `<issuer>/trust`
    /// and status lists are fetched only under `<issuer>/status/`. Without it, both come from
    /// the issuer a certificate names.
    pub issuer: Option<String>,
    /// Largest request body, enforced while reading.
    pub max_body_bytes: usize,
    /// Most verifications in flight; more are refused with 429.
    pub max_concurrent: usize,
    /// Time allowed per verification (reading the body included); then 503.
    pub timeout: Duration,
    /// PDF parsing limits.
    pub limits: Limits,
    /// Header deadline and connection cap (slow and numerous clients).
    pub connections: ccr_web::ConnectionLimits,
}

/// Shared state: configuration and caches, nothing else.
#[derive(Debug)]
struct AppState {
    config: Config,
    fetcher: Fetcher,
    permits: Arc<Semaphore>,
    metrics: Metrics,
    csp: HeaderValue,
    openapi: String,
    /// The status list the last verified certificate named (a hint, see `verify_pdf`).
    last_list: RwLock<Option<Arc<str>>>,
}

/// An error answer: `{"error": "..."}`; never carries internal details.
#[derive(Debug)]
struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    fn internal() -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
    }

    fn too_large(limit: &BodyLimit) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "the request body exceeds the limit of {} bytes ({})",
                limit.bytes, limit.name
            ),
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (
            self.status,
            [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
            axum::Json(json!({ "error": self.message })),
        )
            .into_response();
        if self.status == StatusCode::TOO_MANY_REQUESTS {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}

/// The service's router.
pub fn router(config: Config) -> Router {
    let fetch_timeout = config.timeout.min(fetch::REQUEST_TIMEOUT);
    let state = Arc::new(AppState {
        csp: verify_page::content_security_policy(config.issuer.as_deref()),
        fetcher: Fetcher::in_memory().with_timeout(fetch_timeout),
        permits: Arc::new(Semaphore::new(config.max_concurrent)),
        metrics: Metrics::default(),
        openapi: openapi_document(),
        last_list: RwLock::default(),
        config,
    });
    let page = VerifyPage::new(&PdfUpload::Here);
    Router::new()
        .merge(page.router(&["/", "/verify"], true))
        .route("/api/v1/verify", post(verify_pdf))
        .route("/api/v1/verify-token", post(verify_token))
        .route("/api/v1/trust", get(trust))
        .route("/api/openapi.json", get(openapi))
        .route("/healthz", get(health))
        .route("/metrics", get(metrics))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(
            Arc::clone(&state),
            headers_and_metrics,
        ))
        .with_state(state)
}

/// Serves on `listener` until Ctrl-C.
pub async fn serve(config: Config, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    let limits = config.connections;
    ccr_web::serve(listener, router(config), limits, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
}

/// Binds `listen` and serves until Ctrl-C.
pub async fn bind_and_serve(config: Config, listen: SocketAddr) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    eprintln!(
        "verifier: serving on http://{} (issuer {})",
        listener.local_addr()?,
        config
            .issuer
            .as_deref()
            .unwrap_or("named by each certificate")
    );
    serve(config, listener).await
}

/// Security headers on every answer, and the request counter by route and status.
async fn headers_and_metrics(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .and_then(|m| route_label(m.as_str()))
        .unwrap_or("unmatched");
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, state.csp.clone());
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    state.metrics.request(route, response.status().as_u16());
    response
}

/// The metric label of a matched route: the page's hashed assets count as their stable paths.
fn route_label(matched: &str) -> Option<&'static str> {
    let matched = if matched == verify_page::script_path() {
        verify_page::SCRIPT_PATH
    } else if matched == verify_page::style_path() {
        verify_page::STYLE_PATH
    } else {
        matched
    };
    ROUTES.iter().find(|r| **r == matched).copied()
}

/// The OpenAPI document with the report schema of `schemas/` put in, so the two cannot drift.
fn openapi_document() -> String {
    let mut doc: serde_json::Value = match serde_json::from_str(OPENAPI_JSON) {
        Ok(doc) => doc,
        Err(_) => return OPENAPI_JSON.to_owned(),
    };
    for (text, pointer) in [
        (REPORT_SCHEMA, "/components/schemas/VerificationReport"),
        (EVIDENCE_SCHEMA, "/components/schemas/EvidenceBundle"),
    ] {
        if let (Ok(mut schema), Some(slot)) = (
            serde_json::from_str::<serde_json::Value>(text),
            doc.pointer_mut(pointer),
        ) {
            if let Some(map) = schema.as_object_mut() {
                // The dialect is OpenAPI 3.1's default (2020-12); the examples are for the
                // schema.
                map.remove("$schema");
                map.remove("examples");
            }
            *slot = schema;
        }
    }
    serde_json::to_string_pretty(&doc).unwrap_or_else(|_| OPENAPI_JSON.to_owned())
}

async fn openapi(State(state): State<Arc<AppState>>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        state.openapi.clone(),
    )
        .into_response()
}

async fn health() -> &'static str {
    "ok"
}

async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    let in_flight = state
        .config
        .max_concurrent
        .saturating_sub(state.permits.available_permits());
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        state.metrics.render(in_flight),
    )
        .into_response()
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "no such resource")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method not allowed on this resource (see the Allow header)",
    )
}

/// The query of `POST /api/v1/verify`; any other parameter is refused, not ignored.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct VerifyQuery {
    /// Judge at this instant (RFC 3339) instead of the server's clock.
    at: Option<String>,
    /// `1`: answer the evidence bundle of the verification (SPEC §11) instead of the report.
    evidence: Option<String>,
}

/// The body of `POST /api/v1/verify-token`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenRequest {
    /// The URL read from the QR code, or its base64url part.
    token: String,
    /// Judge at this instant (RFC 3339) instead of the server's clock.
    #[serde(default)]
    at: Option<String>,
}

fn parse_at(at: Option<&str>) -> Result<Option<OffsetDateTime>, ApiError> {
    let unprocessable = |message| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, message);
    at.map(|text| {
        let at = OffsetDateTime::parse(text, &Rfc3339)
            .map_err(|e| unprocessable(format!("`at` is not an RFC 3339 date-time: {e}")))?;
        ccr_pki::validity::check_instant("`at`", at).map_err(unprocessable)
    })
    .transpose()
}

/// Refuses a multipart form upload (it would only be MALFORMED, hiding the caller's
/// mistake). Any other type is read as the PDF: `curl --data-binary` sends the file's bytes
/// unchanged under `application/x-www-form-urlencoded`.
fn check_pdf_content_type(headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Ok(());
    };
    let essence = value
        .to_str()
        .unwrap_or_default()
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if essence.starts_with("multipart/") {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send the PDF itself as the body (Content-Type: application/pdf), not a form",
        ));
    }
    Ok(())
}

/// A body size limit and how the error names it.
#[derive(Debug, Clone, Copy)]
struct BodyLimit {
    bytes: usize,
    name: &'static str,
}

/// Refuses at once a body whose declared length is over `limit`.
fn check_declared_length(headers: &HeaderMap, limit: &BodyLimit) -> Result<usize, ApiError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    match declared {
        Some(n) if n > limit.bytes as u64 => Err(ApiError::too_large(limit)),
        Some(n) => Ok(usize::try_from(n).unwrap_or(0)),
        None => Ok(0),
    }
}

/// Reads the body, failing as soon as it passes `limit`: never more than `limit` bytes are
/// held, whatever the client sends.
async fn read_body(body: Body, limit: BodyLimit, declared: usize) -> Result<Vec<u8>, ApiError> {
    let mut body = body;
    // The declared length only sizes the first allocation, and never past a few MiB: the
    // limit, not the client, bounds the memory.
    let mut bytes = Vec::with_capacity(declared.min(limit.bytes).min(MAX_PREALLOCATION));
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "the request body could not be read",
            )
        })?;
        if let Ok(data) = frame.into_data() {
            if bytes.len().saturating_add(data.len()) > limit.bytes {
                return Err(ApiError::too_large(&limit));
            }
            bytes.extend_from_slice(&data);
        }
    }
    Ok(bytes)
}

/// Takes a verification slot, or refuses at once.
fn take_permit(state: &AppState) -> Result<OwnedSemaphorePermit, ApiError> {
    Arc::clone(&state.permits).try_acquire_owned().map_err(|_| {
        ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "more than {} verifications in flight (--max-concurrent); retry shortly",
                state.config.max_concurrent
            ),
        )
    })
}

/// The verdict as the report spells it, for metric labels.
fn verdict_name(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Malformed => "MALFORMED",
        Verdict::InvalidSignature => "INVALID_SIGNATURE",
        Verdict::Modified => "MODIFIED",
        Verdict::Untrusted => "UNTRUSTED",
        Verdict::Mismatch => "MISMATCH",
        Verdict::Revoked => "REVOKED",
        Verdict::Superseded => "SUPERSEDED",
        Verdict::Suspended => "SUSPENDED",
        Verdict::Expired => "EXPIRED",
        Verdict::NotYetValid => "NOT_YET_VALID",
        Verdict::StatusUnknown => "STATUS_UNKNOWN",
        Verdict::Valid => "VALID",
    }
}

/// Runs a verification on the blocking pool before `deadline`. The permit travels with the
/// work, so a verification that outlives its deadline still counts against the limit.
async fn run_verification<F, T>(
    state: &Arc<AppState>,
    kind: &'static str,
    permit: OwnedSemaphorePermit,
    deadline: tokio::time::Instant,
    work: F,
) -> Result<T, ApiError>
where
    F: FnOnce(&AppState) -> Result<T, ApiError> + Send + 'static,
    T: AsRef<Report> + Send + 'static,
{
    let worker_state = Arc::clone(state);
    let started = Instant::now();
    let handle = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        work(&worker_state)
    });
    match tokio::time::timeout_at(deadline, handle).await {
        Err(_) => Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "the verification took longer than the limit of {} ms (--timeout-ms); retry later",
                state.config.timeout.as_millis()
            ),
        )),
        Ok(Err(e)) => {
            // A panic in the checks is a bug: logged here, never shown to the caller.
            eprintln!("verifier: a verification task failed: {e}");
            Err(ApiError::internal())
        }
        Ok(Ok(result)) => {
            if let Ok(answer) = &result {
                let report = answer.as_ref();
                state
                    .metrics
                    .verification(kind, verdict_name(report.verdict), started.elapsed());
            }
            result
        }
    }
}

/// A verification's report and its evidence bundle (`?evidence=1`).
struct Evidenced {
    report: Report,
    bundle: Vec<u8>,
}

impl AsRef<Report> for Evidenced {
    fn as_ref(&self) -> &Report {
        &self.report
    }
}

fn report_response(report: &Report) -> Response {
    (
        [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        axum::Json(report),
    )
        .into_response()
}

/// `POST /api/v1/verify`: the body is the PDF.
async fn verify_pdf(
    State(state): State<Arc<AppState>>,
    query: Result<Query<VerifyQuery>, QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let Query(query) =
        query.map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.body_text()))?;
    let at = parse_at(query.at.as_deref())?;
    let evidence = match query.evidence.as_deref() {
        None | Some("0" | "false") => false,
        Some("1" | "true") => true,
        Some(other) => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!(
                    "`evidence` is 1 or 0, not {:?}",
                    other.chars().take(16).collect::<String>()
                ),
            ));
        }
    };
    check_pdf_content_type(&headers)?;
    let limit = BodyLimit {
        bytes: state.config.max_body_bytes,
        name: "--max-body-bytes",
    };
    let declared = check_declared_length(&headers, &limit)?;
    let permit = take_permit(&state)?;
    let deadline = tokio::time::Instant::now() + state.config.timeout;
    let bytes = tokio::time::timeout_at(deadline, read_body(body, limit, declared))
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "the upload took longer than the time allowed per request (--timeout-ms)",
            )
        })??;
    if evidence {
        let Evidenced { bundle, .. } =
            run_verification(&state, "pdf", permit, deadline, move |state| {
                let (report, acquired) = state.verify_pdf(&bytes, at);
                let bundle = state.evidence(&bytes, &acquired, &report)?;
                Ok(Evidenced { report, bundle })
            })
            .await?;
        return Ok((
            [
                (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                ),
            ],
            bundle,
        )
            .into_response());
    }
    let report = run_verification(&state, "pdf", permit, deadline, move |state| {
        Ok(state.verify_pdf(&bytes, at).0)
    })
    .await?;
    Ok(report_response(&report))
}

/// Refuses a query string on an endpoint that takes none (a parameter is never ignored).
fn refuse_query(uri: &axum::http::Uri) -> Result<(), ApiError> {
    match uri.query().filter(|q| !q.is_empty()) {
        None => Ok(()),
        Some(query) => {
            let name: String = query
                .split(['&', '='])
                .next()
                .unwrap_or_default()
                .chars()
                .take(64)
                .collect();
            Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("unknown query parameter `{name}`: this endpoint takes none"),
            ))
        }
    }
}

/// `POST /api/v1/verify-token`: `{"token": "...", "at": "..."}`.
async fn verify_token(
    State(state): State<Arc<AppState>>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    refuse_query(&uri)?;
    let limit = if state.config.max_body_bytes < MAX_TOKEN_BODY_BYTES {
        BodyLimit {
            bytes: state.config.max_body_bytes,
            name: "--max-body-bytes",
        }
    } else {
        BodyLimit {
            bytes: MAX_TOKEN_BODY_BYTES,
            name: "the largest token request",
        }
    };
    let declared = check_declared_length(&headers, &limit)?;
    let permit = take_permit(&state)?;
    let deadline = tokio::time::Instant::now() + state.config.timeout;
    let bytes = tokio::time::timeout_at(deadline, read_body(body, limit, declared))
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "the request took longer than the time allowed (--timeout-ms)",
            )
        })??;
    // The content type is not insisted on: the body must parse, which is what matters.
    let request: TokenRequest = serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "the body must be JSON {{\"token\": \"<URL or base64url>\", \"at\": \"<RFC 3339, optional>\"}}: {e}"
            ),
        )
    })?;
    let at = parse_at(request.at.as_deref())?;
    let token = ccr_pki::token::from_url_or_text(&request.token).map_err(|e| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("`token` is not a verification URL or base64url token: {e}"),
        )
    })?;
    let report = run_verification(&state, "token", permit, deadline, move |state| {
        state.verify_token(&token, at)
    })
    .await?;
    Ok(report_response(&report))
}

/// `GET /api/v1/trust`.
async fn trust(
    State(state): State<Arc<AppState>>,
    uri: axum::http::Uri,
) -> Result<Response, ApiError> {
    refuse_query(&uri)?;
    let Some(issuer) = state.config.issuer.clone() else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "this verifier was started without --issuer, so it publishes no token signers",
        ));
    };
    let worker_state = Arc::clone(&state);
    let handle = tokio::task::spawn_blocking(move || {
        let now = OffsetDateTime::now_utc();
        let url = format!("{issuer}/trust");
        let trusted = worker_state.bundle(&url, now)?;
        Ok::<_, ApiError>(TrustAnswer {
            issuer,
            token_signers: ccr_pki::bundle::token_signers(
                &worker_state.config.root,
                &trusted.certificates,
                &trusted.windows,
                now,
            ),
            status_list_ttl_seconds: ccr_pki::status_list::DEFAULT_TTL_SECONDS,
            usages: trusted.usages.clone(),
        })
    });
    let answer = match tokio::time::timeout(state.config.timeout, handle).await {
        Err(_) => {
            return Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "the issuer's trust bundle could not be fetched in time",
            ));
        }
        Ok(Err(e)) => {
            eprintln!("verifier: a trust task failed: {e}");
            return Err(ApiError::internal());
        }
        Ok(Ok(answer)) => answer?,
    };
    Ok((
        [(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=300"),
        )],
        axum::Json(answer),
    )
        .into_response())
}

/// What is known of a certificate's status list.
enum Acquired {
    Unavailable(String),
    List(Arc<SignedStatusList>),
}

impl Acquired {
    fn input(&self) -> StatusInput<'_> {
        match self {
            Self::Unavailable(why) => StatusInput::Unavailable(why),
            Self::List(list) => StatusInput::List(list),
        }
    }
}

impl AppState {
    /// The instant to judge at: the caller's `at` (a what-if), else the clock, never
    /// earlier than the newest signed time seen (SPEC §5). Called after the status list is
    /// acquired, so a list signed by a clock slightly ahead of ours is not "from the future".
    fn judging_time(&self, at: Option<OffsetDateTime>) -> OffsetDateTime {
        at.unwrap_or_else(|| {
            let now = OffsetDateTime::now_utc();
            self.fetcher
                .clock_floor()
                .map_or(now, |floor| now.max(floor))
        })
    }

    /// The status list at `uri` (named by the certificate), as `verifier … --status online`.
    fn status(&self, uri: Option<&str>, at: Option<OffsetDateTime>) -> Acquired {
        let Some(uri) = uri else {
            return Acquired::Unavailable("the certificate names no status list".into());
        };
        if let Some(issuer) = &self.config.issuer {
            // Only the configured issuer is contacted: an uploaded file cannot make the
            // service fetch arbitrary URLs.
            if !fetch::is_status_list_of(issuer, uri) {
                return Acquired::Unavailable(format!(
                    "{uri} is not a status list of the configured issuer {issuer}"
                ));
            }
        }
        let now = self.judging_time(at);
        match self.fetcher.shared_status_list(uri, &self.config.root, now) {
            Ok((list, _)) => Acquired::List(list),
            Err(why) => Acquired::Unavailable(why),
        }
    }

    /// The bundle at `url`, as fetched (or cached) and accepted (`crate::trust`).
    fn bundle(&self, url: &str, now: OffsetDateTime) -> Result<Arc<Trusted>, ApiError> {
        self.fetcher
            .trusted_bundle(url, &self.config.root, now)
            .map_err(|why| {
                eprintln!("verifier: trust bundle: {why}");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    format!(
                        "the issuer's trust bundle from {url} is unavailable or refused: {why}"
                    ),
                )
            })
    }

    /// The key windows of the configured issuer's bundle, for judging a PDF; none when no
    /// issuer is configured or its bundle cannot be had (the PDF is then judged by its
    /// certificates and embedded revocation data alone, as before the key lifecycle).
    fn windows(&self) -> Arc<Trusted> {
        let Some(issuer) = &self.config.issuer else {
            return Arc::default();
        };
        self.bundle(&format!("{issuer}/trust"), OffsetDateTime::now_utc())
            .unwrap_or_default()
    }

    /// The evidence bundle (SPEC §11) of a verification that gave `report` with `acquired`,
    /// recording the exact signed list the fetcher holds (authenticated again and required
    /// to read as the list used).
    fn evidence(
        &self,
        pdf: &[u8],
        acquired: &Acquired,
        report: &Report,
    ) -> Result<Vec<u8>, ApiError> {
        let failed = |why: String| {
            eprintln!("verifier: evidence bundle: {why}");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "the evidence bundle could not be made (the status list changed meanwhile); retry",
            )
        };
        let root_pem = ccr_pki::hierarchy::der_to_pem("CERTIFICATE", self.config.root.der())
            .map_err(|e| failed(e.to_string()))?;
        let cwt = match acquired {
            Acquired::List(list) => Some(
                self.fetcher
                    .status_list_cwt(&list.uri, &self.config.root, list)
                    .ok_or_else(|| failed(format!("no signed copy of {} is kept", list.uri)))?,
            ),
            Acquired::Unavailable(_) => None,
        };
        let status = match (acquired, &cwt) {
            (Acquired::Unavailable(why), _) => StatusUsed::Unavailable(why),
            (_, Some(cwt)) => StatusUsed::List(cwt),
            (Acquired::List(_), None) => StatusUsed::None,
        };
        evidence::write(pdf, root_pem.as_bytes(), status, report.checked_at, report)
            .map_err(|e| failed(e.to_string()))
    }

    /// Verifies a PDF as `verifier check --status online` does; also returns the status
    /// information used.
    fn verify_pdf(&self, bytes: &[u8], at: Option<OffsetDateTime>) -> (Report, Acquired) {
        // The list is needed before the checks, but finding its URI means reading the file
        // twice. Most certificates name the list the previous one named, so that list is
        // tried first: the checks compare it with the verified token's reference, and on a
        // difference the file is checked again with the list the token names. The answer
        // is the same either way; only the work differs.
        let guess = self
            .last_list
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if let Some(guess) = guess
            && let acquired @ Acquired::List(_) = self.status(Some(&guess), at)
        {
            let report = self.check_pdf_with(bytes, &acquired, at);
            let named = report.status.as_ref().map(|s| s.list.clone());
            match named {
                Some(named) if named != *guess => {
                    return self.check_pdf_named(bytes, Some(&named), at);
                }
                _ => return (report, acquired),
            }
        }
        // The URI only from an authenticated token: a forged file never makes the service
        // fetch a URL it chose (issue 9). A file that does not authenticate is judged
        // without a list; its report fails before the status anyway.
        let unjudged = CheckContext {
            root: &self.config.root,
            status: StatusInput::None,
            at: self.judging_time(at),
            limits: &self.config.limits,
            windows: &[],
        };
        match crate::check::authenticated_status_uri(bytes, &unjudged) {
            Some(named) => self.check_pdf_named(bytes, Some(&named), at),
            None => {
                let acquired = Acquired::Unavailable(
                    "the certificate is not authentic, so the list it names is not fetched".into(),
                );
                (self.check_pdf_with(bytes, &acquired, at), acquired)
            }
        }
    }

    /// Checks with the list at `uri`, remembering it for the next file if the token names it.
    fn check_pdf_named(
        &self,
        bytes: &[u8],
        uri: Option<&str>,
        at: Option<OffsetDateTime>,
    ) -> (Report, Acquired) {
        let acquired = self.status(uri, at);
        let report = self.check_pdf_with(bytes, &acquired, at);
        if let (Acquired::List(list), Some(status)) = (&acquired, &report.status)
            && list.uri == status.list
        {
            *self
                .last_list
                .write()
                .unwrap_or_else(PoisonError::into_inner) = Some(Arc::from(list.uri.as_str()));
        }
        (report, acquired)
    }

    fn check_pdf_with(
        &self,
        bytes: &[u8],
        acquired: &Acquired,
        at: Option<OffsetDateTime>,
    ) -> Report {
        let trusted = self.windows();
        let ctx = CheckContext {
            root: &self.config.root,
            status: acquired.input(),
            at: self.judging_time(at),
            limits: &self.config.limits,
            windows: &trusted.windows,
        };
        check_pdf(bytes, &ctx)
    }

    /// Verifies a QR token as `verifier token --bundle online --status online` does.
    fn verify_token(&self, token: &[u8], at: Option<OffsetDateTime>) -> Result<Report, ApiError> {
        // The token names its issuer, but nothing it names is fetched before it is
        // authenticated, and that needs the bundle: so the bundle comes only from --issuer.
        let Some(issuer) = &self.config.issuer else {
            return Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "this verifier was started without --issuer: a QR token is authenticated with \
                 the issuer's trust bundle, which is fetched only from --issuer",
            ));
        };
        let trusted = self.bundle(&format!("{issuer}/trust"), OffsetDateTime::now_utc())?;
        let named_uri = crate::check::authenticated_token_status_uri(
            token,
            &trusted.certificates,
            &self.config.root,
            &trusted.windows,
        );
        let acquired = self.status(named_uri.as_deref(), at);
        let limits = Limits::default();
        let ctx = CheckContext {
            root: &self.config.root,
            status: acquired.input(),
            at: self.judging_time(at),
            limits: &limits,
            windows: &trusted.windows,
        };
        Ok(check_token(token, &trusted.certificates, &ctx))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_openapi_document_carries_the_report_schema() {
        let doc: serde_json::Value = serde_json::from_str(&openapi_document()).unwrap_or_default();
        assert!(
            doc["openapi"]
                .as_str()
                .is_some_and(|v| v.starts_with("3.1."))
        );
        let report = &doc["components"]["schemas"]["VerificationReport"];
        assert!(
            report["properties"]["verdict"]["enum"].is_array(),
            "{report}"
        );
        for route in ROUTES.iter().filter(|r| **r != "unmatched") {
            assert!(doc["paths"][route].is_object(), "{route} is not documented");
        }
    }

    #[test]
    fn every_route_is_a_metric_label() {
        assert_eq!(
            route_label(verify_page::script_path()),
            Some("/assets/verify.js")
        );
        assert_eq!(
            route_label(verify_page::style_path()),
            Some("/assets/style.css")
        );
        for route in [
            "/",
            "/verify",
            "/api/v1/verify",
            "/api/v1/verify-token",
            "/api/v1/trust",
            "/metrics",
        ] {
            assert!(ROUTES.contains(&route));
        }
    }
}
