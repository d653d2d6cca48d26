//! Ingestion: a device's batch through the policy, sealed per subject, committed durably.
//! Everything decided here is `privet_policy`'s: decoding, admission (with the household's
//! cached [`privet_policy::Permissions`]), grouping into blocks, the block format.

use crate::ids::record_id;
use crate::service::error::{Conflict, Invalid, ServiceError, ServiceResult};
use crate::service::permissions::{self, HouseholdPermissions};
use crate::state::AppState;
use jiff::SignedDuration;
use privet_crypto::{FieldHasher, Pseudonym, RecordAad, os_rng};
use privet_manifest::Manifest;
use privet_policy::{
    AdmitLimits, BatchLimits, BodyFormat, DecodeError, DeviceContext, DropCounts, IncomingEvent,
    Permissions, Rejection, SubjectRef, ValueHasher, admit_batch, block, decode_batch, plan_blocks,
    product_subject,
};
use privet_store::{DeliveryId, Device, DeviceSeen, HouseholdVersion, NewBlock};
use serde::Serialize;
use std::sync::Arc;
use utoipa::ToSchema;

/// What an ingest call answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct IngestOutcome {
    /// Events stored.
    pub accepted: u64,
    /// Fields dropped, by reason.
    #[schema(value_type = Object)]
    pub dropped: DropCounts,
    /// The firmware version the batch reported, if any (for the MQTT release notice; not part
    /// of the HTTP answer).
    #[serde(skip)]
    pub firmware: Option<String>,
}

struct Hasher<'a>(&'a FieldHasher);

impl ValueHasher for Hasher<'_> {
    fn hash(&self, product: &str, value: &str) -> String {
        self.0.hash(product, value)
    }
}

/// The household's permissions, once sure the device still sends for it: it was read when
/// it signed in, and a reset or erasure may have run since (they hold the household's lock
/// exclusively and forget its permissions), after which its batch must not land.
async fn current_household(
    state: &AppState,
    household: &privet_store::SubjectId,
    device: &Device,
) -> ServiceResult<Arc<HouseholdPermissions>> {
    let loaded = permissions::of_household(state, household).await?;
    if loaded.sends_here(device) {
        return Ok(loaded);
    }
    // Not in what was cached (claimed since, by a path that did not say so): load afresh.
    permissions::forget(state, household);
    let fresh = permissions::of_household(state, household).await?;
    if fresh.sends_here(device) {
        Ok(fresh)
    } else {
        Err(Conflict::DeviceChanged.into())
    }
}

/// Runs one batch from `device` to a durable commit.
pub async fn ingest(
    state: &AppState,
    device: &Device,
    body: &[u8],
    format: BodyFormat,
) -> ServiceResult<IngestOutcome> {
    ingest_delivery(state, device, body, format, None).await
}

/// As [`ingest`], recording `delivery` in the same commit: a batch whose delivery the device
/// already has recorded writes nothing and fails with the store's `Conflict` on `delivery`
/// (an MQTT message handed over again after a crash or reconnect).
pub async fn ingest_delivery(
    state: &AppState,
    device: &Device,
    body: &[u8],
    format: BodyFormat,
    delivery: Option<DeliveryId>,
) -> ServiceResult<IngestOutcome> {
    let manifest = served_manifest(state, device)?;
    let limits = batch_limits(state);
    let decode = || decode_batch(body, format, &limits).map_err(|e| rejected(state, e));
    let batch = || -> ServiceResult<Vec<(Vec<IncomingEvent>, Option<DeliveryId>)>> {
        Ok(vec![(decode()?, delivery)])
    };

    // Held until the batch commits: a withdrawal, objection, restriction or erasure for this
    // household made by this instance waits for it, and it for them (`service::locks`).
    let lock = device.household.as_ref().map(|h| state.household_lock(h));
    let _shared = match &lock {
        Some(l) => Some(l.read().await),
        None => None,
    };
    let committed = |stored: ServiceResult<Stored>| stored.and_then(Stored::committed);
    let stored = match committed(store_batches(state, device, &manifest, batch()?).await) {
        // Another instance changed the household after this one loaded (and cached) its
        // permissions, and this one has not heard yet: the store refused the batch and wrote
        // nothing. Admitted again, once, under permissions read afresh.
        Err(e) if is_stale(&e) => {
            if let Some(h) = &device.household {
                permissions::forget(state, h);
            }
            committed(store_batches(state, device, &manifest, batch()?).await).map_err(|e| {
                if is_gone(&e) || is_device_changed(&e) {
                    // Gone (erased), or the device itself changed: as for a reset.
                    Conflict::DeviceChanged.into()
                } else if is_stale(&e) {
                    // The household changed again: nothing stored, worth sending again.
                    Conflict::HouseholdBusy.into()
                } else {
                    e
                }
            })?
        }
        other => other?,
    };
    stored
        .into_iter()
        .next()
        .unwrap_or(Err(ServiceError::Corrupt("an admission answered no batch")))
}

/// One MQTT message of a device's, for [`ingest_deliveries`].
pub struct Delivery<'a> {
    /// The payload, as for `POST /v1/ingest`.
    pub body: &'a [u8],
    /// Its format.
    pub format: BodyFormat,
    /// Its delivery fingerprint.
    pub id: DeliveryId,
}

/// Several messages of one device, in the order it sent them, each answered as
/// [`ingest_delivery`] would answer it alone: the ones admitted are stored in one commit
/// (one set of blocks, every delivery recorded), which is what makes a stream of small
/// messages affordable. If that commit is refused (a message handed over again, a household
/// changed meanwhile, the store away), each admitted message is stored again on its own, so
/// each gets its own answer.
pub async fn ingest_deliveries(
    state: &AppState,
    device: &Device,
    messages: &[Delivery<'_>],
) -> Vec<ServiceResult<IngestOutcome>> {
    if let [one] = messages {
        return vec![ingest_delivery(state, device, one.body, one.format, Some(one.id)).await];
    }
    let manifest = match served_manifest(state, device) {
        Ok(m) => m,
        Err(_) => {
            return messages
                .iter()
                .map(|_| Err(Invalid::ProductNotServed(device.product.clone()).into()))
                .collect();
        }
    };
    let limits = batch_limits(state);
    // Each message decoded on its own: one that does not decode is refused alone.
    let mut answers: Vec<Option<ServiceResult<IngestOutcome>>> = Vec::new();
    let mut batches = Vec::new();
    let mut admitted_ix = Vec::new();
    for (i, m) in messages.iter().enumerate() {
        match decode_batch(m.body, m.format, &limits) {
            Ok(events) => {
                answers.push(None);
                batches.push((events, Some(m.id)));
                admitted_ix.push(i);
            }
            Err(e) => answers.push(Some(Err(rejected(state, e)))),
        }
    }
    if !batches.is_empty() {
        let lock = device.household.as_ref().map(|h| state.household_lock(h));
        let shared = match &lock {
            Some(l) => Some(l.read().await),
            None => None,
        };
        let stored = store_batches(state, device, &manifest, batches).await;
        // Released before any message is stored alone, which takes it again.
        drop(shared);
        // Which messages to store again alone: every decoded one if admission never ran,
        // else those admitted (a refusal stands, and was counted once).
        let alone: Vec<usize> = match stored {
            Ok(Stored {
                outcomes,
                commit: Ok(()),
            }) => {
                for (i, outcome) in admitted_ix.into_iter().zip(outcomes) {
                    if let Some(slot) = answers.get_mut(i) {
                        *slot = Some(outcome);
                    }
                }
                Vec::new()
            }
            Ok(Stored {
                outcomes,
                commit: Err(_),
            }) => {
                let mut alone = Vec::new();
                for (i, outcome) in admitted_ix.into_iter().zip(outcomes) {
                    match outcome {
                        Ok(_) => alone.push(i),
                        refused => {
                            if let Some(slot) = answers.get_mut(i) {
                                *slot = Some(refused);
                            }
                        }
                    }
                }
                alone
            }
            Err(_) => admitted_ix,
        };
        for i in alone {
            if let (Some(slot), Some(m)) = (answers.get_mut(i), messages.get(i)) {
                *slot = Some(ingest_delivery(state, device, m.body, m.format, Some(m.id)).await);
            }
        }
    }
    answers
        .into_iter()
        .map(|a| a.unwrap_or(Err(ServiceError::Corrupt("a message was not answered"))))
        .collect()
}

/// The manifest the device's product is served under.
fn served_manifest(state: &AppState, device: &Device) -> ServiceResult<Arc<Manifest>> {
    state
        .products()
        .get(&device.product)
        .cloned()
        .ok_or_else(|| ServiceError::Invalid(Invalid::ProductNotServed(device.product.clone())))
}

fn batch_limits(state: &AppState) -> BatchLimits {
    BatchLimits {
        max_events: state.config().max_batch_events,
    }
}

/// Whether the store refused a batch because its household or device changed since the
/// permissions it was admitted under were read.
fn is_stale(e: &ServiceError) -> bool {
    matches!(
        e,
        ServiceError::Store(privet_store::Error::Conflict {
            entity: "household" | "device",
            ..
        })
    )
}

/// Whether the store refused a batch because the device itself was reset, revoked or moved.
fn is_device_changed(e: &ServiceError) -> bool {
    matches!(
        e,
        ServiceError::Store(privet_store::Error::Conflict {
            entity: "device",
            ..
        })
    )
}

/// Whether the household is gone (erased) by the time its permissions were read afresh.
fn is_gone(e: &ServiceError) -> bool {
    matches!(
        e,
        ServiceError::Store(privet_store::Error::NotFound {
            entity: "subject",
            ..
        })
    )
}

/// What one commit of a device's batches stored: each batch's answer, in order (a batch the
/// manifest rejects is refused alone; the others are stored together).
struct Stored {
    outcomes: Vec<ServiceResult<IngestOutcome>>,
    /// Whether the admitted batches were committed: if not, none of them is stored (their
    /// outcomes say what they would have been), and the refused ones were refused anyway.
    commit: ServiceResult<()>,
}

impl Stored {
    /// Each batch's answer, once the commit went through; the commit's error if not.
    fn committed(self) -> ServiceResult<Vec<ServiceResult<IngestOutcome>>> {
        self.commit.map(|()| self.outcomes)
    }
}

/// Admits each of `batches` under the household's permissions (cached, or loaded now), seals
/// the admitted events together and commits them, with every admitted batch's delivery, at
/// the version those permissions were read at: the store writes nothing if the household
/// changed since, or if any of the deliveries is recorded already.
async fn store_batches(
    state: &AppState,
    device: &Device,
    manifest: &Manifest,
    batches: Vec<(Vec<IncomingEvent>, Option<DeliveryId>)>,
) -> ServiceResult<Stored> {
    // Who the batch may be about: the device's household and its members, with what they allow.
    let household: Option<Arc<HouseholdPermissions>> = match &device.household {
        Some(h) => Some(current_household(state, h, device).await?),
        None => None,
    };
    let none = Permissions::default();
    let allowed = household.as_ref().map_or(&none, |h| &h.permissions);
    let member_ids = household
        .as_ref()
        .map(|h| h.member_ids())
        .unwrap_or_default();
    let ctx = DeviceContext {
        manifest,
        household: device.household.as_ref().map(|h| h.as_str()),
        member: device.member.as_ref().map(|m| m.as_str()),
        household_members: &member_ids,
    };
    let admit_limits = AdmitLimits {
        max_future: SignedDuration::try_from(state.config().max_clock_skew)
            .unwrap_or(SignedDuration::from_mins(5)),
        max_past: None,
    };
    // The product's versions: a consent covers what the version it was given under collected.
    let lineage = state.products().lineage(&device.product).cloned();
    let now = state.clock().now();
    let permitted = match &lineage {
        Some(lineage) => allowed.for_product_versions(&device.product, lineage),
        None => allowed.for_product(&device.product),
    };
    let hasher = Hasher(state.field_hasher());
    let mut outcomes = Vec::with_capacity(batches.len());
    let mut events = Vec::new();
    let mut deliveries = Vec::new();
    let mut firmware = None;
    for (batch, delivery) in batches {
        match admit_batch(&ctx, batch, &permitted, &hasher, now, &admit_limits) {
            Ok(admitted) => {
                outcomes.push(Ok(IngestOutcome {
                    accepted: admitted.events.len() as u64,
                    dropped: admitted.dropped,
                    firmware: admitted.firmware.clone(),
                }));
                events.extend(admitted.events);
                deliveries.extend(delivery);
                firmware = admitted.firmware.or(firmware);
            }
            Err(r) => {
                if matches!(r, Rejection::Undeclared { .. }) {
                    state.metrics().dropped("undeclared", 1);
                }
                outcomes.push(Err(rejected(state, r)));
            }
        }
    }
    // Nothing admitted: nothing to commit (a rejected batch records no delivery).
    if outcomes.iter().all(Result::is_err) {
        return Ok(Stored {
            outcomes,
            commit: Ok(()),
        });
    }
    let commit = seal_and_append(
        state,
        device,
        household.as_deref(),
        events,
        DeviceSeen {
            device: device.id.clone(),
            at: now,
            firmware,
            deliveries,
            admitted_under: household
                .as_ref()
                .zip(device.household.as_ref())
                .map(|(h, id)| HouseholdVersion {
                    household: id.clone(),
                    version: h.version,
                }),
        },
    )
    .await;
    if commit.is_ok() {
        let m = state.metrics();
        for stored in outcomes.iter().flatten() {
            m.events_accepted.inc_by(stored.accepted);
            m.dropped("undeclared", stored.dropped.undeclared);
            m.dropped("no_consent", stored.dropped.no_consent);
            m.dropped("reconsent", stored.dropped.reconsent);
            m.dropped("expired", stored.dropped.expired);
            m.dropped("restricted", stored.dropped.restricted);
        }
    }
    Ok(Stored { outcomes, commit })
}

/// Seals admitted `events` into blocks, one per subject, stream and retention, and appends
/// them with `seen` in one commit.
async fn seal_and_append(
    state: &AppState,
    device: &Device,
    household: Option<&HouseholdPermissions>,
    events: Vec<privet_policy::Admitted>,
    seen: DeviceSeen,
) -> ServiceResult<()> {
    let product_pseudonym = state
        .pseudonyms()
        .pseudonym(&product_subject(&device.product));
    let mut blocks = Vec::new();
    for planned in plan_blocks(events) {
        let pseudonym = match &planned.subject {
            SubjectRef::NotPersonal => product_pseudonym,
            subject => pseudonym_of(household, subject)?,
        };
        let key = if pseudonym == product_pseudonym {
            state.keys().get_or_create(&pseudonym).await?
        } else {
            state.keys().get(&pseudonym).await?
        };
        let id = record_id();
        let stream = planned.stream.as_str().to_owned();
        let sealed = block::seal_events(
            &key,
            &RecordAad::new(id, pseudonym, &stream),
            &planned.events,
            &mut os_rng(),
        )?;
        blocks.push(NewBlock {
            id,
            subject: pseudonym,
            stream,
            product: device.product.clone(),
            device: device.id.clone(),
            retention: planned.retention,
            window: planned.window,
            t_min: planned.t_min,
            t_max: planned.t_max,
            expires_max: planned.expires_max,
            count: u32::try_from(planned.events.len()).unwrap_or(u32::MAX),
            payload: sealed,
        });
    }
    let n_blocks = blocks.len() as u64;
    state.store().append_blocks(blocks, Some(seen)).await?;
    state.metrics().blocks_stored.inc_by(n_blocks);
    Ok(())
}

/// Counts a rejected batch and says why.
fn rejected(state: &AppState, why: impl Into<Invalid>) -> ServiceError {
    state.metrics().batches_rejected.inc();
    ServiceError::Invalid(why.into())
}

impl From<DecodeError> for Invalid {
    fn from(e: DecodeError) -> Self {
        Invalid::Batch(e)
    }
}

impl From<Rejection> for Invalid {
    fn from(r: Rejection) -> Self {
        Invalid::Rejected(r)
    }
}

/// The pseudonym of an admitted event's subject: one of the household's.
fn pseudonym_of(
    household: Option<&HouseholdPermissions>,
    subject: &SubjectRef,
) -> ServiceResult<Pseudonym> {
    subject
        .id()
        .and_then(|id| household?.subject(id))
        .map(|s| s.pseudonym)
        // Admission only resolves subjects of the device's household.
        .ok_or(ServiceError::Corrupt(
            "admitted subject outside the household",
        ))
}
