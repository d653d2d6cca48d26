//! Profiling and marketing are never necessary to perform a contract (PV063).

use super::data_use;
use crate::finding::Finding;
use crate::model::Manifest;
use crate::rules;
use crate::taxonomy::is_profiling_or_marketing;
use crate::vocab::LawfulBasis;

pub(super) fn check(m: &Manifest, out: &mut Vec<Finding>) {
    for p in &m.purposes {
        if p.basis.value != LawfulBasis::Contract {
            continue;
        }
        let Some(u) = data_use(p).filter(|u| is_profiling_or_marketing(u)) else {
            continue;
        };
        out.push(
            Finding::new(
                &rules::PROFILING_UNDER_CONTRACT,
                p.basis.span,
                format!(
                    "purpose `{}` profiles people or markets to them (`{u}`) under `contract`",
                    p.id.as_str()
                ),
            )
            .label("not necessary for the contract")
            .help("set `basis = \"consent\"` so it stays off until the person switches it on; the device works without it, so the contract cannot require it"),
        );
    }
}
