//! The portal (SPEC §7): server-rendered, trilingual pages that work without JavaScript.
//!
//! Pages call the same workflow and store functions as the JSON API; they hold no rules of
//! their own. Every page carries strict security headers ([`security_headers`]): a CSP with no
//! inline script or style, no framing, no sniffing, no referrer to other sites, no caching of
//! pages that may show personal data.

mod account;
mod apply;
pub mod assets;
mod department;
pub mod desk;
pub mod i18n;
mod identity;
mod payment;
mod progress;
pub mod session;
mod signed_in;
mod staff;
mod start;
mod upload;
pub mod verify;

use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;

use crate::bureau::Services as AppState;
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
    /// On a page whose form must keep what was typed when the language changes: the form's
    /// id; the switch then submits the form (buttons), instead of following links.
    pub form_id: Option<&'static str>,
    /// Where the header's service name leads: the area's start.
    pub home: &'static str,
    /// The area's name after the service's (back office, department portal).
    pub area_name: Option<&'static str>,
    /// The back office's or department portal's menu and who is signed in.
    pub desk: Option<DeskBar>,
}

/// The menu of a signed-in back-office or department page.
#[derive(Debug)]
pub struct DeskBar {
    /// The menu's label.
    pub label: &'static str,
    /// Its links: (href with language, text, current page).
    pub links: Vec<(String, &'static str, bool)>,
    /// "Signed in as".
    pub signed_in_as: &'static str,
    /// The person's name and role.
    pub who: String,
    /// Where the sign-out form posts.
    pub sign_out_action: &'static str,
    /// "Sign out".
    pub sign_out: &'static str,
    /// The sign-out form's token.
    pub csrf: String,
}

/// One entry of the language switch (a link on pages without a form).
#[derive(Debug)]
pub struct LanguageLink {
    /// `?lang=` target.
    pub href: String,
    /// BCP 47 tag, for `lang` and `hreflang`.
    pub tag: &'static str,
    /// The short code (`?lang=`, `switch_lang`).
    pub code: &'static str,
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
                    code: l.code(),
                    name: l.native_name(),
                    current: l == lang,
                })
                .collect(),
            development: state.bureau.config().providers.any_development(),
            session_token: None,
            idle_seconds: state.bureau.config().application.portal_idle_seconds,
            timeout_script: assets::timeout_script(),
            form_id: None,
            home: "/",
            area_name: None,
            desk: None,
        }
    }

    /// The frame of a page whose form `form_id` keeps what was typed across a language
    /// change.
    pub fn with_form(mut self, form_id: &'static str) -> Self {
        self.form_id = Some(form_id);
        self
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
    /// A form that our own pages never send (an unknown choice).
    BadRequest(Lang),
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
    /// A way on: a path with a query (the page adds its language), and its text.
    link: Option<(&'static str, &'static str)>,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, lang, reference) = match self {
            Self::NotFound(lang)
            | Self::Forbidden(lang)
            | Self::TimedOut(lang)
            | Self::BadRequest(lang) => {
                let status = match self {
                    Self::NotFound(_) => StatusCode::NOT_FOUND,
                    Self::Forbidden(_) => StatusCode::FORBIDDEN,
                    Self::BadRequest(_) => StatusCode::BAD_REQUEST,
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
            StatusCode::BAD_REQUEST => (t.problem_title, t.forbidden_body, None),
            StatusCode::UNAUTHORIZED => (
                t.timed_out_title,
                t.timed_out_body,
                Some(("/sign-in?next=/apply/resume", t.sign_in_again)),
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
                form_id: None,
                home: "/",
                area_name: None,
                desk: None,
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
    // Forms with files carry up to `max_upload_bytes` (axum's default of 2 MiB would refuse a
    // phone photo before its own, clearer, per-file message); plain forms stay bounded by
    // `session::MAX_FORM_BYTES`.
    let upload_limit = state.bureau.config().application.max_upload_bytes;
    Router::new()
        .route("/", get(start::start))
        .route(
            "/sign-in",
            get(account::sign_in_form).post(account::sign_in),
        )
        .route("/sign-out", axum::routing::post(account::sign_out))
        .route("/sign-in/oidc", get(account::oidc_start))
        .route("/sign-in/callback", get(account::oidc_callback))
        .route("/applications", get(account::applications))
        .route("/apply", get(apply::select_form).post(apply::select))
        .route("/apply/resume", get(apply::resume))
        .route(
            "/applications/{id}/confirm",
            get(apply::confirm_form).post(apply::confirm),
        )
        .route(
            "/applications/{id}/code",
            get(identity::code_form).post(identity::verify_code),
        )
        .route(
            "/applications/{id}/code/send",
            axum::routing::post(identity::send_code),
        )
        .route("/applications/{id}/code/help", get(identity::code_help))
        .route(
            "/applications/{id}/face",
            get(identity::face_form).post(identity::face_check),
        )
        .route("/applications/{id}/check", get(payment::check))
        .route("/applications/{id}/pay", axum::routing::post(payment::pay))
        .route(
            "/sandbox/pay/{payment}",
            get(payment::sandbox_page).post(payment::sandbox_pay),
        )
        .route("/payments/{payment}/return", get(payment::payment_return))
        .route(
            "/applications/{id}/exemption",
            get(payment::exemption_form).post(payment::exemption_kind),
        )
        .route(
            "/applications/{id}/exemption/{kind}",
            get(payment::documents_form).post(payment::request_exemption),
        )
        .route("/applications/{id}/submitted", get(payment::submitted))
        .route("/applications/{id}/receipt", get(payment::receipt))
        .route("/applications/{id}", get(progress::application))
        .route(
            "/applications/{id}/information",
            axum::routing::post(progress::answer),
        )
        .route("/download/{number}", get(progress::download))
        .route(
            "/session/keep-alive",
            axum::routing::post(session::keep_alive),
        )
        .route("/session/timed-out", get(session::timed_out))
        .route("/assets/{name}", get(assets::serve))
        .merge(staff::router())
        .merge(department::router())
        .layer(axum::middleware::map_response(security_headers))
        .layer(axum::extract::DefaultBodyLimit::max(upload_limit))
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
    pub label: String,
    /// A hint under the label.
    pub hint: Option<String>,
    /// What was typed (shown again after an error).
    pub value: String,
    /// The error, if any.
    pub error: Option<String>,
    /// `text`, `tel`…
    pub input_type: &'static str,
    /// `autocomplete`.
    pub autocomplete: Option<&'static str>,
    /// `inputmode`.
    pub inputmode: Option<&'static str>,
}

impl TextField {
    /// A text input `id` labelled `label`, showing `value`.
    pub fn new(id: &'static str, label: &str, value: impl Into<String>) -> Self {
        Self {
            id,
            label: label.to_owned(),
            hint: None,
            value: value.into(),
            error: None,
            input_type: "text",
            autocomplete: None,
            inputmode: None,
        }
    }

    /// With a hint.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

/// The name of a coded entry (usage, collection site) in `lang`.
pub fn coded_name(entry: &crate::setup::config::CodedEntry, lang: Lang) -> &str {
    match lang {
        Lang::Zh => &entry.zh,
        Lang::Pt => &entry.pt,
        Lang::En => &entry.en,
    }
}

/// A department's name in `lang`.
pub fn department_name(d: &crate::store::accounts::Department, lang: Lang) -> &str {
    match lang {
        Lang::Zh => &d.name_zh,
        Lang::Pt => &d.name_pt,
        Lang::En => &d.name_en,
    }
}

/// MOP from avos, as printed: `MOP 50.00`.
pub fn mop(avos: i64) -> String {
    format!("MOP {}.{:02}", avos / 100, (avos % 100).abs())
}

/// A group of radios (or checkboxes) in a fieldset, the legend as its question.
#[derive(Debug)]
pub struct RadioGroup {
    /// `name` of the inputs; the first input's `id` (the error summary links to it).
    pub name: &'static str,
    /// `radio` or `checkbox`.
    pub kind: &'static str,
    /// The question.
    pub legend: String,
    /// A hint under the legend.
    pub hint: Option<String>,
    /// The error, if any.
    pub error: Option<String>,
    /// The choices.
    pub options: Vec<RadioOption>,
}

/// One choice of a [`RadioGroup`].
#[derive(Debug)]
pub struct RadioOption {
    /// The submitted value.
    pub value: String,
    /// The label.
    pub label: String,
    /// A hint under the label.
    pub hint: Option<String>,
    /// Whether it is chosen (kept after an error or a language change).
    pub checked: bool,
}

impl RadioGroup {
    /// Radios named `name` asking `legend`, with `options` as (value, label), `chosen` checked.
    pub fn new(
        name: &'static str,
        legend: impl Into<String>,
        options: impl IntoIterator<Item = (String, String)>,
        chosen: Option<&str>,
    ) -> Self {
        Self {
            name,
            kind: "radio",
            legend: legend.into(),
            hint: None,
            error: None,
            options: options
                .into_iter()
                .map(|(value, label)| RadioOption {
                    checked: chosen == Some(value.as_str()),
                    value,
                    label,
                    hint: None,
                })
                .collect(),
        }
    }
}

/// One row of a summary list ("check your answers").
#[derive(Debug)]
pub struct SummaryRow {
    /// The question.
    pub key: String,
    /// The answer.
    pub value: String,
    /// Where "Change" goes, if the answer can be changed.
    pub change: Option<String>,
    /// "Change" in the page's language.
    pub change_text: &'static str,
}

/// A file input.
#[derive(Debug)]
pub struct FileField {
    /// `id` and `name`.
    pub id: String,
    /// The label.
    pub label: String,
    /// A hint.
    pub hint: Option<String>,
    /// The error, if any.
    pub error: Option<String>,
    /// `accept`.
    pub accept: &'static str,
    /// Whether a phone should open its front camera.
    pub capture: bool,
}

/// An error of a field whose message is built at run time.
#[derive(Debug)]
pub struct Problem {
    /// The field's id.
    pub field: String,
    /// The message.
    pub message: String,
}

/// The message of the error of `field` among `errors`, if any.
pub fn error_of<'a>(errors: &'a [Problem], field: &str) -> Option<&'a str> {
    errors
        .iter()
        .find(|e| e.field == field)
        .map(|e| e.message.as_str())
}

impl PageError {
    /// A use case's refusal that is not about a form field: not found stays not found (a
    /// reference of someone else's is as unknown as a wrong one); anything else is internal.
    pub fn from_case(e: crate::bureau::CaseError, lang: Lang) -> Self {
        match e {
            crate::bureau::CaseError::NotFound(_) => Self::NotFound(lang),
            other => Self::Internal(other.to_string()),
        }
    }
}

/// A QR code of `text` as an `<img>` source (an SVG data URI: the pages' policy allows
/// `data:` images and nothing inline that runs).
pub fn qr_image(text: &str) -> Result<String, PageError> {
    use base64::Engine as _;
    let code = qrcode::QrCode::with_error_correction_level(text, qrcode::EcLevel::M)
        .map_err(|e| PageError::Internal(e.to_string()))?;
    let svg = code
        .render::<qrcode::render::svg::Color<'_>>()
        .quiet_zone(true)
        .min_dimensions(220, 220)
        .build();
    Ok(format!(
        "data:image/svg+xml;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(svg)
    ))
}

/// A 303 to `path` (after a form post: the browser GETs it, and "back" does not re-post).
pub fn see_other(path: &str) -> Response {
    axum::response::Redirect::to(path).into_response()
}
