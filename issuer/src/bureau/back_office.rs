//! The back office's and the department portal's reads: the work queue with its filters,
//! a case's documents and history, a department's inbox and notices. Every read of
//! registry data that is personal (documents, record entries) is audited by the store.

use std::collections::HashMap;

use time::{Date, OffsetDateTime};

use super::{CaseError, Services};
use crate::identity::auth::{Principal, Role};
use crate::rules::workflow;
use crate::store::applications::ApplicationRow;
use crate::store::back_office::{DocumentContent, NoticeRow};
use crate::store::jobs::CertificateSummary;

/// The states a queue shows when none is chosen: everything that waits for staff.
pub const OPEN_STATES: [&str; 6] = [
    workflow::EXEMPTION_REQUESTED,
    workflow::SUBMITTED,
    workflow::INFORMATION_REQUESTED,
    workflow::CHECKED,
    workflow::APPROVED,
    workflow::ISSUED,
];

/// Standard or express.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Speed {
    /// MOP 50, 5 working days.
    Standard,
    /// MOP 150, 2 working days.
    Express,
}

/// How the queue is ordered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Sort {
    /// Overdue first, then by pledge due date (the default).
    #[default]
    Due,
    /// Least recently changed first.
    Waiting,
    /// By reference.
    Reference,
}

/// The queue's filters.
#[derive(Clone, Debug, Default)]
pub struct QueueFilter {
    /// One state, or every open state.
    pub state: Option<String>,
    /// Standard or express only.
    pub speed: Option<Speed>,
    /// Only cases assigned to the caller.
    pub mine: bool,
    /// The order.
    pub sort: Sort,
}

/// One case in the queue.
#[derive(Debug)]
pub struct QueueRow {
    /// The application.
    pub app: ApplicationRow,
    /// The pledge due date.
    pub due: Option<Date>,
    /// Past its due date and still owed.
    pub overdue: bool,
    /// Who took the case.
    pub assigned_to: Option<String>,
}

/// The queue with its counts.
#[derive(Debug)]
pub struct Queue {
    /// The cases that pass the filters, in order.
    pub rows: Vec<QueueRow>,
    /// Applications per state (all of them, whatever the filters).
    pub counts: Vec<(String, i64)>,
}

fn parse_date(text: Option<&str>) -> Option<Date> {
    Date::parse(
        text?,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .ok()
}

impl Services {
    /// The work queue as `who` (clerk or officer) filters it, at `now`.
    pub async fn queue(
        &self,
        who: &Principal,
        filter: &QueueFilter,
        now: OffsetDateTime,
    ) -> Result<Queue, CaseError> {
        let states: Vec<&str> = match filter.state.as_deref() {
            Some(state) => vec![
                workflow::STATES
                    .into_iter()
                    .find(|s| *s == state)
                    .ok_or_else(|| CaseError::invalid("state", "not a state"))?,
            ],
            None => OPEN_STATES.to_vec(),
        };
        let today = now.to_offset(crate::rules::calendar::MACAO).date();
        let assignees: HashMap<String, String> =
            self.store().assignees().await?.into_iter().collect();
        let mut rows: Vec<QueueRow> = self
            .store()
            .applications_in_states(&states)
            .await?
            .into_iter()
            .filter(|app| match filter.speed {
                Some(Speed::Express) => app.express != 0,
                Some(Speed::Standard) => app.express == 0,
                None => true,
            })
            .map(|app| {
                let due = parse_date(app.due_date.as_deref());
                let owed = !matches!(
                    app.state.as_str(),
                    workflow::ISSUED | workflow::COLLECTED | workflow::REJECTED
                );
                QueueRow {
                    overdue: owed && due.is_some_and(|d| d < today),
                    assigned_to: assignees.get(&app.id).cloned(),
                    due,
                    app,
                }
            })
            .filter(|row| !filter.mine || row.assigned_to.as_deref() == Some(who.id.as_str()))
            .collect();
        match filter.sort {
            Sort::Due => rows.sort_by(|a, b| {
                (!a.overdue, a.due.is_none(), a.due, &a.app.updated_at).cmp(&(
                    !b.overdue,
                    b.due.is_none(),
                    b.due,
                    &b.app.updated_at,
                ))
            }),
            Sort::Waiting => rows.sort_by(|a, b| a.app.updated_at.cmp(&b.app.updated_at)),
            Sort::Reference => rows.sort_by(|a, b| a.app.id.cmp(&b.app.id)),
        }
        Ok(Queue {
            rows,
            counts: self.store().state_counts().await?,
        })
    }

    /// Takes a case (clerk or officer).
    pub async fn assign_to_me(&self, who: &Principal, id: &str) -> Result<(), CaseError> {
        let app = self.application_for(who, id).await?;
        self.store()
            .assign(&app.id, &who.id, &who.actor(), OffsetDateTime::now_utc())
            .await?;
        Ok(())
    }

    /// A case's history: its audit entries, oldest first (the last 200).
    pub async fn case_history(
        &self,
        who: &Principal,
        id: &str,
    ) -> Result<Vec<crate::rules::audit::AuditEntry>, CaseError> {
        let app = self.application_for(who, id).await?;
        Ok(self.store().audit_of(&app.id, 200).await?)
    }

    /// A supporting document of a case, to view (clerk or officer; audited).
    pub async fn case_document(
        &self,
        who: &Principal,
        id: &str,
        document: &str,
    ) -> Result<DocumentContent, CaseError> {
        let app = self.application_for(who, id).await?;
        Ok(self
            .store()
            .read_document(&app.id, document, &who.actor(), OffsetDateTime::now_utc())
            .await?)
    }

    /// The certificates issued for a case.
    pub async fn case_certificates(
        &self,
        who: &Principal,
        id: &str,
    ) -> Result<Vec<CertificateSummary>, CaseError> {
        let app = self.application_for(who, id).await?;
        Ok(self.store().certificates_of(&app.id).await?)
    }

    /// A certificate as staff see it (officer, security officer), with its history.
    pub async fn certificate_for_staff(
        &self,
        who: &Principal,
        number: &str,
    ) -> Result<(CertificateSummary, Vec<crate::rules::audit::AuditEntry>), CaseError> {
        if !matches!(who.role, Role::Officer | Role::SecurityOfficer) {
            return Err(CaseError::NotFound(format!("no certificate {number}")));
        }
        let (summary, _) = self
            .store()
            .certificate(number)
            .await?
            .ok_or_else(|| CaseError::NotFound(format!("no certificate {number}")))?;
        let history = self.store().audit_of(number, 200).await?;
        Ok((summary, history))
    }

    /// The certificates transferred to the caller's department, newest first.
    pub async fn department_inbox(
        &self,
        department: &Principal,
    ) -> Result<Vec<CertificateSummary>, CaseError> {
        Ok(self.store().transfers_to(&department.id).await?)
    }

    /// The caller's department's notices, unread first.
    pub async fn department_notices(
        &self,
        department: &Principal,
    ) -> Result<Vec<NoticeRow>, CaseError> {
        Ok(self.store().notices_of(&department.id).await?)
    }

    /// Marks a notice read (a department user; audited with their name).
    pub async fn acknowledge_notice(
        &self,
        department: &Principal,
        id: &str,
    ) -> Result<(), CaseError> {
        Ok(self
            .store()
            .acknowledge_notice(
                &department.id,
                id,
                &department.actor(),
                OffsetDateTime::now_utc(),
            )
            .await?)
    }
}
