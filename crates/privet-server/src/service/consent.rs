//! Consent decisions: recording them, and reading the decision in force for a product.

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use jiff::Timestamp;
use privet_store::{ConsentRecord, NewConsent, Objection, Subject};

/// Whether `purpose` is granted for `product` in `records` (a subject's current decisions):
/// a product-specific decision overrides an all-products one; otherwise the latest wins.
pub fn is_granted(records: &[ConsentRecord], product: &str, purpose: &str) -> bool {
    let mut general: Option<(i64, bool)> = None;
    let mut specific: Option<(i64, bool)> = None;
    for r in records.iter().filter(|r| r.consent.purpose == purpose) {
        let slot = match r.consent.product.as_deref() {
            None => &mut general,
            Some(p) if p == product => &mut specific,
            Some(_) => continue,
        };
        if slot.is_none_or(|(seq, _)| r.seq > seq) {
            *slot = Some((r.seq, r.consent.granted));
        }
    }
    specific.or(general).is_some_and(|(_, g)| g)
}

/// Whether `purpose` of `product` is objected to in `objections` (one subject's).
pub fn is_objected(objections: &[Objection], product: &str, purpose: &str) -> bool {
    objections
        .iter()
        .any(|o| o.purpose == purpose && o.product.as_deref().is_none_or(|p| p == product))
}

/// What a consent change applies to.
pub struct ConsentChange<'a> {
    /// The purpose key.
    pub purpose: &'a str,
    /// Granted or withdrawn.
    pub granted: bool,
    /// One product, or every product of the household declaring the purpose.
    pub product: Option<&'a str>,
    /// Who (`key:…`, `account:…`).
    pub actor: &'a str,
    /// How (`api`, `web`, `request`).
    pub channel: &'a str,
}

/// What a consent decision changed.
#[derive(Debug)]
pub struct Decision {
    /// The recorded decision.
    pub record: ConsentRecord,
    /// What a withdrawal purged (zero for a grant).
    pub purged: crate::service::purge::Purged,
}

/// Records a decision and audits it; a withdrawal also purges, at once, what no remaining
/// purpose justifies (DESIGN principle 2), and audits the purge. Every channel — the API, the
/// pages, rights requests — goes through here.
pub async fn decide(
    state: &AppState,
    subject: &Subject,
    change: ConsentChange<'_>,
) -> ApiResult<Decision> {
    let record = set(state, subject, ConsentChange { ..change }).await?;
    let action = if change.granted {
        "consent.grant"
    } else {
        "consent.withdraw"
    };
    crate::service::audit::record(
        state,
        change.actor,
        action,
        Some(change.purpose),
        vec![subject.pseudonym],
        0,
        serde_json::json!({"product": change.product, "channel": change.channel}),
    )
    .await?;
    let mut purged = crate::service::purge::Purged::default();
    if !change.granted {
        purged = crate::service::purge::unjustified(state, subject, change.purpose).await?;
        crate::service::audit::record(
            state,
            change.actor,
            "consent.purge",
            Some(change.purpose),
            vec![subject.pseudonym],
            purged.records,
            serde_json::json!({"values": purged.values, "records": purged.records}),
        )
        .await?;
    }
    Ok(Decision { record, purged })
}

/// Records a consent decision after checking the purpose exists and relies on consent.
/// Callers outside this module use [`decide`], which also audits and purges.
async fn set(
    state: &AppState,
    subject: &Subject,
    change: ConsentChange<'_>,
) -> ApiResult<ConsentRecord> {
    let manifests: Vec<_> = match change.product {
        Some(p) => {
            let m = state
                .products()
                .get(p)
                .ok_or_else(|| ApiError::Unprocessable(format!("unknown product `{p}`")))?;
            vec![m.clone()]
        }
        None => state
            .products()
            .declaring(change.purpose)
            .cloned()
            .collect(),
    };
    let declaring: Vec<_> = manifests
        .iter()
        .filter_map(|m| m.purpose(change.purpose).map(|p| (m, p)))
        .collect();
    if declaring.is_empty() {
        return Err(ApiError::Unprocessable(format!(
            "no product{} declares the purpose `{}`",
            change
                .product
                .map(|p| format!(" `{p}`"))
                .unwrap_or_default(),
            change.purpose
        )));
    }
    if declaring.iter().all(|(_, p)| !p.needs_consent()) {
        return Err(ApiError::Unprocessable(format!(
            "the purpose `{}` does not rely on consent, so there is nothing to grant or withdraw; to stop it, object or restrict processing",
            change.purpose
        )));
    }
    let version = declaring
        .iter()
        .map(|(m, _)| format!("{}@{}", m.product.id.as_str(), m.product.version()))
        .collect::<Vec<_>>()
        .join(",");
    Ok(state
        .store()
        .record_consent(NewConsent {
            subject: subject.id.clone(),
            product: change.product.map(str::to_owned),
            purpose: change.purpose.to_owned(),
            granted: change.granted,
            manifest_version: version,
            at: Timestamp::now(),
            actor: change.actor.to_owned(),
            channel: change.channel.to_owned(),
        })
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use privet_store::SubjectId;

    fn rec(seq: i64, product: Option<&str>, granted: bool) -> ConsentRecord {
        ConsentRecord {
            seq,
            consent: NewConsent {
                subject: SubjectId::new("m"),
                product: product.map(str::to_owned),
                purpose: "p".into(),
                granted,
                manifest_version: "x@1".into(),
                at: Timestamp::UNIX_EPOCH,
                actor: "a".into(),
                channel: "api".into(),
            },
        }
    }

    #[test]
    fn product_decisions_override_general_ones_and_latest_wins() {
        assert!(!is_granted(&[], "a", "p"), "off until granted");
        assert!(is_granted(&[rec(1, None, true)], "a", "p"));
        assert!(!is_granted(
            &[rec(1, None, true), rec(2, Some("a"), false)],
            "a",
            "p"
        ));
        assert!(!is_granted(
            &[rec(2, Some("a"), false), rec(3, None, true)],
            "a",
            "p"
        ));
        assert!(is_granted(
            &[rec(2, Some("a"), false), rec(3, None, true)],
            "b",
            "p"
        ));
        assert!(!is_granted(
            &[rec(1, None, true), rec(4, None, false)],
            "a",
            "p"
        ));
    }
}
