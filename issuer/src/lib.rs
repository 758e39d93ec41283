//! The bureau's issuer. Dependencies point one way: `http` (the JSON API, the portal, the
//! public endpoints) calls `bureau` (the use cases, the only entry point of the CLI, the API
//! and the pages), which calls `issuance`, `notify`, `identity`, `providers` and `store`, all
//! of which use `rules` (pure: workflow states, request validation, the calendar, the audit
//! chain, upload checks). `setup` (configuration, the home folder) is usable everywhere, and
//! nothing imports `http`.
#![forbid(unsafe_code)]

pub mod bureau;
pub mod http;
pub mod identity;
pub mod issuance;
pub mod notify;
pub mod providers;
pub mod rules;
pub mod setup;
pub mod store;
