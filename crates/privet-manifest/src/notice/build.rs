//! Builds a [`Notice`] from a manifest.

use super::children;
use super::model::{
    Basis, FieldFacts, KindSummary, Notice, ProductFacts, PurposeFacts, RecipientFacts, StreamFacts,
};
use super::plain::{self, Keep};
use super::rights;
use crate::model::{Field, Manifest, Purpose, Recipient, Stream};
use crate::safeguard;
use crate::taxonomy::{ATTRIBUTION, is_special_category};
use crate::vocab::Role;

impl Notice {
    /// Derives the notice from a manifest.
    pub fn from_manifest(m: &Manifest) -> Notice {
        let product = product(m);
        let purposes: Vec<PurposeFacts> = m.purposes.iter().map(|p| purpose(m, p)).collect();
        let optional = purposes.iter().filter(|p| p.optional).cloned().collect();
        let collected = collected(m);
        let longest = m.fields().map(|(_, f)| Keep::of(f)).max();
        let children = product
            .audience
            .includes_children()
            .then(|| children::summary(m, &product, &collected, &purposes));
        Notice {
            rights: rights::rights(m, &product),
            recipients: m.recipients.iter().map(|r| recipient(m, r)).collect(),
            streams: m.streams.iter().map(|s| stream(m, s)).collect(),
            works_offline: m.product.works_offline.as_ref().map_or_else(
                || "We have not said whether it works without the internet.".to_owned(),
                |w| w.value.plain(),
            ),
            security_updates: match product.security_updates_until {
                Some(d) => format!(
                    "We promise security updates until at least {}.",
                    plain::date(d)
                ),
                None => "We have not said how long we will provide security updates.".to_owned(),
            },
            longest_retention: longest.map(Keep::plain),
            attribution: ATTRIBUTION.to_owned(),
            product,
            collected,
            purposes,
            optional,
            children,
        }
    }
}

fn product(m: &Manifest) -> ProductFacts {
    let p = &m.product;
    let maker = p.maker.value.clone();
    let role = p.role();
    let role_plain = match role {
        Role::Controller => format!(
            "{maker} decides why and how your data is used. In law, this makes {maker} the controller of your data."
        ),
        Role::Processor => format!(
            "{maker} handles your data for another organisation, which decides how it is used. In law, {maker} is a processor. Ask us and we will tell you who that organisation is."
        ),
    };
    ProductFacts {
        id: p.id.value.to_string(),
        name: p.name.value.clone(),
        maker,
        version: p.version().to_owned(),
        contact: p.privacy_contact.as_ref().map(|c| c.value.clone()),
        role,
        role_plain,
        vulnerability_disclosure: p.vulnerability_disclosure.as_ref().map(|v| v.value.clone()),
        security_updates_until: p.security_updates_until.as_ref().map(|d| d.value),
        audience: p.audience(),
    }
}

fn recipient_line(r: &Recipient) -> String {
    match &r.country {
        Some(c) => format!("{} ({})", r.name.value, plain::country(&c.value)),
        None => format!("{} (country not stated)", r.name.value),
    }
}

fn purpose(m: &Manifest, p: &Purpose) -> PurposeFacts {
    let basis = p.basis.value;
    PurposeFacts {
        id: p.id.value.to_string(),
        description: p.description.value.clone(),
        data_use: p.data_use.value.clone(),
        optional: p.needs_consent(),
        basis: Basis {
            plain: basis.plain().to_owned(),
            article: basis.article().to_owned(),
        },
        condition: p.special_category_condition.as_ref().map(|c| {
            let (plain, article) = plain::condition(c.value);
            Basis {
                plain: plain.to_owned(),
                article: article.to_owned(),
            }
        }),
        objectable: p.is_objectable(),
        recipients: m.recipients_of(p).into_iter().map(recipient_line).collect(),
    }
}

fn recipient(m: &Manifest, r: &Recipient) -> RecipientFacts {
    let country = r.country.as_ref().map(|c| c.value.clone());
    let outside_uk = !country.as_deref().is_some_and(plain::is_uk);
    let purposes = m
        .purposes
        .iter()
        .filter(|p| {
            m.recipients_of(p)
                .iter()
                .any(|x| x.id.as_str() == r.id.as_str())
        })
        .map(|p| p.description.value.clone())
        .collect();
    RecipientFacts {
        id: r.id.value.to_string(),
        name: r.name.value.clone(),
        role: r.role.as_ref().map(|x| x.value),
        role_plain: plain::recipient_role(r.role.as_ref().map(|x| x.value)).to_owned(),
        country_name: country
            .as_deref()
            .map_or_else(|| "not stated".to_owned(), plain::country),
        outside_uk,
        country,
        safeguard: r.safeguard.as_ref().map(|s| s.value.clone()),
        safeguard_plain: r
            .safeguard
            .as_ref()
            .filter(|s| outside_uk && !s.value.trim().is_empty())
            .map(|s| safeguard::in_words(&s.value)),
        purposes,
    }
}

fn collected(m: &Manifest) -> Vec<KindSummary> {
    let mut kinds: Vec<(String, Keep, bool)> = Vec::new();
    for (_, f) in m.fields() {
        let keep = Keep::of(f);
        let optional = m.is_consent_only(f);
        match kinds.iter_mut().find(|(c, _, _)| *c == f.category.value) {
            Some((_, longest, all_optional)) => {
                *longest = (*longest).max(keep);
                *all_optional &= optional;
            }
            None => kinds.push((f.category.value.clone(), keep, optional)),
        }
    }
    kinds
        .into_iter()
        .map(|(category, longest, optional)| {
            let (name, description) = plain::category(&category);
            KindSummary {
                category,
                name,
                description,
                longest: longest.plain(),
                optional,
            }
        })
        .collect()
}

fn stream(m: &Manifest, s: &Stream) -> StreamFacts {
    let data_subjects: Vec<&str> = s.data_subjects.iter().map(|d| d.value.as_str()).collect();
    StreamFacts {
        id: s.id.value.to_string(),
        description: s.description.as_ref().map(|d| d.value.clone()),
        whose: plain::whose(s.subject.value, m.product.audience()).to_owned(),
        also_captures: data_subjects
            .iter()
            .map(|d| plain::data_subject(d))
            .collect(),
        captures: plain::captures(&data_subjects, m.product.audience()),
        fields: s.fields.iter().map(|f| field(m, f)).collect(),
    }
}

fn field(m: &Manifest, f: &Field) -> FieldFacts {
    let (category_name, _) = plain::category(&f.category.value);
    let special = is_special_category(&f.category.value);
    let keep = Keep::of(f);
    let retention_note = match (f.retention(), &f.transform.drop_after) {
        (Some(r), Some(d)) if d.value < r => Some(format!(
            "sooner than the {} we keep the rest of this record",
            r.plain()
        )),
        _ => None,
    };
    FieldFacts {
        name: f.name.value.to_string(),
        description: f.description.as_ref().map(|d| d.value.clone()),
        category: f.category.value.clone(),
        category_name,
        origin: f.origin().plain().to_owned(),
        retention: keep.plain(),
        transforms: if retention_note.is_some() {
            // The early deletion is already told with the retention; do not say it twice.
            let mut t = f.transform.clone();
            t.drop_after = None;
            t.describe()
        } else {
            f.transform.describe()
        },
        retention_note,
        retention_reason: f
            .retention_reason
            .as_ref()
            .map(|r| r.value.trim().to_owned())
            .filter(|r| !r.is_empty()),
        optional: m.is_consent_only(f),
        purposes: m
            .field_purposes(f)
            .map(|p| {
                let mut facts = purpose(m, p);
                // The Art. 9 condition covers the special category data the purpose uses;
                // on an ordinary field of the same purpose it would wrongly call it sensitive.
                if !special {
                    facts.condition = None;
                }
                facts
            })
            .collect(),
    }
}
