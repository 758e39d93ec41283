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
            message: bounded(&message.into()),
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

/// Most characters of one quoted piece (`"…"` or `` `…` ``) kept in a message: messages
/// quote the offending input (ours with `{:?}`, serde's with quotes or backticks), and an
/// answer must not echo kilobytes of it.
pub const MAX_QUOTED_CHARS: usize = 64;
/// Most characters of a whole message: the backstop for input echoed without quotes.
pub const MAX_MESSAGE_CHARS: usize = 600;

/// `message` with every quoted piece cut to [`MAX_QUOTED_CHARS`] and the whole to
/// [`MAX_MESSAGE_CHARS`], each cut marked with `…`. Every API error passes through here.
pub fn bounded(message: &str) -> String {
    let mut out = String::with_capacity(message.len().min(MAX_MESSAGE_CHARS * 4));
    let mut chars = message.chars();
    while let Some(c) = chars.next() {
        out.push(c);
        if c != '"' && c != '`' {
            continue;
        }
        let (mut kept, mut cut) = (0, false);
        while let Some(d) = chars.next() {
            if d == c {
                break;
            }
            // A Debug-quoted string's escape stays whole: `\"` does not close the quote.
            let escaped = (c == '"' && d == '\\').then(|| chars.next()).flatten();
            if kept < MAX_QUOTED_CHARS && !cut {
                out.push(d);
                out.extend(escaped);
                kept += 1;
            } else {
                cut = true;
            }
        }
        if cut {
            out.push('…');
        }
        out.push(c);
    }
    if out.chars().count() > MAX_MESSAGE_CHARS {
        out = out.chars().take(MAX_MESSAGE_CHARS).collect();
        out.push('…');
    }
    out
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

impl From<crate::bureau::CaseError> for ApiError {
    fn from(e: crate::bureau::CaseError) -> Self {
        use crate::bureau::CaseError;
        match e {
            CaseError::Invalid { .. } | CaseError::CounterOnly { .. } => {
                Self::invalid(e.to_string())
            }
            CaseError::TooLarge { .. } => {
                Self::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", e.to_string())
            }
            CaseError::Malformed(m) => Self::bad_request(m),
            CaseError::Conflict(m) => Self::conflict(m),
            CaseError::NotFound(m) => Self::not_found(m),
            CaseError::Limited(m) => Self::limited(m),
            CaseError::Unauthenticated(m) => Self::unauthenticated(m),
            CaseError::Internal(detail) => Self::internal(&detail),
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
            BureauError::Engine(crate::issuance::engine::EngineError::Render(r)) => {
                Self::invalid(r.to_string())
            }
            other => Self::internal(&other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echoed_input_is_cut_to_a_few_dozen_characters() {
        let long = "A".repeat(60_000);
        let ours = bounded(&format!("usage: {long:?} is not a known usage"));
        assert_eq!(
            ours,
            format!(
                "usage: \"{}…\" is not a known usage",
                "A".repeat(MAX_QUOTED_CHARS)
            )
        );
        let serde = bounded(&format!(
            "unknown variant `{long}`, expected one of `zh`, `pt`, `en` at line 1 column 60010"
        ));
        assert!(serde.ends_with("expected one of `zh`, `pt`, `en` at line 1 column 60010"));
        assert!(serde.len() < 200, "{serde}");
        let escaped = bounded(r#"name: "a\"b" is odd"#);
        assert_eq!(
            escaped, r#"name: "a\"b" is odd"#,
            "escapes do not end the quote"
        );
        let unquoted = bounded(&format!("no application {long}"));
        assert_eq!(unquoted.chars().count(), MAX_MESSAGE_CHARS + 1);
        assert_eq!(bounded("short and plain"), "short and plain");
        assert!(ApiError::invalid(format!("kind: {long:?}")).message.len() < 100);
    }
}
