//! Why a batch is rejected whole.

use privet_manifest::StreamId;

/// Why a batch was rejected. Each variant names the event (its 0-based index in the batch) so
/// the device knows which one; none holds a value the device sent, only names (cut to 64
/// characters when the device chose them).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// The stream is not declared in the product's manifest.
    #[error("event {index}: stream `{stream}` is not declared in the product's manifest")]
    UnknownStream {
        /// 0-based position in the batch.
        index: usize,
        /// The stream name as sent, cut to 64 characters.
        stream: String,
    },
    /// `ts` is further ahead of the server's clock than allowed.
    #[error("event {index}: `ts` is too far in the future")]
    FutureTimestamp {
        /// 0-based position in the batch.
        index: usize,
    },
    /// `ts` is further behind the server's clock than allowed.
    #[error("event {index}: `ts` is too far in the past")]
    PastTimestamp {
        /// 0-based position in the batch.
        index: usize,
    },
    /// The event names a member who is not in the device's household.
    #[error("event {index}: `member` is not a member of the device's household")]
    UnknownMember {
        /// 0-based position in the batch.
        index: usize,
        /// The member stream.
        stream: StreamId,
    },
    /// A member stream's event names no member, and the device belongs to none.
    #[error(
        "event {index}: stream `{stream}` holds a member's data, but neither the event nor the device names a member"
    )]
    NoMember {
        /// 0-based position in the batch.
        index: usize,
        /// The member stream.
        stream: StreamId,
    },
    /// The event names a member, but its stream is not about a member (a household's or no
    /// one's data): whose data it is would be unclear, so it is refused rather than ignored.
    #[error(
        "event {index}: stream `{stream}` is not about a member, so the event may not name one"
    )]
    MemberNotAllowed {
        /// 0-based position in the batch.
        index: usize,
        /// The stream.
        stream: StreamId,
    },
    /// The device is not attached to a household, so it cannot send personal data.
    #[error(
        "event {index}: stream `{stream}` holds personal data, but the device is not attached to a household"
    )]
    NoHousehold {
        /// 0-based position in the batch.
        index: usize,
        /// The personal stream.
        stream: StreamId,
    },
    /// A strict product's event has a field (or object key) the manifest does not declare.
    #[error("event {index}: field `{field}` is not declared for stream `{stream}`")]
    Undeclared {
        /// 0-based position in the batch.
        index: usize,
        /// The stream.
        stream: StreamId,
        /// The field's name (`field.key` inside objects), cut to 64 characters.
        field: String,
    },
    /// A field's value does not have its declared type.
    #[error("event {index}: field `{field}` of stream `{stream}` must be {expected}")]
    TypeMismatch {
        /// 0-based position in the batch.
        index: usize,
        /// The stream.
        stream: StreamId,
        /// The field's name (`field.key`, `field[]` inside objects and arrays), cut to 64 characters.
        field: String,
        /// What the value must be.
        expected: String,
    },
    /// A transform declared for the field cannot be applied to its (well-typed) value; the
    /// manifest pairs the transform with the wrong type (the value is not stored untransformed).
    #[error(
        "event {index}: the `{transform}` transform of field `{field}` in stream `{stream}` does not apply to its type; the manifest needs fixing"
    )]
    Transform {
        /// 0-based position in the batch.
        index: usize,
        /// The stream.
        stream: StreamId,
        /// The field's name.
        field: String,
        /// The transform's manifest key.
        transform: &'static str,
    },
}

impl Rejection {
    /// The 0-based position in the batch of the event at fault.
    pub fn index(&self) -> usize {
        match self {
            Rejection::UnknownStream { index, .. }
            | Rejection::FutureTimestamp { index }
            | Rejection::PastTimestamp { index }
            | Rejection::UnknownMember { index, .. }
            | Rejection::NoMember { index, .. }
            | Rejection::NoHousehold { index, .. }
            | Rejection::MemberNotAllowed { index, .. }
            | Rejection::Undeclared { index, .. }
            | Rejection::TypeMismatch { index, .. }
            | Rejection::Transform { index, .. } => *index,
        }
    }

    /// Whether the fault is in the product's manifest rather than in what the device sent.
    pub fn is_manifest_fault(&self) -> bool {
        matches!(self, Rejection::Transform { .. })
    }
}
