//! Sign-in (development identity provider, OIDC, staff passwords, department client
//! credentials), the department registry and transfers, the audit log, and the development
//! outbox reader.

use std::net::IpAddr;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use time::OffsetDateTime;

use super::extract::{
    Authorized, Body, Caller, ClientAddress, Path, Query, SecurityOfficers, bearer,
};
use super::{ApiError, AppState, json};
use crate::bureau::people::Desk;
use crate::bureau::signing_in::{Callback, ProviderAnswer};
use crate::identity::auth::{self, Admission, Role, SignInLimits};

impl AppState {
    /// Opens a session and answers with its token.
    async fn session(
        &self,
        role: Role,
        principal: &str,
        minutes: i64,
    ) -> Result<Response, ApiError> {
        let (token, hash) = auth::new_token();
        let now = OffsetDateTime::now_utc();
        let expires = now + time::Duration::minutes(minutes);
        self.store()
            .create_session(&hash, role.as_str(), principal, now, expires)
            .await?;
        Ok(json(
            StatusCode::OK,
            &serde_json::json!({
                "token": token,
                "role": role.as_str(),
                "principal": principal,
                "expires_at": crate::store::stored_instant(expires),
            }),
        ))
    }
}

/// Applies `limits` to an attempt of `name` from `address`: refused (429), or admitted after
/// the name's short back-off.
async fn admit(limits: &SignInLimits, name: &str, address: IpAddr) -> Result<(), ApiError> {
    match limits.admit(name, address) {
        Admission::Refused(retry) => Err(ApiError::limited(format!(
            "too many sign-in attempts from this address; try again in {} seconds",
            retry.as_secs().max(1)
        ))),
        Admission::After(wait) => {
            if !wait.is_zero() {
                tokio::time::sleep(wait).await;
            }
            Ok(())
        }
    }
}

/// Development sign-in.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DevSignIn {
    subject: String,
    #[serde(default)]
    name: Option<String>,
    /// An identity document the development provider vouches for, standing in for a real
    /// provider's verified document claim.
    #[serde(default)]
    document: Option<crate::rules::request::DocumentRequest>,
}

/// `POST /api/v1/auth/dev/sign-in`: the DEVELOPMENT identity provider. Anyone may sign in as
/// any subject; it exists only when `providers.identity = "development"`.
pub async fn dev_sign_in(
    State(state): State<Arc<AppState>>,
    Body(body): Body<DevSignIn>,
) -> Result<Response, ApiError> {
    if state.bureau.config().providers.identity != "development" {
        return Err(ApiError::not_found(
            "the development identity provider is not configured",
        ));
    }
    let subject = crate::identity::auth::development_subject(&body.subject)
        .ok_or_else(|| ApiError::invalid("subject: 1 to 128 printable characters"))?;
    let name = body
        .name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty());
    if name.is_some_and(|n| n.chars().count() > 200 || n.chars().any(char::is_control)) {
        return Err(ApiError::invalid("name: at most 200 printable characters"));
    }
    let verified = body
        .document
        .as_ref()
        .map(|d| d.parse("document").map(|d| d.registry_key()))
        .transpose()
        .map_err(|e| ApiError::invalid(e.to_string()))?;
    let id = state
        .store()
        .applicant_for(
            "development",
            subject,
            name,
            verified.as_deref(),
            OffsetDateTime::now_utc(),
        )
        .await?;
    let minutes = state.bureau.config().application.applicant_session_minutes;
    state.session(Role::Applicant, &id, minutes).await
}

/// `GET /api/v1/auth/oidc/start`: redirects to the identity provider.
pub async fn oidc_start(State(state): State<Arc<AppState>>) -> Result<Response, ApiError> {
    let (url, _) = state.oidc_begin(Callback::Api).await?;
    // 302 Found, as OAuth 2.0 authorization requests customarily use.
    Ok((StatusCode::FOUND, [(header::LOCATION, url)]).into_response())
}

/// `GET /api/v1/auth/oidc/callback`: finishes the authorization-code flow (each `state`
/// is good once) and opens an applicant session. The one query that keeps unknown
/// parameters: providers add their own (`iss`, `session_state`, …) and OAuth 2.0
/// (RFC 6749 §3.1) requires clients to ignore them.
pub async fn oidc_callback(
    State(app): State<Arc<AppState>>,
    Query(query): Query<ProviderAnswer>,
) -> Result<Response, ApiError> {
    let id = app.oidc_finish(Callback::Api, query).await?;
    let minutes = app.bureau.config().application.applicant_session_minutes;
    app.session(Role::Applicant, &id, minutes).await
}

/// Staff sign-in: the password and the second factor's current code.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaffSignIn {
    username: String,
    password: String,
    /// The authenticator app's 6-digit code.
    code: String,
}

/// `POST /api/v1/auth/staff/sign-in`: the password under the staff's own [`SignInLimits`]
/// (per name and address, per address, short back-off per name; an unknown name costs the
/// same time as a wrong password), then the second factor, each code good once.
pub async fn staff_sign_in(
    State(state): State<Arc<AppState>>,
    ClientAddress(address): ClientAddress,
    Body(body): Body<StaffSignIn>,
) -> Result<Response, ApiError> {
    let username = state
        .check_password(Desk::Staff, &body.username, &body.password, address)
        .await?;
    let staff = state
        .check_second_factor(
            Desk::Staff,
            &username,
            &body.code,
            OffsetDateTime::now_utc(),
        )
        .await?;
    let minutes = state.bureau.config().application.staff_session_minutes;
    state.session(staff.role, &staff.id, minutes).await
}

/// Department client credentials.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientCredentials {
    client_id: String,
    client_secret: String,
}

/// `POST /api/v1/auth/department/token`: a department's API session, under the
/// departments' own [`SignInLimits`] (a flood of client ids cannot touch the staff's).
pub async fn department_token(
    State(state): State<Arc<AppState>>,
    ClientAddress(address): ClientAddress,
    Body(body): Body<ClientCredentials>,
) -> Result<Response, ApiError> {
    if body.client_id.len() > 32 || body.client_secret.len() > 128 {
        return Err(ApiError::invalid("client_id or client_secret too long"));
    }
    let limits = &state.department_sign_in;
    admit(limits, &body.client_id, address).await?;
    let stored = state
        .store()
        .department_secret_hash(&body.client_id)
        .await?;
    let presented = auth::token_hash(&body.client_secret);
    let valid = stored.is_some_and(|s| {
        crate::store::applications::constant_time_eq(s.as_bytes(), presented.as_bytes())
    });
    if !valid {
        limits.failed(&body.client_id);
        return Err(ApiError::unauthenticated("unknown client or wrong secret"));
    }
    limits.succeeded(&body.client_id, address);
    let minutes = state.bureau.config().application.department_session_minutes;
    state
        .session(Role::Department, &body.client_id, minutes)
        .await
}

/// `POST /api/v1/auth/sign-out`: ends the caller's session.
pub async fn sign_out(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let who = caller.require(&Role::ALL)?;
    let token = bearer(&headers)?.unwrap_or_default();
    state
        .store()
        .end_session(
            &auth::token_hash(token),
            &who.actor(),
            OffsetDateTime::now_utc(),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /api/v1/me`: who the session belongs to.
pub async fn me(caller: Caller) -> Result<Response, ApiError> {
    let who = caller.require(&Role::ALL)?;
    Ok(json(
        StatusCode::OK,
        &serde_json::json!({ "role": who.role.as_str(), "principal": who.id }),
    ))
}

/// `GET /api/v1/departments` (security officer): the registry.
pub async fn departments(
    State(state): State<Arc<AppState>>,
    caller: Caller,
) -> Result<Response, ApiError> {
    caller.require(&[Role::SecurityOfficer])?;
    Ok(json(StatusCode::OK, &state.store().departments().await?))
}

/// A department's registration.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DepartmentBody {
    name_zh: String,
    name_pt: String,
    name_en: String,
    active: bool,
}

/// `PUT /api/v1/departments/{code}` (security officer): registers or updates a department.
pub async fn put_department(
    State(state): State<Arc<AppState>>,
    caller: Authorized<SecurityOfficers>,
    Path(code): Path<String>,
    Body(body): Body<DepartmentBody>,
) -> Result<Response, ApiError> {
    let officer = caller.principal();
    let names = crate::bureau::departments::Names {
        zh: Some(body.name_zh),
        pt: Some(body.name_pt),
        en: Some(body.name_en),
    };
    let stored = state
        .bureau
        .put_department(&code, &names, body.active, &officer.actor())
        .await?;
    Ok(json(StatusCode::OK, &stored))
}

/// `POST /api/v1/departments/{code}/credentials` (security officer): issues a new client
/// secret, shown once; the old one and its sessions stop working.
pub async fn department_credentials(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    let officer = caller.require(&[Role::SecurityOfficer])?;
    let secret = state.issue_department_credentials(officer, &code).await?;
    Ok(json(
        StatusCode::CREATED,
        &serde_json::json!({ "client_id": code, "client_secret": secret }),
    ))
}

/// `GET /api/v1/transfers` (department): certificates transferred to the caller, with their
/// current status.
pub async fn transfers(
    State(state): State<Arc<AppState>>,
    caller: Caller,
) -> Result<Response, ApiError> {
    let department = caller.require(&[Role::Department])?;
    let list: Vec<_> = state
        .store()
        .transfers_to(&department.id)
        .await?
        .iter()
        .map(super::applicant::certificate_view)
        .collect();
    Ok(json(StatusCode::OK, &list))
}

/// `GET /api/v1/transfers/notifications` (department): messages for the caller, such as
/// revocations of certificates it holds.
pub async fn department_notifications(
    State(state): State<Arc<AppState>>,
    caller: Caller,
) -> Result<Response, ApiError> {
    let department = caller.require(&[Role::Department])?;
    let list: Vec<_> = state
        .store()
        .messages_to(&department.id, 100)
        .await?
        .into_iter()
        .filter(|m| m.channel == "department")
        .collect();
    Ok(json(StatusCode::OK, &list))
}

/// Paging of the audit log.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    #[serde(default)]
    after: Option<i64>,
    #[serde(default)]
    limit: Option<i64>,
}

/// `GET /api/v1/audit` (security officer): entries after `after`, at most `limit` (≤ 500).
pub async fn audit(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Query(query): Query<AuditQuery>,
) -> Result<Response, ApiError> {
    caller.require(&[Role::SecurityOfficer])?;
    let limit = query.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::invalid("limit: between 1 and 500"));
    }
    let after = query.after.unwrap_or(0).max(0);
    Ok(json(
        StatusCode::OK,
        &state.store().audit_page(after, limit).await?,
    ))
}

/// `GET /api/v1/audit/verify` (security officer): checks the whole hash chain.
pub async fn audit_verify(
    State(state): State<Arc<AppState>>,
    caller: Caller,
) -> Result<Response, ApiError> {
    caller.require(&[Role::SecurityOfficer])?;
    let entries = state.store().audit_entries().await?;
    let body = match crate::rules::audit::verify_chain(&entries) {
        Ok(n) => serde_json::json!({ "intact": true, "entries": n }),
        Err(e) => {
            serde_json::json!({ "intact": false, "entries": entries.len(), "break": e.to_string() })
        }
    };
    Ok(json(StatusCode::OK, &body))
}

/// Which messages to read.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutboxQuery {
    recipient: String,
}

/// `GET /api/v1/dev/outbox?recipient=` (security officer, DEVELOPMENT SMS outbox only):
/// the messages sent to a number, newest first.
pub async fn dev_outbox(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Query(query): Query<OutboxQuery>,
) -> Result<Response, ApiError> {
    if state.bureau.config().providers.sms != "outbox" {
        return Err(ApiError::not_found(
            "the development SMS outbox is not configured",
        ));
    }
    caller.require(&[Role::SecurityOfficer])?;
    Ok(json(
        StatusCode::OK,
        &state.store().messages_to(&query.recipient, 50).await?,
    ))
}
