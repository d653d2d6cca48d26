//! Objections (UK GDPR Art. 21): the purposes objected to stop applying to the subject at
//! once, and data only they justified is purged; both are audited, whoever records them.

use crate::service::audit::{self, Event};
use crate::service::devices;
use crate::service::error::{Invalid, ServiceError, ServiceResult};
use crate::service::permissions;
use crate::service::purge::{self, Cause};
use crate::state::AppState;
use privet_store::{Objection, Subject};

/// Records objections to every legitimate-interests (or public-task) purpose of the products
/// of the subject's household — or to the purposes named — and purges what they justified.
/// Returns the `product/purpose` pairs objected to.
pub async fn object(
    state: &AppState,
    subject: &Subject,
    purposes: &[String],
    actor: &str,
) -> ServiceResult<Vec<String>> {
    let wanted =
        |_: &str, purpose: &str| purposes.is_empty() || purposes.iter().any(|x| x == purpose);
    let objected = record(state, subject, &wanted, !purposes.is_empty(), actor).await?;
    Ok(objected.purposes)
}

/// What an objection recorded and purged.
#[derive(Debug, Default)]
pub struct Objected {
    /// The `product/purpose` pairs objected to.
    pub purposes: Vec<String>,
    /// Stored values deleted because nothing else justified them.
    pub purged_values: u64,
}

/// Records an objection to one purpose of one product of the subject's household (a page's
/// "Object to this"), and purges what it alone justified.
pub async fn object_to(
    state: &AppState,
    subject: &Subject,
    product: &str,
    purpose: &str,
    actor: &str,
) -> ServiceResult<Objected> {
    let wanted = |m: &str, p: &str| m == product && p == purpose;
    record(state, subject, &wanted, true, actor).await
}

/// Records the objections `wanted` picks among the objectable purposes of the household's
/// products; `named`: the caller named what to object to, so finding nothing is an error.
async fn record(
    state: &AppState,
    subject: &Subject,
    wanted: &(dyn Fn(&str, &str) -> bool + Sync),
    named: bool,
    actor: &str,
) -> ServiceResult<Objected> {
    let products = devices::household_products(state, subject.household_id(), []).await?;
    // Exclusive for the household, as for a withdrawal (`service::locks`).
    let lock = state.household_lock(subject.household_id());
    let _exclusive = lock.write().await;
    // A store failure half-way still audits and purges what was recorded before it; the
    // first error is answered after.
    let mut objected = Vec::new();
    let mut failed = None;
    'products: for m in &products {
        let product = m.product.id.to_string();
        for p in m.purposes.iter().filter(|p| p.is_objectable()) {
            if !wanted(&product, p.id.as_str()) {
                continue;
            }
            let recorded = state
                .store()
                .record_objection(Objection {
                    subject: subject.id.clone(),
                    product: Some(product.clone()),
                    purpose: p.id.to_string(),
                    at: state.clock().now(),
                    actor: actor.to_owned(),
                })
                .await;
            permissions::changed(state, subject.household_id()).await;
            if let Err(e) = recorded {
                failed = Some(ServiceError::from(e));
                break 'products;
            }
            objected.push((product.clone(), p.id.to_string()));
        }
    }
    if objected.is_empty() {
        if let Some(e) = failed {
            return Err(e);
        }
        if named {
            return Err(Invalid::NotObjectable.into());
        }
    }
    let names: Vec<String> = objected.iter().map(|(m, p)| format!("{m}/{p}")).collect();
    let audited = audit::record(
        state,
        Event::new(
            actor,
            "subject.object",
            serde_json::json!({"purposes": names}),
        )
        .subjects(vec![subject.pseudonym]),
    )
    .await;
    // One purge per purpose: it covers every product that declares it.
    let mut purposes: Vec<&str> = objected.iter().map(|(_, p)| p.as_str()).collect();
    purposes.sort_unstable();
    purposes.dedup();
    let mut purge_failed = None;
    let mut purged_values = 0;
    for purpose in purposes {
        match purge::unjustified(state, subject, purpose, Cause::Objection, actor).await {
            Ok(p) => purged_values += p.values,
            Err(e) => {
                purge_failed.get_or_insert(e);
            }
        }
    }
    if let Some(e) = failed {
        return Err(e);
    }
    audited?;
    if let Some(e) = purge_failed {
        return Err(e);
    }
    Ok(Objected {
        purposes: names,
        purged_values,
    })
}
