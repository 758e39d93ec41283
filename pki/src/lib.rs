//! Formats and cryptography of the Certificate of Criminal Record service.
//!
//! No I/O policy lives here: callers decide where keys, certificates and documents are stored.
#![forbid(unsafe_code)]

pub mod bundle;
pub mod cades;
pub mod chain;
pub mod csr;
pub mod document;
pub mod document_number;
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
pub mod transfer;
pub mod tsp;
pub mod validity;
pub mod x509;

pub use error::Error;

/// Helpers shared by this crate's unit tests.
#[cfg(test)]
pub(crate) mod test_support {
    /// Asserts that `json` (an object) has exactly the `required` keys of `schema`.
    #[track_caller]
    pub(crate) fn assert_keys_are_the_required_ones(
        schema: &serde_json::Value,
        json: &serde_json::Value,
    ) {
        let mut required: Vec<&str> = schema["required"]
            .as_array()
            .expect("required")
            .iter()
            .filter_map(|v| v.as_str())
            .collect();
        required.sort_unstable();
        let mut keys: Vec<&str> = json
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        assert_eq!(keys, required);
    }
}
