//! Whether a product needs a DPIA, for the record's "DPIA required?" column: the same screening
//! `privet dpia` runs ([`crate::dpia::screen`]: the ICO's list of processing likely to result in
//! high risk and the EDPB criteria), in one sentence.

use crate::dpia::screen;
use crate::model::Manifest;

/// Whether a DPIA is required for `m`, and why, in one sentence.
pub(super) fn dpia_required(m: &Manifest) -> (bool, String) {
    let s = screen(m);
    let met: Vec<String> = s
        .reasons
        .iter()
        .map(|r| r.criterion.title().to_owned())
        .collect();
    let why = if met.is_empty() {
        "No criterion of the ICO's high-risk list or the EDPB's is met (privet dpia)".to_owned()
    } else if s.required {
        format!("Likely high risk (privet dpia): {}", met.join("; "))
    } else {
        format!(
            "Not required by the screening (privet dpia), which found: {}",
            met.join("; ")
        )
    };
    (s.required, why)
}
