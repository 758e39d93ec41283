//! Step 4 of the application as pages: check your answers, then pay on the gateway's own
//! page (the SANDBOX gateway's, served here in development and marked as such) or ask for a
//! fee exemption with its documents; then the confirmation and a printable receipt.
//!
//! Paying cannot happen twice: "Pay" reuses the application's open payment (the use case gives
//! the same payment to a second request), the gateway's button settles a payment once, and the
//! return page reads the payment's state from the registry instead of trusting the redirect.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::account::TokenForm;
use super::apply::next_step;
use super::i18n::{Lang, Steps, fill};
use super::identity::{file_problem, megabytes};
use super::session::CheckedForm;
use super::signed_in::SignedIn;
use super::upload::CheckedUpload;
use super::{
    FileField, Frame, PageError, Problem, RadioGroup, SummaryRow, coded_name, mop, page, see_other,
};
use crate::bureau::CaseError;
use crate::bureau::Services as AppState;
use crate::bureau::applying::SupportingDocument;
use crate::identity::auth::Principal;
use crate::rules::request::HolderRequest;
use crate::rules::workflow::{self, Exemption};
use crate::store::applications::ApplicationRow;

/// The applicant's application `id`, or the page "not found" (someone else's included).
pub async fn own(
    state: &AppState,
    who: &Principal,
    id: &str,
    lang: Lang,
) -> Result<ApplicationRow, PageError> {
    state
        .application_for(who, id)
        .await
        .map_err(|e| PageError::from_case(e, lang))
}

/// What the application asks for, as summary rows (step 1's answers).
pub async fn selection_rows(
    state: &AppState,
    app: &ApplicationRow,
    lang: Lang,
) -> Result<Vec<SummaryRow>, PageError> {
    let s = lang.steps();
    let config = state.bureau.config();
    let row = |key: &str, value: String| SummaryRow {
        key: key.to_owned(),
        value,
        change: None,
        change_text: s.change,
    };
    let mut rows = vec![
        row(
            s.usage_legend,
            config
                .usage(&app.usage)
                .map_or(app.usage.clone(), |u| coded_name(u, lang).to_owned()),
        ),
        row(
            s.format_legend,
            if app.electronic != 0 {
                s.electronic
            } else {
                s.paper
            }
            .to_owned(),
        ),
    ];
    if let Some(site) = &app.collection_site {
        rows.push(row(
            s.site_legend,
            config
                .collection_site(site)
                .map_or(site.clone(), |c| coded_name(c, lang).to_owned()),
        ));
    }
    rows.push(row(s.quantity_label, app.quantity.to_string()));
    rows.push(row(
        s.express_legend,
        if app.express != 0 { s.yes } else { s.no }.to_owned(),
    ));
    if let Some(code) = &app.transfer_to {
        let name = state
            .store()
            .department(code)
            .await
            .map_err(|e| PageError::Internal(e.to_string()))?
            .map_or(code.clone(), |d| {
                super::department_name(&d, lang).to_owned()
            });
        rows.push(row(s.transfer_legend, name));
    }
    Ok(rows)
}

/// The holder's details as summary rows, each with "Change" when `change` is set.
pub fn holder_rows(app: &ApplicationRow, lang: Lang, change: bool) -> Vec<SummaryRow> {
    let s = lang.steps();
    let Some(holder) = app
        .holder_json
        .as_deref()
        .and_then(|h| serde_json::from_str::<HolderRequest>(h).ok())
    else {
        return Vec::new();
    };
    let href = change.then(|| format!("/applications/{}/confirm?lang={}", app.id, lang.code()));
    let row = |key: &str, value: String| SummaryRow {
        key: key.to_owned(),
        value,
        change: href.clone(),
        change_text: s.change,
    };
    let mut rows = vec![row(s.name_latin_label, holder.name_latin)];
    if let Some(chinese) = holder.name_chinese {
        rows.push(row(s.name_chinese_label, chinese));
    }
    rows.push(row(s.dob_label, holder.date_of_birth));
    rows.push(row(
        s.doc_type_legend,
        format!(
            "{} {}",
            s.doc_type_name(&holder.document.kind),
            holder.document.number
        ),
    ));
    rows.push(row(
        s.notify_lang_legend,
        app.language
            .as_deref()
            .and_then(Lang::parse)
            .map_or("", Lang::native_name)
            .to_owned(),
    ));
    rows.push(row(s.mobile_label, app.mobile.clone().unwrap_or_default()));
    rows
}

#[derive(Template)]
#[template(path = "apply/check.html")]
struct CheckPage {
    frame: Frame,
    s: &'static Steps,
    caption: String,
    csrf: String,
    id: String,
    application: Vec<SummaryRow>,
    holder: Vec<SummaryRow>,
    pay: String,
}

/// `GET /applications/{id}/check`: step 4, check your answers.
pub async fn check(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    SignedIn {
        lang,
        chosen,
        session,
        who,
    }: SignedIn,
) -> Result<Response, PageError> {
    let app = own(&state, &who, &id, lang).await?;
    if app.state != workflow::IDENTIFIED {
        return Ok(see_other(&next_step(&app)));
    }
    let s = lang.steps();
    let mut application = selection_rows(&state, &app, lang).await?;
    let fee = mop(state.fee(&app));
    application.push(SummaryRow {
        key: s.fee_label.into(),
        value: fee.clone(),
        change: None,
        change_text: s.change,
    });
    let template = CheckPage {
        frame: Frame::new(
            &state,
            lang,
            &format!("/applications/{id}/check"),
            s.check_title,
        )
        .signed_in(&session.csrf_token),
        s,
        caption: s.step(4),
        csrf: session.csrf_token.clone(),
        id: app.id.clone(),
        holder: holder_rows(&app, lang, true),
        application,
        pay: fill(s.pay_button, &[&fee]),
    };
    page(&template, lang, chosen)
}

/// `POST /applications/{id}/pay`: opens (or reuses) the payment and goes to the gateway.
pub async fn pay(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    SignedIn { lang, who, .. }: SignedIn,
    _form: CheckedForm<TokenForm>,
) -> Result<Response, PageError> {
    match state.start_payment(&who, &id, None).await {
        Ok(payment) => Ok(see_other(&format!(
            "/sandbox/pay/{}?lang={}",
            payment.id,
            lang.code()
        ))),
        // Paid already (a second click, or "back" after paying): show where it stands.
        Err(CaseError::Conflict(_)) => {
            let app = own(&state, &who, &id, lang).await?;
            Ok(see_other(&next_step(&app)))
        }
        Err(e) => Err(PageError::from_case(e, lang)),
    }
}

#[derive(Template)]
#[template(path = "apply/sandbox.html")]
struct SandboxPage {
    frame: Frame,
    s: &'static Steps,
    csrf: String,
    payment_id: String,
    id: String,
    amount: String,
    pay: String,
}

/// Whether the sandbox gateway is configured (its pages exist only then).
fn sandbox(state: &AppState) -> bool {
    state.bureau.config().providers.payment == "sandbox"
}

/// `GET /sandbox/pay/{payment}`: the SANDBOX gateway's hosted page.
pub async fn sandbox_page(
    State(state): State<Arc<AppState>>,
    Path(payment_id): Path<String>,
    SignedIn {
        lang,
        chosen,
        session,
        who,
    }: SignedIn,
) -> Result<Response, PageError> {
    if !sandbox(&state) {
        return Err(PageError::NotFound(lang));
    }
    let (payment, app) = state
        .own_payment(&who, &payment_id)
        .await
        .map_err(|e| PageError::from_case(e, lang))?;
    if payment.state != "pending" {
        return Ok(see_other(&format!("/payments/{payment_id}/return")));
    }
    let s = lang.steps();
    let amount = mop(payment.amount_avos);
    let template = SandboxPage {
        frame: Frame::new(
            &state,
            lang,
            &format!("/sandbox/pay/{payment_id}"),
            s.sandbox_title,
        )
        .signed_in(&session.csrf_token),
        s,
        csrf: session.csrf_token.clone(),
        payment_id,
        id: app.id,
        pay: fill(s.sandbox_pay, &[&amount]),
        amount: fill(s.sandbox_amount, &[&amount]),
    };
    page(&template, lang, chosen)
}

/// `POST /sandbox/pay/{payment}`: the SANDBOX gateway's "pay" button; it signs and delivers
/// the callback as a gateway would, then returns the applicant to the bureau's return URL.
pub async fn sandbox_pay(
    State(state): State<Arc<AppState>>,
    Path(payment_id): Path<String>,
    SignedIn { lang, who, .. }: SignedIn,
    _form: CheckedForm<TokenForm>,
) -> Result<Response, PageError> {
    if !sandbox(&state) {
        return Err(PageError::NotFound(lang));
    }
    state
        .sandbox_pay(&who, &payment_id)
        .await
        .map_err(|e| PageError::from_case(e, lang))?;
    Ok(see_other(&format!(
        "/payments/{payment_id}/return?lang={}",
        lang.code()
    )))
}

#[derive(Template)]
#[template(path = "apply/pending.html")]
struct PendingPage {
    frame: Frame,
    s: &'static Steps,
    payment_id: String,
}

/// `GET /payments/{payment}/return`: where the gateway sends the applicant back. The payment
/// id is the secret; its state is read from the registry (the callback's doing), never taken
/// from the redirect.
pub async fn payment_return(
    State(state): State<Arc<AppState>>,
    Path(payment_id): Path<String>,
    SignedIn {
        lang,
        chosen,
        session,
        who,
    }: SignedIn,
) -> Result<Response, PageError> {
    let (payment, app) = state
        .own_payment(&who, &payment_id)
        .await
        .map_err(|e| PageError::from_case(e, lang))?;
    if payment.state == "paid" {
        return Ok(see_other(&format!(
            "/applications/{}/submitted?lang={}",
            app.id,
            lang.code()
        )));
    }
    let s = lang.steps();
    let template = PendingPage {
        frame: Frame::new(
            &state,
            lang,
            &format!("/payments/{payment_id}/return"),
            s.payment_pending_title,
        )
        .signed_in(&session.csrf_token),
        s,
        payment_id,
    };
    page(&template, lang, chosen)
}

#[derive(Template)]
#[template(path = "apply/exemption.html")]
struct ExemptionPage {
    frame: Frame,
    s: &'static Steps,
    caption: String,
    errors: Vec<Problem>,
    csrf: String,
    id: String,
    kind: RadioGroup,
}

/// `GET /applications/{id}/exemption`: why the applicant asks not to pay.
pub async fn exemption_form(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    SignedIn {
        lang,
        chosen,
        session,
        who,
    }: SignedIn,
) -> Result<Response, PageError> {
    let app = own(&state, &who, &id, lang).await?;
    if app.state != workflow::IDENTIFIED {
        return Ok(see_other(&next_step(&app)));
    }
    let template = exemption_page(&state, lang, &session.csrf_token, &id, None);
    page(&template, lang, chosen)
}

fn exemption_page(
    state: &AppState,
    lang: Lang,
    csrf: &str,
    id: &str,
    error: Option<String>,
) -> ExemptionPage {
    let s = lang.steps();
    let t = lang.text();
    let mut kind = RadioGroup::new(
        "kind",
        s.exemption_kind_legend,
        Exemption::ALL
            .into_iter()
            .zip(t.exemption_names)
            .map(|(e, name)| (e.code().to_owned(), name.to_owned())),
        None,
    );
    kind.error.clone_from(&error);
    let mut frame = Frame::new(
        state,
        lang,
        &format!("/applications/{id}/exemption"),
        s.exemption_title,
    )
    .signed_in(csrf);
    frame.has_errors = error.is_some();
    ExemptionPage {
        frame,
        s,
        caption: s.step(4),
        errors: error
            .map(|message| Problem {
                field: "kind".into(),
                message,
            })
            .into_iter()
            .collect(),
        csrf: csrf.to_owned(),
        id: id.to_owned(),
        kind,
    }
}

/// The exemption reason chosen.
#[derive(Debug, serde::Deserialize)]
pub struct KindForm {
    #[serde(default)]
    kind: Option<String>,
}

/// `POST /applications/{id}/exemption`: goes on to the documents of the reason chosen.
pub async fn exemption_kind(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    SignedIn { lang, who, .. }: SignedIn,
    form: CheckedForm<KindForm>,
) -> Result<Response, PageError> {
    // Someone else's application is not found, as on every other page of it.
    own(&state, &who, &id, lang).await?;
    match form.fields.kind.as_deref().and_then(Exemption::parse) {
        Some(kind) => Ok(see_other(&format!(
            "/applications/{id}/exemption/{}?lang={}",
            kind.code(),
            lang.code()
        ))),
        None => {
            let template = exemption_page(
                &state,
                lang,
                &form.session.csrf_token,
                &id,
                Some(lang.steps().err_exemption_kind.into()),
            );
            let mut response = page(&template, lang, false)?;
            *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(response)
        }
    }
}

#[derive(Template)]
#[template(path = "apply/documents.html")]
struct DocumentsPage {
    frame: Frame,
    s: &'static Steps,
    caption: String,
    errors: Vec<Problem>,
    csrf: String,
    action: String,
    back: String,
    heading: String,
    hint: String,
    files: Vec<FileField>,
}

/// The accepted types of supporting documents.
const DOCUMENT_TYPES: [&str; 3] = ["application/pdf", "image/jpeg", "image/png"];

fn documents_page(
    state: &AppState,
    lang: Lang,
    csrf: &str,
    id: &str,
    kind: Exemption,
    errors: Vec<Problem>,
) -> DocumentsPage {
    let s = lang.steps();
    let t = lang.text();
    let name = Exemption::ALL
        .into_iter()
        .zip(t.exemption_names)
        .find(|(e, _)| *e == kind)
        .map_or("", |(_, n)| n);
    let path = format!("/applications/{id}/exemption/{}", kind.code());
    let mut frame = Frame::new(state, lang, &path, s.exemption_title).signed_in(csrf);
    frame.has_errors = !errors.is_empty();
    let files = kind
        .required_documents()
        .iter()
        .map(|code| FileField {
            id: (*code).to_owned(),
            label: capitalised(t.document_name(code)),
            hint: None,
            error: errors
                .iter()
                .find(|e| e.field == *code)
                .map(|e| e.message.clone()),
            accept: "application/pdf,image/jpeg,image/png",
            capture: false,
        })
        .collect();
    DocumentsPage {
        frame,
        s,
        caption: s.step(4),
        errors,
        csrf: csrf.to_owned(),
        action: path,
        back: format!("/applications/{id}/exemption"),
        heading: format!("{} – {name}", s.exemption_title),
        hint: fill(s.files_hint, &[&megabytes(state)]),
        files,
    }
}

/// A document name as a label: its first letter upper-case (the catalog's names are written
/// to follow "you will upload:").
fn capitalised(text: &str) -> String {
    let text = text.trim_end_matches([';', '.', '；', '。']);
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

/// `GET /applications/{id}/exemption/{kind}`: the documents of the reason chosen.
pub async fn documents_form(
    State(state): State<Arc<AppState>>,
    Path((id, kind)): Path<(String, String)>,
    SignedIn {
        lang,
        chosen,
        session,
        who,
    }: SignedIn,
) -> Result<Response, PageError> {
    let Some(kind) = Exemption::parse(&kind) else {
        return Err(PageError::NotFound(lang));
    };
    let app = own(&state, &who, &id, lang).await?;
    if app.state != workflow::IDENTIFIED {
        return Ok(see_other(&next_step(&app)));
    }
    let template = documents_page(&state, lang, &session.csrf_token, &id, kind, Vec::new());
    page(&template, lang, chosen)
}

/// `POST /applications/{id}/exemption/{kind}`: asks for the exemption with its documents.
pub async fn request_exemption(
    State(state): State<Arc<AppState>>,
    Path((id, kind)): Path<(String, String)>,
    SignedIn { lang, who, .. }: SignedIn,
    form: CheckedUpload,
) -> Result<Response, PageError> {
    let Some(kind) = Exemption::parse(&kind) else {
        return Err(PageError::NotFound(lang));
    };
    let s = lang.steps();
    let t = lang.text();
    let megabytes = megabytes(&state);
    let mut problems = Vec::new();
    let mut documents = Vec::new();
    for code in kind.required_documents() {
        let file = form.file(code);
        match file_problem(
            s,
            file,
            &DOCUMENT_TYPES,
            &megabytes,
            fill(
                s.err_file_missing,
                &[t.document_name(code).trim_end_matches([';', '；'])],
            ),
            s.err_file_type,
            s.err_file_large,
        ) {
            Err(message) => problems.push(Problem {
                field: (*code).to_owned(),
                message,
            }),
            Ok(()) => {
                if let Some(file) = file {
                    if crate::rules::documents::check_filename(&file.filename).is_err() {
                        problems.push(Problem {
                            field: (*code).to_owned(),
                            message: s.err_file_name.into(),
                        });
                        continue;
                    }
                    documents.push(SupportingDocument {
                        kind: (*code).to_owned(),
                        filename: file.filename.clone(),
                        media_type: file.media_type.clone(),
                        content: file.content.clone().unwrap_or_default(),
                    });
                }
            }
        }
    }
    if problems.is_empty() {
        match state
            .request_exemption(&who, &id, kind.code(), documents)
            .await
        {
            Ok(app) => {
                return Ok(see_other(&format!(
                    "/applications/{}/submitted?lang={}",
                    app.id,
                    lang.code()
                )));
            }
            Err(CaseError::Invalid { field, message }) => problems.push(Problem {
                field: kind.required_documents()[0].to_owned(),
                message: fill(s.err_file_content, &[&format!("{field}: {message}")]),
            }),
            Err(CaseError::Conflict(_)) => {
                let app = own(&state, &who, &id, lang).await?;
                return Ok(see_other(&next_step(&app)));
            }
            Err(e) => return Err(PageError::from_case(e, lang)),
        }
    }
    let template = documents_page(&state, lang, &form.session.csrf_token, &id, kind, problems);
    let mut response = page(&template, lang, false)?;
    *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    Ok(response)
}

#[derive(Template)]
#[template(path = "apply/submitted.html")]
struct SubmittedPage {
    frame: Frame,
    s: &'static Steps,
    heading: &'static str,
    reference: String,
    due: Option<String>,
    next: String,
    receipt: Option<String>,
}

/// `GET /applications/{id}/submitted`: the confirmation.
pub async fn submitted(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    SignedIn {
        lang,
        chosen,
        session,
        who,
    }: SignedIn,
) -> Result<Response, PageError> {
    let app = own(&state, &who, &id, lang).await?;
    let s = lang.steps();
    let exemption = app.state == workflow::EXEMPTION_REQUESTED;
    if !exemption && app.documents_received_at.is_none() {
        return Ok(see_other(&next_step(&app)));
    }
    let now = time::OffsetDateTime::now_utc();
    let due = match (&app.due_date, state.working_days_left(&app, now)) {
        (Some(date), Some(days)) => Some(fill(s.due_text, &[date, &days.to_string()])),
        _ => None,
    };
    let next = if exemption {
        s.next_exemption.to_owned()
    } else if let Some(site) = &app.collection_site {
        let site = state
            .bureau
            .config()
            .collection_site(site)
            .map_or(site.clone(), |c| coded_name(c, lang).to_owned());
        fill(s.next_paper, &[&site])
    } else {
        s.next_electronic.to_owned()
    };
    let heading = if exemption {
        s.exemption_sent_title
    } else {
        s.submitted_title
    };
    let template = SubmittedPage {
        frame: Frame::new(
            &state,
            lang,
            &format!("/applications/{id}/submitted"),
            heading,
        )
        .signed_in(&session.csrf_token),
        s,
        heading,
        reference: app.id.clone(),
        due,
        next,
        receipt: (!exemption).then(|| format!("/applications/{}/receipt", app.id)),
    };
    page(&template, lang, chosen)
}

#[derive(Template)]
#[template(path = "apply/receipt.html")]
struct ReceiptPage {
    frame: Frame,
    s: &'static Steps,
    rows: Vec<SummaryRow>,
}

/// `GET /applications/{id}/receipt`: a printable receipt of a paid application.
pub async fn receipt(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    SignedIn {
        lang,
        chosen,
        session,
        who,
    }: SignedIn,
) -> Result<Response, PageError> {
    let app = own(&state, &who, &id, lang).await?;
    let (Some(paid), Some(received)) = (app.fee_avos, app.documents_received_at.clone()) else {
        return Err(PageError::NotFound(lang));
    };
    let s = lang.steps();
    let row = |key: &str, value: String| SummaryRow {
        key: key.to_owned(),
        value,
        change: None,
        change_text: s.change,
    };
    let mut rows = vec![
        row(s.reference_label, app.id.clone()),
        row(s.date_label, received.chars().take(10).collect()),
        row(s.amount_paid, mop(paid)),
    ];
    rows.extend(selection_rows(&state, &app, lang).await?);
    rows.extend(holder_rows(&app, lang, false).into_iter().take(1));
    let template = ReceiptPage {
        frame: Frame::new(
            &state,
            lang,
            &format!("/applications/{id}/receipt"),
            s.receipt_title,
        )
        .signed_in(&session.csrf_token),
        s,
        rows,
    };
    page(&template, lang, chosen)
}
