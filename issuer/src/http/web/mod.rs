//! The portal (SPEC §7): server-rendered, trilingual pages that work without JavaScript.
//!
//! Pages call the same workflow and store functions as the JSON API; they hold no rules of
//! their own. Every page carries strict security headers ([`security_headers`]): a CSP with no
//! inline script or style, no framing, no sniffing, no referrer to other sites, no caching of
//! pages that may show personal data.

mod account;
pub mod assets;
pub mod i18n;
pub mod session;
mod start;
pub mod verify;

use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;

use crate::api::AppState;
use i18n::{LANG_COOKIE, Lang, Text};

/// What every page's layout needs.
#[derive(Debug)]
pub struct Frame {
    /// The page's language.
    pub lang: Lang,
    /// Its strings.
    pub t: &'static Text,
    /// The page title (before the service name).
    pub title: String,
    /// Whether the page shows form errors ("Error:" before the title).
    pub has_errors: bool,
    /// The stylesheet's hashed path.
    pub stylesheet: &'static str,
    /// The language switch.
    pub languages: Vec<LanguageLink>,
    /// Whether development providers are configured (a notice on every page).
    pub development: bool,
    /// For a signed-in page: the form token the timeout warning's "stay signed in" sends.
    pub session_token: Option<String>,
    /// Seconds a session lives unused.
    pub idle_seconds: i64,
    /// The timeout warning's script.
    pub timeout_script: &'static str,
}

/// One entry of the language switch (a link on pages without a form).
#[derive(Debug)]
pub struct LanguageLink {
    /// `?lang=` target.
    pub href: String,
    /// BCP 47 tag, for `lang` and `hreflang`.
    pub tag: &'static str,
    /// The language's own name.
    pub name: &'static str,
    /// The page's current language.
    pub current: bool,
}

impl Frame {
    /// The frame of a page at `path` in `lang`.
    pub fn new(state: &AppState, lang: Lang, path: &str, title: &str) -> Self {
        Self {
            lang,
            t: lang.text(),
            title: title.to_owned(),
            has_errors: false,
            stylesheet: assets::stylesheet(),
            languages: Lang::ALL
                .into_iter()
                .map(|l| LanguageLink {
                    href: format!("{path}?lang={}", l.code()),
                    tag: l.tag(),
                    name: l.native_name(),
                    current: l == lang,
                })
                .collect(),
            development: state.bureau.config().providers.any_development(),
            session_token: None,
            idle_seconds: state.bureau.config().application.portal_idle_seconds,
            timeout_script: assets::timeout_script(),
        }
    }

    /// The frame of a signed-in page: with the session-timeout warning.
    pub fn signed_in(mut self, csrf_token: &str) -> Self {
        self.session_token = Some(csrf_token.to_owned());
        self
    }
}

/// Renders a page; a chosen language is remembered in a cookie.
pub fn page(template: &impl Template, lang: Lang, chosen: bool) -> Result<Response, PageError> {
    let body = template
        .render()
        .map_err(|e| PageError::Internal(e.to_string()))?;
    let mut response = Html(body).into_response();
    if chosen {
        let cookie = format!(
            "{LANG_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax",
            lang.code()
        );
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    Ok(response)
}

/// Why a page could not be shown; the page-side twin of `ApiError`. Internal details are
/// logged with a reference and never shown.
#[derive(Debug)]
pub enum PageError {
    /// No such page, or not the caller's.
    NotFound(Lang),
    /// A form from another site, or without its token.
    Forbidden(Lang),
    /// The session has ended.
    TimedOut(Lang),
    /// Something failed inside.
    Internal(String),
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    frame: Frame,
    heading: &'static str,
    body: &'static str,
    reference: Option<String>,
    link: Option<(&'static str, &'static str)>,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, lang, reference) = match self {
            Self::NotFound(lang) | Self::Forbidden(lang) | Self::TimedOut(lang) => {
                let status = match self {
                    Self::NotFound(_) => StatusCode::NOT_FOUND,
                    Self::Forbidden(_) => StatusCode::FORBIDDEN,
                    _ => StatusCode::UNAUTHORIZED,
                };
                (status, lang, None)
            }
            Self::Internal(detail) => {
                let reference = crate::store::random_id("E");
                eprintln!("issuer: page error {reference}: {detail}");
                (StatusCode::INTERNAL_SERVER_ERROR, Lang::En, Some(reference))
            }
        };
        let t = lang.text();
        let (heading, body, link) = match status {
            StatusCode::INTERNAL_SERVER_ERROR => (t.problem_title, t.problem_body, None),
            StatusCode::FORBIDDEN => (t.forbidden_title, t.forbidden_body, None),
            StatusCode::UNAUTHORIZED => (
                t.timed_out_title,
                t.timed_out_body,
                Some(("/sign-in", t.sign_in_again)),
            ),
            _ => (t.not_found_title, t.not_found_body, None),
        };
        let page = ErrorPage {
            frame: Frame {
                lang,
                t,
                title: heading.to_owned(),
                has_errors: false,
                stylesheet: assets::stylesheet(),
                languages: Vec::new(),
                development: false,
                session_token: None,
                idle_seconds: 0,
                timeout_script: assets::timeout_script(),
            },
            heading,
            body,
            reference,
            link,
        };
        let html = page.render().unwrap_or_else(|_| heading.to_owned());
        (status, Html(html)).into_response()
    }
}

/// The Content-Security-Policy of every page: our own stylesheet and scripts only.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; script-src 'self'; \
     img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Strict headers on every portal response.
pub async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "same-origin"),
        (
            header::HeaderName::from_static("permissions-policy"),
            "camera=(self), microphone=(), geolocation=(), payment=()",
        ),
        (
            header::HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}

/// The portal's routes.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/", get(start::start))
        .route(
            "/sign-in",
            get(account::sign_in_form).post(account::sign_in),
        )
        .route("/sign-out", axum::routing::post(account::sign_out))
        .route("/applications", get(account::applications))
        .route(
            "/session/keep-alive",
            axum::routing::post(session::keep_alive),
        )
        .route("/session/timed-out", get(session::timed_out))
        .route("/assets/{name}", get(assets::serve))
        .layer(axum::middleware::map_response(security_headers))
        .with_state(state)
}

/// The `?lang=` of a page request, if any.
#[derive(Debug, serde::Deserialize)]
pub struct LangQuery {
    /// A language chosen with the switch.
    #[serde(default)]
    pub lang: Option<String>,
}

/// The request's language and whether it was chosen just now (to remember it).
pub fn language(query: &LangQuery, headers: &HeaderMap) -> (Lang, bool) {
    let chosen = query.lang.as_deref().and_then(Lang::parse);
    (
        Lang::of_request(query.lang.as_deref(), headers),
        chosen.is_some(),
    )
}

/// An error of one form field, for the error summary and the field.
#[derive(Debug)]
pub struct FieldError {
    /// The field's id (the summary links to it).
    pub field: &'static str,
    /// What to do about it.
    pub message: &'static str,
}

/// A text input with its label, hint, typed value and error.
#[derive(Debug)]
pub struct TextField {
    /// `id` and `name`.
    pub id: &'static str,
    /// The label.
    pub label: &'static str,
    /// A hint under the label.
    pub hint: Option<&'static str>,
    /// What was typed (shown again after an error).
    pub value: String,
    /// The error, if any.
    pub error: Option<&'static str>,
    /// `text`, `tel`…
    pub input_type: &'static str,
    /// `autocomplete`.
    pub autocomplete: Option<&'static str>,
    /// `inputmode`.
    pub inputmode: Option<&'static str>,
}

/// MOP from avos, as printed: `MOP 50.00`.
pub fn mop(avos: i64) -> String {
    format!("MOP {}.{:02}", avos / 100, (avos % 100).abs())
}
