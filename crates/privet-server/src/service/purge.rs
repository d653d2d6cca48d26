//! Consent withdrawal (and objection) purges the data no purpose still justifies, at once, and
//! says so in the audit log. What to purge is `privet_policy::SubjectPermissions::to_purge`.

use crate::service::audit::{self, Event};
use crate::service::blocks::{Scan, aad};
use crate::service::error::ServiceResult;
use crate::service::permissions;
use crate::state::AppState;
use privet_crypto::os_rng;
use privet_policy::{block, strip_fields};
use privet_store::{BlockQuery, Subject};

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

/// Removes, for `subject`, every stored field that no purpose still justifies, across the
/// products that declare `purpose` (the one just withdrawn or objected to), and audits it.
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
            let mut scan = Scan::start(
                state,
                BlockQuery {
                    subject: Some(subject.pseudonym),
                    streams: vec![stream.to_string()],
                    product: Some(product.to_owned()),
                    ..Default::default()
                },
            )
            .await?;
            // Collect rewrites first: the scan holds a read snapshot while it runs.
            let mut rewrites = Vec::new();
            let mut deletes = Vec::new();
            while let Some((b, opened)) = scan.next().await? {
                let mut events = opened.events()?;
                let mut removed = 0u64;
                for ev in &mut events {
                    removed += strip_fields(&mut ev.data, &fields) as u64;
                }
                if removed == 0 {
                    continue;
                }
                purged.values += removed;
                events.retain(|e| !e.data.is_empty());
                if events.is_empty() {
                    deletes.push(b.id);
                    purged.records += u64::from(b.count);
                } else {
                    let key = state.keys().get(&b.subject).await?;
                    let sealed = block::seal_events(&key, &aad(&b), &events, &mut os_rng())?;
                    let n = u32::try_from(events.len()).unwrap_or(u32::MAX);
                    purged.records += u64::from(b.count.saturating_sub(n));
                    rewrites.push((b.id, sealed, n));
                }
            }
            drop(scan);
            for (id, sealed, n) in rewrites {
                state.store().rewrite_block(id, sealed, n).await?;
            }
            if !deletes.is_empty() {
                state.store().delete_blocks(deletes).await?;
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
