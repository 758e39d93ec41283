//! `issuer serve`: the issuer's public endpoints (SPEC §7): signed status lists with
//! `Cache-Control` and `ETag`, the trust bundle, the CRLs, and health; and for the
//! verification page at the verify URL (`crate::http::web::verify`), `GET /api/v1/trust`, the
//! same answer as the verifier's, from the same certificates and usages as the bundle.
//!
//! Status lists are re-signed in memory by one background task: within the configured
//! `status_poll_seconds` of any status change (seen through the registry, so changes made by
//! the command line count too) and at least every [`RESIGN_EVERY`] otherwise (SPEC §4).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use time::OffsetDateTime;

use ccr_pki::bundle::TrustAnswer;
use ccr_pki::chain::TrustRoot;
use ccr_pki::hierarchy::der_to_pem;

use crate::bureau::{Bureau, BureauError};
use crate::http::api::AppState;

/// Unchanged lists are re-signed this often (SPEC §4: at least every 15 minutes).
pub const RESIGN_EVERY: time::Duration = time::Duration::minutes(5);

/// A signed list ready to serve.
#[derive(Clone, Debug)]
struct Published {
    bytes: Arc<[u8]>,
    etag: String,
    signed_at: OffsetDateTime,
}

/// Shared state of the public endpoints.
#[derive(Debug)]
pub struct PublicState {
    bureau: Arc<Bureau>,
    lists: RwLock<HashMap<i64, Published>>,
    /// The root, which the token signers published to the page must chain to.
    root: Option<TrustRoot>,
}

/// The certificates of the trust bundle (`schemas/trust-bundle.schema.json`), DER, with the
/// key windows, from the keys active at `now`.
fn published_certificates(
    bureau: &Bureau,
    now: OffsetDateTime,
) -> Result<(Vec<Vec<u8>>, Vec<ccr_pki::bundle::KeyWindow>), BureauError> {
    let engine = bureau.current_engine(now)?;
    let pki = engine.pki();
    let certificates = pki
        .published
        .iter()
        .filter(|(role, _)| crate::bureau::bundle_purpose(*role).is_some())
        .map(|(_, der)| der.clone())
        .collect();
    Ok((certificates, pki.registry.windows(now)))
}

impl PublicState {
    /// Prepares the state (signs every list once).
    pub async fn new(bureau: Arc<Bureau>) -> Result<Arc<Self>, BureauError> {
        let root = match TrustRoot::from_der(bureau.engine().pki().root_der.clone()) {
            Ok(root) => Some(root),
            Err(e) => {
                eprintln!(
                    "issuer: the root certificate is not a usable anchor ({e}): the verification page will find no token signer"
                );
                None
            }
        };
        let state = Arc::new(Self {
            bureau,
            lists: RwLock::default(),
            root,
        });
        state.resign_all(OffsetDateTime::now_utc()).await?;
        Ok(state)
    }

    /// Re-signs every list as of `now`.
    pub async fn resign_all(&self, now: OffsetDateTime) -> Result<(), BureauError> {
        let mut fresh = HashMap::new();
        for id in self.bureau.store().status_list_ids().await? {
            let bytes = self.bureau.signed_status_list(id, now).await?;
            let digest = ring_digest(&bytes);
            fresh.insert(
                id,
                Published {
                    bytes: bytes.into(),
                    etag: format!("\"{}\"", &digest[..32]),
                    signed_at: now,
                },
            );
        }
        *self
            .lists
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = fresh;
        Ok(())
    }

    fn oldest_signature(&self) -> Option<OffsetDateTime> {
        self.lists
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .values()
            .map(|p| p.signed_at)
            .min()
    }

    /// The republishing loop: never returns.
    pub async fn republish_forever(self: Arc<Self>) {
        let poll = std::time::Duration::from_secs(self.bureau.config().status_poll_seconds);
        let mut marker = self.bureau.store().change_marker().await.ok();
        // The token key the lists were signed with: a rotation or a compromise re-signs them
        // with the new key at once.
        let signing_kid = |now| self.bureau.current_engine(now).ok().map(|e| e.token_kid());
        let mut kid = signing_kid(OffsetDateTime::now_utc());
        loop {
            tokio::time::sleep(poll).await;
            let now = OffsetDateTime::now_utc();
            let current = self.bureau.store().change_marker().await.ok();
            let current_kid = signing_kid(now);
            let stale = self
                .oldest_signature()
                .is_none_or(|at| now - at >= RESIGN_EVERY);
            if current != marker || current_kid != kid || stale {
                match self.resign_all(now).await {
                    Ok(()) => {
                        marker = current;
                        kid = current_kid;
                    }
                    Err(e) => eprintln!("issuer: re-signing status lists failed: {e}"),
                }
            }
        }
    }
}

fn ring_digest(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

async fn status_list(
    State(state): State<Arc<PublicState>>,
    Path(list): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Ok(id) = list.parse::<i64>() else {
        return (StatusCode::NOT_FOUND, "no such status list\n").into_response();
    };
    let cached = |state: &PublicState| {
        state
            .lists
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&id)
            .cloned()
    };
    let mut published = cached(&state);
    if published.is_none() {
        // A list started since the last signing (the first certificate of a new list):
        // sign it now rather than answer 404 until the next republication.
        let exists = state
            .bureau
            .store()
            .status_list_ids()
            .await
            .is_ok_and(|ids| ids.contains(&id));
        if exists && state.resign_all(OffsetDateTime::now_utc()).await.is_ok() {
            published = cached(&state);
        }
    }
    let Some(published) = published else {
        return (StatusCode::NOT_FOUND, "no such status list\n").into_response();
    };
    // Caches may keep the list for its ttl (300 s), never past it.
    let cache = HeaderValue::from_static("public, max-age=300");
    let etag = HeaderValue::from_str(&published.etag).unwrap_or(HeaderValue::from_static("\"\""));
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|t| t.trim() == published.etag || t.trim() == "*")
        });
    if matches {
        return (
            StatusCode::NOT_MODIFIED,
            [(header::ETAG, etag), (header::CACHE_CONTROL, cache)],
        )
            .into_response();
    }
    (
        StatusCode::OK,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/statuslist+cwt"),
            ),
            (header::ETAG, etag),
            (header::CACHE_CONTROL, cache),
        ],
        published.bytes.to_vec(),
    )
        .into_response()
}

/// The trust bundle, signed by the issuing CA (`schemas/signed-trust-bundle.schema.json`,
/// its payload `schemas/trust-bundle.schema.json`).
async fn trust(State(state): State<Arc<PublicState>>) -> Response {
    let signed = state
        .bureau
        .signed_trust_bundle(OffsetDateTime::now_utc())
        .await;
    trust_document("application/json", signed)
}

/// A trust document answered for an hour's caching, or 503 (the cause logged, not told).
fn trust_document(
    content_type: &'static str,
    made: Result<impl IntoResponse, BureauError>,
) -> Response {
    match made {
        Ok(body) => (
            [
                (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
                (
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("public, max-age=3600"),
                ),
            ],
            body,
        )
            .into_response(),
        Err(e) => {
            eprintln!("issuer: the trust bundle could not be made: {e}");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "trust bundle unavailable\n",
            )
                .into_response()
        }
    }
}

/// `GET /api/v1/trust`: what the verification page's script needs (the verifier answers the
/// same from this issuer's bundle): the bundle's token signers that chain to the root, as
/// JWKs, and the usages' names.
async fn page_trust(State(state): State<Arc<PublicState>>) -> Response {
    let config = state.bureau.config();
    let now = OffsetDateTime::now_utc();
    let (certificates, windows) = match published_certificates(&state.bureau, now) {
        Ok(published) => published,
        Err(e) => {
            eprintln!("issuer: the token signers could not be listed: {e}");
            return (StatusCode::SERVICE_UNAVAILABLE, "trust unavailable\n").into_response();
        }
    };
    let answer = TrustAnswer {
        issuer: config.public_url.trim_end_matches('/').to_owned(),
        token_signers: state.root.as_ref().map_or_else(Vec::new, |root| {
            ccr_pki::bundle::token_signers(root, &certificates, &windows, now)
        }),
        status_list_ttl_seconds: ccr_pki::status_list::DEFAULT_TTL_SECONDS,
        usages: config.published_usages(),
    };
    (
        [(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=300"),
        )],
        axum::Json(answer),
    )
        .into_response()
}

/// The same certificates as a PEM chain, for tools such as openssl.
async fn trust_pem(State(state): State<Arc<PublicState>>) -> Response {
    let pem = published_certificates(&state.bureau, OffsetDateTime::now_utc()).and_then(
        |(certificates, _)| {
            certificates.iter().try_fold(String::new(), |mut pem, der| {
                pem.push_str(&der_to_pem("CERTIFICATE", der)?);
                Ok(pem)
            })
        },
    );
    trust_document("application/pem-certificate-chain", pem)
}

async fn crl(State(state): State<Arc<PublicState>>, Path(name): Path<String>) -> Response {
    let now = OffsetDateTime::now_utc();
    // The current engine: a root CRL installed (`issuer install-root-crl`, or a compromise
    // of the issuing CA) or a CA rotated is served from the next request.
    let der = match state.bureau.current_engine(now) {
        Err(_) => Err(()),
        Ok(engine) if name == "root.crl" => Ok(engine.pki().root_crl.clone()),
        // Every issuing CA in the bundle publishes its own (`issuing-ca.crl`, `…-g2.crl`).
        Ok(engine) => match engine.issuing_ca_crl_named(&name, now) {
            Ok(Some(der)) => Ok(der),
            Ok(None) => return (StatusCode::NOT_FOUND, "no such CRL\n").into_response(),
            Err(_) => Err(()),
        },
    };
    match der {
        Ok(der) => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/pkix-crl"),
            )],
            der,
        )
            .into_response(),
        Err(()) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "CRL temporarily unavailable\n",
        )
            .into_response(),
    }
}

async fn health() -> &'static str {
    "ok\n"
}

/// Prometheus text: the registry's counts, read when scraped (no state kept in the process,
/// so every instance reports the same).
async fn metrics(State(state): State<Arc<PublicState>>) -> Response {
    let Ok(counts) = state.bureau.store().metric_counts().await else {
        return (StatusCode::SERVICE_UNAVAILABLE, "registry unavailable\n").into_response();
    };
    let mut text = String::from(
        "# HELP ccr_issuer_registry Counts in the issuer's registry.\n# TYPE ccr_issuer_registry gauge\n",
    );
    for (name, count) in counts {
        let (metric, labels) = name
            .split_once('{')
            .map_or((name.as_str(), ""), |(m, l)| (m, l));
        let labels = labels.trim_end_matches('}');
        let sep = if labels.is_empty() { "" } else { "," };
        text.push_str(&format!(
            "ccr_issuer_registry{{kind=\"{metric}\"{sep}{labels}}} {count}\n"
        ));
    }
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4"),
        )],
        text,
    )
        .into_response()
}

/// The public router.
pub fn router(state: Arc<PublicState>) -> Router {
    Router::new()
        .route("/status/{list}", get(status_list))
        .route("/trust", get(trust))
        .route("/trust.pem", get(trust_pem))
        .route("/api/v1/trust", get(page_trust))
        .route("/crl/{name}", get(crl))
        .route("/healthz", get(health))
        .route("/metrics", get(metrics))
        .with_state(state)
        .layer(axum::middleware::map_response(allow_any_origin))
}

/// On every answer (API, errors, status lists, pages): no content sniffing; and, unless the
/// handler set its own, no referrer and no framing.
async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers
        .entry(header::REFERRER_POLICY)
        .or_insert(HeaderValue::from_static("no-referrer"));
    headers
        .entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static("frame-ancestors 'none'"));
    response
}

/// Everything here is public and unauthenticated: verification pages of any department
/// (another origin) may fetch status lists and the bundle straight from the browser, so the
/// token never has to pass through a server.
async fn allow_any_origin(mut response: Response) -> Response {
    response.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    response
}

/// Builds the application API's state: providers, the calendar, the gateway secret.
pub async fn application_state(
    bureau: Arc<Bureau>,
    jobs: Arc<tokio::sync::Notify>,
) -> Result<Arc<AppState>, BureauError> {
    let config = bureau.config().clone();
    let calendar = crate::rules::calendar::Calendar::new(&config.calendar)
        .map_err(|e| BureauError::Usage(format!("calendar: {e}")))?;
    let gateway = crate::providers::GatewaySecret::new(&bureau.home().gateway_secret()?)
        .map_err(BureauError::Usage)?;
    let oidc = match (&config.providers.identity[..], config.oidc.clone()) {
        ("oidc", Some(oidc)) => Some(
            tokio::task::spawn_blocking(move || {
                crate::identity::oidc::OidcProvider::discover(&oidc)
            })
            .await
            .map_err(|e| BureauError::Usage(e.to_string()))?
            .map_err(|e| BureauError::Usage(format!("OIDC: {e}")))?,
        ),
        _ => None,
    };
    Ok(Arc::new(AppState {
        bureau,
        calendar,
        gateway,
        face: Box::new(crate::providers::DevelopmentFaceMatcher),
        oidc,
        staff_sign_in: crate::identity::auth::SignInLimits::new(
            config.application.sign_in_tracked_keys,
        ),
        department_sign_in: crate::identity::auth::SignInLimits::new(
            config.application.sign_in_tracked_keys,
        ),
        second_factor: crate::bureau::people::second_factor_limiter(
            config.application.sign_in_tracked_keys,
        ),
        jobs,
    }))
}

/// Serves until the process is stopped: the public endpoints, the application API, the
/// issuance workers, the outbox dispatcher and the status-list publisher.
pub async fn serve(bureau: Bureau, listen: SocketAddr) -> Result<(), BureauError> {
    let bureau = Arc::new(bureau);
    let providers = &bureau.config().providers;
    if providers.any_development() {
        eprintln!(
            "issuer: DEVELOPMENT providers configured (identity {}, face {}, sms {}, payment {}): not for production",
            providers.identity, providers.face, providers.sms, providers.payment
        );
    }
    let sms: Arc<dyn crate::providers::Transport> = match providers.sms_webhook_url.as_deref() {
        Some(url) if providers.sms == "webhook" => Arc::new(crate::providers::Webhook::new(url)),
        _ => Arc::new(crate::providers::OutboxOnly),
    };
    let jobs = Arc::new(tokio::sync::Notify::new());
    let app = application_state(Arc::clone(&bureau), Arc::clone(&jobs)).await?;
    let state = PublicState::new(Arc::clone(&bureau)).await?;
    tokio::spawn(Arc::clone(&state).republish_forever());
    for _ in 0..bureau.config().application.issuance_workers {
        tokio::spawn(crate::issuance::jobs::issuance_worker(
            Arc::clone(&bureau),
            Arc::clone(&jobs),
        ));
    }
    tokio::spawn(Arc::clone(&app).sweep_locker_forever());
    tokio::spawn(crate::issuance::jobs::dispatch_forever(
        Arc::clone(&bureau),
        sms,
    ));
    let transfers: Arc<dyn crate::notify::transfer::Transport> =
        Arc::new(crate::notify::transfer::Http::default());
    for _ in 0..crate::notify::transfer::WORKERS {
        tokio::spawn(crate::notify::transfer::delivery_worker(
            Arc::clone(&bureau),
            Arc::clone(&transfers),
        ));
    }
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| BureauError::Usage(format!("cannot listen on {listen}: {e}")))?;
    eprintln!(
        "issuer: serving on http://{listen} (API under /api/v1, OpenAPI at /api/openapi.json)"
    );
    let router = router(state)
        .merge(crate::http::web::verify::router(bureau.config()))
        .merge(crate::http::web::router(Arc::clone(&app)))
        .merge(crate::http::api::router(app))
        .layer(axum::middleware::map_response(security_headers));
    let limits = bureau
        .config()
        .server
        .limits()
        .map_err(BureauError::Usage)?;
    // `ccr_web::serve` gives handlers the client's address, which feeds the sign-in limits
    // (`api::extract::ClientAddress`).
    ccr_web::serve(listener, router, limits, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
    .map_err(|e| BureauError::Usage(format!("server error: {e}")))
}
