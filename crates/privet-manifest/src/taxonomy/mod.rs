//! The fideslang taxonomy (data categories, data uses, data subjects) with Privet's IoT extension.
//!
//! The fideslang files ship unchanged under `data/fideslang/` (CC BY 4.0, © Ethyca, Inc.; see
//! its README). They are parsed once, on first use.

mod suggest;

pub use suggest::did_you_mean;

use serde::Deserialize;
use std::collections::HashMap;
use std::sync::LazyLock;

/// Attribution that must accompany the taxonomy wherever it is shipped or shown.
pub const ATTRIBUTION: &str = "Data categories, uses and subjects from fideslang (github.com/ethyca/fideslang), © Ethyca, Inc., licensed CC BY 4.0; extended by Privet for consumer IoT.";

/// The fideslang release the bundled files were copied from.
pub const FIDESLANG_SOURCE: &str = "ethyca/fideslang data_files, commit 40394c4 (2025-12-17)";

/// Which taxonomy list an entry belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Data categories (`user.sensor`).
    Category,
    /// Data uses (`analytics.reporting`).
    Use,
    /// Data subjects (`visitor`).
    Subject,
}

/// Who defined an entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// fideslang itself.
    Fideslang,
    /// Privet's IoT extension.
    Privet,
}

/// One taxonomy entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The dotted key, e.g. `user.location.precise`.
    pub key: String,
    /// Human name.
    pub name: String,
    /// What it covers.
    pub description: String,
    /// The parent key, if any.
    pub parent: Option<String>,
    /// The fideslang version that deprecated it, if any.
    pub deprecated: Option<String>,
    /// Its successor, when deprecated.
    pub replaced_by: Option<String>,
    /// Who defined it.
    pub origin: Origin,
}

/// One list of the taxonomy.
#[derive(Debug, Default)]
pub struct List {
    entries: Vec<Entry>,
    by_key: HashMap<String, usize>,
}

impl List {
    fn push(&mut self, e: Entry) {
        self.by_key.insert(e.key.clone(), self.entries.len());
        self.entries.push(e);
    }

    /// The entry with this key.
    pub fn get(&self, key: &str) -> Option<&Entry> {
        self.by_key.get(key).and_then(|&i| self.entries.get(i))
    }

    /// Every entry.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The closest known key to an unknown one, for a "did you mean" hint.
    pub fn suggest(&self, unknown: &str) -> Option<&str> {
        did_you_mean(
            unknown,
            self.entries
                .iter()
                .filter(|e| e.deprecated.is_none())
                .map(|e| e.key.as_str()),
        )
    }
}

/// The whole taxonomy.
#[derive(Debug, Default)]
pub struct Taxonomy {
    /// Data categories.
    pub categories: List,
    /// Data uses.
    pub uses: List,
    /// Data subjects.
    pub subjects: List,
}

#[derive(Deserialize)]
struct RawEntry {
    fides_key: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    parent_key: Option<String>,
    #[serde(default)]
    version_deprecated: Option<String>,
    #[serde(default)]
    replaced_by: Option<String>,
}

#[derive(Deserialize, Default)]
struct RawFile {
    #[serde(default)]
    data_category: Vec<RawEntry>,
    #[serde(default)]
    data_use: Vec<RawEntry>,
    #[serde(default)]
    data_subject: Vec<RawEntry>,
}

const FIDESLANG_CATEGORIES: &str = include_str!("../../data/fideslang/data_categories.yml");
const FIDESLANG_USES: &str = include_str!("../../data/fideslang/data_uses.yml");
const FIDESLANG_SUBJECTS: &str = include_str!("../../data/fideslang/data_subjects.yml");
const PRIVET_EXTENSIONS: &str = include_str!("../../data/privet_extensions.yml");

static TAXONOMY: LazyLock<Taxonomy> = LazyLock::new(Taxonomy::load);

impl Taxonomy {
    /// The bundled taxonomy.
    pub fn get() -> &'static Taxonomy {
        &TAXONOMY
    }

    fn load() -> Taxonomy {
        let mut t = Taxonomy::default();
        // The bundled files are fixed at build time and covered by tests; if one failed to
        // parse, the lists would be empty and every manifest would fail `unknown-category`
        // loudly rather than pass silently.
        for (text, origin) in [
            (FIDESLANG_CATEGORIES, Origin::Fideslang),
            (FIDESLANG_USES, Origin::Fideslang),
            (FIDESLANG_SUBJECTS, Origin::Fideslang),
            (PRIVET_EXTENSIONS, Origin::Privet),
        ] {
            let raw: RawFile = serde_norway::from_str(text).unwrap_or_default();
            for (list, entries) in [
                (&mut t.categories, raw.data_category),
                (&mut t.uses, raw.data_use),
                (&mut t.subjects, raw.data_subject),
            ] {
                for e in entries {
                    list.push(Entry {
                        key: e.fides_key,
                        name: e.name.unwrap_or_default(),
                        description: e.description.unwrap_or_default(),
                        parent: e.parent_key,
                        deprecated: e.version_deprecated,
                        replaced_by: e.replaced_by,
                        origin,
                    });
                }
            }
        }
        t
    }

    /// The list for `kind`.
    pub fn list(&self, kind: Kind) -> &List {
        match kind {
            Kind::Category => &self.categories,
            Kind::Use => &self.uses,
            Kind::Subject => &self.subjects,
        }
    }
}

/// Whether `key` equals `ancestor` or lies beneath it (`user.location.precise` is under `user.location`).
pub fn is_under(key: &str, ancestor: &str) -> bool {
    key == ancestor
        || (key.len() > ancestor.len()
            && key.starts_with(ancestor)
            && key.as_bytes().get(ancestor.len()) == Some(&b'.'))
}

/// Categories that are special category data (UK GDPR Art. 9) or criminal offence data (Art. 10).
const SPECIAL_CATEGORIES: &[&str] = &[
    "user.biometric",
    "user.authorization.biometric",
    "user.health_and_medical",
    "user.demographic.political_opinion",
    "user.demographic.race_ethnicity",
    "user.demographic.religious_belief",
    "user.demographic.sexual_orientation",
    "user.criminal_history",
];

/// Whether a data category is special category data needing an Art. 9 condition.
pub fn is_special_category(category: &str) -> bool {
    SPECIAL_CATEGORIES.iter().any(|s| is_under(category, s))
}

/// Whether a data category is precise location.
pub fn is_precise_location(category: &str) -> bool {
    is_under(category, "user.location.precise")
}

/// Whether a data category is a recording of sound, video or images (or a voice print).
pub fn is_recording(category: &str) -> bool {
    [
        "user.sensor.audio",
        "user.sensor.video",
        "user.sensor.image",
        "user.biometric.voice",
        "user.content.self_image",
    ]
    .iter()
    .any(|c| is_under(category, c))
}

/// Whether a data category describes people (as opposed to system data).
pub fn is_personal_category(category: &str) -> bool {
    is_under(category, "user")
}

/// Whether a data category is biometric data (fideslang's `user.biometric.*` and biometric
/// credentials).
pub fn is_biometric(category: &str) -> bool {
    is_under(category, "user.biometric") || is_under(category, "user.authorization.biometric")
}

/// Data uses that market to people or profile them: never necessary to perform a contract.
const PROFILING_OR_MARKETING_USES: &[&str] = &[
    "marketing",
    "sales",
    "personalize.content.profiling",
    "personalize.content.profiled",
];

/// Whether a data use is marketing, sales or profiling.
pub fn is_profiling_or_marketing(data_use: &str) -> bool {
    PROFILING_OR_MARKETING_USES
        .iter()
        .any(|u| is_under(data_use, u))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_files_load_with_extension() {
        let t = Taxonomy::get();
        assert!(t.categories.entries().len() > 80);
        assert!(t.uses.entries().len() > 50);
        assert!(t.categories.get("user.location.precise").is_some());
        assert_eq!(
            t.categories.get("user.sensor.audio").map(|e| e.origin),
            Some(Origin::Privet)
        );
        assert!(t.uses.get("analytics.reporting").is_some());
        for s in ["household_member", "guest", "child", "visitor", "passerby"] {
            assert!(t.subjects.get(s).is_some(), "{s}");
        }
    }

    #[test]
    fn every_extension_entry_has_a_known_parent() {
        let t = Taxonomy::get();
        for kind in [Kind::Category, Kind::Use] {
            let list = t.list(kind);
            for e in list.entries().iter().filter(|e| e.origin == Origin::Privet) {
                let parent = e.parent.as_deref().unwrap_or("");
                assert!(
                    list.get(parent).is_some(),
                    "{} has unknown parent {parent}",
                    e.key
                );
            }
        }
    }

    #[test]
    fn suggestions_find_near_misses() {
        let t = Taxonomy::get();
        assert_eq!(
            t.categories.suggest("user.location.precis"),
            Some("user.location.precise")
        );
        assert_eq!(
            t.uses.suggest("analytics.reportng"),
            Some("analytics.reporting")
        );
        assert_eq!(t.categories.suggest("zzzzzzzzzzzz"), None);
    }

    #[test]
    fn special_categories_are_recognised() {
        assert!(is_special_category("user.health_and_medical.fitness"));
        assert!(is_special_category("user.biometric.voice"));
        assert!(!is_special_category("user.behavior"));
        assert!(!is_special_category("user.healthy"));
    }
}
