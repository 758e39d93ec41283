//! The bureau's back office (SPEC §7, `/staff`): the work queue, the case view with the
//! actions of each role, the record registry, certificates (revocation, re-issue), and the
//! security officer's pages (audit log, departments, staff accounts, development outbox).
//!
//! Every page calls the same use cases as the JSON API (`crate::bureau`); the role a page
//! admits is checked here, first thing, by [`OnDesk::require`].

mod case;
mod certificates;
mod keys;
mod paper;
mod queue;
mod registry;
mod security;

use std::sync::Arc;

pub use case::{Done, banner};

use axum::Router;
use axum::routing::{get, post};

use super::desk::{self, DeskArea, OnDesk, StaffArea};
use super::i18n::office::Office;
use crate::bureau::Services as AppState;
use crate::bureau::people::Desk;
use crate::identity::auth::{Principal, Role};

/// A back-office page request.
pub type Staff = OnDesk<StaffArea>;

/// Roles that work on applications.
pub const CASEWORKERS: &[Role] = &[Role::Clerk, Role::Officer];

impl DeskArea for StaffArea {
    const DESK: Desk = Desk::Staff;
    const BASE: &'static str = "/staff";

    fn name(o: &Office) -> &'static str {
        o.staff_area
    }

    fn menu(state: &AppState, who: &Principal, o: &Office) -> Vec<(&'static str, &'static str)> {
        let mut menu = Vec::new();
        if CASEWORKERS.contains(&who.role) {
            menu.push(("/staff", o.queue));
        }
        if who.role == Role::Clerk {
            menu.push(("/staff/printing", o.printing));
        }
        if who.role == Role::Officer {
            menu.push(("/staff/records", o.registry));
        }
        if matches!(who.role, Role::Officer | Role::SecurityOfficer) {
            menu.push(("/staff/certificates", o.certificates));
        }
        if who.role == Role::SecurityOfficer {
            menu.push(("/staff/audit", o.audit));
            menu.push(("/staff/keys", o.keys));
            menu.push(("/staff/departments", o.departments));
            menu.push(("/staff/accounts", o.accounts));
            if state.bureau.config().providers.any_development() {
                menu.push(("/staff/outbox", o.outbox));
            }
        }
        menu
    }
}

/// The back office's routes.
pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route(
            "/staff/sign-in",
            get(desk::sign_in_form::<StaffArea>).post(desk::sign_in::<StaffArea>),
        )
        .route(
            "/staff/sign-in/code",
            get(desk::code_form::<StaffArea>).post(desk::verify_code::<StaffArea>),
        )
        .route("/staff/sign-out", post(desk::sign_out::<StaffArea>))
        .route("/staff", get(queue::queue))
        .route("/staff/applications/{id}", get(case::case))
        .route(
            "/staff/applications/{id}/documents/{document}",
            get(case::document),
        )
        .route("/staff/applications/{id}/assign", post(case::assign))
        .route("/staff/applications/{id}/review", post(case::review))
        .route("/staff/applications/{id}/exemption", post(case::exemption))
        .route("/staff/applications/{id}/records", get(case::records))
        .route("/staff/applications/{id}/collection", post(paper::collect))
        .route("/staff/applications/{id}/locker", post(paper::deposit))
        .route(
            "/staff/printing",
            get(paper::printing).post(paper::print_action),
        )
        .route("/staff/applications/{id}/decision", post(case::decide))
        .route("/staff/certificates", get(certificates::find))
        .route(
            "/staff/certificates/{number}",
            get(certificates::certificate),
        )
        .route(
            "/staff/certificates/{number}/status",
            post(certificates::change_status),
        )
        .route(
            "/staff/certificates/{number}/reissue",
            post(certificates::reissue),
        )
        .route(
            "/staff/records",
            get(registry::registry).post(registry::add_entry),
        )
        .route(
            "/staff/records/{id}",
            get(registry::entry).post(registry::correct),
        )
        .route("/staff/records/{id}/close", post(registry::close))
        .route("/staff/audit", get(security::audit))
        .route("/staff/departments", get(security::departments))
        .route(
            "/staff/departments/{code}/users",
            post(security::add_department_user),
        )
        .route(
            "/staff/departments/{code}/credentials",
            post(security::issue_credentials),
        )
        .route(
            "/staff/departments/{code}/endpoint",
            post(security::set_endpoint),
        )
        .route(
            "/staff/departments/{code}/active",
            post(security::set_department_active),
        )
        .route(
            "/staff/accounts",
            get(security::accounts).post(security::add_account),
        )
        .route(
            "/staff/accounts/{username}/active",
            post(security::set_active),
        )
        .route("/staff/outbox", get(security::outbox))
        .route("/staff/keys", get(keys::keys))
        .route("/staff/keys/{role}/compromise", post(keys::compromise))
}

/// A certificate status's name on a page.
pub fn status_name(status: i64, o: &Office) -> &'static str {
    match status {
        0 => o.status_valid,
        1 => o.status_revoked,
        2 => o.status_suspended,
        3 => o.status_superseded,
        _ => "?",
    }
}
