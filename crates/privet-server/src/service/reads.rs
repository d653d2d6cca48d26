//! Purpose-bound reads: only the purpose's fields, only subjects the purpose may be read for
//! (`privet_policy::SubjectPermissions::may_read`), nothing past its expiry, every read
//! written to the audit log.

use crate::access::ReadPurpose;
use crate::service::audit::{self, Event};
use crate::service::blocks::Scan;
use crate::service::error::{Missing, ServiceError, ServiceResult};
use crate::service::permissions;
use crate::state::AppState;
use jiff::Timestamp;
use privet_crypto::Pseudonym;
use privet_manifest::PurposeId;
use privet_policy::{ReadGrant, product_subject};
use privet_store::{BlockQuery, SubjectId};
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::{BTreeSet, HashMap};
use tokio::sync::mpsc;
use utoipa::ToSchema;

/// Filters of a purpose-bound read.
#[derive(Clone, Debug, Default)]
pub struct EventQuery {
    /// Only this stream.
    pub stream: Option<String>,
    /// Only this subject (member or household id).
    pub subject: Option<SubjectId>,
    /// Only this product.
    pub product: Option<String>,
    /// Events at or after.
    pub since: Option<Timestamp>,
    /// Events at or before.
    pub until: Option<Timestamp>,
    /// Stop after this many records.
    pub limit: Option<usize>,
}

/// One event as returned by a read: its subject by pseudonym, only the purpose's fields.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct EventRecord {
    /// The subject's pseudonym (`null` for non-personal data).
    pub subject: Option<String>,
    /// Product id.
    pub product: String,
    /// Stream key.
    pub stream: String,
    /// When the device observed it.
    pub ts: Timestamp,
    /// The fields declared for the purpose.
    #[schema(value_type = Object)]
    pub data: Map<String, Value>,
}

/// The end of a read.
#[derive(Debug)]
pub struct ReadSummary {
    /// Records returned.
    pub count: u64,
    /// Whether `limit` cut the read short.
    pub truncated: bool,
}

/// An item of a running read.
#[derive(Debug)]
pub enum ReadItem {
    /// A record.
    Record(EventRecord),
    /// A failure part-way; the read stops.
    Failed(ServiceError),
    /// The read finished.
    Done(ReadSummary),
}

/// Whether a subject may appear in this read, and as what.
enum Visibility {
    /// Yes: by pseudonym, or as `null` for the product's non-personal data; without the
    /// (stream, field)s their consent to the purpose, given under an older manifest version,
    /// does not cover.
    Visible(Option<String>, Vec<(String, String)>),
    Hidden,
}

/// Starts a read; records arrive on the receiver with backpressure, so memory stays constant.
/// The audit entry is appended when the read ends, however it ends.
pub async fn start(
    state: &AppState,
    cap: ReadPurpose,
    query: EventQuery,
) -> ServiceResult<mpsc::Receiver<ReadItem>> {
    let purpose = PurposeId::new(cap.purpose.clone());
    let mut plans = Vec::new();
    for m in state.products().declaring(&cap.purpose) {
        if query
            .product
            .as_ref()
            .is_some_and(|p| p != m.product.id.as_str())
        {
            continue;
        }
        let Some(grant) = ReadGrant::new(m, &purpose) else {
            continue;
        };
        let streams: Vec<String> = grant
            .streams()
            .map(|s| s.id.as_str().to_owned())
            .filter(|s| query.stream.as_ref().is_none_or(|q| q == s))
            .collect();
        if !streams.is_empty() {
            plans.push((m.clone(), streams));
        }
    }
    if state.products().declaring(&cap.purpose).next().is_none() {
        return Err(Missing::Purpose(cap.purpose.clone()).into());
    }
    let subject = match &query.subject {
        Some(id) => Some(state.store().subject(id).await?.pseudonym),
        None => None,
    };
    let (tx, rx) = mpsc::channel(64);
    let state = state.clone();
    tokio::spawn(async move {
        let mut touched: BTreeSet<Pseudonym> = BTreeSet::new();
        let mut count = 0u64;
        let mut truncated = false;
        let outcome = run(
            &state,
            &cap,
            &plans,
            subject,
            &query,
            &tx,
            &mut touched,
            &mut count,
            &mut truncated,
        )
        .await;
        let detail = serde_json::json!({
            "stream": query.stream,
            "product": query.product,
            "truncated": truncated,
        });
        let audited = audit::record(
            &state,
            Event::new(&cap.actor, "events.read", detail)
                .purpose(&cap.purpose)
                .subjects(touched.into_iter().collect())
                .count(count),
        )
        .await;
        let end = match (outcome, audited) {
            (Err(e), _) | (Ok(()), Err(e)) => ReadItem::Failed(e),
            (Ok(()), Ok(_)) => ReadItem::Done(ReadSummary { count, truncated }),
        };
        let _ = tx.send(end).await;
    });
    Ok(rx)
}

#[allow(clippy::too_many_arguments)]
async fn run(
    state: &AppState,
    cap: &ReadPurpose,
    plans: &[(std::sync::Arc<privet_manifest::Manifest>, Vec<String>)],
    subject: Option<Pseudonym>,
    query: &EventQuery,
    tx: &mpsc::Sender<ReadItem>,
    touched: &mut BTreeSet<Pseudonym>,
    count: &mut u64,
    truncated: &mut bool,
) -> ServiceResult<()> {
    let purpose = PurposeId::new(cap.purpose.clone());
    let now = state.clock().now();
    for (manifest, streams) in plans {
        let Some(grant) = ReadGrant::new(manifest, &purpose) else {
            continue;
        };
        // Per product: consents and objections are per product, so who may be read is too.
        let mut seen: HashMap<Pseudonym, Visibility> = HashMap::new();
        let product = manifest.product.id.as_str();
        let product_pseudonym = state.pseudonyms().pseudonym(&product_subject(product));
        let mut scan = Scan::start(
            state,
            BlockQuery {
                subject,
                streams: streams.clone(),
                product: Some(product.to_owned()),
                device: None,
                since: query.since,
                until: query.until,
            },
        )
        .await?;
        while let Some(block) = scan.next_block().await? {
            if let std::collections::hash_map::Entry::Vacant(slot) = seen.entry(block.subject) {
                slot.insert(visibility(state, &block.subject, product_pseudonym, &grant).await?);
            }
            // Checked before opening: a read never decrypts what it may not return.
            let Some(Visibility::Visible(who, uncovered)) = seen.get(&block.subject) else {
                continue;
            };
            let Some(opened) = scan.open(&block).await? else {
                continue;
            };
            for ev in opened.live_events(now)? {
                if query.since.is_some_and(|s| ev.ts < s) || query.until.is_some_and(|u| ev.ts > u)
                {
                    continue;
                }
                let Some(mut data) = grant.project(&block.stream, &ev.data) else {
                    continue;
                };
                for (stream, field) in uncovered {
                    if *stream == block.stream {
                        data.remove(field);
                    }
                }
                if data.is_empty() {
                    continue;
                }
                if query.limit.is_some_and(|l| *count >= l as u64) {
                    *truncated = true;
                    return Ok(());
                }
                let record = EventRecord {
                    subject: who.clone(),
                    product: product.to_owned(),
                    stream: block.stream.clone(),
                    ts: ev.ts,
                    data,
                };
                if tx.send(ReadItem::Record(record)).await.is_err() {
                    // The client went away; what it received is audited.
                    return Ok(());
                }
                *count += 1;
                if who.is_some() {
                    touched.insert(block.subject);
                }
            }
        }
    }
    Ok(())
}

async fn visibility(
    state: &AppState,
    pseudonym: &Pseudonym,
    product_pseudonym: Pseudonym,
    grant: &ReadGrant<'_>,
) -> ServiceResult<Visibility> {
    if *pseudonym == product_pseudonym {
        return Ok(Visibility::Visible(None, Vec::new()));
    }
    let subject = match state.store().subject_by_pseudonym(pseudonym).await {
        Ok(s) => s,
        // Erased: its records are noise without the key, and its row is gone.
        Err(e) if e.is_not_found() => return Ok(Visibility::Hidden),
        Err(e) => return Err(e.into()),
    };
    let allowed = permissions::of_subject(state, &subject).await?;
    let manifest = grant.manifest();
    let product = manifest.product.id.as_str();
    let purpose = grant.purpose().id.as_str();
    let products = state.products();
    let uncovered = match (
        grant.needs_consent(),
        products.lineage(product),
        allowed.grant(product, purpose),
    ) {
        (true, Some(lineage), Some(g)) => {
            privet_policy::uncovered_fields(manifest, lineage, &g, purpose)
        }
        _ => Vec::new(),
    };
    Ok(if allowed.may_read(grant) {
        Visibility::Visible(Some(pseudonym.to_string()), uncovered)
    } else {
        Visibility::Hidden
    })
}
