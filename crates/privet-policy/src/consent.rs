//! Consent decisions and objections, and the one rule for which decision is in force.
//!
//! Every decision is appended to a subject's history. The decision in force for a product and
//! purpose is the latest one recorded for that product; failing that, the latest one recorded
//! for every product; failing that, none: consent-based purposes are off until granted.

use crate::ids::SubjectId;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// A consent decision to record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewConsent {
    /// Whose consent.
    pub subject: SubjectId,
    /// The product it applies to; `None` for every product declaring the purpose.
    pub product: Option<String>,
    /// The purpose key.
    pub purpose: String,
    /// Granted or withdrawn.
    pub granted: bool,
    /// The manifest versions the person saw (`product@version`, comma separated).
    pub manifest_version: String,
    /// When.
    pub at: Timestamp,
    /// Who recorded it (an id: `account:…`, `key:…`).
    pub actor: String,
    /// How (`api`, `web`, `device`, `request`, …).
    pub channel: String,
}

/// A recorded consent decision.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ConsentRecord {
    /// Sequence number: history order.
    pub seq: i64,
    /// The decision.
    #[serde(flatten)]
    pub consent: NewConsent,
}

/// An objection to a purpose (UK GDPR Art. 21), recorded for a subject.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Objection {
    /// Whose.
    pub subject: SubjectId,
    /// One product, or every product (`None`).
    pub product: Option<String>,
    /// The purpose objected to.
    pub purpose: String,
    /// When.
    pub at: Timestamp,
    /// Who recorded it.
    pub actor: String,
}

/// One subject's consent decisions in force, resolved from its history.
///
/// A few dozen decisions at most, asked for every field of every event at ingest: a small
/// list searched without allocating beats a hash map here.
#[derive(Clone, Debug, Default)]
pub struct ConsentLedger {
    /// The latest decision per (product or every product, purpose).
    latest: Vec<Slot>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Slot {
    product: Option<String>,
    purpose: String,
    seq: i64,
    granted: bool,
    /// The versions the decision was recorded under (`product@version`, comma separated).
    manifest_version: String,
    /// When it was recorded.
    at: Timestamp,
}

/// A consent in force, and the version of the product it was given under.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Grant<'a> {
    /// The product's version named by the record; `None` when it names none for the product
    /// (a consent for every product, recorded before the product was published).
    pub version: Option<&'a str>,
    /// When the grant naming that version was recorded (which of several texts published
    /// under one version string it saw).
    pub at: Timestamp,
}

impl ConsentLedger {
    /// Resolves a subject's history (any order): the latest decision per product and purpose.
    pub fn from_history<'a>(history: impl IntoIterator<Item = &'a ConsentRecord>) -> Self {
        let mut ledger = ConsentLedger::default();
        for r in history {
            ledger.add(r);
        }
        ledger
    }

    /// Takes one more decision into account.
    pub fn add(&mut self, r: &ConsentRecord) {
        let c = &r.consent;
        match self
            .latest
            .iter_mut()
            .find(|s| s.purpose == c.purpose && s.product == c.product)
        {
            Some(slot) if r.seq >= slot.seq => {
                slot.seq = r.seq;
                slot.granted = c.granted;
                slot.manifest_version.clone_from(&c.manifest_version);
                slot.at = c.at;
            }
            Some(_) => {}
            None => self.latest.push(Slot {
                product: c.product.clone(),
                purpose: c.purpose.clone(),
                seq: r.seq,
                granted: c.granted,
                manifest_version: c.manifest_version.clone(),
                at: c.at,
            }),
        }
    }

    fn decision(&self, product: &str, purpose: &str) -> Option<&Slot> {
        let mut general = None;
        for s in self.latest.iter().filter(|s| s.purpose == purpose) {
            match s.product.as_deref() {
                Some(p) if p == product => return Some(s),
                Some(_) => {}
                None => general = Some(s),
            }
        }
        general
    }

    /// The consent to `purpose` of `product` in force, if granted, with the version of the
    /// product it was given under.
    ///
    /// Which decision is in force is [`ConsentLedger::is_granted`]'s rule. The version is the
    /// latest granted: a grant for every product recorded after the product's own grant renews
    /// it (agreeing again through the general call covers the version it names), while a
    /// product's own withdrawal still stands against a later general grant.
    pub fn grant(&self, product: &str, purpose: &str) -> Option<Grant<'_>> {
        let in_force = self.decision(product, purpose).filter(|s| s.granted)?;
        let latest = self
            .latest
            .iter()
            .filter(|s| s.purpose == purpose && s.granted && s.seq > in_force.seq)
            .filter(|s| s.product.is_none() && in_force.product.is_some())
            .find(|s| crate::versions::version_in(&s.manifest_version, product).is_some())
            .unwrap_or(in_force);
        Some(Grant {
            version: crate::versions::version_in(&latest.manifest_version, product),
            at: latest.at,
        })
    }

    /// Whether `purpose` of `product` is granted now: a product's own decision overrides one
    /// for every product; no decision means off.
    pub fn is_granted(&self, product: &str, purpose: &str) -> bool {
        self.decision(product, purpose).is_some_and(|s| s.granted)
    }

    /// Whether any decision about `purpose` of `product` was ever recorded (so a page can tell
    /// "off because you said so" from "off because you were never asked").
    pub fn is_decided(&self, product: &str, purpose: &str) -> bool {
        self.decision(product, purpose).is_some()
    }
}

/// Whether `purpose` of `product` is granted in `history` (one subject's decisions).
pub fn is_granted(history: &[ConsentRecord], product: &str, purpose: &str) -> bool {
    ConsentLedger::from_history(history).is_granted(product, purpose)
}

/// Whether `purpose` of `product` is objected to in `objections` (one subject's).
pub fn is_objected(objections: &[Objection], product: &str, purpose: &str) -> bool {
    objections
        .iter()
        .any(|o| o.purpose == purpose && o.product.as_deref().is_none_or(|p| p == product))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

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
        assert!(
            !is_granted(&[rec(2, Some("a"), false), rec(3, None, true)], "a", "p"),
            "a later general grant does not override the product's own withdrawal"
        );
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
        assert!(
            is_granted(
                &[rec(4, Some("a"), true), rec(1, Some("a"), false)],
                "a",
                "p"
            ),
            "history order is by seq, not by position"
        );
    }

    #[test]
    fn a_later_grant_for_every_product_renews_the_version_of_a_product_s_own_grant() {
        let versioned = |seq, product: Option<&str>, granted, v: &str| {
            let mut r = rec(seq, product, granted);
            r.consent.manifest_version = v.to_owned();
            r
        };
        let own = versioned(1, Some("a"), true, "a@1");
        let general = versioned(2, None, true, "a@2,b@7");
        let l = ConsentLedger::from_history([&own, &general]);
        assert_eq!(l.grant("a", "p").and_then(|g| g.version), Some("2"));
        assert_eq!(l.grant("b", "p").and_then(|g| g.version), Some("7"));
        // An older general grant does not stand in for the product's newer own one.
        let l = ConsentLedger::from_history([
            &versioned(1, None, true, "a@1"),
            &versioned(2, Some("a"), true, "a@2"),
        ]);
        assert_eq!(l.grant("a", "p").and_then(|g| g.version), Some("2"));
        // The product's own withdrawal stands against a later general grant.
        let l = ConsentLedger::from_history([&versioned(1, Some("a"), false, "a@1"), &general]);
        assert_eq!(l.grant("a", "p"), None);
    }

    #[test]
    fn decided_means_any_decision_for_the_product_or_all_products() {
        let l = ConsentLedger::from_history(&[rec(1, Some("a"), false)]);
        assert!(l.is_decided("a", "p") && !l.is_decided("b", "p"));
        assert!(!l.is_decided("a", "q"));
        assert!(ConsentLedger::from_history(&[rec(1, None, false)]).is_decided("b", "p"));
    }

    #[test]
    fn objections_to_every_product_or_this_one_count() {
        let o = |product: Option<&str>| Objection {
            subject: SubjectId::new("m"),
            product: product.map(str::to_owned),
            purpose: "p".into(),
            at: Timestamp::UNIX_EPOCH,
            actor: "a".into(),
        };
        assert!(is_objected(&[o(None)], "a", "p"));
        assert!(is_objected(&[o(Some("a"))], "a", "p"));
        assert!(!is_objected(&[o(Some("b"))], "a", "p"));
        assert!(!is_objected(&[o(None)], "a", "q"));
    }

    proptest! {
        #[test]
        fn the_latest_decision_for_the_product_is_the_answer(
            decisions in proptest::collection::vec((any::<bool>(), any::<bool>()), 1..20)
        ) {
            let history: Vec<ConsentRecord> = decisions
                .iter()
                .enumerate()
                .map(|(i, (specific, granted))| rec(i as i64, specific.then_some("a"), *granted))
                .collect();
            let latest_specific = history.iter().rev().find(|r| r.consent.product.is_some());
            let latest_general = history.iter().rev().find(|r| r.consent.product.is_none());
            let expected = latest_specific.or(latest_general).is_some_and(|r| r.consent.granted);
            prop_assert_eq!(is_granted(&history, "a", "p"), expected);
        }
    }
}
