//! What the bureau tells applicants: the trilingual message catalogs.

pub mod messages;
