//! The security officer's signing-keys page (SPEC §10): every key with its state and window,
//! and the declaration of a compromise, with the role's active key id typed again, carried
//! out by the same function as `issuer keys compromise` (docs/key-compromise.md).

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use time::OffsetDateTime;

use super::Staff;
use super::case::Done;
use crate::bureau::{BureauError, Services as AppState};
use crate::http::web::desk::StaffArea;
use crate::http::web::i18n::office::Office;
use crate::http::web::progress::macao_minute;
use crate::http::web::session::CheckedForm;
use crate::http::web::{Frame, PageError, Problem, see_other};
use crate::identity::auth::Role;
use crate::setup::home::HomeError;
use crate::setup::keystore::Role as KeyRole;
use crate::setup::lifecycle::LifecycleError;

/// The roles whose compromise the security officer can declare: every online role (SPEC §10).
/// The issuing CA's needs its root's part done first under an offline root; the declaration
/// says so and changes nothing until it is.
const COMPROMISABLE: [KeyRole; 5] = [
    KeyRole::IssuingCa,
    KeyRole::TokenSigner,
    KeyRole::DocumentSigner,
    KeyRole::Tsa,
    KeyRole::TransferSigner,
];

/// One key as listed.
#[derive(Debug)]
pub struct KeyRow {
    role: &'static str,
    key_id: String,
    state: &'static str,
    active_from: String,
    retired_at: String,
    compromised_since: String,
}

/// One role's declaration form.
#[derive(Debug)]
pub struct RoleForm {
    role: &'static str,
    active_key: String,
}

#[derive(Template)]
#[template(path = "staff/keys.html")]
struct KeysPage {
    frame: Frame,
    o: &'static Office,
    errors: Vec<Problem>,
    banner: Option<String>,
    csrf: String,
    lang: &'static str,
    sequence: String,
    keys: Vec<KeyRow>,
    forms: Vec<RoleForm>,
}

impl KeysPage {
    fn error(&self, field: &str) -> Option<&str> {
        crate::http::web::error_of(&self.errors, field)
    }
}

fn shown(t: Option<OffsetDateTime>) -> String {
    t.map_or_else(|| "—".to_owned(), macao_minute)
}

fn state_name(state: &str, o: &Office) -> &'static str {
    match state {
        "pending" => o.key_pending,
        "published" => o.key_published,
        "active" => o.active,
        "retired" => o.key_retired,
        _ => o.key_removed,
    }
}

async fn render(
    state: &AppState,
    staff: &Staff,
    banner: Option<String>,
    errors: Vec<Problem>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let o = staff.o();
    let now = OffsetDateTime::now_utc();
    let (sequence, lines) = state
        .bureau
        .keys(now)
        .map_err(|e| PageError::Internal(e.to_string()))?;
    let forms = COMPROMISABLE
        .iter()
        .filter_map(|role| {
            let active = lines
                .iter()
                .find(|l| l.entry.role == *role && l.state == "active")?;
            Some(RoleForm {
                role: role.name(),
                active_key: active.entry.key_id.clone(),
            })
        })
        .collect();
    let keys = lines
        .iter()
        .map(|l| KeyRow {
            role: l.entry.role.name(),
            key_id: l.entry.key_id.clone(),
            state: state_name(l.state, o),
            active_from: shown(l.entry.active_from),
            retired_at: shown(l.entry.retired_at),
            compromised_since: shown(l.entry.compromised_since),
        })
        .collect();
    let mut frame = staff.frame(state, "/staff/keys", o.keys);
    frame.has_errors = !errors.is_empty();
    let mut response = staff.page(&KeysPage {
        frame,
        o,
        errors,
        banner,
        csrf: staff.session.csrf_token.clone(),
        lang: staff.lang.code(),
        sequence: o.key_sequence.replace("{0}", &sequence.to_string()),
        keys,
        forms,
    })?;
    *response.status_mut() = status;
    Ok(response)
}

/// `?done=` after a declaration: how many certificates were re-issued.
#[derive(Debug, serde::Deserialize)]
pub struct Declared {
    #[serde(default)]
    reissued: Option<usize>,
    #[serde(flatten)]
    done: Done,
}

/// `GET /staff/keys` (security officer).
pub async fn keys(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Query(declared): Query<Declared>,
) -> Result<Response, PageError> {
    staff.require(&[Role::SecurityOfficer])?;
    let o = staff.o();
    let banner = (declared.done.done.as_deref() == Some("compromised")).then(|| {
        o.compromise_declared
            .replace("{0}", &declared.reissued.unwrap_or_default().to_string())
    });
    render(&state, &staff, banner, Vec::new(), StatusCode::OK).await
}

/// The declaration form.
#[derive(Debug, serde::Deserialize)]
pub struct CompromiseFields {
    #[serde(default)]
    since: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    confirm: String,
}

/// Reads the form's instant: Macao time, `YYYY-MM-DDTHH:MM` (what `datetime-local` sends)
/// or with a space.
fn macao_instant(text: &str) -> Option<OffsetDateTime> {
    let format = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]");
    let text = text.trim().replacen(' ', "T", 1);
    time::PrimitiveDateTime::parse(&text, format)
        .ok()
        .map(|t| t.assume_offset(ccr_pki::validity::MACAO))
}

/// `POST /staff/keys/{role}/compromise` (security officer): the role's active key id typed
/// again, the instant and a reason.
pub async fn compromise(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Path(role): Path<String>,
    form: CheckedForm<CompromiseFields, StaffArea>,
) -> Result<Response, PageError> {
    let who = staff.require(&[Role::SecurityOfficer])?;
    let o = staff.o();
    let Some(role) = KeyRole::parse(&role).filter(|r| COMPROMISABLE.contains(r)) else {
        return Err(PageError::NotFound(staff.lang));
    };
    let now = OffsetDateTime::now_utc();
    let problem = |field: &str, message: &str| Problem {
        field: format!("{}-{field}", role.name()),
        message: message.to_owned(),
    };
    let active = state
        .bureau
        .keys(now)
        .map_err(|e| PageError::Internal(e.to_string()))?
        .1
        .into_iter()
        .find(|l| l.entry.role == role && l.state == "active")
        .map(|l| l.entry.key_id);
    let fields = form.fields;
    let mut errors = Vec::new();
    let since = macao_instant(&fields.since);
    if since.is_none_or(|t| t > now) {
        errors.push(problem("since", o.compromise_since_invalid));
    }
    if fields.reason.trim().is_empty() {
        errors.push(problem("reason", o.reason_required));
    }
    if active.as_deref() != Some(fields.confirm.trim()) {
        errors.push(problem("confirm", o.key_confirm_mismatch));
    }
    let Some(since) = since.filter(|_| errors.is_empty()) else {
        return render(
            &state,
            &staff,
            None,
            errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    match state
        .bureau
        .compromise_key(role, since, fields.reason.trim(), &who.actor(), now)
        .await
    {
        Ok(done) => Ok(see_other(&format!(
            "/staff/keys?lang={}&done=compromised&reissued={}",
            staff.lang.code(),
            done.reissued.len()
        ))),
        // Refused as given, or for a step still to be done (an issuing CA the root has not
        // revoked yet): said beside the form, nothing changed.
        Err(BureauError::Usage(message))
        | Err(BureauError::Home(HomeError::Lifecycle(LifecycleError::Refused(message)))) => {
            let errors = vec![problem("since", &message)];
            render(
                &state,
                &staff,
                None,
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(PageError::Internal(e.to_string())),
    }
}
