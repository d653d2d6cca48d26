//! `/console`: counts at a glance, with links to each area the role may use.

use super::staff::{Area, ConsoleNav, Staff};
use crate::pages::{PageContext, PageError, render};
use crate::service::requests::{Status, status};
use crate::state::AppState;
use askama::Template;
use axum::extract::State;
use axum::response::Response;

/// One count on the overview.
#[derive(Debug)]
struct Count {
    what: &'static str,
    value: u64,
    href: &'static str,
    link: &'static str,
    overdue: bool,
}

#[derive(Template)]
#[template(path = "pages/console/overview.html")]
struct Overview {
    page: PageContext,
    nav: ConsoleNav,
    counts: Vec<Count>,
}

/// `GET /console`.
pub(super) async fn show(
    State(state): State<AppState>,
    staff: Staff,
) -> Result<Response, PageError> {
    staff.require(Area::Overview)?;
    let mut counts = vec![Count {
        what: "Products",
        value: state.products().iter().count() as u64,
        href: "/console/products",
        link: "See the products",
        overdue: false,
    }];
    if staff.can(Area::Fleet) {
        counts.push(Count {
            what: "Devices",
            value: state.store().all_devices().await?.len() as u64,
            href: "/console/fleet",
            link: "See the fleet",
            overdue: false,
        });
    }
    if staff.can(Area::Requests) {
        let today = state.clock().today_uk();
        let (mut open, mut overdue) = (0, 0);
        for r in state.store().requests().await? {
            match status(&r, today).1 {
                Status::Open | Status::AwaitingIdentity | Status::AwaitingClarification => {
                    open += 1;
                }
                Status::Overdue => overdue += 1,
                Status::Done => {}
            }
        }
        counts.push(Count {
            what: "Open rights requests",
            value: open + overdue,
            href: "/console/requests",
            link: "See the rights requests",
            overdue: false,
        });
        counts.push(Count {
            what: "Overdue rights requests",
            value: overdue,
            href: "/console/requests",
            link: "Answer the overdue requests",
            overdue: overdue > 0,
        });
    }
    if staff.can(Area::Audit) {
        // The keyring's anchor is the head of the chain: its sequence number is the count.
        let entries = state
            .keys()
            .keyring()
            .audit_anchor()
            .await?
            .map_or(0, |(seq, _)| u64::try_from(seq).unwrap_or(0));
        counts.push(Count {
            what: "Audit log entries",
            value: entries,
            href: "/console/audit",
            link: "Read and verify the audit log",
            overdue: false,
        });
    }
    render(&Overview {
        page: staff.page(&state).await?,
        nav: ConsoleNav::new(&staff, Area::Overview),
        counts,
    })
}
