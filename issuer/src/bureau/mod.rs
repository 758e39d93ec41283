//! The bureau's operations over its home: issue, change status, publish status lists, export
//! trust material; and the use cases of a running service ([`Services`]: the applicant's
//! steps in [`applying`], the staff's in [`reviewing`], signing in through the identity
//! provider in [`signing_in`]). The CLI, the JSON API and the pages all call these; none of
//! them holds a rule of its own.

pub mod applying;
pub mod back_office;
pub mod collecting;
pub mod departments;
mod error;
pub mod keys;
pub mod people;
pub mod reviewing;
mod services;
pub mod signing_in;

pub use error::CaseError;
pub use services::Services;

use std::path::{Path, PathBuf};

use time::OffsetDateTime;

use ccr_pki::bundle::TrustBundle;
use ccr_pki::document::{CertificateData, StatusReference};
use ccr_pki::hierarchy::der_to_pem;
use ccr_pki::status_list::{SignedStatusList, Status, sign_status_list};
use ccr_pki::validity;

use crate::issuance::engine::{Engine, EngineError, SignedCertificate};
use crate::rules::request::{CertificateRequest, RequestError, ValidRequest, doc_key};
use crate::setup::config::{CodedEntry, Config};
use crate::setup::home::{Home, HomeError, TransferKeys};
use crate::setup::keystore::Role;
use crate::store::jobs::ClaimedJob;
use crate::store::{IssuedRecord, StatusChange, Store, StoreError};

/// Everything that can stop an operation; each variant has a message for the operator.
#[derive(Debug, thiserror::Error)]
pub enum BureauError {
    /// The home folder.
    #[error(transparent)]
    Home(#[from] HomeError),
    /// The request.
    #[error(transparent)]
    Request(#[from] RequestError),
    /// Rendering or signing.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// The registry.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Signing a status list or encoding.
    #[error(transparent)]
    Pki(#[from] ccr_pki::Error),
    /// Files.
    #[error("{path}: {message}")]
    Io {
        /// The path.
        path: PathBuf,
        /// What failed.
        message: String,
    },
    /// Bad arguments.
    #[error("{0}")]
    Usage(String),
}

impl BureauError {
    /// Whether retrying the same operation would fail the same way: the data cannot be
    /// validated, rendered or signed (permanent), as opposed to the registry or the file
    /// system being unavailable for a while (transient). Every variant is classified here.
    /// A key in a token that went away is transient too: the job waits for the token.
    pub fn is_permanent(&self) -> bool {
        if self.is_key_unavailable() {
            return false;
        }
        match self {
            Self::Request(_) | Self::Engine(_) | Self::Pki(_) | Self::Usage(_) => true,
            Self::Store(e) => e.is_permanent(),
            Self::Home(_) | Self::Io { .. } => false,
        }
    }
}

impl BureauError {
    /// Whether a signing key could not be used because its PKCS#11 token failed or went
    /// away (never a file key: those do not fail this way).
    pub fn is_key_unavailable(&self) -> bool {
        matches!(
            self,
            Self::Engine(EngineError::Pki(ccr_pki::Error::Pkcs11(_)))
                | Self::Pki(ccr_pki::Error::Pkcs11(_))
        )
    }
}

fn io(path: &Path, e: impl std::fmt::Display) -> BureauError {
    BureauError::Io {
        path: path.to_owned(),
        message: e.to_string(),
    }
}

/// The bureau, opened on a home folder.
#[derive(Debug)]
pub struct Bureau {
    home: Home,
    config: Config,
    store: Store,
    /// The engine with the keys active when it was loaded; replaced when the key registry
    /// changes or a loaded key's window ends (see [`Bureau::current_engine`]).
    engine: std::sync::RwLock<LoadedEngine>,
}

/// An engine and the versions of the key registry and the root CRL it was loaded from.
#[derive(Debug)]
struct LoadedEngine {
    engine: std::sync::Arc<Engine>,
    /// The transfer-signing keys, loaded with the engine's.
    transfer: std::sync::Arc<TransferKeys>,
    pki_modified: [Option<std::time::SystemTime>; 2],
    /// A signing key became unavailable (a token went away): load the keys again.
    stale: bool,
}

/// What one issuance produced.
#[derive(Debug)]
pub struct Issued {
    /// The certificate number.
    pub number: String,
    /// The signed PDF.
    pub pdf: Vec<u8>,
}

/// Renders and signs one certificate and, when the archive switch is on, the bureau's B-LTA
/// archive copy of it (both before anything is recorded, so a failed time-stamp issues nothing).
fn produce(
    engine: &Engine,
    data: &CertificateData,
    now: OffsetDateTime,
    archive: bool,
) -> Result<(SignedCertificate, Option<Vec<u8>>), EngineError> {
    let signed = engine.produce(data, now)?;
    let archive_pdf = if archive {
        Some(engine.archive_timestamp(&signed.pdf, now)?)
    } else {
        None
    };
    Ok((signed, archive_pdf))
}

impl Bureau {
    /// Writes the bureau's B-LTA archive copy of certificate `number` to `out`, through a
    /// temporary file; audited. Refused when the certificate was issued with
    /// `[archive] document_timestamp` off.
    pub async fn export_archive_copy(
        &self,
        number: &str,
        out: &Path,
    ) -> Result<usize, BureauError> {
        let pdf = self
            .store
            .archive_pdf(number, "issuer:cli", OffsetDateTime::now_utc())
            .await?
            .ok_or_else(|| {
                BureauError::Usage(format!(
                    "{number} has no archive copy: it was issued with [archive] \
                     document_timestamp off (issuer timestamp adds one to a PDF)"
                ))
            })?;
        write_atomically(out, &pdf)?;
        Ok(pdf.len())
    }

    /// Adds a document time-stamp (B-LTA) to the certificate PDF `input`, written to `out`
    /// through a temporary file (nothing is written on failure).
    pub fn archive_timestamp(&self, input: &Path, out: &Path) -> Result<usize, BureauError> {
        let pdf = std::fs::read(input).map_err(|e| io(input, e))?;
        let stamped = self
            .current_engine(OffsetDateTime::now_utc())?
            .archive_timestamp(&pdf, OffsetDateTime::now_utc())?;
        write_atomically(out, &stamped)?;
        Ok(stamped.len())
    }

    /// Opens the home (which must exist) and its registry.
    pub async fn open(home: Home, database_url: Option<&str>) -> Result<Self, BureauError> {
        let config = home.config()?;
        let pki = home.load_pki()?;
        let url = database_url.map_or_else(|| home.sqlite_url(), str::to_owned);
        if !["sqlite:", "postgres://", "postgresql://"]
            .iter()
            .any(|p| url.starts_with(p))
        {
            return Err(BureauError::Usage(format!(
                "unsupported database URL {url:?}: use sqlite://… or postgres://…"
            )));
        }
        let store = Store::open(&url).await?;
        store
            .seed_departments(&config.departments, OffsetDateTime::now_utc())
            .await?;
        let now = OffsetDateTime::now_utc();
        let engine = std::sync::RwLock::new(LoadedEngine {
            pki_modified: pki_modified(&home),
            stale: false,
            engine: std::sync::Arc::new(Engine::new(pki, &config.verify_url)?),
            transfer: std::sync::Arc::new(home.transfer_keys_at(now)?),
        });
        Ok(Self {
            home,
            config,
            store,
            engine,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The issuance engine as last loaded (for what does not sign: layout checks, the
    /// root's CRL). Whatever signs asks [`Bureau::current_engine`].
    pub fn engine(&self) -> std::sync::Arc<Engine> {
        let loaded = self
            .engine
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        std::sync::Arc::clone(&loaded.engine)
    }

    /// The engine with the keys active at `now`: loaded again when `issuer keys` changed the
    /// registry or a loaded key's window ended (a rotation's hand-over instant), so a
    /// running service signs with the new key from its first second and never with a
    /// retired one.
    pub fn current_engine(
        &self,
        now: OffsetDateTime,
    ) -> Result<std::sync::Arc<Engine>, BureauError> {
        let modified = pki_modified(&self.home);
        {
            let loaded = self
                .engine
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let expired = loaded.engine.pki().reload_at.is_some_and(|at| now >= at);
            if !expired && !loaded.stale && loaded.pki_modified == modified {
                return Ok(std::sync::Arc::clone(&loaded.engine));
            }
        }
        let engine = std::sync::Arc::new(Engine::new(
            self.home.load_pki_at(now)?,
            &self.config.verify_url,
        )?);
        let transfer = std::sync::Arc::new(self.home.transfer_keys_at(now)?);
        let mut loaded = self
            .engine
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *loaded = LoadedEngine {
            engine: std::sync::Arc::clone(&engine),
            transfer,
            pki_modified: modified,
            stale: false,
        };
        Ok(engine)
    }

    /// Notes that a signing key could not be used (its token went away): the next
    /// [`Bureau::current_engine`] opens the keys again (a new session and login), and keeps
    /// trying on later calls until it can.
    fn keys_unavailable(&self) {
        self.engine
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .stale = true;
    }

    /// The transfer-signing key that signs at `now` (SPEC §9).
    pub fn transfer_signer(
        &self,
        now: OffsetDateTime,
    ) -> Result<std::sync::Arc<ccr_pki::transfer::TransferSigner>, BureauError> {
        Ok(std::sync::Arc::clone(&self.transfer_keys(now)?.active))
    }

    /// The transfer-signing keys at `now`, loaded again with the engine's when the key
    /// registry changed or a key's window began or ended (a rotation's hand-over).
    pub fn transfer_keys(
        &self,
        now: OffsetDateTime,
    ) -> Result<std::sync::Arc<TransferKeys>, BureauError> {
        self.current_engine(now)?;
        let loaded = self
            .engine
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Ok(std::sync::Arc::clone(&loaded.transfer))
    }

    /// The home folder.
    pub fn home(&self) -> &Home {
        &self.home
    }

    /// The registered departments that accept transfers, as coded entries.
    pub async fn active_departments(&self) -> Result<Vec<CodedEntry>, BureauError> {
        Ok(self
            .store
            .departments()
            .await?
            .into_iter()
            .filter(|d| d.active)
            .map(|d| CodedEntry {
                code: d.code,
                zh: d.name_zh,
                pt: d.name_pt,
                en: d.name_en,
            })
            .collect())
    }

    /// Checks that a valid request's certificate can be printed (every character has a glyph)
    /// before anything is recorded.
    pub fn check_printable(
        &self,
        request: &ValidRequest,
        now: OffsetDateTime,
    ) -> Result<(), BureauError> {
        let template = self.requested_data(request, now);
        Ok(self.engine().check_renderable(&template)?)
    }

    /// Checks, before an officer's approval is committed and its jobs queued, that the
    /// application's certificate with `records` (the entries to be disclosed) passes the
    /// request validation and can be rendered (characters covered, within the page cap). An
    /// error names the cause (a record entry's field and character, or the page count).
    pub async fn check_approvable(
        &self,
        app: &crate::store::applications::ApplicationRow,
        records: Vec<crate::rules::request::RecordRequest>,
    ) -> Result<(), BureauError> {
        let mut request = crate::rules::workflow::certificate_request(app)?;
        request.records = records;
        let now = OffsetDateTime::now_utc()
            .replace_nanosecond(0)
            .map_err(|e| BureauError::Usage(e.to_string()))?;
        let departments = self.active_departments().await?;
        let valid = request.validate(&self.config, &departments, now)?;
        self.check_printable(&valid, now)
    }

    /// Runs one claimed issuance job: the job's reservation (made once, kept across
    /// retries), the signed document, and the certificate recorded with the job marked
    /// done. `pause` holds the job between reservation and rendering (fault-injection tests
    /// kill the process there). Returns the certificate number.
    pub async fn run_job(
        &self,
        job: &ClaimedJob,
        pause: Option<std::time::Duration>,
    ) -> Result<String, BureauError> {
        let app = self
            .store
            .application(&job.application_id)
            .await?
            .ok_or_else(|| BureauError::Usage(format!("job {}: no application", job.id)))?;
        let request = crate::rules::workflow::certificate_request(&app)?;
        let now = OffsetDateTime::now_utc()
            .replace_nanosecond(0)
            .map_err(|e| BureauError::Usage(e.to_string()))?;
        let departments = self.active_departments().await?;
        let valid = request.validate(&self.config, &departments, now)?;
        let mut data = self.requested_data(&valid, now);
        let year = now.to_offset(validity::MACAO).year();
        let reservation = self
            .store
            .reserve_for_job(&job.id, year, self.config.status_list_size, now)
            .await?;
        if let Some(pause) = pause {
            tokio::time::sleep(pause).await;
        }
        data.number = reservation.number.clone();
        data.status = StatusReference {
            uri: self.config.status_list_uri(reservation.list_id),
            idx: reservation.index,
        };
        let engine = self.current_engine(now)?;
        let doc_key = doc_key(&data.holder.document);
        let transfer_to = data.transfer_to.as_ref().map(|d| d.code.clone());
        let (issued_at, valid_until) = (data.issued_at, data.valid_until);
        let archive = self.config.archive.document_timestamp;
        let (signed, archive_pdf) =
            tokio::task::spawn_blocking(move || produce(&engine, &data, now, archive))
                .await
                .map_err(|e| BureauError::Usage(format!("rendering task failed: {e}")))?
                .map_err(BureauError::from)
                .inspect_err(|e| {
                    if e.is_key_unavailable() {
                        self.keys_unavailable();
                    }
                })?;
        self.store
            .complete_job(
                job,
                &reservation,
                &IssuedRecord {
                    actor: "issuer:jobs",
                    issued_at,
                    valid_until,
                    data_json: &signed.data_json,
                    token: &signed.token,
                    pdf: &signed.pdf,
                    archive_pdf: archive_pdf.as_deref(),
                    doc_key: &doc_key,
                    transfer_to: transfer_to.as_deref(),
                },
            )
            .await?;
        Ok(reservation.number)
    }

    /// The certificate data a valid request asks for, before a number and status position
    /// are reserved (placeholders: it is used to check that the page can be rendered).
    fn requested_data(&self, request: &ValidRequest, issued_at: OffsetDateTime) -> CertificateData {
        CertificateData {
            number: format!("CR-{}-000000", issued_at.year()),
            holder: request.holder.clone(),
            usage: request.usage.clone(),
            records: request.records.clone(),
            transfer_to: request.transfer_to.clone(),
            issued_at,
            valid_until: validity::valid_until(issued_at),
            authority: self.config.authority.clone(),
            // The largest position of a generous list id: the token (and its QR code) is
            // at least as long as the real one.
            status: StatusReference {
                uri: self.config.status_list_uri(999_999),
                idx: self.config.status_list_size.saturating_sub(1),
            },
        }
    }

    /// Issues a certificate from request JSON. Every check runs before anything is written;
    /// the registry row and the output file appear together or not at all.
    pub async fn issue(
        &self,
        actor: &str,
        request_json: &[u8],
        issued_at: OffsetDateTime,
        out: Option<&Path>,
    ) -> Result<Issued, BureauError> {
        let now = OffsetDateTime::now_utc();
        let departments = self.active_departments().await?;
        let request = CertificateRequest::from_json(request_json)?.validate(
            &self.config,
            &departments,
            now,
        )?;
        let issued_at = issued_at
            .replace_nanosecond(0)
            .map_err(|e| BureauError::Usage(e.to_string()))?;
        let template = self.requested_data(&request, issued_at);
        self.engine().check_renderable(&template)?;
        self.issue_from(actor, template, out, None).await
    }

    /// Re-issues a certificate (same holder, usage, records and transfer; new number, status
    /// position and validity) and marks the old one SUPERSEDED in the same transaction.
    pub async fn reissue(
        &self,
        old_number: &str,
        actor: &str,
        reason: &str,
        out: Option<&Path>,
    ) -> Result<Issued, BureauError> {
        if reason.trim().is_empty() {
            return Err(BureauError::Usage("a reason is required".into()));
        }
        let old_json = self.store.certificate_data(old_number).await?;
        let mut template = CertificateData::from_embedded_json(&old_json).map_err(|e| {
            BureauError::Usage(format!("stored data of {old_number} is unreadable: {e}"))
        })?;
        let now = OffsetDateTime::now_utc()
            .replace_nanosecond(0)
            .map_err(|e| BureauError::Usage(e.to_string()))?;
        template.issued_at = now;
        template.valid_until = validity::valid_until(now);
        template.authority = self.config.authority.clone();
        let change = StatusChange {
            number: old_number,
            wanted: Status::Superseded,
            actor,
            reason: reason.trim(),
            now,
        };
        let issued = self.issue_from(actor, template, out, Some(change)).await?;
        Ok(issued)
    }

    /// Reserves a number and status position for `template`, produces the signed PDF, records
    /// it (superseding a predecessor if asked) and writes `out`: all or nothing.
    async fn issue_from(
        &self,
        actor: &str,
        mut data: CertificateData,
        out: Option<&Path>,
        supersedes: Option<StatusChange<'_>>,
    ) -> Result<Issued, BureauError> {
        let now = OffsetDateTime::now_utc();
        let year = data.issued_at.to_offset(validity::MACAO).year();
        let mut pending = self
            .store
            .begin_issuance(year, self.config.status_list_size, now)
            .await?;
        let reservation = pending.reservation.clone();
        data.number = reservation.number.clone();
        data.status = StatusReference {
            uri: self.config.status_list_uri(reservation.list_id),
            idx: reservation.index,
        };
        let (signed, archive_pdf) = produce(
            &*self.current_engine(now)?,
            &data,
            now,
            self.config.archive.document_timestamp,
        )?;
        let application = match &supersedes {
            Some(change) => self
                .store
                .certificate(change.number)
                .await?
                .and_then(|(summary, _)| summary.application_id),
            None => None,
        };
        let record = IssuedRecord {
            actor,
            issued_at: data.issued_at,
            valid_until: data.valid_until,
            data_json: &signed.data_json,
            token: &signed.token,
            pdf: &signed.pdf,
            archive_pdf: archive_pdf.as_deref(),
            doc_key: &doc_key(&data.holder.document),
            transfer_to: data.transfer_to.as_ref().map(|d| d.code.as_str()),
        };
        match &application {
            Some(id) => pending.record_for_application(&record, id).await?,
            None => pending.record(&record).await?,
        }
        let superseded_list = match &supersedes {
            Some(change) => Some(pending.supersede(change).await?),
            None => None,
        };
        // Write the file under a temporary name, commit, then rename: a crash leaves either
        // nothing or a stray temporary file, never a PDF without its registry row.
        let temp = match out {
            Some(path) => Some(write_temp(path, &signed.pdf)?),
            None => None,
        };
        if let Err(e) = pending.commit().await {
            if let Some(t) = &temp {
                let _ = std::fs::remove_file(t);
            }
            return Err(e.into());
        }
        if let (Some(t), Some(path)) = (&temp, out) {
            std::fs::rename(t, path).map_err(|e| io(path, e))?;
        }
        if let Some(list_id) = superseded_list {
            self.publish_status_list(list_id, now).await?;
        }
        Ok(Issued {
            number: reservation.number,
            pdf: signed.pdf,
        })
    }

    /// Changes a certificate's status and republishes its status list.
    pub async fn change_status(
        &self,
        number: &str,
        status: Status,
        actor: &str,
        reason: &str,
    ) -> Result<(), BureauError> {
        if reason.trim().is_empty() {
            return Err(BureauError::Usage("a reason is required".into()));
        }
        let now = OffsetDateTime::now_utc();
        let list_id = self
            .store
            .change_status(number, status, actor, reason.trim(), now)
            .await?;
        self.publish_status_list(list_id, now).await?;
        Ok(())
    }

    /// The registry.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Signs status list `list_id` as of `now` and returns the CWT bytes.
    pub async fn signed_status_list(
        &self,
        list_id: i64,
        now: OffsetDateTime,
    ) -> Result<Vec<u8>, BureauError> {
        let list = self.store.status_list(list_id).await?;
        let claims = SignedStatusList::new(self.config.status_list_uri(list_id), list, now);
        let engine = self.current_engine(now)?;
        let pki = engine.pki();
        let chain = [pki.token_signer_der.clone(), pki.issuing_ca_der.clone()];
        Ok(sign_status_list(
            &claims,
            &*pki.token_signer_key,
            engine.token_kid(),
            &chain,
        )?)
    }

    /// Re-signs list `list_id` into the home's `status/` folder (atomically replaced).
    pub async fn publish_status_list(
        &self,
        list_id: i64,
        now: OffsetDateTime,
    ) -> Result<PathBuf, BureauError> {
        let bytes = self.signed_status_list(list_id, now).await?;
        let path = self.home.status_dir().join(format!("status-{list_id}.cwt"));
        write_atomically(&path, &bytes)?;
        Ok(path)
    }

    /// Checks the audit log's hash chain; returns the number of entries.
    pub async fn verify_audit(&self) -> Result<usize, BureauError> {
        let entries = self.store.audit_entries().await?;
        crate::rules::audit::verify_chain(&entries)
            .map_err(|e| BureauError::Usage(format!("the audit log is broken: {e}")))
    }

    /// The trust bundle at `now` (SPEC §4, §10): the published certificates, every key's
    /// window, the registry's sequence, the status lists, usages and transfer key.
    pub async fn trust_bundle(&self, now: OffsetDateTime) -> Result<TrustBundle, BureauError> {
        let engine = self.current_engine(now)?;
        let pki = engine.pki();
        let lists = self
            .store
            .status_list_ids()
            .await?
            .into_iter()
            .map(|id| self.config.status_list_uri(id))
            .collect();
        let certificates: Vec<(&str, &[u8])> = pki
            .published
            .iter()
            .filter_map(|(role, der)| Some((bundle_purpose(*role)?, der.as_slice())))
            .collect();
        let mut bundle = TrustBundle::new(&self.config.public_url, now, &certificates, lists)
            .with_usages(self.config.published_usages())
            .with_keys(pki.registry.sequence, pki.registry.windows(now));
        for key in &self.transfer_keys(now)?.published {
            bundle = bundle.with_transfer_key(key);
        }
        Ok(bundle)
    }

    /// The trust bundle at `now`, signed by the issuing CA (what `GET /trust` serves).
    pub async fn signed_trust_bundle(&self, now: OffsetDateTime) -> Result<Vec<u8>, BureauError> {
        let bundle = self.trust_bundle(now).await?;
        let engine = self.current_engine(now)?;
        let pki = engine.pki();
        Ok(ccr_pki::bundle::signed::sign(
            &bundle,
            pki.issuing_ca_key.as_ref(),
            &pki.issuing_ca_der,
        )?)
    }

    /// Writes `root.pem`, `bundle.pem`, the signed `bundle.json` and a freshly signed
    /// `status-<list>.cwt` per list.
    pub async fn export_trust(&self, dir: &Path) -> Result<Vec<PathBuf>, BureauError> {
        std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
        let now = OffsetDateTime::now_utc();
        let bundle = self.trust_bundle(now).await?;
        let mut written = Vec::new();
        let root = dir.join("root.pem");
        std::fs::write(
            &root,
            der_to_pem("CERTIFICATE", &self.engine().pki().root_der)?,
        )
        .map_err(|e| io(&root, e))?;
        written.push(root);
        let mut pem = String::new();
        for der in TrustBundle::certificates_from_bytes(&bundle.to_json())? {
            pem.push_str(&der_to_pem("CERTIFICATE", &der)?);
        }
        let bundle_path = dir.join("bundle.pem");
        std::fs::write(&bundle_path, pem).map_err(|e| io(&bundle_path, e))?;
        written.push(bundle_path);
        let json_path = dir.join("bundle.json");
        std::fs::write(&json_path, self.signed_trust_bundle(now).await?)
            .map_err(|e| io(&json_path, e))?;
        written.push(json_path);
        for list_id in self.store.status_list_ids().await? {
            let bytes = self.signed_status_list(list_id, now).await?;
            let path = dir.join(format!("status-{list_id}.cwt"));
            std::fs::write(&path, bytes).map_err(|e| io(&path, e))?;
            written.push(path);
        }
        Ok(written)
    }
}

/// The trust bundle's name for the certificates of `role`; `None` for the document signer,
/// whose certificate every signed PDF carries (its key is still listed with its window).
pub fn bundle_purpose(role: Role) -> Option<&'static str> {
    match role {
        Role::IssuingCa => Some("issuing-ca"),
        Role::TokenSigner => Some("token-signing"),
        Role::Tsa => Some("time-stamping"),
        Role::DocumentSigner | Role::TransferSigner => None,
    }
}

/// Writes `bytes` next to `path` under a temporary name, synced, and returns that name.
/// Writes `bytes` to `path` through a synced temporary file and a rename: readers see the old
/// file or the whole new one, never a part.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), BureauError> {
    let temp = write_temp(path, bytes)?;
    std::fs::rename(&temp, path).map_err(|e| io(path, e))
}

fn write_temp(path: &Path, bytes: &[u8]) -> Result<PathBuf, BureauError> {
    use std::io::Write;
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(format!(".{}.tmp", std::process::id()));
    let temp = path.with_file_name(name);
    let mut file = std::fs::File::create(&temp).map_err(|e| io(&temp, e))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| {
            let _ = std::fs::remove_file(&temp);
            io(&temp, e)
        })?;
    Ok(temp)
}

/// When the home's key registry and the root's CRL (`issuer install-root-crl`) were last
/// changed (`None` if a file cannot be read: the next look tries again).
fn pki_modified(home: &Home) -> [Option<std::time::SystemTime>; 2] {
    let pki = home.dir().join("pki");
    [crate::setup::lifecycle::REGISTRY_FILE, "root.crl"].map(|file| {
        std::fs::metadata(pki.join(file))
            .and_then(|m| m.modified())
            .ok()
    })
}
