//! The record registry (officers): look up a holder's entries by identity document (an
//! audited read) with the usages each entry is disclosed for, and add an entry.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::Staff;
use super::case::banner;
use crate::bureau::Services as AppState;
use crate::bureau::reviewing::NewRecord;
use crate::http::web::desk::{StaffArea, refusal};
use crate::http::web::i18n::office::Office;
use crate::http::web::session::CheckedForm;
use crate::http::web::{Frame, PageError, Problem, coded_name, see_other};
use crate::identity::auth::Role;
use crate::rules::request::DocumentRequest;

/// The lookup's query.
#[derive(Debug, Default, serde::Deserialize)]
pub struct Lookup {
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    number: Option<String>,
    #[serde(flatten)]
    done: DoneFlat,
}

/// `?done=` beside the lookup's fields.
#[derive(Debug, Default, serde::Deserialize)]
pub struct DoneFlat {
    #[serde(default)]
    done: Option<String>,
}

/// An entry as listed.
#[derive(Debug)]
pub struct Listed {
    href: String,
    closed: bool,
    court: String,
    case_number: String,
    decision_date: String,
    offence: String,
    sentence: String,
    disclosed_for: String,
}

#[derive(Template)]
#[template(path = "staff/registry.html")]
struct RegistryPage {
    frame: Frame,
    o: &'static Office,
    banner: Option<String>,
    errors: Vec<Problem>,
    csrf: String,
    lang: &'static str,
    kinds: Vec<(&'static str, bool)>,
    number: String,
    looked_up: bool,
    entries: Vec<Listed>,
    usages: Vec<(String, String)>,
}

const KINDS: [&str; 3] = ["BIR", "TI", "PASSPORT"];

#[allow(clippy::too_many_arguments)]
fn render(
    state: &AppState,
    staff: &Staff,
    kind: &str,
    number: &str,
    looked_up: bool,
    entries: Vec<Listed>,
    done: Option<&str>,
    errors: Vec<Problem>,
) -> Result<Response, PageError> {
    let o = staff.o();
    let mut frame = staff.frame(state, "/staff/records", o.registry);
    frame.has_errors = !errors.is_empty();
    staff.page(&RegistryPage {
        frame,
        o,
        banner: banner(done, o),
        errors,
        csrf: staff.session.csrf_token.clone(),
        lang: staff.lang.code(),
        kinds: KINDS.iter().map(|k| (*k, *k == kind)).collect(),
        number: number.to_owned(),
        looked_up,
        entries,
        usages: state
            .bureau
            .config()
            .usages
            .iter()
            .map(|u| (u.code.clone(), coded_name(u, staff.lang).to_owned()))
            .collect(),
    })
}

/// `GET /staff/records` (officer): the lookup form, and the entries of the document asked.
pub async fn registry(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Query(query): Query<Lookup>,
) -> Result<Response, PageError> {
    let who = staff.require(&[Role::Officer])?;
    let o = staff.o();
    let kind = query.kind.unwrap_or_else(|| "BIR".into());
    let number = query.number.unwrap_or_default();
    let done = query.done.done;
    if number.trim().is_empty() {
        return render(
            &state,
            &staff,
            &kind,
            "",
            false,
            Vec::new(),
            done.as_deref(),
            Vec::new(),
        );
    }
    let document = DocumentRequest {
        kind: kind.clone(),
        number: number.clone(),
    };
    match state.records_of_document(who, &document).await {
        Ok((_, rows)) => {
            let config = state.bureau.config();
            let entries = rows
                .into_iter()
                .map(|r| {
                    let codes: Vec<String> =
                        serde_json::from_str(&r.disclose_for).unwrap_or_default();
                    Listed {
                        href: format!("/staff/records/{}?lang={}", r.id, staff.lang.code()),
                        closed: r.closed_at.is_some(),
                        disclosed_for: codes
                            .iter()
                            .map(|c| {
                                config
                                    .usage(c)
                                    .map_or(c.clone(), |u| coded_name(u, staff.lang).to_owned())
                            })
                            .collect::<Vec<_>>()
                            .join(", "),
                        court: r.court,
                        case_number: r.case_number,
                        decision_date: r.decision_date,
                        offence: r.offence,
                        sentence: r.sentence,
                    }
                })
                .collect();
            render(
                &state,
                &staff,
                &kind,
                &number,
                true,
                entries,
                done.as_deref(),
                Vec::new(),
            )
        }
        Err(e) => {
            let (_, message) = refusal(e, staff.lang)?;
            let mut response = render(
                &state,
                &staff,
                &kind,
                &number,
                false,
                Vec::new(),
                None,
                vec![Problem {
                    field: "number".into(),
                    message: format!("{}: {message}", o.document_number),
                }],
            )?;
            *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(response)
        }
    }
}

/// A record form's fields as the API's `NewRecord` (`disclose_for` may repeat).
fn new_record(fields: &[(String, String)]) -> NewRecord {
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    NewRecord {
        document: DocumentRequest {
            kind: field("type"),
            number: field("number"),
        },
        court: field("court"),
        case_number: field("case_number"),
        decision_date: field("decision_date"),
        offence: field("offence"),
        sentence: field("sentence"),
        disclose_for: fields
            .iter()
            .filter(|(k, _)| k == "disclose_for")
            .map(|(_, v)| v.clone())
            .collect(),
    }
}

/// `POST /staff/records` (officer): adds an entry.
pub async fn add_entry(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    form: CheckedForm<Vec<(String, String)>, StaffArea>,
) -> Result<Response, PageError> {
    let who = staff.require(&[Role::Officer])?;
    let body = new_record(&form.fields);
    let (kind, number) = (body.document.kind.clone(), body.document.number.clone());
    match state.add_record(who, body).await {
        Ok(added) => Ok(see_other(&format!(
            "/staff/records?lang={}&type={}&number={}&done=entry_added",
            staff.lang.code(),
            added.document.kind.code(),
            crate::http::web::desk::form_urlencoded(&number)
        ))),
        Err(e) => {
            let (status, message) = refusal(e, staff.lang)?;
            let mut response = render(
                &state,
                &staff,
                &kind,
                &number,
                false,
                Vec::new(),
                None,
                vec![Problem {
                    field: "court".into(),
                    message,
                }],
            )?;
            *response.status_mut() = status;
            Ok(response)
        }
    }
}

#[derive(Template)]
#[template(path = "staff/record.html")]
struct EntryPage {
    frame: Frame,
    o: &'static Office,
    banner: Option<String>,
    errors: Vec<Problem>,
    csrf: String,
    lang: &'static str,
    id: String,
    doc_key: String,
    closed: bool,
    court: String,
    case_number: String,
    decision_date: String,
    offence: String,
    sentence: String,
    /// Every usage: code, name, whether the entry is disclosed for it.
    usages: Vec<(String, String, bool)>,
}

impl EntryPage {
    fn error(&self, field: &str) -> Option<&str> {
        crate::http::web::error_of(&self.errors, field)
    }
}

async fn render_entry(
    state: &AppState,
    staff: &Staff,
    id: &str,
    done: Option<&str>,
    errors: Vec<Problem>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let who = staff.require(&[Role::Officer])?;
    let o = staff.o();
    let entry = state
        .record_entry(who, id)
        .await
        .map_err(|e| PageError::from_case(e, staff.lang))?;
    let codes: Vec<String> = serde_json::from_str(&entry.disclose_for).unwrap_or_default();
    let mut frame = staff.frame(state, "/staff/records", o.correct_entry);
    frame.has_errors = !errors.is_empty();
    let mut response = staff.page(&EntryPage {
        frame,
        o,
        banner: banner(done, o),
        errors,
        csrf: staff.session.csrf_token.clone(),
        lang: staff.lang.code(),
        id: entry.id.clone(),
        doc_key: entry.doc_key.clone(),
        closed: entry.closed_at.is_some(),
        usages: state
            .bureau
            .config()
            .usages
            .iter()
            .map(|u| {
                (
                    u.code.clone(),
                    coded_name(u, staff.lang).to_owned(),
                    codes.contains(&u.code),
                )
            })
            .collect(),
        court: entry.court,
        case_number: entry.case_number,
        decision_date: entry.decision_date,
        offence: entry.offence,
        sentence: entry.sentence,
    })?;
    *response.status_mut() = status;
    Ok(response)
}

/// `GET /staff/records/{id}` (officer): one entry (an audited read), to correct or close.
pub async fn entry(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Path(id): Path<String>,
    Query(done): Query<super::Done>,
) -> Result<Response, PageError> {
    render_entry(
        &state,
        &staff,
        &id,
        done.done.as_deref(),
        Vec::new(),
        StatusCode::OK,
    )
    .await
}

/// `POST /staff/records/{id}` (officer): corrects the entry.
pub async fn correct(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Path(id): Path<String>,
    form: CheckedForm<Vec<(String, String)>, StaffArea>,
) -> Result<Response, PageError> {
    let who = staff.require(&[Role::Officer])?;
    match state
        .correct_record(who, &id, new_record(&form.fields))
        .await
    {
        Ok(_) => Ok(see_other(&format!(
            "/staff/records/{id}?lang={}&done=entry_corrected",
            staff.lang.code()
        ))),
        Err(e) => {
            let (status, message) = refusal(e, staff.lang)?;
            render_entry(
                &state,
                &staff,
                &id,
                None,
                vec![Problem {
                    field: "court".into(),
                    message,
                }],
                status,
            )
            .await
        }
    }
}

/// The close form.
#[derive(Debug, serde::Deserialize)]
pub struct CloseFields {
    #[serde(default)]
    reason: String,
}

/// `POST /staff/records/{id}/close` (officer): closes the entry with a reason.
pub async fn close(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Path(id): Path<String>,
    form: CheckedForm<CloseFields, StaffArea>,
) -> Result<Response, PageError> {
    let who = staff.require(&[Role::Officer])?;
    match state.close_record(who, &id, &form.fields.reason).await {
        Ok(()) => Ok(see_other(&format!(
            "/staff/records/{id}?lang={}&done=entry_closed",
            staff.lang.code()
        ))),
        Err(e) => {
            let (status, message) = refusal(e, staff.lang)?;
            render_entry(
                &state,
                &staff,
                &id,
                None,
                vec![Problem {
                    field: "close-reason".into(),
                    message,
                }],
                status,
            )
            .await
        }
    }
}
