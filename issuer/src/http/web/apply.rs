//! Steps 1 and 2 of the application as pages: choose what you need, confirm your details;
//! the counter page for a first-time non-resident worker, and resuming an application at its
//! first unfinished step. The rules are the use cases' (`bureau::applying`); these pages only
//! ask, show and translate.

use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::i18n::{Lang, Steps, fill};
use super::session::CheckedForm;
use super::signed_in::SignedIn;
use super::{
    Frame, PageError, Problem, RadioGroup, TextField, coded_name, department_name, mop, page,
    see_other,
};
use crate::bureau::CaseError;
use crate::bureau::Services as AppState;
use crate::bureau::applying::{Confirmation, Format, Selection};
use crate::rules::request::{DocumentRequest, HolderRequest, Language};
use crate::rules::workflow;
use crate::store::applications::ApplicationRow;

/// Where an application goes on from: its first unfinished step, else its progress page.
pub fn next_step(app: &ApplicationRow) -> String {
    let id = &app.id;
    let holds = |at: &Option<String>, proved: &Option<String>| {
        at.is_some()
            && workflow::identity_check_holds(
                proved.as_deref(),
                app.holder_json.as_deref(),
                app.mobile.as_deref(),
            )
    };
    match app.state.as_str() {
        workflow::SELECTED => format!("/applications/{id}/confirm"),
        workflow::CONFIRMED if !holds(&app.otp_verified_at, &app.otp_verified_for) => {
            format!("/applications/{id}/code")
        }
        workflow::CONFIRMED => format!("/applications/{id}/face"),
        workflow::IDENTIFIED => format!("/applications/{id}/check"),
        _ => format!("/applications/{id}"),
    }
}

/// `GET /apply/resume`: the latest unfinished application at its first unfinished step, or
/// the list of applications.
pub async fn resume(
    State(state): State<Arc<AppState>>,
    SignedIn { lang: _, who, .. }: SignedIn,
) -> Result<Response, PageError> {
    let apps = state
        .store()
        .applications_of(&who.id)
        .await
        .map_err(|e| PageError::Internal(e.to_string()))?;
    let unfinished = apps.iter().find(|a| {
        matches!(
            a.state.as_str(),
            workflow::SELECTED | workflow::CONFIRMED | workflow::IDENTIFIED
        )
    });
    Ok(see_other(
        &unfinished.map_or_else(|| "/applications".to_owned(), next_step),
    ))
}

/// The fields of step 1 as typed (all optional: the page says what is missing).
#[derive(Debug, Default, serde::Deserialize)]
pub struct SelectForm {
    #[serde(default)]
    usage: Option<String>,
    #[serde(default)]
    format: Option<String>,
    #[serde(default)]
    collection_site: Option<String>,
    #[serde(default)]
    quantity: Option<String>,
    #[serde(default)]
    express: Option<String>,
    #[serde(default)]
    transfer_to: Option<String>,
    /// The idempotency key of this form: a second submission gives the same application.
    #[serde(default)]
    key: Option<String>,
    #[serde(default)]
    switch_lang: Option<String>,
}

#[derive(Template)]
#[template(path = "apply/select.html")]
struct SelectPage {
    frame: Frame,
    s: &'static Steps,
    caption: String,
    errors: Vec<Problem>,
    csrf: String,
    key: String,
    usage: RadioGroup,
    format: RadioGroup,
    site: RadioGroup,
    quantity: TextField,
    express: RadioGroup,
    transfer: RadioGroup,
}

async fn select_page(
    state: &AppState,
    lang: Lang,
    csrf: &str,
    form: &SelectForm,
    errors: Vec<Problem>,
) -> Result<SelectPage, PageError> {
    let s = lang.steps();
    let config = state.bureau.config();
    let error_of = |field: &str| {
        errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.clone())
    };
    let mut usage = RadioGroup::new(
        "usage",
        s.usage_legend,
        config
            .usages
            .iter()
            .map(|u| (u.code.clone(), coded_name(u, lang).to_owned())),
        form.usage.as_deref(),
    );
    usage.error = error_of("usage");
    let mut format = RadioGroup::new(
        "format",
        s.format_legend,
        [
            ("electronic".to_owned(), s.electronic.to_owned()),
            ("paper".to_owned(), s.paper.to_owned()),
        ],
        form.format.as_deref(),
    );
    format.options[0].hint = Some(s.electronic_hint.into());
    format.options[1].hint = Some(s.paper_hint.into());
    format.error = error_of("format");
    let mut site = RadioGroup::new(
        "collection_site",
        s.site_legend,
        config
            .application
            .collection_sites
            .iter()
            .map(|c| (c.code.clone(), coded_name(c, lang).to_owned())),
        form.collection_site.as_deref(),
    );
    site.hint = Some(s.site_hint.into());
    site.error = error_of("collection_site");
    let max = config.application.max_quantity.to_string();
    let mut quantity = TextField::new(
        "quantity",
        s.quantity_label,
        form.quantity.clone().unwrap_or_else(|| "1".into()),
    )
    .hint(fill(s.quantity_hint, &[&max]));
    quantity.inputmode = Some("numeric");
    quantity.error = error_of("quantity");
    let fees = &config.application;
    let days = |express| state.calendar.pledge_working_days(express).to_string();
    let mut express = RadioGroup::new(
        "express",
        s.express_legend,
        [
            (
                "no".to_owned(),
                fill(
                    s.standard_option,
                    &[&mop(fees.standard_fee_avos), &days(false)],
                ),
            ),
            (
                "yes".to_owned(),
                fill(
                    s.express_option,
                    &[&mop(fees.express_fee_avos), &days(true)],
                ),
            ),
        ],
        form.express.as_deref(),
    );
    express.error = error_of("express");
    let departments = state
        .store()
        .departments()
        .await
        .map_err(|e| PageError::Internal(e.to_string()))?;
    let mut transfer = RadioGroup::new(
        "transfer_to",
        s.transfer_legend,
        std::iter::once((String::new(), s.transfer_none.to_owned())).chain(
            departments
                .iter()
                .filter(|d| d.active)
                .map(|d| (d.code.clone(), department_name(d, lang).to_owned())),
        ),
        Some(form.transfer_to.as_deref().unwrap_or_default()),
    );
    transfer.hint = Some(s.transfer_hint.into());
    transfer.error = error_of("transfer_to");
    let mut frame = Frame::new(state, lang, "/apply", s.select_title)
        .signed_in(csrf)
        .with_form("select-form");
    frame.has_errors = !errors.is_empty();
    Ok(SelectPage {
        frame,
        s,
        caption: s.step(1),
        errors,
        csrf: csrf.to_owned(),
        key: form
            .key
            .clone()
            .unwrap_or_else(|| crate::store::random_id("W")),
        usage,
        format,
        site,
        quantity,
        express,
        transfer,
    })
}

/// `GET /apply`: step 1.
pub async fn select_form(
    State(state): State<Arc<AppState>>,
    SignedIn {
        lang,
        chosen,
        session,
        ..
    }: SignedIn,
) -> Result<Response, PageError> {
    let template = select_page(
        &state,
        lang,
        &session.csrf_token,
        &SelectForm::default(),
        Vec::new(),
    )
    .await?;
    page(&template, lang, chosen)
}

/// Reads step 1's answers; what is missing or unreadable is a problem of its field.
fn selection(form: &SelectForm, s: &Steps, max: i64) -> Result<Selection, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut problem = |field: &str, message: String| {
        problems.push(Problem {
            field: field.into(),
            message,
        })
    };
    let filled = |v: &Option<String>| v.as_deref().filter(|v| !v.is_empty()).map(str::to_owned);
    let usage = filled(&form.usage);
    if usage.is_none() {
        problem("usage", s.err_usage.into());
    }
    let format = match form.format.as_deref() {
        Some("electronic") => Some(Format::Electronic),
        Some("paper") => Some(Format::Paper),
        _ => {
            problem("format", s.err_format.into());
            None
        }
    };
    let collection_site = filled(&form.collection_site);
    if format == Some(Format::Paper) && collection_site.is_none() {
        problem("collection_site", s.err_site.into());
    }
    let quantity = form
        .quantity
        .as_deref()
        .map(str::trim)
        .and_then(|q| q.parse::<i64>().ok());
    if quantity.is_none() {
        problem("quantity", fill(s.err_quantity, &[&max.to_string()]));
    }
    let express = match form.express.as_deref() {
        Some("yes") => Some(true),
        Some("no") => Some(false),
        _ => {
            problem("express", s.err_express.into());
            None
        }
    };
    match (usage, format, quantity, express) {
        (Some(usage), Some(format), Some(quantity), Some(express)) if problems.is_empty() => {
            Ok(Selection {
                usage,
                format,
                quantity,
                // A site chosen before switching to electronic is not part of the answer.
                collection_site: collection_site.filter(|_| format == Format::Paper),
                express,
                transfer_to: filled(&form.transfer_to),
            })
        }
        _ => Err(problems),
    }
}

/// `POST /apply`: step 1 (or a language change keeping the answers).
pub async fn select(
    State(state): State<Arc<AppState>>,
    SignedIn { lang, who, .. }: SignedIn,
    form: CheckedForm<SelectForm>,
) -> Result<Response, PageError> {
    let mut lang = lang;
    let csrf = &form.session.csrf_token;
    if let Some(switched) = form.fields.switch_lang.as_deref().and_then(Lang::parse) {
        lang = switched;
        let template = select_page(&state, lang, csrf, &form.fields, Vec::new()).await?;
        return page(&template, lang, true);
    }
    let s = lang.steps();
    let max = state.bureau.config().application.max_quantity;
    let problems = match selection(&form.fields, s, max) {
        Ok(chosen) => {
            match state
                .select(&who, &chosen, form.fields.key.as_deref())
                .await
            {
                Ok((app, _)) => return Ok(see_other(&next_step(&app))),
                Err(CaseError::Invalid { field, .. }) => {
                    let message = match field.as_str() {
                        "usage" => s.err_usage.to_owned(),
                        "collection_site" => s.err_site.to_owned(),
                        "transfer_to" => s.err_transfer.to_owned(),
                        _ => fill(s.err_quantity, &[&max.to_string()]),
                    };
                    let field = match field.as_str() {
                        "usage" | "collection_site" | "transfer_to" => field,
                        _ => "quantity".to_owned(),
                    };
                    vec![Problem { field, message }]
                }
                Err(e) => return Err(PageError::from_case(e, lang)),
            }
        }
        Err(problems) => problems,
    };
    let template = select_page(&state, lang, csrf, &form.fields, problems).await?;
    let mut response = page(&template, lang, false)?;
    *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    Ok(response)
}

/// The fields of step 2 as typed.
#[derive(Debug, Default, Clone, serde::Deserialize)]
pub struct ConfirmForm {
    #[serde(default)]
    name_latin: String,
    #[serde(default)]
    name_chinese: String,
    #[serde(default)]
    date_of_birth: String,
    #[serde(default)]
    doc_type: Option<String>,
    #[serde(default)]
    doc_number: String,
    #[serde(default)]
    language: Option<String>,
    #[serde(default)]
    mobile: String,
    #[serde(default)]
    consent: Option<String>,
    #[serde(default)]
    switch_lang: Option<String>,
}

impl ConfirmForm {
    /// What the application holds already (a change of details), else what the identity
    /// provider verified at sign-in.
    fn of(app: &ApplicationRow, verified_document: Option<&str>, lang: Lang) -> Self {
        let holder: Option<HolderRequest> = app
            .holder_json
            .as_deref()
            .and_then(|h| serde_json::from_str(h).ok());
        match holder {
            Some(h) => Self {
                name_latin: h.name_latin,
                name_chinese: h.name_chinese.unwrap_or_default(),
                date_of_birth: h.date_of_birth,
                doc_type: Some(h.document.kind),
                doc_number: h.document.number,
                language: app.language.clone(),
                mobile: app.mobile.clone().unwrap_or_default(),
                consent: app.consent_at.as_ref().map(|_| "yes".into()),
                switch_lang: None,
            },
            None => {
                // The registry key of the verified document is `TYPE:NUMBER`.
                let (doc_type, doc_number) = verified_document
                    .and_then(|k| k.split_once(':'))
                    .map_or((None, String::new()), |(t, n)| {
                        (Some(t.to_owned()), n.to_owned())
                    });
                Self {
                    doc_type,
                    doc_number,
                    language: Some(lang.code().into()),
                    ..Self::default()
                }
            }
        }
    }
}

#[derive(Template)]
#[template(path = "apply/confirm.html")]
struct ConfirmPage {
    frame: Frame,
    s: &'static Steps,
    caption: String,
    errors: Vec<Problem>,
    csrf: String,
    action: String,
    back: String,
    name_latin: TextField,
    name_chinese: TextField,
    date_of_birth: TextField,
    doc_type: RadioGroup,
    doc_number: TextField,
    language: RadioGroup,
    mobile: TextField,
    consent: RadioGroup,
}

fn confirm_page(
    state: &AppState,
    lang: Lang,
    csrf: &str,
    id: &str,
    form: &ConfirmForm,
    errors: Vec<Problem>,
) -> ConfirmPage {
    let s = lang.steps();
    let error_of = |field: &str| {
        errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.clone())
    };
    let mut name_latin =
        TextField::new("name_latin", s.name_latin_label, &form.name_latin).hint(s.name_latin_hint);
    name_latin.autocomplete = Some("name");
    name_latin.error = error_of("name_latin");
    let mut name_chinese = TextField::new("name_chinese", s.name_chinese_label, &form.name_chinese)
        .hint(s.name_chinese_hint);
    name_chinese.error = error_of("name_chinese");
    let mut date_of_birth =
        TextField::new("date_of_birth", s.dob_label, &form.date_of_birth).hint(s.dob_hint);
    // A text field with an example, not a date picker: typed the same way on every phone
    // and with any keyboard (the GOV.UK pattern avoids pickers for known dates).
    date_of_birth.autocomplete = Some("bday");
    date_of_birth.error = error_of("date_of_birth");
    let mut doc_type = RadioGroup::new(
        "doc_type",
        s.doc_type_legend,
        s.doc_types
            .iter()
            .map(|(code, name)| ((*code).to_owned(), (*name).to_owned())),
        form.doc_type.as_deref(),
    );
    doc_type.error = error_of("doc_type");
    let mut doc_number =
        TextField::new("doc_number", s.doc_number_label, &form.doc_number).hint(s.doc_number_hint);
    doc_number.error = error_of("doc_number");
    let mut language = RadioGroup::new(
        "language",
        s.notify_lang_legend,
        Lang::ALL
            .into_iter()
            .map(|l| (l.code().to_owned(), l.native_name().to_owned())),
        form.language.as_deref(),
    );
    language.error = error_of("language");
    let mut mobile = TextField::new("mobile", s.mobile_label, &form.mobile).hint(s.mobile_hint);
    mobile.input_type = "tel";
    mobile.autocomplete = Some("tel");
    mobile.error = error_of("mobile");
    let mut consent = RadioGroup::new(
        "consent",
        s.consent_legend,
        [("yes".to_owned(), s.consent_label.to_owned())],
        form.consent.as_deref(),
    );
    consent.kind = "checkbox";
    consent.error = error_of("consent");
    let path = format!("/applications/{id}/confirm");
    let mut frame = Frame::new(state, lang, &path, s.confirm_title)
        .signed_in(csrf)
        .with_form("confirm-form");
    frame.has_errors = !errors.is_empty();
    ConfirmPage {
        frame,
        s,
        caption: s.step(2),
        errors,
        csrf: csrf.to_owned(),
        action: path,
        back: format!("/applications/{id}"),
        name_latin,
        name_chinese,
        date_of_birth,
        doc_type,
        doc_number,
        language,
        mobile,
        consent,
    }
}

/// The applicant's application `id` in a state where its details may be (re)confirmed.
async fn confirmable(
    state: &AppState,
    who: &crate::identity::auth::Principal,
    id: &str,
    lang: Lang,
) -> Result<Result<ApplicationRow, Response>, PageError> {
    let app = state
        .application_for(who, id)
        .await
        .map_err(|e| PageError::from_case(e, lang))?;
    if matches!(
        app.state.as_str(),
        workflow::SELECTED | workflow::CONFIRMED | workflow::IDENTIFIED
    ) {
        Ok(Ok(app))
    } else {
        Ok(Err(see_other(&next_step(&app))))
    }
}

/// `GET /applications/{id}/confirm`: step 2.
pub async fn confirm_form(
    State(state): State<Arc<AppState>>,
    axum::extract::Path(id): axum::extract::Path<String>,
    SignedIn {
        lang,
        chosen,
        session,
        who,
    }: SignedIn,
) -> Result<Response, PageError> {
    let app = match confirmable(&state, &who, &id, lang).await? {
        Ok(app) => app,
        Err(elsewhere) => return Ok(elsewhere),
    };
    let verified = state
        .store()
        .applicant_verified_document(&who.id)
        .await
        .map_err(|e| PageError::Internal(e.to_string()))?;
    let form = ConfirmForm::of(&app, verified.as_deref(), lang);
    let template = confirm_page(&state, lang, &session.csrf_token, &id, &form, Vec::new());
    page(&template, lang, chosen)
}

/// Reads step 2's answers; what is missing is a problem of its field.
fn confirmation(form: &ConfirmForm, s: &Steps) -> Result<Confirmation, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut problem = |field: &str, message: &str| {
        problems.push(Problem {
            field: field.into(),
            message: message.into(),
        })
    };
    if form.name_latin.trim().is_empty() {
        problem("name_latin", s.err_name_latin);
    }
    if form.date_of_birth.trim().is_empty() {
        problem("date_of_birth", s.err_dob);
    }
    if form.doc_type.is_none() {
        problem("doc_type", s.err_doc_type);
    }
    if form.doc_number.trim().is_empty() {
        problem("doc_number", s.err_doc_number);
    }
    let language = form.language.as_deref().and_then(Language::parse);
    if language.is_none() {
        problem("language", s.err_notify_lang);
    }
    if form.mobile.trim().is_empty() {
        problem("mobile", s.err_mobile);
    }
    if form.consent.as_deref() != Some("yes") {
        problem("consent", s.err_consent);
    }
    match language {
        Some(language) if problems.is_empty() => Ok(Confirmation {
            holder: HolderRequest {
                name_latin: form.name_latin.clone(),
                name_chinese: Some(form.name_chinese.trim())
                    .filter(|n| !n.is_empty())
                    .map(str::to_owned),
                date_of_birth: form.date_of_birth.trim().to_owned(),
                document: DocumentRequest {
                    kind: form.doc_type.clone().unwrap_or_default(),
                    number: form.doc_number.clone(),
                },
            },
            language,
            mobile: form.mobile.clone(),
            consent_police_data: true,
        }),
        _ => Err(problems),
    }
}

/// The page field of a use case's field, and its message.
fn confirm_problem(field: &str, s: &Steps) -> Problem {
    let (field, message) = match field {
        "holder.name_latin" => ("name_latin", s.err_name_latin),
        "holder.name_chinese" => ("name_chinese", s.err_name_chinese),
        "holder.date_of_birth" => ("date_of_birth", s.err_dob),
        "holder.document.type" => ("doc_type", s.err_doc_type),
        "holder.document" | "holder.document.number" => ("doc_number", s.err_doc_number),
        "language" => ("language", s.err_notify_lang),
        "mobile" => ("mobile", s.err_mobile),
        "consent_police_data" => ("consent", s.err_consent),
        _ => ("name_latin", s.err_unprintable),
    };
    Problem {
        field: field.into(),
        message: message.into(),
    }
}

#[derive(Template)]
#[template(path = "apply/counter.html")]
struct CounterPage {
    frame: Frame,
    s: &'static Steps,
    counters: &'static [&'static str],
}

/// `POST /applications/{id}/confirm`: step 2 (or a language change keeping the answers).
pub async fn confirm(
    State(state): State<Arc<AppState>>,
    axum::extract::Path(id): axum::extract::Path<String>,
    SignedIn { lang, who, .. }: SignedIn,
    form: CheckedForm<ConfirmForm>,
) -> Result<Response, PageError> {
    let mut lang = lang;
    if let Err(elsewhere) = confirmable(&state, &who, &id, lang).await? {
        return Ok(elsewhere);
    }
    let csrf = &form.session.csrf_token;
    if let Some(switched) = form.fields.switch_lang.as_deref().and_then(Lang::parse) {
        lang = switched;
        let template = confirm_page(&state, lang, csrf, &id, &form.fields, Vec::new());
        return page(&template, lang, true);
    }
    let s = lang.steps();
    let problems = match confirmation(&form.fields, s) {
        Ok(confirmed) => match state.confirm(&who, &id, confirmed).await {
            Ok(app) => return Ok(see_other(&next_step(&app))),
            Err(CaseError::CounterOnly { .. }) => {
                let t = lang.text();
                let template = CounterPage {
                    frame: Frame::new(
                        &state,
                        lang,
                        &format!("/applications/{id}/confirm"),
                        s.counter_title,
                    ),
                    s,
                    counters: &t.counters,
                };
                return page(&template, lang, false);
            }
            Err(CaseError::Invalid { field, .. }) => vec![confirm_problem(&field, s)],
            Err(e) => return Err(PageError::from_case(e, lang)),
        },
        Err(problems) => problems,
    };
    let template = confirm_page(&state, lang, csrf, &id, &form.fields, problems);
    let mut response = page(&template, lang, false)?;
    *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    Ok(response)
}
