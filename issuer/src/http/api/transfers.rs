//! The transfer service over the API (SPEC §9): departments' push endpoints, the lane as staff
//! see it, the signed pull feed, and the applicant's ledger of transfers and downloads.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::extract::{Body, Caller, Path, Query};
use super::{ApiError, AppState, json};
use crate::identity::auth::Role;

/// A department's push registration.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndpointBody {
    endpoint: String,
    receipt_key_pem: String,
}

/// `PUT /api/v1/departments/{code}/endpoint` (security officer): where the department
/// receives pushed transfers and the key its receipts are signed with.
pub async fn put_endpoint(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(code): Path<String>,
    Body(body): Body<EndpointBody>,
) -> Result<Response, ApiError> {
    let officer = caller.require(&[Role::SecurityOfficer])?;
    let stored = state
        .bureau
        .set_department_endpoint(
            &code,
            &body.endpoint,
            &body.receipt_key_pem,
            &officer.actor(),
        )
        .await?;
    Ok(json(StatusCode::OK, &stored))
}

/// Paging of a lane.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LaneQuery {
    #[serde(default)]
    after: Option<i64>,
    #[serde(default)]
    limit: Option<i64>,
}

impl LaneQuery {
    fn bounds(&self) -> Result<(i64, i64), ApiError> {
        let limit = self.limit.unwrap_or(100);
        if !(1..=500).contains(&limit) {
            return Err(ApiError::invalid("limit: between 1 and 500"));
        }
        Ok((self.after.unwrap_or(0).max(0), limit))
    }
}

/// `GET /api/v1/departments/{code}/deliveries` (security officer, officer): the department's
/// lane with each delivery's state and why it is not delivered yet.
pub async fn department_deliveries(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(code): Path<String>,
    Query(query): Query<LaneQuery>,
) -> Result<Response, ApiError> {
    caller.require(&[Role::SecurityOfficer, Role::Officer])?;
    let (after, limit) = query.bounds()?;
    let lane = state.bureau.department_lane(&code, after, limit).await?;
    Ok(json(StatusCode::OK, &lane))
}

/// One envelope of the pull feed, with the same Standard Webhooks signature as a push.
#[derive(Debug, Serialize)]
struct SignedEnvelope {
    sequence: i64,
    state: String,
    webhook_id: String,
    webhook_timestamp: String,
    webhook_signature: String,
    /// The exact body (the signature is over these bytes).
    body: String,
}

/// `GET /api/v1/transfers/envelopes?after=SEQ` (department): the caller's lane after `after`,
/// as signed envelopes, for catch-up.
pub async fn envelopes(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Query(query): Query<LaneQuery>,
) -> Result<Response, ApiError> {
    let department = caller.require(&[Role::Department])?;
    let (after, limit) = query.bounds()?;
    let now = OffsetDateTime::now_utc();
    let signer = state.bureau.transfer_signer(now)?;
    let now = now.unix_timestamp();
    let list: Vec<SignedEnvelope> = state
        .store()
        .lane(&department.id, after, limit)
        .await?
        .into_iter()
        .map(|(view, body)| {
            Ok(SignedEnvelope {
                sequence: view.seq,
                state: view.state,
                webhook_signature: signer
                    .sign_webhook(&view.id, now, &body)
                    .map_err(|e| ApiError::internal(&e))?,
                webhook_timestamp: now.to_string(),
                webhook_id: view.id,
                body: String::from_utf8_lossy(&body).into_owned(),
            })
        })
        .collect::<Result<_, ApiError>>()?;
    Ok(json(StatusCode::OK, &list))
}

/// `GET /api/v1/applications/{id}/transfers` (the applicant, clerks, officers): each transfer
/// of the application's certificates and each download of them.
pub async fn ledger(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let who = caller.require(&[Role::Applicant, Role::Clerk, Role::Officer])?;
    let app = state.application_for(who, &id).await?;
    Ok(json(StatusCode::OK, &state.bureau.ledger(&app.id).await?))
}
