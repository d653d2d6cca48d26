//! Ingestion: a device's batch through the policy, sealed per subject, committed durably.

use crate::error::{ApiError, ApiResult};
use crate::ids::record_id;
use crate::service::consent::{is_granted, is_objected};
use crate::service::payload::{self, StoredEvent};
use crate::state::AppState;
use jiff::{SignedDuration, Timestamp};
use privet_crypto::{FieldHasher, Pseudonym, RecordAad, os_rng, seal};
use privet_manifest::{PurposeId, Retention};
use privet_policy::{
    AdmitLimits, BatchLimits, BodyFormat, DeviceContext, DropCounts, SubjectRef, SubjectState,
    ValueHasher, admit_batch, decode_batch,
};
use privet_store::{ConsentRecord, Device, DeviceSeen, NewBlock, Objection, Subject, SubjectId};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use utoipa::ToSchema;

/// What an ingest call answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct IngestOutcome {
    /// Events stored.
    pub accepted: u64,
    /// Fields dropped, by reason.
    #[schema(value_type = Object)]
    pub dropped: DropCounts,
}

struct Hasher<'a>(&'a FieldHasher);

impl ValueHasher for Hasher<'_> {
    fn hash(&self, product: &str, value: &str) -> String {
        self.0.hash(product, value)
    }
}

/// Consents and restrictions of one household's subjects, as of this batch.
struct HouseholdState<'a> {
    product: &'a str,
    consents: HashMap<&'a str, Vec<ConsentRecord>>,
    objections: &'a [Objection],
    restricted: HashSet<&'a str>,
}

impl<'a> HouseholdState<'a> {
    fn new(
        product: &'a str,
        subjects: &'a [Subject],
        consents: &'a [ConsentRecord],
        objections: &'a [Objection],
    ) -> Self {
        let mut by_subject: HashMap<&str, Vec<ConsentRecord>> = HashMap::new();
        for r in consents {
            by_subject
                .entry(r.consent.subject.as_str())
                .or_default()
                .push(r.clone());
        }
        HouseholdState {
            product,
            consents: by_subject,
            objections,
            restricted: subjects
                .iter()
                .filter(|s| s.restricted)
                .map(|s| s.id.as_str())
                .collect(),
        }
    }
}

impl SubjectState for HouseholdState<'_> {
    fn consented(&self, subject: &SubjectRef, purpose: &PurposeId) -> bool {
        subject
            .id()
            .and_then(|id| self.consents.get(id))
            .is_some_and(|records| is_granted(records, self.product, purpose.as_str()))
    }

    fn restricted(&self, subject: &SubjectRef) -> bool {
        subject.id().is_some_and(|id| self.restricted.contains(id))
    }

    fn objected(&self, subject: &SubjectRef, purpose: &PurposeId) -> bool {
        subject.id().is_some_and(|id| {
            let mine: Vec<Objection> = self
                .objections
                .iter()
                .filter(|o| o.subject.as_str() == id)
                .cloned()
                .collect();
            is_objected(&mine, self.product, purpose.as_str())
        })
    }
}

/// The subject id under which a product's non-personal data is keyed.
pub fn product_subject(product: &str) -> String {
    format!("product:{product}")
}

/// Runs one batch from `device` to a durable commit.
pub async fn ingest(
    state: &AppState,
    device: &Device,
    body: &[u8],
    format: BodyFormat,
) -> ApiResult<IngestOutcome> {
    let manifest = state
        .products()
        .get(&device.product)
        .cloned()
        .ok_or_else(|| {
            ApiError::Unprocessable(format!(
                "product `{}` is not loaded on this server",
                device.product
            ))
        })?;
    let events = decode_batch(
        body,
        format,
        &BatchLimits {
            max_events: state.config().max_batch_events,
        },
    )
    .map_err(|e| {
        state.metrics().batches_rejected.inc();
        match e {
            privet_policy::DecodeError::TooManyEvents { max } => ApiError::TooManyEvents { max },
            other => ApiError::Unprocessable(other.to_string()),
        }
    })?;

    // Who the batch may be about: the device's household and its members.
    let mut subjects: Vec<Subject> = Vec::new();
    if let Some(h) = &device.household {
        subjects.push(state.store().subject(h).await?);
        subjects.extend(state.store().members(h).await?);
    }
    let ids: Vec<SubjectId> = subjects.iter().map(|s| s.id.clone()).collect();
    let (consents, objections) = if ids.is_empty() {
        (Vec::new(), Vec::new())
    } else {
        (
            state.store().current_consents(&ids).await?,
            state.store().objections(&ids).await?,
        )
    };
    let household_state = HouseholdState::new(&device.product, &subjects, &consents, &objections);
    let member_ids: Vec<String> = subjects
        .iter()
        .filter(|s| s.kind == privet_store::SubjectKind::Member)
        .map(|s| s.id.as_str().to_owned())
        .collect();
    let ctx = DeviceContext {
        manifest: &manifest,
        household: device.household.as_ref().map(|h| h.as_str()),
        member: device.member.as_ref().map(|m| m.as_str()),
        household_members: &member_ids,
    };
    let limits = AdmitLimits {
        max_future: SignedDuration::try_from(state.config().max_clock_skew)
            .unwrap_or(SignedDuration::from_mins(5)),
        max_past: None,
    };
    let now = Timestamp::now();
    let batch = admit_batch(
        &ctx,
        events,
        &household_state,
        &Hasher(state.field_hasher()),
        now,
        &limits,
    )
    .map_err(|r| {
        state.metrics().batches_rejected.inc();
        if matches!(r, privet_policy::Rejection::Undeclared { .. }) {
            state.metrics().dropped("undeclared", 1);
        }
        ApiError::Unprocessable(r.to_string())
    })?;

    // Group the kept values per (subject, stream, retention): one sealed block each.
    let pseudonym_of: HashMap<&str, Pseudonym> = subjects
        .iter()
        .map(|s| (s.id.as_str(), s.pseudonym))
        .collect();
    let mut groups: BTreeMap<(Pseudonym, String, Retention), Vec<StoredEvent>> = BTreeMap::new();
    let product_pseudonym = state
        .pseudonyms()
        .pseudonym(&product_subject(&device.product));
    let accepted = batch.events.len() as u64;
    for ev in batch.events {
        let pseudonym = match ev.subject.id() {
            Some(id) => *pseudonym_of.get(id).ok_or_else(|| {
                ApiError::Internal("admitted subject is not in the household".to_owned())
            })?,
            None => product_pseudonym,
        };
        for part in ev.parts {
            groups
                .entry((pseudonym, ev.stream.as_str().to_owned(), part.retention))
                .or_default()
                .push(StoredEvent {
                    ts: ev.ts,
                    exp: part.expires_at,
                    data: part.fields,
                });
        }
    }
    let mut blocks = Vec::with_capacity(groups.len());
    for ((pseudonym, stream, retention), events) in groups {
        let key = if pseudonym == product_pseudonym {
            state.keys().get_or_create(&pseudonym).await?
        } else {
            state.keys().get(&pseudonym).await?
        };
        let id = record_id();
        let plain = payload::encode(&events)
            .map_err(|e| ApiError::Internal(format!("encode block: {e}")))?;
        let sealed = seal(
            &key,
            &RecordAad::new(id, pseudonym, &stream),
            &plain,
            &mut os_rng(),
        )?;
        let (mut t_min, mut t_max, mut expires_max) =
            (Timestamp::MAX, Timestamp::MIN, Timestamp::MIN);
        for e in &events {
            t_min = t_min.min(e.ts);
            t_max = t_max.max(e.ts);
            expires_max = expires_max.max(e.exp);
        }
        blocks.push(NewBlock {
            id,
            subject: pseudonym,
            stream,
            product: device.product.clone(),
            device: device.id.clone(),
            retention,
            t_min,
            t_max,
            expires_max,
            count: u32::try_from(events.len()).unwrap_or(u32::MAX),
            payload: sealed,
        });
    }
    let n_blocks = blocks.len() as u64;
    state
        .store()
        .append_blocks(
            blocks,
            Some(DeviceSeen {
                device: device.id.clone(),
                at: now,
                firmware: batch.firmware,
            }),
        )
        .await?;

    let m = state.metrics();
    m.events_accepted.inc_by(accepted);
    m.blocks_stored.inc_by(n_blocks);
    m.dropped("undeclared", batch.dropped.undeclared);
    m.dropped("no_consent", batch.dropped.no_consent);
    m.dropped("expired", batch.dropped.expired);
    m.dropped("restricted", batch.dropped.restricted);
    Ok(IngestOutcome {
        accepted,
        dropped: batch.dropped,
    })
}
