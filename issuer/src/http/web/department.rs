//! The departments' portal (SPEC §7, `/department`): the certificates transferred to the
//! department with their current status at a glance, the notices about them (unread until a
//! user acknowledges them), and the way to the verification page for a certificate someone
//! brought. A department sees only what was transferred to it.

use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use time::OffsetDateTime;

use super::desk::{self, DepartmentArea, DeskArea, OnDesk};
use super::i18n::office::Office;
use super::progress::macao_time;
use super::session::CheckedForm;
use super::staff::status_name;
use super::{Frame, PageError, see_other};
use crate::bureau::Services as AppState;
use crate::bureau::people::Desk;
use crate::identity::auth::{Principal, Role};
use crate::store::jobs::CertificateSummary;

/// A department portal page request.
pub type DepartmentUser = OnDesk<DepartmentArea>;

impl DeskArea for DepartmentArea {
    const DESK: Desk = Desk::Department;
    const BASE: &'static str = "/department";

    fn name(o: &Office) -> &'static str {
        o.department_area
    }

    fn menu(_state: &AppState, _who: &Principal, o: &Office) -> Vec<(&'static str, &'static str)> {
        vec![
            ("/department", o.inbox),
            ("/department/notices", o.notices),
            ("/department/verify", o.verify_brought),
        ]
    }
}

/// The department portal's routes.
pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route(
            "/department/sign-in",
            get(desk::sign_in_form::<DepartmentArea>).post(desk::sign_in::<DepartmentArea>),
        )
        .route(
            "/department/sign-in/code",
            get(desk::code_form::<DepartmentArea>).post(desk::verify_code::<DepartmentArea>),
        )
        .route(
            "/department/sign-out",
            post(desk::sign_out::<DepartmentArea>),
        )
        .route("/department", get(inbox))
        .route("/department/certificates/{number}", get(certificate))
        .route("/department/certificates/{number}/pdf", get(download))
        .route("/department/notices", get(notices))
        .route("/department/notices/{id}/acknowledge", post(acknowledge))
        .route("/department/verify", get(verify))
}

/// A certificate's status at `now`: its registry status, or EXPIRED past its validity.
fn status_now(c: &CertificateSummary, o: &Office, now: OffsetDateTime) -> (&'static str, bool) {
    let expired = crate::store::parse_time(&c.valid_until).is_ok_and(|end| end < now);
    if c.status == 0 && expired {
        (o.status_expired, true)
    } else {
        (status_name(c.status, o), c.status != 0)
    }
}

/// A certificate as listed.
#[derive(Debug)]
pub struct Received {
    number: String,
    href: String,
    status: &'static str,
    alert: bool,
    issued_at: String,
    valid_until: String,
}

#[derive(Template)]
#[template(path = "department/inbox.html")]
struct InboxPage {
    frame: Frame,
    o: &'static Office,
    unread: usize,
    lang: &'static str,
    certificates: Vec<Received>,
}

/// `GET /department`: the inbox.
pub async fn inbox(
    State(state): State<Arc<AppState>>,
    user: DepartmentUser,
) -> Result<Response, PageError> {
    let who = user.require(&[Role::Department])?;
    let o = user.o();
    let now = OffsetDateTime::now_utc();
    let code = user.lang.code();
    let certificates = state
        .department_inbox(who)
        .await
        .map_err(|e| PageError::from_case(e, user.lang))?
        .iter()
        .map(|c| {
            let (status, alert) = status_now(c, o, now);
            Received {
                href: format!("/department/certificates/{}?lang={code}", c.number),
                number: c.number.clone(),
                status,
                alert,
                issued_at: macao_time(&c.issued_at),
                valid_until: macao_time(&c.valid_until),
            }
        })
        .collect();
    let unread = state
        .department_notices(who)
        .await
        .map_err(|e| PageError::from_case(e, user.lang))?
        .iter()
        .filter(|n| n.acknowledged_at.is_none())
        .count();
    user.page(&InboxPage {
        frame: user.frame(&state, "/department", o.inbox),
        o,
        unread,
        lang: code,
        certificates,
    })
}

#[derive(Template)]
#[template(path = "department/certificate.html")]
struct CertificatePage {
    frame: Frame,
    o: &'static Office,
    number: String,
    status: &'static str,
    alert: bool,
    issued_at: String,
    valid_until: String,
    lang: &'static str,
}

/// The certificate `number` if it was transferred to the caller's department.
async fn received(
    state: &AppState,
    user: &DepartmentUser,
    number: &str,
) -> Result<CertificateSummary, PageError> {
    let who = user.require(&[Role::Department])?;
    // One lookup, not the whole inbox; another department's copy is as unknown as none.
    match state
        .store()
        .certificate(number)
        .await
        .map_err(|e| PageError::Internal(e.to_string()))?
    {
        Some((summary, owner)) if owner.transfer_to.as_deref() == Some(who.id.as_str()) => {
            Ok(summary)
        }
        _ => Err(PageError::NotFound(user.lang)),
    }
}

/// `GET /department/certificates/{number}`.
pub async fn certificate(
    State(state): State<Arc<AppState>>,
    user: DepartmentUser,
    Path(number): Path<String>,
) -> Result<Response, PageError> {
    let c = received(&state, &user, &number).await?;
    let o = user.o();
    let (status, alert) = status_now(&c, o, OffsetDateTime::now_utc());
    user.page(&CertificatePage {
        frame: user.frame(
            &state,
            "/department",
            &format!("{} {}", o.certificate_title, c.number),
        ),
        o,
        number: c.number,
        status,
        alert,
        issued_at: macao_time(&c.issued_at),
        valid_until: macao_time(&c.valid_until),
        lang: user.lang.code(),
    })
}

/// `GET /department/certificates/{number}/pdf`: the transferred copy (the download is
/// audited with the user's name).
pub async fn download(
    State(state): State<Arc<AppState>>,
    user: DepartmentUser,
    Path(number): Path<String>,
) -> Result<Response, PageError> {
    let who = user.require(&[Role::Department])?;
    let pdf = state
        .certificate_pdf(who, &number)
        .await
        .map_err(|e| PageError::from_case(e, user.lang))?;
    let mut response = pdf.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/pdf"),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&format!("attachment; filename=\"{number}.pdf\""))
            .unwrap_or(HeaderValue::from_static("attachment")),
    );
    Ok(response)
}

/// A notice as listed.
#[derive(Debug)]
pub struct Notice {
    id: String,
    number: String,
    status: String,
    reason: String,
    at: String,
    unread: bool,
    acknowledged_by: String,
}

#[derive(Template)]
#[template(path = "department/notices.html")]
struct NoticesPage {
    frame: Frame,
    o: &'static Office,
    banner: Option<String>,
    csrf: String,
    lang: &'static str,
    notices: Vec<Notice>,
}

/// `GET /department/notices`: unread first.
pub async fn notices(
    State(state): State<Arc<AppState>>,
    user: DepartmentUser,
    Query(done): Query<super::staff::Done>,
) -> Result<Response, PageError> {
    let who = user.require(&[Role::Department])?;
    let o = user.o();
    let notices = state
        .department_notices(who)
        .await
        .map_err(|e| PageError::from_case(e, user.lang))?
        .into_iter()
        .map(|n| Notice {
            unread: n.acknowledged_at.is_none(),
            acknowledged_by: n
                .acknowledged_by
                .map(|by| {
                    format!(
                        "{by} {}",
                        macao_time(&n.acknowledged_at.unwrap_or_default())
                    )
                })
                .unwrap_or_default(),
            id: n.id,
            number: n.certificate_number,
            status: n.status,
            reason: n.reason,
            at: macao_time(&n.created_at),
        })
        .collect();
    user.page(&NoticesPage {
        frame: user.frame(&state, "/department/notices", o.notices),
        o,
        banner: super::staff::banner(done.done.as_deref(), o),
        csrf: user.session.csrf_token.clone(),
        lang: user.lang.code(),
        notices,
    })
}

/// `POST /department/notices/{id}/acknowledge`.
pub async fn acknowledge(
    State(state): State<Arc<AppState>>,
    user: DepartmentUser,
    Path(id): Path<String>,
    _form: CheckedForm<desk::NoFields, DepartmentArea>,
) -> Result<Response, PageError> {
    let who = user.require(&[Role::Department])?;
    state
        .acknowledge_notice(who, &id)
        .await
        .map_err(|e| PageError::from_case(e, user.lang))?;
    Ok(see_other(&format!(
        "/department/notices?lang={}&done=acknowledged",
        user.lang.code()
    )))
}

/// `GET /department/verify`: the verification page, where a certificate someone brought is
/// checked like any other (the QR code, or the PDF at the configured verifier).
pub async fn verify(user: DepartmentUser) -> Result<Response, PageError> {
    user.require(&[Role::Department])?;
    Ok(see_other(&format!("/verify?lang={}", user.lang.code())))
}
