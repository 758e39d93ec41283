//! The applicant's use cases: the four steps of seed 000 (select, confirm, identify, pay),
//! fee exemptions, answers to requests for information, the payment gateway's callback and
//! the applicant's downloads. The JSON API and the pages both call these.

use rand::Rng;
use serde::Deserialize;
use time::OffsetDateTime;

use super::{CaseError, Services};
use crate::identity::auth::{Principal, Role};
use crate::notify::messages::Event;
use crate::rules::request::{CertificateRequest, HolderRequest, Language, doc_key};
use crate::rules::workflow::{self, Exemption};
use crate::store::applications::{
    ApplicationRow, CallbackOutcome, NewApplication, NewDocument, OtpCheck, OtpPolicy, PaymentRow,
    SideEffect, Transition, Value,
};
use crate::store::stored_instant;

/// How an application's note marks the applicant's answer to a request for information
/// (the note is otherwise the bureau's message); pages show it under its own label.
pub const APPLICANT_ANSWER_PREFIX: &str = "applicant: ";

/// One-time password rules: 6 digits, 5 minutes, one send per 30 s, 5 per hour, 5 tries.
pub const OTP_POLICY: OtpPolicy = OtpPolicy {
    ttl: time::Duration::minutes(5),
    resend_after: time::Duration::seconds(30),
    sends_per_hour: 5,
    attempts: 5,
};

/// Electronic or paper certificate.
#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// A signed PDF to download.
    Electronic,
    /// A printed certificate to collect.
    Paper,
}

/// Step 1: what the applicant asks for.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct Selection {
    /// The usage's code.
    pub usage: String,
    /// Electronic or paper.
    pub format: Format,
    /// How many certificates.
    pub quantity: i64,
    /// For paper: where to collect it.
    #[serde(default)]
    pub collection_site: Option<String>,
    /// Express handling.
    pub express: bool,
    /// A department to transfer a copy to.
    #[serde(default)]
    pub transfer_to: Option<String>,
}

/// Step 2: the holder's data as confirmed by the applicant.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct Confirmation {
    /// The holder.
    pub holder: HolderRequest,
    /// The language of notifications.
    pub language: Language,
    /// The mobile number the one-time password goes to.
    pub mobile: String,
    /// Consent to obtain the data from the Public Security Police Force.
    pub consent_police_data: bool,
}

/// A supporting document as received (already decoded from its transport).
#[derive(Debug, Clone)]
pub struct SupportingDocument {
    /// The document kind's code (`EXEMPTION_FORM`…).
    pub kind: String,
    /// The file name as sent.
    pub filename: String,
    /// The declared media type.
    pub media_type: String,
    /// The content.
    pub content: Vec<u8>,
}

/// Where a one-time password went.
#[derive(Debug, Clone)]
pub struct OtpSent {
    /// The mobile number, masked (`+853••••5678`).
    pub sent_to: String,
    /// How long the code is valid.
    pub expires_in_seconds: i64,
}

/// A sandbox payment made: the outcome and the callback it delivered.
#[derive(Debug, Clone)]
pub struct SandboxPayment {
    /// What the callback did.
    pub outcome: CallbackOutcome,
    /// The callback's body.
    pub body: String,
    /// Its signature.
    pub signature: String,
}

/// The payment gateway's callback body.
#[derive(Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
struct CallbackBody {
    event_id: String,
    payment_id: String,
    amount_avos: i64,
    gateway_ref: String,
    status: String,
}

/// The kind of an answer's document that is none of the exemption documents.
const OTHER_DOCUMENT: &str = "OTHER";

/// A mobile number in E.164 form; eight digits starting with 6 are a Macao number. Spaces
/// and hyphens are ignored.
pub fn normalise_mobile(text: &str) -> Result<String, CaseError> {
    let compact: String = text.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    let digits = compact.strip_prefix('+').unwrap_or(&compact);
    let ok = digits.bytes().all(|b| b.is_ascii_digit());
    if ok && !compact.starts_with('+') && digits.len() == 8 && digits.starts_with('6') {
        return Ok(format!("+853{digits}"));
    }
    if ok && compact.starts_with('+') && (8..=15).contains(&digits.len()) {
        return Ok(compact);
    }
    Err(CaseError::invalid(
        "mobile",
        format!(
            "{:?} is not a mobile number (+853 6xxxxxxx or +<country><number>)",
            text
        ),
    ))
}

/// The stored form of a one-time password: bound to the application and to the number it was
/// sent to, so a code sent before the mobile number changed proves nothing about the new one.
fn otp_hash(application_id: &str, mobile: &str, code: &str) -> String {
    crate::store::sha256_hex(format!("{application_id}:{mobile}:{code}").as_bytes())
}

/// `+853••••5678`: enough for the applicant to recognise the number.
pub fn masked(mobile: &str) -> String {
    mobile
        .chars()
        .enumerate()
        .map(|(i, c)| {
            if i + 4 < mobile.len() && i > 3 {
                '•'
            } else {
                c
            }
        })
        .collect()
}

impl Services {
    /// The applicant's own application, or "not found".
    async fn own(&self, who: &Principal, id: &str) -> Result<ApplicationRow, CaseError> {
        if who.role != Role::Applicant {
            return Err(CaseError::NotFound(format!("no application {id}")));
        }
        self.application_for(who, id).await
    }

    /// Step 1: a new application (`Ok((row, true))`), or the one already made with the same
    /// idempotency key (`Ok((row, false))`).
    pub async fn select(
        &self,
        who: &Principal,
        selection: &Selection,
        idempotency_key: Option<&str>,
    ) -> Result<(ApplicationRow, bool), CaseError> {
        let config = self.bureau.config();
        if config.usage(&selection.usage).is_none() {
            let known: Vec<&str> = config.usages.iter().map(|u| u.code.as_str()).collect();
            return Err(CaseError::invalid(
                "usage",
                format!(
                    "{:?} is not a known usage ({})",
                    selection.usage,
                    known.join(", ")
                ),
            ));
        }
        let max = config.application.max_quantity;
        if !(1..=max).contains(&selection.quantity) {
            return Err(CaseError::invalid(
                "quantity",
                format!("{} is not between 1 and {max}", selection.quantity),
            ));
        }
        match (selection.format, selection.collection_site.as_deref()) {
            (Format::Paper, None) => {
                return Err(CaseError::invalid(
                    "collection_site",
                    "a paper certificate needs a collection site",
                ));
            }
            (Format::Paper, Some(site)) if config.collection_site(site).is_none() => {
                let known: Vec<&str> = config
                    .application
                    .collection_sites
                    .iter()
                    .map(|s| s.code.as_str())
                    .collect();
                return Err(CaseError::invalid(
                    "collection_site",
                    format!("{site:?} is not a collection site ({})", known.join(", ")),
                ));
            }
            (Format::Electronic, Some(_)) => {
                return Err(CaseError::invalid(
                    "collection_site",
                    "an electronic certificate is downloaded, not collected",
                ));
            }
            _ => {}
        }
        if let Some(code) = selection.transfer_to.as_deref() {
            let registered = self.store().department(code).await?;
            if !registered.is_some_and(|d| d.active) {
                return Err(CaseError::invalid(
                    "transfer_to",
                    format!("{code:?} is not a registered department"),
                ));
            }
        }
        Ok(self
            .store()
            .create_application(
                &NewApplication {
                    applicant_id: &who.id,
                    usage: &selection.usage,
                    electronic: selection.format == Format::Electronic,
                    quantity: selection.quantity,
                    collection_site: selection.collection_site.as_deref(),
                    express: selection.express,
                    transfer_to: selection.transfer_to.as_deref(),
                    idempotency_key,
                },
                OffsetDateTime::now_utc(),
            )
            .await?)
    }

    /// Step 2: the holder's data, validated like a certificate request (names, date of birth,
    /// document, printable characters). Non-resident workers (TI) must have applied before.
    /// A changed holder or mobile number clears the identity checks that proved the old ones;
    /// a change from "check your answers" (IDENTIFIED) therefore goes back to step 3, while the
    /// same details confirmed again stay IDENTIFIED.
    pub async fn confirm(
        &self,
        who: &Principal,
        id: &str,
        confirmation: Confirmation,
    ) -> Result<ApplicationRow, CaseError> {
        let app = self.own(who, id).await?;
        if !confirmation.consent_police_data {
            return Err(CaseError::invalid(
                "consent_police_data",
                "the bureau needs your consent to obtain your data from the Public Security Police Force",
            ));
        }
        let mobile = normalise_mobile(&confirmation.mobile)?;
        let now = OffsetDateTime::now_utc();
        let departments = self.bureau.active_departments().await?;
        let request = CertificateRequest {
            holder: confirmation.holder,
            usage: app.usage.clone(),
            language: confirmation.language,
            express: app.express != 0,
            records: Vec::new(),
            transfer_to: app.transfer_to.clone(),
        };
        let valid = request.validate(self.bureau.config(), &departments, now)?;
        self.bureau.check_printable(&valid, now)?;
        let key = doc_key(&valid.holder.document);
        let earlier = self.store().has_certificate_for(&key).await?;
        if valid.holder.document.kind == ccr_pki::document::DocumentType::Ti && !earlier {
            return Err(CaseError::CounterOnly {
                field: "holder.document",
                message: "online applications by non-resident workers (TI) are open only to those who applied before; please apply at a counter".into(),
            });
        }
        let holder = HolderRequest {
            name_latin: valid.holder.name_latin.clone(),
            name_chinese: valid.holder.name_chinese.clone(),
            date_of_birth: valid.holder.date_of_birth.to_string(),
            document: crate::rules::request::DocumentRequest {
                kind: valid.holder.document.kind.code().into(),
                number: valid.holder.document.number.clone(),
            },
        };
        let holder_json = serde_json::to_string(&holder).map_err(|e| CaseError::internal(&e))?;
        // The identity checks proved the holder and mobile confirmed before; anything else
        // clears them (the one-time password is also bound to the number it was sent to).
        let unchanged = app.holder_json.as_deref() == Some(holder_json.as_str())
            && app.mobile.as_deref() == Some(mobile.as_str());
        let mut set = vec![
            ("holder_json", Value::Text(Some(holder_json))),
            ("doc_key", Value::Text(Some(key.clone()))),
            ("first_time", Value::Int(Some(i64::from(!earlier)))),
            (
                "language",
                Value::Text(Some(confirmation.language.code().into())),
            ),
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
        let verified = self
            .store()
            .applicant_verified_document(&app.applicant_id)
            .await?;
        let mismatch = verified.filter(|v| *v != key);
        set.push(("identity_mismatch", Value::Text(mismatch.clone())));
        let actor = who.actor();
        let to = if unchanged && app.state == workflow::IDENTIFIED {
            workflow::IDENTIFIED
        } else {
            workflow::CONFIRMED
        };
        self.store()
            .transition(&Transition {
                application_id: &app.id,
                from: &[workflow::SELECTED, workflow::CONFIRMED, workflow::IDENTIFIED],
                to,
                set,
                actor: &actor,
                action: "application.confirmed",
                detail: serde_json::json!({
                    "language": confirmation.language.code(),
                    "consent_police_data": true,
                    "identity_checks_cleared": !unchanged && (app.otp_verified_at.is_some() || app.face_verified_at.is_some()),
                    "identity_mismatch": mismatch.is_some(),
                }),
                messages: Vec::new(),
                effect: SideEffect::None,
                now,
            })
            .await?;
        self.application_now(id).await
    }

    /// Step 3: sends a one-time password by SMS to the confirmed mobile number.
    pub async fn send_otp(&self, who: &Principal, id: &str) -> Result<OtpSent, CaseError> {
        let app = self.own(who, id).await?;
        if app.state != workflow::CONFIRMED || app.otp_verified_at.is_some() {
            return Err(CaseError::Conflict(format!(
                "application {id} is {}; a one-time password is sent only after step 2 and before it is verified",
                app.state
            )));
        }
        let code = format!("{:06}", rand::rng().random_range(0..1_000_000u32));
        let now = OffsetDateTime::now_utc();
        let mobile = app.mobile.clone().unwrap_or_default();
        self.store()
            .put_otp(&app.id, &otp_hash(&app.id, &mobile, &code), OTP_POLICY, now)
            .await?;
        let minutes = u32::try_from(OTP_POLICY.ttl.whole_minutes()).unwrap_or(5);
        for message in self.sms(
            &app,
            &Event::OtpCode {
                code: &code,
                minutes_valid: minutes,
            },
        ) {
            self.store().enqueue(&message, now).await?;
        }
        Ok(OtpSent {
            sent_to: masked(&mobile),
            expires_in_seconds: OTP_POLICY.ttl.whole_seconds(),
        })
    }

    /// Step 3: checks a one-time password typed by the applicant.
    pub async fn verify_otp(
        &self,
        who: &Principal,
        id: &str,
        code: &str,
    ) -> Result<ApplicationRow, CaseError> {
        let app = self.own(who, id).await?;
        if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(CaseError::invalid(
                "code",
                "the one-time password has 6 digits",
            ));
        }
        if app.state != workflow::CONFIRMED {
            return Err(CaseError::Conflict(format!(
                "application {id} is {}; nothing to verify",
                app.state
            )));
        }
        let now = OffsetDateTime::now_utc();
        let hash = otp_hash(&app.id, app.mobile.as_deref().unwrap_or_default(), code);
        match self
            .store()
            .check_otp(&app.id, &hash, OTP_POLICY.attempts, now)
            .await?
        {
            OtpCheck::Passed => {
                self.identity_passed(who, &app, "otp", "identity.otp_passed")
                    .await
            }
            OtpCheck::Wrong(left) => Err(CaseError::invalid(
                "code",
                format!("wrong one-time password ({left} attempts left)"),
            )),
            OtpCheck::Locked => Err(CaseError::Limited(
                "too many wrong attempts: ask for a new one-time password".into(),
            )),
            OtpCheck::NoChallenge => Err(CaseError::Conflict(
                "no one-time password is pending (never sent, expired or used): ask for a new one"
                    .into(),
            )),
        }
    }

    /// Step 3: the face check. The image is compared with the holder's identity document on
    /// record (not with whoever signed in) and then discarded: no biometric data is kept.
    pub async fn face_check(
        &self,
        who: &Principal,
        id: &str,
        image: &[u8],
    ) -> Result<ApplicationRow, CaseError> {
        let app = self.own(who, id).await?;
        if app.state != workflow::CONFIRMED {
            return Err(CaseError::Conflict(format!(
                "application {id} is {}; the face check belongs to step 3",
                app.state
            )));
        }
        let max = self.bureau.config().application.max_document_bytes;
        if image.len() > max {
            return Err(CaseError::TooLarge {
                field: "image".into(),
                limit: max,
            });
        }
        if image.is_empty() {
            return Err(CaseError::invalid("image", "empty"));
        }
        let holder: HolderRequest = app
            .holder_json
            .as_deref()
            .and_then(|h| serde_json::from_str(h).ok())
            .ok_or_else(|| CaseError::Conflict("confirm your data (step 2) first".into()))?;
        let document = holder
            .document
            .parse("holder.document")
            .map_err(|e| CaseError::internal(&e))?;
        match self
            .face
            .check(&document, image)
            .map_err(|e| CaseError::internal(&e))?
        {
            crate::providers::FaceOutcome::Match => {
                self.identity_passed(who, &app, "face", "identity.face_passed")
                    .await
            }
            crate::providers::FaceOutcome::NoMatch(why) => Err(CaseError::invalid(
                "image",
                format!("the face check failed ({why}); try again or apply at a counter"),
            )),
        }
    }

    /// Marks one identity check passed for the holder and mobile it proved (`app` as read
    /// when the check began); the application becomes IDENTIFIED when both checks hold for
    /// the same.
    async fn identity_passed(
        &self,
        who: &Principal,
        app: &ApplicationRow,
        check: &'static str,
        action: &str,
    ) -> Result<ApplicationRow, CaseError> {
        let now = OffsetDateTime::now_utc();
        let actor = who.actor();
        let (Some(holder_json), Some(mobile)) = (app.holder_json.as_deref(), app.mobile.as_deref())
        else {
            return Err(CaseError::Conflict(
                "confirm your data (step 2) first".into(),
            ));
        };
        let fingerprint = workflow::identity_fingerprint(holder_json, mobile);
        let (at, proved) = match check {
            "otp" => ("otp_verified_at", "otp_verified_for"),
            _ => ("face_verified_at", "face_verified_for"),
        };
        self.store()
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
        self.store()
            .mark_identified(&app.id, holder_json, mobile, &fingerprint, &actor, now)
            .await?;
        self.application_now(&app.id).await
    }

    /// Step 4: starts a payment of the fee with the gateway; the same idempotency key, or no
    /// key while a payment is open, gives the same payment.
    pub async fn start_payment(
        &self,
        who: &Principal,
        id: &str,
        idempotency_key: Option<&str>,
    ) -> Result<PaymentRow, CaseError> {
        let app = self.own(who, id).await?;
        if app.state != workflow::IDENTIFIED {
            return Err(CaseError::Conflict(format!(
                "application {id} is {}; payment is step 4, after identity verification",
                app.state
            )));
        }
        let amount = self.fee(&app);
        Ok(self
            .store()
            .create_payment(&app.id, amount, idempotency_key, OffsetDateTime::now_utc())
            .await?)
    }

    /// The gateway's signed callback: a verified payment submits the application. A
    /// replayed event or an already-paid payment changes nothing.
    pub async fn payment_callback(
        &self,
        signature: Option<&str>,
        raw: &[u8],
    ) -> Result<CallbackOutcome, CaseError> {
        let now = OffsetDateTime::now_utc();
        let tolerance = self
            .bureau
            .config()
            .providers
            .payment_callback_tolerance_seconds;
        self.gateway
            .verify(signature, raw, now.unix_timestamp(), tolerance)
            .map_err(|e| CaseError::Unauthenticated(e.to_string()))?;
        let body: CallbackBody = serde_json::from_slice(raw)
            .map_err(|e| CaseError::invalid("callback body", e.to_string()))?;
        if body.status != "PAID" {
            return Err(CaseError::invalid(
                "status",
                format!("{:?} is not a payment confirmation", body.status),
            ));
        }
        if body.event_id.is_empty() || body.event_id.len() > 100 || body.gateway_ref.len() > 100 {
            return Err(CaseError::invalid(
                "event_id and gateway_ref",
                "1 to 100 characters",
            ));
        }
        let payment = self
            .store()
            .payment(&body.payment_id)
            .await?
            .ok_or_else(|| CaseError::NotFound(format!("no payment {}", body.payment_id)))?;
        if payment.amount_avos != body.amount_avos {
            return Err(CaseError::invalid(
                "amount_avos",
                format!(
                    "{} does not match the payment's {}",
                    body.amount_avos, payment.amount_avos
                ),
            ));
        }
        let app = self
            .store()
            .application(&payment.application_id)
            .await?
            .ok_or_else(|| CaseError::Internal("payment without application".into()))?;
        let detail = serde_json::json!({ "payment_id": payment.id, "amount_avos": payment.amount_avos, "gateway_ref": body.gateway_ref });
        let mut step = self.submission(
            &app,
            &[workflow::IDENTIFIED],
            payment.amount_avos,
            "gateway:payment",
            "application.paid",
            now,
        )?;
        step.detail = detail;
        Ok(self
            .store()
            .apply_payment(&body.event_id, &payment, &body.gateway_ref, &step)
            .await?)
    }

    /// The applicant's open or settled payment `payment_id`, with its application; someone
    /// else's payment is as unknown as a wrong reference.
    pub async fn own_payment(
        &self,
        who: &Principal,
        payment_id: &str,
    ) -> Result<(PaymentRow, ApplicationRow), CaseError> {
        let no_payment = || CaseError::NotFound(format!("no payment {payment_id}"));
        let payment = self
            .store()
            .payment(payment_id)
            .await?
            .ok_or_else(no_payment)?;
        match self.own(who, &payment.application_id).await {
            Ok(app) => Ok((payment, app)),
            Err(CaseError::NotFound(_)) => Err(no_payment()),
            Err(e) => Err(e),
        }
    }

    /// The SANDBOX gateway's "pay" button: signs a callback exactly as a gateway would and
    /// delivers it. Only the payment's applicant may press it.
    pub async fn sandbox_pay(
        &self,
        who: &Principal,
        payment_id: &str,
    ) -> Result<SandboxPayment, CaseError> {
        if self.bureau.config().providers.payment != "sandbox" {
            return Err(CaseError::NotFound(
                "the sandbox gateway is not configured".into(),
            ));
        }
        let (payment, _) = self.own_payment(who, payment_id).await?;
        let body = CallbackBody {
            event_id: crate::store::random_id("EVT"),
            payment_id: payment.id.clone(),
            amount_avos: payment.amount_avos,
            gateway_ref: crate::store::random_id("SANDBOX"),
            status: "PAID".into(),
        };
        let raw = serde_json::to_vec(&body).map_err(|e| CaseError::internal(&e))?;
        let signature = self
            .gateway
            .sign(OffsetDateTime::now_utc().unix_timestamp(), &raw);
        let outcome = self.payment_callback(Some(&signature), &raw).await?;
        Ok(SandboxPayment {
            outcome,
            body: String::from_utf8_lossy(&raw).into_owned(),
            signature,
        })
    }

    /// Checks supporting documents (count, kind among `kinds`, file name, size, and content
    /// against its declared type: `crate::rules::documents`) before anything is stored.
    fn documents(
        &self,
        purpose: &'static str,
        kinds: &[&str],
        docs: Vec<SupportingDocument>,
    ) -> Result<Vec<NewDocument>, CaseError> {
        let limits = &self.bureau.config().application;
        if docs.len() > limits.max_documents {
            return Err(CaseError::invalid(
                "documents",
                format!(
                    "{} documents exceed the limit of {}",
                    docs.len(),
                    limits.max_documents
                ),
            ));
        }
        docs.into_iter()
            .enumerate()
            .map(|(i, d)| {
                let field = |name: &str| format!("documents[{i}].{name}");
                if !kinds.contains(&d.kind.as_str()) {
                    return Err(CaseError::invalid(
                        field("kind"),
                        format!("{:?} is not one of {}", d.kind, kinds.join(", ")),
                    ));
                }
                crate::rules::documents::check_filename(&d.filename)
                    .map_err(|why| CaseError::invalid(field("filename"), why))?;
                crate::rules::documents::check_media_type(&d.media_type)
                    .map_err(|why| CaseError::invalid(field("media_type"), why))?;
                if d.content.len() > limits.max_document_bytes {
                    return Err(CaseError::TooLarge {
                        field: field("content"),
                        limit: limits.max_document_bytes,
                    });
                }
                if d.content.is_empty() {
                    return Err(CaseError::invalid(field("content"), "empty"));
                }
                crate::rules::documents::check_content(&d.media_type, &d.content)
                    .map_err(|why| CaseError::invalid(field("content"), why))?;
                Ok(NewDocument {
                    purpose,
                    kind: d.kind,
                    filename: d.filename,
                    media_type: d.media_type,
                    content: d.content,
                })
            })
            .collect()
    }

    /// Asks for a fee exemption with its supporting documents (instead of paying).
    pub async fn request_exemption(
        &self,
        who: &Principal,
        id: &str,
        kind: &str,
        documents: Vec<SupportingDocument>,
    ) -> Result<ApplicationRow, CaseError> {
        let app = self.own(who, id).await?;
        let kind = Exemption::parse(kind).ok_or_else(|| {
            CaseError::invalid(
                "kind",
                format!("{:?} is not one of UNEMPLOYMENT, POVERTY, DISABILITY", kind),
            )
        })?;
        let docs = self.documents("exemption", kind.required_documents(), documents)?;
        let missing: Vec<&str> = kind
            .required_documents()
            .iter()
            .copied()
            .filter(|k| !docs.iter().any(|d| d.kind == *k))
            .collect();
        if !missing.is_empty() {
            return Err(CaseError::invalid(
                "documents",
                format!(
                    "a {} exemption also needs {}",
                    kind.code(),
                    missing.join(", ")
                ),
            ));
        }
        let now = OffsetDateTime::now_utc();
        let actor = who.actor();
        let kinds: Vec<&str> = docs.iter().map(|d| d.kind.as_str()).collect();
        let detail = serde_json::json!({ "kind": kind.code(), "documents": kinds });
        self.store()
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
        self.application_now(id).await
    }

    /// Answers a request for information; the pledge counts again from the day after.
    pub async fn provide_information(
        &self,
        who: &Principal,
        id: &str,
        message: &str,
        documents: Vec<SupportingDocument>,
    ) -> Result<ApplicationRow, CaseError> {
        let app = self.own(who, id).await?;
        let message = message.trim();
        if message.is_empty() || message.chars().count() > 2_000 {
            return Err(CaseError::invalid("message", "1 to 2000 characters"));
        }
        let mut kinds = Exemption::document_codes();
        kinds.push(OTHER_DOCUMENT);
        let docs = self.documents("information", &kinds, documents)?;
        let now = OffsetDateTime::now_utc();
        let actor = who.actor();
        let due = self.due_date(&app, now)?.to_string();
        self.store()
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
                    (
                        "note",
                        Value::Text(Some(format!("{APPLICANT_ANSWER_PREFIX}{message}"))),
                    ),
                ],
                actor: &actor,
                action: "application.information_provided",
                detail: serde_json::json!({ "documents": docs.len() }),
                messages: Vec::new(),
                effect: SideEffect::Documents(docs),
                now,
            })
            .await?;
        self.application_now(id).await
    }

    /// The signed PDF of certificate `number`, for its applicant (electronic applications),
    /// the department it was transferred to, or an officer; anyone else gets "not found".
    /// Every download is audited.
    pub async fn certificate_pdf(
        &self,
        who: &Principal,
        number: &str,
    ) -> Result<Vec<u8>, CaseError> {
        let found = self.store().certificate(number).await?;
        let allowed = match (&found, who.role) {
            (Some(_), Role::Officer) => true,
            (Some((summary, owner)), Role::Applicant) => {
                let own = owner.applicant_id.as_deref() == Some(who.id.as_str());
                let electronic = match &summary.application_id {
                    Some(id) => self
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
            return Err(CaseError::NotFound(format!(
                "no certificate {number} for you"
            )));
        }
        Ok(self
            .store()
            .certificate_pdf(number, &who.actor(), OffsetDateTime::now_utc())
            .await?)
    }
}
