//! Households and members: ids, pseudonyms, keys and sealed profiles.

use crate::error::{ApiError, ApiResult};
use crate::ids::new_id;
use crate::state::AppState;
use jiff::Timestamp;
use privet_crypto::{open_profile, os_rng, seal_profile};
use privet_store::{NewSubject, Subject, SubjectId, SubjectKind};
use serde::{Deserialize, Serialize};

/// A subject's profile: the only directly identifying data Privet holds, sealed with the
/// subject's key so erasure (and old backups) lose it with the key.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// Name (household name or member's name).
    pub name: String,
    /// E-mail address, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// Longest name accepted.
const MAX_NAME: usize = 200;

/// Checks a name: not empty, printable, at most 200 characters.
pub fn check_name(name: &str) -> ApiResult<()> {
    let n = name.trim();
    if n.is_empty() {
        return Err(ApiError::Unprocessable(
            "`name` must not be empty".to_owned(),
        ));
    }
    if n.chars().count() > MAX_NAME || n.chars().any(char::is_control) {
        return Err(ApiError::Unprocessable(format!(
            "`name` must be at most {MAX_NAME} printable characters"
        )));
    }
    Ok(())
}

/// Creates a subject with its own key and sealed profile.
pub async fn create(
    state: &AppState,
    kind: SubjectKind,
    household: Option<SubjectId>,
    child: bool,
    profile: Profile,
) -> ApiResult<SubjectId> {
    check_name(&profile.name)?;
    let prefix = match kind {
        SubjectKind::Household => "hh",
        SubjectKind::Member => "mb",
    };
    let id = SubjectId::new(new_id(prefix));
    let pseudonym = state.pseudonyms().pseudonym(id.as_str());
    let key = state.keys().create(&pseudonym).await?;
    let plain =
        serde_json::to_vec(&profile).map_err(|e| ApiError::Internal(format!("profile: {e}")))?;
    let sealed = seal_profile(&key, &pseudonym, &plain, &mut os_rng())?;
    state
        .store()
        .create_subject(NewSubject {
            id: id.clone(),
            kind,
            household,
            pseudonym,
            child,
            profile: sealed,
            created_at: Timestamp::now(),
        })
        .await?;
    Ok(id)
}

/// The subject's profile, opened with its key.
pub async fn profile(state: &AppState, subject: &Subject) -> ApiResult<Profile> {
    let key = state.keys().get(&subject.pseudonym).await?;
    let plain = open_profile(&key, &subject.pseudonym, &subject.profile)?;
    serde_json::from_slice(&plain)
        .map_err(|_| ApiError::Internal("profile does not decode".to_owned()))
}

/// The household a subject belongs to (itself for a household).
pub fn household_of(subject: &Subject) -> SubjectId {
    match subject.kind {
        SubjectKind::Household => subject.id.clone(),
        SubjectKind::Member => subject
            .household
            .clone()
            .unwrap_or_else(|| subject.id.clone()),
    }
}
