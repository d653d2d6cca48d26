//! Decoding an ingest body (a JSON array or NDJSON) into events, without looking at the manifest.
//!
//! Events are deserialized straight from the bytes into [`IncomingEvent`]s; no intermediate
//! `serde_json::Value` is built for the batch. Errors name the event index and the key, never a
//! value: values are personal data.

mod event;

use event::{EventOrProblem, EventProblem, read_event};
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// How an ingest body is framed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyFormat {
    /// A JSON array of event objects, or a single event object.
    Json,
    /// One event object per line; blank lines are ignored.
    Ndjson,
}

/// Bounds on one batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchLimits {
    /// The most events one batch may hold.
    pub max_events: usize,
}

impl Default for BatchLimits {
    fn default() -> Self {
        BatchLimits { max_events: 10_000 }
    }
}

/// One event as a device sent it, before the manifest is applied.
#[derive(Clone, PartialEq)]
pub struct IncomingEvent {
    /// The stream the device says it belongs to.
    pub stream: String,
    /// When the device observed it.
    pub ts: jiff::Timestamp,
    /// The values, by field name.
    pub data: serde_json::Map<String, serde_json::Value>,
    /// The household member the event is about, when the device knows.
    pub member: Option<String>,
    /// The device's firmware version.
    pub firmware: Option<String>,
}

/// Lists the data keys but never their values: values are personal data.
impl fmt::Debug for IncomingEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IncomingEvent")
            .field("stream", &self.stream)
            .field("ts", &self.ts)
            .field("data_keys", &self.data.keys().collect::<Vec<_>>())
            .field("member", &self.member)
            .field("firmware", &self.firmware)
            .finish()
    }
}

/// Why an ingest body could not be decoded. No variant holds a value from the body.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The body is not valid JSON.
    #[error("the body is not valid JSON (line {line}, column {column})")]
    Syntax {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
    },
    /// The JSON body is neither an array of events nor one event object.
    #[error("the body must be a JSON array of events or a single event object")]
    NotABatch,
    /// The body holds no events.
    #[error("the body holds no events")]
    Empty,
    /// The body holds more events than one batch may.
    #[error("the body holds more than {max} events")]
    TooManyEvents {
        /// The limit.
        max: usize,
    },
    /// An event is not a JSON object.
    #[error("event {index}: not a JSON object")]
    NotAnObject {
        /// 0-based position in the batch.
        index: usize,
    },
    /// An event lacks a required key.
    #[error("event {index}: missing `{key}`")]
    MissingKey {
        /// 0-based position in the batch.
        index: usize,
        /// The key.
        key: &'static str,
    },
    /// A key holds the wrong type of value.
    #[error("event {index}: `{key}` must be {expected}")]
    WrongType {
        /// 0-based position in the batch.
        index: usize,
        /// The key.
        key: &'static str,
        /// What it must be.
        expected: &'static str,
    },
    /// `ts` is not an RFC 3339 timestamp.
    #[error("event {index}: `ts` is not an RFC 3339 timestamp")]
    BadTimestamp {
        /// 0-based position in the batch.
        index: usize,
    },
    /// An event has a top-level key that events do not have.
    #[error("event {index}: unknown key `{key}` (expected stream, ts, data, member, firmware)")]
    UnknownKey {
        /// 0-based position in the batch.
        index: usize,
        /// The key's name, cut to 64 characters.
        key: String,
    },
    /// An event repeats a key.
    #[error("event {index}: `{key}` appears more than once")]
    DuplicateKey {
        /// 0-based position in the batch.
        index: usize,
        /// The key.
        key: &'static str,
    },
}

impl EventProblem {
    fn at(self, index: usize) -> DecodeError {
        match self {
            EventProblem::NotAnObject => DecodeError::NotAnObject { index },
            EventProblem::MissingKey(key) => DecodeError::MissingKey { index, key },
            EventProblem::WrongType { key, expected } => DecodeError::WrongType {
                index,
                key,
                expected,
            },
            EventProblem::BadTimestamp => DecodeError::BadTimestamp { index },
            EventProblem::UnknownKey(key) => DecodeError::UnknownKey { index, key },
            EventProblem::DuplicateKey(key) => DecodeError::DuplicateKey { index, key },
        }
    }
}

/// Whether `firmware` can be a device's firmware version: 1 to 64 characters, none of them a
/// control character (it is stored, shown on pages and compared with release versions).
pub fn valid_firmware(firmware: &str) -> bool {
    !firmware.is_empty()
        && firmware.chars().count() <= 64
        && !firmware.chars().any(char::is_control)
}

/// Only the position of a JSON error is kept: serde_json's messages may quote the input.
fn syntax(e: &serde_json::Error) -> DecodeError {
    DecodeError::Syntax {
        line: e.line(),
        column: e.column(),
    }
}

/// Decodes an ingest body into events.
///
/// `Json` takes an array of event objects (or one object, a batch of one); `Ndjson` takes one
/// object per line and ignores blank lines. Each event has `stream` and `ts` (RFC 3339) strings,
/// a `data` object, and optionally `member` and `firmware` strings (`null` counts as absent).
pub fn decode_batch(
    body: &[u8],
    format: BodyFormat,
    limits: &BatchLimits,
) -> Result<Vec<IncomingEvent>, DecodeError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(DecodeError::Empty);
    }
    let events = match format {
        BodyFormat::Json => decode_json(body, limits)?,
        BodyFormat::Ndjson => decode_ndjson(body, limits)?,
    };
    if events.is_empty() {
        return Err(DecodeError::Empty);
    }
    Ok(events)
}

fn decode_ndjson(body: &[u8], limits: &BatchLimits) -> Result<Vec<IncomingEvent>, DecodeError> {
    let mut events = Vec::new();
    let stream = serde_json::Deserializer::from_slice(body).into_iter::<EventOrProblem>();
    for (index, item) in stream.enumerate() {
        if index >= limits.max_events {
            return Err(DecodeError::TooManyEvents {
                max: limits.max_events,
            });
        }
        match item.map_err(|e| syntax(&e))?.0 {
            Ok(event) => events.push(event),
            Err(problem) => return Err(problem.at(index)),
        }
    }
    Ok(events)
}

fn decode_json(body: &[u8], limits: &BatchLimits) -> Result<Vec<IncomingEvent>, DecodeError> {
    let mut problem = None;
    let mut de = serde_json::Deserializer::from_slice(body);
    let seed = BatchSeed {
        limits,
        problem: &mut problem,
    };
    let result = seed.deserialize(&mut de).and_then(|events| {
        de.end()?;
        Ok(events)
    });
    match (result, problem) {
        (Ok(events), _) => Ok(events),
        (Err(_), Some(problem)) => Err(problem),
        (Err(e), None) => Err(syntax(&e)),
    }
}

/// Reads the top level of a JSON body. A structured problem is parked in `problem` and the
/// parse aborted with an opaque error, so the rest of a rejected body is not parsed.
struct BatchSeed<'s> {
    limits: &'s BatchLimits,
    problem: &'s mut Option<DecodeError>,
}

impl BatchSeed<'_> {
    fn fail<E: de::Error>(self, problem: DecodeError) -> Result<Vec<IncomingEvent>, E> {
        *self.problem = Some(problem);
        Err(E::custom("batch rejected"))
    }
}

impl<'de> DeserializeSeed<'de> for BatchSeed<'_> {
    type Value = Vec<IncomingEvent>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for BatchSeed<'_> {
    type Value = Vec<IncomingEvent>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of events or one event object")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let max = self.limits.max_events;
        let mut events = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(max));
        loop {
            if events.len() >= max {
                return match seq.next_element::<IgnoredAny>()? {
                    Some(_) => self.fail(DecodeError::TooManyEvents { max }),
                    None => Ok(events),
                };
            }
            match seq.next_element::<EventOrProblem>()? {
                None => return Ok(events),
                Some(EventOrProblem(Ok(event))) => events.push(event),
                Some(EventOrProblem(Err(problem))) => {
                    let index = events.len();
                    return self.fail(problem.at(index));
                }
            }
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        if self.limits.max_events == 0 {
            return self.fail(DecodeError::TooManyEvents { max: 0 });
        }
        match read_event(map)? {
            Ok(event) => Ok(vec![event]),
            Err(problem) => self.fail(problem.at(0)),
        }
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        self.fail(DecodeError::NotABatch)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        self.fail(DecodeError::NotABatch)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        self.fail(DecodeError::NotABatch)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        self.fail(DecodeError::NotABatch)
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        self.fail(DecodeError::NotABatch)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        self.fail(DecodeError::NotABatch)
    }
}

#[cfg(test)]
mod tests;
