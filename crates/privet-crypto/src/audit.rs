//! The audit log's hash chain (DESIGN principle 7): each entry's hash
//! covers the previous hash and the entry's canonical bytes, so changing,
//! removing or reordering any entry breaks every later link.
//!
//! The chain is keyed ([`AuditKey::chain_mac`], HMAC-SHA256 under a key
//! derived from the instance root), so someone who can edit the log but not
//! read the master key cannot recompute the links after an edit. Entries
//! written before the chain was keyed keep their unkeyed SHA-256 links
//! ([`chain_hash`]).

use hmac::{Hmac, KeyInit as _, Mac as _};
use sha2::{Digest as _, Sha256};
use zeroize::Zeroizing;

use crate::encoding::hex_newtype;

/// Domain label, so a chain hash can never equal a hash of anything else.
const CHAIN_LABEL: &[u8] = b"privet/audit-chain/v1";
/// Domain label of the keyed chain.
const KEYED_CHAIN_LABEL: &[u8] = b"privet/audit-chain/v2-hmac";

/// A link of the audit chain (SHA-256), shown and serialised as hex.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct AuditHash([u8; 32]);

hex_newtype!(AuditHash, 32, "audit hash");

impl AuditHash {
    /// The `prev` of the first entry: all zero.
    pub const GENESIS: Self = Self([0; 32]);

    /// Wraps stored hash bytes.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The raw hash bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

/// The hash of an entry: SHA-256(`"privet/audit-chain/v1" || prev ||
/// u64 BE len(entry) || entry`). The length prefix keeps the input
/// unambiguous; `entry_canonical_bytes` must be the entry's canonical
/// encoding, which both store backends produce identically.
pub fn chain_hash(prev: &AuditHash, entry_canonical_bytes: &[u8]) -> AuditHash {
    let mut hasher = Sha256::new();
    hasher.update(CHAIN_LABEL);
    hasher.update(prev.0);
    hasher.update((entry_canonical_bytes.len() as u64).to_be_bytes());
    hasher.update(entry_canonical_bytes);
    AuditHash(hasher.finalize().into())
}

/// The audit chain's HMAC key. `Debug` prints `AuditKey(**redacted**)`.
#[derive(Clone)]
pub struct AuditKey(Zeroizing<[u8; 32]>);

impl AuditKey {
    /// Wraps key bytes (derived by [`InstanceRoot::audit_key`](crate::InstanceRoot::audit_key)).
    pub fn new(bytes: &[u8; 32]) -> Self {
        Self(Zeroizing::new(*bytes))
    }

    /// The keyed link of an entry: HMAC-SHA256(key, `"privet/audit-chain/v2-hmac" || prev ||
    /// u64 BE len(entry) || entry`), the same framing as [`chain_hash`].
    pub fn chain_mac(&self, prev: &AuditHash, entry_canonical_bytes: &[u8]) -> AuditHash {
        // HMAC takes keys of any length, so `new_from_slice` cannot fail on 32 bytes; the
        // fallback keeps this free of panics all the same.
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(self.0.as_slice()) else {
            return AuditHash::GENESIS;
        };
        mac.update(KEYED_CHAIN_LABEL);
        mac.update(&prev.0);
        mac.update(&(entry_canonical_bytes.len() as u64).to_be_bytes());
        mac.update(entry_canonical_bytes);
        AuditHash(mac.finalize().into_bytes().into())
    }
}

impl std::fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuditKey(**redacted**)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_keyed_link_is_the_documented_hmac_and_needs_the_key() {
        let key = AuditKey::new(&[7; 32]);
        let mut mac = Hmac::<Sha256>::new_from_slice(&[7; 32]).unwrap();
        mac.update(b"privet/audit-chain/v2-hmac");
        mac.update(&[0; 32]);
        mac.update(&3u64.to_be_bytes());
        mac.update(b"abc");
        let expected: [u8; 32] = mac.finalize().into_bytes().into();
        let link = key.chain_mac(&AuditHash::GENESIS, b"abc");
        assert_eq!(link.as_bytes(), &expected);
        assert_ne!(
            link,
            chain_hash(&AuditHash::GENESIS, b"abc"),
            "not the unkeyed link"
        );
        assert_ne!(
            link,
            AuditKey::new(&[8; 32]).chain_mac(&AuditHash::GENESIS, b"abc"),
            "another key links differently"
        );
        assert_eq!(format!("{key:?}"), "AuditKey(**redacted**)");
    }

    fn chain(entries: &[&[u8]]) -> Vec<AuditHash> {
        let mut prev = AuditHash::GENESIS;
        entries
            .iter()
            .map(|e| {
                prev = chain_hash(&prev, e);
                prev
            })
            .collect()
    }

    #[test]
    fn chain_is_deterministic_and_order_sensitive() {
        let a = chain(&[b"one", b"two", b"three"]);
        assert_eq!(a, chain(&[b"one", b"two", b"three"]));
        assert_ne!(a, chain(&[b"two", b"one", b"three"]));
        assert_ne!(a[2], chain(&[b"one", b"three"])[1]);
        assert_ne!(a[2], chain(&[b"one", b"twO", b"three"])[2]);
    }

    #[test]
    fn chain_hash_is_the_documented_sha256() {
        let mut input = b"privet/audit-chain/v1".to_vec();
        input.extend_from_slice(&[0; 32]);
        input.extend_from_slice(&3u64.to_be_bytes());
        input.extend_from_slice(b"abc");
        let expected: [u8; 32] = Sha256::digest(&input).into();
        assert_eq!(
            chain_hash(&AuditHash::GENESIS, b"abc").as_bytes(),
            &expected
        );
    }

    #[test]
    fn genesis_is_zero_and_hex_round_trips() {
        assert_eq!(AuditHash::GENESIS.to_hex(), "0".repeat(64));
        let h = chain_hash(&AuditHash::GENESIS, b"entry");
        assert_eq!(h.to_hex().parse::<AuditHash>().unwrap(), h);
        let json = serde_json::to_string(&h).unwrap();
        assert_eq!(json.len(), 66);
        assert_eq!(serde_json::from_str::<AuditHash>(&json).unwrap(), h);
    }
}
