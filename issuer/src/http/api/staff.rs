//! The bureau's side over HTTP: exemption decisions and review by clerks, approval or
//! rejection by officers, collection of paper certificates, the record registry, certificate
//! status changes and issuance jobs. Roles are checked here; the rules are the use cases'
//! (`crate::bureau::reviewing`).

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::extract::{Authorized, Body, Caller, Clerks, Officers, Path, Query, SecurityOfficers};
use super::{ApiError, AppState, json};
use crate::bureau::collecting::CounterCollection;
use crate::bureau::reviewing::{Decision, NewRecord, Review};
use crate::identity::auth::Role;

/// `POST /api/v1/applications/{id}/exemption/decision` (clerk).
pub async fn decide_exemption(
    State(state): State<Arc<AppState>>,
    caller: Authorized<Clerks>,
    Path(id): Path<String>,
    Body(body): Body<Decision>,
) -> Result<Response, ApiError> {
    let app = state
        .decide_exemption(caller.principal(), &id, &body)
        .await?;
    Ok(json(StatusCode::OK, &state.view(&app)))
}

/// `POST /api/v1/applications/{id}/review` (clerk).
pub async fn review(
    State(state): State<Arc<AppState>>,
    caller: Authorized<Clerks>,
    Path(id): Path<String>,
    Body(body): Body<Review>,
) -> Result<Response, ApiError> {
    let app = state.review(caller.principal(), &id, &body).await?;
    Ok(json(StatusCode::OK, &state.view(&app)))
}

/// `POST /api/v1/applications/{id}/decision` (officer).
pub async fn decide(
    State(state): State<Arc<AppState>>,
    caller: Authorized<Officers>,
    Path(id): Path<String>,
    Body(body): Body<Decision>,
) -> Result<Response, ApiError> {
    let app = state.decide(caller.principal(), &id, &body).await?;
    Ok(json(StatusCode::OK, &state.view(&app)))
}

/// `POST /api/v1/applications/{id}/collected` (clerk): printed paper certificates were
/// handed over at the clerk's counter, to the holder or an authorised representative.
pub async fn collected(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
    Body(body): Body<CounterCollection>,
) -> Result<Response, ApiError> {
    let clerk = caller.require(&[Role::Clerk])?;
    let app = state
        .collect_at_counter(clerk, &id, &body, time::OffsetDateTime::now_utc())
        .await?;
    Ok(json(StatusCode::OK, &state.view(&app)))
}

/// A chosen set of applications (a print batch, or those just printed).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaperBatch {
    /// Application references, at most `collecting::MAX_PRINT_BATCH`.
    pub applications: Vec<String>,
}

/// `GET /api/v1/paper/print-queue` (clerk): issued paper certificates not yet printed.
pub async fn print_queue(
    State(state): State<Arc<AppState>>,
    caller: Authorized<Clerks>,
) -> Result<Response, ApiError> {
    Ok(json(
        StatusCode::OK,
        &state.print_queue(caller.principal()).await?,
    ))
}

/// `POST /api/v1/paper/print-batch` (clerk): one print-ready PDF of the chosen applications'
/// certificates (for paper only: not signed).
pub async fn print_batch(
    State(state): State<Arc<AppState>>,
    caller: Authorized<Clerks>,
    Body(body): Body<PaperBatch>,
) -> Result<Response, ApiError> {
    let batch = state
        .print_batch_pdf(
            caller.principal(),
            &body.applications,
            time::OffsetDateTime::now_utc(),
        )
        .await?;
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                axum::http::HeaderValue::from_static("application/pdf"),
            ),
            (
                axum::http::header::CONTENT_DISPOSITION,
                axum::http::HeaderValue::from_static("attachment; filename=\"print-batch.pdf\""),
            ),
        ],
        batch.pdf,
    )
        .into_response())
}

/// `POST /api/v1/paper/printed` (clerk): the chosen applications were printed (all or none).
pub async fn mark_printed(
    State(state): State<Arc<AppState>>,
    caller: Authorized<Clerks>,
    Body(body): Body<PaperBatch>,
) -> Result<Response, ApiError> {
    let items = state
        .mark_printed(
            caller.principal(),
            &body.applications,
            time::OffsetDateTime::now_utc(),
        )
        .await?;
    Ok(json(StatusCode::OK, &items))
}

/// `POST /api/v1/applications/{id}/locker` (clerk): printed Smart Locker certificates were
/// placed in the locker; the pickup code is sent to the applicant and answered once here.
pub async fn deposit_in_locker(
    State(state): State<Arc<AppState>>,
    caller: Authorized<Clerks>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let pickup = state
        .deposit_in_locker(caller.principal(), &id, time::OffsetDateTime::now_utc())
        .await?;
    Ok(json(StatusCode::OK, &pickup))
}

/// `GET /api/v1/applications/{id}/records` (clerk, officer): the record lookup for the
/// holder, audited as a read of record data.
pub async fn application_records(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let who = caller.require(&[Role::Clerk, Role::Officer])?;
    Ok(json(StatusCode::OK, &state.records_for(who, &id).await?))
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

/// `POST /api/v1/records` (officer): adds an entry to the record registry.
pub async fn add_record(
    State(state): State<Arc<AppState>>,
    caller: Authorized<Officers>,
    Body(body): Body<NewRecord>,
) -> Result<Response, ApiError> {
    let added = state.add_record(caller.principal(), body).await?;
    Ok(json(
        StatusCode::CREATED,
        &serde_json::json!({ "id": added.id, "doc_key": added.doc_key, "document": added.document }),
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
    state
        .change_certificate_status(caller.principal(), number, status, reason)
        .await?;
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
    let issued = state
        .reissue(caller.principal(), &number, &body.reason)
        .await?;
    Ok(json(
        StatusCode::CREATED,
        &serde_json::json!({ "number": issued, "supersedes": number }),
    ))
}

/// Query of `GET /api/v1/jobs`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobsQuery {
    #[serde(default)]
    state: Option<String>,
}

/// `GET /api/v1/jobs?state=failed` (officer, security officer): issuance jobs in a state,
/// default `failed` (the jobs that will not finish without staff, with their last error).
pub async fn jobs(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Query(query): Query<JobsQuery>,
) -> Result<Response, ApiError> {
    caller.require(&[Role::Officer, Role::SecurityOfficer])?;
    Ok(json(
        StatusCode::OK,
        &state.jobs_in(query.state.as_deref()).await?,
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
    state.retry_job(officer, &id).await?;
    Ok(json(
        StatusCode::ACCEPTED,
        &serde_json::json!({ "id": id, "state": "queued" }),
    ))
}
