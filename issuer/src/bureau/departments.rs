//! The department registry and the transfer service's use cases (SPEC §9): registering a
//! department with its push endpoint and receipt-verification key, changing them, activating
//! or deactivating it, a department's lane as staff see it, and the applicant's ledger of
//! transfers and downloads. The CLI (`issuer department …`), the JSON API and the back
//! office's pages call these; the caller's role is checked before, by each of them.

use serde::Serialize;
use time::OffsetDateTime;

use super::{Bureau, CaseError};
use crate::notify::transfer::validate_endpoint;
use crate::store::accounts::Department;
use crate::store::deliveries::{DeliveryView, Endpoint};

/// The largest receipt-verification key accepted (a PEM public key is a few hundred bytes).
pub const MAX_RECEIPT_KEY_PEM: usize = 4096;
/// The longest department name.
pub const MAX_NAME_CHARS: usize = 200;

/// A department's names; absent names default to its code (staff name it later).
#[derive(Debug, Clone, Default)]
pub struct Names {
    /// Traditional Chinese.
    pub zh: Option<String>,
    /// Portuguese.
    pub pt: Option<String>,
    /// English.
    pub en: Option<String>,
}

/// Checks a department code: 2 to 16 of `A-Z`, `0-9` and `_`.
pub fn check_code(code: &str) -> Result<(), CaseError> {
    let ok = (2..=16).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(CaseError::invalid("code", "2 to 16 of A-Z, 0-9 and _"))
    }
}

fn check_name(field: &str, name: &str) -> Result<String, CaseError> {
    let n = name.trim();
    if n.is_empty() || n.chars().count() > MAX_NAME_CHARS || n.chars().any(char::is_control) {
        return Err(CaseError::invalid(
            field,
            format!("1 to {MAX_NAME_CHARS} printable characters"),
        ));
    }
    Ok(n.to_owned())
}

/// Checks a push registration: the endpoint (`https://`, or `http://` to a loopback address)
/// and the receipt key (Ed25519 or P-256 `PUBLIC KEY` PEM, at most [`MAX_RECEIPT_KEY_PEM`]).
pub fn check_endpoint(endpoint: &str, receipt_key_pem: &str) -> Result<(), CaseError> {
    validate_endpoint(endpoint).map_err(|m| CaseError::invalid("endpoint", m))?;
    if receipt_key_pem.len() > MAX_RECEIPT_KEY_PEM {
        return Err(CaseError::TooLarge {
            field: "receipt_key_pem".into(),
            limit: MAX_RECEIPT_KEY_PEM,
        });
    }
    ccr_pki::transfer::ReceiptKey::from_pem(receipt_key_pem)
        .map_err(|e| CaseError::invalid("receipt_key_pem", e.to_string()))?;
    Ok(())
}

/// A delivery as the applicant and staff see it.
#[derive(Debug, Clone, Serialize)]
pub struct LedgerEntry {
    /// The delivery id (`webhook-id`).
    pub delivery_id: String,
    /// The receiving department.
    pub department: String,
    /// Its position in the department's lane.
    pub sequence: i64,
    /// `certificate` or `status-change`.
    pub kind: String,
    /// The certificate.
    pub certificate_number: String,
    /// `queued`, `delivered` or `rejected`.
    pub state: String,
    /// When queued.
    pub queued_at: String,
    /// When the department's receipt was stored.
    pub delivered_at: Option<String>,
    /// When the department's rejection was stored.
    pub rejected_at: Option<String>,
    /// The department's reason code for a rejection.
    pub rejected_reason: Option<String>,
    /// Why a queued delivery has not landed yet, if known.
    pub waiting_because: Option<String>,
    /// Failed attempts so far.
    pub failures: i64,
    /// The next attempt of a queued delivery.
    pub next_attempt_at: Option<String>,
}

impl LedgerEntry {
    /// The view of `view` for a department that is (not) active and has (no) endpoint.
    pub fn new(view: DeliveryView, department_active: bool, has_endpoint: bool) -> Self {
        let queued = view.state == "queued";
        let waiting_because = if !queued {
            None
        } else if !department_active {
            Some(format!(
                "department {} is deactivated: deliveries are paused, kept, and resume if it is reactivated",
                view.department
            ))
        } else if !has_endpoint {
            Some(format!(
                "department {} has no push endpoint; it collects transfers from the pull feed",
                view.department
            ))
        } else {
            view.last_error.clone()
        };
        let delivered = view.state == "delivered";
        let rejected = view.state == "rejected";
        Self {
            delivery_id: view.id,
            department: view.department,
            sequence: view.seq,
            kind: view.kind,
            certificate_number: view.certificate,
            queued_at: view.created_at,
            delivered_at: view.done_at.clone().filter(|_| delivered),
            rejected_at: view.done_at.filter(|_| rejected),
            rejected_reason: view.reject_reason,
            waiting_because,
            failures: view.failures,
            next_attempt_at: queued.then_some(view.next_attempt_at),
            state: view.state,
        }
    }
}

/// A download of one of the application's certificates.
#[derive(Debug, Clone, Serialize)]
pub struct Download {
    /// The certificate.
    pub certificate_number: String,
    /// Who, by role only (staff names are not the applicant's business).
    pub by: String,
    /// When.
    pub at: String,
}

/// The applicant's ledger of an application: its transfers and the downloads of its
/// certificates.
#[derive(Debug, Clone, Serialize)]
pub struct Ledger {
    /// The application.
    pub application: String,
    /// Every delivery (certificate copies and status changes), oldest first.
    pub transfers: Vec<LedgerEntry>,
    /// Every download, oldest first.
    pub downloads: Vec<Download>,
}

/// A department's lane as staff see it.
#[derive(Debug, Clone, Serialize)]
pub struct Lane {
    /// The department.
    pub department: String,
    /// Whether it is active (an inactive department's deliveries wait).
    pub active: bool,
    /// Its push endpoint, if registered.
    pub endpoint: Option<String>,
    /// The deliveries after the requested sequence number, in order.
    pub deliveries: Vec<LedgerEntry>,
}

impl Bureau {
    /// Registers a new department with its push endpoint and receipt key (`issuer department
    /// add`); names default to the code. Everything is checked before anything is written.
    pub async fn add_department(
        &self,
        code: &str,
        names: &Names,
        endpoint: &str,
        receipt_key_pem: &str,
        actor: &str,
    ) -> Result<Department, CaseError> {
        check_code(code)?;
        check_endpoint(endpoint, receipt_key_pem)?;
        if self.store().department(code).await?.is_some() {
            return Err(CaseError::Conflict(format!(
                "department {code} is already registered; use set-endpoint"
            )));
        }
        let name =
            |field: &str, n: &Option<String>| check_name(field, n.as_deref().unwrap_or(code));
        let department = Department {
            code: code.to_owned(),
            name_zh: name("name_zh", &names.zh)?,
            name_pt: name("name_pt", &names.pt)?,
            name_en: name("name_en", &names.en)?,
            active: true,
            has_credentials: false,
        };
        let now = OffsetDateTime::now_utc();
        self.store().put_department(&department, actor, now).await?;
        self.store()
            .set_department_endpoint(code, endpoint, receipt_key_pem, actor, now)
            .await?;
        self.department_now(code).await
    }

    /// Registers or updates a department's names and whether it is active (the registry
    /// without the push endpoint).
    pub async fn put_department(
        &self,
        code: &str,
        names: &Names,
        active: bool,
        actor: &str,
    ) -> Result<Department, CaseError> {
        check_code(code)?;
        let name = |field: &str, n: &Option<String>| {
            n.as_deref()
                .ok_or_else(|| CaseError::invalid(field, "required"))
                .and_then(|n| check_name(field, n))
        };
        let department = Department {
            code: code.to_owned(),
            name_zh: name("name_zh", &names.zh)?,
            name_pt: name("name_pt", &names.pt)?,
            name_en: name("name_en", &names.en)?,
            active,
            has_credentials: false,
        };
        self.store()
            .put_department(&department, actor, OffsetDateTime::now_utc())
            .await?;
        self.department_now(code).await
    }

    /// Changes where a registered department receives pushed transfers and the key its
    /// receipts are signed with (`issuer department set-endpoint`). Queued deliveries go to
    /// the new endpoint from their next attempt, and are checked against the new key.
    pub async fn set_department_endpoint(
        &self,
        code: &str,
        endpoint: &str,
        receipt_key_pem: &str,
        actor: &str,
    ) -> Result<Endpoint, CaseError> {
        check_endpoint(endpoint, receipt_key_pem)?;
        self.store()
            .set_department_endpoint(
                code,
                endpoint,
                receipt_key_pem,
                actor,
                OffsetDateTime::now_utc(),
            )
            .await?;
        self.store()
            .department_endpoint(code)
            .await?
            .ok_or_else(|| CaseError::Internal(format!("endpoint of {code} vanished")))
    }

    /// Activates or deactivates a department (audited). A deactivated department's
    /// deliveries stay queued, are not sent, and show why to the applicant and staff; they
    /// resume when it is reactivated.
    pub async fn set_department_active(
        &self,
        code: &str,
        active: bool,
        actor: &str,
    ) -> Result<Department, CaseError> {
        let mut department = self.department_now(code).await?;
        department.active = active;
        self.store()
            .put_department(&department, actor, OffsetDateTime::now_utc())
            .await?;
        self.department_now(code).await
    }

    /// The department `code`.
    pub async fn department_now(&self, code: &str) -> Result<Department, CaseError> {
        self.store()
            .department(code)
            .await?
            .ok_or_else(|| CaseError::NotFound(format!("no department {code}")))
    }

    /// A department's lane after sequence number `after` (at most `limit`, 1 to 500).
    pub async fn department_lane(
        &self,
        code: &str,
        after: i64,
        limit: i64,
    ) -> Result<Lane, CaseError> {
        if !(1..=500).contains(&limit) {
            return Err(CaseError::invalid("limit", "between 1 and 500"));
        }
        let department = self.department_now(code).await?;
        let endpoint = self.store().department_endpoint(code).await?;
        let deliveries = self
            .store()
            .lane(code, after.max(0), limit)
            .await?
            .into_iter()
            .map(|(view, _)| LedgerEntry::new(view, department.active, endpoint.is_some()))
            .collect();
        Ok(Lane {
            department: department.code,
            active: department.active,
            endpoint: endpoint.map(|e| e.endpoint),
            deliveries,
        })
    }

    /// The ledger of application `application_id` (the caller's right to see it is checked
    /// before): each transfer with its state, and each download of its certificates.
    pub async fn ledger(&self, application_id: &str) -> Result<Ledger, CaseError> {
        let mut transfers = Vec::new();
        let mut seen: Vec<(String, bool, bool)> = Vec::new();
        for view in self
            .store()
            .deliveries_of_application(application_id)
            .await?
        {
            let known = seen.iter().find(|(code, ..)| *code == view.department);
            let (active, has_endpoint) = match known {
                Some((_, active, has_endpoint)) => (*active, *has_endpoint),
                None => {
                    let active = self
                        .store()
                        .department(&view.department)
                        .await?
                        .is_some_and(|d| d.active);
                    let has_endpoint = self
                        .store()
                        .department_endpoint(&view.department)
                        .await?
                        .is_some();
                    seen.push((view.department.clone(), active, has_endpoint));
                    (active, has_endpoint)
                }
            };
            transfers.push(LedgerEntry::new(view, active, has_endpoint));
        }
        let downloads = self
            .store()
            .downloads_of_application(application_id)
            .await?
            .into_iter()
            .map(|(number, actor, at)| Download {
                certificate_number: number,
                by: actor.split(':').next().unwrap_or_default().to_owned(),
                at,
            })
            .collect();
        Ok(Ledger {
            application: application_id.to_owned(),
            transfers,
            downloads,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_short_upper_case() {
        assert!(check_code("DSAL").is_ok());
        assert!(check_code("PSP_2").is_ok());
        assert!(check_code("D").is_err());
        assert!(check_code("dsal").is_err());
        assert!(check_code("ABCDEFGHIJKLMNOPQ").is_err());
        assert!(check_code("DS AL").is_err());
    }

    #[test]
    fn endpoints_and_keys_are_checked_before_anything_is_written() {
        let key = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n-----END PUBLIC KEY-----\n";
        assert!(check_endpoint("https://dsal.gov.mo/inbox", key).is_ok());
        assert!(matches!(
            check_endpoint("http://dsal.gov.mo/inbox", key),
            Err(CaseError::Invalid { field, .. }) if field == "endpoint"
        ));
        assert!(matches!(
            check_endpoint("https://dsal.gov.mo/inbox", "not a key"),
            Err(CaseError::Invalid { field, .. }) if field == "receipt_key_pem"
        ));
        assert!(matches!(
            check_endpoint("https://dsal.gov.mo/inbox", &"x".repeat(5000)),
            Err(CaseError::TooLarge { .. })
        ));
    }
}
