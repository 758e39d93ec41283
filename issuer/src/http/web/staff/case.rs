//! The case view: the application, its supporting documents (viewed inline with safe
//! headers, each view audited), its certificates and its history, and the actions the
//! signed-in role may take. The officer reads the holder's record entries (an audited read)
//! on their own page before approving.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::queue::holder_name;
use super::{CASEWORKERS, Staff, status_name};
use crate::bureau::Services as AppState;
use crate::bureau::reviewing::{Decision, Review, ReviewAction};
use crate::http::web::desk::{StaffArea, refusal};
use crate::http::web::i18n::office::Office;
use crate::http::web::session::CheckedForm;
use crate::http::web::{Frame, PageError, Problem, SummaryRow, coded_name, mop, see_other};
use crate::identity::auth::Role;
use crate::rules::workflow;
use crate::store::applications::ApplicationRow;

/// `?done=` after an action: which banner to show.
#[derive(Debug, Default, serde::Deserialize)]
pub struct Done {
    /// The action done.
    #[serde(default)]
    pub done: Option<String>,
}

/// The banner text of a finished action (only the actions this area names).
pub fn banner(done: Option<&str>, o: &Office) -> Option<String> {
    let what = match done? {
        "forwarded" => o.forward,
        "information" => o.request_information,
        "exemption_approved" => o.approve_exemption,
        "exemption_refused" => o.refuse_exemption,
        "approved" => o.approve,
        "rejected" => o.reject,
        "assigned" => o.assign_to_me,
        "revoked" => o.revoke,
        "suspended" => o.suspend,
        "reinstated" => o.reinstate,
        "reissued" => o.reissue,
        "entry_added" => o.add_entry,
        "entry_corrected" => o.correct_entry,
        "entry_closed" => o.close_entry,
        "acknowledged" => o.acknowledge,
        "deactivated" => o.deactivate,
        "printed" => o.mark_printed,
        "collected" => o.record_collection,
        "deposited" => o.deposit_locker,
        "activated" => o.activate,
        _ => return None,
    };
    Some(format!("{} {what}", o.done))
}

/// A link with its text.
#[derive(Debug)]
pub struct Link {
    href: String,
    text: String,
}

/// A row of the history table.
#[derive(Debug)]
pub struct Event {
    /// When.
    pub at: String,
    /// Who.
    pub actor: String,
    /// What.
    pub action: String,
    /// Its detail (JSON), if any.
    pub detail: String,
}

/// History rows from audit entries.
pub fn events(entries: Vec<crate::rules::audit::AuditEntry>) -> Vec<Event> {
    entries
        .into_iter()
        .map(|e| Event {
            at: crate::http::web::progress::macao_time(&e.at),
            actor: e.actor,
            action: e.action,
            detail: if e.detail == "{}" {
                String::new()
            } else {
                e.detail
            },
        })
        .collect()
}

#[derive(Template)]
#[template(path = "staff/case.html")]
struct CasePage {
    frame: Frame,
    o: &'static Office,
    banner: Option<String>,
    errors: Vec<Problem>,
    reference: String,
    csrf: String,
    lang: &'static str,
    details: Vec<SummaryRow>,
    documents: Vec<Link>,
    certificates: Vec<Link>,
    history: Vec<Event>,
    can_assign: bool,
    can_review: bool,
    can_request: bool,
    can_decide_exemption: bool,
    can_read_records: bool,
    can_reject: bool,
    /// The printed paper item: where it is, printed and collected by whom.
    paper: Vec<SummaryRow>,
    /// The counter where the item can be collected now (clerk), if it can.
    collect_at: Option<String>,
    can_deposit: bool,
}

impl CasePage {
    fn error(&self, field: &str) -> Option<&str> {
        crate::http::web::error_of(&self.errors, field)
    }
}

/// The case page again with one refusal shown at `field`.
pub async fn show_with_error(
    state: &AppState,
    staff: &Staff,
    id: &str,
    field: &str,
    message: String,
    status: StatusCode,
) -> Result<Response, PageError> {
    render_case(
        state,
        staff,
        id,
        None,
        vec![Problem {
            field: field.into(),
            message,
        }],
        status,
    )
    .await
}

fn row(key: &str, value: impl Into<String>) -> SummaryRow {
    SummaryRow {
        key: key.to_owned(),
        value: value.into(),
        change: None,
        change_text: "",
    }
}

/// The application's facts as the staff read them.
fn details(state: &AppState, app: &ApplicationRow, staff: &Staff) -> Vec<SummaryRow> {
    let o = staff.o();
    let lang = staff.lang;
    let config = state.bureau.config();
    let holder: Option<crate::rules::request::HolderRequest> = app
        .holder_json
        .as_deref()
        .and_then(|j| serde_json::from_str(j).ok());
    let mut rows = vec![
        row(o.reference, &app.id),
        row(o.state, lang.text().state_name(&app.state)),
        row(
            o.usage,
            config
                .usage(&app.usage)
                .map_or(app.usage.clone(), |u| coded_name(u, lang).to_owned()),
        ),
        row(
            o.format,
            if app.electronic != 0 {
                o.electronic
            } else {
                o.paper
            },
        ),
        row(o.quantity, app.quantity.to_string()),
        row(
            o.speed,
            if app.express != 0 {
                o.express
            } else {
                o.standard
            },
        ),
    ];
    if let Some(site) = &app.collection_site {
        rows.push(row(
            o.site,
            config
                .collection_site(site)
                .map_or(site.clone(), |s| coded_name(s, lang).to_owned()),
        ));
    }
    if let Some(h) = &holder {
        let name = match &h.name_chinese {
            Some(zh) => format!("{} {zh}", h.name_latin),
            None => h.name_latin.clone(),
        };
        rows.push(row(o.holder, name));
        rows.push(row(o.date_of_birth, &h.date_of_birth));
        rows.push(row(
            o.document,
            format!("{} {}", h.document.kind, h.document.number),
        ));
    }
    if let Some(mismatch) = &app.identity_mismatch {
        rows.push(row(o.identity_mismatch, mismatch));
    }
    if let Some(mobile) = &app.mobile {
        rows.push(row(o.mobile, mobile));
    }
    rows.push(row(o.fee, mop(state.fee_due(app))));
    if let Some(kind) = &app.exemption_kind {
        rows.push(row(o.exemption, kind));
    }
    if let Some(due) = &app.due_date {
        rows.push(row(o.due, due));
    }
    if let Some(at) = state.same_day(app) {
        rows.push(row(
            o.same_day,
            crate::http::web::progress::macao_minute(at),
        ));
    }
    if let Some(department) = &app.transfer_to {
        rows.push(row(o.transfer, department));
    }
    if let Some(note) = &app.note {
        match note.strip_prefix(crate::bureau::applying::APPLICANT_ANSWER_PREFIX) {
            Some(answer) => rows.push(row(o.applicant_answer, answer)),
            None => rows.push(row(o.note, note)),
        }
    }
    rows
}

/// Renders the case page with `errors` (and a banner), answering `status`.
async fn render_case(
    state: &AppState,
    staff: &Staff,
    id: &str,
    done: Option<&str>,
    errors: Vec<Problem>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let who = staff.require(CASEWORKERS)?;
    let lang = staff.lang;
    let o = staff.o();
    let app = state
        .application_for(who, id)
        .await
        .map_err(|e| PageError::from_case(e, lang))?;
    let code = lang.code();
    let documents = state
        .store()
        .documents_of(&app.id)
        .await
        .map_err(|e| PageError::Internal(e.to_string()))?
        .into_iter()
        .map(|d| Link {
            href: format!("/staff/applications/{}/documents/{}", app.id, d.id),
            text: format!("{} ({}, {})", d.filename, d.kind, d.media_type),
        })
        .collect();
    let certificates = state
        .case_certificates(who, &app.id)
        .await
        .map_err(|e| PageError::from_case(e, lang))?
        .into_iter()
        .map(|c| Link {
            href: format!("/staff/certificates/{}?lang={code}", c.number),
            text: format!("{} · {}", c.number, status_name(c.status, o)),
        })
        .collect();
    let history = events(
        state
            .case_history(who, &app.id)
            .await
            .map_err(|e| PageError::from_case(e, lang))?,
    );
    let item = if app.electronic == 0 {
        state
            .paper_item(who, &app.id)
            .await
            .map_err(|e| PageError::from_case(e, lang))?
    } else {
        None
    };
    let config = state.bureau.config();
    let site_name = |code: &str| {
        config
            .collection_site(code)
            .map_or(code.to_owned(), |s| coded_name(s, lang).to_owned())
    };
    let mut paper = Vec::new();
    let (mut collect_at, mut can_deposit) = (None, false);
    if let Some(item) = &item {
        paper.push(row(o.where_now, site_name(&item.site)));
        paper.push(row(
            o.printed,
            format!(
                "{} · {}",
                crate::http::web::progress::macao_time(&item.printed_at),
                item.printed_by
            ),
        ));
        if let Some(deadline) = &item.locker_deadline {
            paper.push(row(
                o.locker_until,
                crate::http::web::progress::macao_time(deadline),
            ));
        }
        if let Some(at) = &item.collected_at {
            paper.push(row(
                o.collected,
                format!(
                    "{} · {} {}",
                    crate::http::web::progress::macao_time(at),
                    item.collector_kind.as_deref().unwrap_or_default(),
                    item.collector_name.as_deref().unwrap_or_default()
                ),
            ));
        }
        let open = item.collected_at.is_none() && who.role == Role::Clerk;
        let in_locker = item.site == crate::rules::calendar::SMART_LOCKER;
        if open && !in_locker {
            collect_at = Some(item.site.clone());
        }
        can_deposit = open && in_locker && item.locker_notice_at.is_none();
    }
    let s = app.state.as_str();
    let clerk = who.role == Role::Clerk;
    let officer = who.role == Role::Officer;
    let mut frame = staff.frame(
        state,
        &format!("/staff/applications/{}", app.id),
        &format!("{} {}", o.case_title, app.id),
    );
    frame.has_errors = !errors.is_empty();
    let template = CasePage {
        frame,
        o,
        banner: banner(done, o),
        errors,
        reference: app.id.clone(),
        csrf: staff.session.csrf_token.clone(),
        lang: code,
        details: details(state, &app, staff),
        documents,
        certificates,
        history,
        can_assign: !matches!(s, workflow::COLLECTED | workflow::REJECTED),
        can_review: clerk && s == workflow::SUBMITTED,
        can_request: clerk && matches!(s, workflow::SUBMITTED | workflow::CHECKED),
        can_decide_exemption: clerk && s == workflow::EXEMPTION_REQUESTED,
        can_read_records: officer && s == workflow::CHECKED,
        can_reject: officer
            && matches!(
                s,
                workflow::SUBMITTED | workflow::CHECKED | workflow::INFORMATION_REQUESTED
            ),
        paper,
        collect_at,
        can_deposit,
    };
    let mut response = staff.page(&template)?;
    *response.status_mut() = status;
    Ok(response)
}

/// `GET /staff/applications/{id}` (clerk, officer).
pub async fn case(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Path(id): Path<String>,
    Query(done): Query<Done>,
) -> Result<Response, PageError> {
    render_case(
        &state,
        &staff,
        &id,
        done.done.as_deref(),
        Vec::new(),
        StatusCode::OK,
    )
    .await
}

/// Media types a supporting document may be shown inline as (checked at upload).
const INLINE_TYPES: [&str; 3] = ["image/jpeg", "image/png", "application/pdf"];

/// `GET /staff/applications/{id}/documents/{document}` (clerk, officer): the document
/// inline, under a sandboxing CSP, never sniffed, never cached; each view is audited.
pub async fn document(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Path((id, document)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let who = staff.require(CASEWORKERS)?;
    let content = state
        .case_document(who, &id, &document)
        .await
        .map_err(|e| PageError::from_case(e, staff.lang))?;
    let media_type = if INLINE_TYPES.contains(&content.media_type.as_str()) {
        content.media_type.clone()
    } else {
        "application/octet-stream".to_owned()
    };
    let disposition = if media_type == "application/octet-stream" {
        "attachment"
    } else {
        "inline"
    };
    let mut response = content.content.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&media_type)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&format!("{disposition}; filename=\"{document}\""))
            .unwrap_or(HeaderValue::from_static("attachment")),
    );
    // Replaces the pages' policy: nothing in the document may run or load anything.
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; img-src 'self'; plugin-types application/pdf; sandbox",
        ),
    );
    Ok(response)
}

/// A form with only its token.
#[derive(Debug, serde::Deserialize)]
pub struct Empty {}

/// `POST /staff/applications/{id}/assign` (clerk, officer).
pub async fn assign(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Path(id): Path<String>,
    _form: CheckedForm<Empty, StaffArea>,
) -> Result<Response, PageError> {
    let who = staff.require(CASEWORKERS)?;
    state
        .assign_to_me(who, &id)
        .await
        .map_err(|e| PageError::from_case(e, staff.lang))?;
    Ok(see_other(&format!(
        "/staff/applications/{id}?lang={}&done=assigned",
        staff.lang.code()
    )))
}

/// The review form.
#[derive(Debug, serde::Deserialize)]
pub struct ReviewFields {
    #[serde(default)]
    action: String,
    #[serde(default)]
    message: String,
}

/// `POST /staff/applications/{id}/review` (clerk): forward, or request information.
pub async fn review(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Path(id): Path<String>,
    form: CheckedForm<ReviewFields, StaffArea>,
) -> Result<Response, PageError> {
    let who = staff.require(&[Role::Clerk])?;
    let (action, done) = match form.fields.action.as_str() {
        "forward" => (ReviewAction::Forward, "forwarded"),
        "request_information" => (ReviewAction::RequestInformation, "information"),
        _ => return Err(PageError::BadRequest(staff.lang)),
    };
    let body = Review {
        action,
        message: Some(form.fields.message),
    };
    match state.review(who, &id, &body).await {
        Ok(_) => Ok(see_other(&format!(
            "/staff/applications/{id}?lang={}&done={done}",
            staff.lang.code()
        ))),
        Err(e) => {
            let (status, message) = refusal(e, staff.lang)?;
            let field = if matches!(action, ReviewAction::RequestInformation) {
                "message"
            } else {
                "forward"
            };
            render_case(
                &state,
                &staff,
                &id,
                None,
                vec![Problem {
                    field: field.into(),
                    message,
                }],
                status,
            )
            .await
        }
    }
}

/// The exemption decision form.
#[derive(Debug, serde::Deserialize)]
pub struct ExemptionFields {
    #[serde(default)]
    decision: String,
    #[serde(default)]
    reason: String,
}

/// `POST /staff/applications/{id}/exemption` (clerk).
pub async fn exemption(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Path(id): Path<String>,
    form: CheckedForm<ExemptionFields, StaffArea>,
) -> Result<Response, PageError> {
    let who = staff.require(&[Role::Clerk])?;
    let approve = form.fields.decision == "approve";
    let body = Decision {
        approve,
        reason: Some(form.fields.reason),
        identity_override: None,
    };
    match state.decide_exemption(who, &id, &body).await {
        Ok(_) => Ok(see_other(&format!(
            "/staff/applications/{id}?lang={}&done={}",
            staff.lang.code(),
            if approve {
                "exemption_approved"
            } else {
                "exemption_refused"
            }
        ))),
        Err(e) => {
            let (status, message) = refusal(e, staff.lang)?;
            render_case(
                &state,
                &staff,
                &id,
                None,
                vec![Problem {
                    field: "exemption-reason".into(),
                    message,
                }],
                status,
            )
            .await
        }
    }
}

/// A record entry as the officer reads it.
#[derive(Debug)]
pub struct Entry {
    court: String,
    case_number: String,
    decision_date: String,
    offence: String,
    sentence: String,
    disclosed: bool,
}

#[derive(Template)]
#[template(path = "staff/records.html")]
struct RecordsPage {
    frame: Frame,
    o: &'static Office,
    errors: Vec<Problem>,
    reference: String,
    holder: String,
    usage: String,
    csrf: String,
    lang: &'static str,
    entries: Vec<Entry>,
    mismatch: Option<String>,
    can_approve: bool,
}

impl RecordsPage {
    fn error(&self, field: &str) -> Option<&str> {
        crate::http::web::error_of(&self.errors, field)
    }
}

async fn render_records(
    state: &AppState,
    staff: &Staff,
    id: &str,
    errors: Vec<Problem>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let who = staff.require(&[Role::Officer])?;
    let o = staff.o();
    let lang = staff.lang;
    let app = state
        .application_for(who, id)
        .await
        .map_err(|e| PageError::from_case(e, lang))?;
    let entries = state
        .records_for(who, id)
        .await
        .map_err(|e| PageError::from_case(e, lang))?
        .into_iter()
        .map(|r| Entry {
            disclosed: r.disclosed_for(&app.usage),
            court: r.court,
            case_number: r.case_number,
            decision_date: r.decision_date,
            offence: r.offence,
            sentence: r.sentence,
        })
        .collect();
    let mut frame = staff.frame(
        state,
        &format!("/staff/applications/{id}/records"),
        &format!("{} {id}", o.records_title),
    );
    frame.has_errors = !errors.is_empty();
    let template = RecordsPage {
        frame,
        o,
        errors,
        reference: app.id.clone(),
        holder: holder_name(app.holder_json.as_deref()),
        usage: state
            .bureau
            .config()
            .usage(&app.usage)
            .map_or(app.usage.clone(), |u| coded_name(u, lang).to_owned()),
        csrf: staff.session.csrf_token.clone(),
        lang: lang.code(),
        entries,
        mismatch: app.identity_mismatch.clone(),
        can_approve: app.state == workflow::CHECKED,
    };
    let mut response = staff.page(&template)?;
    *response.status_mut() = status;
    Ok(response)
}

/// `GET /staff/applications/{id}/records` (officer): the holder's record entries, each
/// marked whether the certificate for this usage will show it (the read is audited), and
/// the decision forms.
pub async fn records(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    render_records(&state, &staff, &id, Vec::new(), StatusCode::OK).await
}

/// The officer's decision form.
#[derive(Debug, serde::Deserialize)]
pub struct DecisionFields {
    #[serde(default)]
    decision: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    identity_override: String,
    #[serde(default)]
    confirm: String,
}

/// `POST /staff/applications/{id}/decision` (officer): approve (issues the certificates)
/// or reject; both are irreversible, so the case reference must be typed again.
pub async fn decide(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Path(id): Path<String>,
    form: CheckedForm<DecisionFields, StaffArea>,
) -> Result<Response, PageError> {
    let who = staff.require(&[Role::Officer])?;
    let o = staff.o();
    let fields = form.fields;
    let approve = fields.decision == "approve";
    let prefix = if approve { "approve" } else { "reject" };
    if fields.confirm.trim() != id {
        return render_records(
            &state,
            &staff,
            &id,
            vec![Problem {
                field: format!("{prefix}-confirm"),
                message: o.confirm_mismatch.into(),
            }],
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let body = Decision {
        approve,
        reason: Some(fields.reason),
        identity_override: Some(fields.identity_override).filter(|s| !s.trim().is_empty()),
    };
    match state.decide(who, &id, &body).await {
        Ok(_) => Ok(see_other(&format!(
            "/staff/applications/{id}?lang={}&done={}",
            staff.lang.code(),
            if approve { "approved" } else { "rejected" }
        ))),
        Err(e) => {
            let field = match &e {
                crate::bureau::CaseError::Invalid { field, .. } if field == "identity_override" => {
                    "approve-override".to_owned()
                }
                _ => format!("{prefix}-reason"),
            };
            let (status, message) = refusal(e, staff.lang)?;
            render_records(
                &state,
                &staff,
                &id,
                vec![Problem { field, message }],
                status,
            )
            .await
        }
    }
}
