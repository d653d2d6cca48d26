//! Erasure by crypto-shredding, with a signed receipt. What goes is
//! `privet_policy::erasure_plan`'s to say; this carries it out.
//!
//! Order matters: each subject's key is destroyed first (from the cache, then from the keyring's
//! files), so the records are unreadable at once — also in any backup of the data store; then
//! the pseudonym mapping (the subject's row, with what is keyed by its id) goes; then the
//! records themselves, in the background, since without their key they are already noise.
//!
//! The receipt says what is true of the keys: the live key is destroyed now
//! (`key_destroyed_at`); copies of the keyring taken before — backups, WAL archives, replicas,
//! PostgreSQL's old row versions — still hold it wrapped under the master-key epoch of the
//! time, and become unreadable when that epoch is retired (`older_copies_unreadable_by`, see
//! `service::rotation`): at the next scheduled rotation, or the one after when the key's epoch
//! (or this instance's newest) is newer than the last rotation's; or `rotation_overdue` when
//! the next rotation is late and no date can honestly be given. The period is the one kept in
//! the keyring, the same for every instance.

use crate::ids::new_id;
use crate::service::audit::{self, Event};
use crate::service::error::ServiceResult;
use crate::service::rotation::{OlderCopies, older_copies_unreadable_by};
use crate::service::{changes, instance_secrets, jobs, permissions, webhooks};
use crate::state::AppState;
use jiff::Timestamp;
use privet_policy::{ErasureStep, erasure_plan};
use privet_store::{Change, SubjectId, SubjectKind};
use serde::Serialize;
use utoipa::ToSchema;

/// What an erasure removed, for the receipt.
#[derive(Clone, Debug, Default, Serialize, ToSchema)]
pub struct ErasedCounts {
    /// Subjects erased (a household erases its members too).
    pub subjects: u64,
    /// Subjects whose live key is destroyed: no copy is left in the live keyring's files. A
    /// key that an earlier, interrupted attempt already deleted counts, so a retried erasure's
    /// receipt says what is true. Older copies of the keyring (backups, WAL archives,
    /// replicas, old row versions) are unreadable by the receipt's
    /// `older_copies_unreadable_by`.
    pub keys: u64,
    /// Records (events) made unreadable and deleted.
    pub records: u64,
    /// Consent records deleted.
    pub consents: u64,
    /// Devices unlinked, their tokens revoked.
    pub devices: u64,
}

/// The answer to an erasure: the receipt and what it says, readably.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Receipt {
    /// The erased subject.
    pub subject: String,
    /// `member` or `household`.
    pub kind: String,
    /// When.
    pub erased_at: Timestamp,
    /// What was erased.
    pub counts: ErasedCounts,
    /// When the subjects' live keys were destroyed: from then on the records are unreadable,
    /// also in any backup of the data store (which never holds the keyring).
    pub key_destroyed_at: Timestamp,
    /// By when every older copy of the keyring (backup, WAL archive, replica, old row version)
    /// is unreadable too: when the epoch those copies hold the key under is retired — the next
    /// scheduled master-key rotation, or the one after when that epoch was added since the
    /// last rotation. `null` when the next rotation is overdue.
    pub older_copies_unreadable_by: Option<Timestamp>,
    /// The scheduled master-key rotation is past and has not happened, so no date can be
    /// given for older copies of the keyring.
    pub rotation_overdue: bool,
    /// The same, signed: a compact JWS (RFC 7515, EdDSA) verifiable with `/.well-known/jwks.json`.
    pub receipt: String,
    /// Where the verification key is published.
    pub jwks_uri: String,
}

/// The newest master-key epoch that wrapped any of the keys destroyed, as read just before.
type NewestDestroyed = Option<u32>;

async fn erase_steps(
    state: &AppState,
    steps: &[ErasureStep],
    at: Timestamp,
    counts: &mut ErasedCounts,
    newest: &mut NewestDestroyed,
) -> ServiceResult<()> {
    for step in steps {
        erase_step(state, step, at, counts, newest).await?;
    }
    Ok(())
}

async fn erase_step(
    state: &AppState,
    step: &ErasureStep,
    at: Timestamp,
    counts: &mut ErasedCounts,
    newest: &mut NewestDestroyed,
) -> ServiceResult<()> {
    let (_, records) = state.store().subject_record_counts(&step.pseudonym).await?;
    // `destroy` answers Ok only once no copy is left; whether this call or an interrupted
    // earlier one deleted the row does not change that the key is gone.
    let destroyed = state.keys().destroy(&step.pseudonym).await?;
    *newest = (*newest).max(destroyed.epoch);
    counts.keys += 1;
    let erased = state.store().erase_subject(step, at).await?;
    counts.subjects += 1;
    counts.records += records;
    counts.consents += erased.consents;
    if step.counts_devices {
        counts.devices += erased.devices;
    }
    Ok(())
}

/// Erases a member, or a household with all its members, and returns a signed receipt.
pub async fn erase(state: &AppState, id: &SubjectId, actor: &str) -> ServiceResult<Receipt> {
    // Read once for its household, then again under that household's lock, so the plan
    // covers every member that joined before it and a concurrent erasure is seen.
    let household = state.store().subject(id).await?.household_id().clone();
    // Read before anything is erased: the devices and consents that say who received the data.
    let recipients = webhooks::recipients::of_subject(state, id).await;
    let at = state.clock().now();
    // Read before anything is destroyed: if the keyring cannot say when older copies become
    // unreadable, nothing is erased and the request can be retried, rather than the erasure
    // committing without its receipt.
    let schedule = Schedule::read(state, at).await?;
    let mut counts = ErasedCounts::default();
    let mut newest_destroyed: NewestDestroyed = None;
    let (subject, plan, revoked) = {
        // Exclusive for the household: batches in flight commit first (their records go with
        // the rest); later ones find the keys gone.
        let lock = state.household_lock(&household);
        let _exclusive = lock.write().await;
        let subject = state.store().subject(id).await?;
        let members = match subject.kind {
            SubjectKind::Household => state.store().members(&subject.id).await?,
            SubjectKind::Member => Vec::new(),
        };
        let plan = erasure_plan(&subject, &members);
        // Read while they still name the household: an erasure revokes them.
        let revoked: Vec<privet_store::DeviceId> = match subject.kind {
            SubjectKind::Household if state.mqtt().is_some() => state
                .store()
                .devices_of(&subject.id)
                .await?
                .into_iter()
                .filter(|d| d.revoked_at.is_none())
                .map(|d| d.id)
                .collect(),
            _ => Vec::new(),
        };
        // Forgotten before the first step and again after, so a step failing half-way never
        // leaves an erased subject in the cache.
        permissions::forget(state, subject.household_id());
        let erased = erase_steps(state, &plan.steps, at, &mut counts, &mut newest_destroyed).await;
        permissions::changed(state, subject.household_id()).await;
        for step in &plan.steps {
            changes::announce(state, Change::Erased(step.pseudonym)).await;
        }
        erased?;
        (subject, plan, revoked)
    };
    crate::service::broker_clients::revoked(state, actor, &revoked).await;
    let pseudonyms = plan.pseudonyms();
    let key_destroyed_at = state.clock().now();
    let kind = subject.kind.as_str().to_owned();
    let audited = audit::record(
        state,
        Event::new(
            actor,
            "subject.erase",
            serde_json::json!({"kind": kind, "counts": counts}),
        )
        .subjects(pseudonyms.clone())
        .count(counts.records),
    )
    .await;
    // Only now: the audit entry would otherwise queue behind the delete on the writer. Without
    // their keys the records are already unreadable: the receipt does not wait for the delete.
    if let Err(e) = jobs::purge_later(state, &pseudonyms).await {
        // The erasure has committed and the records are unreadable; the receipt is owed. What
        // is left of them goes with their chunks at retention, or at a restore's purge.
        tracing::error!(error = %e, "queueing the deletion of erased records failed");
    }
    audited?;

    let (older_copies_unreadable_by, rotation_overdue) =
        match schedule.older_copies(state, key_destroyed_at, newest_destroyed) {
            OlderCopies::UnreadableBy(by) => (Some(by), false),
            OlderCopies::Overdue => (None, true),
        };
    let claims = serde_json::json!({
        "typ": "privet-erasure-receipt",
        "jti": new_id("rcpt"),
        "iss": "privet",
        "sub": subject.id,
        "kind": kind,
        "iat": at.as_second(),
        "erased_at": at,
        "counts": counts,
        "key_destroyed_at": key_destroyed_at,
        "older_copies_unreadable_by": older_copies_unreadable_by,
        "rotation_overdue": rotation_overdue,
    });
    let receipt = state.signing().sign_jws(&claims);
    webhooks::erased(state, &subject, &pseudonyms, &counts, at, recipients).await;
    Ok(Receipt {
        subject: subject.id.to_string(),
        kind,
        erased_at: at,
        counts,
        key_destroyed_at,
        older_copies_unreadable_by,
        rotation_overdue,
        receipt,
        jwks_uri: "/.well-known/jwks.json".to_owned(),
    })
}

/// The recorded rotation schedule and the rotation period kept in the keyring (this
/// instance's configured one is stored when none is yet), read before an erasure.
struct Schedule {
    recorded: instance_secrets::EpochSince,
    period: std::time::Duration,
}

impl Schedule {
    async fn read(state: &AppState, now: Timestamp) -> ServiceResult<Schedule> {
        let keyring = state.keys().keyring().as_ref();
        let newest_here = state.keys().epochs().newest_epoch();
        Ok(Schedule {
            recorded: instance_secrets::rotation_schedule(keyring, newest_here, now).await?,
            period: instance_secrets::rotation_period(keyring, state.config().key_rotation_period)
                .await?,
        })
    }

    /// What the receipt can say of keyring copies older than `now`. Copies may hold the erased
    /// keys under any epoch up to the newest that wrapped them (`newest_destroyed`, read just
    /// before each was destroyed) or, since a rotation may have re-wrapped one between that
    /// read and the destroy, this instance's newest.
    fn older_copies(
        self,
        state: &AppState,
        now: Timestamp,
        newest_destroyed: NewestDestroyed,
    ) -> OlderCopies {
        let newest_here = state.keys().epochs().newest_epoch();
        let wrapped_under = newest_destroyed.map_or(newest_here, |e| e.max(newest_here));
        older_copies_unreadable_by(self.recorded, wrapped_under, self.period, now)
    }
}
