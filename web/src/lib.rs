//! What the issuer's and the verifier's HTTP services share.
//!
//! [`serve`] is the connection loop of both: HTTP/1.1 with a deadline for each request's
//! header and a cap on open connections, so slow or numerous clients cannot hold the service.
//!
//! [`verify_page`] is the verification page both serve (SPEC §7: the issuer at its verify
//! URL, the verifier at `/` and `/verify`): its bytes, asset names, routes and policy.
#![forbid(unsafe_code)]

pub mod serve;
pub mod verify_page;

pub use serve::{ConnectionLimits, serve};
