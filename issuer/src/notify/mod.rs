//! What the bureau tells applicants and departments: the trilingual message catalogs, and
//! the transfers pushed to departments (SPEC §9) with their webhook transport.

pub mod messages;
pub mod transfer;
