//! The department's stateless verifier: checks certificate PDFs and QR tokens against the
//! bureau's root and a status list, and reports why it accepts or rejects.
#![forbid(unsafe_code)]

pub mod check;
pub mod evidence;
pub mod fetch;
pub mod receive;
pub mod report;
pub mod server;
pub mod status;
pub mod trust;
