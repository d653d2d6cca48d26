//! The audit log: appending (and moving its anchor in the keyring), signed heads, and
//! verifying the chain against the anchor and a head someone kept.

use crate::service::error::{ServiceError, ServiceResult};
use crate::state::AppState;
use privet_crypto::{AuditHash, Pseudonym, SigningKey};
use privet_policy::{
    AuditChain, AuditEntry, AuditHead, AuditVerdict, ChainVerifier, NewAuditEntry,
};
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
        state.audit_chain().await?,
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
    chain: &AuditChain,
    entry: NewAuditEntry,
) -> ServiceResult<AuditEntry> {
    let entry = store.append_audit(entry, chain).await?;
    keyring.set_audit_anchor(entry.seq, entry.hash).await?;
    Ok(entry)
}

/// The log's newest entry, signed (`GET /v1/audit/head`): a compact JWS whose payload is an
/// [`AuditHead`].
pub async fn signed_head(state: &AppState) -> ServiceResult<String> {
    let (seq, hash) = state
        .store()
        .audit_head()
        .await?
        .unwrap_or((0, AuditHash::GENESIS));
    sign_head(state.signing(), seq, hash, state.clock().now())
}

/// Writes the signed head into the log itself (`audit.head`, its seq, hash and JWS), unless
/// nothing was appended since the last one; returns whether it wrote one. Run periodically
/// (`service::jobs`), so the log holds heads signed over time that an edit would contradict.
pub async fn write_head(state: &AppState) -> ServiceResult<bool> {
    let Some((seq, hash)) = state.store().audit_head().await? else {
        return Ok(false);
    };
    let newest = state.store().audit_rows(seq, 1).await?;
    if newest
        .first()
        .and_then(|r| r.decode().ok())
        .is_some_and(|e| e.entry.action == HEAD_ACTION)
    {
        return Ok(false);
    }
    let jws = sign_head(state.signing(), seq, hash, state.clock().now())?;
    record(
        state,
        Event::new(
            "system",
            HEAD_ACTION,
            serde_json::json!({"seq": seq, "hash": hash.to_string(), "jws": jws}),
        ),
    )
    .await?;
    Ok(true)
}

/// The action of a signed head written into the log.
pub const HEAD_ACTION: &str = "audit.head";

/// Signs a head of `seq` and `hash` at `at`.
pub fn sign_head(
    signing: &SigningKey,
    seq: i64,
    hash: AuditHash,
    at: jiff::Timestamp,
) -> ServiceResult<String> {
    let head = AuditHead {
        kind: AuditHead::TYPE.to_owned(),
        seq,
        hash,
        signed_at: at,
    };
    let payload = serde_json::to_vec(&head).map_err(|_| ServiceError::Corrupt("audit head"))?;
    Ok(signing.sign_jws_bytes(&payload))
}

/// Why a kept head cannot be checked.
#[derive(Debug, thiserror::Error)]
pub enum HeadError {
    /// The signature does not verify under this installation's key.
    #[error("the head is not signed by this installation's key ({0})")]
    Signature(privet_crypto::Error),
    /// It verifies but is not an audit head.
    #[error("the signed payload is not an audit head")]
    NotAHead,
}

/// The head a kept JWS (the body of `GET /v1/audit/head`, surrounding whitespace allowed)
/// signs, checked against this installation's signing key.
pub fn open_head(signing: &SigningKey, jws: &str) -> Result<AuditHead, HeadError> {
    let payload = privet_crypto::verify_jws_bytes(signing.verifying_key(), jws.trim())
        .map_err(HeadError::Signature)?;
    serde_json::from_slice::<AuditHead>(&payload)
        .ok()
        .filter(|h| h.kind == AuditHead::TYPE && h.seq >= 0)
        .ok_or(HeadError::NotAHead)
}

/// Recomputes the whole chain against the anchor kept in the keyring and, when given, a signed
/// head someone kept.
pub async fn verify(
    store: &dyn Store,
    keyring: &dyn Keyring,
    chain: &AuditChain,
    head: Option<&AuditHead>,
) -> ServiceResult<AuditVerdict> {
    let mut verifier = ChainVerifier::new(chain.clone(), keyring.audit_anchor().await?);
    if let Some(h) = head {
        verifier = verifier.expect_head(h.seq, h.hash);
    }
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
