//! Creating operator API keys: shown once, stored only as a hash, audited.

use crate::access::API_KEY_PREFIX;
use crate::error::{ApiError, ApiResult};
use crate::ids::new_id;
use jiff::Timestamp;
use privet_crypto::{Secret, generate_token, hash_token, os_rng};
use privet_store::{ApiKeyId, Keyring, NewApiKey, NewAuditEntry, Role, Store};

/// Creates a key; returns its id and the secret, which is not kept anywhere.
pub async fn create(
    store: &dyn Store,
    keyring: &dyn Keyring,
    actor: &str,
    role: Role,
    purposes: Vec<String>,
    label: String,
) -> ApiResult<(ApiKeyId, Secret)> {
    if role == Role::Analyst && purposes.is_empty() {
        return Err(ApiError::Unprocessable(
            "an analyst key must hold at least one purpose".to_owned(),
        ));
    }
    if let Some(p) = purposes
        .iter()
        .find(|p| !privet_manifest::ids::is_valid_key(p))
    {
        return Err(ApiError::Unprocessable(format!(
            "`{p}` is not a purpose key (lowercase letters, digits, `_`, `-`)"
        )));
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
            created_at: Timestamp::now(),
        })
        .await?;
    let entry = store
        .append_audit(NewAuditEntry {
            at: Timestamp::now(),
            actor: actor.to_owned(),
            action: "key.create".to_owned(),
            purpose: None,
            subjects: Vec::new(),
            count: 0,
            detail: serde_json::json!({"key": id, "role": role.as_str(), "purposes": purposes}),
        })
        .await?;
    keyring.set_audit_anchor(entry.seq, entry.hash).await?;
    Ok((id, secret))
}
