//! How model values are stored in columns, the same for every backend: times as microseconds
//! since the Unix epoch, ids and hashes as their bytes, counts as signed 64-bit integers. A
//! stored value that does not decode is [`Error::Corrupt`].

use crate::error::{Error, Result};
use crate::model::AccountKind;
use jiff::Timestamp;
use privet_crypto::{AuditHash, Pseudonym, TokenHash};

/// A time as stored: microseconds since the Unix epoch.
pub fn ts(t: Timestamp) -> i64 {
    t.as_microsecond()
}

/// A stored time.
pub fn from_ts(us: i64) -> Result<Timestamp> {
    Timestamp::from_microsecond(us).map_err(|_| Error::Corrupt { what: "timestamp" })
}

/// An optional stored time.
pub fn from_opt_ts(us: Option<i64>) -> Result<Option<Timestamp>> {
    us.map(from_ts).transpose()
}

/// A stored pseudonym.
pub fn pseudonym(bytes: &[u8]) -> Result<Pseudonym> {
    Pseudonym::from_slice(bytes).map_err(|_| Error::Corrupt { what: "pseudonym" })
}

/// A stored audit hash.
pub fn audit_hash(bytes: &[u8]) -> Result<AuditHash> {
    let arr: [u8; 32] = bytes
        .try_into()
        .map_err(|_| Error::Corrupt { what: "audit hash" })?;
    Ok(AuditHash::from_bytes(arr))
}

/// A stored token hash; `what` names it if it is corrupt.
pub fn token_hash(bytes: &[u8], what: &'static str) -> Result<TokenHash> {
    let arr: [u8; 32] = bytes.try_into().map_err(|_| Error::Corrupt { what })?;
    Ok(TokenHash::from_bytes(arr))
}

/// The bytes of a token hash, for storage.
pub fn token(hash: &TokenHash) -> &[u8] {
    hash.as_bytes()
}

/// A 16-byte record id.
pub fn record_id(bytes: &[u8]) -> Result<[u8; 16]> {
    bytes
        .try_into()
        .map_err(|_| Error::Corrupt { what: "record id" })
}

/// A stored count (never negative) as the model's `u64`.
pub fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// A stored count the model holds as `u32` (throttle failures), saturating at both ends.
pub fn count_u32(n: i64) -> u32 {
    u32::try_from(n).unwrap_or(if n < 0 { 0 } else { u32::MAX })
}

/// A limit as a signed 64-bit integer (`usize::MAX` means no limit).
pub fn limit(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A `u64` the model uses (a TOTP step) as a signed 64-bit integer; no backend stores more.
pub fn int(v: u64, op: &'static str) -> Result<i64> {
    i64::try_from(v).map_err(|e| Error::backend(op, e))
}

/// An account kind as stored.
pub fn account_kind(kind: AccountKind) -> &'static str {
    match kind {
        AccountKind::Member => "member",
        AccountKind::Staff => "staff",
    }
}

/// A stored account kind.
pub fn from_account_kind(s: &str) -> Result<AccountKind> {
    match s {
        "member" => Ok(AccountKind::Member),
        "staff" => Ok(AccountKind::Staff),
        _ => Err(Error::Corrupt {
            what: "account kind",
        }),
    }
}

/// An endpoint's event names or recipients as stored: JSON text.
pub fn json_list<T: serde::Serialize>(items: &[T]) -> String {
    serde_json::to_string(items).unwrap_or_else(|_| String::from("[]"))
}

/// A stored JSON list.
pub fn from_json_list<T: serde::de::DeserializeOwned>(
    text: &str,
    what: &'static str,
) -> Result<Vec<T>> {
    serde_json::from_str(text).map_err(|_| Error::Corrupt { what })
}

/// A stored delivery state.
pub fn delivery_state(s: &str) -> Result<crate::webhooks::DeliveryState> {
    crate::webhooks::DeliveryState::parse(s).ok_or(Error::Corrupt {
        what: "delivery state",
    })
}

/// A stored HTTP status.
pub fn http_status(n: Option<i64>) -> Result<Option<u16>> {
    n.map(|n| {
        u16::try_from(n).map_err(|_| Error::Corrupt {
            what: "delivery status",
        })
    })
    .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_forms_round_trip_and_junk_is_corrupt() {
        let t = Timestamp::from_microsecond(1_764_930_000_123_456).unwrap_or(Timestamp::UNIX_EPOCH);
        assert_eq!(from_ts(ts(t)).ok(), Some(t));
        assert!(from_ts(i64::MAX).is_err());
        assert!(pseudonym(&[0; 15]).is_err());
        assert!(record_id(&[0; 17]).is_err());
        for kind in [AccountKind::Member, AccountKind::Staff] {
            assert_eq!(from_account_kind(account_kind(kind)).ok(), Some(kind));
        }
        assert!(from_account_kind("admin").is_err());
        assert_eq!(count(-1), 0);
        assert_eq!(count_u32(-1), 0);
        assert_eq!(count_u32(i64::MAX), u32::MAX);
        assert_eq!(limit(usize::MAX), i64::MAX);
    }
}
