//! The rules, with no I/O: workflow states and fees, certificate-request validation and the
//! identity-document canonical form, the working-day calendar, the audit hash chain, and the
//! checks on uploaded documents.

pub mod audit;
pub mod calendar;
pub mod documents;
pub mod request;
pub mod workflow;
