//! The audit log: appending (and moving its anchor in the keyring) and verifying the chain.

use crate::service::error::ServiceResult;
use crate::state::AppState;
use privet_crypto::Pseudonym;
use privet_policy::{AuditEntry, AuditVerdict, ChainVerifier, NewAuditEntry};
use privet_store::{Keyring, Store};

/// Rows read per page while verifying, so memory stays bounded on a long log.
const VERIFY_PAGE: usize = 10_000;

/// What an audit entry says besides when: who, what, why, about whom, how many, and ids.
#[derive(Debug)]
pub struct Event<'a> {
    /// Who (`key:…`, `account:…`, `system`, `cli`).
    pub actor: &'a str,
    /// What (`events.read`, `subject.erase`, …).
    pub action: &'a str,
    /// The purpose, for reads.
    pub purpose: Option<&'a str>,
    /// Subjects touched, by pseudonym only.
    pub subjects: Vec<Pseudonym>,
    /// How many records.
    pub count: u64,
    /// Further ids and counts.
    pub detail: serde_json::Value,
}

impl<'a> Event<'a> {
    /// An entry with no subjects, no purpose and no count.
    pub fn new(actor: &'a str, action: &'a str, detail: serde_json::Value) -> Self {
        Event {
            actor,
            action,
            purpose: None,
            subjects: Vec::new(),
            count: 0,
            detail,
        }
    }

    /// About these subjects.
    pub fn subjects(mut self, subjects: Vec<Pseudonym>) -> Self {
        self.subjects = subjects;
        self
    }

    /// About this many records.
    pub fn count(mut self, count: u64) -> Self {
        self.count = count;
        self
    }

    /// For this purpose.
    pub fn purpose(mut self, purpose: &'a str) -> Self {
        self.purpose = Some(purpose);
        self
    }
}

/// Appends an entry (ids, pseudonyms and counts only) and anchors the new head.
pub async fn record(state: &AppState, event: Event<'_>) -> ServiceResult<AuditEntry> {
    append(
        state.store().as_ref(),
        state.keys().keyring().as_ref(),
        NewAuditEntry {
            at: state.clock().now(),
            actor: event.actor.to_owned(),
            action: event.action.to_owned(),
            purpose: event.purpose.map(str::to_owned),
            subjects: event.subjects,
            count: event.count,
            detail: event.detail,
        },
    )
    .await
}

/// Appends `entry` to the store's chain and anchors it in the keyring (also for commands that
/// run without a server).
pub async fn append(
    store: &dyn Store,
    keyring: &dyn Keyring,
    entry: NewAuditEntry,
) -> ServiceResult<AuditEntry> {
    let entry = store.append_audit(entry).await?;
    keyring.set_audit_anchor(entry.seq, entry.hash).await?;
    Ok(entry)
}

/// Recomputes the whole chain against the anchor kept in the keyring.
pub async fn verify(store: &dyn Store, keyring: &dyn Keyring) -> ServiceResult<AuditVerdict> {
    let mut verifier = ChainVerifier::new(keyring.audit_anchor().await?);
    // The first page starts below any sequence number, so a forged row numbered 0 or less is
    // seen (and breaks the chain) rather than skipped.
    let mut from = i64::MIN;
    loop {
        let rows = store.audit_rows(from, VERIFY_PAGE).await?;
        let last_page = rows.len() < VERIFY_PAGE;
        for row in &rows {
            if !verifier.push(row) {
                return Ok(verifier.finish());
            }
        }
        if last_page {
            return Ok(verifier.finish());
        }
        from = verifier.next_seq();
    }
}
