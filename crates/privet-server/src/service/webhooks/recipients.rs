//! Art. 19 notices: when a subject's data is erased, rectified or restricted, every manifest
//! recipient that received it is told, through the endpoints the operator mapped to it.
//!
//! Which recipients received it is `privet_policy::recipients_to_notify`'s rule, asked of each
//! product the subject's household has a device of, with the consents the household and its
//! members ever gave. For an erasure this is read before anything is erased (the devices and
//! consent history go with it) and the notices are queued after.

use super::{Outgoing, emit};
use crate::service::devices::household_products;
use crate::service::error::ServiceResult;
use crate::state::AppState;
use privet_policy::recipients_to_notify;
use privet_policy::webhooks::EventType;
use privet_store::{RecipientKey, Subject, SubjectId, SubjectKind};
use serde_json::json;

/// What is changed for the subject, as the notice calls it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// Erased (Art. 17).
    Erasure,
    /// Rectified (Art. 16).
    Rectification,
    /// Processing restricted (Art. 18).
    Restriction,
}

impl Change {
    fn event(self) -> EventType {
        match self {
            Change::Erasure => EventType::RecipientErasure,
            Change::Rectification => EventType::RecipientRectification,
            Change::Restriction => EventType::RecipientRestriction,
        }
    }
}

/// The recipients to tell about `subject`, read now. Never fails: on a store error it logs
/// and answers none (the change itself goes ahead; the log says a notice is owed).
pub async fn of_subject(state: &AppState, subject: &SubjectId) -> Vec<RecipientKey> {
    match read(state, subject).await {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "reading which recipients to notify failed; Art. 19 notices are not sent for this change");
            Vec::new()
        }
    }
}

async fn read(state: &AppState, id: &SubjectId) -> ServiceResult<Vec<RecipientKey>> {
    let subject = state.store().subject(id).await?;
    let household = subject.household_id().clone();
    let mut people = vec![household.clone()];
    people.extend(
        state
            .store()
            .members(&household)
            .await?
            .into_iter()
            .map(|m| m.id),
    );
    if subject.kind == SubjectKind::Member && !people.contains(&subject.id) {
        people.push(subject.id.clone());
    }
    let history = state.store().consent_histories(&people).await?;
    let products = household_products(state, &household, Vec::new()).await?;
    let mut told = Vec::new();
    for manifest in products {
        let product = manifest.product.id.as_str().to_owned();
        let ever = |purpose: &str| {
            history.iter().any(|c| {
                c.consent.granted
                    && c.consent.purpose == purpose
                    && c.consent.product.as_deref().is_none_or(|p| p == product)
            })
        };
        for recipient in recipients_to_notify(&manifest, ever) {
            told.push(RecipientKey {
                product: product.clone(),
                recipient,
            });
        }
    }
    Ok(told)
}

/// Queues the notice of `change` of `subject` to each of `recipients`.
pub async fn notify(
    state: &AppState,
    subject: &Subject,
    change: Change,
    recipients: Vec<RecipientKey>,
) {
    let at = state.clock().now();
    for r in recipients {
        let data = json!({
            "product": r.product,
            "recipient": r.recipient,
            "subject_pseudonym": subject.pseudonym.to_hex(),
            "subject": subject.id,
            "kind": subject.kind.as_str(),
            "at": at,
        });
        emit(
            state,
            Outgoing {
                event: change.event(),
                about: Some(r),
                data,
            },
        )
        .await;
    }
}

/// Reads the recipients of `subject` now and queues the notice of `change` to each: for a
/// rectification or restriction, which leave the subject's devices and consents in place.
pub async fn notify_now(state: &AppState, subject: &Subject, change: Change) {
    let recipients = of_subject(state, &subject.id).await;
    notify(state, subject, change, recipients).await;
}

/// Queues the notice that a visitor's records — what `device` recorded between `from` and
/// `until` — were deleted, to each recipient of `product` that may hold them
/// ([`privet_policy::visitor_recipients`]): the device and range let it find them.
pub async fn notify_visitor_erased(
    state: &AppState,
    product: &str,
    request: &str,
    scope: &privet_policy::VisitorScope,
) {
    let recipients = match state.products().get(product) {
        Some(m) => privet_policy::visitor_recipients(m),
        None => Vec::new(),
    };
    let at = state.clock().now();
    for recipient in recipients {
        let data = json!({
            "product": product,
            "recipient": recipient,
            "request": request,
            "visitor": {"device": scope.device, "from": scope.from, "until": scope.until},
            "at": at,
        });
        emit(
            state,
            Outgoing {
                event: Change::Erasure.event(),
                about: Some(RecipientKey {
                    product: product.to_owned(),
                    recipient,
                }),
                data,
            },
        )
        .await;
    }
}
