//! Consent withdrawal (and objection) purges the data no purpose still justifies, at once, and
//! says so in the audit log. What to purge is `privet_policy::SubjectPermissions::to_purge`.

use crate::service::audit::{self, Event};
use crate::service::blocks::{Scan, aad};
use crate::service::error::ServiceResult;
use crate::service::permissions;
use crate::state::AppState;
use privet_crypto::os_rng;
use privet_manifest::FieldName;
use privet_policy::{block, strip_fields};
use privet_store::{BlockQuery, Subject};
use std::collections::BTreeSet;

/// What a purge removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Purged {
    /// Values removed from records.
    pub values: u64,
    /// Records left with nothing and deleted.
    pub records: u64,
}

/// Why a purge runs: the audit entry names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cause {
    /// Consent was withdrawn.
    Withdrawal,
    /// A purpose was objected to.
    Objection,
}

impl Cause {
    fn action(self) -> &'static str {
        match self {
            Cause::Withdrawal => "consent.purge",
            Cause::Objection => "objection.purge",
        }
    }
}

/// Times a purge reads a block again because another purge (on this instance or another)
/// rewrote it between this one's read and its write.
const REWRITE_ATTEMPTS: usize = 5;

/// Removes, for `subject`, every stored field that no purpose still justifies, across the
/// products that declare `purpose` (the one just withdrawn or objected to), and audits it.
///
/// A rewrite is a compare-and-set on the payload read: if another purge rewrote the block
/// meanwhile, this one's copy (made from the older payload) would bring back what the other
/// removed, so the store refuses it and the block is read and stripped again.
pub async fn unjustified(
    state: &AppState,
    subject: &Subject,
    purpose: &str,
    cause: Cause,
    actor: &str,
) -> ServiceResult<Purged> {
    let allowed = permissions::of_subject(state, subject).await?;
    let mut purged = Purged::default();
    for manifest in state.products().declaring(purpose) {
        let product = manifest.product.id.as_str();
        for (stream, fields) in allowed.to_purge(manifest) {
            let query = BlockQuery {
                subject: Some(subject.pseudonym),
                streams: vec![stream.to_string()],
                product: Some(product.to_owned()),
                ..Default::default()
            };
            // Every block at first; then only those rewritten under this purge.
            let mut only: Option<BTreeSet<[u8; 16]>> = None;
            for attempt in 1.. {
                let raced = strip(state, &query, &fields, only.as_ref(), &mut purged).await?;
                if raced.is_empty() {
                    break;
                }
                if attempt == REWRITE_ATTEMPTS {
                    return Err(privet_store::Error::conflict("record", "(block)").into());
                }
                only = Some(raced);
            }
        }
    }
    audit::record(
        state,
        Event::new(
            actor,
            cause.action(),
            serde_json::json!({"values": purged.values, "records": purged.records}),
        )
        .purpose(purpose)
        .subjects(vec![subject.pseudonym])
        .count(purged.records),
    )
    .await?;
    Ok(purged)
}

/// A block to rewrite: its id, the payload read, the new payload and count, and what the
/// rewrite removes (values, events).
type Rewrite = ([u8; 16], Vec<u8>, Vec<u8>, u32, Purged);

/// One pass over the blocks `query` selects (those in `only`, if given): strips `fields`,
/// rewrites what keeps events and deletes what keeps none, adding what went to `purged`.
/// Returns the blocks another purge rewrote between this pass's read and its write.
async fn strip(
    state: &AppState,
    query: &BlockQuery,
    fields: &[FieldName],
    only: Option<&BTreeSet<[u8; 16]>>,
    purged: &mut Purged,
) -> ServiceResult<BTreeSet<[u8; 16]>> {
    let mut scan = Scan::start(state, query.clone()).await?;
    // Collect rewrites first: the scan holds a read snapshot while it runs.
    let mut rewrites: Vec<Rewrite> = Vec::new();
    let mut deletes = Vec::new();
    while let Some((b, opened)) = scan.next().await? {
        if only.is_some_and(|o| !o.contains(&b.id)) {
            continue;
        }
        let mut events = opened.events()?;
        let mut removed = 0u64;
        for ev in &mut events {
            removed += strip_fields(&mut ev.data, fields) as u64;
        }
        if removed == 0 {
            continue;
        }
        events.retain(|e| !e.data.is_empty());
        if events.is_empty() {
            deletes.push(b.id);
            purged.values += removed;
            purged.records += u64::from(b.count);
        } else {
            let key = state.keys().get(&b.subject).await?;
            let sealed = block::seal_events(&key, &aad(&b), &events, &mut os_rng())?;
            let n = u32::try_from(events.len()).unwrap_or(u32::MAX);
            let gone = Purged {
                values: removed,
                records: u64::from(b.count.saturating_sub(n)),
            };
            rewrites.push((b.id, b.payload, sealed, n, gone));
        }
    }
    drop(scan);
    let mut raced = BTreeSet::new();
    for (id, old, sealed, n, gone) in rewrites {
        match state.store().rewrite_block(id, old, sealed, n).await {
            Ok(()) => {
                purged.values += gone.values;
                purged.records += gone.records;
            }
            Err(e) if e.is_conflict() => {
                raced.insert(id);
            }
            // Deleted meanwhile (another purge left it empty, an erasure, retention): nothing
            // of it is left to purge.
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(e.into()),
        }
    }
    // A delete needs no such check: what another purge left of the block is a subset of what
    // was read, all of which this purge removes.
    if !deletes.is_empty() {
        state.store().delete_blocks(deletes).await?;
    }
    Ok(raced)
}
