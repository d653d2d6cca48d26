//! Message fingerprints: what recognises a redelivered MQTT message (the broker hands the same
//! bytes over again after a reconnect), without keeping the message.

use sha2::{Digest as _, Sha256};

/// SHA-256 over a domain tag, the device id and the message's id or payload, each part
/// length-prefixed so no two different inputs hash the same bytes.
pub fn delivery_fingerprint(device: &str, kind: DeliveryKind, bytes: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"privet.delivery.v1");
    for part in [device.as_bytes(), kind.tag(), bytes] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part);
    }
    h.finalize().into()
}

/// What a fingerprint was taken of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeliveryKind {
    /// An id the device gave the batch (MQTT v5 user property `batch-id`).
    BatchId,
    /// The whole payload.
    Payload,
}

impl DeliveryKind {
    fn tag(self) -> &'static [u8] {
        match self {
            DeliveryKind::BatchId => b"batch-id",
            DeliveryKind::Payload => b"payload",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_message_same_fingerprint_and_parts_do_not_run_together() {
        let a = delivery_fingerprint("dev_1", DeliveryKind::Payload, b"[1]");
        assert_eq!(
            a,
            delivery_fingerprint("dev_1", DeliveryKind::Payload, b"[1]")
        );
        assert_ne!(
            a,
            delivery_fingerprint("dev_2", DeliveryKind::Payload, b"[1]")
        );
        assert_ne!(
            a,
            delivery_fingerprint("dev_1", DeliveryKind::BatchId, b"[1]")
        );
        assert_ne!(
            delivery_fingerprint("dev_1", DeliveryKind::Payload, b"x"),
            delivery_fingerprint("dev_", DeliveryKind::Payload, b"1x")
        );
    }
}
