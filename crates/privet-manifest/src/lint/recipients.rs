//! Recipients: defined, used, lawfully transferred, and not handed data for their own ends
//! without consent (PV012 for recipients, PV029, PV038, PV039, PV052).

use super::purposes::undefined_purpose_help;
use crate::finding::Finding;
use crate::model::{Manifest, Purpose, Recipient};
use crate::rules;
use crate::span::Span;
use crate::taxonomy::did_you_mean;
use crate::vocab::{LawfulBasis, Role};

pub(super) fn check(m: &Manifest, out: &mut Vec<Finding>) {
    undefined_recipients(m, out);
    for r in &m.recipients {
        undefined_purposes(m, r, out);
        unused(m, r, out);
        transfer(r, out);
        controller_without_consent(m, r, out);
    }
}

/// PV038.
fn undefined_recipients(m: &Manifest, out: &mut Vec<Finding>) {
    for p in &m.purposes {
        for listed in &p.recipients {
            if m.recipient(listed.as_str()).is_some() {
                continue;
            }
            let help =
                match did_you_mean(listed.as_str(), m.recipients.iter().map(|r| r.id.as_str())) {
                    Some(s) => format!("did you mean \"{s}\"?"),
                    None => format!(
                        "define it under `[recipients.{}]` with its name, role and country",
                        listed.as_str()
                    ),
                };
            out.push(
                Finding::new(
                    &rules::UNDEFINED_RECIPIENT,
                    listed.span,
                    format!(
                        "purpose `{}` names recipient `{}`, which is not defined",
                        p.id.as_str(),
                        listed.as_str()
                    ),
                )
                .label("not under [recipients]")
                .help(help),
            );
        }
    }
}

/// PV012 for a recipient's `purposes`.
fn undefined_purposes(m: &Manifest, r: &Recipient, out: &mut Vec<Finding>) {
    for listed in &r.purposes {
        if m.purpose(listed.as_str()).is_some() {
            continue;
        }
        out.push(
            Finding::new(
                &rules::UNDEFINED_PURPOSE,
                listed.span,
                format!(
                    "recipient `{}` names purpose `{}`, which is not defined",
                    r.id.as_str(),
                    listed.as_str()
                ),
            )
            .label("not under [purposes]")
            .help(undefined_purpose_help(m, listed.as_str())),
        );
    }
}

/// Purposes that list `r` in their `recipients`.
fn purposes_sending_to<'a>(m: &'a Manifest, r: &'a Recipient) -> impl Iterator<Item = &'a Purpose> {
    m.purposes
        .iter()
        .filter(|p| p.recipients.iter().any(|x| x.as_str() == r.id.as_str()))
}

/// PV039.
fn unused(m: &Manifest, r: &Recipient, out: &mut Vec<Finding>) {
    if !r.purposes.is_empty() || purposes_sending_to(m, r).next().is_some() {
        return;
    }
    out.push(
        Finding::new(
            &rules::UNUSED_RECIPIENT,
            r.id.span,
            format!("recipient `{}` receives data for no purpose", r.id.as_str()),
        )
        .label("no purpose sends data here")
        .help(format!(
            "add \"{}\" to the `recipients` of the purposes it receives data for, or remove `[recipients.{}]`",
            r.id.as_str(),
            r.id.as_str()
        )),
    );
}

/// PV029.
fn transfer(r: &Recipient, out: &mut Vec<Finding>) {
    let Some(country) = &r.country else {
        return;
    };
    let code = country.value.trim();
    let in_uk = code.eq_ignore_ascii_case("GB") || code.eq_ignore_ascii_case("UK");
    let safeguarded = r
        .safeguard
        .as_ref()
        .is_some_and(|s| !s.value.trim().is_empty());
    if in_uk || safeguarded {
        return;
    }
    out.push(
        Finding::new(
            &rules::TRANSFER_WITHOUT_SAFEGUARD,
            country.span,
            format!(
                "recipient `{}` processes data in `{code}`, outside the UK, with no safeguard",
                r.id.as_str()
            ),
        )
        .label("outside the UK")
        .help(format!(
            "add `safeguard = \"uk_adequacy\"` if {code} is covered by UK adequacy regulations, otherwise sign an IDTA and add `safeguard = \"idta\"`"
        )),
    );
}

/// PV052: once per recipient and purpose, at the link (the purpose's list first).
fn controller_without_consent(m: &Manifest, r: &Recipient, out: &mut Vec<Finding>) {
    if r.role
        .as_ref()
        .is_none_or(|role| role.value != Role::Controller)
    {
        return;
    }
    let mut links: Vec<(&Purpose, Span)> = Vec::new();
    for p in purposes_sending_to(m, r) {
        if let Some(link) = p.recipients.iter().find(|x| x.as_str() == r.id.as_str()) {
            links.push((p, link.span));
        }
    }
    for listed in &r.purposes {
        if let Some(p) = m.purpose(listed.as_str())
            && !links.iter().any(|(q, _)| q.id.as_str() == p.id.as_str())
        {
            links.push((p, listed.span));
        }
    }
    for (p, span) in links {
        // The law itself may require sharing, or a life may depend on it; consent would be
        // the wrong basis there.
        let required = matches!(
            p.basis.value,
            LawfulBasis::LegalObligation | LawfulBasis::VitalInterests
        );
        if p.needs_consent() || required {
            continue;
        }
        out.push(
            Finding::new(
                &rules::CONTROLLER_RECIPIENT_WITHOUT_CONSENT,
                span,
                format!(
                    "controller `{}` receives data for purpose `{}`, which does not ask for consent",
                    r.id.as_str(),
                    p.id.as_str()
                ),
            )
            .label("shared without consent")
            .help(format!(
                "set `basis = \"consent\"` on `[purposes.{}]`, or if `{}` only acts on your instructions, make it `role = \"processor\"` under a processing contract",
                p.id.as_str(),
                r.id.as_str()
            )),
        );
    }
}
