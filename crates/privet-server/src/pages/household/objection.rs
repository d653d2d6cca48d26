//! Objection (UK GDPR Art. 21) on the household pages: each purpose on legitimate interests
//! is "on unless you object". My data links every one to a page that says what objecting does
//! (it stops at once, and what was kept only for it is deleted, listed by field) before the
//! person confirms; the objection goes through `service::objections`, which audits and purges.
//!
//! The store keeps objections for good (there is no withdrawal of an objection), so the pages
//! say how to allow the use again: by asking the maker.

use super::form::PageForm;
use super::{member_of, see_other, view};
use crate::access::{Caller, authorize_subject};
use crate::pages::{PageContext, PageError, PageSession, render, urlencode};
use crate::service::error::{Invalid, Missing, ServiceError};
use crate::service::{devices, objections, permissions, subjects};
use crate::session::SignedIn;
use crate::state::AppState;
use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::Response;
use privet_manifest::Manifest;
use privet_policy::{Objection, SubjectAction, SubjectKind};
use privet_store::{Subject, SubjectId};
use serde::Deserialize;
use std::sync::Arc;

/// A purpose the person may object to, as My data shows it.
pub(crate) struct ObjectionView {
    /// What it is for, in the maker's words.
    pub(crate) description: String,
    /// A unique id for the page's `aria-describedby`.
    pub(crate) html_id: String,
    /// The page that explains objecting and asks to confirm.
    pub(crate) href: String,
    /// When the subject objected, if they did ("3 May 2026").
    pub(crate) objected_on: Option<String>,
}

/// How to allow a use again after objecting, in words: the service cannot undo an objection.
pub(crate) fn undo_sentence(m: &Manifest) -> String {
    match &m.product.privacy_contact {
        Some(c) => format!(
            "To allow it again later, ask {} at {}.",
            m.product.maker.value, c.value
        ),
        None => format!("To allow it again later, ask {}.", m.product.maker.value),
    }
}

/// The purposes of `m` that `subject` may object to, each with whether they did.
pub(crate) fn views(m: &Manifest, subject: &Subject, objected: &[Objection]) -> Vec<ObjectionView> {
    let product = m.product.id.as_str();
    privet_policy::objections_for(m, subject.kind)
        .into_iter()
        .map(|p| {
            let purpose = p.id.as_str();
            ObjectionView {
                description: p.description.value.clone(),
                html_id: format!("object-{}-{product}-{purpose}", subject.id),
                href: format!(
                    "/my-data/object?subject={}&product={}&purpose={}",
                    urlencode(subject.id.as_str()),
                    urlencode(product),
                    urlencode(purpose)
                ),
                objected_on: objected
                    .iter()
                    .filter(|o| o.subject == subject.id && o.purpose == purpose)
                    .filter(|o| o.product.as_deref().is_none_or(|x| x == product))
                    .map(|o| o.at)
                    .min()
                    .map(|at| view::day(privet_policy::utc_date(at))),
            }
        })
        .collect()
}

/// Which purpose of which product, for whom.
#[derive(Debug, Deserialize)]
pub(crate) struct Which {
    subject: String,
    product: String,
    purpose: String,
}

#[derive(Template)]
#[template(path = "pages/household/object.html")]
struct ConfirmPage {
    page: PageContext,
    subject: String,
    product: String,
    product_name: String,
    purpose: String,
    description: String,
    whose: String,
    /// Fields whose stored values would be deleted, in the maker's words.
    deleted: Vec<String>,
    undo: String,
}

/// The product (one of the household's) and the purpose `subject` may object to.
async fn objectable(
    state: &AppState,
    subject: &Subject,
    product: &str,
    purpose: &str,
) -> Result<Arc<Manifest>, PageError> {
    let manifests = devices::household_products(state, subject.household_id(), []).await?;
    let m = manifests
        .into_iter()
        .find(|m| m.product.id.as_str() == product)
        .ok_or(ServiceError::NotFound(Missing::Product))?;
    if !privet_policy::objections_for(&m, subject.kind)
        .iter()
        .any(|p| p.id.as_str() == purpose)
    {
        return Err(ServiceError::from(Invalid::NotObjectable).into());
    }
    Ok(m)
}

/// Whose data, as the page says it.
async fn whose(
    state: &AppState,
    signed: &SignedIn,
    subject: &Subject,
) -> Result<String, PageError> {
    Ok(match subject.kind {
        SubjectKind::Household => "your household's data".to_owned(),
        SubjectKind::Member if signed.account.member.as_ref() == Some(&subject.id) => {
            "your data".to_owned()
        }
        SubjectKind::Member => format!("{}'s data", subjects::profile(state, subject).await?.name),
    })
}

/// The fields of `m` about `subject` whose stored values objecting to `purpose` would delete:
/// those no other purpose would still justify.
async fn would_delete(
    state: &AppState,
    m: &Manifest,
    subject: &Subject,
    purpose: &str,
) -> Result<Vec<String>, PageError> {
    let allowed = permissions::of_subject(state, subject).await?;
    let product = m.product.id.as_str();
    let already = allowed.to_purge(m);
    let after =
        privet_policy::unjustified_fields(m, &|p| allowed.is_granted(product, p.as_str()), &|p| {
            p.as_str() == purpose || allowed.is_objected(product, p.as_str())
        });
    let about: Vec<&str> = privet_policy::streams_about(m, subject.kind)
        .map(|s| s.id.value.as_str())
        .collect();
    let mut out = Vec::new();
    for (stream, fields) in after {
        if !about.contains(&stream.as_str()) {
            continue;
        }
        let before = already.iter().find(|(s, _)| *s == stream);
        for f in fields {
            if before.is_some_and(|(_, b)| b.contains(&f)) {
                continue;
            }
            let words = m
                .stream(stream.as_str())
                .and_then(|s| s.fields.iter().find(|x| x.name.value == f))
                .and_then(|x| x.description.as_ref())
                .map_or_else(|| f.to_string(), |d| d.value.clone());
            out.push(words);
        }
    }
    Ok(out)
}

/// Says what objecting does, and asks to confirm.
pub(crate) async fn confirm_page(
    State(state): State<AppState>,
    PageSession(signed): PageSession,
    q: Result<Query<Which>, QueryRejection>,
) -> Result<Response, PageError> {
    member_of(&signed)?;
    let Ok(Query(which)) = q else {
        return Err(ServiceError::NotFound(Missing::Product).into());
    };
    let caller = Caller::Account(Box::new(signed.clone()));
    let id = SubjectId::new(which.subject);
    let cap = authorize_subject(&state, &caller, &id, SubjectAction::Manage).await?;
    let m = objectable(&state, &cap.subject, &which.product, &which.purpose).await?;
    let description = m
        .purpose(&which.purpose)
        .map(|p| p.description.value.clone())
        .unwrap_or_default();
    render(&ConfirmPage {
        page: PageContext::new(&state, Some(&signed)).await?,
        subject: cap.subject.id.to_string(),
        product: which.product,
        product_name: m.product.name.value.clone(),
        deleted: would_delete(&state, &m, &cap.subject, &which.purpose).await?,
        purpose: which.purpose,
        description,
        whose: whose(&state, &signed, &cap.subject).await?,
        undo: undo_sentence(&m),
    })
}

/// Records the objection: the use stops at once and what it alone justified is deleted.
pub(crate) async fn object(
    State(state): State<AppState>,
    PageSession(signed): PageSession,
    form: PageForm,
) -> Result<Response, PageError> {
    form.check_csrf(&state, &signed)?;
    member_of(&signed)?;
    let caller = Caller::Account(Box::new(signed.clone()));
    let id = SubjectId::new(form.get("subject").to_owned());
    let cap = authorize_subject(&state, &caller, &id, SubjectAction::Manage).await?;
    let (product, purpose) = (form.get("product"), form.get("purpose"));
    objectable(&state, &cap.subject, product, purpose).await?;
    let done = objections::object_to(&state, &cap.subject, product, purpose, &cap.actor).await?;
    Ok(see_other(&format!(
        "/my-data?done=objected&n={}#permissions",
        done.purged_values
    )))
}
