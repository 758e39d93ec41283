//! The issuance pipeline without storage: certificate data → token → PDF/A → PAdES B-T →
//! B-LT. Kept free of the registry so it can be benchmarked and reused by the service.

use std::collections::HashMap;
use std::sync::Mutex;

use time::OffsetDateTime;

use ccr_pki::document::CertificateData;
use ccr_pki::hierarchy::{self, Issuer};
use ccr_pki::pades::{self, EmbeddedData, PadesSigner};
use ccr_pki::token::{self, TokenClaims};
use ccr_pki::tsp::Tsa;

use crate::issuance::render::{PageExtras, RenderError, Renderer};
use crate::setup::home::LoadedPki;

/// The issuing CA's CRL is re-signed when older than this.
const CRL_REFRESH: time::Duration = time::Duration::hours(1);
/// The CRL's validity window.
const CRL_VALIDITY: time::Duration = time::Duration::days(7);

/// Why a document could not be produced.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The page could not be rendered (e.g. a character no shipped font covers).
    #[error(transparent)]
    Render(#[from] RenderError),
    /// Signing failed.
    #[error(transparent)]
    Pki(#[from] ccr_pki::Error),
    /// The active issuing CA's key was not loaded with it (a home edited by hand).
    #[error("the active issuing CA is missing from the loaded keys")]
    NoSuchCrl,
}

/// A signed certificate document.
#[derive(Debug)]
pub struct SignedCertificate {
    /// The final PDF (B-LT).
    pub pdf: Vec<u8>,
    /// The token in its QR code.
    pub token: Vec<u8>,
    /// The certificate data JSON embedded in the PDF.
    pub data_json: Vec<u8>,
}

/// Produces signed certificate documents.
#[derive(Debug)]
pub struct Engine {
    pki: LoadedPki,
    renderer: Renderer,
    verify_url: String,
    token_kid: [u8; 8],
    /// Each issuing CA's latest CRL (by generation) and when it was signed.
    crls: Mutex<HashMap<u32, (OffsetDateTime, Vec<u8>)>>,
}

impl Engine {
    /// Loads the fonts once; `verify_url` is the page the QR code opens.
    pub fn new(pki: LoadedPki, verify_url: &str) -> Result<Self, EngineError> {
        let token_kid = token::kid_for_certificate(&pki.token_signer_der).ok_or_else(|| {
            ccr_pki::Error::Certificate("the token signer certificate is unreadable".into())
        })?;
        Ok(Self {
            pki,
            renderer: Renderer::new()?,
            verify_url: verify_url.to_owned(),
            token_kid,
            crls: Mutex::new(HashMap::new()),
        })
    }

    /// The loaded PKI.
    pub fn pki(&self) -> &LoadedPki {
        &self.pki
    }

    /// The `kid` of the token signer's key (its key id, SPEC §10).
    pub fn token_kid(&self) -> [u8; 8] {
        self.token_kid
    }

    /// Checks, before anything is allocated or written, that the page can be rendered: every
    /// character covered and the layout (with a QR code of a token of the same size) within
    /// the page cap. A layout-only dry run: no PDF is written and nothing is signed with the
    /// document signer; the token is signed because its length sizes the QR code.
    pub fn check_renderable(&self, data: &CertificateData) -> Result<(), EngineError> {
        self.renderer.check_coverage(data)?;
        let (_, token_url) = self.token(data, &data.to_embedded_json())?;
        let signer_name = common_name(&self.pki.document_signer);
        self.renderer.check_layout(
            data,
            &PageExtras {
                token_url: &token_url,
                verify_hint_url: &self.verify_url,
                signer_name: &signer_name,
            },
        )?;
        Ok(())
    }

    /// Checks that one record entry (number `entry`, from 1) can be printed.
    pub fn check_record_printable(
        &self,
        entry: usize,
        record: &ccr_pki::document::RecordEntry,
    ) -> Result<(), EngineError> {
        Ok(self.renderer.check_record(entry, record)?)
    }

    /// The data's signed token and the verification URL its QR code carries.
    fn token(
        &self,
        data: &CertificateData,
        data_json: &[u8],
    ) -> Result<(Vec<u8>, String), EngineError> {
        let claims = TokenClaims::from_certificate(data, data_json);
        let token = token::sign(&claims, &*self.pki.token_signer_key, self.token_kid)?;
        let token_url = token::to_url(&self.verify_url, &token);
        Ok((token, token_url))
    }

    /// The active issuing CA's current CRL (re-signed at most hourly).
    pub fn issuing_ca_crl(&self, now: OffsetDateTime) -> Result<Vec<u8>, EngineError> {
        let generation = hierarchy::issuing_ca_generation(&self.pki.issuing_ca);
        self.issuing_ca_crl_named(&hierarchy::issuing_ca_crl_file(generation), now)?
            .ok_or(EngineError::NoSuchCrl)
    }

    /// The current CRL published as `file` (`issuing-ca.crl`, `issuing-ca-g2.crl`, …) by
    /// the issuing CA in the bundle it belongs to, re-signed at most hourly; `None` if no
    /// such CA is in the bundle.
    pub fn issuing_ca_crl_named(
        &self,
        file: &str,
        now: OffsetDateTime,
    ) -> Result<Option<Vec<u8>>, EngineError> {
        let Some(ca) = self
            .pki
            .issuing_cas
            .iter()
            .find(|ca| hierarchy::issuing_ca_crl_file(ca.generation) == file)
        else {
            return Ok(None);
        };
        let mut cached = self
            .crls
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((_, der)) = cached
            .get(&ca.generation)
            .filter(|(at, _)| now >= *at && now - *at < CRL_REFRESH)
        {
            return Ok(Some(der.clone()));
        }
        let number = u64::try_from(now.unix_timestamp()).unwrap_or_default();
        let der = hierarchy::issue_crl(
            Issuer {
                certificate: &ca.certificate,
                key: &*ca.key,
            },
            now,
            now + CRL_VALIDITY,
            number,
            &self.pki.key_revocations(&ca.certificate),
        )?;
        cached.insert(ca.generation, (now, der.clone()));
        Ok(Some(der))
    }

    /// Extends a signed certificate to B-LTA with a document time-stamp from the bureau's TSA
    /// (SPEC §3: the bureau's archive copy).
    pub fn archive_timestamp(
        &self,
        pdf: &[u8],
        now: OffsetDateTime,
    ) -> Result<Vec<u8>, EngineError> {
        let chain = [self.pki.issuing_ca.clone()];
        let tsa = Tsa {
            certificate: &self.pki.tsa,
            chain: &chain,
            key: &*self.pki.tsa_key,
        };
        Ok(pades::add_document_timestamp(pdf, &tsa, now)?)
    }

    /// Renders, signs (B-T with the bureau's TSA) and extends (B-LT) one certificate.
    pub fn produce(
        &self,
        data: &CertificateData,
        now: OffsetDateTime,
    ) -> Result<SignedCertificate, EngineError> {
        let data_json = data.to_embedded_json();
        let (token, token_url) = self.token(data, &data_json)?;
        let signer_name = common_name(&self.pki.document_signer);
        let unsigned = self.renderer.render(
            data,
            &PageExtras {
                token_url: &token_url,
                verify_hint_url: &self.verify_url,
                signer_name: &signer_name,
            },
        )?;
        // The issuing CA travels in both CMS structures so that validators which ignore the
        // DSS (pyHanko's plain `validate`) can still build the TSA's and the signer's paths.
        let chain = [self.pki.issuing_ca.clone()];
        let tsa = Tsa {
            certificate: &self.pki.tsa,
            chain: &chain,
            key: &*self.pki.tsa_key,
        };
        let signed = pades::sign_pdf(
            &unsigned,
            &PadesSigner {
                certificate: &self.pki.document_signer,
                chain: &chain,
                key: &*self.pki.document_signer_key,
                timestamp: &tsa,
            },
            data.issued_at,
            &EmbeddedData {
                certificate_json: &data_json,
                token: &token,
            },
            pades::DEFAULT_CONTENTS_RESERVE,
        )?;
        let crl = self.issuing_ca_crl(now)?;
        let certs: [&[u8]; 5] = [
            &self.pki.root_der,
            &self.pki.issuing_ca_der,
            &self.pki.document_signer_der,
            &self.pki.tsa_der,
            &self.pki.token_signer_der,
        ];
        let crls: [&[u8]; 2] = [&self.pki.root_crl, &crl];
        let pdf = pades::add_dss(&signed, &certs, &crls, now)?;
        Ok(SignedCertificate {
            pdf,
            token,
            data_json,
        })
    }
}

/// The subject common name of a certificate, for the printed signature line.
pub fn common_name(cert: &x509_cert::Certificate) -> String {
    hierarchy::subject_common_name(cert).unwrap_or_else(|| "Identification Services Bureau".into())
}
