//! Requests from people without an account — a visitor filmed by a doorbell — answered from
//! what one device recorded in a time range: the streams that record other people
//! ([`privet_policy::visitor_streams`]), events observed in the range
//! ([`VisitorScope::covers`]).
//!
//! Erasing a visitor cannot shred a key: the records are sealed under the household's key,
//! which keeps the household's own data readable. So the blocks holding them are rewritten
//! without those events (or deleted when nothing is left), and the signed receipt says that
//! this is how they went: deleted, the key kept.

use crate::ids::new_id;
use crate::service::audit::{self, Event};
use crate::service::blocks::{Scan, aad};
use crate::service::error::{Conflict, Invalid, ServiceResult};
use crate::state::AppState;
use jiff::Timestamp;
use privet_crypto::os_rng;
use privet_policy::{VisitorScope, block, visitor_streams};
use privet_store::{BlockQuery, DeviceId, Subject};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// Rewrites lost to a concurrent purge are retried this many times before giving up (the
/// request then stays open and can be completed again).
const PASSES: usize = 3;

/// One event a device recorded in the range.
#[derive(Clone, Serialize, ToSchema)]
pub struct VisitorRecord {
    /// The stream.
    pub stream: String,
    /// When the device observed it.
    pub ts: Timestamp,
    /// The values kept.
    #[schema(value_type = Object)]
    pub data: Map<String, Value>,
}

/// Never shows the values.
impl std::fmt::Debug for VisitorRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VisitorRecord")
            .field("stream", &self.stream)
            .field("ts", &self.ts)
            .finish_non_exhaustive()
    }
}

/// What a device recorded of a visitor, with why it was held.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct VisitorExport {
    /// The request answered.
    pub request: String,
    /// The device.
    pub device: String,
    /// Its product.
    pub product: String,
    /// The range searched (inclusive).
    pub from: Timestamp,
    /// The range searched (inclusive).
    pub until: Timestamp,
    /// What each stream searched holds and why.
    pub streams: Vec<StreamInfo>,
    /// The events, oldest first.
    pub records: Vec<VisitorRecord>,
}

/// A stream searched for a visitor: what it is, and each field's purposes and retention.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct StreamInfo {
    /// Stream key.
    pub id: String,
    /// Its description.
    pub description: Option<String>,
    /// Its fields.
    pub fields: Vec<FieldInfo>,
}

/// A field of a stream searched for a visitor.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct FieldInfo {
    /// Field key.
    pub name: String,
    /// Data category.
    pub category: String,
    /// Purposes it is held for.
    pub purposes: Vec<String>,
    /// How long it is kept, as declared.
    pub retention: Option<String>,
}

/// The answer to a visitor's erasure: what went, and the same signed.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct VisitorReceipt {
    /// The request answered.
    pub request: String,
    /// The device.
    pub device: String,
    /// The range (inclusive).
    pub from: Timestamp,
    /// The range (inclusive).
    pub until: Timestamp,
    /// When.
    pub erased_at: Timestamp,
    /// `records_deleted`: the events were deleted (their blocks rewritten without them); no
    /// key was destroyed, since the household's key also seals the household's own data.
    pub method: String,
    /// Events deleted.
    pub records: u64,
    /// Blocks rewritten without them.
    pub blocks_rewritten: u64,
    /// Blocks deleted because nothing else was in them.
    pub blocks_deleted: u64,
    /// The same, signed: a compact JWS (EdDSA) verifiable with `/.well-known/jwks.json`.
    pub receipt: String,
    /// Where the verification key is published.
    pub jwks_uri: String,
}

/// The query for the blocks a visitor's data may be in, and the device's product.
async fn query(state: &AppState, scope: &VisitorScope) -> ServiceResult<(BlockQuery, String)> {
    let device_product = state
        .store()
        .device(&DeviceId::new(scope.device.clone()))
        .await?
        .product;
    let products = state.products();
    let manifest = products
        .get(&device_product)
        .ok_or_else(|| Invalid::ProductNotServed(device_product.clone()))?;
    let streams = visitor_streams(manifest)
        .iter()
        .map(|s| s.id.as_str().to_owned())
        .collect::<Vec<_>>();
    if streams.is_empty() {
        return Err(Invalid::NoVisitorStreams(device_product).into());
    }
    Ok((
        BlockQuery {
            streams,
            device: Some(DeviceId::new(scope.device.clone())),
            since: Some(scope.from),
            until: Some(scope.until),
            ..Default::default()
        },
        device_product,
    ))
}

/// Exports what the device recorded in the range; audited as `actor`'s, against the
/// household's pseudonym.
pub async fn export(
    state: &AppState,
    request: &str,
    household: &Subject,
    scope: &VisitorScope,
    actor: &str,
) -> ServiceResult<VisitorExport> {
    let (q, product) = query(state, scope).await?;
    let now = state.clock().now();
    let mut records = Vec::new();
    let mut scan = Scan::start(state, q.clone()).await?;
    while let Some((b, opened)) = scan.next().await? {
        for ev in opened.live_events(now)? {
            if scope.covers(ev.ts) {
                records.push(VisitorRecord {
                    stream: b.stream.clone(),
                    ts: ev.ts,
                    data: ev.data,
                });
            }
        }
    }
    drop(scan);
    records.sort_by_key(|r| r.ts);
    let streams = stream_info(state, &product, &q.streams);
    audit::record(
        state,
        Event::new(
            actor,
            "visitor.export",
            serde_json::json!({"request": request, "device": scope.device}),
        )
        .subjects(vec![household.pseudonym])
        .count(u64::try_from(records.len()).unwrap_or(u64::MAX)),
    )
    .await?;
    Ok(VisitorExport {
        request: request.to_owned(),
        device: scope.device.clone(),
        product,
        from: scope.from,
        until: scope.until,
        streams,
        records,
    })
}

fn stream_info(state: &AppState, product: &str, streams: &[String]) -> Vec<StreamInfo> {
    let products = state.products();
    let Some(m) = products.get(product) else {
        return Vec::new();
    };
    streams
        .iter()
        .filter_map(|id| m.stream(id))
        .map(|s| StreamInfo {
            id: s.id.as_str().to_owned(),
            description: s.description.as_ref().map(|d| d.value.clone()),
            fields: s
                .fields
                .iter()
                .map(|f| FieldInfo {
                    name: f.name.as_str().to_owned(),
                    category: f.category.value.clone(),
                    purposes: f.purposes.iter().map(|p| p.as_str().to_owned()).collect(),
                    retention: f.retention().map(|r| r.to_string()),
                })
                .collect(),
        })
        .collect()
}

/// Deletes what the device recorded in the range — every event observed in it, from the
/// streams that record other people — and answers with a signed receipt; audited.
pub async fn erase(
    state: &AppState,
    request: &str,
    household: &Subject,
    scope: &VisitorScope,
    actor: &str,
) -> ServiceResult<VisitorReceipt> {
    let (q, product) = query(state, scope).await?;
    let at = state.clock().now();
    let mut records = 0u64;
    let mut rewritten = 0u64;
    let mut deleted = 0u64;
    {
        // Batches in flight for the household commit first; later ones land after and, being
        // new, are not the visit asked about.
        let lock = state.household_lock(&household.id);
        let _exclusive = lock.write().await;
        let mut settled = false;
        for _ in 0..PASSES {
            let pass = erase_pass(state, scope, q.clone()).await?;
            records += pass.records;
            rewritten += pass.rewritten;
            deleted += pass.deleted;
            if !pass.lost_race {
                settled = true;
                break;
            }
        }
        let counts = Counts {
            records,
            rewritten,
            deleted,
        };
        if !settled {
            // A receipt must not claim what is not done: the request stays open to try again;
            // what was deleted so far is audited now, not lost.
            audit_erasure(state, request, household, scope, actor, counts).await?;
            return Err(Conflict::VisitorRecordsBusy.into());
        }
        audit_erasure(state, request, household, scope, actor, counts).await?;
    }
    // Art. 19: whoever received those records is told, by device and range.
    crate::service::webhooks::recipients::notify_visitor_erased(state, &product, request, scope)
        .await;
    let method = "records_deleted".to_owned();
    let claims = serde_json::json!({
        "typ": "privet-visitor-erasure-receipt",
        "jti": new_id("rcpt"),
        "iss": "privet",
        "sub": request,
        "device": scope.device,
        "from": scope.from,
        "until": scope.until,
        "iat": at.as_second(),
        "erased_at": at,
        "method": method,
        "key_destroyed": false,
        "records": records,
        "blocks_rewritten": rewritten,
        "blocks_deleted": deleted,
    });
    Ok(VisitorReceipt {
        request: request.to_owned(),
        device: scope.device.clone(),
        from: scope.from,
        until: scope.until,
        erased_at: at,
        method,
        records,
        blocks_rewritten: rewritten,
        blocks_deleted: deleted,
        receipt: state.signing().sign_jws(&claims),
        jwks_uri: "/.well-known/jwks.json".to_owned(),
    })
}

/// What a visitor's erasure removed: events, blocks rewritten, blocks deleted.
#[derive(Clone, Copy)]
struct Counts {
    records: u64,
    rewritten: u64,
    deleted: u64,
}

/// Audits what a visitor's erasure removed (counts only).
async fn audit_erasure(
    state: &AppState,
    request: &str,
    household: &Subject,
    scope: &VisitorScope,
    actor: &str,
    c: Counts,
) -> ServiceResult<()> {
    audit::record(
        state,
        Event::new(
            actor,
            "visitor.erase",
            serde_json::json!({
                "request": request,
                "device": scope.device,
                "blocks_rewritten": c.rewritten,
                "blocks_deleted": c.deleted,
            }),
        )
        .subjects(vec![household.pseudonym])
        .count(c.records),
    )
    .await?;
    Ok(())
}

/// What one pass over the blocks removed.
#[derive(Default)]
struct Pass {
    records: u64,
    rewritten: u64,
    deleted: u64,
    /// A block changed under this pass (a purge rewrote it): another pass looks again.
    lost_race: bool,
}

async fn erase_pass(state: &AppState, scope: &VisitorScope, q: BlockQuery) -> ServiceResult<Pass> {
    let mut scan = Scan::start(state, q).await?;
    let mut rewrites = Vec::new();
    let mut deletes = Vec::new();
    let mut pass = Pass::default();
    while let Some((b, opened)) = scan.next().await? {
        let mut events = opened.events()?;
        let before = events.len();
        events.retain(|e| !scope.covers(e.ts));
        let removed = u64::try_from(before - events.len()).unwrap_or(u64::MAX);
        if removed == 0 {
            continue;
        }
        if events.is_empty() {
            deletes.push((b.id, removed));
        } else {
            let key = state.keys().get(&b.subject).await?;
            let sealed = block::seal_events(&key, &aad(&b), &events, &mut os_rng())?;
            let n = u32::try_from(events.len()).unwrap_or(u32::MAX);
            rewrites.push((b.id, b.payload, sealed, n, removed));
        }
    }
    drop(scan);
    for (id, old, sealed, n, removed) in rewrites {
        match state.store().rewrite_block(id, old, sealed, n).await {
            Ok(()) => {
                pass.records += removed;
                pass.rewritten += 1;
            }
            Err(e) if e.is_conflict() => pass.lost_race = true,
            // Deleted meanwhile (retention, a purge): nothing of it is left to remove.
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(e.into()),
        }
    }
    // One at a time, so a block that retention or a purge removed meanwhile is not counted
    // in the signed receipt (a visit's blocks are few).
    for (id, removed) in deletes {
        if state.store().delete_blocks(vec![id]).await? == 1 {
            pass.deleted += 1;
            pass.records += removed;
        }
    }
    Ok(pass)
}
