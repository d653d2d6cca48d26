//! One message from a device's events topic, to its outcome: ingested exactly as
//! `POST /v1/ingest` would (the same service call, so the same enforcement), recognised when
//! redelivered, or refused — and what the device is told on its results topic (counts and a
//! reason code, never a value).

use crate::error::service_parts;
use crate::mqtt::topics;
use crate::service::error::{Conflict, ServiceError};
use crate::service::ingest::{self, IngestOutcome};
use crate::state::AppState;
use privet_crypto::{DeliveryKind, FieldHasher};
use privet_policy::{BodyFormat, DropCounts};
use privet_store::{DeliveryId, Device, DeviceId};
use rumqttc::v5::mqttbytes::v5::Publish;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Longest `batch-id` user property taken as the message's id.
const MAX_BATCH_ID: usize = 128;

/// What became of one message.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// Stored (possibly with fields dropped, or nothing at all if all were dropped).
    Stored(IngestOutcome),
    /// Already stored when the broker handed it over before: nothing written again.
    Duplicate,
    /// Refused and never stored; acknowledged so it does not come back.
    Rejected(Refusal),
    /// Not on a device's events topic: not ours, acknowledged and ignored.
    Ignored,
    /// The store could not be reached: not acknowledged, so the broker hands it over again.
    Transient,
}

/// Why a message was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Refusal {
    /// Larger than the server accepts.
    TooLarge,
    /// The device is unknown.
    UnknownDevice,
    /// The device's token was revoked (erased or retired).
    Revoked,
    /// Reset or revoked while the message was in flight.
    DeviceChanged,
    /// The payload does not decode, or the manifest rejects the batch.
    Invalid,
    /// Refused for another reason (its type is in `type`).
    Other,
}

impl Refusal {
    /// The label of its metric.
    pub fn label(self) -> &'static str {
        match self {
            Refusal::TooLarge => "too_large",
            Refusal::UnknownDevice => "unknown_device",
            Refusal::Revoked => "revoked",
            Refusal::DeviceChanged => "device_changed",
            Refusal::Invalid => "invalid",
            Refusal::Other => "other",
        }
    }
}

/// The body published on the device's results topic.
#[derive(Debug, Serialize)]
pub struct ResultBody<'a> {
    /// `stored`, `duplicate` or `rejected`.
    pub status: &'static str,
    /// Events stored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accepted: Option<u64>,
    /// Fields dropped, by reason.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dropped: Option<&'a DropCounts>,
    /// Why it was refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<Refusal>,
    /// The problem type HTTP ingest would answer with (`invalid`, `too-large`, …).
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub(crate) kind: Option<&'static str>,
}

/// The device's result for `outcome`; `None` when the device is told nothing.
pub(crate) fn result_body(outcome: &Outcome, kind: Option<&'static str>) -> Option<Vec<u8>> {
    let body = match outcome {
        Outcome::Stored(o) => ResultBody {
            status: "stored",
            accepted: Some(o.accepted),
            dropped: Some(&o.dropped),
            reason: None,
            kind: None,
        },
        Outcome::Duplicate => ResultBody {
            status: "duplicate",
            accepted: None,
            dropped: None,
            reason: None,
            kind: None,
        },
        Outcome::Rejected(r) => ResultBody {
            status: "rejected",
            accepted: None,
            dropped: None,
            reason: Some(*r),
            kind,
        },
        Outcome::Ignored | Outcome::Transient => return None,
    };
    serde_json::to_vec(&body).ok()
}

/// The payload's format: NDJSON when the v5 content type says so; otherwise a JSON array or a
/// single one-line object as JSON, anything else as NDJSON (one event per line).
pub(crate) fn body_format(publish: &Publish) -> BodyFormat {
    let declared = publish
        .properties
        .as_ref()
        .and_then(|p| p.content_type.as_deref());
    match declared {
        Some(ct) if ct.contains("ndjson") || ct.contains("jsonl") => return BodyFormat::Ndjson,
        Some(ct) if ct.starts_with("application/json") => return BodyFormat::Json,
        _ => {}
    }
    let text = publish.payload.trim_ascii();
    match text.first() {
        Some(b'[') => BodyFormat::Json,
        Some(b'{') if !text.contains(&b'\n') => BodyFormat::Json,
        _ => BodyFormat::Ndjson,
    }
}

/// The message's delivery id: from its `batch-id` user property when the device set one (so
/// two identical payloads with different ids are two batches), else from the payload (a
/// byte-identical payload within the window is taken as the same batch redelivered).
pub(crate) fn delivery_of(hasher: &FieldHasher, device: &str, publish: &Publish) -> DeliveryId {
    let batch_id = publish.properties.as_ref().and_then(|p| {
        p.user_properties
            .iter()
            .find(|(k, v)| k == "batch-id" && !v.is_empty() && v.len() <= MAX_BATCH_ID)
            .map(|(_, v)| v.as_bytes())
    });
    DeliveryId(match batch_id {
        Some(id) => hasher.delivery(device, DeliveryKind::BatchId, id),
        None => hasher.delivery(device, DeliveryKind::Payload, &publish.payload),
    })
}

/// One message's outcome, the problem type of a refusal, and the device it came from.
pub(crate) struct Processed {
    /// What became of it.
    pub(crate) outcome: Outcome,
    /// For a refusal: the problem type HTTP ingest would answer with.
    pub(crate) kind: Option<&'static str>,
    /// The device, once found.
    pub(crate) device: Option<Device>,
}

impl Processed {
    /// A message that fails on the server's side while the store works: refused.
    pub(crate) fn refused_as_internal() -> Processed {
        Processed::early(Outcome::Rejected(Refusal::Other), Some("internal"))
    }

    fn early(outcome: Outcome, kind: Option<&'static str>) -> Processed {
        Processed {
            outcome,
            kind,
            device: None,
        }
    }
}

/// How long a device looked up for a message serves the next ones.
const DEVICE_TTL: Duration = Duration::from_secs(1);
/// Devices kept at most (a fleet larger than this is looked up more often, not wrongly).
const DEVICE_CACHE_MAX: usize = 100_000;

/// Devices looked up for their messages, kept a second: a device sends many messages, and a
/// lookup each is most of a small message's cost. Only devices attached to a household are
/// kept: the commit of their batch checks again that they are still attached and not
/// revoked (`DeviceSeen::admitted_under`), so a stale entry never lets a message in.
#[derive(Default)]
pub(crate) struct DeviceCache {
    map: Mutex<HashMap<String, (Instant, Device)>>,
}

impl DeviceCache {
    fn get(&self, id: &str) -> Option<Device> {
        let map = self.map.lock().ok()?;
        let (at, device) = map.get(id)?;
        (at.elapsed() < DEVICE_TTL).then(|| device.clone())
    }

    fn put(&self, device: &Device) {
        if device.household.is_none() || device.revoked_at.is_some() {
            return;
        }
        if let Ok(mut map) = self.map.lock() {
            if map.len() >= DEVICE_CACHE_MAX {
                map.retain(|_, (at, _)| at.elapsed() < DEVICE_TTL);
                if map.len() >= DEVICE_CACHE_MAX {
                    map.clear();
                }
            }
            map.insert(
                device.id.as_str().to_owned(),
                (Instant::now(), device.clone()),
            );
        }
    }

    fn forget(&self, id: &str) {
        if let Ok(mut map) = self.map.lock() {
            map.remove(id);
        }
    }
}

/// Processes messages from one topic (one device's, in the order they came) once, each to
/// its own outcome: the caller retries those `Transient`. The device is looked up once, and
/// the messages it may send are stored together ([`ingest::ingest_deliveries`]).
pub(crate) async fn process_many(
    state: &AppState,
    devices: &DeviceCache,
    publishes: &[&Publish],
) -> Vec<Processed> {
    let topic = publishes.first().map(|p| &p.topic);
    let Some(id) = topic
        .and_then(|t| std::str::from_utf8(t).ok())
        .and_then(topics::device_of_events)
    else {
        return publishes
            .iter()
            .map(|_| Processed::early(Outcome::Ignored, None))
            .collect();
    };
    // Too large is said first, whoever sent it; the others wait for the device.
    let mut answers: Vec<Option<(Outcome, Option<&'static str>)>> = publishes
        .iter()
        .map(|p| {
            // One lane is one topic; checked all the same, as a message from elsewhere must
            // never be stored as this device's.
            if Some(&p.topic) != topic {
                Some((Outcome::Transient, None))
            } else if p.payload.len() > state.config().max_body_bytes {
                Some((Outcome::Rejected(Refusal::TooLarge), Some("too-large")))
            } else {
                None
            }
        })
        .collect();
    let for_all = |answers: Vec<Option<(Outcome, Option<&'static str>)>>,
                   outcome: fn() -> Outcome,
                   kind: Option<&'static str>| {
        answers
            .into_iter()
            .map(|a| {
                let (outcome, kind) = a.unwrap_or_else(|| (outcome(), kind));
                Processed::early(outcome, kind)
            })
            .collect::<Vec<_>>()
    };
    if answers.iter().all(Option::is_some) {
        return for_all(answers, || Outcome::Ignored, None);
    }
    let device = match devices.get(id) {
        Some(d) => Ok(d),
        None => state.store().device(&DeviceId::new(id.to_owned())).await,
    };
    let device = match device {
        Ok(d) => {
            devices.put(&d);
            d
        }
        Err(e) if e.is_not_found() => {
            return for_all(
                answers,
                || Outcome::Rejected(Refusal::UnknownDevice),
                Some("not-found"),
            );
        }
        Err(_) => return for_all(answers, || Outcome::Transient, None),
    };
    if device.revoked_at.is_some() {
        return for_all(
            answers,
            || Outcome::Rejected(Refusal::Revoked),
            Some("forbidden"),
        );
    }
    let deliveries: Vec<ingest::Delivery<'_>> = publishes
        .iter()
        .zip(&answers)
        .filter(|(_, a)| a.is_none())
        .map(|(publish, _)| ingest::Delivery {
            body: &publish.payload,
            format: body_format(publish),
            id: delivery_of(state.field_hasher(), id, publish),
        })
        .collect();
    let mut results = ingest::ingest_deliveries(state, &device, &deliveries)
        .await
        .into_iter();
    for answer in answers.iter_mut().filter(|a| a.is_none()) {
        *answer = Some(match results.next() {
            Some(Ok(o)) => (Outcome::Stored(o), None),
            Some(Err(e)) => classify(&e),
            None => (Outcome::Transient, None),
        });
    }
    let processed: Vec<Processed> = answers
        .into_iter()
        .map(|answer| {
            let (outcome, kind) = answer.unwrap_or((Outcome::Transient, None));
            Processed {
                outcome,
                kind,
                device: Some(device.clone()),
            }
        })
        .collect();
    if processed
        .iter()
        .any(|p| matches!(p.outcome, Outcome::Rejected(_)))
    {
        // Reset, revoked or erased meanwhile: looked up afresh next time.
        devices.forget(id);
    }
    processed
}

/// What an ingest error means for the message.
fn classify(e: &ServiceError) -> (Outcome, Option<&'static str>) {
    use privet_store::Error as Store;
    let (status, kind, _) = service_parts(e);
    let outcome = match e {
        ServiceError::Store(Store::Conflict {
            entity: "delivery", ..
        }) => Outcome::Duplicate,
        ServiceError::Conflict(Conflict::DeviceChanged)
        | ServiceError::Store(Store::NotFound {
            entity: "device", ..
        }) => Outcome::Rejected(Refusal::DeviceChanged),
        ServiceError::Invalid(_) => Outcome::Rejected(Refusal::Invalid),
        // The household changed twice meanwhile: nothing stored, so it is simply taken again.
        ServiceError::Conflict(Conflict::HouseholdBusy) => Outcome::Transient,
        // The store, a key or the runtime failed: nothing is lost by trying again.
        _ if status.is_server_error() => Outcome::Transient,
        _ => Outcome::Rejected(Refusal::Other),
    };
    let kind = matches!(outcome, Outcome::Rejected(_)).then_some(kind);
    (outcome, kind)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rumqttc::v5::mqttbytes::QoS;
    use rumqttc::v5::mqttbytes::v5::PublishProperties;

    fn publish(payload: &str, props: Option<PublishProperties>) -> Publish {
        let mut p = Publish::new(
            topics::events("dev_a"),
            QoS::AtLeastOnce,
            payload.to_owned(),
            props,
        );
        p.pkid = 1;
        p
    }

    #[test]
    fn format_follows_content_type_then_shape() {
        let ndjson = "{\"stream\":\"a\"}\n{\"stream\":\"b\"}";
        assert_eq!(body_format(&publish("[{}]", None)), BodyFormat::Json);
        assert_eq!(body_format(&publish(" {\"a\":1} ", None)), BodyFormat::Json);
        assert_eq!(body_format(&publish(ndjson, None)), BodyFormat::Ndjson);
        let ct = PublishProperties {
            content_type: Some("application/x-ndjson".into()),
            ..Default::default()
        };
        assert_eq!(body_format(&publish("{}", Some(ct))), BodyFormat::Ndjson);
    }

    #[test]
    fn a_batch_id_names_the_delivery_else_the_payload_does() {
        let h = privet_crypto::InstanceRoot::derive(&privet_crypto::MasterKey::from_bytes([1; 32]))
            .field_hasher();
        let with_id = |id: &str| PublishProperties {
            user_properties: vec![("batch-id".into(), id.into())],
            ..Default::default()
        };
        let same = publish("[1]", None);
        assert_eq!(
            delivery_of(&h, "dev_a", &same),
            delivery_of(&h, "dev_a", &same)
        );
        assert_ne!(
            delivery_of(&h, "dev_a", &publish("[1]", Some(with_id("b1")))),
            delivery_of(&h, "dev_a", &publish("[1]", Some(with_id("b2"))))
        );
        assert_eq!(
            delivery_of(&h, "dev_a", &publish("[1]", Some(with_id("b1")))),
            delivery_of(&h, "dev_a", &publish("[2]", Some(with_id("b1"))))
        );
        assert_ne!(
            delivery_of(&h, "dev_a", &same),
            delivery_of(&h, "dev_b", &same)
        );
    }

    #[test]
    fn results_carry_counts_and_reasons_only() {
        let body = result_body(&Outcome::Rejected(Refusal::Invalid), Some("invalid")).unwrap();
        assert_eq!(
            String::from_utf8(body).unwrap(),
            r#"{"status":"rejected","reason":"invalid","type":"invalid"}"#
        );
        let dup = result_body(&Outcome::Duplicate, None).unwrap();
        assert_eq!(String::from_utf8(dup).unwrap(), r#"{"status":"duplicate"}"#);
        assert!(result_body(&Outcome::Transient, None).is_none());
    }
}
