//! Events for one simulated device, generated from its product's manifest: every stream and
//! every field, and now and then an undeclared field, as real firmware sends.

use super::values::ValueGen;
use jiff::Timestamp;
use privet_manifest::{Manifest, Stream, SubjectKind};
use serde_json::{Map, Value};
use std::sync::Arc;

/// Undeclared fields firmware is prone to send: the server must drop them unseen.
const UNDECLARED: &[&str] = &[
    "wifi_ssid",
    "debug_serial",
    "mac_address",
    "uptime_s",
    "wifi_password",
    "gps_raw",
];

/// The share of events that carry one undeclared field (never for `strict` products, which
/// reject the whole batch instead).
const UNDECLARED_RATE: f64 = 0.05;

/// Whose data a generated event is, as the server will attribute it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EventSubject {
    /// The member at this index of the device's members.
    Member(usize),
    /// The device's household.
    Household,
    /// Nobody: the stream is not personal data.
    NotPersonal,
}

/// One generated event: the JSON a device sends, and whose it is.
pub(crate) struct GenEvent {
    /// `{stream, ts, data, member?, firmware?}`.
    pub(crate) json: Value,
    /// Whose data it is.
    pub(crate) subject: EventSubject,
}

/// Generates one device's events.
pub(crate) struct EventGen {
    manifest: Arc<Manifest>,
    members: usize,
    member_ids: Vec<String>,
    values: ValueGen,
    /// Streams it can send (index into the manifest's streams) with cumulative weights.
    streams: Vec<(usize, u32)>,
    undeclared_rate: f64,
    firmware: String,
}

/// How often a stream is sent relative to others: settings, schedules, health reports and
/// runs are occasional; sensor readings are frequent.
fn weight(stream: &Stream) -> u32 {
    let id = stream.id.value.as_str();
    let occasional = ["health", "settings", "schedule", "runs", "sleep"];
    if occasional.iter().any(|o| id.contains(o)) {
        1
    } else {
        6
    }
}

impl EventGen {
    /// Events of `manifest`'s product about `members` (member streams are skipped when there
    /// are none), seeded with `seed`.
    pub(crate) fn new(manifest: Arc<Manifest>, members: Vec<String>, seed: u64) -> Self {
        let mut values = ValueGen::new(seed);
        let mut total = 0;
        let streams = manifest
            .streams
            .iter()
            .enumerate()
            .filter(|(_, s)| !s.fields.is_empty())
            .filter(|(_, s)| s.subject.value != SubjectKind::Member || !members.is_empty())
            .map(|(i, s)| {
                total += weight(s);
                (i, total)
            })
            .collect();
        let r = values.rng();
        let firmware = format!(
            "{}.{}.{}-b{}",
            r.u8(1..=5),
            r.u8(0..=9),
            r.u8(0..=20),
            r.u16(1_000..10_000)
        );
        EventGen {
            undeclared_rate: if manifest.product.strict {
                0.0
            } else {
                UNDECLARED_RATE
            },
            manifest,
            members: members.len(),
            member_ids: members,
            values,
            streams,
            firmware,
        }
    }

    /// Turns undeclared fields off (tests that every generated field is admitted).
    #[cfg(test)]
    pub(crate) fn without_undeclared(mut self) -> Self {
        self.undeclared_rate = 0.0;
        self
    }

    /// Whether the device has any stream to send.
    pub(crate) fn can_send(&self) -> bool {
        !self.streams.is_empty()
    }

    /// The next event, observed at `now`; `None` if the device has no stream to send.
    pub(crate) fn next(&mut self, now: Timestamp) -> Option<GenEvent> {
        let total = self.streams.last()?.1;
        let pick = self.values.rng().u32(0..total);
        let index = self
            .streams
            .iter()
            .find(|(_, cumulative)| pick < *cumulative)
            .map(|(i, _)| *i)?;
        Some(self.event_of(index, now))
    }

    /// One event of the stream at `index` in the manifest.
    pub(crate) fn event_of(&mut self, index: usize, now: Timestamp) -> GenEvent {
        let manifest = self.manifest.clone();
        let stream = &manifest.streams[index];
        let mut data = Map::new();
        for field in &stream.fields {
            let value = if field.name.value.as_str().contains("firmware") {
                Value::String(self.firmware.clone())
            } else {
                self.values.field(field, now)
            };
            data.insert(field.name.value.as_str().to_owned(), value);
        }
        if self.undeclared_rate > 0.0 && self.values.rng().f64() < self.undeclared_rate {
            let r = self.values.rng();
            let name = UNDECLARED[r.usize(..UNDECLARED.len())];
            let junk: String = (0..12).map(|_| r.alphanumeric()).collect();
            data.insert(name.to_owned(), Value::String(junk));
        }
        let mut event = Map::new();
        event.insert(
            "stream".to_owned(),
            Value::String(stream.id.value.as_str().to_owned()),
        );
        event.insert("ts".to_owned(), Value::String(now.to_string()));
        event.insert("data".to_owned(), Value::Object(data));
        // Firmware stamps every message with its version, as most does.
        event.insert("firmware".to_owned(), Value::String(self.firmware.clone()));
        let subject = match stream.subject.value {
            SubjectKind::Member => {
                let m = self.values.rng().usize(..self.members.max(1));
                if let Some(id) = self.member_ids.get(m) {
                    event.insert("member".to_owned(), Value::String(id.clone()));
                }
                EventSubject::Member(m)
            }
            SubjectKind::Household => EventSubject::Household,
            SubjectKind::None => EventSubject::NotPersonal,
        };
        GenEvent {
            json: Value::Object(event),
            subject,
        }
    }

    /// The number of streams in the manifest (tests generate one event of each).
    #[cfg(test)]
    pub(crate) fn stream_count(&self) -> usize {
        self.manifest.streams.len()
    }
}
