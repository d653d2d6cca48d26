//! Operator API keys: created (shown once, stored only as a hash) and revoked, both audited.

use crate::access::API_KEY_PREFIX;
use crate::ids::new_id;
use crate::service::audit::{self, Event};
use crate::service::error::{Invalid, Missing, ServiceResult};
use crate::state::AppState;
use jiff::Timestamp;
use privet_crypto::{Secret, generate_token, hash_token, os_rng};
use privet_store::{ApiKey, ApiKeyId, AuditChain, Keyring, NewApiKey, NewAuditEntry, Role, Store};

/// Creates a key at `now`; returns its id and the secret, which is not kept anywhere. Works
/// on a store and keyring directly, so `privet key create` needs no server.
// The backend parts and the key's fields, each needed; a struct for one caller-facing call
// would only rename them.
#[allow(clippy::too_many_arguments)]
pub async fn create(
    store: &dyn Store,
    keyring: &dyn Keyring,
    chain: &AuditChain,
    now: Timestamp,
    actor: &str,
    role: Role,
    purposes: Vec<String>,
    label: String,
) -> ServiceResult<(ApiKeyId, Secret)> {
    if role == Role::Analyst && purposes.is_empty() {
        return Err(Invalid::AnalystWithoutPurpose.into());
    }
    if let Some(p) = purposes
        .iter()
        .find(|p| !privet_manifest::ids::is_valid_key(p))
    {
        return Err(Invalid::PurposeKey(p.clone()).into());
    }
    let id = ApiKeyId::new(new_id("key"));
    let secret = generate_token(API_KEY_PREFIX, &mut os_rng());
    store
        .create_api_key(NewApiKey {
            id: id.clone(),
            role,
            purposes: purposes.clone(),
            hash: hash_token(secret.expose()),
            label,
            created_at: now,
        })
        .await?;
    audit::append(
        store,
        keyring,
        chain,
        NewAuditEntry {
            at: now,
            actor: actor.to_owned(),
            action: "key.create".to_owned(),
            purpose: None,
            subjects: Vec::new(),
            count: 0,
            detail: serde_json::json!({"key": id, "role": role.as_str(), "purposes": purposes}),
        },
    )
    .await?;
    Ok((id, secret))
}

/// A key by id, revoked or not.
pub async fn find(state: &AppState, id: &str) -> ServiceResult<ApiKey> {
    state
        .store()
        .api_keys()
        .await?
        .into_iter()
        .find(|k| k.id.as_str() == id)
        .ok_or_else(|| Missing::ApiKey.into())
}

/// Revokes a key; audited as `actor`'s.
pub async fn revoke(state: &AppState, key: &ApiKey, actor: &str) -> ServiceResult<()> {
    state
        .store()
        .revoke_api_key(&key.id, state.clock().now())
        .await?;
    audit::record(
        state,
        Event::new(
            actor,
            "key.revoke",
            serde_json::json!({"key": key.id, "role": key.role.as_str()}),
        ),
    )
    .await?;
    Ok(())
}
