//! The signed-in applicant of a page request, or the way to sign in.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::Method;
use axum::http::request::Parts;
use axum::response::Response;

use super::account::sign_in_first;
use super::i18n::Lang;
use super::session::Visitor;
use crate::bureau::Services as AppState;
use crate::identity::auth::{Principal, Role};
use crate::store::web_sessions::WebSessionRow;

/// A page request of a signed-in applicant, in its language. Without a signed-in session the
/// request is answered by the sign-in page (coming back to the page, or for a form post to the
/// application's first unfinished step), or the timeout page if the session has just ended.
#[derive(Debug)]
pub struct SignedIn {
    /// The page's language.
    pub lang: Lang,
    /// Whether it was chosen with `?lang=` just now (to remember it).
    pub chosen: bool,
    /// The session.
    pub session: WebSessionRow,
    /// The applicant as the use cases know them.
    pub who: Principal,
}

impl FromRequestParts<Arc<AppState>> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let query_lang: Option<String> = parts.uri.query().and_then(|q| {
            serde_urlencoded::from_str::<Vec<(String, String)>>(q)
                .ok()?
                .into_iter()
                .find(|(name, _)| name == "lang")
                .map(|(_, value)| value)
        });
        let chosen = query_lang.as_deref().and_then(Lang::parse).is_some();
        let lang = Lang::of_request(query_lang.as_deref(), &parts.headers);
        let visitor = Visitor::from_request_parts(parts, state).await?;
        let applicant = visitor.applicant().map(str::to_owned);
        match (visitor.session.clone(), applicant) {
            (Some(session), Some(id)) => Ok(Self {
                lang,
                chosen,
                session,
                who: Principal::new(Role::Applicant, id),
            }),
            _ => {
                let here = if parts.method == Method::GET {
                    parts.uri.path().to_owned()
                } else {
                    "/apply/resume".to_owned()
                };
                Err(sign_in_first(&visitor, lang, &here))
            }
        }
    }
}
