//! The verification page (SPEC §4, §7): the one page both services serve, the verifier at
//! `/` and `/verify`, the issuer at its verify URL, so that a scanned QR code opens a working
//! page whichever of the two its URL names.
//!
//! The page (`verify-page/index.html`, `verify.js`, `style.css`) is static: its script
//! verifies a QR token in the browser with `GET /api/v1/trust` of the service that served it
//! and the issuer's status list, and (where the service verifies PDFs) uploads a PDF to
//! `POST /api/v1/verify`. Those endpoints are the services' own; this module gives the bytes,
//! the content-hashed asset names, the routes that serve them and the Content-Security-Policy
//! the page needs (no inline script or style, network only to itself and the issuer).

use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sha2::Digest as _;

/// The page, as written (before [`VerifyPage::new`] chooses its PDF block and asset names).
pub const INDEX_HTML: &str = include_str!("../verify-page/index.html");
/// The page's script.
pub const VERIFY_JS: &str = include_str!("../verify-page/verify.js");
/// The page's stylesheet.
pub const STYLE_CSS: &str = include_str!("../verify-page/style.css");

/// The script's stable path (revalidated on every use), kept for clients that name it.
pub const SCRIPT_PATH: &str = "/assets/verify.js";
/// The stylesheet's stable path (revalidated on every use).
pub const STYLE_PATH: &str = "/assets/style.css";

const JS_TYPE: &str = "text/javascript; charset=utf-8";
const CSS_TYPE: &str = "text/css; charset=utf-8";
const HTML_TYPE: &str = "text/html; charset=utf-8";

fn hashed(stem: &str, ext: &str, body: &str) -> String {
    let digest = sha2::Sha256::digest(body.as_bytes());
    let hash: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
    format!("/assets/{stem}.{hash}.{ext}")
}

/// The script's content-hashed path (`/assets/verify.<hash>.js`): cached for a year, and a
/// new release is fetched at once because its name changes.
pub fn script_path() -> &'static str {
    static PATH: OnceLock<String> = OnceLock::new();
    PATH.get_or_init(|| hashed("verify", "js", VERIFY_JS))
}

/// The stylesheet's content-hashed path (`/assets/verify.<hash>.css`).
pub fn style_path() -> &'static str {
    static PATH: OnceLock<String> = OnceLock::new();
    PATH.get_or_init(|| hashed("verify", "css", STYLE_CSS))
}

/// Where a PDF is verified from this page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PdfUpload {
    /// Here: the service answers `POST /api/v1/verify` (the verifier).
    Here,
    /// Elsewhere: the page only verifies QR codes and says where PDFs are verified, linking
    /// there if an `http(s)` URL is given (the issuer).
    Elsewhere {
        /// The verification service that checks PDFs, if one is configured.
        link: Option<String>,
    },
}

/// The page as one service serves it.
#[derive(Debug, Clone)]
pub struct VerifyPage {
    html: Arc<str>,
}

/// Keeps the text between `<!-- {name} -->` and `<!-- /{name} -->` (markers dropped) or
/// drops it with its markers.
fn block(html: &str, name: &str, keep: bool) -> String {
    let open = format!("<!-- {name} -->");
    let close = format!("<!-- /{name} -->");
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find(&open) {
        let Some(len) = rest[start..].find(&close) else {
            break;
        };
        let inner = &rest[start + open.len()..start + len];
        // The marker's own line goes too (its indentation and line end).
        let before = rest[..start].trim_end_matches([' ', '\t']);
        out.push_str(before);
        if keep {
            out.push_str(inner.trim_start_matches(['\n']));
        }
        rest = &rest[start + len + close.len()..];
        rest = rest.strip_prefix('\n').unwrap_or(rest);
        if !keep && out.ends_with('\n') && rest.starts_with('\n') {
            rest = &rest[1..];
        }
    }
    out.push_str(rest);
    out
}

/// `s` as an HTML attribute value.
fn attribute(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

impl VerifyPage {
    /// The page with its PDF block chosen and its assets named by their hashes.
    pub fn new(pdf: &PdfUpload) -> Self {
        let mut html = INDEX_HTML
            .replace(
                &format!("href=\"{STYLE_PATH}\""),
                &format!("href=\"{}\"", style_path()),
            )
            .replace(
                &format!("src=\"{SCRIPT_PATH}\""),
                &format!("src=\"{}\"", script_path()),
            );
        match pdf {
            PdfUpload::Here => {
                html = block(&html, "pdf-here", true);
                html = block(&html, "pdf-elsewhere", false);
            }
            PdfUpload::Elsewhere { link } => {
                html = block(&html, "pdf-here", false);
                html = block(&html, "pdf-elsewhere", true);
                let link = link
                    .as_deref()
                    .filter(|l| origin(l).is_some() && !l.chars().any(char::is_control));
                html = block(&html, "pdf-link", link.is_some());
                if let Some(link) = link {
                    html = html.replace("PDF_VERIFIER_URL", &attribute(link));
                }
            }
        }
        Self { html: html.into() }
    }

    /// The page's HTML.
    pub fn html(&self) -> &str {
        &self.html
    }

    /// `GET` routes for the page at each of `page_paths`, and for its assets at their hashed
    /// paths (and at [`SCRIPT_PATH`] and [`STYLE_PATH`] if `stable_asset_paths`). Security
    /// headers are the service's to add, with [`content_security_policy`] on the page.
    pub fn router<S>(&self, page_paths: &[&str], stable_asset_paths: bool) -> Router<S>
    where
        S: Clone + Send + Sync + 'static,
    {
        let mut router = Router::new();
        for path in page_paths {
            let html = Arc::clone(&self.html);
            router = router.route(
                path,
                get(move || {
                    let html = Arc::clone(&html);
                    async move { page_response(&html) }
                }),
            );
        }
        router = router
            .route(
                script_path(),
                get(|| async { immutable(JS_TYPE, VERIFY_JS) }),
            )
            .route(
                style_path(),
                get(|| async { immutable(CSS_TYPE, STYLE_CSS) }),
            );
        if stable_asset_paths {
            router = router
                .route(
                    SCRIPT_PATH,
                    get(|| async { revalidated(JS_TYPE, VERIFY_JS) }),
                )
                .route(
                    STYLE_PATH,
                    get(|| async { revalidated(CSS_TYPE, STYLE_CSS) }),
                );
        }
        router
    }
}

fn page_response(html: &str) -> Response {
    revalidated(HTML_TYPE, html.to_owned())
}

fn revalidated(content_type: &'static str, body: impl IntoResponse) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        body,
    )
        .into_response()
}

fn immutable(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=31536000, immutable"),
            ),
        ],
        body,
    )
        .into_response()
}

/// The origin (`scheme://host[:port]`) of an `http(s)` URL.
pub fn origin(url: &str) -> Option<&str> {
    let (scheme, rest) = url.split_once("://")?;
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let host = rest.get(..end).filter(|h| !h.is_empty())?;
    url.get(..scheme.len() + 3 + host.len())
}

/// The path of `url` if it is on `base`'s origin (`/verify` for `http://h/verify#x`).
pub fn path_on_origin<'a>(url: &'a str, base: &str) -> Option<&'a str> {
    let own = origin(url)?;
    if !own.eq_ignore_ascii_case(origin(base)?) {
        return None;
    }
    let rest = &url[own.len()..];
    let end = rest.find(['?', '#']).unwrap_or(rest.len());
    let path = &rest[..end];
    Some(if path.is_empty() { "/" } else { path })
}

/// The page's Content-Security-Policy: everything from the serving origin only, no inline
/// script or style, and the browser may fetch from `issuer` (its origin) besides: the QR
/// path reads the issuer's status list itself. A value that cannot be a header is left out
/// rather than weakening the policy.
pub fn content_security_policy(issuer: Option<&str>) -> HeaderValue {
    let connect = issuer
        .and_then(origin)
        .filter(|o| o.bytes().all(|b| b.is_ascii_graphic()))
        .map_or_else(|| "'self'".to_owned(), |o| format!("'self' {o}"));
    let policy = format!(
        "default-src 'self'; connect-src {connect}; img-src 'self' data:; style-src 'self'; \
         script-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    );
    HeaderValue::from_str(&policy).unwrap_or(HeaderValue::from_static(
        "default-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins() {
        assert_eq!(
            origin("http://127.0.0.1:8080/x"),
            Some("http://127.0.0.1:8080")
        );
        assert_eq!(origin("https://dsi.gov.mo"), Some("https://dsi.gov.mo"));
        assert_eq!(origin("ftp://x"), None);
        assert_eq!(origin("http://"), None);
        assert_eq!(
            path_on_origin("http://127.0.0.1:8080/ccr/verify", "http://127.0.0.1:8080"),
            Some("/ccr/verify")
        );
        assert_eq!(
            path_on_origin("http://127.0.0.1:8080", "http://127.0.0.1:8080/"),
            Some("/")
        );
        assert_eq!(
            path_on_origin("https://verify.example/verify", "http://127.0.0.1:8080"),
            None
        );
    }

    #[test]
    fn the_policy_names_the_issuer() {
        let csp = content_security_policy(Some("http://127.0.0.1:8080"));
        let csp = csp.to_str().unwrap_or_default();
        assert!(
            csp.contains("connect-src 'self' http://127.0.0.1:8080;"),
            "{csp}"
        );
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        let csp = content_security_policy(Some("http://bad host\n"));
        assert!(
            csp.to_str()
                .is_ok_and(|c| c.contains("connect-src 'self';"))
        );
    }

    #[test]
    fn the_page_names_its_hashed_assets_and_keeps_one_pdf_block() {
        let here = VerifyPage::new(&PdfUpload::Here);
        let html = here.html();
        assert!(
            html.contains(&format!("href=\"{}\"", style_path())),
            "{html}"
        );
        assert!(
            html.contains(&format!("src=\"{}\"", script_path())),
            "{html}"
        );
        assert!(html.contains("id=\"file\""));
        assert!(html.contains("data-i18n=\"about_pdf\""));
        assert!(!html.contains("id=\"pdf-elsewhere\""));
        assert!(!html.contains("<!-- pdf-"), "markers are dropped");

        let elsewhere = VerifyPage::new(&PdfUpload::Elsewhere { link: None });
        let html = elsewhere.html();
        assert!(!html.contains("id=\"file\""));
        assert!(!html.contains("about_pdf"));
        assert!(html.contains("id=\"pdf-elsewhere\""));
        assert!(!html.contains("PDF_VERIFIER_URL"), "no link without a URL");

        let linked = VerifyPage::new(&PdfUpload::Elsewhere {
            link: Some("https://verify.example/?a=1&b=\"2\"".into()),
        });
        assert!(
            linked
                .html()
                .contains("href=\"https://verify.example/?a=1&amp;b=&quot;2&quot;\""),
            "{}",
            linked.html()
        );
        let bad = VerifyPage::new(&PdfUpload::Elsewhere {
            link: Some("javascript:alert(1)".into()),
        });
        assert!(!bad.html().contains("javascript:"));
        assert!(!bad.html().contains("PDF_VERIFIER_URL"));
    }

    #[test]
    fn hashed_paths_change_with_the_content() {
        assert!(script_path().starts_with("/assets/verify.") && script_path().ends_with(".js"));
        assert!(style_path().starts_with("/assets/verify.") && style_path().ends_with(".css"));
        assert_ne!(hashed("verify", "js", "a"), hashed("verify", "js", "b"));
    }
}
