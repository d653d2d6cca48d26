//! Restoring a backup must not bring an erased subject back: whatever has no key any more is
//! unreadable, and is purged — each unkeyed subject by the erasure policy's own step.

use crate::service::error::ServiceResult;
use jiff::Timestamp;
use privet_crypto::Pseudonym;
use privet_policy::ErasureStep;
use privet_store::{Keyring, Store};
use serde::Serialize;
use std::collections::BTreeSet;

/// What a restore purged.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RestorePurge {
    /// Subjects whose key is gone (erased since the backup), removed.
    pub subjects: u64,
    /// Record blocks of such subjects, removed.
    pub blocks: u64,
}

/// Removes every subject row and record block whose subject key is not in the keyring.
pub async fn purge_unkeyed(
    store: &dyn Store,
    keyring: &dyn Keyring,
    now: Timestamp,
) -> ServiceResult<RestorePurge> {
    let mut all: BTreeSet<Pseudonym> = store.all_pseudonyms().await?.into_iter().collect();
    all.extend(store.block_subjects().await?);
    let all: Vec<Pseudonym> = all.into_iter().collect();
    let has = keyring.has_keys(&all).await?;
    let mut report = RestorePurge::default();
    for (p, keyed) in all.iter().zip(has) {
        if keyed {
            continue;
        }
        match store.subject_by_pseudonym(p).await {
            Ok(s) => {
                store
                    .erase_subject(&ErasureStep::for_subject(&s), now)
                    .await?;
                report.subjects += 1;
            }
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(e.into()),
        }
        report.blocks += store.delete_subject_blocks(p).await?;
    }
    Ok(report)
}
