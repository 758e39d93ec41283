//! The security officer's pages: the audit log with its hash chain verified (a broken chain
//! names the entry), the department registry with its users, staff accounts, and the
//! development outbox. A new account's second factor is shown once, as a QR code and as
//! text, to whoever created it.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::Staff;
use crate::bureau::Services as AppState;
use crate::bureau::people::Enrolment;
use crate::http::web::desk::{StaffArea, refusal, role_name};
use crate::http::web::i18n::office::Office;
use crate::http::web::session::CheckedForm;
use crate::http::web::{Frame, PageError, Problem, department_name};
use crate::identity::auth::Role;
use crate::rules::audit::ChainBreak;

/// Entries per audit page.
const AUDIT_PAGE: i64 = 100;

/// `?before=` of the audit page.
#[derive(Debug, Default, serde::Deserialize)]
pub struct Before {
    #[serde(default)]
    before: Option<i64>,
}

/// One audit entry as shown.
#[derive(Debug)]
pub struct AuditRow {
    id: i64,
    at: String,
    actor: String,
    action: String,
    subject: String,
    detail: String,
    broken: bool,
}

#[derive(Template)]
#[template(path = "staff/audit.html")]
struct AuditPage {
    frame: Frame,
    o: &'static Office,
    verified: Option<String>,
    broken: Option<i64>,
    rows: Vec<AuditRow>,
    older: Option<String>,
}

/// `GET /staff/audit` (security officer): the whole chain is verified on every view; the
/// newest entries (or those before `?before=`) are listed.
pub async fn audit(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Query(query): Query<Before>,
) -> Result<Response, PageError> {
    staff.require(&[Role::SecurityOfficer])?;
    let o = staff.o();
    let entries = state
        .store()
        .audit_entries()
        .await
        .map_err(|e| PageError::Internal(e.to_string()))?;
    let (verified, broken) = match crate::rules::audit::verify_chain(&entries) {
        Ok(n) => (Some(o.chain_verified.replace("{0}", &n.to_string())), None),
        Err(ChainBreak::Gap { found, .. }) => (None, Some(found)),
        Err(ChainBreak::Link(id) | ChainBreak::Content(id)) => (None, Some(id)),
    };
    let before = query.before.unwrap_or(i64::MAX);
    let rows: Vec<AuditRow> = entries
        .into_iter()
        .rev()
        .filter(|e| e.id < before)
        .take(usize::try_from(AUDIT_PAGE).unwrap_or(100))
        .map(|e| AuditRow {
            broken: Some(e.id) == broken,
            id: e.id,
            at: crate::http::web::progress::macao_time(&e.at),
            actor: e.actor,
            action: e.action,
            subject: e.subject,
            detail: e.detail,
        })
        .collect();
    let older = rows
        .last()
        .filter(|r| r.id > 1)
        .map(|r| format!("/staff/audit?before={}&lang={}", r.id, staff.lang.code()));
    let mut response = staff.page(&AuditPage {
        frame: staff.frame(&state, "/staff/audit", o.audit),
        o,
        verified,
        broken,
        rows,
        older,
    })?;
    if broken.is_some() {
        // The page is served, but monitoring sees that something is wrong.
        *response.status_mut() = StatusCode::CONFLICT;
    }
    Ok(response)
}

/// A department as listed.
#[derive(Debug)]
pub struct DepartmentRow {
    endpoint: Option<String>,
    code: String,
    name: String,
    active: bool,
    credentials: bool,
    users: Vec<String>,
}

#[derive(Template)]
#[template(path = "staff/departments.html")]
struct DepartmentsPage {
    frame: Frame,
    o: &'static Office,
    errors: Vec<Problem>,
    csrf: String,
    lang: &'static str,
    departments: Vec<DepartmentRow>,
}

async fn render_departments(
    state: &AppState,
    staff: &Staff,
    errors: Vec<Problem>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let o = staff.o();
    let store = state.store();
    let internal = |e: crate::store::StoreError| PageError::Internal(e.to_string());
    let users = store.department_users(None).await.map_err(internal)?;
    let mut departments = Vec::new();
    for d in store.departments().await.map_err(internal)? {
        let endpoint = store
            .department_endpoint(&d.code)
            .await
            .map_err(internal)?
            .map(|e| e.endpoint);
        departments.push((d, endpoint));
    }
    let departments = departments
        .into_iter()
        .map(|(d, endpoint)| DepartmentRow {
            endpoint,
            name: department_name(&d, staff.lang).to_owned(),
            users: users
                .iter()
                .filter(|u| u.department == d.code)
                .map(|u| u.username.clone())
                .collect(),
            code: d.code,
            active: d.active,
            credentials: d.has_credentials,
        })
        .collect();
    let mut frame = staff.frame(state, "/staff/departments", o.departments);
    frame.has_errors = !errors.is_empty();
    let mut response = staff.page(&DepartmentsPage {
        frame,
        o,
        errors,
        csrf: staff.session.csrf_token.clone(),
        lang: staff.lang.code(),
        departments,
    })?;
    *response.status_mut() = status;
    Ok(response)
}

/// `GET /staff/departments` (security officer).
pub async fn departments(
    State(state): State<Arc<AppState>>,
    staff: Staff,
) -> Result<Response, PageError> {
    staff.require(&[Role::SecurityOfficer])?;
    render_departments(&state, &staff, Vec::new(), StatusCode::OK).await
}

/// A new account's form.
#[derive(Debug, serde::Deserialize)]
pub struct NewAccount {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    role: String,
}

#[derive(Template)]
#[template(path = "staff/enrolment.html")]
struct EnrolmentPage {
    frame: Frame,
    o: &'static Office,
    username: String,
    key: String,
    qr: String,
    back: String,
}

fn enrolment_page(
    state: &AppState,
    staff: &Staff,
    enrolment: &Enrolment,
    back: &str,
) -> Result<Response, PageError> {
    let o = staff.o();
    let key = enrolment.secret.base32();
    let grouped: Vec<String> = key
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    let mut response = staff.page(&EnrolmentPage {
        frame: staff.frame(state, back, o.enrolment_title),
        o,
        username: enrolment.username.clone(),
        key: grouped.join(" "),
        qr: crate::http::web::qr_image(&enrolment.uri)?,
        back: format!("{back}?lang={}", staff.lang.code()),
    })?;
    *response.status_mut() = StatusCode::CREATED;
    Ok(response)
}

/// `POST /staff/departments/{code}/users` (security officer): a department user, whose
/// second factor is shown once.
pub async fn add_department_user(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Path(code): Path<String>,
    form: CheckedForm<NewAccount, StaffArea>,
) -> Result<Response, PageError> {
    let who = staff.require(&[Role::SecurityOfficer])?;
    let fields = form.fields;
    match state
        .bureau
        .add_department_user(
            fields.username.trim(),
            &code,
            &fields.password,
            &who.actor(),
        )
        .await
    {
        Ok(enrolment) => enrolment_page(&state, &staff, &enrolment, "/staff/departments"),
        Err(e) => {
            let (status, message) = refusal(e, staff.lang)?;
            render_departments(
                &state,
                &staff,
                vec![Problem {
                    field: format!("username-{code}"),
                    message,
                }],
                status,
            )
            .await
        }
    }
}

/// A staff account as listed.
#[derive(Debug)]
pub struct AccountRow {
    username: String,
    role: String,
    active: bool,
}

#[derive(Template)]
#[template(path = "staff/accounts.html")]
struct AccountsPage {
    frame: Frame,
    o: &'static Office,
    errors: Vec<Problem>,
    csrf: String,
    lang: &'static str,
    accounts: Vec<AccountRow>,
    roles: Vec<(&'static str, &'static str)>,
}

async fn render_accounts(
    state: &AppState,
    staff: &Staff,
    errors: Vec<Problem>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let o = staff.o();
    let accounts = state
        .store()
        .staff_accounts()
        .await
        .map_err(|e| PageError::Internal(e.to_string()))?
        .into_iter()
        .map(|a| AccountRow {
            role: Role::parse(&a.role).map_or(a.role.clone(), |r| role_name(r, o).to_owned()),
            username: a.username,
            active: a.active,
        })
        .collect();
    let mut frame = staff.frame(state, "/staff/accounts", o.accounts);
    frame.has_errors = !errors.is_empty();
    let mut response = staff.page(&AccountsPage {
        frame,
        o,
        errors,
        csrf: staff.session.csrf_token.clone(),
        lang: staff.lang.code(),
        accounts,
        roles: vec![
            ("clerk", o.clerk),
            ("officer", o.officer),
            ("security_officer", o.security_officer),
        ],
    })?;
    *response.status_mut() = status;
    Ok(response)
}

/// `GET /staff/accounts` (security officer).
pub async fn accounts(
    State(state): State<Arc<AppState>>,
    staff: Staff,
) -> Result<Response, PageError> {
    staff.require(&[Role::SecurityOfficer])?;
    render_accounts(&state, &staff, Vec::new(), StatusCode::OK).await
}

/// `POST /staff/accounts` (security officer): a staff account, whose second factor is
/// shown once.
pub async fn add_account(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    form: CheckedForm<NewAccount, StaffArea>,
) -> Result<Response, PageError> {
    let who = staff.require(&[Role::SecurityOfficer])?;
    let fields = form.fields;
    let Some(role) = Role::parse(&fields.role).filter(|r| r.is_staff()) else {
        return render_accounts(
            &state,
            &staff,
            vec![Problem {
                field: "role".into(),
                message: staff.o().role.into(),
            }],
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    match state
        .bureau
        .add_staff(fields.username.trim(), role, &fields.password, &who.actor())
        .await
    {
        Ok(enrolment) => enrolment_page(&state, &staff, &enrolment, "/staff/accounts"),
        Err(e) => {
            let (status, message) = refusal(e, staff.lang)?;
            render_accounts(
                &state,
                &staff,
                vec![Problem {
                    field: "username".into(),
                    message,
                }],
                status,
            )
            .await
        }
    }
}

/// A message as listed.
#[derive(Debug)]
pub struct MessageRow {
    channel: String,
    recipient: String,
    subject: String,
    body: String,
    at: String,
    sent: bool,
}

#[derive(Template)]
#[template(path = "staff/outbox.html")]
struct OutboxPage {
    frame: Frame,
    o: &'static Office,
    messages: Vec<MessageRow>,
}

/// `GET /staff/outbox` (security officer, development providers only): what the service
/// would have sent.
pub async fn outbox(
    State(state): State<Arc<AppState>>,
    staff: Staff,
) -> Result<Response, PageError> {
    staff.require(&[Role::SecurityOfficer])?;
    if !state.bureau.config().providers.any_development() {
        return Err(PageError::NotFound(staff.lang));
    }
    let o = staff.o();
    let messages = state
        .store()
        .recent_messages(200)
        .await
        .map_err(|e| PageError::Internal(e.to_string()))?
        .into_iter()
        .map(|m| MessageRow {
            channel: m.channel,
            recipient: m.recipient,
            subject: m.subject,
            body: m.body,
            at: crate::http::web::progress::macao_time(&m.created_at),
            sent: m.delivered_at.is_some(),
        })
        .collect();
    staff.page(&OutboxPage {
        frame: staff.frame(&state, "/staff/outbox", o.outbox),
        o,
        messages,
    })
}

#[derive(Template)]
#[template(path = "staff/credentials.html")]
struct CredentialsPage {
    frame: Frame,
    o: &'static Office,
    code: String,
    secret: String,
    back: String,
}

/// `POST /staff/departments/{code}/credentials` (security officer): new API credentials for
/// the department's systems, the secret shown once.
pub async fn issue_credentials(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Path(code): Path<String>,
    _form: CheckedForm<crate::http::web::desk::NoFields, StaffArea>,
) -> Result<Response, PageError> {
    let who = staff.require(&[Role::SecurityOfficer])?;
    let o = staff.o();
    let secret = state
        .issue_department_credentials(who, &code)
        .await
        .map_err(|e| PageError::from_case(e, staff.lang))?;
    let mut response = staff.page(&CredentialsPage {
        frame: staff.frame(&state, "/staff/departments", o.issue_credentials),
        o,
        code,
        secret,
        back: format!("/staff/departments?lang={}", staff.lang.code()),
    })?;
    *response.status_mut() = StatusCode::CREATED;
    Ok(response)
}

/// The activation form.
#[derive(Debug, serde::Deserialize)]
pub struct ActiveFields {
    #[serde(default)]
    active: String,
}

/// `POST /staff/accounts/{username}/active` (security officer): stops an account at once
/// (its sessions end) or lets it sign in again.
pub async fn set_active(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Path(username): Path<String>,
    form: CheckedForm<ActiveFields, StaffArea>,
) -> Result<Response, PageError> {
    let who = staff.require(&[Role::SecurityOfficer])?;
    let active = form.fields.active == "1";
    match state.set_staff_active(who, &username, active).await {
        Ok(()) => Ok(crate::http::web::see_other(&format!(
            "/staff/accounts?lang={}",
            staff.lang.code()
        ))),
        Err(e) => {
            let (status, message) = refusal(e, staff.lang)?;
            render_accounts(
                &state,
                &staff,
                vec![Problem {
                    field: "username".into(),
                    message,
                }],
                status,
            )
            .await
        }
    }
}

/// The push endpoint form.
#[derive(Debug, serde::Deserialize)]
pub struct EndpointFields {
    #[serde(default)]
    endpoint: String,
    #[serde(default)]
    receipt_key: String,
}

/// `POST /staff/departments/{code}/endpoint` (security officer): where the department
/// receives pushed transfers and the key its receipts are signed with (SPEC §9).
pub async fn set_endpoint(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Path(code): Path<String>,
    form: CheckedForm<EndpointFields, StaffArea>,
) -> Result<Response, PageError> {
    let who = staff.require(&[Role::SecurityOfficer])?;
    match state
        .bureau
        .set_department_endpoint(
            &code,
            form.fields.endpoint.trim(),
            &form.fields.receipt_key,
            &who.actor(),
        )
        .await
    {
        Ok(_) => Ok(crate::http::web::see_other(&format!(
            "/staff/departments?lang={}",
            staff.lang.code()
        ))),
        Err(e) => {
            let (status, message) = refusal(e, staff.lang)?;
            render_departments(
                &state,
                &staff,
                vec![Problem {
                    field: format!("endpoint-{code}"),
                    message,
                }],
                status,
            )
            .await
        }
    }
}

/// `POST /staff/departments/{code}/active` (security officer): a deactivated department's
/// deliveries wait (kept, not sent; the applicant and staff see why) until it is active again.
pub async fn set_department_active(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Path(code): Path<String>,
    form: CheckedForm<ActiveFields, StaffArea>,
) -> Result<Response, PageError> {
    let who = staff.require(&[Role::SecurityOfficer])?;
    state
        .bureau
        .set_department_active(&code, form.fields.active == "1", &who.actor())
        .await
        .map_err(|e| PageError::from_case(e, staff.lang))?;
    Ok(crate::http::web::see_other(&format!(
        "/staff/departments?lang={}",
        staff.lang.code()
    )))
}
