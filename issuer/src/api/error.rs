//! API errors: one JSON shape, `{"error": {"code", "message"}}`, with the HTTP status that
//! says whose fault it is. Internal failures are logged with a reference and never shown to
//! the client beyond that reference.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::bureau::BureauError;
use crate::store::StoreError;

/// An error answered to an API client.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    /// An error with an explicit status.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    /// 400: the request cannot be understood.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    /// 401: no valid credentials.
    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthenticated", message)
    }

    /// 403: the caller's role may not do this.
    pub fn forbidden() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "your role may not perform this action",
        )
    }

    /// 404.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// 409: not allowed in the current state.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", message)
    }

    /// 422: a field's value is not acceptable.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", message)
    }

    /// 429: a rate or attempt limit.
    pub fn limited(message: impl Into<String>) -> Self {
        Self::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", message)
    }

    /// 500: logged with a reference; the client sees only the reference.
    pub fn internal(error: &dyn std::fmt::Display) -> Self {
        let reference = crate::store::random_id("ERR");
        eprintln!("issuer: internal error {reference}: {error}");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            format!("internal error (reference {reference})"),
        )
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": { "code": self.code, "message": self.message } });
        (self.status, Json(body)).into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(m) => Self::conflict(m),
            StoreError::NotFound(m) => Self::not_found(m),
            StoreError::Limit(m) => Self::limited(m),
            StoreError::Invalid(m) => Self::invalid(m),
            StoreError::UnknownCertificate(_) => Self::not_found(e.to_string()),
            StoreError::Transition { .. } => Self::conflict(e.to_string()),
            other => Self::internal(&other),
        }
    }
}

impl From<BureauError> for ApiError {
    fn from(e: BureauError) -> Self {
        match e {
            BureauError::Store(s) => s.into(),
            BureauError::Request(r) => Self::invalid(r.to_string()),
            BureauError::Usage(m) => Self::invalid(m),
            // A page that cannot be rendered is the request's fault (e.g. a character no
            // shipped font covers), found before anything is written.
            BureauError::Engine(crate::engine::EngineError::Render(r)) => {
                Self::invalid(r.to_string())
            }
            other => Self::internal(&other),
        }
    }
}
