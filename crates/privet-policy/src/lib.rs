//! Privet's rules, pure: every decision that makes Privet trustworthy is made here, once, as
//! functions over plain data (no I/O; time is a parameter). The store stores and the server
//! wires; neither decides.
//!
//! - The domain: [`SubjectId`], [`Subject`], [`SubjectKind`], [`ConsentRecord`],
//!   [`Objection`], [`Role`].
//! - Ingest: [`decode_batch`] turns an ingest body (a JSON array or NDJSON) into
//!   [`IncomingEvent`]s; [`admit_batch`] applies the manifest to them — the stream must be
//!   declared, the timestamp plausible, the subject known; undeclared fields are dropped (or
//!   the batch rejected when the product is strict); values are type-checked and minimised;
//!   fields collected only for consent-based purposes are kept only with consent; what is
//!   kept is split into [`Part`]s by retention. Drops are counted in [`DropCounts`], never
//!   logged with values. [`plan_blocks`] groups what was admitted into record blocks.
//! - [`Permissions`]: consents (the rule for the decision in force is [`ConsentLedger`]),
//!   objections and restriction, answering "may this be collected", "may this be read for
//!   this purpose" and "what must be purged now".
//! - [`ReadGrant`] is the capability to read for one purpose: it projects stored fields down
//!   to those declared for that purpose.
//! - [`is_expired`] is the one expiry rule; [`chunk_window`] and [`expired_chunks`] the
//!   retention windows; [`erasure_plan`] what an erasure removes.
//! - [`can`], [`authorize`], [`authorize_read`] and [`member_access`]: who may do what.
//! - [`audit`]: the audit chain, linked and verified.
//! - [`block`]: the record block format, sealed and opened.
//! - [`check_password`], [`check_name`], [`normalize_email`]: what accounts and profiles
//!   accept.
//! - [`webhooks`]: which events go to which endpoints ([`delivers_to`]), the retry schedule
//!   ([`next_attempt`]), and which recipients hear of an erasure, rectification or
//!   restriction under Art. 19 ([`recipients_to_notify`]).
//!
//! No error of this crate carries a value a device sent: values are personal data. Errors name
//! the event's index, the stream and the field — names as the device sent them, cut to 64
//! characters, since an unknown stream or field is named only by the device.
//!
//! ```
//! use privet_policy::{
//!     AdmitLimits, BatchLimits, BodyFormat, DeviceContext, SubjectRef, SubjectState, ValueHasher,
//!     admit_batch, decode_batch,
//! };
//! use privet_manifest::PurposeId;
//!
//! let manifest = privet_manifest::parse(r#"
//! [product]
//! id = "acme-thermostat-2"
//! name = "Acme Smart Thermostat 2"
//! maker = "Acme Ltd"
//!
//! [purposes.heating_control]
//! description = "Run your heating to the schedule you set."
//! use = "essential.service"
//! basis = "contract"
//!
//! [streams.climate]
//! subject = "household"
//!
//! [streams.climate.fields.temperature_c]
//! type = "number"
//! category = "user.sensor"
//! purposes = ["heating_control"]
//! retention = "400d"
//! transform = { round = 0.5 }
//! "#).unwrap().manifest;
//!
//! struct NoConsents;
//! impl SubjectState for NoConsents {
//!     fn consented(&self, _: &SubjectRef, _: &PurposeId) -> bool { false }
//! }
//! struct Hasher;
//! impl ValueHasher for Hasher {
//!     fn hash(&self, _: &str, value: &str) -> String { format!("h({})", value.len()) }
//! }
//!
//! let body = br#"[{"stream": "climate", "ts": "2026-11-28T10:15:00Z",
//!                 "data": {"temperature_c": 21.3, "wifi_password": "hunter2"}}]"#;
//! let events = decode_batch(body, BodyFormat::Json, &BatchLimits { max_events: 100 }).unwrap();
//!
//! let ctx = DeviceContext {
//!     manifest: &manifest,
//!     household: Some("hh-1"),
//!     member: None,
//!     household_members: &[],
//! };
//! let now = "2026-11-28T10:15:01Z".parse().unwrap();
//! let batch = admit_batch(&ctx, events, &NoConsents, &Hasher, now, &AdmitLimits::default()).unwrap();
//!
//! assert_eq!(batch.dropped.undeclared, 1); // the password never reaches storage
//! let event = &batch.events[0];
//! assert_eq!(event.subject, SubjectRef::Household("hh-1".to_owned()));
//! assert_eq!(event.parts[0].fields["temperature_c"], 21.5); // rounded to the nearest 0.5
//! ```

mod admit;
pub mod audit;
mod authz;
pub mod block;
mod chunks;
mod consent;
mod decode;
mod erasure;
mod expiry;
mod ids;
mod password;
mod permissions;
mod profile;
mod purge;
mod read;
mod rights;
mod scope;
mod subjects;
mod versions;
mod visitors;
pub mod webhooks;

pub use admit::{
    AdmitLimits, Admitted, AdmittedBatch, DeviceContext, DropCounts, Part, Rejection, SubjectRef,
    SubjectState, ValueHasher, admit_batch,
};
pub use audit::{
    AuditChain, AuditEntry, AuditHead, AuditVerdict, BrokenEntry, ChainVerifier, NewAuditEntry,
    StoredAuditRow,
};
pub use authz::{
    Action, Denied, Granted, MemberAccess, MemberViewer, ReadPermit, Role, SubjectAction,
    SubjectDenied, authorize, authorize_read, can, member_access,
};
pub use block::{BlockError, OpenBlock, PlannedBlock, StoredEvent, plan_blocks};
pub use chunks::{
    ChunkId, ChunkInfo, ChunkWindow, chunk_window, expired_chunks, is_past, window_width,
};
pub use consent::{
    ConsentLedger, ConsentRecord, Grant, NewConsent, Objection, is_granted, is_objected,
};
pub use decode::{
    BatchLimits, BodyFormat, DecodeError, IncomingEvent, decode_batch, valid_firmware,
};
pub use erasure::{DeviceDisposition, ErasurePlan, ErasureStep, erasure_plan};
pub use expiry::{ExpiryClock, is_expired};
pub use ids::{ApiKeyId, DeviceId, SubjectId, WebhookId};
pub use password::{
    MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS, MIN_ZXCVBN_SCORE, PasswordProblem, check_password,
};
pub use permissions::{Permissions, ProductPermissions, SubjectPermissions, is_available};
pub use profile::{
    MAX_EMAIL_BYTES, MAX_NAME_CHARS, ProfileProblem, check_email, check_name, email_lookup_form,
    normalize_email,
};
pub use purge::{strip_fields, unjustified_fields};
pub use read::ReadGrant;
pub use rights::{
    Clock as RequestClock, PauseReason, RequestStatus, acknowledge_by, due_date, extended_due_date,
    is_overdue, paused_days, uk_date, uk_day_start, uk_time, utc_date,
};
pub use scope::{choices_for, objections_for, streams_about};
pub use subjects::{Subject, SubjectKind, product_subject};
pub use versions::{
    ChangeAction, Cut, Lineage, PendingChange, Rank, VersionedChange, is_cut, pending_changes,
    uncovered_fields, version_in,
};
pub use visitors::{VisitorScope, visitor_recipients, visitor_streams};
pub use webhooks::{
    EventType, RecipientKey, Retry, Route, delivers_to, next_attempt, recipients_to_notify,
};

/// The longest name (of a key, stream or field sent by a device) an error repeats.
pub const MAX_DEVICE_NAME_CHARS: usize = 64;

/// A name sent by a device, made safe to repeat in an error: cut to [`MAX_DEVICE_NAME_CHARS`]
/// characters, with control characters replaced so it cannot forge log lines.
pub(crate) fn clip_name(name: &str) -> String {
    name.chars()
        .take(MAX_DEVICE_NAME_CHARS)
        .map(|c| if c.is_control() { '\u{FFFD}' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clipped_names_are_short_and_single_line() {
        let long = "k".repeat(200);
        assert_eq!(clip_name(&long).chars().count(), MAX_DEVICE_NAME_CHARS);
        assert_eq!(clip_name("a\nb"), "a\u{FFFD}b");
        assert_eq!(clip_name("ünïcode"), "ünïcode");
    }
}
