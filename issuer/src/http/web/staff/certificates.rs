//! Certificates in the back office: find one by number, see its status and history, revoke,
//! suspend or reinstate it (security officer), re-issue it (officer). Each change asks for a
//! reason and the certificate number typed again.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use ccr_pki::status_list::Status;

use super::case::{Done, Event, banner, events};
use super::{Staff, status_name};
use crate::bureau::Services as AppState;
use crate::http::web::desk::{StaffArea, refusal};
use crate::http::web::i18n::office::Office;
use crate::http::web::progress::macao_time;
use crate::http::web::session::CheckedForm;
use crate::http::web::{Frame, PageError, Problem, SummaryRow, see_other};
use crate::identity::auth::Role;

/// Who may see certificates here.
const HOLDERS: &[Role] = &[Role::Officer, Role::SecurityOfficer];

/// `?number=` of the search form.
#[derive(Debug, Default, serde::Deserialize)]
pub struct Find {
    #[serde(default)]
    number: Option<String>,
}

#[derive(Template)]
#[template(path = "staff/find.html")]
struct FindPage {
    frame: Frame,
    o: &'static Office,
    errors: Vec<Problem>,
    number: String,
}

/// `GET /staff/certificates` (officer, security officer): find a certificate by number.
pub async fn find(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Query(query): Query<Find>,
) -> Result<Response, PageError> {
    let who = staff.require(HOLDERS)?;
    let o = staff.o();
    let number = query.number.unwrap_or_default().trim().to_owned();
    let mut errors = Vec::new();
    if !number.is_empty() {
        match state.certificate_for_staff(who, &number).await {
            Ok(_) => {
                return Ok(see_other(&format!(
                    "/staff/certificates/{number}?lang={}",
                    staff.lang.code()
                )));
            }
            Err(crate::bureau::CaseError::NotFound(_)) => errors.push(Problem {
                field: "number".into(),
                message: format!("{}: {number}", o.not_found),
            }),
            Err(e) => return Err(PageError::from_case(e, staff.lang)),
        }
    }
    let mut frame = staff.frame(&state, "/staff/certificates", o.find_certificate);
    frame.has_errors = !errors.is_empty();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::NOT_FOUND
    };
    let mut response = staff.page(&FindPage {
        frame,
        o,
        errors,
        number,
    })?;
    *response.status_mut() = status;
    Ok(response)
}

#[derive(Template)]
#[template(path = "staff/certificate.html")]
struct CertificatePage {
    frame: Frame,
    o: &'static Office,
    banner: Option<String>,
    errors: Vec<Problem>,
    number: String,
    csrf: String,
    lang: &'static str,
    details: Vec<SummaryRow>,
    application: Option<String>,
    history: Vec<Event>,
    /// Status changes the role may make now: (value, label).
    changes: Vec<(&'static str, &'static str)>,
    can_reissue: bool,
}

impl CertificatePage {
    fn error(&self, field: &str) -> Option<&str> {
        crate::http::web::error_of(&self.errors, field)
    }
}

fn row(key: &str, value: impl Into<String>) -> SummaryRow {
    SummaryRow {
        key: key.to_owned(),
        value: value.into(),
        change: None,
        change_text: "",
    }
}

async fn render(
    state: &AppState,
    staff: &Staff,
    number: &str,
    done: Option<&str>,
    errors: Vec<Problem>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let who = staff.require(HOLDERS)?;
    let o = staff.o();
    let (summary, history) = state
        .certificate_for_staff(who, number)
        .await
        .map_err(|e| PageError::from_case(e, staff.lang))?;
    let current = summary.status;
    let mut details = vec![
        row(o.certificate_number, &summary.number),
        row(o.status, status_name(current, o)),
        row(o.issued_at, macao_time(&summary.issued_at)),
        row(o.valid_until, macao_time(&summary.valid_until)),
    ];
    if let Some(department) = &summary.transfer_to {
        details.push(row(o.transfer, department));
    }
    let changes = if who.role == Role::SecurityOfficer {
        match current {
            0 => vec![("revoke", o.revoke), ("suspend", o.suspend)],
            2 => vec![("reinstate", o.reinstate), ("revoke", o.revoke)],
            _ => Vec::new(),
        }
    } else {
        Vec::new()
    };
    let mut frame = staff.frame(
        state,
        "/staff/certificates",
        &format!("{} {number}", o.certificate_title),
    );
    frame.has_errors = !errors.is_empty();
    let template = CertificatePage {
        frame,
        o,
        banner: banner(done, o),
        errors,
        number: summary.number.clone(),
        csrf: staff.session.csrf_token.clone(),
        lang: staff.lang.code(),
        details,
        application: summary.application_id.clone(),
        history: events(history),
        changes,
        can_reissue: who.role == Role::Officer && matches!(current, 0 | 2),
    };
    let mut response = staff.page(&template)?;
    *response.status_mut() = status;
    Ok(response)
}

/// `GET /staff/certificates/{number}` (officer, security officer).
pub async fn certificate(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Path(number): Path<String>,
    Query(done): Query<Done>,
) -> Result<Response, PageError> {
    render(
        &state,
        &staff,
        &number,
        done.done.as_deref(),
        Vec::new(),
        StatusCode::OK,
    )
    .await
}

/// A status change or re-issue form.
#[derive(Debug, serde::Deserialize)]
pub struct ChangeFields {
    #[serde(default)]
    action: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    confirm: String,
}

/// `POST /staff/certificates/{number}/status` (security officer): revoke, suspend or
/// reinstate, with a reason and the number typed again.
pub async fn change_status(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Path(number): Path<String>,
    form: CheckedForm<ChangeFields, StaffArea>,
) -> Result<Response, PageError> {
    let who = staff.require(&[Role::SecurityOfficer])?;
    let o = staff.o();
    let (status, done) = match form.fields.action.as_str() {
        "revoke" => (Status::Revoked, "revoked"),
        "suspend" => (Status::Suspended, "suspended"),
        "reinstate" => (Status::Valid, "reinstated"),
        _ => return Err(PageError::BadRequest(staff.lang)),
    };
    if form.fields.confirm.trim() != number {
        return render(
            &state,
            &staff,
            &number,
            None,
            vec![Problem {
                field: "status-confirm".into(),
                message: o.confirm_mismatch.into(),
            }],
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    match state
        .change_certificate_status(who, &number, status, &form.fields.reason)
        .await
    {
        Ok(()) => Ok(see_other(&format!(
            "/staff/certificates/{number}?lang={}&done={done}",
            staff.lang.code()
        ))),
        Err(e) => {
            let (code, message) = refusal(e, staff.lang)?;
            render(
                &state,
                &staff,
                &number,
                None,
                vec![Problem {
                    field: "status-reason".into(),
                    message,
                }],
                code,
            )
            .await
        }
    }
}

/// `POST /staff/certificates/{number}/reissue` (officer): a new certificate with the same
/// content; this one becomes SUPERSEDED.
pub async fn reissue(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Path(number): Path<String>,
    form: CheckedForm<ChangeFields, StaffArea>,
) -> Result<Response, PageError> {
    let who = staff.require(&[Role::Officer])?;
    let o = staff.o();
    if form.fields.confirm.trim() != number {
        return render(
            &state,
            &staff,
            &number,
            None,
            vec![Problem {
                field: "reissue-confirm".into(),
                message: o.confirm_mismatch.into(),
            }],
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    match state.reissue(who, &number, &form.fields.reason).await {
        Ok(new_number) => Ok(see_other(&format!(
            "/staff/certificates/{new_number}?lang={}&done=reissued",
            staff.lang.code()
        ))),
        Err(e) => {
            let (code, message) = refusal(e, staff.lang)?;
            render(
                &state,
                &staff,
                &number,
                None,
                vec![Problem {
                    field: "reissue-reason".into(),
                    message,
                }],
                code,
            )
            .await
        }
    }
}
