//! The one rule for consent across manifest versions: a consent covers what the version it
//! was given under collected, and nothing a later version changed materially.
//!
//! A product's published versions, oldest first, form its [`Lineage`]. Each material change
//! between consecutive versions (see [`privet_manifest::diff`]) raises the *floor* of what it
//! touches — a purpose, a purpose's fields in a stream, or one field of a purpose — to the
//! version that made it. A consent given under a version at or above a field's floor covers
//! that field; an older one does not, so the new collection waits until the person agrees
//! again ([`crate::DropCounts::reconsent`]), while what the old version covered keeps flowing.
//!
//! Retention across versions: a value keeps the expiry it was stored with, so a longer
//! retention applies only to new data; a shorter one is a [`Cut`], applied to data already
//! held ([`is_cut`]).

use crate::consent::Grant;
use crate::permissions::SubjectPermissions;
use crate::subjects::SubjectKind;
use jiff::Timestamp;
use privet_manifest::{Change, Manifest, Materiality, Purpose, Retention};

/// A position in a product's publish order: 0 for its first published version.
pub type Rank = u32;

/// One material change, with the version that made it.
#[derive(Clone, Debug, PartialEq)]
pub struct VersionedChange {
    /// The version that made the change.
    pub version: String,
    /// Its rank.
    pub rank: Rank,
    /// When that version was published.
    pub published_at: Timestamp,
    /// The change.
    pub change: Change,
}

/// A field whose retention the newest version made shorter than an earlier version's: values
/// held under the longer one are past their retention once older than `retention`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cut {
    /// The stream.
    pub stream: String,
    /// The field.
    pub field: String,
    /// Its retention now (a field's retention shortened by `drop_after`).
    pub retention: Retention,
}

/// What a floor applies to.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Scope {
    purpose: String,
    stream: Option<String>,
    field: Option<String>,
}

impl Scope {
    fn covers(&self, purpose: &str, stream: &str, field: &str) -> bool {
        self.purpose == purpose
            && self.stream.as_deref().is_none_or(|s| s == stream)
            && self.field.as_deref().is_none_or(|f| f == field)
    }
}

/// A product's published versions and the material changes between them.
#[derive(Clone, Debug, Default)]
pub struct Lineage {
    /// Version strings with when they were published, by rank.
    versions: Vec<(String, Timestamp)>,
    /// Every material change, oldest first.
    changes: Vec<VersionedChange>,
    /// Each material change's scope with the rank that made it.
    floors: Vec<(Scope, Rank)>,
    /// Fields whose retention the newest version shortened.
    cuts: Vec<Cut>,
}

impl Lineage {
    /// From a product's versions, oldest first: each version string with when it was
    /// published and its manifest.
    pub fn new<'a>(
        history: impl IntoIterator<Item = (&'a str, Timestamp, &'a Manifest)>,
    ) -> Lineage {
        let mut lineage = Lineage::default();
        let mut previous: Option<&Manifest> = None;
        let mut seen: Vec<&Manifest> = Vec::new();
        for (rank, (version, published_at, manifest)) in history.into_iter().enumerate() {
            let rank = Rank::try_from(rank).unwrap_or(Rank::MAX);
            lineage.versions.push((version.to_owned(), published_at));
            if let Some(old) = previous {
                for change in privet_manifest::diff(old, manifest) {
                    if change.materiality != Materiality::Material {
                        continue;
                    }
                    for purpose in &change.purposes {
                        lineage.floors.push((
                            Scope {
                                purpose: purpose.clone(),
                                stream: change.stream.clone(),
                                field: change.field.clone(),
                            },
                            rank,
                        ));
                    }
                    lineage.changes.push(VersionedChange {
                        version: version.to_owned(),
                        rank,
                        published_at,
                        change,
                    });
                }
            }
            previous = Some(manifest);
            seen.push(manifest);
        }
        if let Some((newest, earlier)) = seen.split_last() {
            lineage.cuts = cuts(newest, earlier);
        }
        lineage
    }

    /// The fields whose retention the newest version shortened: a longer retention applies
    /// only to data collected after it (each value keeps the expiry it was stored with), but a
    /// shorter one applies to data already held.
    pub fn cuts(&self) -> &[Cut] {
        &self.cuts
    }

    /// The rank of `version` as seen at `at`: of the texts published under that string (older
    /// stores may hold several), the latest published by then; failing that, the first.
    pub fn rank(&self, version: &str, at: Timestamp) -> Option<Rank> {
        let by_then = self
            .versions
            .iter()
            .rposition(|(v, published)| v == version && *published <= at);
        by_then
            .or_else(|| self.versions.iter().position(|(v, _)| v == version))
            .and_then(|r| Rank::try_from(r).ok())
    }

    /// The rank of the version in force at `t`: the latest published by then (`None`: none
    /// was).
    pub fn rank_at(&self, t: Timestamp) -> Option<Rank> {
        self.versions
            .iter()
            .rposition(|(_, at)| *at <= t)
            .and_then(|r| Rank::try_from(r).ok())
    }

    /// The newest version's rank (0 for a lineage of one version or none).
    pub fn current(&self) -> Rank {
        Rank::try_from(self.versions.len().saturating_sub(1)).unwrap_or(Rank::MAX)
    }

    /// The newest version string, if any.
    pub fn current_version(&self) -> Option<&str> {
        self.versions.last().map(|(v, _)| v.as_str())
    }

    /// The oldest version a consent to `purpose` must have been given under to cover `field`
    /// of `stream` as the newest version collects it.
    pub fn floor(&self, purpose: &str, stream: &str, field: &str) -> Rank {
        self.floors
            .iter()
            .filter(|(s, _)| s.covers(purpose, stream, field))
            .map(|(_, r)| *r)
            .max()
            .unwrap_or(0)
    }

    /// The highest floor of any field of `purpose`: a consent given under an older version
    /// does not cover everything the purpose collects now.
    pub fn purpose_floor(&self, purpose: &str) -> Rank {
        self.floors
            .iter()
            .filter(|(s, _)| s.purpose == purpose)
            .map(|(_, r)| *r)
            .max()
            .unwrap_or(0)
    }

    /// Whether a consent to `purpose` given under `grant`'s version covers `field` of `stream`.
    /// A version this lineage does not know (`None`, or a string never published) counts as
    /// the first one: it can only cover what no material change has touched since.
    pub fn covers(&self, grant: &Grant<'_>, purpose: &str, stream: &str, field: &str) -> bool {
        self.rank_of(grant) >= self.floor(purpose, stream, field)
    }

    /// The rank a consent counts as (a version unknown here: the first).
    pub fn rank_of(&self, grant: &Grant<'_>) -> Rank {
        grant
            .version
            .and_then(|v| self.rank(v, grant.at))
            .unwrap_or(0)
    }

    /// The material changes made after `rank`, oldest first.
    pub fn changes_after(&self, rank: Rank) -> impl Iterator<Item = &VersionedChange> {
        self.changes.iter().filter(move |c| c.rank > rank)
    }

    /// Every material change, oldest first.
    pub fn changes(&self) -> &[VersionedChange] {
        &self.changes
    }
}

/// The fields of `newest` kept for less time than some `earlier` version kept them.
fn cuts(newest: &Manifest, earlier: &[&Manifest]) -> Vec<Cut> {
    let mut cuts = Vec::new();
    for (stream, field) in newest.fields() {
        let Some(now) = field.effective_retention() else {
            continue;
        };
        let before = earlier
            .iter()
            .filter_map(|m| m.stream(stream.id.as_str())?.field(field.name.as_str()))
            .filter_map(|f| f.effective_retention())
            .max();
        if before.is_some_and(|b| b > now) {
            cuts.push(Cut {
                stream: stream.id.as_str().to_owned(),
                field: field.name.as_str().to_owned(),
                retention: now,
            });
        }
    }
    cuts
}

/// What a subject is asked to do about a change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeAction {
    /// Agree again: until then the changed collection for the purpose waits.
    Reconsent,
    /// Nothing is needed, but they may object (legitimate interests, public task).
    Object,
    /// Nothing can be done but to know (contract, legal obligation, vital interests).
    Informed,
}

/// Material changes to one purpose that a subject has not answered.
#[derive(Clone, Debug)]
pub struct PendingChange<'a> {
    /// The purpose, as the newest version declares it.
    pub purpose: &'a Purpose,
    /// What the subject is asked to do.
    pub action: ChangeAction,
    /// The version the subject's consent was given under (reconsent only).
    pub consented_under: Option<&'a str>,
    /// The changes, oldest first.
    pub changes: Vec<&'a VersionedChange>,
}

/// The material changes of `manifest` (the newest version in `lineage`) a subject of `kind`,
/// known since `since`, has not answered: for a consent in force, those made after the
/// version it was given under (they wait for a new consent); for a purpose people may object
/// to and have not, or one they cannot refuse, those made after the version in force when the
/// subject was added. Purposes in manifest order.
pub fn pending_changes<'a>(
    manifest: &'a Manifest,
    lineage: &'a Lineage,
    permissions: &'a SubjectPermissions,
    kind: SubjectKind,
    since: Timestamp,
) -> Vec<PendingChange<'a>> {
    let product = manifest.product.id.as_str();
    let about: Vec<&str> = crate::scope::streams_about(manifest, kind)
        .map(|s| s.id.as_str())
        .collect();
    let joined = lineage.rank_at(since);
    let mut pending = Vec::new();
    for purpose in &manifest.purposes {
        let id = purpose.id.as_str();
        let touches_subject = |c: &&VersionedChange| {
            c.change.purposes.iter().any(|p| p == id)
                && c.change
                    .stream
                    .as_deref()
                    .is_none_or(|s| about.contains(&s))
        };
        // Without a consent there is nothing to renew: the switch is off. Only a purpose that
        // has come to need consent is explained (what it collected now waits for it).
        let mut only_basis = false;
        let (action, consented_under, after) = if purpose.needs_consent() {
            match permissions.grant(product, id) {
                Some(grant) => (
                    ChangeAction::Reconsent,
                    grant.version,
                    Some(lineage.rank_of(&grant)),
                ),
                None => {
                    only_basis = true;
                    (ChangeAction::Informed, None, joined)
                }
            }
        } else if permissions.is_objected(product, id) {
            continue;
        } else if purpose.is_objectable() {
            (ChangeAction::Object, None, joined)
        } else {
            (ChangeAction::Informed, None, joined)
        };
        // A subject added before any version was published has seen none of the changes.
        let changes: Vec<&VersionedChange> = lineage
            .changes()
            .iter()
            .filter(|c| after.is_none_or(|r| c.rank > r))
            .filter(|c| !only_basis || c.change.kind == privet_manifest::ChangeKind::BasisChanged)
            .filter(touches_subject)
            .collect();
        if !changes.is_empty() {
            pending.push(PendingChange {
                purpose,
                action,
                consented_under,
                changes,
            });
        }
    }
    pending
}

/// The fields of `manifest` (stream, field) that serve `purpose` but that a consent to it given
/// under `grant`'s version does not cover: a read for the purpose leaves them out, even when
/// another purpose kept them.
pub fn uncovered_fields(
    manifest: &Manifest,
    lineage: &Lineage,
    grant: &Grant<'_>,
    purpose: &str,
) -> Vec<(String, String)> {
    manifest
        .fields()
        .filter(|(_, f)| f.purposes.iter().any(|p| p.as_str() == purpose))
        .filter(|(s, f)| !lineage.covers(grant, purpose, s.id.as_str(), f.name.as_str()))
        .map(|(s, f)| (s.id.as_str().to_owned(), f.name.as_str().to_owned()))
        .collect()
}

/// Whether a value of a field observed at `ts` is past the field's shortened retention at
/// `now` (calendar arithmetic as at ingest; a time beyond the calendar never is).
pub fn is_cut(cut: &Cut, ts: Timestamp, now: Timestamp) -> bool {
    cut.retention
        .expiry(ts)
        .is_some_and(|exp| crate::expiry::is_expired(exp, now))
}

/// The version of `product` in a consent record's `manifest_version` (`product@version`,
/// comma separated, as [`crate::NewConsent::manifest_version`] is written).
pub fn version_in<'a>(manifest_version: &'a str, product: &str) -> Option<&'a str> {
    manifest_version.split(',').find_map(|entry| {
        let (p, v) = entry.trim().split_once('@')?;
        (p == product).then_some(v)
    })
}

#[cfg(test)]
mod tests;
