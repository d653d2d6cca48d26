//! The notice's section for children, tailored from the manifest: what the product hears and
//! sees, what it is used for, what is off until a grown-up switches it on, how long
//! recordings are kept, who else gets the data (by name) and what a grown-up can do.
//!
//! Sentences stay short (the Children's code, standard 4: bite-sized explanations).

use super::model::{ChildrenSummary, KindSummary, ProductFacts, PurposeFacts};
use super::plain::{self, Keep};
use crate::model::Manifest;
use crate::taxonomy::is_under;

/// The sense a recording category uses, for "It can hear you" sentences.
fn sense(category: &str) -> Option<&'static str> {
    if is_under(category, "user.sensor.audio") || is_under(category, "user.biometric.voice") {
        Some("hear")
    } else if [
        "user.sensor.video",
        "user.sensor.image",
        "user.content.self_image",
    ]
    .iter()
    .any(|c| is_under(category, c))
    {
        Some("see")
    } else {
        None
    }
}

/// Builds the children's section from the manifest and the notice's other parts.
pub(super) fn summary(
    m: &Manifest,
    product: &ProductFacts,
    collected: &[KindSummary],
    purposes: &[PurposeFacts],
) -> ChildrenSummary {
    let mut intro = Vec::new();
    let kinds: Vec<String> = collected.iter().map(|k| k.name.to_lowercase()).collect();
    if kinds.is_empty() {
        intro.push(format!(
            "{} does not collect anything about you.",
            product.name
        ));
    } else {
        intro.push(format!("{} collects: {}.", product.name, kinds.join(", ")));
    }
    let mut senses: Vec<&str> = Vec::new();
    for (_, f) in m.fields() {
        if let Some(s) = sense(&f.category.value)
            && !senses.contains(&s)
        {
            senses.push(s);
        }
    }
    match senses.as_slice() {
        [] => {}
        [one] => intro.push(format!("It can {one} you.")),
        _ => intro.push("It can hear you and see you.".to_owned()),
    }
    for p in purposes.iter().filter(|p| !p.optional) {
        intro.push(format!("We use it to: {}", p.description));
    }

    let mut outro = Vec::new();
    // How long each kind of recording is kept, before the rest.
    let mut recordings: Vec<(String, Keep)> = Vec::new();
    for (_, f) in m.fields() {
        if sense(&f.category.value).is_none() {
            continue;
        }
        let name = plain::category(&f.category.value).0.to_lowercase();
        let keep = Keep::of(f);
        match recordings.iter_mut().find(|(n, _)| *n == name) {
            Some((_, k)) => *k = (*k).max(keep),
            None => recordings.push((name, keep)),
        }
    }
    for (name, keep) in &recordings {
        if let Keep::For(r) = keep {
            outro.push(format!("We delete {name} within {}.", r.plain()));
        }
    }
    // The rest: what is not a recording (all of it when nothing is).
    let longest = m
        .fields()
        .filter(|(_, f)| recordings.is_empty() || sense(&f.category.value).is_none())
        .map(|(_, f)| Keep::of(f))
        .max();
    let rest = if recordings.is_empty() {
        "it"
    } else {
        "the rest"
    };
    match longest {
        Some(Keep::For(r)) => outro.push(format!("We keep {rest} for {} at most.", r.plain())),
        Some(Keep::NoLimit) => outro.push("We have not set a time to delete it.".to_owned()),
        Some(Keep::NotStated) | None => {}
    }
    let names: Vec<String> = m.recipients.iter().map(|r| r.name.value.clone()).collect();
    if names.is_empty() {
        outro.push("We do not give it to anyone else.".to_owned());
    } else {
        outro.push(format!(
            "We share some of it with {}.",
            crate::lint::and_list(names)
        ));
    }
    outro.extend(controls(purposes));
    outro.push("If something worries you, talk to a grown-up you trust.".to_owned());

    ChildrenSummary {
        intro,
        switched_off: purposes
            .iter()
            .filter(|p| p.optional)
            .map(|p| p.description.clone())
            .collect(),
        outro,
    }
}

/// What a grown-up in the home can do, from what the manifest allows.
fn controls(purposes: &[PurposeFacts]) -> Vec<String> {
    let mut out = vec![
        "A grown-up in your home can see all we keep about you. They can delete it at any time."
            .to_owned(),
    ];
    if purposes.iter().any(|p| p.optional) {
        out.push("They can switch off again anything they switched on.".to_owned());
    }
    let objectable = purposes.iter().filter(|p| p.objectable).count();
    if objectable > 0 {
        out.push("They can also ask us to stop other things we do.".to_owned());
    }
    out
}
