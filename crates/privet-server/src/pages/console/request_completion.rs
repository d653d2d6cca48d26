//! `POST /console/requests/{id}/complete`: completes a request by running what self-service
//! runs, as `POST /v1/requests/{id}/complete` does: access and portability are answered with
//! the export (downloaded first, then marked done), erasure with the signed receipt;
//! restriction, objection and rectification are applied.

use super::requests::detail_page;
use super::staff::{Area, ConsoleNav, Staff};
use super::{form, message_of, status_of, when};
use crate::pages::{PageContext, PageError, render};
use crate::service::erasure::Receipt;
use crate::service::requests::{self, Completed, Completion, Delivery};
use crate::service::subjects::Correction;
use crate::service::visitors::VisitorReceipt;
use crate::state::AppState;
use askama::Template;
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

/// The completion form: what the kind of request needs.
#[derive(Default, Deserialize)]
pub(super) struct CompleteForm {
    #[serde(default)]
    csrf: String,
    /// Erasure: `yes` once the operator has confirmed.
    #[serde(default)]
    confirm: String,
    /// Objection: purposes objected to (empty: every legitimate-interests purpose).
    #[serde(default)]
    purposes: String,
    /// Rectification: the corrected name.
    #[serde(default)]
    name: String,
    /// Rectification: the corrected e-mail.
    #[serde(default)]
    email: String,
}

#[derive(Template)]
#[template(path = "pages/console/receipt.html")]
struct ReceiptPage {
    page: PageContext,
    nav: ConsoleNav,
    request: String,
    receipt: Receipt,
    erased_at: String,
}

#[derive(Template)]
#[template(path = "pages/console/visitor_receipt.html")]
struct VisitorReceiptPage {
    page: PageContext,
    nav: ConsoleNav,
    request: String,
    receipt: VisitorReceipt,
    erased_at: String,
    from: String,
    until: String,
}

/// Never shows the corrected name or e-mail.
impl std::fmt::Debug for CompleteForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompleteForm")
            .field("confirm", &self.confirm)
            .field("purposes", &self.purposes)
            .finish_non_exhaustive()
    }
}

impl CompleteForm {
    /// What the form asks the completion to do. The console answers access and portability
    /// requests by the staff member sending the export they downloaded.
    fn completion(&self) -> Completion {
        let given = |s: &str| {
            let s = s.trim();
            (!s.is_empty()).then(|| s.to_owned())
        };
        Completion {
            format: None,
            purposes: self
                .purposes
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|p| !p.is_empty())
                .map(str::to_owned)
                .collect(),
            correction: Correction {
                name: given(&self.name),
                email: given(&self.email),
            },
            erasure_confirmed: self.confirm == "yes",
        }
    }
}

/// `POST /console/requests/{id}/complete`.
pub(super) async fn complete(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    submitted: Result<Form<CompleteForm>, FormRejection>,
) -> Result<Response, PageError> {
    let permit = staff.require(Area::ManageRequests)?;
    let f = form(submitted)?;
    staff.check_csrf(&state, &f.csrf)?;
    let outcome = requests::complete(
        &state,
        &id,
        f.completion(),
        Delivery::AlreadySent,
        &permit.actor,
    )
    .await;
    match outcome {
        Ok(Completed::Receipt(receipt)) => render(&ReceiptPage {
            page: staff
                .page(&state)
                .await?
                .flash("The data was erased and the request marked done."),
            nav: ConsoleNav::new(&staff, Area::Requests),
            request: id,
            erased_at: when(receipt.erased_at),
            receipt: *receipt,
        }),
        Ok(Completed::VisitorReceipt(receipt)) => render(&VisitorReceiptPage {
            page: staff
                .page(&state)
                .await?
                .flash("The visitor's records were deleted and the request marked done."),
            nav: ConsoleNav::new(&staff, Area::Requests),
            request: id,
            erased_at: when(receipt.erased_at),
            from: when(receipt.from),
            until: when(receipt.until),
            receipt: *receipt,
        }),
        // The visitor's records, downloaded by the staff member to send on.
        Ok(Completed::VisitorExport(export)) => {
            let mut resp = axum::Json(*export).into_response();
            let name = format!("attachment; filename=\"visitor-{id}.json\"");
            if let Ok(v) = HeaderValue::from_str(&name) {
                resp.headers_mut().insert(header::CONTENT_DISPOSITION, v);
            }
            Ok(resp)
        }
        Ok(Completed::Done(_) | Completed::Export(_)) => Ok(Redirect::to(&format!(
            "/console/requests/{}?done=completed",
            crate::pages::urlencode(&id)
        ))
        .into_response()),
        Err(e) => {
            let error = (status_of(&e), message_of(&e));
            detail_page(&state, &staff, &id, None, Some(error)).await
        }
    }
}
