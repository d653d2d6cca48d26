//! The rights section: each UK GDPR right and how to use it with Privet.

use super::model::{ProductFacts, RightFacts};
use crate::model::Manifest;
use crate::vocab::Audience;

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

/// Whose data the rights are about, as the reader says it: their own ("you", "your data"), or
/// their child's when the product is made for children and the reader is a parent.
struct Whose {
    /// "you" or "your child", after "about".
    about: &'static str,
    /// "your data" or "your child's data".
    data: &'static str,
    /// "yours" or "your child's interests", after "outweighs".
    interests: &'static str,
}

impl Whose {
    fn of(audience: Audience) -> Whose {
        match audience {
            Audience::Children => Whose {
                about: "your child",
                data: "your child's data",
                interests: "your child's interests",
            },
            Audience::Adults | Audience::All => Whose {
                about: "you",
                data: "your data",
                interests: "yours",
            },
        }
    }
}

/// Every right, in the order people most often need them, about the reader's own data or, in
/// a product made for children, about their child's.
pub(crate) fn rights(m: &Manifest, product: &ProductFacts) -> Vec<RightFacts> {
    let contact = product.contact.as_deref().map_or_else(
        || product.maker.clone(),
        |c| format!("{} at {c}", product.maker),
    );
    let Whose {
        about,
        data,
        interests,
    } = Whose::of(product.audience);
    let objectable: Vec<String> = m
        .purposes
        .iter()
        .filter(|p| p.is_objectable())
        .map(|p| p.description.value.clone())
        .collect();
    let objection_title = format!("Object to how we use {data}");
    let mut objection = if objectable.is_empty() {
        right(
            "objection",
            &objection_title,
            format!(
                "We do not use {data} just because it suits us, but if you are unhappy with how we use it, tell {contact}."
            ),
        )
    } else {
        right(
            "objection",
            &objection_title,
            format!(
                "You can object to us using {data} for the purposes below. Tell us in the app or contact {contact}. We will stop unless we have a strong reason that outweighs {interests}."
            ),
        )
    };
    objection.items = objectable;
    vec![
        right(
            "access",
            &format!("See {data}"),
            format!(
                "You can see and download everything we hold about {about} at any time, from the My data pages in the app. It shows why we hold each item, how long we keep it, who it goes to and who has looked at it. You can also ask {contact}; we answer within one month."
            ),
        ),
        right(
            "deletion",
            &format!("Delete {data}"),
            format!("You can delete {data} at any time in the app. It happens straight away: we destroy the key that unlocks {data}, so nobody can read it any more, not even in our backups, and then we remove it. You get a signed receipt that proves it was deleted."),
        ),
        right(
            "correction",
            &format!("Correct {data}"),
            format!("If something we hold about {about} is wrong, correct it in the app or ask {contact}."),
        ),
        objection,
        right(
            "restriction",
            "Ask us to pause",
            format!(
                "You can ask us to stop using {data} for a while, for example while we check that it is correct. Ask {contact}."
            ),
        ),
        right(
            "portability",
            &format!("Take {data} elsewhere"),
            format!("You can download {data} in common formats (JSON or CSV) from the My data pages and give it to another service."),
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
                "If you are unhappy with how we handle {data}, please tell {contact} first. You can also complain to the Information Commissioner's Office (ICO), the UK's data protection regulator: {ICO} or 0303 123 1113."
            ),
        ),
    ]
}
