//! Signing in and out of the portal, and the applicant's list of applications.
//!
//! The development provider signs anyone in by an identifier, exactly as the API's
//! development sign-in does (the same [`crate::identity::auth::development_subject`] rule and the same
//! account). Signing in replaces the visitor's anonymous session with a new one.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use time::OffsetDateTime;

use base64::Engine as _;

use super::session::{self, CheckedForm, Visitor};
use super::{FieldError, Frame, PageError, TextField, language, page};
use crate::bureau::Services as AppState;
use crate::bureau::signing_in::{Callback, ProviderAnswer};

/// `?next=` and `?lang=` of the sign-in page.
#[derive(Debug, serde::Deserialize)]
pub struct SignInQuery {
    #[serde(default)]
    lang: Option<String>,
    #[serde(default)]
    next: Option<String>,
}

/// Where to go after signing in: a path of this site only (never `//host` or a URL).
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => {
            n.chars().take(512).collect()
        }
        _ => "/applications".to_owned(),
    }
}

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInPage {
    frame: Frame,
    errors: Vec<FieldError>,
    csrf: String,
    next: String,
    subject: TextField,
    /// With the production identity provider: where "Sign in" goes instead of the form.
    oidc: Option<String>,
}

fn sign_in_page(
    state: &AppState,
    lang: super::i18n::Lang,
    csrf: &str,
    next: String,
    typed: &str,
    error: Option<&'static str>,
) -> SignInPage {
    let t = lang.text();
    let mut frame = Frame::new(state, lang, "/sign-in", t.sign_in_title);
    frame.has_errors = error.is_some();
    SignInPage {
        frame,
        errors: error
            .map(|message| FieldError {
                field: "subject",
                message,
            })
            .into_iter()
            .collect(),
        csrf: csrf.to_owned(),
        oidc: None,
        next,
        subject: TextField {
            id: "subject",
            label: t.subject_label.into(),
            hint: Some(t.subject_hint.into()),
            value: typed.to_owned(),
            error: error.map(str::to_owned),
            input_type: "text",
            autocomplete: Some("username"),
            inputmode: None,
        },
    }
}

/// `GET /sign-in`: the development provider's form (an anonymous session is started for its
/// form token).
pub async fn sign_in_form(
    State(state): State<Arc<AppState>>,
    Query(query): Query<SignInQuery>,
    headers: HeaderMap,
    visitor: Visitor,
) -> Result<Response, PageError> {
    let (lang, chosen) = language(
        &super::LangQuery {
            lang: query.lang.clone(),
        },
        &headers,
    );
    let next = safe_next(query.next.as_deref());
    if state.bureau.config().providers.identity != "development" {
        // The production provider signs in through its own pages, if the portal has a
        // registered callback.
        if state
            .oidc
            .as_ref()
            .and_then(|p| p.portal_redirect_uri())
            .is_none()
        {
            return Err(PageError::NotFound(lang));
        }
        let mut template = sign_in_page(&state, lang, "", next.clone(), "", None);
        template.oidc = Some(format!("/sign-in/oidc?next={}", form_urlencoded(&next)));
        return page(&template, lang, chosen);
    }
    let (session, cookie) = match visitor.session {
        Some(s) => (s, None),
        None => {
            let (s, c) = session::start(&state, None).await?;
            (s, Some(c))
        }
    };
    let template = sign_in_page(&state, lang, &session.csrf_token, next, "", None);
    let mut response = page(&template, lang, chosen)?;
    if let Some(cookie) = cookie {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

/// `GET /sign-in/oidc`: starts a sign-in with the production identity provider; the
/// browser keeps the sign-in's `state` (and where to go after) in a short-lived cookie.
pub async fn oidc_start(
    State(state): State<Arc<AppState>>,
    Query(query): Query<SignInQuery>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let (lang, _) = language(
        &super::LangQuery {
            lang: query.lang.clone(),
        },
        &headers,
    );
    let (url, sign_in_state) = state
        .oidc_begin(Callback::Portal)
        .await
        .map_err(|e| PageError::from_case(e, lang))?;
    let next =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(safe_next(query.next.as_deref()));
    let cookie = session::oidc_cookie(&state, &format!("{sign_in_state}.{next}"))?;
    let mut response = (StatusCode::FOUND, [(header::LOCATION, url)]).into_response();
    response.headers_mut().append(header::SET_COOKIE, cookie);
    Ok(response)
}

/// `GET /sign-in/callback`: the identity provider's redirect back to the portal. Only the
/// sign-in this browser began is finished (its cookie's state); the portal session is new.
pub async fn oidc_callback(
    State(state): State<Arc<AppState>>,
    Query(answer): Query<ProviderAnswer>,
    headers: HeaderMap,
    visitor: Visitor,
) -> Result<Response, PageError> {
    let lang = super::i18n::Lang::of_request(None, &headers);
    let pending = session::oidc_cookie_value(&state, &headers).unwrap_or_default();
    let (began, next) = pending.split_once('.').unwrap_or(("", ""));
    let returned = answer.state.as_deref().unwrap_or_default();
    if began.is_empty() || !session::same_secret(began, returned) {
        return Err(PageError::Forbidden(lang));
    }
    let next = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(next)
        .ok()
        .and_then(|n| String::from_utf8(n).ok());
    let applicant = match state.oidc_finish(Callback::Portal, answer).await {
        Ok(id) => id,
        Err(
            crate::bureau::CaseError::Unauthenticated(why)
            | crate::bureau::CaseError::Malformed(why),
        ) => {
            eprintln!("issuer: portal sign-in refused: {why}");
            return Err(PageError::Forbidden(lang));
        }
        Err(e) => return Err(PageError::from_case(e, lang)),
    };
    if let Some(old) = &visitor.session {
        state
            .store()
            .end_web_session(&old.id_hash)
            .await
            .map_err(|e| PageError::Internal(e.to_string()))?;
    }
    let (_, cookie) = session::start(&state, Some(&applicant)).await?;
    let mut response = Redirect::to(&safe_next(next.as_deref())).into_response();
    response.headers_mut().append(header::SET_COOKIE, cookie);
    response
        .headers_mut()
        .append(header::SET_COOKIE, session::clear_oidc_cookie(&state));
    Ok(response)
}

/// The sign-in form's fields.
#[derive(Debug, serde::Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    subject: String,
    #[serde(default)]
    next: Option<String>,
}

/// `POST /sign-in`: signs in with the development provider, in a new session.
pub async fn sign_in(
    State(state): State<Arc<AppState>>,
    Query(query): Query<super::LangQuery>,
    headers: HeaderMap,
    form: CheckedForm<SignInForm>,
) -> Result<Response, PageError> {
    let (lang, _) = language(&query, &headers);
    if state.bureau.config().providers.identity != "development" {
        return Err(PageError::NotFound(lang));
    }
    let next = safe_next(form.fields.next.as_deref());
    let Some(subject) = crate::identity::auth::development_subject(&form.fields.subject) else {
        let template = sign_in_page(
            &state,
            lang,
            &form.session.csrf_token,
            next,
            &form.fields.subject,
            Some(lang.text().subject_error),
        );
        let mut response = page(&template, lang, false)?;
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        return Ok(response);
    };
    let store = state.bureau.store();
    let applicant = store
        .applicant_for(
            "development",
            subject,
            None,
            None,
            OffsetDateTime::now_utc(),
        )
        .await
        .map_err(|e| PageError::Internal(e.to_string()))?;
    store
        .end_web_session(&form.session.id_hash)
        .await
        .map_err(|e| PageError::Internal(e.to_string()))?;
    let (_, cookie) = session::start(&state, Some(&applicant)).await?;
    let mut response = Redirect::to(&next).into_response();
    response.headers_mut().append(header::SET_COOKIE, cookie);
    Ok(response)
}

/// The sign-out form (its token only).
#[derive(Debug, serde::Deserialize)]
pub struct TokenForm {}

/// `POST /sign-out`: ends the session.
pub async fn sign_out(
    State(state): State<Arc<AppState>>,
    form: CheckedForm<TokenForm>,
) -> Result<Response, PageError> {
    state
        .bureau
        .store()
        .end_web_session(&form.session.id_hash)
        .await
        .map_err(|e| PageError::Internal(e.to_string()))?;
    let mut response = Redirect::to("/").into_response();
    response
        .headers_mut()
        .append(header::SET_COOKIE, session::clear_cookie(&state));
    Ok(response)
}

/// One row of the applicant's list.
#[derive(Debug)]
struct ApplicationRowView {
    reference: String,
    state: &'static str,
    due: String,
}

#[derive(Template)]
#[template(path = "applications.html")]
struct ApplicationsPage {
    frame: Frame,
    csrf: String,
    rows: Vec<ApplicationRowView>,
}

/// The answer to a visitor who must sign in first: the timeout page if their session has
/// just ended, else the sign-in page, coming back to `here` afterwards.
pub fn sign_in_first(visitor: &Visitor, lang: super::i18n::Lang, here: &str) -> Response {
    if visitor.timed_out {
        return PageError::TimedOut(lang).into_response();
    }
    let mut response = Redirect::to(&format!(
        "/sign-in?lang={}&next={}",
        lang.code(),
        form_urlencoded(here)
    ))
    .into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn form_urlencoded(text: &str) -> String {
    serde_urlencoded::to_string([("", text)])
        .map(|s| s.trim_start_matches('=').to_owned())
        .unwrap_or_default()
}

/// `GET /applications`: the signed-in applicant's applications.
pub async fn applications(
    State(state): State<Arc<AppState>>,
    Query(query): Query<super::LangQuery>,
    headers: HeaderMap,
    visitor: Visitor,
) -> Result<Response, PageError> {
    let (lang, chosen) = language(&query, &headers);
    let (Some(session), Some(applicant)) = (&visitor.session, visitor.applicant()) else {
        return Ok(sign_in_first(&visitor, lang, "/applications"));
    };
    let t = lang.text();
    let rows = state
        .bureau
        .store()
        .applications_of(applicant)
        .await
        .map_err(|e| PageError::Internal(e.to_string()))?
        .into_iter()
        .map(|a| ApplicationRowView {
            state: t.state_name(&a.state),
            due: a.due_date.clone().unwrap_or_default(),
            reference: a.id,
        })
        .collect();
    let template = ApplicationsPage {
        frame: Frame::new(&state, lang, "/applications", t.my_applications_title)
            .signed_in(&session.csrf_token),
        csrf: session.csrf_token.clone(),
        rows,
    };
    page(&template, lang, chosen)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_of_this_site_are_followed_after_sign_in() {
        assert_eq!(safe_next(Some("/apply?lang=pt")), "/apply?lang=pt");
        for bad in [
            "//evil.example",
            "https://evil.example/",
            "/\\evil.example",
            "apply",
        ] {
            assert_eq!(safe_next(Some(bad)), "/applications", "{bad}");
        }
        assert_eq!(safe_next(None), "/applications");
    }
}
