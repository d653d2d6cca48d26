//! `/household` (owner only): members, invitations, children's sign-in, and devices with a
//! reset before selling or giving one away.

use super::form::PageForm;
use super::updates::{self, UpdateRow};
use super::{Done, FieldErrors, message_of, see_other};
use crate::pages::{PageContext, PageError, PageSession, render, render_status, urlencode};
use crate::service::error::{Missing, ServiceError};
use crate::service::{accounts, devices, subjects};
use crate::session::SignedIn;
use crate::state::AppState;
use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use privet_store::{Device, DeviceId, SubjectId};

struct MemberRow {
    id: String,
    name: String,
    child: bool,
    you: bool,
    /// `Some(allowed)` for a child with an account.
    sign_in: Option<bool>,
    account: &'static str,
}

#[derive(Template)]
#[template(path = "pages/household/household.html")]
struct HouseholdPage {
    page: PageContext,
    name: String,
    members: Vec<MemberRow>,
    devices: Vec<UpdateRow>,
    invite_name: String,
    errors: FieldErrors,
}

#[derive(Template)]
#[template(path = "pages/household/invitation.html")]
struct InvitationPage {
    page: PageContext,
    name: String,
    link: String,
}

#[derive(Template)]
#[template(path = "pages/household/reset.html")]
struct ResetPage {
    page: PageContext,
    id: String,
    product: String,
    errors: FieldErrors,
}

#[derive(Template)]
#[template(path = "pages/household/reset_done.html")]
struct ResetDonePage {
    page: PageContext,
    product: String,
    blocks: u64,
    claim_code: String,
    token: String,
    /// The signed receipt naming the device (a compact JWS).
    receipt: String,
}

async fn build(
    state: &AppState,
    signed: &SignedIn,
    invite_name: String,
    errors: FieldErrors,
) -> Result<HouseholdPage, PageError> {
    let household = accounts::owned_household(signed)?;
    let h = state.store().subject(&household).await?;
    let name = subjects::profile(state, &h).await?.name;
    let mut members = Vec::new();
    for m in state.store().members(&household).await? {
        let account = match state.store().account_of_member(&m.id).await {
            Ok(a) => Some(a),
            Err(e) if e.is_not_found() => None,
            Err(e) => return Err(e.into()),
        };
        members.push(MemberRow {
            id: m.id.to_string(),
            name: subjects::profile(state, &m).await?.name,
            child: m.child,
            you: signed.account.member.as_ref() == Some(&m.id),
            sign_in: account.as_ref().filter(|_| m.child).map(|a| a.can_sign_in),
            account: match &account {
                Some(a) if a.can_sign_in => "Has an account",
                Some(_) => "Has an account, but may not sign in",
                None if m.child => "No account: you manage their data",
                None => "Invited: no account yet",
            },
        });
    }
    let devices = updates::rows(state, signed, &household).await?;
    let mut page = PageContext::new(state, Some(signed)).await?;
    page.error = errors.summary();
    Ok(HouseholdPage {
        page,
        name,
        members,
        devices,
        invite_name,
        errors,
    })
}

/// The household page.
pub(crate) async fn page(
    State(state): State<AppState>,
    PageSession(signed): PageSession,
    q: Result<Query<Done>, QueryRejection>,
) -> Result<Response, PageError> {
    let mut view = build(&state, &signed, String::new(), FieldErrors::default()).await?;
    view.page.flash = Done::from(q).flash();
    render(&view)
}

/// The absolute address of `path` on this server, as the browser reached it.
fn absolute(state: &AppState, headers: &HeaderMap, path: &str) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | ':' | '-' | '[' | ']'))
        });
    match host {
        Some(h) => {
            let scheme = if state.config().cookie_secure() {
                "https"
            } else {
                "http"
            };
            format!("{scheme}://{h}{path}")
        }
        None => path.to_owned(),
    }
}

/// Adds a member; shows the invitation link once.
pub(crate) async fn invite(
    State(state): State<AppState>,
    PageSession(signed): PageSession,
    headers: HeaderMap,
    form: PageForm,
) -> Result<Response, PageError> {
    form.check_csrf(&state, &signed)?;
    let name = form.get("invite_name").trim().to_owned();
    let child = form.checked("child");
    let can_sign_in = !child || form.checked("can_sign_in");
    match accounts::invite(&state, &signed, &name, child, can_sign_in).await {
        Ok((_, Some(code))) => render(&InvitationPage {
            page: PageContext::new(&state, Some(&signed)).await?,
            link: absolute(
                &state,
                &headers,
                &format!("/invite/{}", urlencode(code.expose())),
            ),
            name,
        }),
        Ok((_, None)) => Ok(see_other("/household?done=child-added")),
        Err(e @ ServiceError::Invalid(_)) => {
            let errors =
                FieldErrors::one("invite_name", message_of(&e).replace("Name", "The name"));
            let view = build(&state, &signed, name, errors).await?;
            render_status(StatusCode::UNPROCESSABLE_ENTITY, &view)
        }
        Err(e) => Err(e.into()),
    }
}

/// Lets a child sign in, or stops them.
pub(crate) async fn child_sign_in(
    State(state): State<AppState>,
    PageSession(signed): PageSession,
    Path(id): Path<String>,
    form: PageForm,
) -> Result<Response, PageError> {
    form.check_csrf(&state, &signed)?;
    let allowed = form.get("allowed") == "yes";
    accounts::set_child_sign_in(&state, &signed, &SubjectId::new(id), allowed).await?;
    Ok(see_other(if allowed {
        "/household?done=sign-in-allowed"
    } else {
        "/household?done=sign-in-stopped"
    }))
}

/// A device of the owner's household; any other answers 404.
async fn own_device(state: &AppState, signed: &SignedIn, id: &str) -> Result<Device, PageError> {
    let household = accounts::owned_household(signed)?;
    let not_found = || PageError::from(ServiceError::NotFound(Missing::Device));
    let device = match state.store().device(&DeviceId::new(id.to_owned())).await {
        Ok(d) => d,
        Err(e) if e.is_not_found() => return Err(not_found()),
        Err(e) => return Err(e.into()),
    };
    if device.household.as_ref() != Some(&household) {
        return Err(not_found());
    }
    Ok(device)
}

fn product_name(state: &AppState, device: &Device) -> String {
    state
        .products()
        .get(&device.product)
        .map_or_else(|| device.product.clone(), |m| m.product.name.value.clone())
}

/// The confirmation step of a reset.
pub(crate) async fn reset_page(
    State(state): State<AppState>,
    PageSession(signed): PageSession,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let device = own_device(&state, &signed, &id).await?;
    render(&ResetPage {
        page: PageContext::new(&state, Some(&signed)).await?,
        id: device.id.to_string(),
        product: product_name(&state, &device),
        errors: FieldErrors::default(),
    })
}

/// Resets the device: it leaves the household, its credentials change, its data is erased;
/// shows the next owner's claim code once.
pub(crate) async fn reset(
    State(state): State<AppState>,
    PageSession(signed): PageSession,
    Path(id): Path<String>,
    form: PageForm,
) -> Result<Response, PageError> {
    form.check_csrf(&state, &signed)?;
    let device = own_device(&state, &signed, &id).await?;
    let product = product_name(&state, &device);
    if !form.checked("confirm") {
        let errors = FieldErrors::one(
            "confirm",
            "Tick the box to confirm that you understand this cannot be undone.",
        );
        let mut page = PageContext::new(&state, Some(&signed)).await?;
        page.error = errors.summary();
        return render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &ResetPage {
                page,
                id: device.id.to_string(),
                product,
                errors,
            },
        );
    }
    let reset = devices::reset(&state, &device.id, &signed.actor()).await?;
    render(&ResetDonePage {
        page: PageContext::new(&state, Some(&signed)).await?,
        product,
        blocks: reset.records,
        claim_code: reset.claim_code.expose().to_owned(),
        token: reset.token.expose().to_owned(),
        receipt: reset.receipt,
    })
}
