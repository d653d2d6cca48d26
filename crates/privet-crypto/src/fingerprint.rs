//! What a message's delivery fingerprint is taken of ([`crate::FieldHasher::delivery`]): an
//! MQTT message handed over again after a reconnect is the same bytes, recognised without
//! keeping the message.

/// What a fingerprint was taken of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeliveryKind {
    /// An id the device gave the batch (MQTT v5 user property `batch-id`).
    BatchId,
    /// The whole payload.
    Payload,
}

impl DeliveryKind {
    pub(crate) fn tag(self) -> &'static [u8] {
        match self {
            DeliveryKind::BatchId => b"batch-id",
            DeliveryKind::Payload => b"payload",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{InstanceRoot, MasterKey};

    #[test]
    fn same_message_same_fingerprint_parts_do_not_run_together_and_the_key_matters() {
        let h = InstanceRoot::derive(&MasterKey::from_bytes([7; 32])).field_hasher();
        let a = h.delivery("dev_1", DeliveryKind::Payload, b"[1]");
        assert_eq!(a, h.delivery("dev_1", DeliveryKind::Payload, b"[1]"));
        assert_ne!(a, h.delivery("dev_2", DeliveryKind::Payload, b"[1]"));
        assert_ne!(a, h.delivery("dev_1", DeliveryKind::BatchId, b"[1]"));
        assert_ne!(
            h.delivery("dev_1", DeliveryKind::Payload, b"x"),
            h.delivery("dev_", DeliveryKind::Payload, b"1x")
        );
        let other = InstanceRoot::derive(&MasterKey::from_bytes([8; 32])).field_hasher();
        assert_ne!(a, other.delivery("dev_1", DeliveryKind::Payload, b"[1]"));
    }
}
