//! Privet's privacy manifest: one TOML file per product declaring every field its devices
//! send, with data category, purposes, lawful basis and retention.
//!
//! This crate is pure (no I/O). It parses a manifest keeping the span of every key
//! ([`parse()`]), lints it against the guidance ([`lint::lint`], rules in [`rules`]), and derives
//! what people read from it: the privacy notice, the privacy and security label, the
//! fideslang export, and the controller's records of processing ([`ropa`]). [`check`] runs
//! parse and lint together. [`diff()`] lists what changed between two versions of a product's
//! manifest, each change material or minor.
//!
//! ```
//! use privet_manifest::{check, LintContext, Severity};
//!
//! let source = r#"
//! [product]
//! id = "acme-thermostat-2"
//! name = "Acme Smart Thermostat 2"
//! maker = "Acme Ltd"
//! privacy_contact = "privacy@acme.example"
//! vulnerability_disclosure = "https://acme.example/security"
//! security_updates_until = "2031-12-31"
//!
//! [purposes.heating_control]
//! description = "Run your heating to the schedule you set."
//! use = "essential.service"
//! basis = "contract"
//!
//! [streams.climate]
//! subject = "household"
//!
//! [streams.climate.fields.temperature_c]
//! type = "number"
//! category = "user.sensor"
//! purposes = ["heating_control"]
//! retention = "400d"
//! "#;
//! let today = "2026-11-28".parse().unwrap();
//! let checked = check(source, &LintContext { today }).unwrap();
//! assert!(!checked.has_errors());
//! let manifest = checked.manifest.unwrap();
//! assert_eq!(manifest.product.id.as_str(), "acme-thermostat-2");
//! assert!(checked.findings.iter().all(|f| f.severity() == Severity::Warning));
//! ```

pub mod diff;
pub mod dpia;
pub mod fideslang;
pub mod field_type;
pub mod finding;
pub mod ids;
pub mod label;
pub mod lint;
pub mod model;
pub mod notice;
pub mod parse;
pub mod psti;
pub mod retention;
pub mod retention_bounds;
pub mod ropa;
pub mod rules;
pub mod safeguard;
pub mod span;
pub mod taxonomy;
pub mod transform;
pub mod vocab;

pub use diff::{Change, ChangeKind, Materiality, diff, has_material};
pub use field_type::FieldType;
pub use finding::{Finding, FindingRecord, Severity};
pub use ids::{FieldName, ProductId, PurposeId, RecipientId, StreamId};
pub use lint::LintContext;
pub use model::{
    Field, Manifest, OfflineSupport, Product, Purpose, Recipient, RetentionSpec, Stream,
};
pub use parse::{Parsed, SyntaxError, parse};
pub use retention::{Retention, RetentionUnit};
pub use span::{LineCol, LineIndex, Span, Spanned};
pub use transform::{TimeUnit, Transform};
pub use vocab::{Audience, LawfulBasis, Origin, Pecr, Role, SpecialCondition, SubjectKind};

/// A manifest after parsing and linting.
#[derive(Clone, Debug)]
pub struct Checked {
    /// The manifest as parsed (with placeholders where values were missing).
    pub manifest: Option<Manifest>,
    /// Every finding, parser's and linter's, in source order.
    pub findings: Vec<Finding>,
}

impl Checked {
    /// Whether any finding is an error.
    pub fn has_errors(&self) -> bool {
        self.findings
            .iter()
            .any(|f| f.severity() == Severity::Error)
    }

    /// How many findings have `severity`.
    pub fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity() == severity)
            .count()
    }

    /// The manifest, if it has no errors.
    pub fn usable(self) -> Result<Manifest, Error> {
        let errors = self.count(Severity::Error);
        match self.manifest {
            Some(m) if errors == 0 => Ok(m),
            _ => Err(Error::Invalid { errors }),
        }
    }
}

/// Why a manifest cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The text is not valid TOML.
    #[error(transparent)]
    Syntax(#[from] SyntaxError),
    /// The manifest has errors; `privet manifest check` shows them.
    #[error("the manifest has {errors} error(s); run `privet manifest check` to see them")]
    Invalid {
        /// How many errors.
        errors: usize,
    },
}

/// Parses and lints manifest text. Fails only when the text is not valid TOML.
pub fn check(source: &str, cx: &LintContext) -> Result<Checked, SyntaxError> {
    let parsed = parse(source)?;
    let mut findings = parsed.findings;
    findings.extend(lint::lint(&parsed.manifest, cx));
    findings.sort_by_key(|f| (f.span.start, f.rule.code));
    Ok(Checked {
        manifest: Some(parsed.manifest),
        findings,
    })
}

/// Parses and lints manifest text and returns the manifest only if it has no errors.
pub fn load(source: &str, cx: &LintContext) -> Result<Manifest, Error> {
    check(source, cx)?.usable()
}
