//! What changed between two versions of a product's manifest, in plain words, each change
//! classed as *material* (people must be told and, for consent, asked again) or *minor*.
//!
//! [`diff`] compares two parsed manifests of the same product; `privet manifest diff` prints
//! the result and exits 3 when [`has_material`] is true, so a maker's CI can gate a release.
//!
//! # Scope
//!
//! Each [`Change`] says which processing it touches, so the consent engine can keep what the
//! old version covered flowing and hold back only what is new:
//!
//! - **Field-level** kinds ([`ChangeKind::NewField`], [`ChangeKind::NewPurposeForField`],
//!   [`ChangeKind::LongerRetention`], [`ChangeKind::WeakerTransform`],
//!   [`ChangeKind::MoreSensitiveCategory`] and their minor opposites) set `stream` and `field`;
//!   `purposes` are the field's purposes in the new manifest that the change affects (for
//!   [`ChangeKind::NewPurposeForField`], only the purposes newly added; for
//!   [`ChangeKind::RemovedField`] and [`ChangeKind::RemovedPurposeForField`], the purposes
//!   it no longer serves).
//! - **Stream-level**: [`ChangeKind::NewStream`] and [`ChangeKind::RemovedStream`] set
//!   `stream` and leave `field` empty: every field of the stream, for the listed purposes (all
//!   purposes of its fields). A stream whose `subject` becomes more personal (`none` →
//!   `household` → `member`) is [`ChangeKind::MoreSensitiveCategory`] at stream level.
//! - **Purpose-level** kinds ([`ChangeKind::NewPurpose`], [`ChangeKind::BasisChanged`],
//!   [`ChangeKind::NewRecipient`], [`ChangeKind::NewThirdCountry`] and their minor opposites)
//!   leave `stream` and `field` empty: every field serving the listed purposes.
//! - **Product-level** [`ChangeKind::Wording`] lists no purposes.
//!
//! # Classification
//!
//! Material: a new stream or field (an object field whose schema gains keys counts as new), a
//! new purpose for a field, a new purpose (or a purpose whose fideslang `use` moves outside
//! the old one: it is a different purpose under the same key), a recipient that is new, gains
//! a purpose or stops being a processor, a non-UK country (or a recipient with no country)
//! not seen before for a purpose, a longer retention (after `drop_after`), a weaker transform,
//! a change of lawful basis, Art. 9 condition or PECR ground, and a more sensitive data
//! category (ranked: not personal < personal < high-risk (precise location, recordings,
//! financial, government id, credentials, children's data) < special category).
//!
//! Minor: everything else that changed — wording, a shorter retention, a stronger transform,
//! anything removed, a less sensitive category, and a different category of the same rank
//! (what people weigh is the sensitivity, which did not change). Product-level keys (name,
//! maker, contacts, `audience`, update promises…) are wording: a product opening to children is
//! shown to people as a change and checked by the Children's code rules of `manifest check`,
//! but it asks no one again. `product.version` itself is never a change.

mod fields;
mod minimise;
mod product;
mod purposes;
mod recipients;
mod sensitivity;
mod streams;
mod words;

#[cfg(test)]
mod tests;

use crate::model::Manifest;

/// Whether a change needs people to be told and, for consent, asked again.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Materiality {
    /// People must be told; consent-based purposes need agreeing to again.
    Material,
    /// Shown in the history; nobody is asked again.
    Minor,
}

/// What kind of change; see the [module documentation](self) for what each covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// A stream that was not there (stream-level).
    NewStream,
    /// A field that was not there, or an object field carrying new keys (field-level).
    NewField,
    /// An existing field serves purposes it did not (field-level; the new purposes).
    NewPurposeForField,
    /// A purpose that was not there, or one whose `use` is now a different one (purpose-level).
    NewPurpose,
    /// A recipient that is new, receives for more purposes, or stops being a processor
    /// (purpose-level: the purposes it newly receives for, or those it no longer receives as
    /// a processor for).
    NewRecipient,
    /// Data for a purpose goes to a country outside the UK it did not go to (purpose-level).
    NewThirdCountry,
    /// A field is kept longer (field-level).
    LongerRetention,
    /// A field is minimised less (field-level).
    WeakerTransform,
    /// A purpose's lawful basis, Art. 9 condition or PECR ground changed (purpose-level).
    BasisChanged,
    /// A field's category (or a stream's subject) is more sensitive (field- or stream-level).
    MoreSensitiveCategory,
    /// Text or settings that change no processing: descriptions, names, contacts, product keys.
    Wording,
    /// A field is kept for less time (field-level).
    ShorterRetention,
    /// A field is minimised more (field-level).
    StrongerTransform,
    /// A stream is no longer collected (stream-level).
    RemovedStream,
    /// A field, or keys of an object field, no longer collected (field-level).
    RemovedField,
    /// A field no longer serves some purposes (field-level; the purposes dropped).
    RemovedPurposeForField,
    /// A purpose is no longer carried out (purpose-level).
    RemovedPurpose,
    /// A recipient no longer receives data for some purposes (purpose-level).
    RemovedRecipient,
    /// A field's category (or a stream's subject) is less sensitive (field- or stream-level).
    LessSensitiveCategory,
}

impl ChangeKind {
    /// Whether this kind of change is material or minor.
    pub fn materiality(self) -> Materiality {
        match self {
            ChangeKind::NewStream
            | ChangeKind::NewField
            | ChangeKind::NewPurposeForField
            | ChangeKind::NewPurpose
            | ChangeKind::NewRecipient
            | ChangeKind::NewThirdCountry
            | ChangeKind::LongerRetention
            | ChangeKind::WeakerTransform
            | ChangeKind::BasisChanged
            | ChangeKind::MoreSensitiveCategory => Materiality::Material,
            ChangeKind::Wording
            | ChangeKind::ShorterRetention
            | ChangeKind::StrongerTransform
            | ChangeKind::RemovedStream
            | ChangeKind::RemovedField
            | ChangeKind::RemovedPurposeForField
            | ChangeKind::RemovedPurpose
            | ChangeKind::RemovedRecipient
            | ChangeKind::LessSensitiveCategory => Materiality::Minor,
        }
    }
}

/// One difference between two versions of a product's manifest, in plain words.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Change {
    /// What kind of change.
    pub kind: ChangeKind,
    /// Always `kind.materiality()`; here so JSON readers need no table.
    pub materiality: Materiality,
    /// The purposes (ids) whose processing this change affects; empty when none in particular
    /// (e.g. product wording).
    pub purposes: Vec<String>,
    /// The stream it is about, if any. With `field` None and `stream` Some, it covers every
    /// field of that stream (for the listed purposes).
    pub stream: Option<String>,
    /// The field it is about, if any.
    pub field: Option<String>,
    /// One plain-English sentence for people (UK spelling; taxonomy names are quoted as
    /// fideslang spells them). Manifests hold no personal values, so it may quote manifest text.
    pub summary: String,
}

/// What a change is about: see the module's scope rules.
#[derive(Clone, Debug, Default)]
struct Scope {
    purposes: Vec<String>,
    stream: Option<String>,
    field: Option<String>,
}

impl Scope {
    /// The product as a whole.
    fn product() -> Scope {
        Scope::default()
    }

    /// Every field serving these purposes.
    fn purposes(purposes: Vec<String>) -> Scope {
        Scope {
            purposes,
            ..Scope::default()
        }
    }

    /// Every field of a stream, for these purposes.
    fn stream(stream: &str, purposes: Vec<String>) -> Scope {
        Scope {
            purposes,
            stream: Some(stream.to_owned()),
            field: None,
        }
    }

    /// One field, for these purposes.
    fn field(stream: &str, field: &str, purposes: Vec<String>) -> Scope {
        Scope {
            purposes,
            stream: Some(stream.to_owned()),
            field: Some(field.to_owned()),
        }
    }
}

/// The changes found so far, in the order they are reported.
#[derive(Default)]
struct Changes(Vec<Change>);

impl Changes {
    fn push(&mut self, kind: ChangeKind, scope: Scope, summary: String) {
        self.0.push(Change {
            kind,
            materiality: kind.materiality(),
            purposes: scope.purposes,
            stream: scope.stream,
            field: scope.field,
            summary,
        });
    }
}

/// The changes from `old` to `new` (same product), in manifest order: the product, then
/// purposes, recipients and countries, then streams and their fields; what was removed comes
/// after what is still there. Empty when nothing but `product.version` (or layout) changed.
pub fn diff(old: &Manifest, new: &Manifest) -> Vec<Change> {
    let mut out = Changes::default();
    product::diff(&old.product, &new.product, &mut out);
    purposes::diff(old, new, &mut out);
    recipients::diff(old, new, &mut out);
    streams::diff(old, new, &mut out);
    out.0
}

/// Whether any change is material.
pub fn has_material(changes: &[Change]) -> bool {
    changes
        .iter()
        .any(|c| c.materiality == Materiality::Material)
}
