//! Paper certificates at the bureau: the print queue (a print-ready batch PDF, marked
//! printed), counter collection by the holder or an authorised representative, and placing
//! an item in the Smart Locker (which sends the applicant the pickup code). Clerks only.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use time::OffsetDateTime;

use super::Staff;
use super::case::Done;
use crate::bureau::Services as AppState;
use crate::bureau::collecting::{Collector, CounterCollection};
use crate::http::web::desk::{StaffArea, refusal};
use crate::http::web::i18n::office::Office;
use crate::http::web::progress::macao_time;
use crate::http::web::session::CheckedForm;
use crate::http::web::{Frame, PageError, Problem, coded_name, see_other};
use crate::identity::auth::Role;
use crate::rules::request::DocumentRequest;

/// An item of the print queue as listed.
#[derive(Debug)]
pub struct Queued {
    reference: String,
    href: String,
    holder: String,
    quantity: i64,
    site: String,
    issued_at: String,
}

#[derive(Template)]
#[template(path = "staff/printing.html")]
struct PrintingPage {
    frame: Frame,
    o: &'static Office,
    banner: Option<String>,
    errors: Vec<Problem>,
    csrf: String,
    lang: &'static str,
    items: Vec<Queued>,
}

async fn render(
    state: &AppState,
    staff: &Staff,
    done: Option<&str>,
    errors: Vec<Problem>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let who = staff.require(&[Role::Clerk])?;
    let o = staff.o();
    let lang = staff.lang;
    let config = state.bureau.config();
    let items = state
        .print_queue(who)
        .await
        .map_err(|e| PageError::from_case(e, lang))?
        .into_iter()
        .map(|i| Queued {
            href: format!("/staff/applications/{}?lang={}", i.reference, lang.code()),
            holder: match &i.holder_name_chinese {
                Some(zh) => format!("{} {zh}", i.holder_name),
                None => i.holder_name.clone(),
            },
            site: config
                .collection_site(&i.site)
                .map_or(i.site.clone(), |s| coded_name(s, lang).to_owned()),
            issued_at: macao_time(&i.issued_at),
            quantity: i.quantity,
            reference: i.reference,
        })
        .collect();
    let mut frame = staff.frame(state, "/staff/printing", o.printing);
    frame.has_errors = !errors.is_empty();
    let mut response = staff.page(&PrintingPage {
        frame,
        o,
        banner: super::banner(done, o),
        errors,
        csrf: staff.session.csrf_token.clone(),
        lang: lang.code(),
        items,
    })?;
    *response.status_mut() = status;
    Ok(response)
}

/// `GET /staff/printing` (clerk): issued paper certificates not yet printed.
pub async fn printing(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    axum::extract::Query(done): axum::extract::Query<Done>,
) -> Result<Response, PageError> {
    render(
        &state,
        &staff,
        done.done.as_deref(),
        Vec::new(),
        StatusCode::OK,
    )
    .await
}

/// `POST /staff/printing` (clerk): `action=batch` answers one print-ready PDF of the
/// selected applications; `action=printed` marks them printed.
pub async fn print_action(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    form: CheckedForm<Vec<(String, String)>, StaffArea>,
) -> Result<Response, PageError> {
    let who = staff.require(&[Role::Clerk])?;
    let o = staff.o();
    let chosen: Vec<String> = form
        .fields
        .iter()
        .filter(|(k, _)| k == "reference")
        .map(|(_, v)| v.clone())
        .collect();
    let action = form
        .fields
        .iter()
        .find(|(k, _)| k == "action")
        .map(|(_, v)| v.as_str())
        .unwrap_or_default();
    if chosen.is_empty() {
        return render(
            &state,
            &staff,
            None,
            vec![Problem {
                field: "reference".into(),
                message: o.none_selected.into(),
            }],
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let now = OffsetDateTime::now_utc();
    let outcome = match action {
        "batch" => match state.print_batch_pdf(who, &chosen, now).await {
            Ok(batch) => {
                let mut response = batch.pdf.into_response();
                let headers = response.headers_mut();
                headers.insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/pdf"),
                );
                headers.insert(
                    header::CONTENT_DISPOSITION,
                    HeaderValue::from_static("attachment; filename=\"print-batch.pdf\""),
                );
                return Ok(response);
            }
            Err(e) => Err(e),
        },
        "printed" => state.mark_printed(who, &chosen, now).await.map(|_| ()),
        _ => return Err(PageError::BadRequest(staff.lang)),
    };
    match outcome {
        Ok(()) => Ok(see_other(&format!(
            "/staff/printing?lang={}&done=printed",
            staff.lang.code()
        ))),
        Err(e) => {
            let (status, message) = refusal(e, staff.lang)?;
            render(
                &state,
                &staff,
                None,
                vec![Problem {
                    field: "reference".into(),
                    message,
                }],
                status,
            )
            .await
        }
    }
}

/// The counter collection form.
#[derive(Debug, serde::Deserialize)]
pub struct CollectionFields {
    #[serde(default)]
    by: String,
    #[serde(default)]
    site: String,
    #[serde(default, rename = "type")]
    kind: String,
    #[serde(default)]
    number: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    authorisation: String,
}

/// `POST /staff/applications/{id}/collection` (clerk): who collected at this counter.
pub async fn collect(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Path(id): Path<String>,
    form: CheckedForm<CollectionFields, StaffArea>,
) -> Result<Response, PageError> {
    let who = staff.require(&[Role::Clerk])?;
    let f = form.fields;
    let document = DocumentRequest {
        kind: f.kind,
        number: f.number,
    };
    let collector = match f.by.as_str() {
        "holder" => Collector::Holder { document },
        "representative" => Collector::Representative {
            name: f.name,
            document,
            authorisation: f.authorisation,
        },
        _ => return Err(PageError::BadRequest(staff.lang)),
    };
    let body = CounterCollection {
        site: f.site,
        collector,
    };
    match state
        .collect_at_counter(who, &id, &body, OffsetDateTime::now_utc())
        .await
    {
        Ok(_) => Ok(see_other(&format!(
            "/staff/applications/{id}?lang={}&done=collected",
            staff.lang.code()
        ))),
        Err(e) => {
            let (status, message) = refusal(e, staff.lang)?;
            super::case::show_with_error(&state, &staff, &id, "collection-number", message, status)
                .await
        }
    }
}

/// `POST /staff/applications/{id}/locker` (clerk): the item is in the Smart Locker; the
/// applicant is sent the pickup code (valid 3 days).
pub async fn deposit(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Path(id): Path<String>,
    _form: CheckedForm<crate::http::web::desk::NoFields, StaffArea>,
) -> Result<Response, PageError> {
    let who = staff.require(&[Role::Clerk])?;
    match state
        .deposit_in_locker(who, &id, OffsetDateTime::now_utc())
        .await
    {
        Ok(_) => Ok(see_other(&format!(
            "/staff/applications/{id}?lang={}&done=deposited",
            staff.lang.code()
        ))),
        Err(e) => {
            let (status, message) = refusal(e, staff.lang)?;
            super::case::show_with_error(&state, &staff, &id, "deposit", message, status).await
        }
    }
}
