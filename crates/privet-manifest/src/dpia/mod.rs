//! DPIA screening and draft: whether a product's processing is likely to be high risk under
//! the ICO's list and the EDPB criteria (each reason pointing at the manifest), and a draft
//! data protection impact assessment in Markdown for the DPO to complete.
//!
//! [`screen`] is pure and cheap; the lint rule `dpia-missing`, `privet dpia` and the records
//! of processing all call it, so they never disagree. The decision rule is in `docs/dpia.md`.
//!
//! ```
//! let source = include_str!("../../../../examples/manifests/video-doorbell.toml");
//! let manifest = privet_manifest::parse(source).unwrap().manifest;
//! let screening = privet_manifest::dpia::screen(&manifest);
//! assert!(screening.required);
//! assert!(screening.meets(privet_manifest::dpia::Criterion::SystematicMonitoring));
//! ```

mod criteria;
mod draft;
mod md;
mod processing;
mod report;
mod risks;
mod screening;

pub(crate) use md::{Text, uk_date};

pub use criteria::{Criterion, IcoRule, QUESTIONS, Question};
pub use draft::{DraftContext, markdown};
pub use report::{ReasonRecord, Report};
pub use risks::{Likelihood, Measure, Risk, Severity, overall, risks};
pub use screening::{Reason, Screening, screen};
