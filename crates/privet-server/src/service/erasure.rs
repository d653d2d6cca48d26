//! Erasure by crypto-shredding, with a signed receipt. What goes is
//! `privet_policy::erasure_plan`'s to say; this carries it out.
//!
//! Order matters: each subject's key is destroyed first (from the cache, then from the keyring's
//! files), so the records are unreadable at once — also in any backup of the data store; then
//! the pseudonym mapping (the subject's row, with what is keyed by its id) goes; then the
//! records themselves, in the background, since without their key they are already noise.

use crate::ids::new_id;
use crate::service::audit::{self, Event};
use crate::service::error::ServiceResult;
use crate::service::permissions;
use crate::state::AppState;
use jiff::Timestamp;
use privet_crypto::Pseudonym;
use privet_policy::{ErasureStep, erasure_plan};
use privet_store::{SubjectId, SubjectKind};
use serde::Serialize;
use utoipa::ToSchema;

/// What an erasure removed, for the receipt.
#[derive(Clone, Debug, Default, Serialize, ToSchema)]
pub struct ErasedCounts {
    /// Subjects erased (a household erases its members too).
    pub subjects: u64,
    /// Subjects whose key is destroyed: none of its copies is left in any file. A key that an
    /// earlier, interrupted attempt already deleted counts, so a retried erasure's receipt
    /// says what is true.
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

async fn erase_steps(
    state: &AppState,
    steps: &[ErasureStep],
    at: Timestamp,
    counts: &mut ErasedCounts,
) -> ServiceResult<()> {
    for step in steps {
        erase_step(state, step, at, counts).await?;
    }
    Ok(())
}

async fn erase_step(
    state: &AppState,
    step: &ErasureStep,
    at: Timestamp,
    counts: &mut ErasedCounts,
) -> ServiceResult<()> {
    let (_, records) = state.store().subject_record_counts(&step.pseudonym).await?;
    // `destroy` answers Ok only once no copy is left; whether this call or an interrupted
    // earlier one deleted the row does not change that the key is gone.
    state.keys().destroy(&step.pseudonym).await?;
    counts.keys += 1;
    let erased = state.store().erase_subject(step, at).await?;
    counts.subjects += 1;
    counts.records += records;
    counts.consents += erased.consents;
    if step.counts_devices {
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
pub async fn erase(state: &AppState, id: &SubjectId, actor: &str) -> ServiceResult<Receipt> {
    // Read once for its household, then again under that household's lock, so the plan
    // covers every member that joined before it and a concurrent erasure is seen.
    let household = state.store().subject(id).await?.household_id().clone();
    let at = state.clock().now();
    let mut counts = ErasedCounts::default();
    let (subject, plan) = {
        // Exclusive for the household: batches in flight commit first (their records go with
        // the rest); later ones find the keys gone.
        let lock = state.household_lock(&household);
        let _exclusive = lock.write().await;
        let subject = state.store().subject(id).await?;
        let members = match subject.kind {
            SubjectKind::Household => state.store().members(&subject.id).await?,
            SubjectKind::Member => Vec::new(),
        };
        let plan = erasure_plan(&subject, &members);
        // Forgotten before the first step and again after, so a step failing half-way never
        // leaves an erased subject in the cache.
        permissions::changed(state, subject.household_id());
        let erased = erase_steps(state, &plan.steps, at, &mut counts).await;
        permissions::changed(state, subject.household_id());
        erased?;
        (subject, plan)
    };
    let pseudonyms = plan.pseudonyms();

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
        Event::new(
            actor,
            "subject.erase",
            serde_json::json!({"kind": kind, "counts": counts}),
        )
        .subjects(pseudonyms.clone())
        .count(counts.records),
    )
    .await;
    // Only now: the audit entry would otherwise queue behind the delete on the writer.
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
