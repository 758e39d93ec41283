//! The verification page at the issuer's verify URL (SPEC §4, §7): the same page the verifier
//! serves (`ccr_web::verify_page`), so the QR code of a certificate issued on the embedded
//! default opens a working page. Its script verifies the token in the browser with
//! `GET /api/v1/trust` and the status list, both answered by the issuer's public router
//! (`crate::http::server`).
//!
//! The issuer's page verifies QR codes only: PDFs are verified by the stateless verifier
//! (`verifier serve`, run by the departments), which the page names and, when
//! `pdf_verifier_url` is configured, links to. The issuer holds the signing keys and does not
//! parse untrusted PDFs.

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::Response;

use ccr_web::verify_page::{self, PdfUpload, VerifyPage};

use crate::setup::config::Config;

/// The paths the issuer's portal and API already answer: the verify URL may not name one.
const TAKEN: [&str; 14] = [
    "/api",
    "/status",
    "/trust",
    "/trust.pem",
    "/crl",
    "/assets",
    "/healthz",
    "/metrics",
    "/sign-in",
    "/sign-out",
    "/applications",
    "/session",
    "/staff",
    "/department",
];

/// The paths the page is served at: `/verify`, and the path of `verify_url` when it is on
/// the issuer's own origin and names no other page (else it is left out, with a warning).
pub fn page_paths(config: &Config) -> Vec<String> {
    let mut paths = vec!["/verify".to_owned()];
    let Some(path) = verify_page::path_on_origin(&config.verify_url, &config.public_url) else {
        return paths;
    };
    let first = path.split('/').nth(1).unwrap_or_default();
    let plain = path
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"/-._~".contains(&b));
    let taken = path == "/"
        || TAKEN
            .iter()
            .any(|t| t.trim_start_matches('/') == first || path.starts_with(&format!("{t}/")));
    if path == "/verify" {
        return paths;
    }
    if !plain || taken || path.contains("//") {
        eprintln!(
            "issuer: verify_url {} names a path the issuer cannot serve the verification page at \
             ({path}); the page is served at /verify only",
            config.verify_url
        );
    } else {
        paths.push(path.to_owned());
    }
    paths
}

/// The page's routes, with the portal's strict headers and the page's own policy.
pub fn router<S>(config: &Config) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    let page = VerifyPage::new(&PdfUpload::Elsewhere {
        link: config.pdf_verifier_url.clone(),
    });
    let paths = page_paths(config);
    let paths: Vec<&str> = paths.iter().map(String::as_str).collect();
    // The browser fetches the status list named in the token, on the public URL's origin:
    // the same origin unless the issuer is reached by another name.
    let csp = verify_page::content_security_policy(Some(&config.public_url));
    page.router(&paths, false)
        .layer(axum::middleware::map_response(move |response: Response| {
            let csp = csp.clone();
            async move { page_headers(response, csp).await }
        }))
}

/// The portal's headers, with the page's Content-Security-Policy (no inline script or style
/// either; `connect-src` adds the issuer's public origin) and no referrer at all.
async fn page_headers(response: Response, csp: HeaderValue) -> Response {
    let mut response = super::security_headers(response).await;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, csp);
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(verify_url: &str) -> Config {
        let text = crate::setup::config::default_toml("http://127.0.0.1:8080").replace(
            "verify_url = \"http://127.0.0.1:8080/verify\"",
            &format!("verify_url = \"{verify_url}\""),
        );
        toml::from_str(&text).expect("config")
    }

    #[test]
    fn the_page_is_at_verify_and_at_the_verify_urls_own_path() {
        assert_eq!(
            page_paths(&config("http://127.0.0.1:8080/verify")),
            ["/verify"]
        );
        assert_eq!(
            page_paths(&config("http://127.0.0.1:8080/ccr/check")),
            ["/verify", "/ccr/check"]
        );
        // Another origin: its own server serves it.
        assert_eq!(page_paths(&config("https://verify.example/v")), ["/verify"]);
        // Paths the portal or the API answer are never taken over.
        for taken in [
            "/",
            "/status/x",
            "/api/v1/verify",
            "/staff",
            "/assets/x",
            "/{x}",
        ] {
            assert_eq!(
                page_paths(&config(&format!("http://127.0.0.1:8080{taken}"))),
                ["/verify"],
                "{taken}"
            );
        }
    }
}
