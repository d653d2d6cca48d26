//! Who may use the console, and which parts of it: a signed-in staff account with two-step
//! verification on, and a role that allows the area. Each area is an action of
//! `privet_policy`'s one role table, the same the API asks: deny by default.

use crate::pages::{PageContext, PageError, PageSession, csrf, render_status};
use crate::service::error::{Forbidden, ServiceError};
use crate::session::{SignedIn, check_same_origin};
use crate::state::AppState;
use askama::Template;
use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use privet_policy::{Action, authorize, can};
use privet_store::{AccountKind, Role};

/// A part of the console.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Area {
    /// The overview page.
    Overview,
    /// Manifests, lint findings, notices, labels.
    Products,
    /// Devices and their update status.
    Fleet,
    /// Rights requests, to read.
    Requests,
    /// Rights requests, to log, extend and complete.
    ManageRequests,
    /// The audit log and its verification.
    Audit,
    /// Operator API keys.
    Keys,
    /// Webhook endpoints and their deliveries.
    Webhooks,
    /// The records of processing (UK GDPR Art. 30), to read and download.
    Records,
}

impl Area {
    /// The action of the role table this area needs.
    pub(crate) fn action(self) -> Action {
        match self {
            Area::Overview | Area::Products => Action::UseConsole,
            Area::Fleet => Action::SeeFleet,
            Area::Requests => Action::ReadRequests,
            Area::ManageRequests => Action::ActOnSubjects,
            Area::Audit => Action::ReadAudit,
            Area::Keys => Action::ManageKeys,
            Area::Webhooks => Action::ManageWebhooks,
            Area::Records => Action::ReadRecords,
        }
    }
}

/// A staff account, signed in, with two-step verification on.
pub(crate) struct Staff {
    /// The session.
    pub(crate) signed: SignedIn,
}

/// Permission to use one area, from [`Staff::require`].
#[derive(Debug)]
pub(crate) struct Permit {
    /// Who, for audit entries: `account:<id>`.
    pub(crate) actor: String,
}

impl Staff {
    /// The account's role (`None` only for a staff account created without one).
    pub(crate) fn role(&self) -> Option<Role> {
        self.signed.account.role
    }

    /// Whether this account may use `area`.
    pub(crate) fn can(&self, area: Area) -> bool {
        can(self.role(), area.action())
    }

    /// Permission to use `area`, or a "not allowed" page.
    pub(crate) fn require(&self, area: Area) -> Result<Permit, PageError> {
        authorize(self.role(), area.action()).map_err(ServiceError::from)?;
        Ok(Permit {
            actor: self.signed.actor(),
        })
    }

    /// Checks a submitted form's CSRF token.
    pub(crate) fn check_csrf(&self, state: &AppState, submitted: &str) -> Result<(), PageError> {
        Ok(csrf::check(state, &self.signed.session, submitted)?)
    }

    /// The page context for this account.
    pub(crate) async fn page(&self, state: &AppState) -> Result<PageContext, PageError> {
        PageContext::new(state, Some(&self.signed)).await
    }
}

#[derive(Template)]
#[template(path = "pages/console/two_step.html")]
struct TwoStepNeeded {
    page: PageContext,
}

impl FromRequestParts<AppState> for Staff {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let PageSession(signed) = PageSession::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        if signed.account.kind != AccountKind::Staff {
            return Err(PageError::from(ServiceError::from(Forbidden::NotStaff)).into_response());
        }
        check_same_origin(&parts.method, &parts.headers)
            .map_err(|e| PageError::from(e).into_response())?;
        if !signed.account.totp_enabled {
            // Staff reach everyone's data: nothing until two-step verification is on.
            let page = PageContext::new(state, Some(&signed))
                .await
                .map_err(IntoResponse::into_response)?;
            return Err(
                render_status(StatusCode::FORBIDDEN, &TwoStepNeeded { page })
                    .unwrap_or_else(IntoResponse::into_response),
            );
        }
        Ok(Staff { signed })
    }
}

/// One link of the console's sub-navigation.
#[derive(Debug)]
pub(crate) struct NavItem {
    /// Where it goes.
    pub(crate) href: &'static str,
    /// What it says.
    pub(crate) label: &'static str,
    /// Whether it is the current page.
    pub(crate) current: bool,
}

/// The console's sub-navigation: the areas this account may use.
#[derive(Debug)]
pub(crate) struct ConsoleNav {
    /// Links.
    pub(crate) items: Vec<NavItem>,
    /// The account's role, as shown.
    pub(crate) role: &'static str,
}

impl ConsoleNav {
    /// The navigation with `current` marked.
    pub(crate) fn new(staff: &Staff, current: Area) -> ConsoleNav {
        let all = [
            ("/console", "Overview", Area::Overview),
            ("/console/products", "Products", Area::Products),
            ("/console/fleet", "Fleet", Area::Fleet),
            ("/console/requests", "Rights requests", Area::Requests),
            ("/console/audit", "Audit log", Area::Audit),
            ("/console/records", "Records of processing", Area::Records),
            ("/console/keys", "API keys", Area::Keys),
            ("/console/webhooks", "Webhooks", Area::Webhooks),
        ];
        ConsoleNav {
            items: all
                .into_iter()
                .filter(|(_, _, area)| staff.can(*area))
                .map(|(href, label, area)| NavItem {
                    href,
                    label,
                    current: area == current
                        || (current == Area::ManageRequests && area == Area::Requests),
                })
                .collect(),
            role: staff.role().map_or("none", Role::as_str),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_reach_only_their_areas() {
        use Area::*;
        let areas = [
            Overview,
            Products,
            Fleet,
            Requests,
            ManageRequests,
            Audit,
            Keys,
            Webhooks,
            Records,
        ];
        let expect = |role: Option<Role>| -> Vec<Area> {
            match role {
                Some(Role::Admin) => areas.to_vec(),
                Some(Role::Support) => vec![Overview, Products, Requests, ManageRequests],
                Some(Role::Dpo) => vec![Overview, Products, Requests, Audit, Records],
                Some(Role::Analyst) | None => vec![Overview, Products],
            }
        };
        for role in Role::ALL.map(Some).into_iter().chain([None]) {
            for area in areas {
                assert_eq!(
                    can(role, area.action()),
                    expect(role).contains(&area),
                    "{role:?} × {area:?}"
                );
            }
        }
    }
}
