//! The bureau's issuer: configuration, home folder, registry, the issuance pipeline and the
//! operations the command line and the HTTP service share.
#![forbid(unsafe_code)]

pub mod api;
pub mod audit;
pub mod auth;
pub mod bureau;
pub mod calendar;
pub mod config;
pub mod documents;
pub mod engine;
pub mod home;
pub mod http;
pub mod jobs;
pub mod messages;
pub mod oidc;
pub mod providers;
pub mod render;
pub mod request;
pub mod server;
pub mod store;
pub mod workflow;
