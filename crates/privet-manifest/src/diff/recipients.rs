//! Who receives data for each purpose, and in which country: recipients new, gone, no longer
//! processors, and countries outside the UK a purpose's data did not go to before.

use super::words::{self, and_list, humanise, quoted};
use super::{ChangeKind, Changes, Scope};
use crate::model::{Manifest, Recipient};
use crate::notice::plain;
use crate::vocab::Role;

/// Recipient changes, then new third countries.
pub(super) fn diff(old: &Manifest, new: &Manifest, out: &mut Changes) {
    let countries = third_countries(old, new);
    recipients(old, new, &countries, out);
    for c in countries {
        let whom = and_list(c.recipients.iter().map(|r| r.name.value.clone()));
        let summary = match &c.country {
            Some(code) => format!(
                "Data for {} now goes to {} ({whom}), outside the UK.",
                words::purposes(new, &c.purposes),
                plain::country(code)
            ),
            None => format!(
                "Data for {} now goes to {whom}, which does not say in which country it is handled.",
                words::purposes(new, &c.purposes)
            ),
        };
        out.push(
            ChangeKind::NewThirdCountry,
            Scope::purposes(c.purposes),
            summary,
        );
    }
}

/// Every (recipient, purpose) link, written on either side, in manifest order.
fn links(m: &Manifest) -> Vec<(&str, &str)> {
    let purpose_side = m.purposes.iter().flat_map(|p| {
        p.recipients
            .iter()
            .map(move |r| (r.as_str(), p.id.as_str()))
    });
    let recipient_side = m
        .recipients
        .iter()
        .flat_map(|r| r.purposes.iter().map(move |p| (r.id.as_str(), p.as_str())));
    let mut out: Vec<(&str, &str)> = Vec::new();
    for link in purpose_side.chain(recipient_side) {
        if !out.contains(&link) {
            out.push(link);
        }
    }
    out
}

/// The purposes `m` sends to recipient `id`, in link order.
fn purposes_of(links: &[(&str, &str)], id: &str) -> Vec<String> {
    links
        .iter()
        .filter(|(r, _)| *r == id)
        .map(|(_, p)| (*p).to_owned())
        .collect()
}

/// Whether a recipient only acts on the maker's instructions; one with no role may use the
/// data for its own purposes, as the notice says.
fn is_processor(r: Option<&Recipient>) -> bool {
    r.and_then(|r| r.role.as_ref())
        .is_some_and(|role| role.value == Role::Processor)
}

/// Whether a recipient acted only for the maker and now may not: reported as a new recipient.
fn stops_being_processor(was: Option<&Recipient>, now: Option<&Recipient>) -> bool {
    is_processor(was) && !is_processor(now)
}

fn recipients(old: &Manifest, new: &Manifest, countries: &[NewCountry<'_>], out: &mut Changes) {
    let (old_links, new_links) = (links(old), links(new));
    let mut ids: Vec<&str> = new.recipients.iter().map(|r| r.id.as_str()).collect();
    for (r, _) in new_links.iter().chain(&old_links) {
        if !ids.contains(r) {
            ids.push(r);
        }
    }
    for r in old.recipients.iter().map(|r| r.id.as_str()) {
        if !ids.contains(&r) {
            ids.push(r);
        }
    }
    for id in ids {
        let (was, now) = (old.recipient(id), new.recipient(id));
        let name = now
            .or(was)
            .map_or_else(|| humanise(id), |r| r.name.value.clone());
        let (before, after) = (purposes_of(&old_links, id), purposes_of(&new_links, id));
        let gained: Vec<String> = after
            .iter()
            .filter(|p| !before.contains(p))
            .cloned()
            .collect();
        let lost: Vec<String> = before
            .iter()
            .filter(|p| !after.contains(p))
            .cloned()
            .collect();
        let known = was.is_some() || !before.is_empty();
        if !gained.is_empty() {
            let summary = if known {
                format!(
                    "{name} now also receives data for {}.",
                    words::purposes(new, &gained)
                )
            } else {
                let role =
                    plain::recipient_role(now.and_then(|r| r.role.as_ref()).map(|r| r.value));
                format!(
                    "A new recipient, {name} ({}), receives data for {}; it {role}.",
                    words::country(
                        now.and_then(|r| r.country.as_ref())
                            .map(|c| c.value.as_str())
                    ),
                    words::purposes(new, &gained)
                )
            };
            out.push(ChangeKind::NewRecipient, Scope::purposes(gained), summary);
        }
        if was.is_some() && now.is_some() && stops_being_processor(was, now) {
            // It may now use what it receives for its own ends: a recipient people have not
            // been told about, even for purposes it already received data for.
            let kept: Vec<String> = after
                .iter()
                .filter(|p| before.contains(p))
                .cloned()
                .collect();
            if !kept.is_empty() {
                out.push(
                    ChangeKind::NewRecipient,
                    Scope::purposes(kept.clone()),
                    format!(
                        "{name} now uses the data it receives for {} for its own purposes (it was a processor acting only for the maker).",
                        words::purposes(new, &kept)
                    ),
                );
            }
        }
        if !lost.is_empty() {
            let summary = if after.is_empty() {
                format!("{name} no longer receives any data.")
            } else {
                format!(
                    "{name} no longer receives data for {}.",
                    words::purposes(old, &lost)
                )
            };
            out.push(ChangeKind::RemovedRecipient, Scope::purposes(lost), summary);
        }
        if let (Some(w), Some(n)) = (was, now) {
            wording(w, n, after, countries, out);
        }
    }
}

/// A recipient's own keys changing in ways not already reported.
fn wording(
    was: &Recipient,
    now: &Recipient,
    purposes: Vec<String>,
    countries: &[NewCountry<'_>],
    out: &mut Changes,
) {
    let mut said = Vec::new();
    if was.name.value != now.name.value {
        said.push(format!(
            "is now called {} (was {})",
            now.name.value, was.name.value
        ));
    }
    let role = |r: &Recipient| r.role.as_ref().map(|x| x.value);
    if role(was) != role(now) && !stops_being_processor(Some(was), Some(now)) {
        said.push(format!(
            "{} (was: {})",
            plain::recipient_role(role(now)),
            plain::recipient_role(role(was))
        ));
    }
    let reported = countries
        .iter()
        .any(|c| c.recipients.iter().any(|r| r.id.value == now.id.value));
    if country(was) != country(now) && !reported {
        said.push(format!(
            "now handles data in {} (was {})",
            words::country(country(now).as_deref()),
            words::country(country(was).as_deref())
        ));
    }
    let safeguard = |r: &Recipient| r.safeguard.as_ref().map(|s| s.value.trim().to_owned());
    if safeguard(was) != safeguard(now) {
        said.push(format!(
            "transfers now rely on {} (was {})",
            quoted(safeguard(now).as_deref()),
            quoted(safeguard(was).as_deref())
        ));
    }
    if !said.is_empty() {
        out.push(
            ChangeKind::Wording,
            Scope::purposes(purposes),
            format!("{}: {}.", now.name.value, said.join("; ")),
        );
    }
}

/// A recipient's country as a comparable code: trimmed, upper case, `UK` spelled `GB`.
fn country(r: &Recipient) -> Option<String> {
    r.country.as_ref().map(|c| {
        let code = c.value.trim().to_ascii_uppercase();
        if plain::is_uk(&code) {
            "GB".to_owned()
        } else {
            code
        }
    })
}

/// A country outside the UK (or none stated) that data for some purposes now goes to.
struct NewCountry<'a> {
    /// The code; `None` when a recipient does not say.
    country: Option<String>,
    /// The purposes whose data newly goes there.
    purposes: Vec<String>,
    /// The new version's recipients there, for those purposes.
    recipients: Vec<&'a Recipient>,
}

/// Countries outside the UK each purpose's data goes to in `new` but did not in `old`,
/// grouped by country in manifest order. A recipient with no country counts as outside the UK,
/// as on the label.
fn third_countries<'a>(old: &Manifest, new: &'a Manifest) -> Vec<NewCountry<'a>> {
    let abroad = |m: &Manifest, purpose: &str| -> Vec<Option<String>> {
        links(m)
            .into_iter()
            .filter(|(_, p)| *p == purpose)
            .filter_map(|(r, _)| m.recipient(r))
            .map(country)
            .filter(|c| c.as_deref() != Some("GB"))
            .collect()
    };
    let mut out: Vec<NewCountry<'a>> = Vec::new();
    for (r, p) in links(new) {
        let Some(recipient) = new.recipient(r) else {
            continue;
        };
        let c = country(recipient);
        if c.as_deref() == Some("GB") || abroad(old, p).contains(&c) {
            continue;
        }
        let i = match out.iter().position(|x| x.country == c) {
            Some(i) => i,
            None => {
                out.push(NewCountry {
                    country: c,
                    purposes: Vec::new(),
                    recipients: Vec::new(),
                });
                out.len() - 1
            }
        };
        if let Some(entry) = out.get_mut(i) {
            if !entry.purposes.iter().any(|x| x == p) {
                entry.purposes.push(p.to_owned());
            }
            if !entry
                .recipients
                .iter()
                .any(|x| x.id.value == recipient.id.value)
            {
                entry.recipients.push(recipient);
            }
        }
    }
    out
}
