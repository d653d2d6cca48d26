//! A shorter retention applies to data already held: the retention job strips the values a
//! product's newest version keeps for less time than an earlier one did, once past the new
//! retention ([`privet_policy::Cut`], [`privet_policy::is_cut`]). A longer retention needs
//! nothing here: each value keeps the expiry it was stored with.
//!
//! Only the blocks of the streams concerned, with events old enough, are opened; a block left
//! with nothing is deleted. A block rewritten meanwhile by a purge (compare-and-set refused) is
//! left for the next run.

use crate::service::audit::{self, Event};
use crate::service::blocks::{Scan, aad};
use crate::service::error::ServiceResult;
use crate::state::AppState;
use jiff::Timestamp;
use jiff::tz::TimeZone;
use privet_crypto::os_rng;
use privet_policy::{Cut, block, is_cut};
use privet_store::BlockQuery;

/// What applying shortened retentions removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CutReport {
    /// Values removed from records.
    pub values: u64,
    /// Records left with nothing and deleted.
    pub records: u64,
}

/// Applies every served product's shortened retentions at the server clock's now; audits
/// what it removed (counts only).
pub async fn run_once(state: &AppState) -> ServiceResult<CutReport> {
    let now = state.clock().now();
    let products = state.products();
    let mut total = CutReport::default();
    for m in products.iter() {
        let product = m.product.id.as_str();
        let Some(lineage) = products.lineage(product) else {
            continue;
        };
        let mut streams: Vec<&str> = lineage.cuts().iter().map(|c| c.stream.as_str()).collect();
        streams.dedup();
        for stream in streams {
            let cuts: Vec<&Cut> = lineage
                .cuts()
                .iter()
                .filter(|c| c.stream == stream)
                .collect();
            let report = cut_stream(state, product, stream, &cuts, now).await?;
            total.values += report.values;
            total.records += report.records;
        }
    }
    if total.values > 0 {
        tracing::info!(
            values = total.values,
            records = total.records,
            "retention removed values past a shortened retention"
        );
        audit::record(
            state,
            Event::new(
                "system",
                "retention.cut",
                serde_json::json!({"values": total.values, "records": total.records}),
            )
            .count(total.records),
        )
        .await?;
    }
    Ok(total)
}

/// The newest event time any of `cuts` can remove at `now`: nothing observed later is past
/// even the longest of them.
fn newest_cut(cuts: &[&Cut], now: Timestamp) -> Option<Timestamp> {
    let longest = cuts.iter().map(|c| c.retention).max()?;
    now.to_zoned_datetime(TimeZone::UTC)
        .checked_sub(longest.span())
        .ok()
        .map(|z| z.timestamp())
}

async fn cut_stream(
    state: &AppState,
    product: &str,
    stream: &str,
    cuts: &[&Cut],
    now: Timestamp,
) -> ServiceResult<CutReport> {
    let Some(until) = newest_cut(cuts, now) else {
        return Ok(CutReport::default());
    };
    let query = BlockQuery {
        streams: vec![stream.to_owned()],
        product: Some(product.to_owned()),
        until: Some(until),
        ..Default::default()
    };
    let mut scan = Scan::start(state, query).await?;
    let mut rewrites = Vec::new();
    let mut deletes = Vec::new();
    let mut report = CutReport::default();
    while let Some((b, opened)) = scan.next().await? {
        let mut events = opened.events()?;
        let mut removed = 0u64;
        for ev in &mut events {
            for cut in cuts {
                if ev.data.contains_key(&cut.field) && is_cut(cut, ev.ts, now) {
                    ev.data.remove(&cut.field);
                    removed += 1;
                }
            }
        }
        if removed == 0 {
            continue;
        }
        events.retain(|e| !e.data.is_empty());
        if events.is_empty() {
            deletes.push(b.id);
            report.values += removed;
            report.records += u64::from(b.count);
        } else {
            let key = state.keys().get(&b.subject).await?;
            let sealed = block::seal_events(&key, &aad(&b), &events, &mut os_rng())?;
            let n = u32::try_from(events.len()).unwrap_or(u32::MAX);
            let gone = u64::from(b.count.saturating_sub(n));
            rewrites.push((b.id, b.payload, sealed, n, removed, gone));
        }
    }
    drop(scan);
    for (id, old, sealed, n, removed, gone) in rewrites {
        match state.store().rewrite_block(id, old, sealed, n).await {
            Ok(()) => {
                report.values += removed;
                report.records += gone;
            }
            // Rewritten or deleted meanwhile: the next run looks again.
            Err(e) if e.is_conflict() || e.is_not_found() => {}
            Err(e) => return Err(e.into()),
        }
    }
    if !deletes.is_empty() {
        state.store().delete_blocks(deletes).await?;
    }
    Ok(report)
}
