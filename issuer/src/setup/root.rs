//! The offline root (SPEC §10): its own folder, on a machine that is not the issuer's, that
//! certifies the issuing CA's key from a certification request and signs the root's CRL.
//!
//! ```text
//! root-home/            mode 0700
//!   root.pem            the trust anchor every verifier is given
//!   root.key.p8         mode 0600: the root's private key; never copied to an issuer home
//!   root.crl            the latest CRL (revoked issuing CAs)
//!   root.json           what the root has done: the CAs it certified, their revocations,
//!                       the last CRL number
//!   issued/<serial>.pem every issuing CA certificate it signed
//! ```
//!
//! Carried between the two machines are only public things: the issuing CA's request
//! (`issuer init --offline-root` writes it), the certificate signed here, `root.pem` and the
//! CRLs (`issuer install-ca`, `issuer install-root-crl`).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use x509_cert::ext::pkix::CrlReason;

use ccr_pki::hierarchy::{self, HierarchyNames, Issuer, Purpose, Revocation, parse_certificate};
use ccr_pki::signer::{FileKey, read_private_file, write_private_file};

use crate::setup::home::{HomeError, create_private_dir, io_err};

/// How long a root CRL is valid (the root is offline: it signs rarely).
pub const ROOT_CRL_DAYS: i64 = 365;

const STATE_FILE: &str = "root.json";

/// Why the root revokes an issuing CA (RFC 5280 §5.3.1 reason codes that apply to a CA).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "camelCase")]
pub enum CaRevocationReason {
    /// The issuing CA's private key is, or may be, in someone else's hands.
    #[value(name = "keyCompromise")]
    KeyCompromise,
    /// A new issuing CA replaced it.
    #[value(name = "superseded")]
    Superseded,
    /// It no longer issues.
    #[value(name = "cessationOfOperation")]
    CessationOfOperation,
}

impl CaRevocationReason {
    fn crl_reason(self) -> CrlReason {
        match self {
            Self::KeyCompromise => CrlReason::KeyCompromise,
            Self::Superseded => CrlReason::Superseded,
            Self::CessationOfOperation => CrlReason::CessationOfOperation,
        }
    }
}

/// One issuing CA certificate the root signed.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct IssuedCa {
    /// Serial number, lower-case hex.
    pub serial: String,
    /// Key id of the certified key (SPEC §10).
    pub key_id: String,
    /// When it was signed.
    #[serde(with = "time::serde::rfc3339")]
    pub signed_at: OffsetDateTime,
    /// When it was revoked, and why.
    pub revoked: Option<CaRevocation>,
}

/// A revocation recorded by the root.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CaRevocation {
    /// From when the CA is no longer trusted.
    #[serde(with = "time::serde::rfc3339")]
    pub since: OffsetDateTime,
    /// Why.
    pub reason: CaRevocationReason,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct RootState {
    public_url: String,
    crl_number: u64,
    issued: Vec<IssuedCa>,
}

/// The offline root's folder.
#[derive(Clone, Debug)]
pub struct RootHome {
    dir: PathBuf,
}

impl RootHome {
    /// The root folder at `dir`.
    pub fn at(dir: PathBuf) -> Self {
        Self { dir }
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The root certificate (PEM) relying parties are given.
    pub fn root_pem(&self) -> PathBuf {
        self.dir.join("root.pem")
    }

    /// The latest CRL (DER).
    pub fn crl_path(&self) -> PathBuf {
        self.dir.join("root.crl")
    }

    /// Creates the folder with a fresh root key and self-signed certificate, and its first
    /// (empty) CRL. `public_url` is the issuer's, where the root's CRL will be published and
    /// which the issuing CA's certificate names. Refuses to touch an existing folder; on
    /// failure removes what it created.
    pub fn create(&self, public_url: &str, now: OffsetDateTime) -> Result<(), HomeError> {
        if self.dir.exists() {
            return Err(HomeError::Exists(self.dir.clone()));
        }
        create_private_dir(&self.dir)?;
        let result = self.populate(public_url.trim_end_matches('/'), now);
        if result.is_err() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
        result
    }

    fn populate(&self, public_url: &str, now: OffsetDateTime) -> Result<(), HomeError> {
        let (_, pkcs8, der) =
            hierarchy::generate_root(&HierarchyNames::development(), public_url, now)?;
        write_private_file(&self.dir.join("root.key.p8"), &pkcs8)?;
        let path = self.root_pem();
        std::fs::write(&path, hierarchy::der_to_pem("CERTIFICATE", &der)?)
            .map_err(|e| io_err(&path, e))?;
        create_private_dir(&self.dir.join("issued"))?;
        let mut state = RootState {
            public_url: public_url.to_owned(),
            ..RootState::default()
        };
        self.sign_crl(&mut state, now)?;
        Ok(())
    }

    fn state(&self) -> Result<RootState, HomeError> {
        let path = self.dir.join(STATE_FILE);
        let text = std::fs::read(&path).map_err(|e| {
            io_err(
                &path,
                format!("{e} (is this a root folder made by `issuer root init`?)"),
            )
        })?;
        serde_json::from_slice(&text).map_err(|e| io_err(&path, e))
    }

    /// Writes the state through a temporary file and a rename, so a crash leaves the old
    /// state or the new one.
    fn write_state(&self, state: &RootState) -> Result<(), HomeError> {
        let path = self.dir.join(STATE_FILE);
        let json = serde_json::to_vec_pretty(state).map_err(|e| io_err(&path, e))?;
        write_replacing(&path, &json)
    }

    fn root(&self) -> Result<(x509_cert::Certificate, FileKey), HomeError> {
        let path = self.root_pem();
        let pem = std::fs::read(&path).map_err(|e| io_err(&path, e))?;
        let der = hierarchy::pem_chain_to_der(&pem)?
            .pop()
            .ok_or_else(|| io_err(&path, "no certificate"))?;
        let key = FileKey::from_pkcs8(&read_private_file(&self.dir.join("root.key.p8"))?)?;
        Ok((parse_certificate(&der)?, key))
    }

    /// Every issuing CA certificate the root signed, with its revocation.
    pub fn issued(&self) -> Result<Vec<IssuedCa>, HomeError> {
        Ok(self.state()?.issued)
    }

    /// Certifies the issuing CA key of a certification request (PEM or DER), after checking
    /// that the key signed it. Only the key is taken from the request: names, lifetime and
    /// extensions are the bureau's issuing-CA profile, named for the CA's generation (the
    /// number of CAs this root has certified, this one included). Returns the certificate (DER) and
    /// records it under `issued/`.
    pub fn sign_issuing_ca(
        &self,
        request: &[u8],
        now: OffsetDateTime,
    ) -> Result<(Vec<u8>, IssuedCa), HomeError> {
        let request_der = hierarchy::der_from_pem_or_der(request, "CERTIFICATE REQUEST")?;
        let spki = ccr_pki::csr::verified_public_key(&request_der)?;
        let mut state = self.state()?;
        let (root, key) = self.root()?;
        // Each issuing CA gets its own name ("… Issuing CA G2" for the second): CRLs are
        // matched to their issuer by name.
        let generation = u32::try_from(state.issued.len() + 1).unwrap_or(u32::MAX);
        let der = hierarchy::certify(
            &HierarchyNames::development().for_issuing_generation(generation),
            Purpose::IssuingCa,
            &spki,
            Some(Issuer {
                certificate: &root,
                key: &key,
            }),
            None,
            &state.public_url,
            now,
        )?;
        let cert = parse_certificate(&der)?;
        let issued = IssuedCa {
            serial: hex::encode(cert.tbs_certificate().serial_number().as_bytes()),
            key_id: crate::setup::home::key_id_of_certificate(&cert)?,
            signed_at: now,
            revoked: None,
        };
        let path = self
            .dir
            .join("issued")
            .join(format!("{}.pem", issued.serial));
        write_replacing(
            &path,
            hierarchy::der_to_pem("CERTIFICATE", &der)?.as_bytes(),
        )?;
        state.issued.push(issued.clone());
        self.write_state(&state)?;
        Ok((der, issued))
    }

    /// Records the revocation of the issuing CA with serial `serial` (hex) from `since`, and
    /// signs a new CRL listing it. Returns the CRL (DER), also written to `root.crl`.
    pub fn revoke(
        &self,
        serial: &str,
        since: OffsetDateTime,
        reason: CaRevocationReason,
        now: OffsetDateTime,
    ) -> Result<Vec<u8>, HomeError> {
        let mut state = self.state()?;
        let serial = serial.trim().to_ascii_lowercase();
        let known: Vec<String> = state.issued.iter().map(|i| i.serial.clone()).collect();
        let entry = state
            .issued
            .iter_mut()
            .find(|i| i.serial == serial)
            .ok_or_else(|| {
                io_err(
                    &self.dir.join(STATE_FILE),
                    format!(
                        "this root signed no issuing CA with serial {serial} (it signed: {})",
                        known.join(", ")
                    ),
                )
            })?;
        if let Some(done) = &entry.revoked {
            return Err(io_err(
                &self.dir.join(STATE_FILE),
                format!(
                    "issuing CA {serial} is already revoked ({:?} since {})",
                    done.reason, done.since
                ),
            ));
        }
        entry.revoked = Some(CaRevocation { since, reason });
        self.sign_crl(&mut state, now)
    }

    /// Signs a new CRL (the next number) listing every revoked issuing CA; writes it to
    /// `root.crl` and returns it. A root CRL is re-signed before its `nextUpdate`.
    pub fn crl(&self, now: OffsetDateTime) -> Result<Vec<u8>, HomeError> {
        let mut state = self.state()?;
        self.sign_crl(&mut state, now)
    }

    fn sign_crl(&self, state: &mut RootState, now: OffsetDateTime) -> Result<Vec<u8>, HomeError> {
        let (root, key) = self.root()?;
        let revoked = state
            .issued
            .iter()
            .filter_map(|i| {
                let r = i.revoked.as_ref()?;
                Some((i, r))
            })
            .map(|(i, r)| {
                Ok(Revocation {
                    serial: hex::decode(&i.serial)
                        .map_err(|e| io_err(&self.dir.join(STATE_FILE), e))?,
                    revoked_at: r.since,
                    reason: Some(r.reason.crl_reason()),
                })
            })
            .collect::<Result<Vec<_>, HomeError>>()?;
        state.crl_number += 1;
        let der = hierarchy::issue_crl(
            Issuer {
                certificate: &root,
                key: &key,
            },
            now,
            now + time::Duration::days(ROOT_CRL_DAYS),
            state.crl_number,
            &revoked,
        )?;
        // The state first: a crash between the two leaves a number skipped, never reused.
        self.write_state(state)?;
        write_replacing(&self.crl_path(), &der)?;
        Ok(der)
    }
}

/// Replaces `path` with `bytes` through a temporary file in the same folder, synced, then
/// renamed over it.
pub(crate) fn write_replacing(path: &Path, bytes: &[u8]) -> Result<(), HomeError> {
    use std::io::Write;
    let tmp = path.with_extension("tmp");
    let result = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    result.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io_err(path, e)
    })
}
