//! PECR: reading data from a device for analytics or marketing needs consent (or, for
//! analytics, the statistical exception) (PV023, PV024).

use super::data_use;
use crate::finding::Finding;
use crate::model::Manifest;
use crate::rules;
use crate::taxonomy::{is_profiling_or_marketing, is_under};
use crate::vocab::{LawfulBasis, Pecr};

/// Uses that are marketing or that hand data to others for their own ends.
const MARKETING_LIKE: &[&str] = &["marketing", "sales", "third_party_sharing"];

/// Sharing the law requires is not marketing and needs no consent.
const MARKETING_EXCEPTIONS: &[&str] = &["third_party_sharing.legal_obligation"];

pub(super) fn check(m: &Manifest, out: &mut Vec<Finding>) {
    for p in &m.purposes {
        let Some(u) = data_use(p) else {
            continue;
        };
        let pecr = p.effective_pecr();
        if is_under(u, "analytics") && !matches!(pecr, Pecr::Consent | Pecr::Statistical) {
            // Point at the declared ground if there is one, else at the use that needs one.
            let (span, label) = match &p.pecr {
                Some(declared) => (declared.span, "not consent or statistical"),
                None => (p.data_use.span, "analytics needs a PECR ground"),
            };
            out.push(
                Finding::new(
                    &rules::ANALYTICS_WITHOUT_PECR_GROUND,
                    span,
                    format!(
                        "purpose `{}` reads device data for `{u}` under the PECR ground `{pecr}`",
                        p.id.as_str()
                    ),
                )
                .label(label)
                .help("set `pecr = \"statistical\"` (people can opt out) or `basis = \"consent\"`"),
            );
        }
        let marketing = MARKETING_LIKE.iter().any(|a| is_under(u, a))
            && !MARKETING_EXCEPTIONS.iter().any(|a| is_under(u, a));
        // Marketing under `contract` is PV063's finding, at the same place: report it once.
        let under_contract = p.basis.value == LawfulBasis::Contract && is_profiling_or_marketing(u);
        if marketing && !p.needs_consent() && !under_contract {
            out.push(
                Finding::new(
                    &rules::MARKETING_WITHOUT_CONSENT,
                    p.basis.span,
                    format!(
                        "purpose `{}` uses data for `{u}` without asking for consent",
                        p.id.as_str()
                    ),
                )
                .label(format!("`{}` is not consent", p.basis.value))
                .help("set `basis = \"consent\"` so it stays off until the person switches it on"),
            );
        }
    }
}
