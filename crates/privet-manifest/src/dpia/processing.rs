//! Sections 2 and 4 of the draft DPIA: the processing as the manifest declares it, and what
//! the manifest shows about necessity and proportionality.

use super::draft::Detail;
use super::md::{Code, DPO, Text, uk_date};
use super::risks::Measure;
use crate::model::{Field, Manifest, OfflineSupport, RetentionSpec};
use crate::retention::Retention;
use crate::taxonomy::{Taxonomy, is_personal_category};
use crate::vocab::{LawfulBasis, Role, SubjectKind};
use std::fmt::{self, Formatter};

fn whose(kind: SubjectKind) -> &'static str {
    match kind {
        SubjectKind::Member => "one household member's data, held under their own key",
        SubjectKind::Household => "data about the household as a whole",
        SubjectKind::None => "not personal data",
    }
}

fn kept_for(field: &Field) -> String {
    match (
        field.effective_retention(),
        field.retention.as_ref().map(|r| &r.value),
    ) {
        (Some(r), _) => r.plain(),
        (None, Some(RetentionSpec::Unbounded(_))) => "no time limit".to_owned(),
        (None, _) => "not stated".to_owned(),
    }
}

fn category_name(key: &str) -> String {
    Taxonomy::get()
        .categories
        .get(key)
        .map(|e| e.name.clone())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| key.to_owned())
}

/// Section 2: the nature, scope, context and purposes of the processing.
pub(super) fn describe(f: &mut Formatter<'_>, m: &Manifest) -> fmt::Result {
    let p = &m.product;
    writeln!(f, "## 2. The processing\n")?;
    writeln!(f, "### Nature: what is collected, and how\n")?;
    writeln!(
        f,
        "{} collects the data below from {} devices through Privet. Fields the manifest does not \
         declare are dropped before storage.\n",
        Text(&p.maker),
        Text(&p.name)
    )?;
    for s in &m.streams {
        writeln!(
            f,
            "#### Stream {}: {}\n",
            Code(s.id.as_str()),
            whose(s.subject.value)
        )?;
        if let Some(d) = &s.description {
            writeln!(f, "{}\n", Text(&d.value))?;
        }
        if !s.data_subjects.is_empty() {
            let who: Vec<String> = s
                .data_subjects
                .iter()
                .map(|w| Code(&w.value).to_string())
                .collect();
            writeln!(
                f,
                "It may also capture people who are not the user: {}.\n",
                who.join(", ")
            )?;
        }
        if s.fields.is_empty() {
            continue;
        }
        writeln!(
            f,
            "| field | data category | where it comes from | purposes | kept for | minimised at ingest |\n|---|---|---|---|---|---|"
        )?;
        for fd in &s.fields {
            let purposes: Vec<String> = fd
                .purposes
                .iter()
                .map(|p| Code(p.as_str()).to_string())
                .collect();
            let transforms = fd.transform.describe();
            writeln!(
                f,
                "| {} | {} ({}) | {} | {} | {} | {} |",
                Code(fd.name.as_str()),
                Text(&category_name(&fd.category.value)),
                Code(&fd.category.value),
                fd.origin().plain(),
                purposes.join(", "),
                kept_for(fd),
                if transforms.is_empty() {
                    "no: kept as received".to_owned()
                } else {
                    Text(&transforms.join("; ")).to_string()
                }
            )?;
        }
        writeln!(f)?;
    }
    purposes(f, m)?;
    recipients(f, m)?;
    scope_and_context(f, m)
}

fn purposes(f: &mut Formatter<'_>, m: &Manifest) -> fmt::Result {
    writeln!(f, "### Purposes and lawful bases\n")?;
    writeln!(
        f,
        "| purpose | what it is for | data use | Art. 6 basis | Art. 9 condition | off until the person agrees |\n|---|---|---|---|---|---|"
    )?;
    for p in &m.purposes {
        writeln!(
            f,
            "| {} | {} | {} | {} ({}) | {} | {} |",
            Code(p.id.as_str()),
            Text(&p.description.value),
            Code(&p.data_use.value),
            p.basis.value,
            p.basis.value.article(),
            p.special_category_condition
                .as_ref()
                .map_or_else(|| "none".to_owned(), |c| c.value.to_string()),
            if p.needs_consent() { "yes" } else { "no" }
        )?;
    }
    writeln!(f)?;
    writeln!(
        f,
        "{DPO} the benefits of each purpose, for the people concerned and for the organisation.\n"
    )
}

fn recipients(f: &mut Formatter<'_>, m: &Manifest) -> fmt::Result {
    writeln!(f, "### Recipients and international transfers\n")?;
    if m.recipients.is_empty() {
        return writeln!(
            f,
            "The manifest declares no recipients: the data stays with {}.\n",
            Text(&m.product.maker)
        );
    }
    writeln!(
        f,
        "| recipient | acts as | country | transfer safeguard | receives data for |\n|---|---|---|---|---|"
    )?;
    for r in &m.recipients {
        let country = r
            .country
            .as_ref()
            .map(|c| c.value.trim().to_ascii_uppercase());
        let uk = country.as_deref().is_some_and(|c| matches!(c, "GB" | "UK"));
        let safeguard = match (&r.safeguard, uk) {
            (Some(s), _) => Code(&s.value).to_string(),
            (None, true) => "not needed (in the UK)".to_owned(),
            (None, false) => "none declared".to_owned(),
        };
        let mut for_purposes: Vec<String> =
            r.purposes.iter().map(|p| p.as_str().to_owned()).collect();
        for p in &m.purposes {
            if p.recipients.iter().any(|x| x.as_str() == r.id.as_str())
                && !for_purposes.iter().any(|x| x == p.id.as_str())
            {
                for_purposes.push(p.id.as_str().to_owned());
            }
        }
        let for_purposes: Vec<String> = for_purposes.iter().map(|p| Code(p).to_string()).collect();
        writeln!(
            f,
            "| {} | {} | {} | {} | {} |",
            Text(&r.name.value),
            r.role.as_ref().map_or("not stated", |x| x.value.as_str()),
            country
                .as_deref()
                .map_or("not stated".to_owned(), |c| Text(c).to_string()),
            safeguard,
            for_purposes.join(", ")
        )?;
    }
    writeln!(f)
}

fn scope_and_context(f: &mut Formatter<'_>, m: &Manifest) -> fmt::Result {
    let p = &m.product;
    writeln!(f, "### Scope\n")?;
    let personal: Vec<&Field> = m
        .fields()
        .filter(|(_, fd)| is_personal_category(&fd.category.value))
        .map(|(_, fd)| fd)
        .collect();
    let kept: Vec<Retention> = personal
        .iter()
        .filter_map(|fd| fd.effective_retention())
        .collect();
    writeln!(
        f,
        "- {} personal fields in {} streams.",
        personal.len(),
        m.streams
            .iter()
            .filter(|s| s.subject.value != SubjectKind::None)
            .count()
    )?;
    if let (Some(min), Some(max)) = (kept.iter().min(), kept.iter().max()) {
        writeln!(
            f,
            "- Kept from {} to {}, then deleted.",
            min.plain(),
            max.plain()
        )?;
    }
    writeln!(f)?;
    writeln!(
        f,
        "{DPO} how many people, how much data, how often, over what area (the scale).\n"
    )?;
    writeln!(f, "### Context\n")?;
    writeln!(f, "- Who it is for: {}.", p.audience())?;
    if let Some(w) = &p.works_offline {
        let text = match &w.value {
            OfflineSupport::Full => "everything works without the internet".to_owned(),
            OfflineSupport::None => "nothing works without the maker's cloud".to_owned(),
            OfflineSupport::Partial(what) => what.clone(),
        };
        writeln!(f, "- Without the internet: {}", Text(&text))?;
    }
    if let Some(d) = &p.security_updates_until {
        writeln!(f, "- Security updates until {}.", uk_date(d.value))?;
    }
    writeln!(f)?;
    writeln!(
        f,
        "{DPO} the relationship with the people concerned and what they would expect; any \
         prior concerns; the state of the technology; any approved code of conduct.\n"
    )
}

/// Section 4: necessity and proportionality, from what the manifest shows.
pub(super) fn necessity(f: &mut Formatter<'_>, m: &Manifest) -> fmt::Result {
    writeln!(f, "## 4. Necessity and proportionality\n")?;
    let li: Vec<String> = m
        .purposes
        .iter()
        .filter(|p| p.basis.value == LawfulBasis::LegitimateInterests)
        .map(|p| Code(p.id.as_str()).to_string())
        .collect();
    let consent: Vec<String> = m
        .purposes
        .iter()
        .filter(|p| p.needs_consent())
        .map(|p| Code(p.id.as_str()).to_string())
        .collect();
    writeln!(
        f,
        "- **Lawful basis**: each purpose declares one (section 2)."
    )?;
    if !consent.is_empty() {
        writeln!(
            f,
            "  Consent: {}; these start switched off and can be withdrawn at any time.",
            consent.join(", ")
        )?;
    }
    if !li.is_empty() {
        writeln!(
            f,
            "  Legitimate interests: {}; people can object to these.",
            li.join(", ")
        )?;
    }
    let personal: Vec<(String, &Field)> = m
        .fields()
        .filter(|(_, fd)| is_personal_category(&fd.category.value))
        .map(|(s, fd)| (format!("{}.{}", s.id.as_str(), fd.name.as_str()), fd))
        .collect();
    let raw: Vec<String> = personal
        .iter()
        .filter(|(_, fd)| fd.transform.is_empty())
        .map(|(n, _)| Code(n).to_string())
        .collect();
    writeln!(
        f,
        "- **Data minimisation**: {} of {} personal fields are minimised or shortened at ingest.{}",
        personal.len() - raw.len(),
        personal.len(),
        if raw.is_empty() {
            String::new()
        } else {
            format!(" Kept as received: {}.", raw.join(", "))
        }
    )?;
    writeln!(
        f,
        "- **Storage limitation**: every field has its own retention, enforced by dropping whole time chunks."
    )?;
    writeln!(
        f,
        "- **Transparency**: the privacy notice is generated from this manifest (`privet manifest notice`)."
    )?;
    writeln!(
        f,
        "- **Rights**: Privet gives people access and a download of everything held, erasure with a signed receipt, correction, restriction, objection{}, and a record of who accessed their data.",
        if consent.is_empty() {
            ""
        } else {
            ", withdrawal of consent"
        }
    )?;
    let processors: Vec<String> = m
        .recipients
        .iter()
        .filter(|r| r.role.as_ref().is_some_and(|x| x.value == Role::Processor))
        .map(|r| Text(&r.name.value).to_string())
        .collect();
    if !processors.is_empty() {
        writeln!(f, "- **Processors**: {}.", processors.join(", "))?;
        writeln!(
            f,
            "\n  {DPO} where each processor's contract (UK GDPR Art. 28) is kept."
        )?;
    }
    writeln!(f)?;
    if !li.is_empty() {
        writeln!(
            f,
            "{DPO} the legitimate interests assessment for {}: the interest, why the processing is necessary for it, and the balance against people's interests.\n",
            li.join(", ")
        )?;
    }
    writeln!(
        f,
        "{DPO} is every field necessary for its purposes? Could they be met with less data, \
         or kept for less time? How will you stop the data being used for anything else?\n"
    )
}

/// What a Privet measure amounts to in this product, when the manifest says more.
pub(super) fn measure_in_this_product(m: &Manifest, measure: Measure) -> Option<String> {
    match measure {
        Measure::Minimisation => {
            let minimised: Vec<String> = m
                .fields()
                .filter(|(_, fd)| !fd.transform.is_empty())
                .map(|(s, fd)| {
                    format!(
                        "`{}.{}` ({})",
                        s.id.as_str(),
                        fd.name.as_str(),
                        fd.transform.describe().join("; ")
                    )
                })
                .collect();
            Some(if minimised.is_empty() {
                "no field declares a transform.".to_owned()
            } else {
                format!("{}.", Detail(&minimised.join(", ")))
            })
        }
        Measure::ConsentGating => {
            let gated: Vec<String> = m
                .optional_purposes()
                .map(|p| format!("`{}`", p.id.as_str()))
                .collect();
            Some(if gated.is_empty() {
                "no purpose needs consent, so nothing is gated.".to_owned()
            } else {
                format!("{} start switched off.", Detail(&gated.join(", ")))
            })
        }
        Measure::RetentionByChunks => {
            let kept: Vec<Retention> = m
                .fields()
                .filter_map(|(_, fd)| fd.effective_retention())
                .collect();
            match (kept.iter().min(), kept.iter().max()) {
                (Some(a), Some(b)) => Some(format!(
                    "retentions run from {} to {}.",
                    a.plain(),
                    b.plain()
                )),
                _ => None,
            }
        }
        Measure::PurposeBoundReads => Some(format!("{} purposes are declared.", m.purposes.len())),
        _ => None,
    }
}
