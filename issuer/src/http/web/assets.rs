//! The portal's static assets, compiled into the binary and served under content-hashed
//! names, so a browser may keep them for a year and a new release is fetched at once.

use std::sync::OnceLock;

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::Digest as _;

/// One embedded asset.
#[derive(Debug)]
struct Asset {
    /// `/assets/<stem>.<hash>.<ext>`.
    path: String,
    body: &'static [u8],
    content_type: &'static str,
}

const SOURCES: [(&str, &str, &[u8], &str); 2] = [
    (
        "site",
        "css",
        include_bytes!("../../../web/assets/site.css"),
        "text/css; charset=utf-8",
    ),
    (
        "timeout",
        "js",
        include_bytes!("../../../web/assets/timeout.js"),
        "text/javascript; charset=utf-8",
    ),
];

fn assets() -> &'static [Asset] {
    static ASSETS: OnceLock<Vec<Asset>> = OnceLock::new();
    ASSETS.get_or_init(|| {
        SOURCES
            .iter()
            .map(|(stem, ext, body, content_type)| {
                let hash = hex::encode(&sha2::Sha256::digest(body)[..6]);
                Asset {
                    path: format!("/assets/{stem}.{hash}.{ext}"),
                    body,
                    content_type,
                }
            })
            .collect()
    })
}

/// The stylesheet's current path.
pub fn stylesheet() -> &'static str {
    assets()
        .first()
        .map_or("/assets/site.css", |a| a.path.as_str())
}

/// The session-timeout script's current path.
pub fn timeout_script() -> &'static str {
    assets()
        .get(1)
        .map_or("/assets/timeout.js", |a| a.path.as_str())
}

/// `GET /assets/{name}`: an embedded asset by its hashed name.
pub async fn serve(Path(name): Path<String>) -> Response {
    let path = format!("/assets/{name}");
    match assets().iter().find(|a| a.path == path) {
        Some(asset) => (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static(asset.content_type),
                ),
                (
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("public, max-age=31536000, immutable"),
                ),
            ],
            asset.body,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
