//! The one error type of the PKI crate.

/// Everything that can go wrong in the formats and cryptography.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A key could not be generated, loaded or used.
    #[error("key: {0}")]
    Key(String),
    /// A DER structure could not be encoded or decoded.
    #[error("DER: {0}")]
    Der(String),
    /// A certificate, CRL or chain is not acceptable.
    #[error("certificate: {0}")]
    Certificate(String),
    /// A CMS structure is not acceptable.
    #[error("CMS: {0}")]
    Cms(String),
    /// A time-stamp request, response or token is not acceptable.
    #[error("time-stamp: {0}")]
    Timestamp(String),
    /// A token or status list is not acceptable.
    #[error("token: {0}")]
    Token(String),
    /// A PDF could not be assembled.
    #[error("PDF: {0}")]
    Pdf(String),
    /// A trust bundle is not acceptable (unsigned where a signature is needed, a signature
    /// that does not verify, or older than one already seen).
    #[error("trust bundle: {0}")]
    Bundle(String),
    /// A PKCS#11 token failed (typed, so callers can tell a wrong PIN from a missing token).
    #[error("PKCS#11: {0}")]
    Pkcs11(Box<crate::signer::pkcs11::Pkcs11Error>),
}

impl From<der::Error> for Error {
    fn from(e: der::Error) -> Self {
        Self::Der(e.to_string())
    }
}
