//! Why a use case refused or failed: one error for the CLI, the JSON API and the pages, each
//! of which turns it into its own answer (an exit code, an `ApiError`, a page).

use crate::bureau::BureauError;
use crate::rules::request::RequestError;
use crate::store::StoreError;

/// A use case's refusal or failure. The messages are English and name the field as the API
/// spells it; pages show their own translated text for the field instead.
#[derive(Debug, thiserror::Error)]
pub enum CaseError {
    /// A value is refused; `field` is its path in the API's body (`holder.document`), or
    /// empty when the request as a whole is refused.
    #[error("{}", prefixed(field, message))]
    Invalid {
        /// The field.
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// A value is larger than its limit.
    #[error("{field}: larger than the limit of {limit} bytes")]
    TooLarge {
        /// The field.
        field: String,
        /// The limit in bytes.
        limit: usize,
    },
    /// The application cannot be made online at all: the applicant must go to a counter
    /// (a first-time non-resident worker).
    #[error("{field}: {message}")]
    CounterOnly {
        /// The field that decided it.
        field: &'static str,
        /// Why.
        message: String,
    },
    /// The request lacks something it must carry (not a field's value).
    #[error("{0}")]
    Malformed(String),
    /// The application is not in a state that allows the action.
    #[error("{0}")]
    Conflict(String),
    /// Nothing of that name for this caller (never "exists but not yours").
    #[error("{0}")]
    NotFound(String),
    /// Too many attempts.
    #[error("{0}")]
    Limited(String),
    /// A signature or credential did not prove what it must.
    #[error("{0}")]
    Unauthenticated(String),
    /// A failure inside (registry, engine); the detail is for the log only.
    #[error("{0}")]
    Internal(String),
}

impl CaseError {
    /// A refused value of `field`.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }

    /// An internal failure.
    pub fn internal(error: &dyn std::fmt::Display) -> Self {
        Self::Internal(error.to_string())
    }
}

impl From<StoreError> for CaseError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(m) => Self::Conflict(m),
            StoreError::NotFound(m) => Self::NotFound(m),
            StoreError::Limit(m) => Self::Limited(m),
            StoreError::Invalid(m) => Self::invalid("", m),
            StoreError::UnknownCertificate(_) => Self::NotFound(e.to_string()),
            StoreError::Transition { .. } => Self::Conflict(e.to_string()),
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<RequestError> for CaseError {
    fn from(e: RequestError) -> Self {
        match e {
            RequestError::Field { field, message } => Self::Invalid { field, message },
            RequestError::Shape(_) => Self::invalid("", e.to_string()),
        }
    }
}

/// `field: message`, or the message alone for the request as a whole.
fn prefixed(field: &str, message: &str) -> String {
    if field.is_empty() {
        message.to_owned()
    } else {
        format!("{field}: {message}")
    }
}

impl From<BureauError> for CaseError {
    fn from(e: BureauError) -> Self {
        match e {
            BureauError::Store(s) => s.into(),
            BureauError::Request(r) => r.into(),
            BureauError::Usage(m) => Self::invalid("", m),
            // A page that cannot be rendered is the request's fault (e.g. a character no
            // shipped font covers), found before anything is written.
            BureauError::Engine(crate::issuance::engine::EngineError::Render(r)) => {
                Self::invalid("", r.to_string())
            }
            other => Self::Internal(other.to_string()),
        }
    }
}
