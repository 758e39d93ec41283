//! The bureau's issuer: configuration, home folder, registry, the issuance pipeline and the
//! operations the command line and the HTTP service share.
#![forbid(unsafe_code)]

pub mod audit;
pub mod bureau;
pub mod config;
pub mod engine;
pub mod home;
pub mod render;
pub mod request;
pub mod server;
pub mod store;
