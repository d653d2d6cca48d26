//! The rights section: each UK GDPR right and how to use it with Privet.

use super::model::{ProductFacts, RightFacts};
use crate::model::Manifest;

/// Where the ICO takes complaints, for notices.
pub(crate) const ICO: &str = "ico.org.uk";

fn right(id: &str, title: &str, how: String) -> RightFacts {
    RightFacts {
        id: id.to_owned(),
        title: title.to_owned(),
        how,
        items: Vec::new(),
    }
}

/// Every right, in the order people most often need them.
pub(crate) fn rights(m: &Manifest, product: &ProductFacts) -> Vec<RightFacts> {
    let contact = product.contact.as_deref().map_or_else(
        || product.maker.clone(),
        |c| format!("{} at {c}", product.maker),
    );
    let objectable: Vec<String> = m
        .purposes
        .iter()
        .filter(|p| p.is_objectable())
        .map(|p| p.description.value.clone())
        .collect();
    let mut objection = if objectable.is_empty() {
        right(
            "objection",
            "Object to how we use your data",
            format!(
                "We do not use your data just because it suits us, but if you are unhappy with how we use it, tell {contact}."
            ),
        )
    } else {
        right(
            "objection",
            "Object to how we use your data",
            format!(
                "You can object to us using your data for the purposes below. Tell us in the app or contact {contact}. We will stop unless we have a strong reason that outweighs yours."
            ),
        )
    };
    objection.items = objectable;
    vec![
        right(
            "access",
            "See your data",
            format!(
                "You can see and download everything we hold about you at any time, from the My data pages in the app. It shows why we hold each item, how long we keep it, who it goes to and who has looked at it. You can also ask {contact}; we answer within one month."
            ),
        ),
        right(
            "deletion",
            "Delete your data",
            "You can delete your data at any time in the app. It happens straight away: we destroy the key that unlocks your data, so nobody can read it any more, not even in our backups, and then we remove it. You get a signed receipt that proves it was deleted.".to_owned(),
        ),
        right(
            "correction",
            "Correct your data",
            format!("If something we hold about you is wrong, correct it in the app or ask {contact}."),
        ),
        objection,
        right(
            "restriction",
            "Ask us to pause",
            format!(
                "You can ask us to stop using your data for a while, for example while we check that it is correct. Ask {contact}."
            ),
        ),
        right(
            "portability",
            "Take your data elsewhere",
            "You can download your data in common formats (JSON or CSV) from the My data pages and give it to another service.".to_owned(),
        ),
        right(
            "withdraw-consent",
            "Change your mind",
            "Switching something off is as easy as switching it on: you can do it at any time in the app's settings pages. We stop collecting it at once and delete what we held only for it.".to_owned(),
        ),
        right(
            "complain",
            "Complain",
            format!(
                "If you are unhappy with how we handle your data, please tell {contact} first. You can also complain to the Information Commissioner's Office (ICO), the UK's data protection regulator: {ICO} or 0303 123 1113."
            ),
        ),
    ]
}
