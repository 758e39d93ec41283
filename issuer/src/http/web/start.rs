//! The start page (GOV.UK "start page" pattern): what the service does, who can use it, what
//! to have ready, fees and pledges, exemptions, and the other ways to apply.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;

use super::{Frame, LangQuery, PageError, language, mop, page};
use crate::bureau::Services as AppState;
use crate::rules::workflow::Exemption;

/// An exemption with its documents, in the page's language.
#[derive(Debug)]
struct ExemptionItem {
    name: &'static str,
    documents: Vec<&'static str>,
}

#[derive(Template)]
#[template(path = "start.html")]
struct StartPage {
    frame: Frame,
    start_href: String,
    resume_href: String,
    standard_fee: String,
    express_fee: String,
    standard_days: u32,
    express_days: u32,
    exemptions: Vec<ExemptionItem>,
}

/// `GET /`: the start page.
pub async fn start(
    State(state): State<Arc<AppState>>,
    Query(query): Query<LangQuery>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let (lang, chosen) = language(&query, &headers);
    let t = lang.text();
    let fees = &state.bureau.config().application;
    let exemptions = [
        Exemption::Unemployment,
        Exemption::Poverty,
        Exemption::Disability,
    ]
    .into_iter()
    .zip(t.exemption_names)
    .map(|(e, name)| ExemptionItem {
        name,
        documents: e
            .required_documents()
            .iter()
            .map(|code| t.document_name(code))
            .collect(),
    })
    .collect();
    let template = StartPage {
        frame: Frame::new(&state, lang, "/", t.start_title),
        start_href: format!("/apply?lang={}", lang.code()),
        resume_href: format!("/apply/resume?lang={}", lang.code()),
        standard_fee: mop(fees.standard_fee_avos),
        express_fee: mop(fees.express_fee_avos),
        standard_days: state.calendar.pledge_working_days(false),
        express_days: state.calendar.pledge_working_days(true),
        exemptions,
    };
    page(&template, lang, chosen)
}
