//! New opaque ids: a short prefix naming the kind and 128 random bits.

use privet_crypto::{Rng, os_rng};

/// A fresh id such as `hh_5f2c…` (32 hex digits of randomness).
pub fn new_id(prefix: &str) -> String {
    let mut bytes = [0u8; 16];
    os_rng().fill_bytes(&mut bytes);
    format!("{prefix}_{}", hex::encode(bytes))
}

/// 16 random bytes for a record id.
pub fn record_id() -> [u8; 16] {
    let mut bytes = [0u8; 16];
    os_rng().fill_bytes(&mut bytes);
    bytes
}
