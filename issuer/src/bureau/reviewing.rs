//! The bureau's use cases: exemption decisions and review by clerks, approval or rejection
//! by officers (with the record lookup that fills the certificate), collection of paper
//! certificates, the record registry, certificate status changes, re-issue, and issuance jobs
//! that need staff. The JSON API calls these (and the back office's pages will); the callers'
//! roles are checked before, by the HTTP layer.

use serde::Deserialize;
use time::OffsetDateTime;

use super::{CaseError, Services};
use crate::identity::auth::Principal;
use crate::notify::messages::Event;
use crate::rules::request::{DocumentRequest, RecordRequest};
use crate::rules::workflow;
use crate::store::applications::{ApplicationRow, SideEffect, Transition, Value};
use crate::store::records::RecordRow;

/// A decision with its reason.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    /// Approve, or refuse.
    pub approve: bool,
    /// Why (required to refuse).
    #[serde(default)]
    pub reason: Option<String>,
    /// The officer's reason for approving although the holder's document is not the one the
    /// identity provider verified at sign-in (audited; only for such an approval).
    #[serde(default)]
    pub identity_override: Option<String>,
}

/// A clerk's review action.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Review {
    /// What to do.
    pub action: ReviewAction,
    /// The message to the applicant (for a request for information).
    #[serde(default)]
    pub message: Option<String>,
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

/// A record entry to add to the registry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewRecord {
    /// The holder's identity document.
    pub document: DocumentRequest,
    /// The court.
    pub court: String,
    /// The case number.
    pub case_number: String,
    /// The decision's date.
    pub decision_date: String,
    /// The offence.
    pub offence: String,
    /// The sentence.
    pub sentence: String,
    /// The usages for which the entry is disclosed.
    #[serde(default)]
    pub disclose_for: Vec<String>,
}

/// A record entry added: its id, the registry key and the document as canonicalised.
#[derive(Debug)]
pub struct RecordAdded {
    /// The entry's id.
    pub id: String,
    /// The registry key.
    pub doc_key: String,
    /// The document as canonicalised.
    pub document: ccr_pki::document::IdentityDocument,
}

/// The states an issuance job can be listed in.
pub const JOB_STATES: [&str; 3] = ["failed", "queued", "done"];

/// A reason: trimmed, at most 1000 characters, `required` or not.
pub fn reason_text(reason: Option<&str>, required: bool) -> Result<Option<String>, CaseError> {
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    match reason {
        None if required => Err(CaseError::invalid("reason", "required for this decision")),
        Some(r) if r.chars().count() > 1_000 => {
            Err(CaseError::invalid("reason", "at most 1000 characters"))
        }
        other => Ok(other.map(str::to_owned)),
    }
}

impl Services {
    /// An exemption decision (clerk): approved, the application is submitted with no fee;
    /// refused, it goes back to step 4 with the reason.
    pub async fn decide_exemption(
        &self,
        clerk: &Principal,
        id: &str,
        body: &Decision,
    ) -> Result<ApplicationRow, CaseError> {
        let app = self.application_for(clerk, id).await?;
        let reason = reason_text(body.reason.as_deref(), !body.approve)?;
        if body.identity_override.is_some() {
            return Err(CaseError::invalid(
                "identity_override",
                "only an officer's approval of the application takes it",
            ));
        }
        let now = OffsetDateTime::now_utc();
        let actor = clerk.actor();
        if body.approve {
            let mut step = self.submission(
                &app,
                &[workflow::EXEMPTION_REQUESTED],
                0,
                &actor,
                "application.exemption_approved",
                now,
            )?;
            step.detail = serde_json::json!({ "kind": app.exemption_kind, "fee_avos": 0 });
            let mut messages = self.sms(&app, &Event::ExemptionApproved { reference: &app.id });
            messages.append(&mut step.messages);
            step.messages = messages;
            self.store().transition(&step).await?;
        } else {
            let reason = reason.unwrap_or_default();
            self.store()
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
                    messages: self.sms(
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
        self.application_now(id).await
    }

    /// A clerk's review: forward to an officer, or ask the applicant for information.
    pub async fn review(
        &self,
        clerk: &Principal,
        id: &str,
        body: &Review,
    ) -> Result<ApplicationRow, CaseError> {
        let app = self.application_for(clerk, id).await?;
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
                    messages: self.sms(
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
        self.store().transition(&step).await?;
        self.application_now(id).await
    }

    /// An officer's decision. Approval looks the holder up in the record registry (an
    /// audited read), keeps the entries disclosed for the usage, checks that the certificate
    /// can be rendered, and queues one issuance job per certificate in the same transaction.
    pub async fn decide(
        &self,
        officer: &Principal,
        id: &str,
        body: &Decision,
    ) -> Result<ApplicationRow, CaseError> {
        let app = self.application_for(officer, id).await?;
        let reason = reason_text(body.reason.as_deref(), !body.approve)?;
        let now = OffsetDateTime::now_utc();
        let actor = officer.actor();
        if body.approve {
            if app.state != workflow::CHECKED {
                return Err(CaseError::Conflict(format!(
                    "application {id} is {}; an officer approves only CHECKED applications",
                    app.state
                )));
            }
            let identity_override = reason_text(body.identity_override.as_deref(), false)?;
            if app.identity_mismatch.is_some() && identity_override.is_none() {
                return Err(CaseError::invalid(
                    "identity_override",
                    format!(
                        "the holder's document ({}) is not the one the identity provider verified at sign-in ({}); approve only with a reason",
                        app.doc_key.as_deref().unwrap_or("none"),
                        app.identity_mismatch.as_deref().unwrap_or_default()
                    ),
                ));
            }
            let doc_key = app.doc_key.clone().unwrap_or_default();
            let entries = self
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
            let records_json =
                serde_json::to_string(&disclosed).map_err(|e| CaseError::internal(&e))?;
            // Nothing is promised that cannot be issued: refused here, no job is queued.
            self.bureau
                .check_approvable(&app, disclosed.clone())
                .await?;
            self.store()
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
                    messages: self.sms(&app, &Event::ApplicationApproved { reference: &app.id }),
                    effect: SideEffect::IssuanceJobs(app.quantity),
                    now,
                })
                .await?;
            self.jobs.notify_waiters();
        } else {
            let reason = reason.unwrap_or_default();
            self.store()
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
                    messages: self.sms(
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
        self.application_now(id).await
    }

    /// The record lookup for an application's holder (clerk, officer), audited as a read of
    /// record data.
    pub async fn records_for(
        &self,
        who: &Principal,
        id: &str,
    ) -> Result<Vec<RecordRow>, CaseError> {
        let app = self.application_for(who, id).await?;
        let doc_key = app.doc_key.ok_or_else(|| {
            CaseError::Conflict("the applicant has not confirmed their data yet".into())
        })?;
        Ok(self
            .store()
            .read_records(&doc_key, &who.actor(), &app.id, OffsetDateTime::now_utc())
            .await?)
    }

    /// The registry's entries for an identity document (officer), its canonical form
    /// deciding which entries are the holder's; audited as a lookup.
    pub async fn records_of_document(
        &self,
        officer: &Principal,
        document: &DocumentRequest,
    ) -> Result<(String, Vec<RecordRow>), CaseError> {
        let document = document.parse("document")?;
        let doc_key = crate::rules::request::doc_key(&document);
        let rows = self
            .store()
            .read_records(
                &doc_key,
                &officer.actor(),
                "lookup",
                OffsetDateTime::now_utc(),
            )
            .await?;
        Ok((doc_key, rows))
    }

    /// Adds an entry to the record registry (officer), validated exactly as a certificate's
    /// record entry would be, its document canonicalised.
    pub async fn add_record(
        &self,
        officer: &Principal,
        body: NewRecord,
    ) -> Result<RecordAdded, CaseError> {
        let (valid, disclose_for) = self.checked_entry(&body)?;
        let document = body.document.parse("document")?;
        let row = RecordRow {
            id: String::new(),
            doc_key: crate::rules::request::doc_key(&document),
            court: valid.court,
            case_number: valid.case_number,
            decision_date: valid.decision_date.to_string(),
            offence: valid.offence,
            sentence: valid.sentence,
            disclose_for,
            closed_at: None,
        };
        let id = self
            .store()
            .add_record(
                &row,
                crate::rules::request::MAX_RECORDS,
                &officer.actor(),
                OffsetDateTime::now_utc(),
            )
            .await?;
        Ok(RecordAdded {
            id,
            doc_key: row.doc_key,
            document,
        })
    }

    /// A record entry's content checked exactly as a certificate's entry would be, and its
    /// usages as stored.
    fn checked_entry(
        &self,
        body: &NewRecord,
    ) -> Result<(ccr_pki::document::RecordEntry, String), CaseError> {
        let config = self.bureau.config();
        for usage in &body.disclose_for {
            if config.usage(usage).is_none() {
                return Err(CaseError::invalid(
                    "disclose_for",
                    format!("{usage:?} is not a known usage"),
                ));
            }
        }
        let entry = RecordRequest {
            court: body.court.clone(),
            case_number: body.case_number.clone(),
            decision_date: body.decision_date.clone(),
            offence: body.offence.clone(),
            sentence: body.sentence.clone(),
        };
        let valid = crate::rules::request::check_record(0, &entry)?;
        self.bureau
            .engine()
            .check_record_printable(1, &valid)
            .map_err(|e| CaseError::invalid("", e.to_string()))?;
        let usages =
            serde_json::to_string(&body.disclose_for).map_err(|e| CaseError::internal(&e))?;
        Ok((valid, usages))
    }

    /// One record entry (officer; an audited read), to correct or close.
    pub async fn record_entry(
        &self,
        officer: &Principal,
        id: &str,
    ) -> Result<RecordRow, CaseError> {
        Ok(self
            .store()
            .read_record(id, &officer.actor(), OffsetDateTime::now_utc())
            .await?)
    }

    /// Corrects an open record entry (officer): the same checks as a new entry; the
    /// document stays (a wrong document is a new entry and a closed one).
    pub async fn correct_record(
        &self,
        officer: &Principal,
        id: &str,
        body: NewRecord,
    ) -> Result<RecordRow, CaseError> {
        let current = self.record_entry(officer, id).await?;
        let (valid, disclose_for) = self.checked_entry(&body)?;
        let row = RecordRow {
            id: current.id,
            doc_key: current.doc_key,
            court: valid.court,
            case_number: valid.case_number,
            decision_date: valid.decision_date.to_string(),
            offence: valid.offence,
            sentence: valid.sentence,
            disclose_for,
            closed_at: None,
        };
        self.store()
            .correct_record(&row, &officer.actor(), OffsetDateTime::now_utc())
            .await?;
        Ok(row)
    }

    /// Closes a record entry with a reason (officer): never printed again.
    pub async fn close_record(
        &self,
        officer: &Principal,
        id: &str,
        reason: &str,
    ) -> Result<(), CaseError> {
        let reason = reason_text(Some(reason), true)?.unwrap_or_default();
        Ok(self
            .store()
            .close_record(id, &reason, &officer.actor(), OffsetDateTime::now_utc())
            .await?)
    }

    /// Changes a certificate's status (security officer), with a reason; a revocation is
    /// also told to the department the certificate was transferred to (SPEC §1).
    pub async fn change_certificate_status(
        &self,
        officer: &Principal,
        number: &str,
        status: ccr_pki::status_list::Status,
        reason: &str,
    ) -> Result<(), CaseError> {
        let reason = reason_text(Some(reason), true)?.unwrap_or_default();
        let (_, owner) = self
            .store()
            .certificate(number)
            .await?
            .ok_or_else(|| CaseError::NotFound(format!("no certificate {number}")))?;
        self.bureau
            .change_status(number, status, &officer.actor(), &reason)
            .await?;
        if status == ccr_pki::status_list::Status::Revoked
            && let Some(department) = owner.transfer_to
        {
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
            self.store()
                .enqueue(&outgoing, OffsetDateTime::now_utc())
                .await?;
        }
        Ok(())
    }

    /// A new certificate with the same content (officer); the old one becomes SUPERSEDED in
    /// the same transaction. Answers the new number.
    pub async fn reissue(
        &self,
        officer: &Principal,
        number: &str,
        reason: &str,
    ) -> Result<String, CaseError> {
        let reason = reason_text(Some(reason), true)?.unwrap_or_default();
        let issued = self
            .bureau
            .reissue(number, &officer.actor(), &reason, None)
            .await?;
        Ok(issued.number)
    }

    /// Issuance jobs in a state (default `failed`: those that will not finish without staff).
    pub async fn jobs_in(
        &self,
        state: Option<&str>,
    ) -> Result<Vec<crate::store::jobs::JobSummary>, CaseError> {
        let wanted = state.unwrap_or("failed");
        if !JOB_STATES.contains(&wanted) {
            return Err(CaseError::invalid(
                "state",
                format!("{wanted:?} is not one of {}", JOB_STATES.join(", ")),
            ));
        }
        Ok(self.store().jobs_in_state(wanted, 200).await?)
    }

    /// Puts a failed job back in the queue (officer), once its cause is fixed; it keeps its
    /// reserved number.
    pub async fn retry_job(&self, officer: &Principal, id: &str) -> Result<(), CaseError> {
        self.store()
            .retry_job(id, &officer.actor(), OffsetDateTime::now_utc())
            .await?;
        self.jobs.notify_waiters();
        Ok(())
    }
}
