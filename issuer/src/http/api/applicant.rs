//! The applicant's side: the four steps of seed 000 (select, confirm, identify, pay), fee
//! exemptions, answers to requests for information, progress enquiry and downloads; and the
//! payment gateway's callback with the built-in sandbox gateway.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::extract::{Applicants, Authorized, Body, Caller, Path, Query, RawBody, idempotency_key};
use super::{ApiError, AppState, json};
use crate::bureau::applying::{Confirmation, Selection, SupportingDocument};
use crate::identity::auth::Role;
use crate::rules::workflow::{self, Exemption};
use crate::store::applications::{ApplicationRow, CallbackOutcome};

/// How an application is shown to its applicant and to staff.
#[derive(Debug, Serialize)]
pub struct ApplicationView {
    id: String,
    state: String,
    usage: String,
    format: &'static str,
    quantity: i64,
    collection_site: Option<String>,
    express: bool,
    transfer_to: Option<String>,
    holder: Option<serde_json::Value>,
    language: Option<String>,
    mobile: Option<String>,
    consent_given: bool,
    otp_verified: bool,
    face_verified: bool,
    identity_mismatch: Option<String>,
    identity_override: Option<String>,
    fee_avos: i64,
    exemption: Option<String>,
    documents_received_at: Option<String>,
    due_date: Option<String>,
    working_days_left: Option<u32>,
    same_day_collection_from: Option<String>,
    note: Option<String>,
    created_at: String,
    updated_at: String,
    next_step: &'static str,
}

fn next_step(state: &str) -> &'static str {
    match state {
        workflow::SELECTED => "confirm your data (PUT confirmation)",
        workflow::CONFIRMED => "verify your identity (one-time password and face check)",
        workflow::IDENTIFIED => "pay the fee or request an exemption",
        workflow::EXEMPTION_REQUESTED => "wait for the bureau's decision on the exemption",
        workflow::SUBMITTED | workflow::CHECKED => "the bureau is processing the application",
        workflow::INFORMATION_REQUESTED => "send the information the bureau asked for",
        workflow::APPROVED => "the certificate is being issued",
        workflow::ISSUED => "download the certificate, or collect it on paper",
        workflow::COLLECTED | workflow::REJECTED => "nothing: the application is closed",
        _ => "",
    }
}

impl AppState {
    /// The view of an application, with its pledge and same-day collection computed now.
    pub(super) fn view(&self, app: &ApplicationRow) -> ApplicationView {
        let now = OffsetDateTime::now_utc();
        let working_days_left = self.working_days_left(app, now);
        let fee = self.fee_due(app);
        ApplicationView {
            id: app.id.clone(),
            state: app.state.clone(),
            usage: app.usage.clone(),
            format: if app.electronic != 0 {
                "electronic"
            } else {
                "paper"
            },
            quantity: app.quantity,
            collection_site: app.collection_site.clone(),
            express: app.express != 0,
            transfer_to: app.transfer_to.clone(),
            holder: app
                .holder_json
                .as_deref()
                .and_then(|h| serde_json::from_str(h).ok()),
            language: app.language.clone(),
            mobile: app.mobile.clone(),
            consent_given: app.consent_at.is_some(),
            otp_verified: app.otp_verified_at.is_some()
                && workflow::identity_check_holds(
                    app.otp_verified_for.as_deref(),
                    app.holder_json.as_deref(),
                    app.mobile.as_deref(),
                ),
            face_verified: app.face_verified_at.is_some()
                && workflow::identity_check_holds(
                    app.face_verified_for.as_deref(),
                    app.holder_json.as_deref(),
                    app.mobile.as_deref(),
                ),
            identity_mismatch: app.identity_mismatch.as_ref().map(|verified| {
                format!(
                    "the holder's document ({}) is not the one the identity provider verified at sign-in ({verified})",
                    app.doc_key.as_deref().unwrap_or("none")
                )
            }),
            identity_override: app.identity_override.clone(),
            fee_avos: fee,
            exemption: app.exemption_kind.clone(),
            documents_received_at: app.documents_received_at.clone(),
            due_date: app.due_date.clone(),
            working_days_left,
            same_day_collection_from: self.same_day(app).map(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .unwrap_or_default()
            }),
            note: app.note.clone(),
            created_at: app.created_at.clone(),
            updated_at: app.updated_at.clone(),
            next_step: next_step(&app.state),
        }
    }
}

/// Public reference data for the application form.
pub async fn options(State(state): State<Arc<AppState>>) -> Result<Response, ApiError> {
    let config = state.bureau.config();
    let departments: Vec<_> = state
        .store()
        .departments()
        .await?
        .into_iter()
        .filter(|d| d.active)
        .map(|d| serde_json::json!({ "code": d.code, "zh": d.name_zh, "pt": d.name_pt, "en": d.name_en }))
        .collect();
    let exemptions: Vec<_> = Exemption::ALL
        .into_iter()
        .map(|e| serde_json::json!({ "kind": e.code(), "required_documents": e.required_documents() }))
        .collect();
    let coded = |e: &crate::setup::config::CodedEntry| serde_json::json!({ "code": e.code, "zh": e.zh, "pt": e.pt, "en": e.en });
    let body = serde_json::json!({
        "usages": config.usages.iter().map(coded).collect::<Vec<_>>(),
        "collection_sites": config.application.collection_sites.iter().map(coded).collect::<Vec<_>>(),
        "departments": departments,
        "formats": ["electronic", "paper"],
        "languages": ["zh", "pt", "en"],
        "max_quantity": config.application.max_quantity,
        "fees_avos": { "standard": config.application.standard_fee_avos, "express": config.application.express_fee_avos },
        "exemptions": exemptions,
        "pledge_working_days": { "standard": state.calendar.pledge_working_days(false), "express": state.calendar.pledge_working_days(true) },
        "identity_provider": config.providers.identity,
    });
    Ok(json(StatusCode::OK, &body))
}

/// `POST /api/v1/applications`: step 1. A repeated `Idempotency-Key` returns the first
/// application (200) instead of creating another (201).
pub async fn create(
    State(state): State<Arc<AppState>>,
    caller: Authorized<Applicants>,
    headers: HeaderMap,
    Body(body): Body<Selection>,
) -> Result<Response, ApiError> {
    let key = idempotency_key(&headers)?;
    let (app, created) = state
        .select(caller.principal(), &body, key.as_deref())
        .await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(json(status, &state.view(&app)))
}

/// Query of `GET /api/v1/applications`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    #[serde(default)]
    state: Option<String>,
}

/// `GET /api/v1/applications`: an applicant's own applications; for staff, a work queue
/// (`?state=`, default SUBMITTED for clerks and CHECKED for officers).
pub async fn list(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Query(query): Query<ListQuery>,
) -> Result<Response, ApiError> {
    let who = caller.require(&[Role::Applicant, Role::Clerk, Role::Officer])?;
    let rows = if who.role == Role::Applicant {
        state.store().applications_of(&who.id).await?
    } else {
        let default = if who.role == Role::Clerk {
            workflow::SUBMITTED
        } else {
            workflow::CHECKED
        };
        let wanted = query.state.as_deref().unwrap_or(default);
        if !workflow::STATES.contains(&wanted) {
            return Err(ApiError::invalid(format!(
                "state: {wanted:?} is not one of {}",
                workflow::STATES.join(", ")
            )));
        }
        state.store().applications_in(wanted, 200).await?
    };
    let views: Vec<ApplicationView> = rows.iter().map(|a| state.view(a)).collect();
    Ok(json(StatusCode::OK, &views))
}

/// `GET /api/v1/applications/{id}`: progress enquiry.
pub async fn show(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let who = caller.require(&[Role::Applicant, Role::Clerk, Role::Officer])?;
    let app = state.application_for(who, &id).await?;
    Ok(json(StatusCode::OK, &state.view(&app)))
}

/// `PUT /api/v1/applications/{id}/confirmation`: step 2.
pub async fn confirm(
    State(state): State<Arc<AppState>>,
    caller: Authorized<Applicants>,
    Path(id): Path<String>,
    Body(body): Body<Confirmation>,
) -> Result<Response, ApiError> {
    let app = state.confirm(caller.principal(), &id, body).await?;
    Ok(json(StatusCode::OK, &state.view(&app)))
}

/// `POST /api/v1/applications/{id}/otp`: sends a one-time password by SMS.
pub async fn send_otp(
    State(state): State<Arc<AppState>>,
    caller: Authorized<Applicants>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let sent = state.send_otp(caller.principal(), &id).await?;
    Ok(json(
        StatusCode::ACCEPTED,
        &serde_json::json!({ "sent_to": sent.sent_to, "expires_in_seconds": sent.expires_in_seconds }),
    ))
}

/// The code typed by the applicant.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OtpBody {
    code: String,
}

/// `POST /api/v1/applications/{id}/otp/verify`.
pub async fn verify_otp(
    State(state): State<Arc<AppState>>,
    caller: Authorized<Applicants>,
    Path(id): Path<String>,
    Body(body): Body<OtpBody>,
) -> Result<Response, ApiError> {
    let app = state
        .verify_otp(caller.principal(), &id, &body.code)
        .await?;
    Ok(json(StatusCode::OK, &state.view(&app)))
}

/// A live photograph for the face check.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaceBody {
    image_base64: String,
}

fn decode_base64(field: &str, text: &str, max: usize) -> Result<Vec<u8>, ApiError> {
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("{field}: larger than the limit of {max} bytes"),
        )
    };
    if text.len() / 4 * 3 > max + 3 {
        return Err(too_large());
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|_| ApiError::invalid(format!("{field}: not base64")))?;
    if bytes.is_empty() {
        return Err(ApiError::invalid(format!("{field}: empty")));
    }
    if bytes.len() > max {
        return Err(too_large());
    }
    Ok(bytes)
}

/// `POST /api/v1/applications/{id}/face`: the face check.
pub async fn face_check(
    State(state): State<Arc<AppState>>,
    caller: Authorized<Applicants>,
    Path(id): Path<String>,
    Body(body): Body<FaceBody>,
) -> Result<Response, ApiError> {
    let max = state.bureau.config().application.max_document_bytes;
    let image = decode_base64("image_base64", &body.image_base64, max)?;
    let app = state.face_check(caller.principal(), &id, &image).await?;
    Ok(json(StatusCode::OK, &state.view(&app)))
}

/// `POST /api/v1/applications/{id}/payments`: starts a payment of the fee with the gateway.
pub async fn create_payment(
    State(state): State<Arc<AppState>>,
    caller: Authorized<Applicants>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let key = idempotency_key(&headers)?;
    let payment = state
        .start_payment(caller.principal(), &id, key.as_deref())
        .await?;
    Ok(json(
        StatusCode::CREATED,
        &serde_json::json!({
            "payment_id": payment.id,
            "amount_avos": payment.amount_avos,
            "state": payment.state,
            "gateway": state.bureau.config().providers.payment,
            "pay_url": format!("/api/v1/sandbox/payments/{}/complete", payment.id),
        }),
    ))
}

fn outcome_name(outcome: &CallbackOutcome) -> &'static str {
    match outcome {
        CallbackOutcome::Applied => "applied",
        CallbackOutcome::Replayed => "replayed",
        CallbackOutcome::AlreadyPaid => "already_paid",
    }
}

/// `POST /api/v1/payments/callback`: authenticated by the gateway's signature only. A
/// replayed event or an already-paid payment changes nothing.
pub async fn payment_callback(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    RawBody(raw): RawBody,
) -> Result<Response, ApiError> {
    let signature = headers
        .get(crate::providers::SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok());
    let outcome = state.payment_callback(signature, &raw).await?;
    Ok(json(
        StatusCode::OK,
        &serde_json::json!({ "outcome": outcome_name(&outcome) }),
    ))
}

/// `POST /api/v1/sandbox/payments/{id}/complete`: the SANDBOX gateway's "pay" button. It
/// signs a callback exactly as a gateway would, delivers it, and returns it (so that tests
/// can replay it).
pub async fn sandbox_complete(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(payment_id): Path<String>,
) -> Result<Response, ApiError> {
    if state.bureau.config().providers.payment != "sandbox" {
        return Err(ApiError::not_found("the sandbox gateway is not configured"));
    }
    let who = caller.require(&[Role::Applicant])?;
    let paid = state.sandbox_pay(who, &payment_id).await?;
    Ok(json(
        StatusCode::OK,
        &serde_json::json!({
            "outcome": outcome_name(&paid.outcome),
            "callback": { "body": paid.body, "signature": paid.signature },
        }),
    ))
}

/// A supporting document in a request.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentBody {
    kind: String,
    filename: String,
    media_type: String,
    content_base64: String,
}

/// Decodes the documents of a request (the use case checks everything else).
fn decoded(state: &AppState, docs: Vec<DocumentBody>) -> Result<Vec<SupportingDocument>, ApiError> {
    let limits = &state.bureau.config().application;
    if docs.len() > limits.max_documents {
        return Err(ApiError::invalid(format!(
            "documents: {} documents exceed the limit of {}",
            docs.len(),
            limits.max_documents
        )));
    }
    docs.into_iter()
        .enumerate()
        .map(|(i, d)| {
            Ok(SupportingDocument {
                content: decode_base64(
                    &format!("documents[{i}].content_base64"),
                    &d.content_base64,
                    limits.max_document_bytes,
                )?,
                kind: d.kind,
                filename: d.filename,
                media_type: d.media_type,
            })
        })
        .collect()
}

/// A fee exemption request.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExemptionBody {
    kind: String,
    documents: Vec<DocumentBody>,
}

/// `POST /api/v1/applications/{id}/exemption`: asks for a fee exemption with its
/// supporting documents (instead of paying).
pub async fn request_exemption(
    State(state): State<Arc<AppState>>,
    caller: Authorized<Applicants>,
    Path(id): Path<String>,
    Body(body): Body<ExemptionBody>,
) -> Result<Response, ApiError> {
    let documents = decoded(&state, body.documents)?;
    let app = state
        .request_exemption(caller.principal(), &id, &body.kind, documents)
        .await?;
    Ok(json(StatusCode::OK, &state.view(&app)))
}

/// The applicant's answer to a request for information.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InformationBody {
    message: String,
    #[serde(default)]
    documents: Vec<DocumentBody>,
}

/// `POST /api/v1/applications/{id}/information`: answers a request for information; the
/// pledge counts again from the day after.
pub async fn provide_information(
    State(state): State<Arc<AppState>>,
    caller: Authorized<Applicants>,
    Path(id): Path<String>,
    Body(body): Body<InformationBody>,
) -> Result<Response, ApiError> {
    let documents = decoded(&state, body.documents)?;
    let app = state
        .provide_information(caller.principal(), &id, &body.message, documents)
        .await?;
    Ok(json(StatusCode::OK, &state.view(&app)))
}

/// A certificate as listed.
#[derive(Debug, Serialize)]
pub struct CertificateView {
    number: String,
    status: &'static str,
    issued_at: String,
    valid_until: String,
    transfer_to: Option<String>,
    download: String,
}

/// The listing form of a certificate.
pub(super) fn certificate_view(c: &crate::store::jobs::CertificateSummary) -> CertificateView {
    let status = u8::try_from(c.status)
        .ok()
        .and_then(ccr_pki::status_list::Status::from_code)
        .map_or("UNKNOWN", |s| s.name());
    CertificateView {
        number: c.number.clone(),
        status,
        issued_at: c.issued_at.clone(),
        valid_until: c.valid_until.clone(),
        transfer_to: c.transfer_to.clone(),
        download: format!("/api/v1/certificates/{}/pdf", c.number),
    }
}

/// `GET /api/v1/applications/{id}/certificates`.
pub async fn certificates(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let who = caller.require(&[Role::Applicant, Role::Clerk, Role::Officer])?;
    let app = state.application_for(who, &id).await?;
    let list: Vec<CertificateView> = state
        .store()
        .certificates_of(&app.id)
        .await?
        .iter()
        .map(certificate_view)
        .collect();
    Ok(json(StatusCode::OK, &list))
}

/// `GET /api/v1/certificates/{number}/pdf`: the signed PDF, for its applicant (electronic
/// applications), the department it was transferred to, or an officer. Every download is
/// audited.
pub async fn certificate_pdf(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(number): Path<String>,
) -> Result<Response, ApiError> {
    let who = caller.require(&[Role::Applicant, Role::Department, Role::Officer])?;
    let pdf = state.certificate_pdf(who, &number).await?;
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
