//! The label as data, derived from the manifest and the running configuration.

use super::grade::{self, Grade};
use crate::model::{Manifest, Recipient};
use crate::notice::plain::{self, Keep};
use crate::safeguard;
use crate::taxonomy::is_under;
use crate::vocab::Audience;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

/// What the label depends on besides the manifest: today's date and what the running
/// instance guarantees (the label is derived, never typed by hand).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LabelContext {
    /// Today, to tell whether the security update period has ended.
    pub today: Date,
    /// Whether accounts can turn on two-step verification.
    pub two_factor_available: bool,
    /// Whether every device gets its own credential (no shared default password).
    pub unique_device_credentials: bool,
    /// Whether each person's data is encrypted with their own key.
    pub per_person_encryption: bool,
    /// The day the newest material change to the product's manifest was published, when its
    /// published versions are known (a server serving it); `None` when there has been none, or
    /// when the label is made from a manifest file with no history.
    pub last_material_change: Option<Date>,
}

impl LabelContext {
    /// The context of a Privet instance, which guarantees all three security properties; no
    /// version history (set [`LabelContext::last_material_change`] when there is one).
    pub fn privet(today: Date) -> LabelContext {
        LabelContext {
            today,
            two_factor_available: true,
            unique_device_credentials: true,
            per_person_encryption: true,
            last_material_change: None,
        }
    }
}

/// A privacy and security label for one product.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Label {
    /// Which product.
    pub product: LabelProduct,
    /// The day the label was derived.
    pub as_of: Date,
    /// The layer a shopper reads first.
    pub primary: Primary,
    /// Every field in detail.
    pub secondary: Vec<FieldRow>,
    /// The grade and why.
    pub grade: Grade,
}

/// The product a label is for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabelProduct {
    /// Product id.
    pub id: String,
    /// Product name.
    pub name: String,
    /// The maker.
    pub maker: String,
    /// The manifest version.
    pub version: String,
    /// Who it is made for: `adults`, `children` or `all`.
    #[serde(default)]
    pub audience: String,
}

/// A purpose as the label shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabelPurpose {
    /// What it is for.
    pub description: String,
    /// Whether it is off until the person switches it on.
    pub optional: bool,
}

/// Someone the data is shared with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedWith {
    /// Organisation name.
    pub name: String,
    /// `controller` or `processor`, when stated.
    pub role: Option<String>,
    /// ISO 3166 code, when stated.
    pub country: Option<String>,
    /// The country's name, or "country not stated".
    pub country_name: String,
    /// The transfer safeguard in words, when the data leaves the UK under one.
    #[serde(default)]
    pub safeguard: Option<String>,
}

/// The primary layer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Primary {
    /// Who the product is made for, in plain words ("Children: made for children").
    #[serde(default)]
    pub made_for: String,
    /// Kinds of data collected (taxonomy names).
    pub data_collected: Vec<String>,
    /// Sensors the data comes from, derived from the categories.
    pub sensors: Vec<String>,
    /// Every purpose.
    pub purposes: Vec<LabelPurpose>,
    /// Everyone else who receives data.
    pub shared_with: Vec<SharedWith>,
    /// Countries outside the UK the data goes to (names; "not stated" when unknown).
    pub outside_uk: Vec<String>,
    /// The shortest time any field is kept, in plain words.
    pub retention_shortest: Option<String>,
    /// The longest time any field is kept, in plain words.
    pub retention_longest: Option<String>,
    /// The day the newest material change to the manifest was published (`None`: none known).
    pub last_material_change: Option<Date>,
    /// The last day of promised security updates.
    pub security_updates_until: Option<Date>,
    /// Whether that day is past.
    pub security_updates_ended: bool,
    /// Whether the product works without the internet, in plain words.
    pub works_offline: String,
    /// Whether two-step verification is available.
    pub two_step_verification: bool,
    /// Whether every device has its own credential (no default passwords).
    pub unique_device_credentials: bool,
    /// Whether each person's data is encrypted with their own key.
    pub per_person_encryption: bool,
    /// Whether firmware updates are signed with the maker's release key.
    pub signed_updates: bool,
    /// Where to report a vulnerability.
    pub vulnerability_disclosure: Option<String>,
    /// How to delete your data.
    pub delete_your_data: String,
}

/// One field in the secondary layer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldRow {
    /// The stream key.
    pub stream: String,
    /// The field key.
    pub field: String,
    /// The taxonomy key.
    pub category: String,
    /// The category's name.
    pub category_name: String,
    /// Purpose descriptions.
    pub purposes: Vec<String>,
    /// The lawful basis of each purpose and any Art. 9 condition, in words, deduplicated.
    pub bases: Vec<String>,
    /// How long it is kept, in plain words.
    pub retention: String,
    /// How it is minimised, in plain words.
    pub transforms: Vec<String>,
    /// Whether it is collected only with consent.
    pub optional: bool,
}

/// Sensors, by the data categories whose data they produce.
const SENSORS: &[(&str, &str)] = &[
    ("user.sensor.audio", "Microphone (audio)"),
    ("user.biometric.voice", "Microphone (audio)"),
    ("user.sensor.video", "Camera (video)"),
    ("user.sensor.image", "Camera (still images)"),
    ("user.content.self_image", "Camera (still images)"),
    ("user.location", "Location"),
    ("user.sensor.motion", "Motion and occupancy"),
    ("user.behavior.presence", "Motion and occupancy"),
    (
        "user.sensor.environment",
        "Environment (temperature, humidity, air, light)",
    ),
    ("user.sensor.energy", "Energy or water meter"),
    (
        "user.health_and_medical.fitness",
        "Body sensors (heart rate, sleep, steps)",
    ),
    (
        "user.biometric.health",
        "Body sensors (heart rate, sleep, steps)",
    ),
    ("user.biometric.fingerprint", "Fingerprint reader"),
];

fn sensor_of(category: &str) -> Option<&'static str> {
    SENSORS
        .iter()
        .find(|(c, _)| is_under(category, c))
        .map(|(_, s)| *s)
        .or_else(|| is_under(category, "user.sensor").then_some("Other sensors"))
}

/// Who a product is made for, in the label's words.
fn made_for(audience: Audience) -> &'static str {
    match audience {
        Audience::Children => "Children: this product is made for children",
        Audience::All => "Everyone, children included",
        Audience::Adults => "Adults",
    }
}

fn push_unique(v: &mut Vec<String>, s: &str) {
    if !v.iter().any(|x| x == s) {
        v.push(s.to_owned());
    }
}

fn shared(r: &Recipient) -> SharedWith {
    let country = r.country.as_ref().map(|c| c.value.clone());
    let outside_uk = !country.as_deref().is_some_and(plain::is_uk);
    SharedWith {
        safeguard: r
            .safeguard
            .as_ref()
            .filter(|s| outside_uk && !s.value.trim().is_empty())
            .map(|s| safeguard::in_words(&s.value)),
        name: r.name.value.clone(),
        role: r.role.as_ref().map(|x| x.value.as_str().to_owned()),
        country_name: country
            .as_deref()
            .map_or_else(|| "country not stated".to_owned(), plain::country),
        country,
    }
}

impl Label {
    /// Derives the label of `manifest` in context `cx`.
    pub fn from_manifest(manifest: &Manifest, cx: &LabelContext) -> Label {
        let p = &manifest.product;
        let mut data_collected = Vec::new();
        let mut sensors = Vec::new();
        let mut keeps = Vec::new();
        let mut secondary = Vec::new();
        for (s, f) in manifest.fields() {
            let (category_name, _) = plain::category(&f.category.value);
            push_unique(&mut data_collected, &category_name);
            if let Some(sensor) = sensor_of(&f.category.value) {
                push_unique(&mut sensors, sensor);
            }
            let keep = Keep::of(f);
            keeps.push(keep);
            let mut bases = Vec::new();
            for pu in manifest.field_purposes(f) {
                push_unique(&mut bases, &pu.basis.value.as_str().replace('_', " "));
                if let Some(c) = &pu.special_category_condition {
                    let condition = format!("{} (Art. 9)", c.value.as_str().replace('_', " "));
                    push_unique(&mut bases, &condition);
                }
            }
            secondary.push(FieldRow {
                stream: s.id.value.to_string(),
                field: f.name.value.to_string(),
                category: f.category.value.clone(),
                category_name,
                purposes: manifest
                    .field_purposes(f)
                    .map(|pu| pu.description.value.clone())
                    .collect(),
                bases,
                retention: keep.plain(),
                transforms: f.transform.describe(),
                optional: manifest.is_consent_only(f),
            });
        }
        let mut outside_uk = Vec::new();
        for r in &manifest.recipients {
            match r.country.as_ref() {
                Some(c) if plain::is_uk(&c.value) => {}
                Some(c) => push_unique(&mut outside_uk, &plain::country(&c.value)),
                None => push_unique(&mut outside_uk, "not stated"),
            }
        }
        let until = p.security_updates_until.as_ref().map(|d| d.value);
        let contact = p
            .privacy_contact
            .as_ref()
            .map_or_else(String::new, |c| format!(", or ask {}", c.value));
        let primary = Primary {
            made_for: made_for(p.audience()).to_owned(),
            data_collected,
            sensors,
            purposes: manifest
                .purposes
                .iter()
                .map(|pu| LabelPurpose {
                    description: pu.description.value.clone(),
                    optional: pu.needs_consent(),
                })
                .collect(),
            shared_with: manifest.recipients.iter().map(shared).collect(),
            outside_uk,
            retention_shortest: keeps
                .iter()
                .filter(|k| matches!(k, Keep::For(_)))
                .min()
                .map(|k| k.plain()),
            retention_longest: keeps.iter().max().map(|k| k.plain()),
            last_material_change: cx.last_material_change,
            security_updates_until: until,
            security_updates_ended: until.is_some_and(|d| d < cx.today),
            works_offline: p
                .works_offline
                .as_ref()
                .map_or_else(|| "Not stated".to_owned(), |w| w.value.plain()),
            two_step_verification: cx.two_factor_available,
            unique_device_credentials: cx.unique_device_credentials,
            per_person_encryption: cx.per_person_encryption,
            signed_updates: p.update_public_key.is_some(),
            vulnerability_disclosure: p.vulnerability_disclosure.as_ref().map(|v| v.value.clone()),
            delete_your_data: format!(
                "In the app, at any time: immediate, with a signed receipt{contact}"
            ),
        };
        Label {
            product: LabelProduct {
                id: p.id.value.to_string(),
                name: p.name.value.clone(),
                maker: p.maker.value.clone(),
                version: p.version().to_owned(),
                audience: p.audience().as_str().to_owned(),
            },
            as_of: cx.today,
            primary,
            secondary,
            grade: grade::grade(manifest, cx),
        }
    }
}
