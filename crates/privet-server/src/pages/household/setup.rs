//! `/setup`: claiming a device. The claim code first shows what the product collects and
//! why, in the manifest's own words; only confirming attaches it, and each choice about an
//! optional purpose is saved as a consent record. A consent the household already gave shows
//! as "On since …" (set-up never turns it off), and each use on legitimate interests can be
//! objected to before it starts.

use super::form::PageForm;
use super::{FieldErrors, member_of, see_other, view};
use crate::access::{Caller, authorize_subject};
use crate::pages::{PageContext, PageError, PageSession, render, render_status};
use crate::service::consent::{self, Choice};
use crate::service::error::{Invalid, Missing, ServiceError};
use crate::service::{accounts, devices, objections, subjects};
use crate::session::SignedIn;
use crate::state::AppState;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use privet_manifest::Manifest;
use privet_manifest::notice::{Notice, PurposeFacts};
use privet_policy::ConsentLedger;
use privet_policy::SubjectAction;
use privet_store::{Device, Subject, SubjectId};
use std::sync::Arc;

#[derive(Template)]
#[template(path = "pages/household/setup.html")]
struct SetupPage {
    page: PageContext,
    owner: bool,
    claim_code: String,
    errors: FieldErrors,
}

struct Optional {
    facts: PurposeFacts,
    /// The day it was switched on, when it already is for everyone it applies to here.
    since: Option<String>,
}

#[derive(Template)]
#[template(path = "pages/household/setup_preview.html")]
struct PreviewPage {
    page: PageContext,
    notice: Notice,
    essential: Vec<PurposeFacts>,
    optional: Vec<Optional>,
    /// Whether any optional use is already on (shown as "On since …").
    any_on: bool,
    /// Whether any optional use is still off (shown as a switch).
    any_off: bool,
    /// Uses on legitimate interests (or a public task): on unless the person objects.
    objectable: Vec<PurposeFacts>,
    /// How to allow a use again after objecting.
    undo: String,
    members: Vec<(String, String)>,
    claim_code: String,
}

/// The claim code field's error for a failed claim, if it is the code's fault.
fn code_error(e: &ServiceError) -> Option<FieldErrors> {
    let message = match e {
        ServiceError::RateLimited { retry_after } => format!(
            "Too many wrong codes. Wait {retry_after} seconds and try again."
        ),
        ServiceError::NotFound(Missing::ClaimCode) => "That claim code is not right, or the device is already set up. Check the code printed on the device or its box.".to_owned(),
        _ => return None,
    };
    Some(FieldErrors::one("claim_code", message))
}

async fn form_again(
    state: &AppState,
    signed: &SignedIn,
    claim_code: String,
    errors: FieldErrors,
) -> Result<Response, PageError> {
    let status = if errors
        .get("claim_code")
        .is_some_and(|e| e.starts_with("Too many"))
    {
        StatusCode::TOO_MANY_REQUESTS
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let mut page = PageContext::new(state, Some(signed)).await?;
    page.error = errors.summary();
    render_status(
        status,
        &SetupPage {
            page,
            owner: true,
            claim_code,
            errors,
        },
    )
}

/// The claim code form.
pub(crate) async fn page(
    State(state): State<AppState>,
    PageSession(signed): PageSession,
) -> Result<Response, PageError> {
    member_of(&signed)?;
    render(&SetupPage {
        page: PageContext::new(&state, Some(&signed)).await?,
        owner: signed.account.owner,
        claim_code: String::new(),
        errors: FieldErrors::default(),
    })
}

/// Shows what the device collects and why, before anything is attached.
pub(crate) async fn preview(
    State(state): State<AppState>,
    PageSession(signed): PageSession,
    form: PageForm,
) -> Result<Response, PageError> {
    form.check_csrf(&state, &signed)?;
    let household = accounts::owned_household(&signed)?;
    let code = form.get("claim_code").trim().to_owned();
    let device = match devices::preview_claim(&state, &signed.account.id, &code).await {
        Ok(d) => d,
        Err(e) => match code_error(&e) {
            Some(errors) => return form_again(&state, &signed, code, errors).await,
            None => return Err(e.into()),
        },
    };
    let (_, me) = member_of(&signed)?;
    let m = manifest_of(&state, &device)?;
    let notice = Notice::from_manifest(&m);
    let mut deciding = Vec::new();
    for id in [&household, &me] {
        let subject = state.store().subject(id).await?;
        let ledger = ConsentLedger::from_history(&state.store().consents(id).await?);
        deciding.push((subject, ledger));
    }
    let (essential, rest): (Vec<_>, Vec<_>) = notice
        .purposes
        .iter()
        .cloned()
        .partition(|p| !p.optional && !p.objectable);
    let (optional, objectable): (Vec<_>, Vec<_>) = rest.into_iter().partition(|p| p.optional);
    let optional: Vec<Optional> = optional
        .into_iter()
        .map(|facts| Optional {
            since: on_since(&m, &deciding, &facts.id),
            facts,
        })
        .collect();
    let mut members = Vec::new();
    for m in state.store().members(&household).await? {
        members.push((m.id.to_string(), subjects::profile(&state, &m).await?.name));
    }
    render(&PreviewPage {
        page: PageContext::new(&state, Some(&signed)).await?,
        notice,
        essential,
        any_on: optional.iter().any(|o| o.since.is_some()),
        any_off: optional.iter().any(|o| o.since.is_none()),
        optional,
        objectable,
        undo: super::objection::undo_sentence(&m),
        members,
        claim_code: code,
    })
}

fn manifest_of(state: &AppState, device: &Device) -> Result<Arc<Manifest>, PageError> {
    Ok(state
        .products()
        .get(&device.product)
        .cloned()
        .ok_or_else(|| ServiceError::from(Invalid::ProductNotServed(device.product.clone())))?)
}

/// The day `purpose` was switched on, when it already is for every subject here who decides
/// on it (the household, the person setting up): set-up shows it as on, not as a switch.
fn on_since(m: &Manifest, deciding: &[(Subject, ConsentLedger)], purpose: &str) -> Option<String> {
    let product = m.product.id.as_str();
    let mut since = None;
    for (subject, ledger) in deciding {
        if !privet_policy::choices_for(m, subject.kind)
            .iter()
            .any(|p| p.id.as_str() == purpose)
        {
            continue;
        }
        let at = ledger.grant(product, purpose)?.at;
        since = Some(since.map_or(at, |s: jiff::Timestamp| s.min(at)));
    }
    since.map(|at| view::day(privet_policy::utc_date(at)))
}

/// Claims the device and saves each choice as a consent record.
pub(crate) async fn confirm(
    State(state): State<AppState>,
    PageSession(signed): PageSession,
    form: PageForm,
) -> Result<Response, PageError> {
    form.check_csrf(&state, &signed)?;
    let household = accounts::owned_household(&signed)?;
    let (_, me) = member_of(&signed)?;
    let code = form.get("claim_code").trim().to_owned();
    let member = match form.get("member") {
        "" => None,
        id => Some(SubjectId::new(id.to_owned())),
    };
    let claimed = devices::claim(&state, &signed.account, &household, &code, member.as_ref()).await;
    let device = match claimed {
        Ok(d) => d,
        Err(e) => match code_error(&e) {
            Some(errors) => return form_again(&state, &signed, code, errors).await,
            None => return Err(e.into()),
        },
    };
    let Some(m) = state.products().get(&device.product).cloned() else {
        return Ok(see_other("/my-data?done=device"));
    };
    let switched_on: Vec<&str> = form.all("purpose").collect();
    let objected: Vec<&str> = form.all("object").collect();
    let caller = Caller::Account(Box::new(signed.clone()));
    // The owner chooses for the household's data and their own; everyone else chooses for
    // themselves on their My data page.
    for id in [&household, &me] {
        let cap = authorize_subject(&state, &caller, id, SubjectAction::Manage).await?;
        let ledger = ConsentLedger::from_history(&state.store().consents(id).await?);
        let choices: Vec<Choice<'_>> = privet_policy::choices_for(&m, cap.subject.kind)
            .into_iter()
            .map(|p| Choice {
                product: m.product.id.as_str(),
                purpose: p.id.as_str(),
                // A consent already on shows as "On since …", not as a switch: set-up leaves
                // it on (switching off is on My data, which says what it deletes).
                on: switched_on.contains(&p.id.as_str())
                    || ledger.is_granted(m.product.id.as_str(), p.id.as_str()),
                // Set-up shows no "what changed": a consent given under an earlier version is
                // renewed only on My data, where the changes are shown.
                renew: false,
            })
            .collect();
        consent::apply_choices(&state, &cap.subject, &cap.actor, cap.channel, &choices).await?;
        for p in privet_policy::objections_for(&m, cap.subject.kind) {
            if objected.contains(&p.id.as_str()) {
                objections::object_to(
                    &state,
                    &cap.subject,
                    m.product.id.as_str(),
                    p.id.as_str(),
                    &cap.actor,
                )
                .await?;
            }
        }
    }
    Ok(see_other("/my-data?done=device"))
}
