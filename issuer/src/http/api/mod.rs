//! The issuer's application API (SPEC §7, `/api/v1`): applicants through the four steps,
//! staff through review and issuance, departments through transfers, with role checks on
//! every endpoint, explicit body limits and a request time limit. The OpenAPI document
//! (`issuer/openapi.json`) is served at `/api/openapi.json`.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde::Serialize;

mod accounts;
mod applicant;
pub mod error;
mod extract;
mod staff;
mod transfers;

pub use error::ApiError;

/// The OpenAPI document of this API.
pub const OPENAPI: &str = include_str!("../../../openapi.json");

/// Longest a request may take before it is answered 503.
pub const REQUEST_TIME_LIMIT: Duration = Duration::from_secs(30);

/// Everything the handlers share: the use cases' services.
pub use crate::bureau::Services as AppState;

/// The application API router (merged with the public endpoints by `issuer serve`).
pub fn router(state: Arc<AppState>) -> Router {
    let limits = state.bureau.config().application.clone();
    let uploads = Router::new()
        .route(
            "/api/v1/applications/{id}/face",
            post(applicant::face_check),
        )
        .route(
            "/api/v1/applications/{id}/exemption",
            post(applicant::request_exemption),
        )
        .route(
            "/api/v1/applications/{id}/information",
            post(applicant::provide_information),
        )
        .layer(DefaultBodyLimit::max(limits.max_upload_bytes));
    let api = Router::new()
        .route("/api/openapi.json", get(openapi))
        .route("/api/v1/options", get(applicant::options))
        .route("/api/v1/auth/dev/sign-in", post(accounts::dev_sign_in))
        .route("/api/v1/auth/oidc/start", get(accounts::oidc_start))
        .route("/api/v1/auth/oidc/callback", get(accounts::oidc_callback))
        .route("/api/v1/auth/staff/sign-in", post(accounts::staff_sign_in))
        .route(
            "/api/v1/auth/department/token",
            post(accounts::department_token),
        )
        .route("/api/v1/auth/sign-out", post(accounts::sign_out))
        .route("/api/v1/me", get(accounts::me))
        .route(
            "/api/v1/applications",
            post(applicant::create).get(applicant::list),
        )
        .route("/api/v1/applications/{id}", get(applicant::show))
        .route(
            "/api/v1/applications/{id}/confirmation",
            put(applicant::confirm),
        )
        .route("/api/v1/applications/{id}/otp", post(applicant::send_otp))
        .route(
            "/api/v1/applications/{id}/otp/verify",
            post(applicant::verify_otp),
        )
        .route(
            "/api/v1/applications/{id}/payments",
            post(applicant::create_payment),
        )
        .route(
            "/api/v1/applications/{id}/certificates",
            get(applicant::certificates),
        )
        .route(
            "/api/v1/payments/callback",
            post(applicant::payment_callback),
        )
        .route(
            "/api/v1/sandbox/payments/{id}/complete",
            post(applicant::sandbox_complete),
        )
        .route(
            "/api/v1/applications/{id}/exemption/decision",
            post(staff::decide_exemption),
        )
        .route("/api/v1/applications/{id}/review", post(staff::review))
        .route("/api/v1/applications/{id}/decision", post(staff::decide))
        .route(
            "/api/v1/applications/{id}/collected",
            post(staff::collected),
        )
        .route(
            "/api/v1/applications/{id}/locker",
            post(staff::deposit_in_locker),
        )
        .route("/api/v1/paper/print-queue", get(staff::print_queue))
        .route("/api/v1/paper/print-batch", post(staff::print_batch))
        .route("/api/v1/paper/printed", post(staff::mark_printed))
        .route(
            "/api/v1/applications/{id}/records",
            get(staff::application_records),
        )
        .route("/api/v1/applications/{id}/documents", get(staff::documents))
        .route("/api/v1/records", post(staff::add_record))
        .route("/api/v1/jobs", get(staff::jobs))
        .route("/api/v1/jobs/{id}/retry", post(staff::retry_job))
        .route(
            "/api/v1/certificates/{number}/pdf",
            get(applicant::certificate_pdf),
        )
        .route("/api/v1/certificates/{number}/revoke", post(staff::revoke))
        .route(
            "/api/v1/certificates/{number}/suspend",
            post(staff::suspend),
        )
        .route(
            "/api/v1/certificates/{number}/reinstate",
            post(staff::reinstate),
        )
        .route(
            "/api/v1/certificates/{number}/reissue",
            post(staff::reissue),
        )
        .route("/api/v1/departments", get(accounts::departments))
        .route("/api/v1/departments/{code}", put(accounts::put_department))
        .route(
            "/api/v1/departments/{code}/credentials",
            post(accounts::department_credentials),
        )
        .route(
            "/api/v1/departments/{code}/endpoint",
            put(transfers::put_endpoint),
        )
        .route(
            "/api/v1/departments/{code}/deliveries",
            get(transfers::department_deliveries),
        )
        .route("/api/v1/transfers/envelopes", get(transfers::envelopes))
        .route(
            "/api/v1/applications/{id}/transfers",
            get(transfers::ledger),
        )
        .route("/api/v1/transfers", get(accounts::transfers))
        .route(
            "/api/v1/transfers/notifications",
            get(accounts::department_notifications),
        )
        .route("/api/v1/audit", get(accounts::audit))
        .route("/api/v1/audit/verify", get(accounts::audit_verify))
        .route("/api/v1/dev/outbox", get(accounts::dev_outbox))
        .layer(DefaultBodyLimit::max(limits.max_json_bytes));
    api.merge(uploads)
        .fallback(not_found)
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                axum::http::StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this endpoint does not accept that method",
            )
        })
        .layer(axum::middleware::from_fn(time_limit))
        .layer(axum::middleware::map_response(no_store))
        .with_state(state)
}

/// Unknown paths: a JSON error under `/api/`, the portal's "page not found" elsewhere.
async fn not_found(uri: axum::http::Uri, headers: axum::http::HeaderMap) -> Response {
    if uri.path().starts_with("/api/") {
        return ApiError::not_found("no such endpoint").into_response();
    }
    let lang = crate::http::web::i18n::Lang::of_request(None, &headers);
    crate::http::web::security_headers(crate::http::web::PageError::NotFound(lang).into_response())
        .await
}

async fn openapi() -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        OPENAPI,
    )
        .into_response()
}

/// Answers 503 when a request runs past [`REQUEST_TIME_LIMIT`].
async fn time_limit(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    match tokio::time::timeout(REQUEST_TIME_LIMIT, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::new(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "timeout",
            "the request took too long; nothing was changed unless a later enquiry shows it",
        )
        .into_response(),
    }
}

/// API answers carry personal data: no shared cache may keep them.
async fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}

/// A JSON `200` (or other status) answer.
fn json<T: Serialize>(status: axum::http::StatusCode, value: &T) -> Response {
    (status, axum::Json(value)).into_response()
}
