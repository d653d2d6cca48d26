//! Privet's storage interface, with no database in it: the [`Store`] trait for everything but
//! keys, the [`Keyring`] trait for wrapped subject keys, the model they speak, their error, and
//! [`suite`], the one test suite every backend passes (`privet-store-sqlite`, and the
//! PostgreSQL backend to come).
//!
//! Backends store what they are given: which chunk a block belongs in, how an audit entry is
//! linked, what an erasure removes and when a chunk has expired are decided in
//! `privet-policy`. A backend promises durability (a write is durable when its future
//! resolves) and crypto-shredding (once [`Keyring::destroy`] returns, no copy of the key is
//! left in any of its files), and [`suite`] checks both.
//!
//! ```no_run
//! # async fn demo(store: &dyn privet_store::Store) -> privet_store::Result<()> {
//! let (blocks, events) = store.record_counts().await?;
//! println!("{blocks} blocks holding {events} events");
//! # Ok(()) }
//! ```

pub mod columns;
pub mod error;
pub mod model;
pub mod store;
#[cfg(feature = "suite")]
pub mod suite;
pub mod webhooks;

pub use error::{BackendError, Context, Error, Result};
pub use model::*;
pub use privet_policy::{
    ApiKeyId, AuditChain, AuditEntry, AuditHead, AuditVerdict, BrokenEntry, ChunkId, ChunkInfo,
    ChunkWindow, ConsentRecord, DeviceDisposition, DeviceId, ErasureStep, NewAuditEntry,
    NewConsent, Objection, PauseReason, RecipientKey, Role, StoredAuditRow, Subject, SubjectId,
    SubjectKind, VisitorScope, WebhookId,
};
pub use store::{BlockStream, ChangeStream, Keyring, Store};
pub use webhooks::{
    AttemptOutcome, DeliveryState, NewWebhookDelivery, WebhookDelivery, WebhookEndpoint,
};
