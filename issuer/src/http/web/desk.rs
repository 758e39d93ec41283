//! What the back office (`/staff`) and the department portal (`/department`) share: signing
//! in with a password and then a second factor, the signed-in person of a page request, and
//! the frame with the area's menu.
//!
//! Each area has its own sessions and cookie ([`Area`]). After the password, a session is
//! only *pending* and opens nothing but the second-factor page; after the code, a new session
//! (a new id) carries the person. A page of another role is refused with 403.

use std::marker::PhantomData;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use askama::Template;
use axum::extract::{FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use time::OffsetDateTime;

use super::i18n::Lang;
use super::i18n::office::Office;
use super::session::{self, Area, CheckedForm, InArea, SessionFor, Visitor};
use super::{DeskBar, Frame, LangQuery, PageError, Problem, TextField, language, page, see_other};
use crate::bureau::CaseError;
use crate::bureau::Services as AppState;
use crate::bureau::people::Desk;
use crate::identity::auth::{Principal, Role};
use crate::store::web_sessions::WebSessionRow;

/// An area reached by signing in with a password and a second factor.
pub trait DeskArea: InArea + Send + Sync + 'static {
    /// Whose accounts sign in here.
    const DESK: Desk;
    /// The area's root path.
    const BASE: &'static str;
    /// The area's name.
    fn name(o: &Office) -> &'static str;
    /// The area's menu for `who`: (path, text).
    fn menu(state: &AppState, who: &Principal, o: &Office) -> Vec<(&'static str, &'static str)>;
}

/// The bureau's back office.
#[derive(Debug)]
pub struct StaffArea;
impl InArea for StaffArea {
    const AREA: Area = Area::Staff;
}

/// The departments' portal.
#[derive(Debug)]
pub struct DepartmentArea;
impl InArea for DepartmentArea {
    const AREA: Area = Area::Department;
}

/// The signed-in person of a page of area `A`, in the page's language. Without a signed-in
/// session (none, or only the password given) a page is answered by the area's sign-in page
/// (a form post by the timeout page).
#[derive(Debug)]
pub struct OnDesk<A> {
    /// The page's language.
    pub lang: Lang,
    /// Whether it was chosen with `?lang=` just now.
    pub chosen: bool,
    /// The session.
    pub session: WebSessionRow,
    /// The person as the use cases know them.
    pub who: Principal,
    area: PhantomData<A>,
}

/// `role:id` or `department:CODE/person`, as a session stores its person.
pub fn parse_principal(text: &str) -> Option<Principal> {
    let (role, rest) = text.split_once(':')?;
    let role = Role::parse(role)?;
    match rest.split_once('/') {
        Some((id, person)) if role == Role::Department => Some(Principal {
            role,
            id: id.to_owned(),
            person: Some(person.to_owned()),
        }),
        Some(_) => None,
        None => Some(Principal::new(role, rest)),
    }
}

/// The page's `?lang=` and language.
fn query_language(parts: &Parts) -> (Lang, bool) {
    let query_lang: Option<String> = parts.uri.query().and_then(|q| {
        serde_urlencoded::from_str::<Vec<(String, String)>>(q)
            .ok()?
            .into_iter()
            .find(|(name, _)| name == "lang")
            .map(|(_, value)| value)
    });
    let chosen = query_lang.as_deref().and_then(Lang::parse).is_some();
    (
        Lang::of_request(query_lang.as_deref(), &parts.headers),
        chosen,
    )
}

impl<A: DeskArea> FromRequestParts<Arc<AppState>> for OnDesk<A> {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let (lang, chosen) = query_language(parts);
        let visitor = Visitor::of(parts, state, A::AREA).await?;
        let who = visitor.session.as_ref().and_then(|s| {
            let principal = parse_principal(s.principal.as_deref()?)?;
            let expected = match A::DESK {
                Desk::Staff => principal.role.is_staff(),
                Desk::Department => principal.role == Role::Department,
            };
            expected.then_some(principal)
        });
        match (visitor.session, who) {
            (Some(session), Some(who)) => Ok(Self {
                lang,
                chosen,
                session,
                who,
                area: PhantomData,
            }),
            _ if parts.method == Method::GET => {
                let next = parts.uri.path();
                Err(see_other(&format!(
                    "{}/sign-in?lang={}&next={}",
                    A::BASE,
                    lang.code(),
                    form_urlencoded(next)
                )))
            }
            _ => Err(PageError::TimedOut(lang).into_response()),
        }
    }
}

impl<A: DeskArea> OnDesk<A> {
    /// The person, if their role is one of `roles`; else a 403 page.
    pub fn require(&self, roles: &[Role]) -> Result<&Principal, PageError> {
        if roles.contains(&self.who.role) {
            Ok(&self.who)
        } else {
            Err(PageError::Forbidden(self.lang))
        }
    }

    /// The area's strings in the page's language.
    pub fn o(&self) -> &'static Office {
        self.lang.office()
    }

    /// The frame of a page of this area at `path`, with the menu.
    pub fn frame(&self, state: &AppState, path: &str, title: &str) -> Frame {
        let o = self.o();
        let mut frame =
            Frame::new(state, self.lang, path, title).signed_in(&self.session.csrf_token);
        frame.home = A::BASE;
        frame.area_name = Some(A::name(o));
        frame.idle_seconds = state.bureau.config().application.back_office_idle_seconds;
        frame.desk = Some(DeskBar {
            label: o.navigation,
            links: A::menu(state, &self.who, o)
                .into_iter()
                .map(|(href, text)| {
                    (
                        format!("{href}?lang={}", self.lang.code()),
                        text,
                        href == path,
                    )
                })
                .collect(),
            signed_in_as: o.signed_in_as,
            who: match &self.who.person {
                Some(person) => format!("{person} ({})", self.who.id),
                None => format!("{} ({})", self.who.id, role_name(self.who.role, o)),
            },
            sign_out_action: sign_out_path::<A>(),
            sign_out: o.sign_out,
            csrf: self.session.csrf_token.clone(),
        });
        frame
    }

    /// Renders a page of this area.
    pub fn page(&self, template: &impl Template) -> Result<Response, PageError> {
        page(template, self.lang, self.chosen)
    }
}

fn sign_out_path<A: DeskArea>() -> &'static str {
    match A::DESK {
        Desk::Staff => "/staff/sign-out",
        Desk::Department => "/department/sign-out",
    }
}

/// A role's name.
pub fn role_name(role: Role, o: &Office) -> &'static str {
    match role {
        Role::Clerk => o.clerk,
        Role::Officer => o.officer,
        Role::SecurityOfficer => o.security_officer,
        Role::Department => o.department,
        Role::Applicant => "",
    }
}

/// Percent-encodes a path for a query value.
pub fn form_urlencoded(text: &str) -> String {
    serde_urlencoded::to_string([("v", text)])
        .map(|s| s.trim_start_matches("v=").to_owned())
        .unwrap_or_default()
}

/// Where to go after signing in: a path of this area only.
fn safe_next<A: DeskArea>(next: Option<&str>) -> String {
    match next {
        Some(n)
            if (n == A::BASE || n.starts_with(&format!("{}/", A::BASE)))
                && !n.contains("//")
                && !n.contains('\\')
                && !n.contains("/sign-in") =>
        {
            n.chars().take(512).collect()
        }
        _ => A::BASE.to_owned(),
    }
}

/// The client's address (for the sign-in limits), when the server provides it.
fn client_address(parts_extensions: &axum::http::Extensions) -> IpAddr {
    parts_extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |info| info.0.ip())
}

/// `?next=` and `?lang=` of the sign-in pages.
#[derive(Debug, serde::Deserialize)]
pub struct SignInQuery {
    #[serde(default)]
    lang: Option<String>,
    #[serde(default)]
    next: Option<String>,
}

#[derive(Template)]
#[template(path = "desk/sign_in.html")]
struct SignInPage {
    frame: Frame,
    o: &'static Office,
    errors: Vec<Problem>,
    action: String,
    csrf: String,
    next: String,
    username: TextField,
    password: TextField,
}

#[derive(Template)]
#[template(path = "desk/code.html")]
struct CodePage {
    frame: Frame,
    o: &'static Office,
    errors: Vec<Problem>,
    action: String,
    csrf: String,
    next: String,
    code: TextField,
}

fn anonymous_frame<A: DeskArea>(state: &AppState, lang: Lang, path: &str, title: &str) -> Frame {
    let mut frame = Frame::new(state, lang, path, title);
    frame.home = A::BASE;
    frame.area_name = Some(A::name(lang.office()));
    frame
}

fn sign_in_page<A: DeskArea>(
    state: &AppState,
    lang: Lang,
    csrf: &str,
    next: String,
    typed: &str,
    error: Option<&'static str>,
) -> SignInPage {
    let o = lang.office();
    let path = format!("{}/sign-in", A::BASE);
    let mut frame = anonymous_frame::<A>(state, lang, &path, o.sign_in_title);
    frame.has_errors = error.is_some();
    let mut username = TextField::new("username", o.username, typed);
    username.autocomplete = Some("username");
    username.error = error.map(str::to_owned);
    let mut password = TextField::new("password", o.password, "");
    password.input_type = "password";
    password.autocomplete = Some("current-password");
    SignInPage {
        frame,
        o,
        errors: error
            .map(|message| Problem {
                field: "username".into(),
                message: message.into(),
            })
            .into_iter()
            .collect(),
        action: format!("{path}?lang={}", lang.code()),
        csrf: csrf.to_owned(),
        next,
        username,
        password,
    }
}

fn code_page<A: DeskArea>(
    state: &AppState,
    lang: Lang,
    csrf: &str,
    next: String,
    error: Option<&'static str>,
) -> CodePage {
    let o = lang.office();
    let path = format!("{}/sign-in/code", A::BASE);
    let mut frame = anonymous_frame::<A>(state, lang, &path, o.code_title);
    frame.has_errors = error.is_some();
    let mut code = TextField::new("code", o.code_label, "").hint(o.code_hint);
    code.autocomplete = Some("one-time-code");
    code.inputmode = Some("numeric");
    code.error = error.map(str::to_owned);
    CodePage {
        frame,
        o,
        errors: error
            .map(|message| Problem {
                field: "code".into(),
                message: message.into(),
            })
            .into_iter()
            .collect(),
        action: format!("{path}?lang={}", lang.code()),
        csrf: csrf.to_owned(),
        next,
        code,
    }
}

/// `GET …/sign-in`: the password form (an anonymous session of the area carries its token).
pub async fn sign_in_form<A: DeskArea>(
    State(state): State<Arc<AppState>>,
    Query(query): Query<SignInQuery>,
    headers: HeaderMap,
    parts: Parts0,
) -> Result<Response, PageError> {
    let (lang, chosen) = language(
        &LangQuery {
            lang: query.lang.clone(),
        },
        &headers,
    );
    let visitor = Visitor::of(&parts.0, &state, A::AREA)
        .await
        .map_err(|_| PageError::Internal("session lookup".into()))?;
    let (session, cookie) = match visitor.session {
        Some(s) => (s, None),
        None => {
            let (s, c) = session::start_in(&state, A::AREA, SessionFor::default()).await?;
            (s, Some(c))
        }
    };
    let next = safe_next::<A>(query.next.as_deref());
    let template = sign_in_page::<A>(&state, lang, &session.csrf_token, next, "", None);
    let mut response = page(&template, lang, chosen)?;
    if let Some(cookie) = cookie {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

/// The request's parts, for handlers that look at the session of an area themselves.
#[derive(Debug)]
pub struct Parts0(pub Parts);

impl<S: Send + Sync> FromRequestParts<S> for Parts0 {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(parts.clone()))
    }
}

/// The password form's fields.
#[derive(Debug, serde::Deserialize)]
pub struct PasswordFields {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

/// The result of a sign-in step: the next page with the new session's cookie, replacing the
/// one the form came with.
async fn replace_session<A: DeskArea>(
    state: &AppState,
    old: &WebSessionRow,
    who: SessionFor<'_>,
    to: &str,
) -> Result<Response, PageError> {
    let (_, cookie) = session::start_in(state, A::AREA, who).await?;
    state
        .bureau
        .store()
        .end_web_session(&old.id_hash)
        .await
        .map_err(|e| PageError::Internal(e.to_string()))?;
    let mut response = see_other(to);
    response.headers_mut().append(header::SET_COOKIE, cookie);
    Ok(response)
}

/// `POST …/sign-in`: the password. Right, a pending session replaces the anonymous one and
/// the second-factor page follows; wrong, the form again (401) with the reason.
pub async fn sign_in<A: DeskArea>(
    State(state): State<Arc<AppState>>,
    parts: Parts0,
    form: CheckedForm<PasswordFields, A>,
) -> Result<Response, PageError> {
    let lang = session::form_lang(&parts.0);
    let o = lang.office();
    let address = client_address(&parts.0.extensions);
    let fields = form.fields;
    let next = safe_next::<A>(Some(&fields.next));
    match state
        .check_password(A::DESK, fields.username.trim(), &fields.password, address)
        .await
    {
        Ok(username) => {
            let pending = format!("{}:{username}", A::AREA.kind());
            replace_session::<A>(
                &state,
                &form.session,
                SessionFor {
                    pending: Some(&pending),
                    ..SessionFor::default()
                },
                &format!(
                    "{}/sign-in/code?lang={}&next={}",
                    A::BASE,
                    lang.code(),
                    form_urlencoded(&next)
                ),
            )
            .await
        }
        Err(e) => {
            let (status, message) = match e {
                CaseError::Limited(_) => (StatusCode::TOO_MANY_REQUESTS, o.too_many_attempts),
                CaseError::Unauthenticated(_) => (StatusCode::UNAUTHORIZED, o.wrong_password),
                other => return Err(PageError::from_case(other, lang)),
            };
            let template = sign_in_page::<A>(
                &state,
                lang,
                &form.session.csrf_token,
                next,
                fields.username.trim(),
                Some(message),
            );
            let mut response = page(&template, lang, false)?;
            *response.status_mut() = status;
            Ok(response)
        }
    }
}

/// The user a pending session waits for, if it is pending in this area.
fn pending_user<A: DeskArea>(session: &WebSessionRow) -> Option<&str> {
    session
        .pending
        .as_deref()?
        .strip_prefix(A::AREA.kind())?
        .strip_prefix(':')
}

/// `GET …/sign-in/code`: the second-factor form, for a session that gave the password.
pub async fn code_form<A: DeskArea>(
    State(state): State<Arc<AppState>>,
    Query(query): Query<SignInQuery>,
    headers: HeaderMap,
    parts: Parts0,
) -> Result<Response, PageError> {
    let (lang, chosen) = language(
        &LangQuery {
            lang: query.lang.clone(),
        },
        &headers,
    );
    let visitor = Visitor::of(&parts.0, &state, A::AREA)
        .await
        .map_err(|_| PageError::Internal("session lookup".into()))?;
    let Some(session) = visitor.session.filter(|s| pending_user::<A>(s).is_some()) else {
        return Ok(see_other(&format!(
            "{}/sign-in?lang={}",
            A::BASE,
            lang.code()
        )));
    };
    let next = safe_next::<A>(query.next.as_deref());
    page(
        &code_page::<A>(&state, lang, &session.csrf_token, next, None),
        lang,
        chosen,
    )
}

/// The second-factor form's fields.
#[derive(Debug, serde::Deserialize)]
pub struct CodeFields {
    #[serde(default)]
    code: String,
    #[serde(default)]
    next: String,
}

/// `POST …/sign-in/code`: the code. Right, a signed-in session (a new id) replaces the
/// pending one; wrong, the form again (401), and after too many wrong codes 429.
pub async fn verify_code<A: DeskArea>(
    State(state): State<Arc<AppState>>,
    parts: Parts0,
    form: CheckedForm<CodeFields, A>,
) -> Result<Response, PageError> {
    let lang = session::form_lang(&parts.0);
    let o = lang.office();
    let Some(username) = pending_user::<A>(&form.session).map(str::to_owned) else {
        return Ok(see_other(&format!(
            "{}/sign-in?lang={}",
            A::BASE,
            lang.code()
        )));
    };
    let next = safe_next::<A>(Some(&form.fields.next));
    match state
        .check_second_factor(
            A::DESK,
            &username,
            &form.fields.code,
            OffsetDateTime::now_utc(),
        )
        .await
    {
        Ok(who) => {
            let principal = who.actor();
            // Without a page to come back to, the role's first page (a security officer has
            // no queue).
            let next = if next == A::BASE {
                A::menu(&state, &who, o)
                    .first()
                    .map_or(next, |(href, _)| (*href).to_owned())
            } else {
                next
            };
            replace_session::<A>(
                &state,
                &form.session,
                SessionFor {
                    principal: Some(&principal),
                    ..SessionFor::default()
                },
                &format!("{next}?lang={}", lang.code()),
            )
            .await
        }
        Err(e) => {
            let (status, message) = match e {
                CaseError::Limited(_) => (StatusCode::TOO_MANY_REQUESTS, o.too_many_attempts),
                CaseError::Unauthenticated(_) => (StatusCode::UNAUTHORIZED, o.wrong_code),
                other => return Err(PageError::from_case(other, lang)),
            };
            let template =
                code_page::<A>(&state, lang, &form.session.csrf_token, next, Some(message));
            let mut response = page(&template, lang, false)?;
            *response.status_mut() = status;
            Ok(response)
        }
    }
}

/// The sign-out form's fields (only its token).
#[derive(Debug, serde::Deserialize)]
pub struct NoFields {}

/// `POST …/sign-out`: ends the session.
pub async fn sign_out<A: DeskArea>(
    State(state): State<Arc<AppState>>,
    parts: Parts0,
    form: CheckedForm<NoFields, A>,
) -> Result<Response, PageError> {
    let lang = session::form_lang(&parts.0);
    state
        .bureau
        .store()
        .end_web_session(&form.session.id_hash)
        .await
        .map_err(|e| PageError::Internal(e.to_string()))?;
    let mut response = see_other(&format!("{}/sign-in?lang={}", A::BASE, lang.code()));
    response.headers_mut().append(
        header::SET_COOKIE,
        session::clear_area_cookie(&state, A::AREA),
    );
    Ok(response)
}

/// A use case's refusal shown on a page: a refused field or state as a message of the
/// form (422 or 409), anything else as the page error it is.
pub fn refusal(e: CaseError, lang: Lang) -> Result<(StatusCode, String), PageError> {
    match e {
        CaseError::Invalid { message, .. } => Ok((StatusCode::UNPROCESSABLE_ENTITY, message)),
        CaseError::Conflict(message) => Ok((StatusCode::CONFLICT, message)),
        // A value over its limit, or too many tries, is the form's fault: said on the form,
        // never a 500.
        e @ CaseError::TooLarge { .. } => Ok((StatusCode::PAYLOAD_TOO_LARGE, e.to_string())),
        CaseError::Limited(message) => Ok((StatusCode::TOO_MANY_REQUESTS, message)),
        e @ (CaseError::Malformed(_) | CaseError::CounterOnly { .. }) => {
            Ok((StatusCode::UNPROCESSABLE_ENTITY, e.to_string()))
        }
        other => Err(PageError::from_case(other, lang)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn principals_round_trip_through_the_session() {
        let officer = Principal::new(Role::Officer, "officer.wong");
        assert_eq!(parse_principal(&officer.actor()), Some(officer));
        let user = Principal {
            role: Role::Department,
            id: "DSAL".into(),
            person: Some("dsal.lam".into()),
        };
        assert_eq!(parse_principal(&user.actor()), Some(user));
        assert_eq!(parse_principal("officer:a/b"), None);
        assert_eq!(parse_principal("nobody:x"), None);
    }
}
