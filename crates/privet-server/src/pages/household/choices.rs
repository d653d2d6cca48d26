//! Choices about optional purposes, saved as consent records: at device set-up and on the
//! My data page. A switch-off purges at once what no remaining purpose justifies, exactly as
//! `PUT /v1/subjects/{id}/consents/{purpose}` does.

use super::form::PageForm;
use super::member_of;
use crate::access::{Caller, SubjectCap, authorize_subject};
use crate::pages::{PageError, PageSession};
use crate::service::consent::{self, ConsentChange};
use crate::service::error::ServiceResult;
use privet_policy::{ConsentLedger, SubjectAction};

use crate::state::AppState;
use axum::extract::State;
use axum::response::Response;
use privet_manifest::{Manifest, Purpose, SubjectKind as StreamSubject};
use privet_store::{SubjectId, SubjectKind};

/// One decision: switch an optional purpose of a product on or off.
#[derive(Debug)]
pub(crate) struct Choice<'a> {
    /// Product id.
    pub(crate) product: &'a str,
    /// Purpose key.
    pub(crate) purpose: &'a str,
    /// On or off.
    pub(crate) on: bool,
}

/// What saving choices did.
#[derive(Debug, Default)]
pub(crate) struct Applied {
    /// Consent records written.
    pub(crate) recorded: u64,
    /// Stored values deleted because nothing justifies them any more.
    pub(crate) purged_values: u64,
}

/// The optional purposes of `m` that matter for a subject of `kind`: those serving a field of
/// a stream about that kind of subject (for members, also purposes serving no field at all,
/// such as marketing messages to a person).
pub(crate) fn purposes_for(m: &Manifest, kind: SubjectKind) -> Vec<&Purpose> {
    let wanted = match kind {
        SubjectKind::Household => StreamSubject::Household,
        SubjectKind::Member => StreamSubject::Member,
    };
    m.optional_purposes()
        .filter(|p| {
            let mut fields = m
                .fields()
                .filter(|(_, f)| f.purposes.iter().any(|x| x.as_str() == p.id.as_str()));
            let mut any = false;
            let used_here = fields.any(|(s, _)| {
                any = true;
                s.subject.value == wanted
            });
            used_here || (!any && kind == SubjectKind::Member)
        })
        .collect()
}

/// Records each choice that differs from the decision in force, or that was never made (so
/// every choice a person makes is on record); purges after each switch-off.
pub(crate) async fn apply(
    state: &AppState,
    cap: &SubjectCap,
    choices: &[Choice<'_>],
) -> ServiceResult<Applied> {
    let subject = &cap.subject;
    let ledger = ConsentLedger::from_history(&state.store().consents(&subject.id).await?);
    let mut applied = Applied::default();
    for c in choices {
        let was_on = ledger.is_granted(c.product, c.purpose);
        if was_on == c.on && ledger.is_decided(c.product, c.purpose) {
            continue;
        }
        let decision = consent::decide(
            state,
            subject,
            ConsentChange {
                purpose: c.purpose,
                granted: c.on,
                product: Some(c.product),
                actor: &cap.actor,
                channel: cap.channel,
            },
        )
        .await?;
        applied.recorded += 1;
        applied.purged_values += decision.purged.values;
    }
    Ok(applied)
}

/// The value a choice's checkbox submits.
pub(crate) fn checkbox_value(product: &str, purpose: &str) -> String {
    format!("{product}/{purpose}")
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
    let mut products: Vec<String> = state
        .store()
        .devices_of(&household)
        .await?
        .into_iter()
        .map(|d| d.product)
        .collect();
    products.sort();
    products.dedup();
    let manifests: Vec<_> = products
        .iter()
        .filter_map(|p| state.products().get(p).cloned())
        .collect();
    let mut choices = Vec::new();
    for m in &manifests {
        let product = m.product.id.as_str();
        for p in purposes_for(m, cap.subject.kind) {
            let value = checkbox_value(product, p.id.as_str());
            choices.push(Choice {
                product,
                purpose: p.id.as_str(),
                on: ticked.contains(&value.as_str()),
            });
        }
    }
    let applied = apply(&state, &cap, &choices).await?;
    Ok(super::see_other(&format!(
        "/my-data?done=permissions&n={}#permissions",
        applied.purged_values
    )))
}
