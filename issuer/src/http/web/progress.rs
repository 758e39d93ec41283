//! "Your applications" in detail: an application's progress (state, due date, a request for
//! information answered here), its certificates and transfers, and downloads of the
//! applicant's own PDFs. Someone else's application, certificate or PDF is "not found", with
//! nothing of it in the page.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::apply::next_step;
use super::i18n::{Lang, Steps, fill};
use super::identity::{file_problem, megabytes};
use super::payment::{holder_rows, own, selection_rows};
use super::signed_in::SignedIn;
use super::upload::CheckedUpload;
use super::{FileField, Frame, PageError, Problem, SummaryRow, TextField, page, see_other};
use crate::bureau::CaseError;
use crate::bureau::Services as AppState;
use crate::bureau::applying::SupportingDocument;
use crate::rules::workflow;
use crate::store::applications::ApplicationRow;

/// One certificate of an application.
#[derive(Debug)]
struct CertificateLine {
    number: String,
    valid_until: String,
    transfer: Option<String>,
    /// The transfer copy's delivery to its department (SPEC §9): delivered at, waiting (and
    /// why), or refused with the department's reason.
    transfer_state: Option<String>,
    download: Option<(String, String)>,
}

#[derive(Template)]
#[template(path = "apply/application.html")]
struct ApplicationPage {
    frame: Frame,
    s: &'static Steps,
    heading: String,
    progress: Vec<SummaryRow>,
    details: Vec<SummaryRow>,
    locker: Option<LockerCode>,
    o: &'static super::i18n::office::Office,
    resume: Option<String>,
    note: Option<String>,
    answer: Option<AnswerForm>,
    errors: Vec<Problem>,
    certificates: Vec<CertificateLine>,
}

/// The answer to a request for information.
#[derive(Debug)]
struct AnswerForm {
    csrf: String,
    action: String,
    message: TextField,
    attachment: FileField,
}

async fn application_page(
    state: &AppState,
    lang: Lang,
    csrf: &str,
    app: &ApplicationRow,
    typed: &str,
    errors: Vec<Problem>,
) -> Result<ApplicationPage, PageError> {
    let s = lang.steps();
    let t = lang.text();
    let row = |key: &str, value: String| SummaryRow {
        key: key.to_owned(),
        value,
        change: None,
        change_text: s.change,
    };
    let mut progress = vec![row(s.progress_label, t.state_name(&app.state).to_owned())];
    if let Some(due) = &app.due_date {
        progress.push(row(t.col_due, due.clone()));
    }
    // Seed 001's same-day collection, when the application qualifies.
    if let Some(at) = state.same_day(app) {
        progress.push(row(lang.office().same_day, macao_minute(at)));
    }
    let mut details = selection_rows(state, app, lang).await?;
    details.extend(holder_rows(app, lang, false));
    let unfinished = matches!(
        app.state.as_str(),
        workflow::SELECTED | workflow::CONFIRMED | workflow::IDENTIFIED
    );
    let error_of = |field: &str| {
        errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.clone())
    };
    let answer = (app.state == workflow::INFORMATION_REQUESTED).then(|| {
        let mut message = TextField::new("message", s.answer_label, typed).hint(s.answer_hint);
        message.error = error_of("message");
        AnswerForm {
            csrf: csrf.to_owned(),
            action: format!("/applications/{}/information", app.id),
            message,
            attachment: FileField {
                id: "attachment".into(),
                label: s.answer_file_label.into(),
                hint: Some(fill(s.files_hint, &[&megabytes(state)])),
                error: error_of("attachment"),
                accept: "application/pdf,image/jpeg,image/png",
                capture: false,
            },
        }
    });
    let ledger = state
        .bureau
        .ledger(&app.id)
        .await
        .map_err(|e| PageError::Internal(e.to_string()))?;
    let transfer_state = |number: &str| {
        let copy = ledger
            .transfers
            .iter()
            .find(|t| t.kind == "certificate" && t.certificate_number == number)?;
        Some(match copy.state.as_str() {
            "delivered" => fill(
                s.transfer_delivered,
                &[&copy.delivered_at.clone().unwrap_or_default()],
            ),
            "rejected" => fill(
                s.transfer_rejected,
                &[&copy.rejected_reason.clone().unwrap_or_default()],
            ),
            _ => match &copy.waiting_because {
                Some(why) => format!("{} ({why})", s.transfer_queued),
                None => s.transfer_queued.to_owned(),
            },
        })
    };
    let certificates = state
        .store()
        .certificates_of(&app.id)
        .await
        .map_err(|e| PageError::Internal(e.to_string()))?
        .into_iter()
        .map(|c| CertificateLine {
            transfer_state: transfer_state(&c.number),
            download: (app.electronic != 0).then(|| {
                (
                    format!("/download/{}", c.number),
                    fill(s.download, &[&c.number]),
                )
            }),
            transfer: c.transfer_to.clone(),
            valid_until: c.valid_until.chars().take(10).collect(),
            number: c.number,
        })
        .collect();
    // A paper certificate in the Smart Locker: the pickup code as text and as a QR code.
    let owner = crate::identity::auth::Principal::new(
        crate::identity::auth::Role::Applicant,
        app.applicant_id.clone(),
    );
    let locker = match state
        .locker_pickup(&owner, &app.id, time::OffsetDateTime::now_utc())
        .await
        .map_err(|e| PageError::from_case(e, lang))?
    {
        Some(pickup) => Some(LockerCode {
            qr: super::qr_image(&pickup.qr_payload)?,
            deadline: macao_minute(pickup.deadline),
            code: pickup.code,
        }),
        None => None,
    };
    let heading = fill(s.application_title, &[&app.id]);
    let mut frame =
        Frame::new(state, lang, &format!("/applications/{}", app.id), &heading).signed_in(csrf);
    frame.has_errors = !errors.is_empty();
    Ok(ApplicationPage {
        frame,
        s,
        heading,
        progress,
        details,
        resume: unfinished.then(|| next_step(app)),
        // The bureau's request (an answer is stored after `APPLICANT_ANSWER_PREFIX`).
        note: app
            .note
            .clone()
            .filter(|_| app.state == workflow::INFORMATION_REQUESTED),
        answer,
        errors,
        certificates,
        locker,
        o: lang.office(),
    })
}

/// The Smart Locker pickup code as the applicant sees it.
#[derive(Debug)]
pub struct LockerCode {
    code: String,
    deadline: String,
    qr: String,
}

/// An instant as Macao's clock shows it, to the minute.
pub fn macao_minute(at: time::OffsetDateTime) -> String {
    at.to_offset(crate::rules::calendar::MACAO)
        .format(time::macros::format_description!(
            "[year]-[month]-[day] [hour]:[minute]"
        ))
        .unwrap_or_default()
}

/// A stored instant (RFC 3339) as Macao's clock shows it, to the minute; the text itself if
/// it is not one.
pub fn macao_time(stored: &str) -> String {
    crate::store::parse_time(stored).map_or_else(|_| stored.to_owned(), macao_minute)
}

/// `GET /applications/{id}`: an application's progress.
pub async fn application(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    SignedIn {
        lang,
        chosen,
        session,
        who,
    }: SignedIn,
) -> Result<Response, PageError> {
    let app = own(&state, &who, &id, lang).await?;
    let template =
        application_page(&state, lang, &session.csrf_token, &app, "", Vec::new()).await?;
    page(&template, lang, chosen)
}

/// `POST /applications/{id}/information`: answers a request for information.
pub async fn answer(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    SignedIn { lang, who, .. }: SignedIn,
    form: CheckedUpload,
) -> Result<Response, PageError> {
    let app = own(&state, &who, &id, lang).await?;
    let s = lang.steps();
    let message = form.text("message").unwrap_or_default().to_owned();
    let mut problems = Vec::new();
    if message.trim().is_empty() || message.chars().count() > 2_000 {
        problems.push(Problem {
            field: "message".into(),
            message: s.err_answer.into(),
        });
    }
    let mut documents = Vec::new();
    if let Some(file) = form.file("attachment") {
        match file_problem(
            s,
            Some(file),
            &["application/pdf", "image/jpeg", "image/png"],
            &megabytes(&state),
            String::new(),
            s.err_file_type,
            s.err_file_large,
        ) {
            Err(message) => problems.push(Problem {
                field: "attachment".into(),
                message,
            }),
            Ok(()) if crate::rules::documents::check_filename(&file.filename).is_err() => {
                problems.push(Problem {
                    field: "attachment".into(),
                    message: s.err_file_name.into(),
                });
            }
            Ok(()) => documents.push(SupportingDocument {
                kind: "OTHER".into(),
                filename: file.filename.clone(),
                media_type: file.media_type.clone(),
                content: file.content.clone().unwrap_or_default(),
            }),
        }
    }
    if problems.is_empty() {
        match state
            .provide_information(&who, &id, &message, documents)
            .await
        {
            Ok(app) => {
                return Ok(see_other(&format!(
                    "/applications/{}?lang={}",
                    app.id,
                    lang.code()
                )));
            }
            Err(CaseError::Invalid { .. }) => problems.push(Problem {
                field: "message".into(),
                message: s.err_answer.into(),
            }),
            Err(CaseError::Conflict(_)) => return Ok(see_other(&format!("/applications/{id}"))),
            Err(e) => return Err(PageError::from_case(e, lang)),
        }
    }
    let template = application_page(
        &state,
        lang,
        &form.session.csrf_token,
        &app,
        &message,
        problems,
    )
    .await?;
    let mut response = page(&template, lang, false)?;
    *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    Ok(response)
}

/// `GET /download/{number}`: the applicant's own certificate PDF (audited by the use case).
pub async fn download(
    State(state): State<Arc<AppState>>,
    Path(number): Path<String>,
    SignedIn { lang, who, .. }: SignedIn,
) -> Result<Response, PageError> {
    let pdf = state
        .certificate_pdf(&who, &number)
        .await
        .map_err(|e| PageError::from_case(e, lang))?;
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{number}.pdf\""))
        .unwrap_or(HeaderValue::from_static("attachment"));
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/pdf"),
            ),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        pdf,
    )
        .into_response())
}
