//! The audit log's hash chain (DESIGN principle 7): each entry's hash
//! covers the previous hash and the entry's canonical bytes, so changing,
//! removing or reordering any entry breaks every later link.

use sha2::{Digest as _, Sha256};

use crate::encoding::hex_newtype;

/// Domain label, so a chain hash can never equal a hash of anything else.
const CHAIN_LABEL: &[u8] = b"privet/audit-chain/v1";

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

#[cfg(test)]
mod tests {
    use super::*;

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
