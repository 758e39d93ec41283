//! Configuration (`issuer.toml`) and the home folder (keys, registry, exports).

pub mod config;
pub mod home;
pub mod keystore;
pub mod lifecycle;
pub mod root;
