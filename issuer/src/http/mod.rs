//! Everything that speaks HTTP to people: the portal's pages (`web`). The JSON API lives in
//! `crate::api` for now and moves here with the issuer's re-layout.

pub mod web;
