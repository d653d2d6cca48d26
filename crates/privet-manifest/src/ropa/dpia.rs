//! Whether a product needs a DPIA, for the record's "DPIA required?" column: a short screening
//! of what the manifest itself says against the ICO's list of processing likely to be high
//! risk (special category and biometric data, children, people who are not users, tracking of
//! location or behaviour).

use crate::model::Manifest;
use crate::taxonomy::{is_special_category, is_under};
use crate::vocab::Audience;

/// Data subjects that are the product's own users, not other people it captures.
const USERS: &[&str] = &["household", "household_member"];

/// Whether a DPIA is required for `m`, and why, in one sentence.
// replaced by dpia::screen when merged: the full screening applies the ICO's whole list and
// the EDPB criteria, pointing at manifest lines. `Ropa::from_manifests` is the one call site.
pub(super) fn dpia_required(m: &Manifest) -> (bool, String) {
    let mut reasons: Vec<String> = Vec::new();
    let categories = |pred: &dyn Fn(&str) -> bool| -> Vec<String> {
        let mut keys: Vec<String> = Vec::new();
        for (_, f) in m.fields() {
            let key = &f.category.value;
            if pred(key) && !keys.contains(key) {
                keys.push(key.clone());
            }
        }
        keys
    };

    let biometric = categories(&|c| is_under(c, "user.biometric"));
    if !biometric.is_empty() {
        reasons.push(format!("biometric data ({})", biometric.join(", ")));
    }
    let special = categories(&|c| is_special_category(c) && !is_under(c, "user.biometric"));
    if !special.is_empty() {
        reasons.push(format!("special category data ({})", special.join(", ")));
    }
    match m.product.audience() {
        Audience::Children => {
            reasons.push("it is made for children (audience = children)".to_owned())
        }
        Audience::All => reasons.push("children are likely to use it (audience = all)".to_owned()),
        Audience::Adults => {}
    }
    let mut others: Vec<String> = Vec::new();
    for s in &m.streams {
        for d in &s.data_subjects {
            if d.as_str() == "child" && !m.product.audience().includes_children() {
                reasons.push(format!("the {} stream records children", s.id.value));
            }
            let user = USERS.contains(&d.as_str())
                || (d.as_str() == "child" && m.product.audience().includes_children());
            if !user && !others.contains(&d.value) {
                others.push(d.value.clone());
            }
        }
    }
    if !others.is_empty() {
        reasons.push(format!(
            "it captures people who are not its users ({})",
            others.join(", ")
        ));
    }
    let tracking = categories(&|c| is_under(c, "user.location") || is_under(c, "user.behavior"));
    if !tracking.is_empty() {
        reasons.push(format!(
            "it tracks location or behaviour ({})",
            tracking.join(", ")
        ));
    }

    if reasons.is_empty() {
        (
            false,
            "No high-risk indicator in the manifest: no special category or biometric data, not for children, no one captured but its users, no location or behaviour tracking".to_owned(),
        )
    } else {
        (
            true,
            format!(
                "Likely high risk (ICO list): {}",
                crate::lint::and_list(reasons)
            ),
        )
    }
}
