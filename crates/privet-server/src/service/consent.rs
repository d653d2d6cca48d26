//! Consent decisions: recording them (audited), and purging at once what a withdrawal leaves
//! unjustified. Every channel — the API, the pages, rights requests — goes through [`decide`];
//! which decision is in force is `privet_policy::ConsentLedger`'s rule.

use crate::service::audit::{self, Event};
use crate::service::error::{Invalid, ServiceResult};
use crate::service::permissions;
use crate::service::purge::{self, Cause, Purged};
use crate::state::AppState;
use privet_policy::ConsentLedger;
use privet_store::{ConsentRecord, NewConsent, Subject};

/// What a consent change applies to.
#[derive(Debug)]
pub struct ConsentChange<'a> {
    /// The purpose key.
    pub purpose: &'a str,
    /// Granted or withdrawn.
    pub granted: bool,
    /// One product, or every product of the household declaring the purpose.
    pub product: Option<&'a str>,
    /// Who (`key:…`, `account:…`).
    pub actor: &'a str,
    /// How (`api`, `web`, `request`, …).
    pub channel: &'a str,
}

/// What a consent decision changed.
#[derive(Debug)]
pub struct Decision {
    /// The recorded decision.
    pub record: ConsentRecord,
    /// What a withdrawal purged (zero for a grant).
    pub purged: Purged,
}

/// Records a decision and audits it; a withdrawal also purges, at once, what no remaining
/// purpose justifies (DESIGN principle 2), and audits the purge.
pub async fn decide(
    state: &AppState,
    subject: &Subject,
    change: ConsentChange<'_>,
) -> ServiceResult<Decision> {
    let version = declared_versions(state, change.product, change.purpose)?;
    // Exclusive for the household: batches in flight commit first, and none starts until the
    // decision and its purge are done.
    let lock = state.household_lock(subject.household_id());
    let _exclusive = lock.write().await;
    let record = state
        .store()
        .record_consent(NewConsent {
            subject: subject.id.clone(),
            product: change.product.map(str::to_owned),
            purpose: change.purpose.to_owned(),
            granted: change.granted,
            manifest_version: version,
            at: state.clock().now(),
            actor: change.actor.to_owned(),
            channel: change.channel.to_owned(),
        })
        .await?;
    permissions::changed(state, subject.household_id()).await;
    let action = if change.granted {
        "consent.grant"
    } else {
        "consent.withdraw"
    };
    // A failed audit write must not skip the purge the withdrawal owes: both run; a purge
    // error is answered before an audit one.
    let audited = audit::record(
        state,
        Event::new(
            change.actor,
            action,
            serde_json::json!({
                "product": change.product,
                "channel": change.channel,
                "versions": record.consent.manifest_version,
            }),
        )
        .purpose(change.purpose)
        .subjects(vec![subject.pseudonym]),
    )
    .await;
    let purged = if change.granted {
        Purged::default()
    } else {
        purge::unjustified(
            state,
            subject,
            change.purpose,
            Cause::Withdrawal,
            change.actor,
        )
        .await?
    };
    crate::service::webhooks::consent_changed(state, subject, &record.consent).await;
    audited?;
    Ok(Decision { record, purged })
}

/// One decision: switch an optional purpose of a product on or off.
#[derive(Debug)]
pub struct Choice<'a> {
    /// Product id.
    pub product: &'a str,
    /// Purpose key.
    pub purpose: &'a str,
    /// On or off.
    pub on: bool,
    /// Agree to the product's current version: a consent already on, given under an older
    /// version, is recorded again under the current one.
    pub renew: bool,
}

/// What saving choices did.
#[derive(Debug, Default)]
pub struct Applied {
    /// Consent records written.
    pub recorded: u64,
    /// Stored values deleted because nothing justifies them any more.
    pub purged_values: u64,
}

/// Records each choice that differs from the decision in force, or that was never made (so
/// every choice a person makes is on record), or that renews a consent given under an older
/// version; purges after each switch-off. A form of switches sends every switch, changed or
/// not: only the changes become decisions.
pub async fn apply_choices(
    state: &AppState,
    subject: &Subject,
    actor: &str,
    channel: &str,
    choices: &[Choice<'_>],
) -> ServiceResult<Applied> {
    let ledger = ConsentLedger::from_history(&state.store().consents(&subject.id).await?);
    let mut applied = Applied::default();
    for c in choices {
        let was_on = ledger.is_granted(c.product, c.purpose);
        let outdated = c.renew && c.on && {
            let current = state
                .products()
                .get(c.product)
                .map(|m| m.product.version().to_owned());
            ledger.grant(c.product, c.purpose).and_then(|g| g.version) != current.as_deref()
        };
        if was_on == c.on && ledger.is_decided(c.product, c.purpose) && !outdated {
            continue;
        }
        let decision = decide(
            state,
            subject,
            ConsentChange {
                purpose: c.purpose,
                granted: c.on,
                product: Some(c.product),
                actor,
                channel,
            },
        )
        .await?;
        applied.recorded += 1;
        applied.purged_values += decision.purged.values;
    }
    Ok(applied)
}

/// The `product@version` list a decision is recorded under, after checking the purpose is
/// declared (by the product named, or by some product) and rests on consent.
fn declared_versions(
    state: &AppState,
    product: Option<&str>,
    purpose: &str,
) -> ServiceResult<String> {
    let manifests: Vec<_> = match product {
        Some(p) => vec![
            state
                .products()
                .get(p)
                .ok_or_else(|| Invalid::UnknownProduct(p.to_owned()))?
                .clone(),
        ],
        None => state.products().declaring(purpose).cloned().collect(),
    };
    let declaring: Vec<_> = manifests
        .iter()
        .filter_map(|m| m.purpose(purpose).map(|p| (m, p)))
        .collect();
    if declaring.is_empty() {
        return Err(Invalid::PurposeNotDeclared {
            purpose: purpose.to_owned(),
            product: product.map(str::to_owned),
        }
        .into());
    }
    if declaring.iter().all(|(_, p)| !p.needs_consent()) {
        return Err(Invalid::NotConsentBased(purpose.to_owned()).into());
    }
    Ok(declaring
        .iter()
        .map(|(m, _)| format!("{}@{}", m.product.id.as_str(), m.product.version()))
        .collect::<Vec<_>>()
        .join(","))
}
