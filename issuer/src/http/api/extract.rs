//! Request extractors: the caller (bearer session), and JSON bodies whose rejections become
//! clear API errors (400 syntax, 413 size, 415 content type, 422 shape).

use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use time::OffsetDateTime;

use super::AppState;
use super::error::ApiError;
use crate::identity::auth::{Principal, Role, token_hash};

/// The caller, if the request carries a live session.
#[derive(Debug, Clone)]
pub struct Caller(pub Option<Principal>);

impl Caller {
    /// The caller if their role is one of `roles`: 401 without a session, 403 otherwise.
    pub fn require(&self, roles: &[Role]) -> Result<&Principal, ApiError> {
        let principal = self
            .0
            .as_ref()
            .ok_or_else(|| ApiError::unauthenticated("sign in first (Authorization: Bearer)"))?;
        if roles.contains(&principal.role) {
            Ok(principal)
        } else {
            Err(ApiError::forbidden())
        }
    }
}

/// A set of roles admitted by an endpoint, as a type (see [`Authorized`]).
pub trait RoleSet {
    /// The roles.
    const ROLES: &'static [Role];
}

macro_rules! role_sets {
    ($($(#[$doc:meta])* $name:ident => [$($role:ident),+];)+) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy)]
        pub struct $name;
        impl RoleSet for $name {
            const ROLES: &'static [Role] = &[$(Role::$role),+];
        }
    )+};
}

role_sets! {
    /// Applicants.
    Applicants => [Applicant];
    /// Clerks.
    Clerks => [Clerk];
    /// Officers.
    Officers => [Officer];
    /// Security officers.
    SecurityOfficers => [SecurityOfficer];
}

/// A caller whose role is in `R`, checked from the request's head: axum runs this
/// extractor before the body's, so a caller without the role gets 401/403 and never learns
/// the body's schema from a 422.
#[derive(Debug, Clone)]
pub struct Authorized<R>(Principal, std::marker::PhantomData<R>);

impl<R> Authorized<R> {
    /// The caller.
    pub fn principal(&self) -> &Principal {
        &self.0
    }
}

impl<R: RoleSet> FromRequestParts<Arc<AppState>> for Authorized<R> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let caller = Caller::from_request_parts(parts, state).await?;
        let principal = caller.require(R::ROLES)?.clone();
        Ok(Self(principal, std::marker::PhantomData))
    }
}

/// The bearer token of a request, if any.
pub fn bearer(headers: &axum::http::HeaderMap) -> Result<Option<&str>, ApiError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty() && t.len() <= 128)
        .map(Some)
        .ok_or_else(|| {
            ApiError::unauthenticated("the Authorization header must be `Bearer <token>`")
        })
}

impl FromRequestParts<Arc<AppState>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let Some(token) = bearer(&parts.headers)? else {
            return Ok(Self(None));
        };
        let session = state
            .bureau
            .store()
            .session(&token_hash(token), OffsetDateTime::now_utc())
            .await?
            .ok_or_else(|| ApiError::unauthenticated("the session is unknown or has expired"))?;
        let role = Role::parse(&session.role)
            .ok_or_else(|| ApiError::internal(&format!("stored role {:?}", session.role)))?;
        Ok(Self(Some(Principal::new(role, session.principal))))
    }
}

/// The client's IP address, from the connection: the server must be run with
/// `into_make_service_with_connect_info::<SocketAddr>()` (or otherwise put a
/// `ConnectInfo<SocketAddr>` in the request's extensions). Forwarding headers are not
/// trusted: behind a reverse proxy every client would share the proxy's address.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddress(pub std::net::IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|info| Self(info.0.ip()))
            .ok_or_else(|| ApiError::internal(&"the server does not provide client addresses"))
    }
}

/// A JSON body with API-shaped rejections.
#[derive(Debug)]
pub struct Body<T>(pub T);

impl<T, S> FromRequest<S> for Body<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(json_rejection(&rejection)),
        }
    }
}

fn json_rejection(rejection: &JsonRejection) -> ApiError {
    use axum::http::StatusCode;
    match rejection {
        JsonRejection::JsonDataError(e) => ApiError::invalid(format!(
            "the request body does not match the schema: {}",
            std::error::Error::source(e).map_or_else(|| e.to_string(), ToString::to_string)
        )),
        JsonRejection::JsonSyntaxError(_) => {
            ApiError::bad_request("the request body is not valid JSON")
        }
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the body as Content-Type: application/json",
        ),
        JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                "the request body exceeds the size limit of this endpoint",
            )
        }
        other => ApiError::bad_request(other.body_text()),
    }
}

/// The `Idempotency-Key` header: at most 100 visible ASCII characters.
pub fn idempotency_key(headers: &axum::http::HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .ok()
        .filter(|k| !k.is_empty() && k.len() <= 100 && k.bytes().all(|b| b.is_ascii_graphic()))
        .ok_or_else(|| {
            ApiError::bad_request("Idempotency-Key must be 1 to 100 visible ASCII characters")
        })?;
    Ok(Some(key.to_owned()))
}

/// A path parameter with an API-shaped rejection (400 JSON instead of axum's text).
#[derive(Debug)]
pub struct Path<T>(pub T);

impl<T, S> FromRequestParts<S> for Path<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| Self(value))
            .map_err(|e| ApiError::bad_request(format!("path: {}", e.body_text())))
    }
}

/// A query string with an API-shaped rejection (400 JSON instead of axum's text).
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(value)| Self(value))
            .map_err(|e| ApiError::bad_request(format!("query: {}", e.body_text())))
    }
}

/// The raw body (bounded by the route's limit) with an API-shaped rejection.
#[derive(Debug)]
pub struct RawBody(pub axum::body::Bytes);

impl<S> FromRequest<S> for RawBody
where
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        use axum::http::StatusCode;
        axum::body::Bytes::from_request(req, state)
            .await
            .map(Self)
            .map_err(|e| {
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::new(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "too_large",
                        "the request body exceeds the size limit of this endpoint",
                    )
                } else {
                    ApiError::bad_request(e.body_text())
                }
            })
    }
}
