//! Consent withdrawal (and objection) purges the data no purpose still justifies, at once.

use crate::error::{ApiError, ApiResult};
use crate::service::consent::{is_granted, is_objected};
use crate::service::payload;
use crate::state::AppState;
use futures::StreamExt;
use privet_crypto::{RecordAad, open, os_rng, seal};
use privet_manifest::PurposeId;
use privet_policy::{strip_fields, unjustified_fields};
use privet_store::{BlockQuery, Subject};

/// What a purge removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Purged {
    /// Values removed from records.
    pub values: u64,
    /// Records left with nothing and deleted.
    pub records: u64,
}

/// Removes, for `subject`, every stored field that no purpose still justifies — each purpose
/// of the field is objected to, or needs consent that is not given — across the products that
/// declare `purpose` (the one just withdrawn or objected to).
pub async fn unjustified(state: &AppState, subject: &Subject, purpose: &str) -> ApiResult<Purged> {
    let current = state
        .store()
        .current_consents(std::slice::from_ref(&subject.id))
        .await?;
    let objections = state
        .store()
        .objections(std::slice::from_ref(&subject.id))
        .await?;
    let key = match state.keys().get(&subject.pseudonym).await {
        Ok(k) => k,
        Err(ApiError::NotFound(_)) => return Ok(Purged::default()),
        Err(e) => return Err(e),
    };
    let mut purged = Purged::default();
    for manifest in state.products().declaring(purpose) {
        let product = manifest.product.id.as_str();
        let consented = |p: &PurposeId| is_granted(&current, product, p.as_str());
        let objected = |p: &PurposeId| is_objected(&objections, product, p.as_str());
        for (stream, fields) in unjustified_fields(manifest, &consented, &objected) {
            let mut blocks = state
                .store()
                .scan_blocks(BlockQuery {
                    subject: Some(subject.pseudonym),
                    streams: vec![stream.to_string()],
                    product: Some(product.to_owned()),
                    ..Default::default()
                })
                .await?;
            // Collect rewrites first: the scan holds a read snapshot while it runs.
            let mut rewrites = Vec::new();
            let mut deletes = Vec::new();
            while let Some(block) = blocks.next().await {
                let block = block?;
                let aad = RecordAad::new(block.id, block.subject, &block.stream);
                let plain = open(&key, &aad, &block.payload)?;
                let Some(mut events) = payload::decode(&plain) else {
                    return Err(ApiError::Internal(
                        "record block does not decode".to_owned(),
                    ));
                };
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
                    deletes.push(block.id);
                    purged.records += u64::from(block.count);
                } else {
                    let bytes =
                        payload::encode(&events).map_err(|e| ApiError::Internal(e.to_string()))?;
                    let sealed = seal(&key, &aad, &bytes, &mut os_rng())?;
                    let n = u32::try_from(events.len()).unwrap_or(u32::MAX);
                    purged.records += u64::from(block.count.saturating_sub(n));
                    rewrites.push((block.id, sealed, n));
                }
            }
            for (id, sealed, n) in rewrites {
                state.store().rewrite_block(id, sealed, n).await?;
            }
            if !deletes.is_empty() {
                state.store().delete_blocks(deletes).await?;
            }
        }
    }
    Ok(purged)
}
