//! Households and members: ids, pseudonyms, keys and sealed profiles; rectification and
//! restriction.

use crate::ids::new_id;
use crate::service::audit::{self, Event};
use crate::service::error::{Invalid, ServiceError, ServiceResult};
use crate::service::permissions;
use crate::state::AppState;
use privet_crypto::{open_profile, os_rng, seal_profile};
use privet_policy::{check_email, check_name};
use privet_store::{NewSubject, Subject, SubjectId, SubjectKind};
use serde::{Deserialize, Serialize};

/// A subject's profile: the only directly identifying data Privet holds, sealed with the
/// subject's key so erasure (and old backups) lose it with the key.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// Name (household name or member's name).
    pub name: String,
    /// E-mail address, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// Never shows the name or the address.
impl std::fmt::Debug for Profile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Profile").finish_non_exhaustive()
    }
}

impl Profile {
    /// A profile as entered: the name checked and trimmed, the e-mail (if any) normalised.
    pub fn checked(name: &str, email: Option<&str>) -> ServiceResult<Profile> {
        let email = match email.map(str::trim).filter(|e| !e.is_empty()) {
            Some(e) => Some(check_email(e)?.to_owned()),
            None => None,
        };
        Ok(Profile {
            name: check_name(name)?.to_owned(),
            email,
        })
    }
}

/// Creates a subject with its own key and sealed profile (already checked).
pub async fn create(
    state: &AppState,
    kind: SubjectKind,
    household: Option<SubjectId>,
    child: bool,
    profile: Profile,
) -> ServiceResult<SubjectId> {
    let prefix = match kind {
        SubjectKind::Household => "hh",
        SubjectKind::Member => "mb",
    };
    let id = SubjectId::new(new_id(prefix));
    // A member joins under its household's exclusive lock, after checking the household is
    // still there: an erasure of the household either sees the member or runs before it.
    let lock = household.as_ref().map(|h| state.household_lock(h));
    let _exclusive = match &lock {
        Some(l) => Some(l.write().await),
        None => None,
    };
    if let Some(h) = &household {
        state.store().subject(h).await?;
    }
    let pseudonym = state.pseudonyms().pseudonym(id.as_str());
    let key = state.keys().create(&pseudonym).await?;
    let plain = serde_json::to_vec(&profile).map_err(|_| ServiceError::Corrupt("profile"))?;
    let sealed = seal_profile(&key, &pseudonym, &plain, &mut os_rng())?;
    state
        .store()
        .create_subject(NewSubject {
            id: id.clone(),
            kind,
            household: household.clone(),
            pseudonym,
            child,
            profile: sealed,
            created_at: state.clock().now(),
        })
        .await?;
    if let Some(h) = &household {
        permissions::changed(state, h).await;
    }
    Ok(id)
}

/// A household with its checked name; audited by `actor`.
pub async fn create_household(
    state: &AppState,
    name: &str,
    actor: &str,
) -> ServiceResult<SubjectId> {
    let profile = Profile::checked(name, None)?;
    let id = create(state, SubjectKind::Household, None, false, profile).await?;
    let p = state.pseudonyms().pseudonym(id.as_str());
    // The household appears by pseudonym only (`subjects`), never by id.
    audit::record(
        state,
        Event::new(actor, "household.create", serde_json::json!({})).subjects(vec![p]),
    )
    .await?;
    Ok(id)
}

/// A member of `household` with its name and e-mail (checked); audited by `actor`.
pub async fn create_member(
    state: &AppState,
    household: &SubjectId,
    child: bool,
    name: &str,
    email: Option<&str>,
    actor: &str,
) -> ServiceResult<SubjectId> {
    let h = household_subject(state, household).await?;
    let profile = Profile::checked(name, email)?;
    let id = create(
        state,
        SubjectKind::Member,
        Some(h.id.clone()),
        child,
        profile,
    )
    .await?;
    let p = state.pseudonyms().pseudonym(id.as_str());
    audit::record(
        state,
        Event::new(actor, "member.create", serde_json::json!({"child": child}))
            .subjects(vec![p, h.pseudonym]),
    )
    .await?;
    Ok(id)
}

/// The household with this id (`NotFound` for a member's id).
pub async fn household_subject(state: &AppState, id: &SubjectId) -> ServiceResult<Subject> {
    let h = state.store().subject(id).await?;
    if h.kind != SubjectKind::Household {
        return Err(crate::service::error::Missing::Household.into());
    }
    Ok(h)
}

/// The subject's profile, opened with its key.
pub async fn profile(state: &AppState, subject: &Subject) -> ServiceResult<Profile> {
    let key = state.keys().get(&subject.pseudonym).await?;
    let plain = open_profile(&key, &subject.pseudonym, &subject.profile)?;
    serde_json::from_slice(&plain).map_err(|_| ServiceError::Corrupt("profile"))
}

/// The profile fields to correct.
#[derive(Default)]
pub struct Correction {
    /// Corrected name.
    pub name: Option<String>,
    /// Corrected e-mail; `""` removes it.
    pub email: Option<String>,
}

/// Never shows the values.
impl std::fmt::Debug for Correction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Correction").finish_non_exhaustive()
    }
}

/// Corrects a subject's profile (UK GDPR Art. 16).
pub async fn rectify(
    state: &AppState,
    subject: &Subject,
    correction: Correction,
    actor: &str,
) -> ServiceResult<()> {
    let mut profile = profile(state, subject).await?;
    let mut changed = Vec::new();
    if let Some(name) = correction.name {
        profile.name = check_name(&name)?.to_owned();
        changed.push("name");
    }
    if let Some(email) = correction.email {
        let email = email.trim();
        profile.email = if email.is_empty() {
            None
        } else {
            Some(check_email(email)?.to_owned())
        };
        changed.push("email");
    }
    if changed.is_empty() {
        return Err(Invalid::NothingToCorrect.into());
    }
    let key = state.keys().get(&subject.pseudonym).await?;
    let plain = serde_json::to_vec(&profile).map_err(|_| ServiceError::Corrupt("profile"))?;
    let sealed = seal_profile(&key, &subject.pseudonym, &plain, &mut os_rng())?;
    state.store().update_profile(&subject.id, sealed).await?;
    audit::record(
        state,
        Event::new(
            actor,
            "subject.rectify",
            serde_json::json!({"fields": changed}),
        )
        .subjects(vec![subject.pseudonym]),
    )
    .await?;
    crate::service::webhooks::rectified(state, subject).await;
    Ok(())
}

/// Restricts processing (UK GDPR Art. 18), or lifts the restriction.
pub async fn restrict(
    state: &AppState,
    subject: &Subject,
    restricted: bool,
    actor: &str,
) -> ServiceResult<()> {
    // Exclusive: batches in flight under the old permissions commit first, and none admitted
    // under them lands after this returns.
    let household = state.household_lock(subject.household_id());
    let guard = household.write().await;
    state
        .store()
        .set_restricted(&subject.id, restricted)
        .await?;
    permissions::changed(state, subject.household_id()).await;
    drop(guard);
    let action = if restricted {
        "subject.restrict"
    } else {
        "subject.unrestrict"
    };
    audit::record(
        state,
        Event::new(actor, action, serde_json::json!({})).subjects(vec![subject.pseudonym]),
    )
    .await?;
    crate::service::webhooks::restriction_set(state, subject, restricted).await;
    Ok(())
}
