//! Appending to the audit log and moving its anchor in the keyring.

use crate::error::ApiResult;
use crate::state::AppState;
use jiff::Timestamp;
use privet_crypto::Pseudonym;
use privet_store::{AuditEntry, NewAuditEntry};

/// Appends an entry (ids, pseudonyms and counts only) and anchors the new head.
pub async fn record(
    state: &AppState,
    actor: &str,
    action: &str,
    purpose: Option<&str>,
    subjects: Vec<Pseudonym>,
    count: u64,
    detail: serde_json::Value,
) -> ApiResult<AuditEntry> {
    let entry = state
        .store()
        .append_audit(NewAuditEntry {
            at: Timestamp::now(),
            actor: actor.to_owned(),
            action: action.to_owned(),
            purpose: purpose.map(str::to_owned),
            subjects,
            count,
            detail,
        })
        .await?;
    state
        .keys()
        .keyring()
        .set_audit_anchor(entry.seq, entry.hash)
        .await?;
    Ok(entry)
}
