//! The My data page's forms of choices, one per subject the reader manages: each optional
//! purpose as a switch (with what changed since it was agreed to), and each purpose on
//! legitimate interests with its "Object to this".

use super::choices::{agree_value, checkbox_value};
use super::objection::{self, ObjectionView};
use crate::pages::PageError;
use crate::state::AppState;
use privet_manifest::Manifest;
use privet_policy::{ChangeAction, ConsentLedger};
use privet_store::Subject;
use std::sync::Arc;

/// One optional purpose's switch.
pub(crate) struct PurposeChoice {
    pub(crate) value: String,
    pub(crate) html_id: String,
    pub(crate) description: String,
    pub(crate) note: String,
    pub(crate) on: bool,
    /// The value of its "I agree to the new version" switch: names the version shown.
    pub(crate) agree: String,
    /// What changed since the version the consent was given under, in plain words: the
    /// "agree to the new version" switch is shown, off, until turned on.
    pub(crate) changed: Vec<String>,
}

/// The choices about one product.
pub(crate) struct ProductChoices {
    pub(crate) name: String,
    pub(crate) purposes: Vec<PurposeChoice>,
    /// Uses on legitimate interests: on unless the person objects.
    pub(crate) objections: Vec<ObjectionView>,
    /// How to allow a use again after objecting.
    pub(crate) undo: String,
    /// What changed for purposes people cannot switch off (or may object to), in plain words.
    pub(crate) notices: Vec<String>,
}

/// One subject's form.
pub(crate) struct PermissionForm {
    pub(crate) subject: String,
    pub(crate) heading: String,
    pub(crate) button: String,
    pub(crate) intro: String,
    pub(crate) products: Vec<ProductChoices>,
    /// Whether any use can be switched on or off (else the form has nothing to save).
    pub(crate) has_switches: bool,
}

/// The form of choices about `subject`'s data for `manifests`, if it has any to make.
pub(crate) async fn permission_form(
    state: &AppState,
    subject: &Subject,
    (heading, button, intro): (String, String, String),
    manifests: &[Arc<Manifest>],
) -> Result<Option<PermissionForm>, PageError> {
    let ledger = ConsentLedger::from_history(&state.store().consents(&subject.id).await?);
    let pending = crate::service::lineages::pending(state, subject, manifests).await?;
    let objected = state
        .store()
        .objections(std::slice::from_ref(&subject.id))
        .await?;
    let mut products = Vec::new();
    for m in manifests {
        let product = m.product.id.as_str();
        let here = || pending.iter().filter(|c| c.product == product);
        let changed_for = |purpose: &str| -> Vec<String> {
            here()
                .filter(|c| c.purpose == purpose && c.action == ChangeAction::Reconsent)
                .flat_map(|c| c.changes.iter())
                .map(|c| format!("Version {}: {}", c.version, c.change.summary))
                .collect()
        };
        let notices: Vec<String> = here()
            .filter(|c| c.action != ChangeAction::Reconsent)
            .flat_map(|c| {
                let how = if c.action == ChangeAction::Object {
                    " You can object to this use."
                } else {
                    ""
                };
                c.changes.iter().map(move |v| {
                    format!(
                        "Version {}: {} ({}.){how}",
                        v.version,
                        v.change.summary,
                        c.description.trim_end_matches('.')
                    )
                })
            })
            .collect();
        let purposes: Vec<PurposeChoice> = privet_policy::choices_for(m, subject.kind)
            .into_iter()
            .map(|p| {
                let recipients: Vec<String> = p
                    .recipients
                    .iter()
                    .filter_map(|r| m.recipient(r.as_str()))
                    .map(|r| r.name.value.clone())
                    .collect();
                PurposeChoice {
                    value: checkbox_value(product, p.id.as_str()),
                    agree: agree_value(product, p.id.as_str(), m.product.version()),
                    html_id: format!("on-{}-{product}-{}", subject.id, p.id.as_str()),
                    description: p.description.value.clone(),
                    note: if recipients.is_empty() {
                        "Optional: only with your consent.".to_owned()
                    } else {
                        format!(
                            "Optional: only with your consent. Shared with {}.",
                            recipients.join(", ")
                        )
                    },
                    on: ledger.is_granted(product, p.id.as_str()),
                    changed: changed_for(p.id.as_str()),
                }
            })
            .collect();
        let objections = objection::views(m, subject, &objected);
        if !purposes.is_empty() || !notices.is_empty() || !objections.is_empty() {
            products.push(ProductChoices {
                name: m.product.name.value.clone(),
                purposes,
                objections,
                undo: objection::undo_sentence(m),
                notices,
            });
        }
    }
    let has_switches = products.iter().any(|p| !p.purposes.is_empty());
    Ok((!products.is_empty()).then(|| PermissionForm {
        subject: subject.id.to_string(),
        heading,
        button,
        intro,
        products,
        has_switches,
    }))
}
