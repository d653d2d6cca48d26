//! Erasure by crypto-shredding, with a signed receipt.
//!
//! Order matters: the subject's key is destroyed first (from the cache, then from the keyring
//! file and its WAL), so the records are unreadable at once — also in any backup of the data
//! store; then the pseudonym mapping (the subject's row) goes; then the records themselves,
//! in the background, since without their key they are already noise.

use crate::error::ApiResult;
use crate::ids::new_id;
use crate::service::audit;
use crate::state::AppState;
use jiff::Timestamp;
use privet_crypto::Pseudonym;
use privet_store::{Subject, SubjectId, SubjectKind};
use serde::Serialize;
use utoipa::ToSchema;

/// What an erasure removed, for the receipt.
#[derive(Clone, Debug, Default, Serialize, ToSchema)]
pub struct ErasedCounts {
    /// Subjects erased (a household erases its members too).
    pub subjects: u64,
    /// Keys destroyed.
    pub keys: u64,
    /// Records (events) made unreadable and deleted.
    pub records: u64,
    /// Consent records deleted.
    pub consents: u64,
    /// Devices unlinked, their tokens revoked.
    pub devices: u64,
}

/// The answer to an erasure: the receipt and what it says, readably.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Receipt {
    /// The erased subject.
    pub subject: String,
    /// `member` or `household`.
    pub kind: String,
    /// When.
    pub erased_at: Timestamp,
    /// What was erased.
    pub counts: ErasedCounts,
    /// The same, signed: a compact JWS (RFC 7515, EdDSA) verifiable with `/.well-known/jwks.json`.
    pub receipt: String,
    /// Where the verification key is published.
    pub jwks_uri: String,
}

/// `count_devices`: false for members erased with their household, whose devices the
/// household's own erasure counts.
async fn erase_one(
    state: &AppState,
    s: &Subject,
    at: Timestamp,
    counts: &mut ErasedCounts,
    count_devices: bool,
) -> ApiResult<()> {
    let (_, records) = state.store().subject_record_counts(&s.pseudonym).await?;
    if state.keys().destroy(&s.pseudonym).await? {
        counts.keys += 1;
    }
    let erased = state.store().erase_subject(&s.id, at).await?;
    counts.subjects += 1;
    counts.records += records;
    counts.consents += erased.consents;
    if count_devices {
        counts.devices += erased.devices;
    }
    Ok(())
}

/// Deletes the erased subjects' records in the background: their keys are gone, so they are
/// already unreadable, and the receipt need not wait for a delete that grows with the count.
fn delete_records_later(state: &AppState, pseudonyms: Vec<Pseudonym>) {
    let store = state.store().clone();
    tokio::spawn(async move {
        for pseudonym in pseudonyms {
            match store.delete_subject_blocks(&pseudonym).await {
                Ok(n) => tracing::info!(blocks = n, "erased records deleted"),
                Err(e) => {
                    tracing::warn!(error = %e, "deleting erased records failed; retention or restore purge will remove them")
                }
            }
        }
    });
}

/// Erases a member, or a household with all its members, and returns a signed receipt.
pub async fn erase(state: &AppState, id: &SubjectId, actor: &str) -> ApiResult<Receipt> {
    let subject = state.store().subject(id).await?;
    let at = Timestamp::now();
    let mut counts = ErasedCounts::default();
    let mut pseudonyms = vec![subject.pseudonym];
    if subject.kind == SubjectKind::Household {
        for m in state.store().members(&subject.id).await? {
            pseudonyms.push(m.pseudonym);
            erase_one(state, &m, at, &mut counts, false).await?;
        }
    }
    erase_one(state, &subject, at, &mut counts, true).await?;
    // The deleted subject rows are zeroed in the database file; move them out of the WAL too.
    // The key is already gone, so a checkpoint held up by long readers must not turn a done
    // erasure into an error with no receipt and no audit entry: the background checkpoint
    // moves the WAL later.
    if let Err(e) = state.store().checkpoint().await {
        tracing::warn!(error = %e, "checkpoint after erasure deferred to the background checkpoint");
    }

    let kind = subject.kind.as_str().to_owned();
    let claims = serde_json::json!({
        "typ": "privet-erasure-receipt",
        "jti": new_id("rcpt"),
        "iss": "privet",
        "sub": subject.id,
        "kind": kind,
        "iat": at.as_second(),
        "erased_at": at,
        "counts": counts,
    });
    let receipt = state.signing().sign_jws(&claims);
    let audited = audit::record(
        state,
        actor,
        "subject.erase",
        None,
        pseudonyms.clone(),
        counts.records,
        serde_json::json!({"kind": kind, "counts": counts}),
    )
    .await;
    // Only now: the checkpoint and the audit entry would otherwise queue behind the delete.
    delete_records_later(state, pseudonyms);
    audited?;
    Ok(Receipt {
        subject: subject.id.to_string(),
        kind,
        erased_at: at,
        counts,
        receipt,
        jwks_uri: "/.well-known/jwks.json".to_owned(),
    })
}
