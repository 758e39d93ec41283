//! Everything axum: the public endpoints and the server (`server`), the JSON API (`api`)
//! and the portal's pages (`web`). Each calls the use cases in `crate::bureau`.

pub mod api;
pub mod server;
pub mod web;
