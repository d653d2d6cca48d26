//! The plaintext inside a sealed record block: the events of one subject, stream and
//! retention class from one batch.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One event's values in a block.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredEvent {
    /// When the device observed it.
    pub ts: Timestamp,
    /// When these values expire.
    pub exp: Timestamp,
    /// The kept, minimised values.
    pub data: Map<String, Value>,
}

/// Encodes a block's events.
pub fn encode(events: &[StoredEvent]) -> Result<Vec<u8>, serde_json::Error> {
    serde_json::to_vec(events)
}

/// Decodes a block's events.
pub fn decode(bytes: &[u8]) -> Option<Vec<StoredEvent>> {
    serde_json::from_slice(bytes).ok()
}
