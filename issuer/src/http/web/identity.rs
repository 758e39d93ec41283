//! Step 3 of the application as pages: the one-time password sent by SMS (one field, numeric
//! keyboard, `autocomplete="one-time-code"` so phones offer the code and paste works; WCAG
//! 3.3.8), a "not received" page with resend, and the face check with the phone's front
//! camera. The rules are the use cases'.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::apply::next_step;
use super::i18n::{Lang, Steps, fill};
use super::session::CheckedForm;
use super::signed_in::SignedIn;
use super::upload::CheckedUpload;
use super::{FileField, Frame, PageError, Problem, TextField, page, see_other};
use crate::bureau::CaseError;
use crate::bureau::Services as AppState;
use crate::bureau::applying::masked;
use crate::identity::auth::Principal;
use crate::store::applications::ApplicationRow;

/// `?sent=1` after a code was sent.
#[derive(Debug, serde::Deserialize)]
pub struct CodeQuery {
    #[serde(default)]
    sent: Option<String>,
}

#[derive(Template)]
#[template(path = "apply/code.html")]
struct CodePage {
    frame: Frame,
    s: &'static Steps,
    caption: String,
    errors: Vec<Problem>,
    csrf: String,
    id: String,
    sent: Option<String>,
    intro: String,
    code: TextField,
}

#[derive(Template)]
#[template(path = "apply/code_help.html")]
struct CodeHelpPage {
    frame: Frame,
    s: &'static Steps,
    csrf: String,
    id: String,
    body: String,
}

#[derive(Template)]
#[template(path = "apply/face.html")]
struct FacePage {
    frame: Frame,
    s: &'static Steps,
    caption: String,
    errors: Vec<Problem>,
    csrf: String,
    id: String,
    photo: FileField,
}

/// The signed-in applicant's application `id` if its next step is `path_end` (`code`,
/// `face`); otherwise where it goes on from.
async fn at_step(
    state: &AppState,
    who: &Principal,
    id: &str,
    path_end: &str,
    lang: Lang,
) -> Result<Result<ApplicationRow, Response>, PageError> {
    let app = state
        .application_for(who, id)
        .await
        .map_err(|e| PageError::from_case(e, lang))?;
    let next = next_step(&app);
    if next.ends_with(path_end) {
        Ok(Ok(app))
    } else {
        Ok(Err(see_other(&next)))
    }
}

fn code_page(
    state: &AppState,
    lang: Lang,
    csrf: &str,
    app: &ApplicationRow,
    sent: bool,
    typed: &str,
    error: Option<String>,
) -> CodePage {
    let s = lang.steps();
    let path = format!("/applications/{}/code", app.id);
    let mut frame = Frame::new(state, lang, &path, s.code_title).signed_in(csrf);
    frame.has_errors = error.is_some();
    let number = masked(app.mobile.as_deref().unwrap_or_default());
    let mut code = TextField::new("code", s.code_label, typed).hint(s.code_hint);
    code.inputmode = Some("numeric");
    code.autocomplete = Some("one-time-code");
    code.error.clone_from(&error);
    CodePage {
        frame,
        s,
        caption: s.step(3),
        errors: error
            .map(|message| Problem {
                field: "code".into(),
                message,
            })
            .into_iter()
            .collect(),
        csrf: csrf.to_owned(),
        id: app.id.clone(),
        sent: sent.then(|| fill(s.code_sent, &[&number])),
        intro: fill(s.code_intro, &[&number]),
        code,
    }
}

/// `GET /applications/{id}/code`: step 3, the one-time password.
pub async fn code_form(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    Query(query): Query<CodeQuery>,
    SignedIn {
        lang,
        chosen,
        session,
        who,
    }: SignedIn,
) -> Result<Response, PageError> {
    let app = match at_step(&state, &who, &id, "/code", lang).await? {
        Ok(app) => app,
        Err(elsewhere) => return Ok(elsewhere),
    };
    let template = code_page(
        &state,
        lang,
        &session.csrf_token,
        &app,
        query.sent.is_some(),
        "",
        None,
    );
    page(&template, lang, chosen)
}

/// The send and verify forms' fields.
#[derive(Debug, serde::Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    code: String,
}

/// `POST /applications/{id}/code/send`: sends (or resends) the code.
pub async fn send_code(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    SignedIn { lang, who, .. }: SignedIn,
    form: CheckedForm<CodeForm>,
) -> Result<Response, PageError> {
    let app = match at_step(&state, &who, &id, "/code", lang).await? {
        Ok(app) => app,
        Err(elsewhere) => return Ok(elsewhere),
    };
    match state.send_otp(&who, &id).await {
        Ok(_) => Ok(see_other(&format!(
            "/applications/{id}/code?sent=1&lang={}",
            lang.code()
        ))),
        Err(CaseError::Limited(_) | CaseError::Conflict(_)) => {
            let s = lang.steps();
            let template = code_page(
                &state,
                lang,
                &form.session.csrf_token,
                &app,
                false,
                "",
                Some(s.err_code_too_soon.into()),
            );
            let mut response = page(&template, lang, false)?;
            *response.status_mut() = StatusCode::TOO_MANY_REQUESTS;
            Ok(response)
        }
        Err(e) => Err(PageError::from_case(e, lang)),
    }
}

/// `POST /applications/{id}/code`: checks the code typed.
pub async fn verify_code(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    SignedIn { lang, who, .. }: SignedIn,
    form: CheckedForm<CodeForm>,
) -> Result<Response, PageError> {
    let app = match at_step(&state, &who, &id, "/code", lang).await? {
        Ok(app) => app,
        Err(elsewhere) => return Ok(elsewhere),
    };
    let s = lang.steps();
    // Phones paste codes with spaces ("123 456"); the code is its digits.
    let typed: String = form
        .fields
        .code
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    let error = if typed.len() != 6 || !typed.bytes().all(|b| b.is_ascii_digit()) {
        s.err_code_format
    } else {
        match state.verify_otp(&who, &id, &typed).await {
            Ok(app) => return Ok(see_other(&next_step(&app))),
            Err(CaseError::Invalid { .. }) => s.err_code_wrong,
            Err(CaseError::Limited(_)) => s.err_code_locked,
            Err(CaseError::Conflict(_)) => s.err_code_none,
            Err(e) => return Err(PageError::from_case(e, lang)),
        }
    };
    let template = code_page(
        &state,
        lang,
        &form.session.csrf_token,
        &app,
        false,
        &form.fields.code,
        Some(error.into()),
    );
    let mut response = page(&template, lang, false)?;
    *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    Ok(response)
}

/// `GET /applications/{id}/code/help`: "Not received a text message?".
pub async fn code_help(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    SignedIn {
        lang,
        chosen,
        session,
        who,
    }: SignedIn,
) -> Result<Response, PageError> {
    let app = match at_step(&state, &who, &id, "/code", lang).await? {
        Ok(app) => app,
        Err(elsewhere) => return Ok(elsewhere),
    };
    let s = lang.steps();
    let path = format!("/applications/{id}/code/help");
    let template = CodeHelpPage {
        frame: Frame::new(&state, lang, &path, s.not_received_title).signed_in(&session.csrf_token),
        s,
        csrf: session.csrf_token.clone(),
        id: app.id.clone(),
        body: fill(
            s.not_received_body,
            &[&masked(app.mobile.as_deref().unwrap_or_default())],
        ),
    };
    page(&template, lang, chosen)
}

fn face_page(
    state: &AppState,
    lang: Lang,
    csrf: &str,
    id: &str,
    error: Option<String>,
) -> FacePage {
    let s = lang.steps();
    let path = format!("/applications/{id}/face");
    let mut frame = Frame::new(state, lang, &path, s.face_title).signed_in(csrf);
    frame.has_errors = error.is_some();
    let megabytes = megabytes(state);
    FacePage {
        frame,
        s,
        caption: s.step(3),
        errors: error
            .clone()
            .map(|message| Problem {
                field: "photo".into(),
                message,
            })
            .into_iter()
            .collect(),
        csrf: csrf.to_owned(),
        id: id.to_owned(),
        photo: FileField {
            id: "photo".into(),
            label: s.face_label.into(),
            hint: Some(fill(s.face_hint, &[&megabytes])),
            error,
            accept: "image/*",
            capture: true,
        },
    }
}

/// The upload limit in MB, as stated on pages.
pub fn megabytes(state: &AppState) -> String {
    (state.bureau.config().application.max_document_bytes / (1024 * 1024)).to_string()
}

/// `GET /applications/{id}/face`: step 3, the face check.
pub async fn face_form(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    SignedIn {
        lang,
        chosen,
        session,
        who,
    }: SignedIn,
) -> Result<Response, PageError> {
    if let Err(elsewhere) = at_step(&state, &who, &id, "/face", lang).await? {
        return Ok(elsewhere);
    }
    let template = face_page(&state, lang, &session.csrf_token, &id, None);
    page(&template, lang, chosen)
}

/// Why an uploaded file cannot be used, in the page's words: missing, too large, an iPhone
/// HEIC photo, or not of `allowed` types (by declared type and by content).
pub fn file_problem(
    s: &Steps,
    file: Option<&super::upload::UploadedFile>,
    allowed: &[&str],
    megabytes: &str,
    missing: String,
    wrong_type: &str,
    too_large: &str,
) -> Result<(), String> {
    let Some(file) = file else {
        return Err(missing);
    };
    let Some(content) = &file.content else {
        return Err(fill(too_large, &[megabytes]));
    };
    let name = file.filename.to_ascii_lowercase();
    if matches!(file.media_type.as_str(), "image/heic" | "image/heif")
        || name.ends_with(".heic")
        || name.ends_with(".heif")
    {
        return Err(s.err_heic.into());
    }
    if !allowed.contains(&file.media_type.as_str()) {
        return Err(wrong_type.into());
    }
    crate::rules::documents::check_content(&file.media_type, content)
        .map_err(|why| fill(s.err_file_content, &[&why]))
}

/// `POST /applications/{id}/face`: the face check.
pub async fn face_check(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    SignedIn { lang, who, .. }: SignedIn,
    form: CheckedUpload,
) -> Result<Response, PageError> {
    if let Err(elsewhere) = at_step(&state, &who, &id, "/face", lang).await? {
        return Ok(elsewhere);
    }
    let s = lang.steps();
    let photo = form.file("photo");
    let checked = file_problem(
        s,
        photo,
        &["image/jpeg", "image/png"],
        &megabytes(&state),
        s.err_face_missing.into(),
        s.err_face_type,
        s.err_face_large,
    );
    let error = match checked {
        Err(message) => message,
        Ok(()) => {
            let image = photo.and_then(|p| p.content.as_deref()).unwrap_or_default();
            match state.face_check(&who, &id, image).await {
                Ok(app) => return Ok(see_other(&next_step(&app))),
                Err(CaseError::Invalid { .. } | CaseError::TooLarge { .. }) => {
                    s.err_face_failed.to_owned()
                }
                Err(e) => return Err(PageError::from_case(e, lang)),
            }
        }
    };
    let template = face_page(&state, lang, &form.session.csrf_token, &id, Some(error));
    let mut response = page(&template, lang, false)?;
    *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    Ok(response)
}
