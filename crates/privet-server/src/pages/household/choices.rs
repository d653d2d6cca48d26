//! The My data page's switches for optional purposes, saved as consent records through
//! `service::consent::apply_choices` (set-up saves its own the same way).

use super::form::PageForm;
use super::member_of;
use crate::access::{Caller, authorize_subject};
use crate::pages::{PageError, PageSession};
use crate::service::consent::{self, Choice};
use privet_policy::SubjectAction;

use crate::state::AppState;
use axum::extract::State;
use axum::response::Response;
use privet_store::SubjectId;

/// The value a choice's checkbox submits.
pub(crate) fn checkbox_value(product: &str, purpose: &str) -> String {
    format!("{product}/{purpose}")
}

/// The value of a choice's "I agree to the new version" checkbox: it names the version the
/// page showed, so a version published since is not agreed to unseen.
pub(crate) fn agree_value(product: &str, purpose: &str, version: &str) -> String {
    format!("{product}/{purpose}@{version}")
}

/// Saves the choices of one subject from the My data page.
pub(crate) async fn save(
    State(state): State<AppState>,
    PageSession(signed): PageSession,
    form: PageForm,
) -> Result<Response, PageError> {
    form.check_csrf(&state, &signed)?;
    let (household, _) = member_of(&signed)?;
    let caller = Caller::Account(Box::new(signed.clone()));
    let id = SubjectId::new(form.get("subject").to_owned());
    let cap = authorize_subject(&state, &caller, &id, SubjectAction::Manage).await?;
    let ticked: Vec<&str> = form.all("on").collect();
    let agreed: Vec<&str> = form.all("agree").collect();
    let manifests = crate::service::devices::household_products(&state, &household, []).await?;
    let mut choices = Vec::new();
    for m in &manifests {
        let product = m.product.id.as_str();
        for p in privet_policy::choices_for(m, cap.subject.kind) {
            let value = checkbox_value(product, p.id.as_str());
            let on = ticked.contains(&value.as_str());
            let agree = agree_value(product, p.id.as_str(), m.product.version());
            choices.push(Choice {
                product,
                purpose: p.id.as_str(),
                on,
                // Only with the purpose left on, and only for the version the page showed.
                renew: on && agreed.contains(&agree.as_str()),
            });
        }
    }
    let applied =
        consent::apply_choices(&state, &cap.subject, &cap.actor, cap.channel, &choices).await?;
    Ok(super::see_other(&format!(
        "/my-data?done=permissions&n={}#permissions",
        applied.purged_values
    )))
}
