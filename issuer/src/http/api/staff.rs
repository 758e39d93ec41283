//! The bureau's side: exemption decisions and review by clerks, approval or rejection by
//! officers (with the record lookup that fills the certificate), collection of paper
//! certificates, the record registry, and certificate status changes.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use time::OffsetDateTime;

use super::extract::{Authorized, Body, Caller, Clerks, Officers, Path, Query, SecurityOfficers};
use super::{ApiError, AppState, json};
use crate::identity::auth::Role;
use crate::notify::messages::Event;
use crate::rules::request::RecordRequest;
use crate::rules::workflow;
use crate::store::applications::{SideEffect, Transition, Value};
use crate::store::records::RecordRow;

/// A decision with its reason.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    approve: bool,
    #[serde(default)]
    reason: Option<String>,
    /// The officer's reason for approving although the holder's document is not the one the
    /// identity provider verified at sign-in (audited; only for such an approval).
    #[serde(default)]
    identity_override: Option<String>,
}

fn reason_text(reason: Option<&str>, required: bool) -> Result<Option<String>, ApiError> {
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    match reason {
        None if required => Err(ApiError::invalid("reason: required for this decision")),
        Some(r) if r.chars().count() > 1_000 => {
            Err(ApiError::invalid("reason: at most 1000 characters"))
        }
        other => Ok(other.map(str::to_owned)),
    }
}

/// `POST /api/v1/applications/{id}/exemption/decision` (clerk).
pub async fn decide_exemption(
    State(state): State<Arc<AppState>>,
    caller: Authorized<Clerks>,
    Path(id): Path<String>,
    Body(body): Body<DecisionBody>,
) -> Result<Response, ApiError> {
    let clerk = caller.principal();
    let app = state.application_for(clerk, &id).await?;
    let reason = reason_text(body.reason.as_deref(), !body.approve)?;
    if body.identity_override.is_some() {
        return Err(ApiError::invalid(
            "identity_override: only an officer's approval of the application takes it",
        ));
    }
    let now = OffsetDateTime::now_utc();
    let actor = clerk.actor();
    if body.approve {
        let mut step = state.submission(
            &app,
            &[workflow::EXEMPTION_REQUESTED],
            0,
            &actor,
            "application.exemption_approved",
            now,
        )?;
        step.detail = serde_json::json!({ "kind": app.exemption_kind, "fee_avos": 0 });
        let mut messages = state.sms(&app, &Event::ExemptionApproved { reference: &app.id });
        messages.append(&mut step.messages);
        step.messages = messages;
        state.store().transition(&step).await?;
    } else {
        let reason = reason.unwrap_or_default();
        state
            .store()
            .transition(&Transition {
                application_id: &app.id,
                from: &[workflow::EXEMPTION_REQUESTED],
                to: workflow::IDENTIFIED,
                set: vec![
                    ("exemption_kind", Value::Text(None)),
                    ("note", Value::Text(Some(reason.clone()))),
                ],
                actor: &actor,
                action: "application.exemption_refused",
                detail: serde_json::json!({ "kind": app.exemption_kind, "reason": reason }),
                messages: state.sms(
                    &app,
                    &Event::ExemptionRefused {
                        reference: &app.id,
                        reason: &reason,
                    },
                ),
                effect: SideEffect::None,
                now,
            })
            .await?;
    }
    state.current(&id).await
}

/// A clerk's review action.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewBody {
    action: ReviewAction,
    #[serde(default)]
    message: Option<String>,
}

/// What a clerk does with a submitted application.
#[derive(Debug, Deserialize, Clone, Copy)]
#[serde(rename_all = "snake_case")]
pub enum ReviewAction {
    /// Checked: pass it to an officer.
    Forward,
    /// Ask the applicant for more information or documents.
    RequestInformation,
}

/// `POST /api/v1/applications/{id}/review` (clerk).
pub async fn review(
    State(state): State<Arc<AppState>>,
    caller: Authorized<Clerks>,
    Path(id): Path<String>,
    Body(body): Body<ReviewBody>,
) -> Result<Response, ApiError> {
    let clerk = caller.principal();
    let app = state.application_for(clerk, &id).await?;
    let now = OffsetDateTime::now_utc();
    let actor = clerk.actor();
    let step = match body.action {
        ReviewAction::Forward => Transition {
            application_id: &app.id,
            from: &[workflow::SUBMITTED],
            to: workflow::CHECKED,
            set: Vec::new(),
            actor: &actor,
            action: "application.checked",
            detail: serde_json::json!({}),
            messages: Vec::new(),
            effect: SideEffect::None,
            now,
        },
        ReviewAction::RequestInformation => {
            let message = reason_text(body.message.as_deref(), true)?.unwrap_or_default();
            Transition {
                application_id: &app.id,
                from: &[workflow::SUBMITTED, workflow::CHECKED],
                to: workflow::INFORMATION_REQUESTED,
                set: vec![("note", Value::Text(Some(message.clone())))],
                actor: &actor,
                action: "application.information_requested",
                detail: serde_json::json!({ "message": message }),
                messages: state.sms(
                    &app,
                    &Event::InformationRequested {
                        reference: &app.id,
                        message: &message,
                    },
                ),
                effect: SideEffect::None,
                now,
            }
        }
    };
    state.store().transition(&step).await?;
    state.current(&id).await
}

/// `POST /api/v1/applications/{id}/decision` (officer): approval looks the holder up in the
/// record registry (an audited read), keeps the entries disclosed for the usage, and queues
/// one issuance job per certificate in the same transaction.
pub async fn decide(
    State(state): State<Arc<AppState>>,
    caller: Authorized<Officers>,
    Path(id): Path<String>,
    Body(body): Body<DecisionBody>,
) -> Result<Response, ApiError> {
    let officer = caller.principal();
    let app = state.application_for(officer, &id).await?;
    let reason = reason_text(body.reason.as_deref(), !body.approve)?;
    let now = OffsetDateTime::now_utc();
    let actor = officer.actor();
    if body.approve {
        if app.state != workflow::CHECKED {
            return Err(ApiError::conflict(format!(
                "application {id} is {}; an officer approves only CHECKED applications",
                app.state
            )));
        }
        let identity_override = reason_text(body.identity_override.as_deref(), false)?;
        if app.identity_mismatch.is_some() && identity_override.is_none() {
            return Err(ApiError::invalid(format!(
                "identity_override: the holder's document ({}) is not the one the identity provider verified at sign-in ({}); approve only with a reason",
                app.doc_key.as_deref().unwrap_or("none"),
                app.identity_mismatch.as_deref().unwrap_or_default()
            )));
        }
        let doc_key = app.doc_key.clone().unwrap_or_default();
        let entries = state
            .store()
            .read_records(&doc_key, &actor, &app.id, now)
            .await?;
        let disclosed: Vec<RecordRequest> = entries
            .iter()
            .filter(|r| r.disclosed_for(&app.usage))
            .map(|r| RecordRequest {
                court: r.court.clone(),
                case_number: r.case_number.clone(),
                decision_date: r.decision_date.clone(),
                offence: r.offence.clone(),
                sentence: r.sentence.clone(),
            })
            .collect();
        let records_json = serde_json::to_string(&disclosed).map_err(|e| ApiError::internal(&e))?;
        // Nothing is promised that cannot be issued: refused here, no job is queued.
        state
            .bureau
            .check_approvable(&app, disclosed.clone())
            .await?;
        state
            .store()
            .transition(&Transition {
                application_id: &app.id,
                from: &[workflow::CHECKED],
                to: workflow::APPROVED,
                set: vec![
                    ("records_json", Value::Text(Some(records_json))),
                    ("identity_override", Value::Text(identity_override.clone())),
                ],
                actor: &actor,
                action: "application.approved",
                detail: serde_json::json!({
                    "copies": app.quantity,
                    "record_entries": disclosed.len(),
                    "identity_override": identity_override,
                }),
                messages: state.sms(&app, &Event::ApplicationApproved { reference: &app.id }),
                effect: SideEffect::IssuanceJobs(app.quantity),
                now,
            })
            .await?;
        state.jobs.notify_waiters();
    } else {
        let reason = reason.unwrap_or_default();
        state
            .store()
            .transition(&Transition {
                application_id: &app.id,
                from: &[
                    workflow::SUBMITTED,
                    workflow::CHECKED,
                    workflow::INFORMATION_REQUESTED,
                ],
                to: workflow::REJECTED,
                set: vec![("note", Value::Text(Some(reason.clone())))],
                actor: &actor,
                action: "application.rejected",
                detail: serde_json::json!({ "reason": reason }),
                messages: state.sms(
                    &app,
                    &Event::ApplicationRejected {
                        reference: &app.id,
                        reason: &reason,
                    },
                ),
                effect: SideEffect::None,
                now,
            })
            .await?;
    }
    state.current(&id).await
}

/// `POST /api/v1/applications/{id}/collected` (clerk): a paper certificate was handed over.
pub async fn collected(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let clerk = caller.require(&[Role::Clerk])?;
    let app = state.application_for(clerk, &id).await?;
    if app.electronic != 0 {
        return Err(ApiError::conflict(
            "electronic certificates are downloaded, not collected",
        ));
    }
    let actor = clerk.actor();
    state
        .store()
        .transition(&Transition {
            application_id: &app.id,
            from: &[workflow::ISSUED],
            to: workflow::COLLECTED,
            set: Vec::new(),
            actor: &actor,
            action: "application.collected",
            detail: serde_json::json!({ "site": app.collection_site }),
            messages: Vec::new(),
            effect: SideEffect::None,
            now: OffsetDateTime::now_utc(),
        })
        .await?;
    state.current(&id).await
}

/// `GET /api/v1/applications/{id}/records` (clerk, officer): the record lookup for the
/// holder, audited as a read of record data.
pub async fn application_records(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let who = caller.require(&[Role::Clerk, Role::Officer])?;
    let app = state.application_for(who, &id).await?;
    let doc_key = app
        .doc_key
        .ok_or_else(|| ApiError::conflict("the applicant has not confirmed their data yet"))?;
    let rows = state
        .store()
        .read_records(&doc_key, &who.actor(), &app.id, OffsetDateTime::now_utc())
        .await?;
    Ok(json(StatusCode::OK, &rows))
}

/// `GET /api/v1/applications/{id}/documents` (clerk, officer): supporting documents.
pub async fn documents(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let who = caller.require(&[Role::Clerk, Role::Officer])?;
    let app = state.application_for(who, &id).await?;
    Ok(json(
        StatusCode::OK,
        &state.store().documents_of(&app.id).await?,
    ))
}

/// A record entry to add.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordBody {
    document: crate::rules::request::DocumentRequest,
    court: String,
    case_number: String,
    decision_date: String,
    offence: String,
    sentence: String,
    #[serde(default)]
    disclose_for: Vec<String>,
}

/// `POST /api/v1/records` (officer): adds an entry to the record registry. The entry is
/// validated exactly as a certificate's record entry would be.
pub async fn add_record(
    State(state): State<Arc<AppState>>,
    caller: Authorized<Officers>,
    Body(body): Body<RecordBody>,
) -> Result<Response, ApiError> {
    let officer = caller.principal();
    let config = state.bureau.config();
    for usage in &body.disclose_for {
        if config.usage(usage).is_none() {
            return Err(ApiError::invalid(format!(
                "disclose_for: {usage:?} is not a known usage"
            )));
        }
    }
    let entry = crate::rules::request::RecordRequest {
        court: body.court,
        case_number: body.case_number,
        decision_date: body.decision_date,
        offence: body.offence,
        sentence: body.sentence,
    };
    let valid = crate::rules::request::check_record(0, &entry)
        .map_err(|e| ApiError::invalid(e.to_string()))?;
    state
        .bureau
        .engine()
        .check_record_printable(1, &valid)
        .map_err(|e| ApiError::invalid(e.to_string()))?;
    let document = body
        .document
        .parse("document")
        .map_err(|e| ApiError::invalid(e.to_string()))?;
    let row = RecordRow {
        id: String::new(),
        doc_key: crate::rules::request::doc_key(&document),
        court: valid.court,
        case_number: valid.case_number,
        decision_date: valid.decision_date.to_string(),
        offence: valid.offence,
        sentence: valid.sentence,
        disclose_for: serde_json::to_string(&body.disclose_for)
            .map_err(|e| ApiError::internal(&e))?,
    };
    let id = state
        .store()
        .add_record(
            &row,
            crate::rules::request::MAX_RECORDS,
            &officer.actor(),
            OffsetDateTime::now_utc(),
        )
        .await?;
    Ok(json(
        StatusCode::CREATED,
        &serde_json::json!({ "id": id, "doc_key": row.doc_key, "document": document }),
    ))
}

/// Why a certificate's status changes.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReasonBody {
    reason: String,
}

async fn change_status(
    state: &AppState,
    caller: &Authorized<SecurityOfficers>,
    number: &str,
    status: ccr_pki::status_list::Status,
    reason: &str,
) -> Result<Response, ApiError> {
    let officer = caller.principal();
    let reason = reason_text(Some(reason), true)?.unwrap_or_default();
    let (_, owner) = state
        .store()
        .certificate(number)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no certificate {number}")))?;
    state
        .bureau
        .change_status(number, status, &officer.actor(), &reason)
        .await?;
    if status == ccr_pki::status_list::Status::Revoked
        && let Some(department) = owner.transfer_to
    {
        // The department that received this certificate is told (SPEC §1).
        let message = crate::notify::messages::render(
            &Event::CertificateRevoked { number },
            crate::rules::request::Language::En,
        );
        let outgoing = crate::store::applications::Outgoing {
            channel: "department",
            recipient: department,
            language: "en",
            subject: message.subject,
            body: message.body,
            reference: number.to_owned(),
        };
        state
            .store()
            .enqueue(&outgoing, OffsetDateTime::now_utc())
            .await?;
    }
    Ok(json(
        StatusCode::OK,
        &serde_json::json!({ "number": number, "status": status.name() }),
    ))
}

/// `POST /api/v1/certificates/{number}/revoke` (security officer).
pub async fn revoke(
    State(state): State<Arc<AppState>>,
    caller: Authorized<SecurityOfficers>,
    Path(number): Path<String>,
    Body(body): Body<ReasonBody>,
) -> Result<Response, ApiError> {
    change_status(
        &state,
        &caller,
        &number,
        ccr_pki::status_list::Status::Revoked,
        &body.reason,
    )
    .await
}

/// `POST /api/v1/certificates/{number}/suspend` (security officer).
pub async fn suspend(
    State(state): State<Arc<AppState>>,
    caller: Authorized<SecurityOfficers>,
    Path(number): Path<String>,
    Body(body): Body<ReasonBody>,
) -> Result<Response, ApiError> {
    change_status(
        &state,
        &caller,
        &number,
        ccr_pki::status_list::Status::Suspended,
        &body.reason,
    )
    .await
}

/// `POST /api/v1/certificates/{number}/reinstate` (security officer).
pub async fn reinstate(
    State(state): State<Arc<AppState>>,
    caller: Authorized<SecurityOfficers>,
    Path(number): Path<String>,
    Body(body): Body<ReasonBody>,
) -> Result<Response, ApiError> {
    change_status(
        &state,
        &caller,
        &number,
        ccr_pki::status_list::Status::Valid,
        &body.reason,
    )
    .await
}

/// `POST /api/v1/certificates/{number}/reissue` (officer): a new certificate with the same
/// content; the old one becomes SUPERSEDED in the same transaction.
pub async fn reissue(
    State(state): State<Arc<AppState>>,
    caller: Authorized<Officers>,
    Path(number): Path<String>,
    Body(body): Body<ReasonBody>,
) -> Result<Response, ApiError> {
    let officer = caller.principal();
    let reason = reason_text(Some(&body.reason), true)?.unwrap_or_default();
    let issued = state
        .bureau
        .reissue(&number, &officer.actor(), &reason, None)
        .await?;
    Ok(json(
        StatusCode::CREATED,
        &serde_json::json!({ "number": issued.number, "supersedes": number }),
    ))
}

/// Query of `GET /api/v1/jobs`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobsQuery {
    #[serde(default)]
    state: Option<String>,
}

/// The states an issuance job can be listed in.
const JOB_STATES: [&str; 3] = ["failed", "queued", "done"];

/// `GET /api/v1/jobs?state=failed` (officer, security officer): issuance jobs in a state,
/// default `failed` (the jobs that will not finish without staff, with their last error).
pub async fn jobs(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Query(query): Query<JobsQuery>,
) -> Result<Response, ApiError> {
    caller.require(&[Role::Officer, Role::SecurityOfficer])?;
    let wanted = query.state.as_deref().unwrap_or("failed");
    if !JOB_STATES.contains(&wanted) {
        return Err(ApiError::invalid(format!(
            "state: {wanted:?} is not one of {}",
            JOB_STATES.join(", ")
        )));
    }
    Ok(json(
        StatusCode::OK,
        &state.store().jobs_in_state(wanted, 200).await?,
    ))
}

/// `POST /api/v1/jobs/{id}/retry` (officer): puts a failed job back in the queue once its
/// cause is fixed (audited); it keeps its reserved number.
pub async fn retry_job(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let officer = caller.require(&[Role::Officer])?;
    state
        .store()
        .retry_job(&id, &officer.actor(), OffsetDateTime::now_utc())
        .await?;
    state.jobs.notify_waiters();
    Ok(json(
        StatusCode::ACCEPTED,
        &serde_json::json!({ "id": id, "state": "queued" }),
    ))
}
