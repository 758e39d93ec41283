//! What the use cases run on: the bureau (registry, engine, configuration) with the
//! providers and limits of a running service. The JSON API and the pages hold one of these
//! (`api::AppState` is this type) and call its use cases; neither holds a rule of its own.

use std::sync::Arc;

use time::OffsetDateTime;

use super::{Bureau, CaseError};
use crate::identity::auth::{Principal, Role, SignInLimits};
use crate::notify::messages::Event;
use crate::providers::{FaceMatcher, GatewaySecret};
use crate::rules::calendar::{Calendar, SameDayEligibility};
use crate::rules::request::{HolderRequest, Language};
use crate::rules::workflow;
use crate::store::applications::{ApplicationRow, Outgoing, SideEffect, Transition, Value};
use crate::store::stored_instant;

/// The bureau with the providers and limits of a running service.
#[derive(Debug)]
pub struct Services {
    /// The bureau (registry, engine, configuration).
    pub bureau: Arc<Bureau>,
    /// Working days and collection times.
    pub calendar: Calendar,
    /// The payment gateway's callback secret.
    pub gateway: GatewaySecret,
    /// The face-match provider.
    pub face: Box<dyn FaceMatcher>,
    /// The OIDC provider, when configured.
    pub oidc: Option<crate::identity::oidc::OidcProvider>,
    /// Staff password sign-in limits (per name and address, per address, back-off).
    pub staff_sign_in: SignInLimits,
    /// Department client-credential limits, kept apart from the staff's.
    pub department_sign_in: SignInLimits,
    /// Wrong second-factor codes per account ([`crate::bureau::people`]).
    pub second_factor: crate::identity::auth::RateLimiter,
    /// Wakes the issuance workers when jobs are queued.
    pub jobs: Arc<tokio::sync::Notify>,
}

impl Services {
    /// The registry.
    pub fn store(&self) -> &crate::store::Store {
        self.bureau.store()
    }

    /// The application `id` if `caller` may see it: its applicant, or a clerk or officer.
    /// Anyone else gets "not found", so that references cannot be probed.
    pub async fn application_for(
        &self,
        caller: &Principal,
        id: &str,
    ) -> Result<ApplicationRow, CaseError> {
        let app = self.store().application(id).await?;
        match app {
            Some(app)
                if matches!(caller.role, Role::Clerk | Role::Officer)
                    || (caller.role == Role::Applicant && app.applicant_id == caller.id) =>
            {
                Ok(app)
            }
            _ => Err(CaseError::NotFound(format!("no application {id}"))),
        }
    }

    /// The application `id` as it is now.
    pub async fn application_now(&self, id: &str) -> Result<ApplicationRow, CaseError> {
        self.store()
            .application(id)
            .await?
            .ok_or_else(|| CaseError::NotFound(format!("no application {id}")))
    }

    /// An SMS to the application's applicant, in their language (none before step 2).
    pub fn sms(&self, app: &ApplicationRow, event: &Event<'_>) -> Vec<Outgoing> {
        let (Some(mobile), Some(language)) = (
            app.mobile.clone(),
            app.language.as_deref().and_then(Language::parse),
        ) else {
            return Vec::new();
        };
        vec![Outgoing::sms(&mobile, language, event, &app.id)]
    }

    /// The fee an application owes (before any exemption).
    pub fn fee(&self, app: &ApplicationRow) -> i64 {
        let a = &self.bureau.config().application;
        workflow::fee_avos(
            a.standard_fee_avos,
            a.express_fee_avos,
            app.express != 0,
            app.quantity,
        )
        .unwrap_or(i64::MAX)
    }

    /// The fee an application owes or paid: the amount recorded at submission, else the fee.
    pub fn fee_due(&self, app: &ApplicationRow) -> i64 {
        app.fee_avos.unwrap_or_else(|| self.fee(app))
    }

    /// Working days left to the pledge due date, while the bureau still owes the certificate.
    pub fn working_days_left(&self, app: &ApplicationRow, now: OffsetDateTime) -> Option<u32> {
        let today = now.to_offset(crate::rules::calendar::MACAO).date();
        let due = time::Date::parse(
            app.due_date.as_deref()?,
            time::macros::format_description!("[year]-[month]-[day]"),
        )
        .ok()?;
        if matches!(
            app.state.as_str(),
            workflow::ISSUED | workflow::COLLECTED | workflow::REJECTED
        ) {
            return None;
        }
        self.calendar.working_days_between(today, due).ok()
    }

    /// When a paper certificate of a submitted application can be collected the same day
    /// (seed 001's rule and timetable), if it qualifies.
    pub fn same_day(&self, app: &ApplicationRow) -> Option<OffsetDateTime> {
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
    pub fn due_date(
        &self,
        app: &ApplicationRow,
        now: OffsetDateTime,
    ) -> Result<time::Date, CaseError> {
        self.calendar
            .pledge_due(now, app.express != 0)
            .map_err(|e| CaseError::internal(&e))
    }

    /// The step that submits an application (paid or exempted): documents received now,
    /// the pledge due date, and the applicant told both.
    pub fn submission<'a>(
        &self,
        app: &'a ApplicationRow,
        from: &'a [&'a str],
        fee_avos: i64,
        actor: &'a str,
        action: &'a str,
        now: OffsetDateTime,
    ) -> Result<Transition<'a>, CaseError> {
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
