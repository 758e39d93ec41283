//! The applicant's side: the four steps of seed 000 (select, confirm, identify, pay), fee
//! exemptions, answers to requests for information, progress enquiry and downloads; and the
//! payment gateway's callback with the built-in sandbox gateway.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use rand::Rng;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::extract::{Applicants, Authorized, Body, Caller, Path, Query, RawBody, idempotency_key};
use super::{ApiError, AppState, json};
use crate::auth::{Principal, Role};
use crate::calendar::SameDayEligibility;
use crate::messages::Event;
use crate::request::{CertificateRequest, HolderRequest, Language, doc_key};
use crate::store::applications::{
    ApplicationRow, CallbackOutcome, NewApplication, NewDocument, OtpCheck, OtpPolicy, SideEffect,
    Transition, Value,
};
use crate::store::stored_instant;
use crate::workflow::{self, Exemption};

/// One-time password rules: 6 digits, 5 minutes, one send per 30 s, 5 per hour, 5 tries.
const OTP_POLICY: OtpPolicy = OtpPolicy {
    ttl: time::Duration::minutes(5),
    resend_after: time::Duration::seconds(30),
    sends_per_hour: 5,
    attempts: 5,
};

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
    /// The fee an application owes (before any exemption).
    fn fee(&self, app: &ApplicationRow) -> i64 {
        let a = &self.bureau.config().application;
        workflow::fee_avos(
            a.standard_fee_avos,
            a.express_fee_avos,
            app.express != 0,
            app.quantity,
        )
        .unwrap_or(i64::MAX)
    }

    /// The view of an application, with its pledge and same-day collection computed now.
    pub(super) fn view(&self, app: &ApplicationRow) -> ApplicationView {
        let now = OffsetDateTime::now_utc();
        let today = now.to_offset(crate::calendar::MACAO).date();
        let due = app.due_date.as_deref().and_then(|d| {
            time::Date::parse(d, time::macros::format_description!("[year]-[month]-[day]")).ok()
        });
        let working_days_left = due.and_then(|due| {
            (!matches!(
                app.state.as_str(),
                workflow::ISSUED | workflow::COLLECTED | workflow::REJECTED
            ))
            .then(|| self.calendar.working_days_between(today, due).ok())
            .flatten()
        });
        let fee = match (&app.fee_avos, &app.exemption_kind) {
            (Some(fee), _) => *fee,
            _ => self.fee(app),
        };
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

    /// When a paper certificate of a submitted application can be collected the same day
    /// (seed 001's rule and timetable), if it qualifies.
    fn same_day(&self, app: &ApplicationRow) -> Option<OffsetDateTime> {
        let site = app.collection_site.as_deref()?;
        let received = crate::store::parse_time(app.documents_received_at.as_deref()?).ok()?;
        let holder: HolderRequest = serde_json::from_str(app.holder_json.as_deref()?).ok()?;
        let date_of_birth = time::Date::parse(
            &holder.date_of_birth,
            time::macros::format_description!("[year]-[month]-[day]"),
        )
        .ok()?;
        let eligibility = SameDayEligibility {
            electronic_application: true,
            document_type: holder.document.kind.clone(),
            date_of_birth,
            first_time_applicant: app.first_time != Some(0),
            transfer_requested: app.transfer_to.is_some(),
            needs_further_identity_verification: app.state == workflow::INFORMATION_REQUESTED,
        };
        self.calendar
            .same_day_collection(&eligibility, received, site)
            .ok()
            .flatten()
    }

    /// The pledge due date for documents received `now`.
    fn due_date(&self, app: &ApplicationRow, now: OffsetDateTime) -> Result<time::Date, ApiError> {
        self.calendar
            .pledge_due(now, app.express != 0)
            .map_err(|e| ApiError::internal(&e))
    }

    /// The step that submits an application (paid or exempted): documents received now,
    /// the pledge due date, and the applicant told both.
    pub(super) fn submission<'a>(
        &self,
        app: &'a ApplicationRow,
        from: &'a [&'a str],
        fee_avos: i64,
        actor: &'a str,
        action: &'a str,
        now: OffsetDateTime,
    ) -> Result<Transition<'a>, ApiError> {
        let due_date = self.due_date(app, now)?;
        let due = due_date.to_string();
        let messages = self.sms(
            app,
            &Event::ApplicationSubmitted {
                reference: &app.id,
                amount_avos: fee_avos,
                due_date,
                express: app.express != 0,
            },
        );
        Ok(Transition {
            application_id: &app.id,
            from,
            to: workflow::SUBMITTED,
            set: vec![
                ("fee_avos", Value::Int(Some(fee_avos))),
                (
                    "documents_received_at",
                    Value::Text(Some(stored_instant(now))),
                ),
                ("due_date", Value::Text(Some(due))),
            ],
            actor,
            action,
            detail: serde_json::json!({ "fee_avos": fee_avos, "due_date": due_date.to_string() }),
            messages,
            effect: SideEffect::None,
            now,
        })
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
    let coded = |e: &crate::config::CodedEntry| serde_json::json!({ "code": e.code, "zh": e.zh, "pt": e.pt, "en": e.en });
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

/// Electronic or paper certificate.
#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// A signed PDF to download.
    Electronic,
    /// A printed certificate to collect.
    Paper,
}

/// Step 1: select data.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewApplicationBody {
    usage: String,
    format: Format,
    quantity: i64,
    #[serde(default)]
    collection_site: Option<String>,
    express: bool,
    #[serde(default)]
    transfer_to: Option<String>,
}

/// `POST /api/v1/applications`: step 1. A repeated `Idempotency-Key` returns the first
/// application (200) instead of creating another (201).
pub async fn create(
    State(state): State<Arc<AppState>>,
    caller: Authorized<Applicants>,
    headers: HeaderMap,
    Body(body): Body<NewApplicationBody>,
) -> Result<Response, ApiError> {
    let applicant = caller.principal();
    let key = idempotency_key(&headers)?;
    let config = state.bureau.config();
    if config.usage(&body.usage).is_none() {
        let known: Vec<&str> = config.usages.iter().map(|u| u.code.as_str()).collect();
        return Err(ApiError::invalid(format!(
            "usage: {:?} is not a known usage ({})",
            body.usage,
            known.join(", ")
        )));
    }
    let max = config.application.max_quantity;
    if !(1..=max).contains(&body.quantity) {
        return Err(ApiError::invalid(format!(
            "quantity: {} is not between 1 and {max}",
            body.quantity
        )));
    }
    match (body.format, body.collection_site.as_deref()) {
        (Format::Paper, None) => {
            return Err(ApiError::invalid(
                "collection_site: a paper certificate needs a collection site",
            ));
        }
        (Format::Paper, Some(site)) if config.collection_site(site).is_none() => {
            let known: Vec<&str> = config
                .application
                .collection_sites
                .iter()
                .map(|s| s.code.as_str())
                .collect();
            return Err(ApiError::invalid(format!(
                "collection_site: {site:?} is not a collection site ({})",
                known.join(", ")
            )));
        }
        (Format::Electronic, Some(_)) => {
            return Err(ApiError::invalid(
                "collection_site: an electronic certificate is downloaded, not collected",
            ));
        }
        _ => {}
    }
    if let Some(code) = body.transfer_to.as_deref() {
        let registered = state.store().department(code).await?;
        if !registered.is_some_and(|d| d.active) {
            return Err(ApiError::invalid(format!(
                "transfer_to: {code:?} is not a registered department"
            )));
        }
    }
    let (app, created) = state
        .store()
        .create_application(
            &NewApplication {
                applicant_id: &applicant.id,
                usage: &body.usage,
                electronic: body.format == Format::Electronic,
                quantity: body.quantity,
                collection_site: body.collection_site.as_deref(),
                express: body.express,
                transfer_to: body.transfer_to.as_deref(),
                idempotency_key: key.as_deref(),
            },
            OffsetDateTime::now_utc(),
        )
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

/// The applicant's own application, or 404.
async fn own(
    state: &AppState,
    caller: &Authorized<Applicants>,
    id: &str,
) -> Result<(Principal, ApplicationRow), ApiError> {
    let who = caller.principal().clone();
    let app = state.application_for(&who, id).await?;
    Ok((who, app))
}

/// Step 2: confirm data.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfirmationBody {
    holder: HolderRequest,
    language: Language,
    mobile: String,
    consent_police_data: bool,
}

/// A mobile number in E.164 form; eight digits starting with 6 are a Macao number.
fn normalise_mobile(text: &str) -> Result<String, ApiError> {
    let compact: String = text.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    let digits = compact.strip_prefix('+').unwrap_or(&compact);
    let ok = digits.bytes().all(|b| b.is_ascii_digit());
    if ok && !compact.starts_with('+') && digits.len() == 8 && digits.starts_with('6') {
        return Ok(format!("+853{digits}"));
    }
    if ok && compact.starts_with('+') && (8..=15).contains(&digits.len()) {
        return Ok(compact);
    }
    Err(ApiError::invalid(format!(
        "mobile: {text:?} is not a mobile number (+853 6xxxxxxx or +<country><number>)"
    )))
}

/// `PUT /api/v1/applications/{id}/confirmation`: step 2. Validated like a certificate
/// request (names, date of birth, document, printable characters); non-resident workers
/// (TI) must have applied before.
pub async fn confirm(
    State(state): State<Arc<AppState>>,
    caller: Authorized<Applicants>,
    Path(id): Path<String>,
    Body(body): Body<ConfirmationBody>,
) -> Result<Response, ApiError> {
    let (who, app) = own(&state, &caller, &id).await?;
    if !body.consent_police_data {
        return Err(ApiError::invalid(
            "consent_police_data: the bureau needs your consent to obtain your data from the Public Security Police Force",
        ));
    }
    let mobile = normalise_mobile(&body.mobile)?;
    let now = OffsetDateTime::now_utc();
    let departments = state.bureau.active_departments().await?;
    let request = CertificateRequest {
        holder: body.holder,
        usage: app.usage.clone(),
        language: body.language,
        express: app.express != 0,
        records: Vec::new(),
        transfer_to: app.transfer_to.clone(),
    };
    let valid = request
        .validate(state.bureau.config(), &departments, now)
        .map_err(|e| ApiError::invalid(e.to_string()))?;
    state.bureau.check_printable(&valid, now)?;
    let key = doc_key(&valid.holder.document);
    let earlier = state.store().has_certificate_for(&key).await?;
    if valid.holder.document.kind == ccr_pki::document::DocumentType::Ti && !earlier {
        return Err(ApiError::invalid(
            "holder.document: online applications by non-resident workers (TI) are open only to those who applied before; please apply at a counter",
        ));
    }
    let holder = HolderRequest {
        name_latin: valid.holder.name_latin.clone(),
        name_chinese: valid.holder.name_chinese.clone(),
        date_of_birth: valid.holder.date_of_birth.to_string(),
        document: crate::request::DocumentRequest {
            kind: valid.holder.document.kind.code().into(),
            number: valid.holder.document.number.clone(),
        },
    };
    let holder_json = serde_json::to_string(&holder).map_err(|e| ApiError::internal(&e))?;
    // The identity checks proved the holder and mobile confirmed before; anything else clears
    // them (the one-time password is also bound to the number it was sent to).
    let unchanged = app.holder_json.as_deref() == Some(holder_json.as_str())
        && app.mobile.as_deref() == Some(mobile.as_str());
    let mut set = vec![
        ("holder_json", Value::Text(Some(holder_json))),
        ("doc_key", Value::Text(Some(key.clone()))),
        ("first_time", Value::Int(Some(i64::from(!earlier)))),
        ("language", Value::Text(Some(body.language.code().into()))),
        ("mobile", Value::Text(Some(mobile))),
        ("consent_at", Value::Text(Some(stored_instant(now)))),
    ];
    if !unchanged {
        for column in [
            "otp_verified_at",
            "otp_verified_for",
            "face_verified_at",
            "face_verified_for",
        ] {
            set.push((column, Value::Text(None)));
        }
    }
    let verified = state
        .store()
        .applicant_verified_document(&app.applicant_id)
        .await?;
    let mismatch = verified.filter(|v| *v != key);
    set.push(("identity_mismatch", Value::Text(mismatch.clone())));
    let actor = who.actor();
    state
        .store()
        .transition(&Transition {
            application_id: &app.id,
            from: &[workflow::SELECTED, workflow::CONFIRMED],
            to: workflow::CONFIRMED,
            set,
            actor: &actor,
            action: "application.confirmed",
            detail: serde_json::json!({
                "language": body.language.code(),
                "consent_police_data": true,
                "identity_checks_cleared": !unchanged && (app.otp_verified_at.is_some() || app.face_verified_at.is_some()),
                "identity_mismatch": mismatch.is_some(),
            }),
            messages: Vec::new(),
            effect: SideEffect::None,
            now,
        })
        .await?;
    state.current(&id).await
}

/// The stored form of a one-time password: bound to the application and to the number it was
/// sent to, so a code sent before the mobile number changed proves nothing about the new one.
fn otp_hash(application_id: &str, mobile: &str, code: &str) -> String {
    crate::store::sha256_hex(format!("{application_id}:{mobile}:{code}").as_bytes())
}

/// `POST /api/v1/applications/{id}/otp`: sends a one-time password by SMS.
pub async fn send_otp(
    State(state): State<Arc<AppState>>,
    caller: Authorized<Applicants>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (_, app) = own(&state, &caller, &id).await?;
    if app.state != workflow::CONFIRMED || app.otp_verified_at.is_some() {
        return Err(ApiError::conflict(format!(
            "application {id} is {}; a one-time password is sent only after step 2 and before it is verified",
            app.state
        )));
    }
    let code = format!("{:06}", rand::rng().random_range(0..1_000_000u32));
    let now = OffsetDateTime::now_utc();
    state
        .store()
        .put_otp(
            &app.id,
            &otp_hash(&app.id, app.mobile.as_deref().unwrap_or_default(), &code),
            OTP_POLICY,
            now,
        )
        .await?;
    let minutes = u32::try_from(OTP_POLICY.ttl.whole_minutes()).unwrap_or(5);
    for message in state.sms(
        &app,
        &Event::OtpCode {
            code: &code,
            minutes_valid: minutes,
        },
    ) {
        state.store().enqueue(&message, now).await?;
    }
    let mobile = app.mobile.unwrap_or_default();
    let masked: String = mobile
        .chars()
        .enumerate()
        .map(|(i, c)| {
            if i + 4 < mobile.len() && i > 3 {
                '•'
            } else {
                c
            }
        })
        .collect();
    Ok(json(
        StatusCode::ACCEPTED,
        &serde_json::json!({ "sent_to": masked, "expires_in_seconds": OTP_POLICY.ttl.whole_seconds() }),
    ))
}

/// The code typed by the applicant.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OtpBody {
    code: String,
}

/// Marks one identity check passed for the holder and mobile it proved (`app` as read when
/// the check began); the application becomes IDENTIFIED when both checks hold for the same.
async fn identity_passed(
    state: &AppState,
    who: &Principal,
    app: &ApplicationRow,
    check: &'static str,
    action: &str,
) -> Result<Response, ApiError> {
    let now = OffsetDateTime::now_utc();
    let actor = who.actor();
    let (Some(holder_json), Some(mobile)) = (app.holder_json.as_deref(), app.mobile.as_deref())
    else {
        return Err(ApiError::conflict("confirm your data (step 2) first"));
    };
    let fingerprint = workflow::identity_fingerprint(holder_json, mobile);
    let (at, proved) = match check {
        "otp" => ("otp_verified_at", "otp_verified_for"),
        _ => ("face_verified_at", "face_verified_for"),
    };
    state
        .store()
        .transition(&Transition {
            application_id: &app.id,
            from: &[workflow::CONFIRMED],
            to: workflow::CONFIRMED,
            set: vec![
                (at, Value::Text(Some(stored_instant(now)))),
                (proved, Value::Text(Some(fingerprint.clone()))),
            ],
            actor: &actor,
            action,
            detail: serde_json::json!({ "outcome": "passed" }),
            messages: Vec::new(),
            effect: SideEffect::None,
            now,
        })
        .await?;
    state
        .store()
        .mark_identified(&app.id, holder_json, mobile, &fingerprint, &actor, now)
        .await?;
    state.current(&app.id).await
}

/// `POST /api/v1/applications/{id}/otp/verify`.
pub async fn verify_otp(
    State(state): State<Arc<AppState>>,
    caller: Authorized<Applicants>,
    Path(id): Path<String>,
    Body(body): Body<OtpBody>,
) -> Result<Response, ApiError> {
    let (who, app) = own(&state, &caller, &id).await?;
    if body.code.len() != 6 || !body.code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::invalid(
            "code: the one-time password has 6 digits",
        ));
    }
    if app.state != workflow::CONFIRMED {
        return Err(ApiError::conflict(format!(
            "application {id} is {}; nothing to verify",
            app.state
        )));
    }
    let now = OffsetDateTime::now_utc();
    match state
        .store()
        .check_otp(
            &app.id,
            &otp_hash(
                &app.id,
                app.mobile.as_deref().unwrap_or_default(),
                &body.code,
            ),
            OTP_POLICY.attempts,
            now,
        )
        .await?
    {
        OtpCheck::Passed => identity_passed(&state, &who, &app, "otp", "identity.otp_passed").await,
        OtpCheck::Wrong(left) => Err(ApiError::invalid(format!(
            "code: wrong one-time password ({left} attempts left)"
        ))),
        OtpCheck::Locked => Err(ApiError::limited(
            "too many wrong attempts: ask for a new one-time password",
        )),
        OtpCheck::NoChallenge => Err(ApiError::conflict(
            "no one-time password is pending (never sent, expired or used): ask for a new one",
        )),
    }
}

/// A live photograph for the face check.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaceBody {
    image_base64: String,
}

fn decode_base64(field: &str, text: &str, max: usize) -> Result<Vec<u8>, ApiError> {
    if text.len() / 4 * 3 > max + 3 {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("{field}: larger than the limit of {max} bytes"),
        ));
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|_| ApiError::invalid(format!("{field}: not base64")))?;
    if bytes.is_empty() {
        return Err(ApiError::invalid(format!("{field}: empty")));
    }
    if bytes.len() > max {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("{field}: larger than the limit of {max} bytes"),
        ));
    }
    Ok(bytes)
}

/// `POST /api/v1/applications/{id}/face`: the face check. The image is compared and then
/// discarded: no biometric data is kept.
pub async fn face_check(
    State(state): State<Arc<AppState>>,
    caller: Authorized<Applicants>,
    Path(id): Path<String>,
    Body(body): Body<FaceBody>,
) -> Result<Response, ApiError> {
    let (who, app) = own(&state, &caller, &id).await?;
    if app.state != workflow::CONFIRMED {
        return Err(ApiError::conflict(format!(
            "application {id} is {}; the face check belongs to step 3",
            app.state
        )));
    }
    let max = state.bureau.config().application.max_document_bytes;
    let image = decode_base64("image_base64", &body.image_base64, max)?;
    // The face is compared with the holder's identity document on record, not with whoever
    // signed in.
    let holder: HolderRequest = app
        .holder_json
        .as_deref()
        .and_then(|h| serde_json::from_str(h).ok())
        .ok_or_else(|| ApiError::conflict("confirm your data (step 2) first"))?;
    let document = holder
        .document
        .parse("holder.document")
        .map_err(|e| ApiError::internal(&e))?;
    match state
        .face
        .check(&document, &image)
        .map_err(|e| ApiError::internal(&e))?
    {
        crate::providers::FaceOutcome::Match => {
            identity_passed(&state, &who, &app, "face", "identity.face_passed").await
        }
        crate::providers::FaceOutcome::NoMatch(why) => Err(ApiError::invalid(format!(
            "image_base64: the face check failed ({why}); try again or apply at a counter"
        ))),
    }
}

/// `POST /api/v1/applications/{id}/payments`: starts a payment of the fee with the gateway.
pub async fn create_payment(
    State(state): State<Arc<AppState>>,
    caller: Authorized<Applicants>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (_, app) = own(&state, &caller, &id).await?;
    let key = idempotency_key(&headers)?;
    if app.state != workflow::IDENTIFIED {
        return Err(ApiError::conflict(format!(
            "application {id} is {}; payment is step 4, after identity verification",
            app.state
        )));
    }
    let amount = state.fee(&app);
    let payment = state
        .store()
        .create_payment(&app.id, amount, key.as_deref(), OffsetDateTime::now_utc())
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

/// The gateway's callback body.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CallbackBody {
    event_id: String,
    payment_id: String,
    amount_avos: i64,
    gateway_ref: String,
    status: String,
}

/// Applies a signed callback; shared by the callback endpoint and the sandbox.
async fn process_callback(
    state: &AppState,
    signature: Option<&str>,
    raw: &[u8],
) -> Result<CallbackOutcome, ApiError> {
    let now = OffsetDateTime::now_utc();
    let tolerance = state
        .bureau
        .config()
        .providers
        .payment_callback_tolerance_seconds;
    state
        .gateway
        .verify(signature, raw, now.unix_timestamp(), tolerance)
        .map_err(|e| ApiError::unauthenticated(e.to_string()))?;
    let body: CallbackBody = serde_json::from_slice(raw)
        .map_err(|e| ApiError::invalid(format!("callback body: {e}")))?;
    if body.status != "PAID" {
        return Err(ApiError::invalid(format!(
            "status: {:?} is not a payment confirmation",
            body.status
        )));
    }
    if body.event_id.is_empty() || body.event_id.len() > 100 || body.gateway_ref.len() > 100 {
        return Err(ApiError::invalid(
            "event_id and gateway_ref: 1 to 100 characters",
        ));
    }
    let payment = state
        .store()
        .payment(&body.payment_id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no payment {}", body.payment_id)))?;
    if payment.amount_avos != body.amount_avos {
        return Err(ApiError::invalid(format!(
            "amount_avos: {} does not match the payment's {}",
            body.amount_avos, payment.amount_avos
        )));
    }
    let app = state
        .store()
        .application(&payment.application_id)
        .await?
        .ok_or_else(|| ApiError::internal(&"payment without application"))?;
    let detail = serde_json::json!({ "payment_id": payment.id, "amount_avos": payment.amount_avos, "gateway_ref": body.gateway_ref });
    let mut step = state.submission(
        &app,
        &[workflow::IDENTIFIED],
        payment.amount_avos,
        "gateway:payment",
        "application.paid",
        now,
    )?;
    step.detail = detail;
    Ok(state
        .store()
        .apply_payment(&body.event_id, &payment, &body.gateway_ref, &step)
        .await?)
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
    let outcome = process_callback(&state, signature, &raw).await?;
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
    let payment = state
        .store()
        .payment(&payment_id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no payment {payment_id}")))?;
    // Someone else's payment is as unknown as a wrong reference: the answer names neither
    // the owner's application nor anything else of theirs.
    let no_payment = || ApiError::not_found(format!("no payment {payment_id}"));
    match state.application_for(who, &payment.application_id).await {
        Err(e) if e.status() == StatusCode::NOT_FOUND => return Err(no_payment()),
        other => other?,
    };
    let body = CallbackBody {
        event_id: crate::store::random_id("EVT"),
        payment_id: payment.id.clone(),
        amount_avos: payment.amount_avos,
        gateway_ref: crate::store::random_id("SANDBOX"),
        status: "PAID".into(),
    };
    let raw = serde_json::to_vec(&body).map_err(|e| ApiError::internal(&e))?;
    let signature = state
        .gateway
        .sign(OffsetDateTime::now_utc().unix_timestamp(), &raw);
    let outcome = process_callback(&state, Some(&signature), &raw).await?;
    Ok(json(
        StatusCode::OK,
        &serde_json::json!({
            "outcome": outcome_name(&outcome),
            "callback": { "body": String::from_utf8_lossy(&raw), "signature": signature },
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

/// The kind of an answer's document that is none of the exemption documents.
const OTHER_DOCUMENT: &str = "OTHER";

/// Checks supporting documents (count, kind among `kinds`, file name, size, and content
/// against its declared type: `crate::documents`) before anything is stored.
fn documents(
    state: &AppState,
    purpose: &'static str,
    kinds: &[&str],
    docs: Vec<DocumentBody>,
) -> Result<Vec<NewDocument>, ApiError> {
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
            if !kinds.contains(&d.kind.as_str()) {
                return Err(ApiError::invalid(format!(
                    "documents[{i}].kind: {:?} is not one of {}",
                    d.kind,
                    kinds.join(", ")
                )));
            }
            crate::documents::check_filename(&d.filename)
                .map_err(|why| ApiError::invalid(format!("documents[{i}].filename: {why}")))?;
            crate::documents::check_media_type(&d.media_type)
                .map_err(|why| ApiError::invalid(format!("documents[{i}].media_type: {why}")))?;
            let content = decode_base64(
                &format!("documents[{i}].content_base64"),
                &d.content_base64,
                limits.max_document_bytes,
            )?;
            crate::documents::check_content(&d.media_type, &content).map_err(|why| {
                ApiError::invalid(format!("documents[{i}].content_base64: {why}"))
            })?;
            Ok(NewDocument {
                purpose,
                kind: d.kind,
                filename: d.filename,
                media_type: d.media_type,
                content,
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
    let (who, app) = own(&state, &caller, &id).await?;
    let kind = Exemption::parse(&body.kind).ok_or_else(|| {
        ApiError::invalid(format!(
            "kind: {:?} is not one of UNEMPLOYMENT, POVERTY, DISABILITY",
            body.kind
        ))
    })?;
    let docs = documents(
        &state,
        "exemption",
        kind.required_documents(),
        body.documents,
    )?;
    let missing: Vec<&str> = kind
        .required_documents()
        .iter()
        .copied()
        .filter(|k| !docs.iter().any(|d| d.kind == *k))
        .collect();
    if !missing.is_empty() {
        return Err(ApiError::invalid(format!(
            "documents: a {} exemption also needs {}",
            kind.code(),
            missing.join(", ")
        )));
    }
    let now = OffsetDateTime::now_utc();
    let actor = who.actor();
    let kinds: Vec<&str> = docs.iter().map(|d| d.kind.as_str()).collect();
    let detail = serde_json::json!({ "kind": kind.code(), "documents": kinds });
    state
        .store()
        .transition(&Transition {
            application_id: &app.id,
            from: &[workflow::IDENTIFIED],
            to: workflow::EXEMPTION_REQUESTED,
            set: vec![("exemption_kind", Value::Text(Some(kind.code().into())))],
            actor: &actor,
            action: "application.exemption_requested",
            detail,
            messages: Vec::new(),
            effect: SideEffect::Documents(docs),
            now,
        })
        .await?;
    state.current(&id).await
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
    let (who, app) = own(&state, &caller, &id).await?;
    let message = body.message.trim();
    if message.is_empty() || message.chars().count() > 2_000 {
        return Err(ApiError::invalid("message: 1 to 2000 characters"));
    }
    let mut kinds = Exemption::document_codes();
    kinds.push(OTHER_DOCUMENT);
    let docs = documents(&state, "information", &kinds, body.documents)?;
    let now = OffsetDateTime::now_utc();
    let actor = who.actor();
    let due = state.due_date(&app, now)?.to_string();
    state
        .store()
        .transition(&Transition {
            application_id: &app.id,
            from: &[workflow::INFORMATION_REQUESTED],
            to: workflow::SUBMITTED,
            set: vec![
                (
                    "documents_received_at",
                    Value::Text(Some(stored_instant(now))),
                ),
                ("due_date", Value::Text(Some(due))),
                ("note", Value::Text(Some(format!("applicant: {message}")))),
            ],
            actor: &actor,
            action: "application.information_provided",
            detail: serde_json::json!({ "documents": docs.len() }),
            messages: Vec::new(),
            effect: SideEffect::Documents(docs),
            now,
        })
        .await?;
    state.current(&id).await
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
    let found = state.store().certificate(&number).await?;
    let allowed = match (&found, who.role) {
        (Some(_), Role::Officer) => true,
        (Some((summary, owner)), Role::Applicant) => {
            let own = owner.applicant_id.as_deref() == Some(who.id.as_str());
            let electronic = match &summary.application_id {
                Some(id) => state
                    .store()
                    .application(id)
                    .await?
                    .is_some_and(|a| a.electronic != 0),
                None => false,
            };
            own && electronic
        }
        (Some((_, owner)), Role::Department) => {
            owner.transfer_to.as_deref() == Some(who.id.as_str())
        }
        _ => false,
    };
    if !allowed {
        return Err(ApiError::not_found(format!(
            "no certificate {number} for you"
        )));
    }
    let pdf = state
        .store()
        .certificate_pdf(&number, &who.actor(), OffsetDateTime::now_utc())
        .await?;
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
