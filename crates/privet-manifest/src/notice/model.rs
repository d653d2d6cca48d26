//! The notice as data: everything a renderer needs, already in plain words.

use crate::vocab::{Audience, Role};
use jiff::civil::Date;
use serde::Serialize;

/// A privacy notice derived from one manifest; the markdown and HTML renderers (and the web
/// pages) all read this, so they say the same thing.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Notice {
    /// Who makes the product and how to reach them.
    pub product: ProductFacts,
    /// What is collected, one entry per data category, in manifest order.
    pub collected: Vec<KindSummary>,
    /// Every purpose, in manifest order.
    pub purposes: Vec<PurposeFacts>,
    /// The longest any field is kept, in plain words; `None` when nothing is collected.
    pub longest_retention: Option<String>,
    /// Everyone else who receives data.
    pub recipients: Vec<RecipientFacts>,
    /// Purposes that are off until the person switches them on.
    pub optional: Vec<PurposeFacts>,
    /// Whether the product works without the internet, in plain words.
    pub works_offline: String,
    /// How long security updates are promised, in plain words.
    pub security_updates: String,
    /// The detail: every stream and its fields.
    pub streams: Vec<StreamFacts>,
    /// The person's rights and how to use each one.
    pub rights: Vec<RightFacts>,
    /// A child-friendly summary, when children may use the product.
    pub children: Option<ChildrenSummary>,
    /// Attribution for the taxonomy the categories come from.
    pub attribution: String,
}

/// The product and its maker.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ProductFacts {
    /// Product id.
    pub id: String,
    /// Product name.
    pub name: String,
    /// The maker.
    pub maker: String,
    /// The manifest version.
    pub version: String,
    /// Where to send privacy questions and rights requests.
    pub contact: Option<String>,
    /// The maker's role for this data.
    pub role: Role,
    /// The role in plain words.
    pub role_plain: String,
    /// Where to report a security problem.
    pub vulnerability_disclosure: Option<String>,
    /// The last day of promised security updates.
    pub security_updates_until: Option<Date>,
    /// Who the product is for.
    pub audience: Audience,
}

/// One kind of data (a data category) in the short top layer.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct KindSummary {
    /// The taxonomy key, e.g. `user.sensor.environment`.
    pub category: String,
    /// Its name, e.g. "Home Environment Readings".
    pub name: String,
    /// What it covers.
    pub description: String,
    /// The longest any field of this kind is kept, in plain words.
    pub longest: String,
    /// Whether every field of this kind is collected only with consent.
    pub optional: bool,
}

/// A lawful basis or condition in plain words, with the law that grants it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Basis {
    /// In plain words, e.g. "we need it to provide the product you asked for".
    pub plain: String,
    /// The article, e.g. "UK GDPR Art. 6(1)(b)".
    pub article: String,
}

/// One purpose.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PurposeFacts {
    /// The purpose key.
    pub id: String,
    /// What it is for, as the maker describes it.
    pub description: String,
    /// The fideslang data use.
    pub data_use: String,
    /// Whether it needs consent, so it is off until switched on.
    pub optional: bool,
    /// The lawful basis.
    pub basis: Basis,
    /// The Art. 9 condition, when special category data serves it.
    pub condition: Option<Basis>,
    /// Whether the person can object to it.
    pub objectable: bool,
    /// Who else receives data for it, e.g. "Mailer Ltd (Ireland)".
    pub recipients: Vec<String>,
}

/// Someone else who receives data.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RecipientFacts {
    /// The recipient key.
    pub id: String,
    /// Organisation name.
    pub name: String,
    /// Its role, when stated.
    pub role: Option<Role>,
    /// What it may do with the data, in plain words.
    pub role_plain: String,
    /// ISO 3166 code, when stated.
    pub country: Option<String>,
    /// The country's name, or "not stated".
    pub country_name: String,
    /// Whether the data leaves the UK (or the country is not stated).
    pub outside_uk: bool,
    /// The transfer safeguard, when stated, as written in the manifest (e.g. `idta`).
    pub safeguard: Option<String>,
    /// The safeguard in words, to follow "protected by" (e.g. "the UK International Data
    /// Transfer Agreement"), when the data leaves the UK under one.
    pub safeguard_plain: Option<String>,
    /// Descriptions of the purposes it receives data for.
    pub purposes: Vec<String>,
}

/// One stream and its fields.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StreamFacts {
    /// The stream key.
    pub id: String,
    /// The maker's description.
    pub description: Option<String>,
    /// Whose data it is, in plain words.
    pub whose: String,
    /// Other people it may capture, in plain words ("visitors", "passers-by"…).
    pub also_captures: Vec<String>,
    /// The sentences saying whom else it may capture, for the notice: "your child" rather than
    /// "other people" when a product made for children lists `child`.
    pub captures: Vec<String>,
    /// Its fields.
    pub fields: Vec<FieldFacts>,
}

/// One field, in detail.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FieldFacts {
    /// The field key.
    pub name: String,
    /// The maker's description.
    pub description: Option<String>,
    /// The taxonomy key.
    pub category: String,
    /// The category's name.
    pub category_name: String,
    /// Where it comes from, in plain words.
    pub origin: String,
    /// How long it is kept (after any early deletion), in plain words.
    pub retention: String,
    /// Set when the value is deleted sooner than the field's retention.
    pub retention_note: Option<String>,
    /// The maker's reason for keeping it longer than usual (`retention_reason`), when given.
    pub retention_reason: Option<String>,
    /// How it is minimised, in plain words.
    pub transforms: Vec<String>,
    /// Whether it is collected only with consent.
    pub optional: bool,
    /// The purposes it serves.
    pub purposes: Vec<PurposeFacts>,
}

/// One right and how to use it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RightFacts {
    /// A stable key, e.g. `deletion`.
    pub id: String,
    /// A short heading, e.g. "Delete your data".
    pub title: String,
    /// How to use it, in plain words.
    pub how: String,
    /// What it applies to, when it is a list (e.g. the purposes you can object to).
    pub items: Vec<String>,
}

/// A short summary written for children.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ChildrenSummary {
    /// Short sentences that come first: what is collected and why.
    pub intro: Vec<String>,
    /// What is off until a grown-up switches it on.
    pub switched_off: Vec<String>,
    /// Short sentences that come last: keeping, sharing, getting help.
    pub outro: Vec<String>,
}

impl ChildrenSummary {
    /// The sentence that introduces [`ChildrenSummary::switched_off`].
    pub const SWITCHED_OFF: &'static str =
        "Some things are switched off. Only a grown-up in your home can switch them on:";
}
