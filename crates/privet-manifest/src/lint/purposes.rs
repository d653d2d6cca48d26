//! Purpose limitation: every field serves a defined purpose and every purpose is served;
//! consent is not used for what the device needs to work (PV010, PV011, PV012, PV022).

use super::{data_use, is_placeholder, is_served};
use crate::finding::Finding;
use crate::model::Manifest;
use crate::rules;
use crate::taxonomy::{did_you_mean, is_under};
use crate::vocab::LawfulBasis;

pub(super) fn check(m: &Manifest, out: &mut Vec<Finding>) {
    fields_without_purpose(m, out);
    undefined_field_purposes(m, out);
    unused_purposes(m, out);
    consent_for_essential(m, out);
}

/// PV010.
fn fields_without_purpose(m: &Manifest, out: &mut Vec<Finding>) {
    for (s, f) in m.fields() {
        if !f.purposes.is_empty() {
            continue;
        }
        let help = match m.purposes.first() {
            Some(p) => format!(
                "list why it is collected, e.g. `purposes = [\"{}\"]`, or stop collecting the field",
                p.id.as_str()
            ),
            None => "define a purpose under `[purposes.<name>]` and list it in `purposes = [\"<name>\"]`, or stop collecting the field".to_owned(),
        };
        out.push(
            Finding::new(
                &rules::FIELD_WITHOUT_PURPOSE,
                f.purposes_span,
                format!(
                    "field `{}.{}` lists no purpose",
                    s.id.as_str(),
                    f.name.as_str()
                ),
            )
            .label("no purpose")
            .help(help),
        );
    }
}

/// PV012 for fields; recipients are checked with the other recipient rules.
fn undefined_field_purposes(m: &Manifest, out: &mut Vec<Finding>) {
    for (s, f) in m.fields() {
        for p in &f.purposes {
            if m.purpose(p.as_str()).is_some() {
                continue;
            }
            out.push(
                Finding::new(
                    &rules::UNDEFINED_PURPOSE,
                    p.span,
                    format!(
                        "field `{}.{}` names purpose `{}`, which is not defined",
                        s.id.as_str(),
                        f.name.as_str(),
                        p.as_str()
                    ),
                )
                .label("not under [purposes]")
                .help(undefined_purpose_help(m, p.as_str())),
            );
        }
    }
}

/// "Did you mean" among the defined purposes, else how to define it.
pub(super) fn undefined_purpose_help(m: &Manifest, name: &str) -> String {
    match did_you_mean(name, m.purposes.iter().map(|p| p.id.as_str())) {
        Some(s) => format!("did you mean \"{s}\"?"),
        None => format!(
            "define it under `[purposes.{name}]` with a description, use and basis, or remove it from the list"
        ),
    }
}

/// PV011.
fn unused_purposes(m: &Manifest, out: &mut Vec<Finding>) {
    for p in &m.purposes {
        if is_served(m, p) {
            continue;
        }
        out.push(
            Finding::new(
                &rules::UNUSED_PURPOSE,
                p.id.span,
                format!("purpose `{}` is served by no field", p.id.as_str()),
            )
            .label("no field lists it")
            .help(format!(
                "add \"{}\" to the `purposes` of the fields it uses, or remove `[purposes.{}]`",
                p.id.as_str(),
                p.id.as_str()
            )),
        );
    }
}

/// PV022.
fn consent_for_essential(m: &Manifest, out: &mut Vec<Finding>) {
    for p in &m.purposes {
        // A missing or invalid basis is stored as consent; the parser reported it already.
        if is_placeholder(&p.basis, p.id.span) || p.basis.value != LawfulBasis::Consent {
            continue;
        }
        let Some(data_use) = data_use(p).filter(|u| is_under(u, "essential")) else {
            continue;
        };
        out.push(
            Finding::new(
                &rules::CONSENT_FOR_ESSENTIAL,
                p.basis.span,
                format!(
                    "purpose `{}` asks for consent for `{data_use}`, which the device needs to work",
                    p.id.as_str()
                ),
            )
            .label("consent cannot be refused here")
            .help("set `basis = \"contract\"` if the device cannot work without it; if it can, choose a non-essential `use`"),
        );
    }
}
