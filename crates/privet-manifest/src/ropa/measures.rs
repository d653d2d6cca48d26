//! The technical and organisational measures Privet applies to one purpose's data, the rights
//! its lawful basis gives, and whether it profiles. Each measure is listed only where it holds:
//! what Privet does to every record is listed for every row, what depends on the manifest
//! (encryption per person, minimisation, consent) only where the manifest says so.

use crate::model::{Field, Manifest, Purpose, Stream};
use crate::taxonomy::is_under;
use crate::vocab::{LawfulBasis, SubjectKind};

/// The measures for `p`, whose fields are `fields`.
pub(super) fn security(m: &Manifest, p: &Purpose, fields: &[(&Stream, &Field)]) -> Vec<String> {
    let mut out = Vec::new();
    let personal = fields
        .iter()
        .any(|(s, _)| s.subject.value != SubjectKind::None);
    let not_personal = fields
        .iter()
        .any(|(s, _)| s.subject.value == SubjectKind::None);
    if personal {
        out.push(
            "Per-person encryption: each person's (or household's) records are sealed with a key of their own (AES-256-GCM), kept wrapped by the instance's master key in a separate keyring".to_owned(),
        );
        out.push(
            "Erasure by crypto-shredding: the person's key is destroyed first, so their data is unreadable at once, in backups too, and then removed".to_owned(),
        );
        out.push(
            "Pseudonymous storage: records and the audit log refer to people by a keyed pseudonym (HMAC), never by name or e-mail".to_owned(),
        );
    }
    if not_personal {
        out.push(
            "Device data that is not about a person is encrypted (AES-256-GCM) under the product's own key".to_owned(),
        );
    }
    let minimised: Vec<String> = fields
        .iter()
        .filter(|(_, f)| f.transform.minimises())
        .map(|(_, f)| {
            let what: Vec<String> = f
                .transform
                .describe()
                .into_iter()
                .filter(|d| !d.starts_with("deleted after"))
                .collect();
            format!("{}: {}", f.name.value, what.join(", "))
        })
        .collect();
    if !minimised.is_empty() {
        out.push(format!(
            "Minimised at ingest, before storage: {}",
            minimised.join("; ")
        ));
    }
    if p.needs_consent() {
        out.push(
            "Consent gating: off until the person switches it on; collected only while they consent, and withdrawing stops collection at once and deletes what was held only for it".to_owned(),
        );
    }
    out.push(if m.product.strict {
        "Only declared fields are stored: a batch holding an undeclared field is rejected"
            .to_owned()
    } else {
        "Only declared fields are stored: undeclared fields are dropped at ingest".to_owned()
    });
    out.push(format!(
        "Purpose-bound reads: read only for {} by API keys that hold this purpose, each read written to the audit log",
        p.id.value
    ));
    out.extend(
        [
            "Tamper-evident audit log: an append-only hash chain with signed heads",
            "Retention enforced in storage: records are kept in time chunks, and expired chunks are dropped whole",
            "Per-device credentials: every device has its own token; there is no shared default password",
            "Operator staff sign in with a strong password and two-step verification (TOTP)",
        ]
        .map(str::to_owned),
    );
    out
}

/// The rights a lawful basis gives (the ICO's table of rights by basis), with their articles.
pub(super) fn rights(basis: LawfulBasis) -> Vec<String> {
    use LawfulBasis::*;
    let mut out = vec![
        "Be informed (Art. 13 and 14)",
        "Access (Art. 15)",
        "Rectification (Art. 16)",
    ];
    if !matches!(basis, LegalObligation | PublicTask) {
        out.push("Erasure (Art. 17)");
    }
    out.push("Restriction (Art. 18)");
    if matches!(basis, Consent | Contract) {
        out.push("Data portability (Art. 20)");
    }
    if matches!(basis, LegitimateInterests | PublicTask) {
        out.push("Object (Art. 21)");
    }
    if basis == Consent {
        out.push("Withdraw consent at any time (Art. 7(3))");
    }
    out.into_iter().map(str::to_owned).collect()
}

/// Data uses that profile people.
const PROFILING: &[&str] = &[
    "personalize.content.profiling",
    "personalize.content.profiled",
    "marketing.advertising.profiling",
];

/// Profiling when the purpose's data use says so; the manifest has no key for automated
/// decisions, so it never claims one either way beyond what the data use shows.
pub(super) fn automated_decisions(p: &Purpose) -> Vec<String> {
    let data_use = p.data_use.value.as_str();
    if PROFILING.iter().any(|u| is_under(data_use, u)) {
        vec![format!(
            "Profiling: yes (data use {data_use}); the manifest does not say whether decisions with legal or similarly significant effects follow"
        )]
    } else {
        vec![format!(
            "None declared: the data use ({data_use}) is not profiling, and the manifest declares no automated decisions"
        )]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rights_follow_the_basis() {
        let has = |b, right: &str| rights(b).iter().any(|r| r.starts_with(right));
        assert!(has(LawfulBasis::Consent, "Data portability"));
        assert!(has(LawfulBasis::Consent, "Withdraw consent"));
        assert!(!has(LawfulBasis::Consent, "Object"));
        assert!(has(LawfulBasis::Contract, "Data portability"));
        assert!(!has(LawfulBasis::Contract, "Withdraw consent"));
        assert!(has(LawfulBasis::LegitimateInterests, "Object"));
        assert!(!has(LawfulBasis::LegitimateInterests, "Data portability"));
        assert!(has(LawfulBasis::PublicTask, "Object"));
        assert!(!has(LawfulBasis::PublicTask, "Erasure"));
        assert!(!has(LawfulBasis::LegalObligation, "Erasure"));
        for b in LawfulBasis::ALL {
            assert!(has(*b, "Access"), "{b}");
        }
    }
}
