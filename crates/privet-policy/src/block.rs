//! Record blocks: how the events of one subject, stream and retention class from one batch are
//! laid out, sealed under the subject's key, opened and read back — written once, for ingest,
//! reads, export, purges and pages alike.
//!
//! The plaintext starts with a format byte ([`BLOCK_FORMAT`]), then the events as a JSON
//! array. Blocks stored before the byte existed (plain JSON, starting with `[`) still read.

use crate::admit::{Admitted, SubjectRef};
use crate::chunks::{ChunkWindow, chunk_window};
use crate::expiry::{ExpiryClock, is_expired};
use jiff::Timestamp;
use privet_crypto::{CryptoRng, DataKey, RecordAad, open, seal};
use privet_manifest::{Retention, StreamId};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use zeroize::Zeroizing;

/// The format byte of blocks written now: the events as a JSON array follow it.
pub const BLOCK_FORMAT: u8 = 1;

/// One event's values in a block.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredEvent {
    /// When the device observed it.
    pub ts: Timestamp,
    /// When these values expire.
    pub exp: Timestamp,
    /// The kept, minimised values.
    pub data: Map<String, Value>,
}

/// Lists the field names but never their values: values are personal data.
impl std::fmt::Debug for StoredEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredEvent")
            .field("ts", &self.ts)
            .field("exp", &self.exp)
            .field("fields", &self.data.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// One event as it lies in an opened block, borrowed rather than parsed, so an export can
/// stream the stored values out without rebuilding them.
#[derive(Debug, Deserialize)]
pub struct RawEvent<'a> {
    /// When the device observed it: a JSON string (RFC 3339), as stored.
    #[serde(borrow)]
    pub ts: &'a RawValue,
    /// When these values expire: a JSON string (RFC 3339), as stored.
    #[serde(borrow)]
    pub exp: &'a RawValue,
    /// The kept values: a JSON object, as stored.
    #[serde(borrow)]
    pub data: &'a RawValue,
}

/// Why a block could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum BlockError {
    /// Sealing or opening failed (a wrong key, tampering).
    #[error(transparent)]
    Crypto(#[from] privet_crypto::Error),
    /// The plaintext starts with a format byte this build does not know.
    #[error("record block format {0} is not known to this version of Privet")]
    UnknownFormat(u8),
    /// The plaintext does not decode as the format says.
    #[error("record block does not decode")]
    Decode,
    /// The events do not encode.
    #[error("record block does not encode")]
    Encode,
}

/// Encodes events as a block's plaintext (format byte first).
pub fn encode(events: &[StoredEvent]) -> Result<Vec<u8>, BlockError> {
    let mut out = vec![BLOCK_FORMAT];
    serde_json::to_writer(&mut out, events).map_err(|_| BlockError::Encode)?;
    Ok(out)
}

/// Seals events under the subject's key, bound to the record's id, subject and stream.
pub fn seal_events<R: CryptoRng + ?Sized>(
    key: &DataKey,
    aad: &RecordAad<'_>,
    events: &[StoredEvent],
    rng: &mut R,
) -> Result<Vec<u8>, BlockError> {
    let plain = Zeroizing::new(encode(events)?);
    Ok(seal(key, aad, &plain, rng)?)
}

/// An opened block: its plaintext, wiped on drop.
pub struct OpenBlock {
    plain: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for OpenBlock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenBlock").finish_non_exhaustive()
    }
}

impl OpenBlock {
    /// Opens a sealed block with the subject's key.
    pub fn open(key: &DataKey, aad: &RecordAad<'_>, sealed: &[u8]) -> Result<Self, BlockError> {
        Ok(OpenBlock {
            plain: Zeroizing::new(open(key, aad, sealed)?),
        })
    }

    /// A block from its plaintext (tests, and blocks being rewritten).
    pub fn from_plaintext(plain: Vec<u8>) -> Self {
        OpenBlock {
            plain: Zeroizing::new(plain),
        }
    }

    fn json(&self) -> Result<&[u8], BlockError> {
        match self.plain.first() {
            Some(&BLOCK_FORMAT) => Ok(&self.plain[1..]),
            // Written before the format byte: the JSON array itself.
            Some(b'[') => Ok(&self.plain),
            Some(&other) => Err(BlockError::UnknownFormat(other)),
            None => Err(BlockError::Decode),
        }
    }

    /// Every event, expired or not (for rewriting a block).
    pub fn events(&self) -> Result<Vec<StoredEvent>, BlockError> {
        serde_json::from_slice(self.json()?).map_err(|_| BlockError::Decode)
    }

    /// The events not expired at `now`.
    pub fn live_events(&self, now: Timestamp) -> Result<Vec<StoredEvent>, BlockError> {
        let mut events = self.events()?;
        events.retain(|e| !is_expired(e.exp, now));
        Ok(events)
    }

    /// The events not expired by `clock`, borrowed as stored.
    pub fn live_raw_events(&self, clock: &ExpiryClock) -> Result<Vec<RawEvent<'_>>, BlockError> {
        let events: Vec<RawEvent<'_>> =
            serde_json::from_slice(self.json()?).map_err(|_| BlockError::Decode)?;
        let mut live = Vec::with_capacity(events.len());
        for e in events {
            if !clock.expired(e.exp).ok_or(BlockError::Decode)? {
                live.push(e);
            }
        }
        Ok(live)
    }
}

/// The events of one batch for one subject, stream and retention class: one sealed block.
#[derive(Clone, Debug, PartialEq)]
pub struct PlannedBlock {
    /// Whose.
    pub subject: SubjectRef,
    /// The stream.
    pub stream: StreamId,
    /// The retention class of every value.
    pub retention: Retention,
    /// The chunk it is stored in.
    pub window: ChunkWindow,
    /// Earliest event time.
    pub t_min: Timestamp,
    /// Latest event time.
    pub t_max: Timestamp,
    /// Latest expiry.
    pub expires_max: Timestamp,
    /// The events, in batch order.
    pub events: Vec<StoredEvent>,
}

/// Groups an admitted batch into blocks: one per (subject, stream, retention class), in the
/// order each group first appears. A batch has a handful of groups, so a list searched
/// (starting with the last group hit) beats a map keyed by cloned strings.
pub fn plan_blocks(events: Vec<Admitted>) -> Vec<PlannedBlock> {
    let mut groups: Vec<PlannedBlock> = Vec::new();
    let mut last = 0;
    for ev in events {
        for part in ev.parts {
            let same = |b: &PlannedBlock| {
                b.retention == part.retention && b.stream == ev.stream && b.subject == ev.subject
            };
            let at = if groups.get(last).is_some_and(same) {
                last
            } else if let Some(i) = groups.iter().position(same) {
                i
            } else {
                groups.push(PlannedBlock {
                    subject: ev.subject.clone(),
                    stream: ev.stream.clone(),
                    retention: part.retention,
                    window: chunk_window(part.retention, part.expires_at),
                    t_min: ev.ts,
                    t_max: ev.ts,
                    expires_max: part.expires_at,
                    events: Vec::new(),
                });
                groups.len() - 1
            };
            last = at;
            let b = &mut groups[at];
            b.t_min = b.t_min.min(ev.ts);
            b.t_max = b.t_max.max(ev.ts);
            b.expires_max = b.expires_max.max(part.expires_at);
            b.events.push(StoredEvent {
                ts: ev.ts,
                exp: part.expires_at,
                data: part.fields,
            });
        }
    }
    for b in &mut groups {
        b.window = chunk_window(b.retention, b.expires_max);
    }
    groups
}

#[cfg(test)]
mod tests;
