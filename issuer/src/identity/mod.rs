//! Who is calling: roles, principals, passwords, sign-in limits (`auth`) and the production
//! identity provider (`oidc`).

pub mod auth;
pub mod oidc;
pub mod totp;
