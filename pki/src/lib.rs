//! Formats and cryptography of the Certificate of Criminal Record service.
//!
//! No I/O policy lives here: callers decide where keys, certificates and documents are stored.
#![forbid(unsafe_code)]

pub mod bundle;
pub mod cades;
pub mod chain;
pub mod document;
pub mod ess;
pub mod hierarchy;
pub mod oids;
pub mod pades;

mod cose;
mod error;
pub mod pdf;
pub mod signer;
pub mod status_list;
pub mod token;
pub mod tsp;
pub mod validity;
pub mod x509;

pub use error::Error;
