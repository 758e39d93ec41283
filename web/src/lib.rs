//! What the issuer's and the verifier's HTTP services share.
//!
//! [`serve`] is the connection loop of both: HTTP/1.1 with a deadline for each request's
//! header and a cap on open connections, so slow or numerous clients cannot hold the service.
#![forbid(unsafe_code)]

pub mod serve;

pub use serve::{ConnectionLimits, serve};
