//! The work queue: filterable, sortable, overdue first by default, with counts per state.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use time::OffsetDateTime;

use super::{CASEWORKERS, Staff};
use crate::bureau::Services as AppState;
use crate::bureau::back_office::{OPEN_STATES, QueueFilter, Sort, Speed};
use crate::http::web::i18n::office::Office;
use crate::http::web::{Frame, PageError};
use crate::rules::workflow;

/// The queue's query.
#[derive(Debug, Default, serde::Deserialize)]
pub struct QueueQuery {
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    speed: Option<String>,
    #[serde(default)]
    mine: Option<String>,
    #[serde(default)]
    sort: Option<String>,
}

/// One row as shown.
#[derive(Debug)]
pub struct Row {
    href: String,
    reference: String,
    state: String,
    express: bool,
    holder: String,
    due: String,
    overdue: bool,
    assigned: String,
}

/// An option of a `<select>`: value, text, selected.
type Choice = (String, String, bool);

#[derive(Template)]
#[template(path = "staff/queue.html")]
struct QueuePage {
    frame: Frame,
    o: &'static Office,
    /// State code, its name, how many.
    counts: Vec<(String, &'static str, i64)>,
    states: Vec<Choice>,
    speeds: Vec<Choice>,
    sorts: Vec<Choice>,
    mine: bool,
    rows: Vec<Row>,
}

/// The holder's Latin name from an application's confirmed data.
pub fn holder_name(holder_json: Option<&str>) -> String {
    holder_json
        .and_then(|j| serde_json::from_str::<crate::rules::request::HolderRequest>(j).ok())
        .map(|h| h.name_latin)
        .unwrap_or_default()
}

fn choices(options: &[(&str, &str)], chosen: Option<&str>) -> Vec<Choice> {
    options
        .iter()
        .map(|(value, text)| {
            (
                (*value).to_owned(),
                (*text).to_owned(),
                chosen.unwrap_or_default() == *value,
            )
        })
        .collect()
}

/// `GET /staff` (clerk, officer).
pub async fn queue(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Query(query): Query<QueueQuery>,
) -> Result<Response, PageError> {
    let who = staff.require(CASEWORKERS)?;
    let o = staff.o();
    let chosen_state = query
        .state
        .as_deref()
        .filter(|s| workflow::STATES.contains(s));
    let filter = QueueFilter {
        state: chosen_state.map(str::to_owned),
        speed: match query.speed.as_deref() {
            Some("express") => Some(Speed::Express),
            Some("standard") => Some(Speed::Standard),
            _ => None,
        },
        mine: query.mine.is_some(),
        sort: match query.sort.as_deref() {
            Some("waiting") => Sort::Waiting,
            Some("reference") => Sort::Reference,
            _ => Sort::Due,
        },
    };
    let queue = state
        .queue(who, &filter, OffsetDateTime::now_utc())
        .await
        .map_err(|e| PageError::from_case(e, staff.lang))?;
    let lang = staff.lang.code();
    let t = staff.lang.text();
    let rows = queue
        .rows
        .into_iter()
        .map(|r| Row {
            href: format!("/staff/applications/{}?lang={lang}", r.app.id),
            holder: holder_name(r.app.holder_json.as_deref()),
            reference: r.app.id,
            state: t.state_name(&r.app.state).to_owned(),
            express: r.app.express != 0,
            due: r.due.map(|d| d.to_string()).unwrap_or_default(),
            overdue: r.overdue,
            assigned: r.assigned_to.unwrap_or_default(),
        })
        .collect();
    let mut state_options = vec![("", o.all_open)];
    state_options.extend(workflow::STATES.iter().map(|s| (*s, t.state_name(s))));
    let template = QueuePage {
        frame: staff.frame(&state, "/staff", o.queue),
        o,
        counts: queue
            .counts
            .into_iter()
            .filter(|(s, _)| OPEN_STATES.contains(&s.as_str()))
            .map(|(s, n)| {
                let name = t.state_name(&s);
                (s, name, n)
            })
            .collect(),
        states: choices(&state_options, chosen_state),
        speeds: choices(
            &[
                ("", o.any),
                ("standard", o.standard),
                ("express", o.express),
            ],
            query.speed.as_deref(),
        ),
        sorts: choices(
            &[
                ("due", o.sort_due),
                ("waiting", o.sort_waiting),
                ("reference", o.sort_reference),
            ],
            Some(query.sort.as_deref().unwrap_or("due")),
        ),
        mine: filter.mine,
        rows,
    };
    staff.page(&template)
}
