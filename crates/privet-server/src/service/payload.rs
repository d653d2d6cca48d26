//! The plaintext inside a sealed record block: the events of one subject, stream and
//! retention class from one batch.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
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

/// One event of a block as it lies in the decrypted plaintext, borrowed rather than parsed,
/// so an export can stream the stored values out without rebuilding them.
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

/// Decodes a block's events without parsing their values.
pub fn decode_raw(bytes: &[u8]) -> Option<Vec<RawEvent<'_>>> {
    serde_json::from_slice(bytes).ok()
}

/// Tells whether stored expiry times have passed, mostly without parsing them: a stored time
/// is `"YYYY-MM-DDTHH:MM:SS[.fff]Z"`, so its first 19 characters order like the times do
/// whenever they differ from the current second's.
pub struct ExpiryClock {
    now: Timestamp,
    second: String,
}

impl ExpiryClock {
    /// A clock reading `now`.
    pub fn new(now: Timestamp) -> ExpiryClock {
        let second = now.strftime("%Y-%m-%dT%H:%M:%S").to_string();
        ExpiryClock { now, second }
    }

    /// Whether `exp`, a stored expiry (a JSON string), is at or before now; `None` when it is
    /// not a time.
    pub fn expired(&self, exp: &RawValue) -> Option<bool> {
        let text = exp.get().strip_prefix('"')?.strip_suffix('"')?;
        if let Some(head) = text.get(..19)
            && text
                .as_bytes()
                .get(19)
                .is_some_and(|b| matches!(b, b'Z' | b'.'))
            && head.as_bytes()[0].is_ascii_digit()
            && self.second.len() == 19
            && head != self.second
        {
            return Some(head < self.second.as_str());
        }
        let exp: Timestamp = text.parse().ok()?;
        Some(exp <= self.now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_raw_view_holds_what_was_encoded() -> Result<(), Box<dyn std::error::Error>> {
        let mut data = Map::new();
        data.insert("temp".to_owned(), Value::from(21.5));
        data.insert("room".to_owned(), Value::from("kitchen \"north\""));
        let ev = StoredEvent {
            ts: "2026-11-01T10:00:00Z".parse()?,
            exp: "2026-12-01T10:00:00Z".parse()?,
            data: data.clone(),
        };
        let bytes = encode(std::slice::from_ref(&ev))?;
        let raw = decode_raw(&bytes).ok_or("does not decode")?;
        assert_eq!(raw.len(), 1);
        assert_eq!(serde_json::from_str::<Timestamp>(raw[0].ts.get())?, ev.ts);
        assert_eq!(serde_json::from_str::<Timestamp>(raw[0].exp.get())?, ev.exp);
        let back: Map<String, Value> = serde_json::from_str(raw[0].data.get())?;
        assert_eq!(back, data);
        Ok(())
    }
}

#[cfg(test)]
mod expiry_tests {
    use super::*;

    fn raw(t: &str) -> Box<RawValue> {
        RawValue::from_string(format!("\"{t}\"")).unwrap_or_else(|_| unreachable!())
    }

    #[test]
    fn expiry_agrees_with_parsing_the_times() -> Result<(), Box<dyn std::error::Error>> {
        let now: Timestamp = "2026-11-29T10:15:30.25Z".parse()?;
        let clock = ExpiryClock::new(now);
        for (t, expired) in [
            ("2026-11-29T10:15:29Z", true),
            ("2026-11-29T10:15:29.999Z", true),
            ("2026-11-29T10:15:30Z", true),
            ("2026-11-29T10:15:30.25Z", true),
            ("2026-11-29T10:15:30.2500001Z", false),
            ("2026-11-29T10:15:31Z", false),
            ("2027-01-01T00:00:00Z", false),
            ("1999-12-31T23:59:59Z", true),
        ] {
            assert_eq!(clock.expired(&raw(t)), Some(expired), "{t}");
            assert_eq!(t.parse::<Timestamp>()? <= now, expired, "{t}");
        }
        assert_eq!(clock.expired(&raw("soon")), None);
        Ok(())
    }
}
