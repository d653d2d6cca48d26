//! `[product]` changes: all of them wording, for people to read; `version` is not a change.

use super::words::quoted;
use super::{ChangeKind, Changes, Scope};
use crate::model::{OfflineSupport, Product};
use crate::notice::plain;
use crate::span::Spanned;
use crate::vocab::Audience;

pub(super) fn diff(old: &Product, new: &Product, out: &mut Changes) {
    let mut say = |summary: String| out.push(ChangeKind::Wording, Scope::product(), summary);
    if old.name.value != new.name.value {
        say(format!(
            "The product is now called \"{}\" (was \"{}\").",
            new.name.value, old.name.value
        ));
    }
    if old.maker.value != new.maker.value {
        say(format!(
            "The maker is now {} (was {}).",
            new.maker.value, old.maker.value
        ));
    }
    if text(&old.privacy_contact) != text(&new.privacy_contact) {
        say(format!(
            "The contact for privacy questions is now {} (was {}).",
            quoted(text(&new.privacy_contact)),
            quoted(text(&old.privacy_contact))
        ));
    }
    if text(&old.vulnerability_disclosure) != text(&new.vulnerability_disclosure) {
        say(format!(
            "Security problems are now reported to {} (was {}).",
            quoted(text(&new.vulnerability_disclosure)),
            quoted(text(&old.vulnerability_disclosure))
        ));
    }
    if value(&old.disclosure_response_days) != value(&new.disclosure_response_days) {
        let days =
            |d: Option<u32>| d.map_or_else(|| "not stated".to_owned(), |d| format!("{d} days"));
        say(format!(
            "The time to first answer a security report is now {} (was {}).",
            days(value(&new.disclosure_response_days)),
            days(value(&old.disclosure_response_days))
        ));
    }
    if value(&old.security_updates_until) != value(&new.security_updates_until) {
        let until =
            |d: Option<jiff::civil::Date>| d.map_or_else(|| "not stated".to_owned(), plain::date);
        say(format!(
            "Security updates are now promised until {} (was {}).",
            until(value(&new.security_updates_until)),
            until(value(&old.security_updates_until))
        ));
    }
    if text(&old.update_public_key) != text(&new.update_public_key) {
        say("The key that signs the product's software updates changed.".to_owned());
    }
    if old.audience() != new.audience() {
        say(format!(
            "The product is now meant for {} (was {}).",
            audience(new.audience()),
            audience(old.audience())
        ));
    }
    if text(&old.dpia) != text(&new.dpia) {
        say(format!(
            "The data protection impact assessment is now {} (was {}).",
            quoted(text(&new.dpia)),
            quoted(text(&old.dpia))
        ));
    }
    if old.role() != new.role() {
        say(format!(
            "{} is now the {} of your data (was the {}).",
            new.maker.value,
            new.role(),
            old.role()
        ));
    }
    let offline = |o: &Option<Spanned<OfflineSupport>>| o.as_ref().map(|w| w.value.clone());
    if offline(&old.works_offline) != offline(&new.works_offline) {
        let plain =
            |o: Option<OfflineSupport>| o.map_or_else(|| "not stated".to_owned(), |w| w.plain());
        say(format!(
            "Working without the internet: {} (was: {}).",
            plain(offline(&new.works_offline)),
            plain(offline(&old.works_offline))
        ));
    }
    if old.strict != new.strict {
        say(if new.strict {
            "A batch of events with an undeclared field is now refused whole (the field was dropped)."
        } else {
            "An undeclared field in a batch of events is now dropped (the batch was refused whole)."
        }
        .to_owned());
    }
}

fn text(v: &Option<Spanned<String>>) -> Option<&str> {
    v.as_ref().map(|s| s.value.as_str())
}

fn value<T: Copy>(v: &Option<Spanned<T>>) -> Option<T> {
    v.as_ref().map(|s| s.value)
}

fn audience(a: Audience) -> &'static str {
    match a {
        Audience::Adults => "adults",
        Audience::Children => "children",
        Audience::All => "everyone, children included",
    }
}
