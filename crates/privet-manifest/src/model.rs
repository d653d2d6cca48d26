//! The manifest model: what a product collects, why, on which basis and for how long.

use crate::field_type::FieldType;
use crate::ids::{FieldName, ProductId, PurposeId, RecipientId, StreamId};
use crate::retention::Retention;
use crate::span::{Span, Spanned};
use crate::transform::Transform;
use crate::vocab::{Audience, LawfulBasis, Origin, Pecr, Role, SpecialCondition, SubjectKind};
use jiff::civil::Date;

/// One product's privacy manifest.
#[derive(Clone, Debug, PartialEq)]
pub struct Manifest {
    /// `[product]`.
    pub product: Product,
    /// `[purposes.X]`, in manifest order.
    pub purposes: Vec<Purpose>,
    /// `[recipients.X]`, in manifest order.
    pub recipients: Vec<Recipient>,
    /// `[streams.X]`, in manifest order.
    pub streams: Vec<Stream>,
}

/// `[product]`: who makes it and what they promise.
#[derive(Clone, Debug, PartialEq)]
pub struct Product {
    /// Where `[product]` is.
    pub span: Span,
    /// Stable id, e.g. `acme-thermostat-2`.
    pub id: Spanned<ProductId>,
    /// Name people know it by.
    pub name: Spanned<String>,
    /// The maker (the controller, usually).
    pub maker: Spanned<String>,
    /// The manifest's own version; consents record it.
    pub version: Option<Spanned<String>>,
    /// E-mail or URL for privacy questions and rights requests.
    pub privacy_contact: Option<Spanned<String>>,
    /// URL or e-mail where security researchers report vulnerabilities.
    pub vulnerability_disclosure: Option<Spanned<String>>,
    /// How many days the maker takes to first answer a report.
    pub disclosure_response_days: Option<Spanned<u32>>,
    /// The last day security updates are guaranteed.
    pub security_updates_until: Option<Spanned<Date>>,
    /// The maker's release key, `ed25519:<base64>`.
    pub update_public_key: Option<Spanned<String>>,
    /// Who the product is for.
    pub audience: Option<Spanned<Audience>>,
    /// Reference to the data protection impact assessment.
    pub dpia: Option<Spanned<String>>,
    /// Controller or processor.
    pub role: Option<Spanned<Role>>,
    /// What still works without the cloud; `None` when not stated.
    pub works_offline: Option<Spanned<OfflineSupport>>,
    /// Reject whole batches with undeclared fields instead of dropping the fields.
    pub strict: bool,
}

impl Product {
    /// The audience, defaulting to adults.
    pub fn audience(&self) -> Audience {
        self.audience.as_ref().map_or(Audience::Adults, |a| a.value)
    }

    /// The role, defaulting to controller.
    pub fn role(&self) -> Role {
        self.role.as_ref().map_or(Role::Controller, |r| r.value)
    }

    /// The manifest version, defaulting to `"1"`.
    pub fn version(&self) -> &str {
        self.version.as_ref().map_or("1", |v| v.value.as_str())
    }
}

/// What a product can still do without the maker's cloud.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OfflineSupport {
    /// Everything works offline (`works_offline = true`).
    Full,
    /// Nothing works offline (`works_offline = false`).
    None,
    /// Some things work offline, as described.
    Partial(String),
}

impl OfflineSupport {
    /// The answer in plain words, for labels and notices, ending with a full stop. What the
    /// maker wrote for partial support is given as written, because it already says what
    /// works and what does not: a prefix such as "Partly:" would contradict a sentence like
    /// "Nothing works without the internet."
    pub fn plain(&self) -> String {
        match self {
            OfflineSupport::Full => "Yes: everything works without the internet.".to_owned(),
            OfflineSupport::None => "No: it needs the maker's cloud to work.".to_owned(),
            OfflineSupport::Partial(what) => {
                let what = what.trim();
                if what.ends_with(['.', '!', '?']) {
                    what.to_owned()
                } else {
                    format!("{what}.")
                }
            }
        }
    }
}

/// `[purposes.X]`: one reason for processing.
#[derive(Clone, Debug, PartialEq)]
pub struct Purpose {
    /// The key.
    pub id: Spanned<PurposeId>,
    /// Plain-language description shown to people.
    pub description: Spanned<String>,
    /// The fideslang data use, e.g. `analytics.reporting`.
    pub data_use: Spanned<String>,
    /// The UK GDPR Art. 6 basis.
    pub basis: Spanned<LawfulBasis>,
    /// The Art. 9 condition, when special category data serves this purpose.
    pub special_category_condition: Option<Spanned<SpecialCondition>>,
    /// The PECR ground for reading or storing on the device, when declared.
    pub pecr: Option<Spanned<Pecr>>,
    /// Who else receives data for this purpose.
    pub recipients: Vec<Spanned<RecipientId>>,
}

impl Purpose {
    /// The PECR ground in force: as declared, else consent for consent-based purposes,
    /// else strictly necessary.
    pub fn effective_pecr(&self) -> Pecr {
        match (&self.pecr, self.basis.value) {
            (Some(p), _) => p.value,
            (None, LawfulBasis::Consent) => Pecr::Consent,
            (None, _) => Pecr::StrictlyNecessary,
        }
    }

    /// Whether collecting for this purpose needs the subject's consent (Art. 6 or PECR),
    /// so it is off until switched on.
    pub fn needs_consent(&self) -> bool {
        self.basis.value == LawfulBasis::Consent || self.effective_pecr() == Pecr::Consent
    }

    /// Whether people can object to it (legitimate interests or public task).
    pub fn is_objectable(&self) -> bool {
        matches!(
            self.basis.value,
            LawfulBasis::LegitimateInterests | LawfulBasis::PublicTask
        )
    }
}

/// `[recipients.X]`: someone else who receives data.
#[derive(Clone, Debug, PartialEq)]
pub struct Recipient {
    /// The key.
    pub id: Spanned<RecipientId>,
    /// Organisation name.
    pub name: Spanned<String>,
    /// Processor (acts for the maker) or controller (its own purposes).
    pub role: Option<Spanned<Role>>,
    /// ISO 3166 country code where it processes the data.
    pub country: Option<Spanned<String>>,
    /// Transfer safeguard for countries outside the UK (e.g. `uk_adequacy`, `idta`).
    pub safeguard: Option<Spanned<String>>,
    /// Purposes it receives data for.
    pub purposes: Vec<Spanned<PurposeId>>,
}

/// `[streams.X]`: one kind of event a device sends.
#[derive(Clone, Debug, PartialEq)]
pub struct Stream {
    /// The key.
    pub id: Spanned<StreamId>,
    /// Whose data it is.
    pub subject: Spanned<SubjectKind>,
    /// Plain-language description.
    pub description: Option<Spanned<String>>,
    /// Other people whose data the stream may capture (fideslang data subjects, e.g. `visitor`).
    pub data_subjects: Vec<Spanned<String>>,
    /// `[streams.X.fields.Y]`, in manifest order.
    pub fields: Vec<Field>,
}

impl Stream {
    /// The field called `name`.
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name.as_str() == name)
    }
}

/// `[streams.X.fields.Y]`: one value in an event.
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    /// The key.
    pub name: Spanned<FieldName>,
    /// Declared type.
    pub ty: Spanned<FieldType>,
    /// The fideslang data category, e.g. `user.sensor`.
    pub category: Spanned<String>,
    /// Where it comes from.
    pub origin: Option<Spanned<Origin>>,
    /// Why it is collected.
    pub purposes: Vec<Spanned<PurposeId>>,
    /// Where `purposes` is written (or the field's header when absent).
    pub purposes_span: Span,
    /// How long it is kept, as written.
    pub retention: Option<Spanned<RetentionSpec>>,
    /// How it is minimised at ingest.
    pub transform: Transform,
    /// Where `transform` is written, when it is.
    pub transform_span: Option<Span>,
    /// Plain-language description.
    pub description: Option<Spanned<String>>,
    /// Why the data is kept longer than its category's usual bound, in the maker's words;
    /// the notice shows it next to the retention.
    pub retention_reason: Option<Spanned<String>>,
}

impl Field {
    /// The origin, defaulting to `sensor`.
    pub fn origin(&self) -> Origin {
        self.origin.as_ref().map_or(Origin::Sensor, |o| o.value)
    }

    /// The bounded retention, if one was declared and parsed.
    pub fn retention(&self) -> Option<Retention> {
        match self.retention.as_ref().map(|r| &r.value) {
            Some(RetentionSpec::Bounded(r)) => Some(*r),
            _ => None,
        }
    }

    /// How long the value is actually kept: the retention, shortened by `drop_after`.
    pub fn effective_retention(&self) -> Option<Retention> {
        let r = self.retention()?;
        Some(match &self.transform.drop_after {
            Some(d) if d.value < r => d.value,
            _ => r,
        })
    }
}

/// A retention as written: parsed, or why it could not be.
#[derive(Clone, Debug, PartialEq)]
pub enum RetentionSpec {
    /// A bounded period.
    Bounded(Retention),
    /// `forever`, `indefinite` or longer than a century.
    Unbounded(String),
    /// Zero length.
    Zero(String),
    /// Not a period at all.
    Malformed(String),
}

impl Manifest {
    /// The purpose with this key.
    pub fn purpose(&self, id: &str) -> Option<&Purpose> {
        self.purposes.iter().find(|p| p.id.as_str() == id)
    }

    /// The recipient with this key.
    pub fn recipient(&self, id: &str) -> Option<&Recipient> {
        self.recipients.iter().find(|r| r.id.as_str() == id)
    }

    /// The recipients that receive data for `purpose`, whichever side declares it: the
    /// purpose's `recipients`, or the recipient's `purposes`. In manifest order.
    pub fn recipients_of<'a>(&'a self, purpose: &Purpose) -> Vec<&'a Recipient> {
        self.recipients
            .iter()
            .filter(|r| {
                purpose
                    .recipients
                    .iter()
                    .any(|id| id.as_str() == r.id.as_str())
                    || r.purposes
                        .iter()
                        .any(|id| id.as_str() == purpose.id.as_str())
            })
            .collect()
    }

    /// The stream with this key.
    pub fn stream(&self, id: &str) -> Option<&Stream> {
        self.streams.iter().find(|s| s.id.as_str() == id)
    }

    /// Every field with its stream, in manifest order.
    pub fn fields(&self) -> impl Iterator<Item = (&Stream, &Field)> {
        self.streams
            .iter()
            .flat_map(|s| s.fields.iter().map(move |f| (s, f)))
    }

    /// The purposes a field serves that are defined in this manifest.
    pub fn field_purposes<'a>(&'a self, field: &'a Field) -> impl Iterator<Item = &'a Purpose> {
        field
            .purposes
            .iter()
            .filter_map(|p| self.purpose(p.as_str()))
    }

    /// Whether every purpose of `field` needs consent, so the field is collected only with it.
    pub fn is_consent_only(&self, field: &Field) -> bool {
        let mut any = false;
        for p in self.field_purposes(field) {
            any = true;
            if !p.needs_consent() {
                return false;
            }
        }
        any
    }

    /// Purposes that need consent, in manifest order (they start switched off).
    pub fn optional_purposes(&self) -> impl Iterator<Item = &Purpose> {
        self.purposes.iter().filter(|p| p.needs_consent())
    }
}
