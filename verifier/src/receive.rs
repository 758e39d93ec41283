//! `verifier receive` (SPEC §6, §9): a department's reference receiver of pushed transfers at
//! `POST /inbox`.
//!
//! For each delivery it checks the Standard Webhooks `v1a` signature against the bureau's
//! transfer-signing key (from the trust bundle), the ±300 s timestamp window, that the
//! envelope is addressed to this department, and, for a certificate, the PDF with the
//! verifier's own checks (and that its token names this department). An accepted delivery is
//! stored under `--out` as `<delivery id>.pdf` or `<delivery id>.status.json`, then its
//! receipt `<delivery id>.receipt`; each file is written to a temporary name, synced and
//! renamed, and the receipt last, so a crash leaves either the whole delivery or none of it.
//! A repeated delivery id gets the stored receipt back. Anything refused writes nothing.
//!
//! Trust in the transfer key: the bundle is the issuer's trust bundle (`issuer export-trust`
//! writes `bundle.json`; `<issuer>/trust` serves it). Its certificates must chain to the
//! root; the transfer key in it is a raw Ed25519 key and is trusted because the operator
//! obtained that bundle from the bureau (a file, or the bureau's URL over TLS).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use ccr_pki::chain::TrustRoot;
use ccr_pki::pdf::Limits;
use ccr_pki::transfer::{
    Envelope, EnvelopeKind, MAX_ENVELOPE_BYTES, Receipt, ReceiptResult, ReceiptSigner, sha256_hex,
    verify_webhook,
};

use crate::check::{CheckContext, StatusInput, check_pdf};
use crate::report::Verdict;

/// `verifier receive` arguments.
#[derive(Debug, clap::Args)]
pub struct ReceiveArgs {
    /// The root certificate (PEM), the one trust anchor.
    #[arg(long)]
    pub trust: PathBuf,
    /// The bureau's trust bundle (JSON, as `issuer export-trust` writes `bundle.json`, or the
    /// URL of `<issuer>/trust`), which publishes the transfer-signing key.
    #[arg(long)]
    pub bundle: String,
    /// This department's receipt-signing key (PKCS#8 PEM, Ed25519 or P-256).
    #[arg(long)]
    pub key: PathBuf,
    /// This department's code.
    #[arg(long)]
    pub department: String,
    /// Where accepted deliveries are stored.
    #[arg(long)]
    pub out: PathBuf,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8082")]
    pub listen: SocketAddr,
    /// Most deliveries in flight (429 beyond).
    #[arg(long, default_value_t = 16)]
    pub max_concurrent: usize,
    /// With a bundle URL: seconds a fetched bundle is trusted before the next delivery
    /// fetches it again, so that a transfer key the bureau declares compromised stops being
    /// accepted within this time even if no delivery under the new key comes first.
    #[arg(long, default_value_t = 300)]
    pub bundle_max_age: u64,
}

/// Runs `verifier receive`: exit 2 on a usage error.
pub fn run_cli(args: &ReceiveArgs) -> std::process::ExitCode {
    match start(args) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("verifier: {message}");
            std::process::ExitCode::from(2)
        }
    }
}

fn read_small(path: &Path, what: &str) -> Result<Vec<u8>, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("{what} {}: {e}", path.display()))?;
    if meta.len() > ccr_pki::bundle::signed::MAX_SIGNED_BUNDLE_BYTES as u64 {
        return Err(format!("{what} {} is too large", path.display()));
    }
    std::fs::read(path).map_err(|e| format!("{what} {}: {e}", path.display()))
}

fn start(args: &ReceiveArgs) -> Result<(), String> {
    let root = TrustRoot::from_pem(&read_small(&args.trust, "trust anchor")?)
        .map_err(|e| format!("{}: {e}", args.trust.display()))?;
    let bundle = if args.bundle.starts_with("http://") || args.bundle.starts_with("https://") {
        crate::fetch::get(&args.bundle)?
    } else {
        read_small(Path::new(&args.bundle), "bundle")?
    };
    let bundle_url = (args.bundle.starts_with("http://") || args.bundle.starts_with("https://"))
        .then(|| args.bundle.clone());
    let root_crls = crate::fetch::Fetcher::in_memory();
    let revoked = bundle_url
        .as_deref()
        .map_or_else(Vec::new, |url| root_crls.root_revocations(url, &root));
    let (transfer_keys, bundle_sequence) = transfer_keys_from_bundle(&bundle, &root, &revoked)?;
    let signer = ReceiptSigner::from_pem(&read_small(&args.key, "key")?)
        .map_err(|e| format!("{}: {e}", args.key.display()))?;
    let code_ok = (1..=128).contains(&args.department.len())
        && !args.department.chars().any(char::is_control);
    if !code_ok {
        return Err("--department: 1 to 128 printable characters".into());
    }
    if !args.out.is_dir() {
        return Err(format!("--out {}: not a folder", args.out.display()));
    }
    if !(1..=1024).contains(&args.max_concurrent) {
        return Err("--max-concurrent: 1 to 1024".into());
    }
    if !(1..=86_400).contains(&args.bundle_max_age) {
        return Err("--bundle-max-age: 1 to 86400 seconds".into());
    }
    let config = ReceiveConfig {
        root,
        transfer_keys,
        bundle_sequence,
        bundle_url,
        root_crls,
        signer,
        department: args.department.clone(),
        out: args.out.clone(),
        max_concurrent: args.max_concurrent,
        bundle_max_age: std::time::Duration::from_secs(args.bundle_max_age),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    runtime
        .block_on(serve(config, args.listen))
        .map_err(|e| format!("cannot serve on {}: {e}", args.listen))
}

/// What the receiver needs.
#[derive(Debug)]
pub struct ReceiveConfig {
    /// The bureau's root.
    pub root: TrustRoot,
    /// The bureau's transfer-signing public keys (raw Ed25519).
    pub transfer_keys: Vec<Vec<u8>>,
    /// The `sequence` of the bundle they came from.
    pub bundle_sequence: u64,
    /// Where the bundle is fetched again when a delivery is signed by a key it does not
    /// list (a rotation of the bureau's transfer key); `None` for a bundle file.
    pub bundle_url: Option<String>,
    /// Keeps the newest root CRL seen (from start-up on): a bundle signed by a revoked
    /// issuing CA is refused, and an older CRL cannot take a revocation back.
    pub root_crls: crate::fetch::Fetcher,
    /// This department's receipt-signing key.
    pub signer: ReceiptSigner,
    /// This department's code.
    pub department: String,
    /// Where deliveries are stored.
    pub out: PathBuf,
    /// Most deliveries in flight (429 beyond).
    pub max_concurrent: usize,
    /// How long a bundle fetched from `bundle_url` is trusted before a delivery fetches it
    /// again.
    pub bundle_max_age: std::time::Duration,
}

/// Reads the transfer keys of the bureau's signed trust bundle, opened with `root`: the
/// issuing CA's signature is what vouches for these raw keys. Returns them with the bundle's
/// `sequence`.
pub fn transfer_keys_from_bundle(
    bytes: &[u8],
    root: &TrustRoot,
    revoked_cas: &[ccr_pki::hierarchy::Revocation],
) -> Result<(Vec<Vec<u8>>, u64), String> {
    if !ccr_pki::bundle::signed::is_signed(bytes) {
        return Err(
            "the trust bundle is not signed: fetch it from the bureau's /trust (or \
                    `issuer export-trust`'s bundle.json)"
                .into(),
        );
    }
    let bundle = ccr_pki::bundle::signed::open_unrevoked(
        bytes,
        root,
        revoked_cas,
        OffsetDateTime::now_utc(),
    )
    .map_err(|e| e.to_string())?;
    let keys = bundle.transfer_public_keys().map_err(|e| e.to_string())?;
    if keys.is_empty() {
        return Err("the bundle publishes no transfer-signing key".into());
    }
    Ok((keys, bundle.sequence))
}

/// Fetches the bundle again at most this often, however many unknown signatures arrive.
const BUNDLE_REFRESH_EVERY: std::time::Duration = std::time::Duration::from_secs(30);

/// The transfer keys in use, when the bundle was last fetched, and when last because of an
/// unknown signature.
#[derive(Debug)]
struct TransferTrust {
    keys: Vec<Vec<u8>>,
    sequence: u64,
    fetched: std::time::Instant,
    fetched_for_unknown: Option<std::time::Instant>,
}

/// Why the receiver fetches the bundle again.
#[derive(Clone, Copy, Debug)]
enum Refetch {
    /// The bundle in use is older than the configured maximum age.
    Stale,
    /// A delivery is signed by a key the bundle does not list (at most every
    /// [`BUNDLE_REFRESH_EVERY`], however many such deliveries arrive).
    UnknownSignature,
}

struct ReceiveState {
    config: ReceiveConfig,
    transfer: std::sync::RwLock<TransferTrust>,
    slots: tokio::sync::Semaphore,
    /// One delivery is stored at a time, so a repeated id never races its first copy.
    store_lock: tokio::sync::Mutex<()>,
}

impl ReceiveState {
    fn transfer_keys(&self) -> Vec<Vec<u8>> {
        self.transfer
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .keys
            .clone()
    }

    /// Fetches the bundle from its URL again when `why` calls for it, and takes its transfer
    /// keys if it opens with the root and is not older than the one in use. Whether the keys
    /// changed. A failed fetch keeps the keys in use (and is logged): deliveries go on while
    /// the bundle's host is unreachable.
    async fn refresh_transfer_keys(&self, why: Refetch) -> bool {
        let Some(url) = self.config.bundle_url.clone() else {
            return false;
        };
        {
            let mut trust = self
                .transfer
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let now = std::time::Instant::now();
            match why {
                Refetch::Stale if trust.fetched.elapsed() < self.config.bundle_max_age => {
                    return false;
                }
                Refetch::UnknownSignature
                    if trust.fetched_for_unknown.is_some_and(|at| {
                        at.elapsed() < BUNDLE_REFRESH_EVERY.min(self.config.bundle_max_age)
                    }) =>
                {
                    return false;
                }
                Refetch::UnknownSignature => trust.fetched_for_unknown = Some(now),
                Refetch::Stale => {}
            }
            trust.fetched = now;
        }
        let (crls, root) = (self.config.root_crls.clone(), self.config.root.clone());
        let fetched = tokio::task::spawn_blocking(move || {
            crate::fetch::get(&url).map(|bytes| (bytes, crls.root_revocations(&url, &root)))
        })
        .await;
        let opened = match fetched {
            Ok(Ok((bytes, revoked))) => {
                transfer_keys_from_bundle(&bytes, &self.config.root, &revoked)
            }
            Ok(Err(e)) => Err(e),
            Err(e) => Err(format!("fetch task failed: {e}")),
        };
        let (keys, sequence) = match opened {
            Ok(found) => found,
            Err(e) => {
                eprintln!("verifier: the trust bundle could not be fetched again: {e}");
                return false;
            }
        };
        let mut trust = self
            .transfer
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if sequence < trust.sequence {
            eprintln!(
                "verifier: refused a trust bundle older ({sequence}) than the one in use ({})",
                trust.sequence
            );
            return false;
        }
        let changed = keys != trust.keys;
        trust.keys = keys;
        trust.sequence = sequence;
        changed
    }
}

/// The receiver's routes.
pub fn router(config: ReceiveConfig) -> Router {
    let slots = tokio::sync::Semaphore::new(config.max_concurrent.max(1));
    let transfer = std::sync::RwLock::new(TransferTrust {
        keys: config.transfer_keys.clone(),
        sequence: config.bundle_sequence,
        // The bundle was fetched (or read) just before the receiver starts.
        fetched: std::time::Instant::now(),
        fetched_for_unknown: None,
    });
    let state = Arc::new(ReceiveState {
        config,
        transfer,
        slots,
        store_lock: tokio::sync::Mutex::new(()),
    });
    Router::new()
        .route("/inbox", post(inbox))
        .route("/healthz", axum::routing::get(|| async { "ok\n" }))
        .layer(DefaultBodyLimit::max(MAX_ENVELOPE_BYTES))
        .with_state(state)
}

/// Serves the receiver on `listen` until the process ends.
pub async fn serve(config: ReceiveConfig, listen: SocketAddr) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    eprintln!(
        "verifier: receiving transfers for {} on http://{}/inbox",
        config.department,
        listener.local_addr()?
    );
    axum::serve(listener, router(config)).await
}

fn refuse(status: StatusCode, why: impl std::fmt::Display) -> Response {
    (status, format!("{why}\n")).into_response()
}

fn is_safe_id(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

async fn inbox(
    State(state): State<Arc<ReceiveState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Ok(_slot) = state.slots.try_acquire() else {
        return refuse(
            StatusCode::TOO_MANY_REQUESTS,
            "too many deliveries in flight",
        );
    };
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let now = OffsetDateTime::now_utc();
    let config = &state.config;
    let check = |key: &[u8]| {
        verify_webhook(
            key,
            header("webhook-id"),
            header("webhook-timestamp"),
            header("webhook-signature"),
            &body,
            now.unix_timestamp(),
        )
    };
    // A bundle older than its maximum age is fetched first: a key withdrawn since then (a
    // compromise) is refused from now on.
    state.refresh_transfer_keys(Refetch::Stale).await;
    let mut authentic = state.transfer_keys().iter().any(|key| check(key).is_ok());
    if !authentic && state.refresh_transfer_keys(Refetch::UnknownSignature).await {
        authentic = state.transfer_keys().iter().any(|key| check(key).is_ok());
    }
    if !authentic {
        // Say why with the first key (stale, malformed or not signed by the bureau).
        let why = state.transfer_keys().first().map_or_else(
            || "no transfer key".to_owned(),
            |key| check(key).err().map_or_else(String::new, |e| e.to_string()),
        );
        return refuse(StatusCode::UNAUTHORIZED, why);
    }
    let envelope = match Envelope::parse(&body) {
        Ok(e) => e,
        Err(e) => return refuse(StatusCode::UNPROCESSABLE_ENTITY, e),
    };
    if header("webhook-id") != Some(envelope.delivery_id.as_str())
        || !is_safe_id(&envelope.delivery_id)
    {
        return refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            "delivery_id must equal webhook-id and be 1 to 128 of A-Z, a-z, 0-9, - and _",
        );
    }
    if envelope.department != config.department {
        return refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "this receiver is {}; the envelope is addressed to {}",
                config.department, envelope.department
            ),
        );
    }
    let _guard = state.store_lock.lock().await;
    let receipt_path = config.out.join(format!("{}.receipt", envelope.delivery_id));
    if let Ok(stored) = std::fs::read_to_string(&receipt_path) {
        return (StatusCode::OK, stored).into_response();
    }
    let config_ref = &state.config;
    let body_vec = body.to_vec();
    let outcome = tokio::task::block_in_place(|| accept(config_ref, &envelope, &body_vec, now));
    match outcome {
        Ok(jws) => (StatusCode::OK, jws).into_response(),
        Err(e) => refuse(StatusCode::INTERNAL_SERVER_ERROR, e),
    }
}

/// Checks the content, stores an accepted delivery and returns the receipt to answer.
fn accept(
    config: &ReceiveConfig,
    envelope: &Envelope,
    body: &[u8],
    now: OffsetDateTime,
) -> Result<String, String> {
    let mut receipt = Receipt {
        delivery_id: envelope.delivery_id.clone(),
        department: config.department.clone(),
        body_sha256: sha256_hex(body),
        pdf_sha256: None,
        result: ReceiptResult::Accepted,
        reason: None,
        received_at: now.format(&Rfc3339).map_err(|e| e.to_string())?,
    };
    let (file, content) = match envelope.kind {
        EnvelopeKind::Certificate => {
            let pdf = envelope
                .pdf_bytes()
                .map_err(|e| e.to_string())?
                .unwrap_or_default();
            receipt.pdf_sha256 = Some(sha256_hex(&pdf));
            if let Some(reason) = pdf_refusal(config, &pdf, now) {
                // An authentic delivery whose PDF fails: a final, signed rejection; nothing
                // is stored.
                receipt.result = ReceiptResult::Rejected;
                receipt.reason = Some(reason);
                return config.signer.sign(&receipt).map_err(|e| e.to_string());
            }
            (format!("{}.pdf", envelope.delivery_id), pdf)
        }
        EnvelopeKind::StatusChange => (
            format!("{}.status.json", envelope.delivery_id),
            body.to_vec(),
        ),
    };
    let jws = config.signer.sign(&receipt).map_err(|e| e.to_string())?;
    write_atomically(&config.out.join(file), &content)?;
    write_atomically(
        &config.out.join(format!("{}.receipt", envelope.delivery_id)),
        jws.as_bytes(),
    )?;
    Ok(jws)
}

/// Why a transfer PDF is refused (a reason code), or none. The status list is not consulted:
/// status changes of a copy arrive in the department's lane.
fn pdf_refusal(config: &ReceiveConfig, pdf: &[u8], now: OffsetDateTime) -> Option<String> {
    let limits = Limits::default();
    let report = check_pdf(
        pdf,
        &CheckContext {
            root: &config.root,
            status: StatusInput::None,
            at: now,
            limits: &limits,
            windows: &[],
        },
    );
    if !matches!(report.verdict, Verdict::Valid | Verdict::StatusUnknown) {
        let name = serde_json::to_value(report.verdict)
            .ok()
            .and_then(|v| v.as_str().map(str::to_ascii_lowercase))
            .unwrap_or_else(|| "unreadable".into());
        return Some(format!("pdf_{name}"));
    }
    let named = report
        .certificate
        .as_ref()
        .and_then(|c| c.transfer_to.as_deref());
    (named != Some(config.department.as_str())).then(|| "pdf_names_another_department".into())
}

/// Writes `bytes` to `path` through a synced temporary file and a rename.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), String> {
    use std::io::Write;
    let dir = path.parent().ok_or("no folder")?;
    let temp = dir.join(format!(
        ".{}.tmp",
        path.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("delivery")
    ));
    let result = (|| {
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temp, path)?;
        std::fs::File::open(dir)?.sync_all()
    })();
    result.map_err(|e| {
        let _ = std::fs::remove_file(&temp);
        format!("cannot store the delivery: {e}")
    })
}
