//! Making certificates: the engine (render, sign, time-stamp), the trilingual layout
//! (`render`) and the issuance workers (`jobs`).

pub mod engine;
pub mod jobs;
pub mod print;
pub mod render;
