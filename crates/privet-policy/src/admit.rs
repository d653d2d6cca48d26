//! Admitting a batch of events: the manifest applied to what a device sent.
//!
//! Per event: the stream must be declared; the timestamp must be plausible; the subject is
//! resolved; a restricted subject's event is dropped whole; undeclared fields are dropped (or,
//! for a strict product, the batch is rejected); declared fields are type-checked and minimised;
//! fields collected only for consent-based purposes are kept only with consent; the rest is
//! split into parts by retention, and parts already past their retention are dropped.
//!
//! A batch is admitted whole or rejected whole: a [`Rejection`] names the first event at fault.

mod check;
mod minimise;
mod plan;
mod rejection;
mod subject;

pub use rejection::Rejection;
pub use subject::{SubjectRef, SubjectState};

use crate::clip_name;
use crate::decode::IncomingEvent;
use check::Checker;
use jiff::{SignedDuration, Timestamp};
use plan::BatchPlan;
use privet_manifest::{Manifest, Retention, Stream, StreamId};
use serde::Serialize;
use serde_json::{Map, Value};
use std::fmt;

/// Replaces a value by a keyed hash (a pseudonym) for fields declared with `hash = true`.
///
/// The key never enters this crate: the server supplies an implementation backed by
/// `privet-crypto`.
pub trait ValueHasher {
    /// The pseudonym of `value` for `product`.
    fn hash(&self, product: &str, value: &str) -> String;
}

/// What the server knows about the device that sent a batch.
#[derive(Clone, Copy, Debug)]
pub struct DeviceContext<'a> {
    /// The manifest of the device's product.
    pub manifest: &'a Manifest,
    /// The household the device belongs to, if it is attached to one.
    pub household: Option<&'a str>,
    /// The member the device belongs to, for personal devices.
    pub member: Option<&'a str>,
    /// The members of the device's household: the only ids an event's `member` may name.
    pub household_members: &'a [String],
}

/// How far an event's timestamp may stray from the server's clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AdmitLimits {
    /// How far ahead of `now` a timestamp may be (device clocks drift).
    pub max_future: SignedDuration,
    /// How far behind `now` a timestamp may be, if bounded.
    pub max_past: Option<SignedDuration>,
}

impl Default for AdmitLimits {
    /// Five minutes of clock drift ahead; no bound behind (devices upload after being offline,
    /// and data already past its retention is dropped anyway).
    fn default() -> Self {
        AdmitLimits {
            max_future: SignedDuration::from_mins(5),
            max_past: None,
        }
    }
}

/// The fields of one event that share a retention, to be stored in that retention's chunk.
#[derive(Clone, PartialEq)]
pub struct Part {
    /// How long these fields are kept (a field's retention, shortened by `drop_after`).
    pub retention: Retention,
    /// When they expire: the retention counted from the event's timestamp.
    pub expires_at: Timestamp,
    /// The minimised values, by field name.
    pub fields: Map<String, Value>,
}

/// Lists the field names but never their values: values are personal data.
impl fmt::Debug for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Part")
            .field("retention", &self.retention)
            .field("expires_at", &self.expires_at)
            .field("fields", &self.fields.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// One event, admitted: whose it is and what of it may be stored.
#[derive(Clone, Debug, PartialEq)]
pub struct Admitted {
    /// The declared stream.
    pub stream: StreamId,
    /// When the device observed it.
    pub ts: Timestamp,
    /// Whose data it is.
    pub subject: SubjectRef,
    /// The kept fields, by retention; never empty.
    pub parts: Vec<Part>,
}

/// How many fields were dropped, by reason. Counts only: never names or values.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DropCounts {
    /// Not declared in the manifest (also keys inside object fields), or declared without a
    /// bounded retention and a defined purpose (such a field cannot be stored).
    pub undeclared: u64,
    /// Collected only for purposes the subject has not consented to, or has objected to.
    pub no_consent: u64,
    /// Collected for a consent-based purpose that a later manifest version changed materially,
    /// from a subject whose consent was given under an older version: kept once they agree
    /// again.
    pub reconsent: u64,
    /// Already past their retention when they arrived.
    pub expired: u64,
    /// About a subject who has restricted processing.
    pub restricted: u64,
}

impl DropCounts {
    /// All dropped fields.
    pub fn total(&self) -> u64 {
        self.undeclared + self.no_consent + self.reconsent + self.expired + self.restricted
    }
}

/// The outcome of admitting a batch.
#[derive(Clone, Debug, PartialEq)]
pub struct AdmittedBatch {
    /// The events with something to store, in batch order.
    pub events: Vec<Admitted>,
    /// What was dropped.
    pub dropped: DropCounts,
    /// The firmware version reported by the newest event (by `ts`) that reported one.
    pub firmware: Option<String>,
}

/// Applies the manifest to a decoded batch: admitted whole, or rejected whole.
///
/// `now` is the server's clock; `state` answers consent and restriction questions about
/// subjects; `hasher` pseudonymises `hash = true` fields. Per event, in order:
///
/// 1. The stream must be declared ([`Rejection::UnknownStream`]).
/// 2. `ts` may be at most `limits.max_future` ahead of `now` and, if set, `limits.max_past`
///    behind it.
/// 3. The subject: for `member` streams the event's `member` (one of `household_members`) or
///    else the device's member; for `household` streams the device's household; for `none`
///    streams [`SubjectRef::NotPersonal`]. A device without a household cannot send personal
///    data ([`Rejection::NoHousehold`]).
/// 4. A restricted subject's event is dropped whole, unvalidated, its fields counted.
/// 5. Each field not declared (also keys inside `object` fields) is dropped and counted, or, for
///    a `strict` product, rejects the batch ([`Rejection::Undeclared`]).
/// 6. Each declared field is type-checked ([`Rejection::TypeMismatch`]; `null` matches no type)
///    and minimised by its transforms: `truncate_location`, `round`, `bucket` (values below the
///    first bound map to the first bound), `coarsen_time` (in UTC), `hash`.
/// 7. A field whose purposes all need consent is kept only if the subject consented to one of
///    them (non-personal data needs no consent).
/// 8. Kept fields are grouped into [`Part`]s by effective retention (`drop_after` shortens it);
///    a field already past its retention at `now` is dropped and counted `expired`.
///
/// Validation (steps 5 and 6) happens before the consent and retention gates, so whether a
/// batch is accepted does not depend on consents. An event with nothing kept is left out.
pub fn admit_batch(
    ctx: &DeviceContext<'_>,
    events: Vec<IncomingEvent>,
    state: &dyn SubjectState,
    hasher: &dyn ValueHasher,
    now: Timestamp,
    limits: &AdmitLimits,
) -> Result<AdmittedBatch, Rejection> {
    let mut batch = AdmittedBatch {
        events: Vec::with_capacity(events.len()),
        dropped: DropCounts::default(),
        firmware: None,
    };
    let mut firmware_ts: Option<Timestamp> = None;
    let mut admitter = Admitter {
        manifest: ctx.manifest,
        state,
        hasher,
        now,
        plan: BatchPlan::new(ctx.manifest),
    };
    for (index, event) in events.into_iter().enumerate() {
        let IncomingEvent {
            stream,
            ts,
            data,
            member,
            firmware,
        } = event;
        if let Some(fw) = firmware
            && firmware_ts.is_none_or(|t| ts >= t)
        {
            firmware_ts = Some(ts);
            batch.firmware = Some(fw);
        }
        let Some(stream_index) = ctx
            .manifest
            .streams
            .iter()
            .position(|s| s.id.as_str() == stream)
        else {
            return Err(Rejection::UnknownStream {
                index,
                stream: clip_name(&stream),
            });
        };
        let decl = &ctx.manifest.streams[stream_index];
        check_time(index, ts, now, limits)?;
        let subject = subject::resolve(decl.subject.value, ctx, member.as_deref())
            .map_err(|p| p.at(index, &decl.id))?;
        if subject.is_personal() && state.restricted(&subject) {
            // Restricted processing (UK GDPR Art. 18): not even validated, only counted.
            batch.dropped.restricted += data.len() as u64;
            continue;
        }
        let mut event = EventInProgress {
            index,
            stream: decl,
            stream_index,
            ts,
            subject: &subject,
            parts: Vec::new(),
        };
        admitter.admit_fields(&mut event, data, &mut batch.dropped)?;
        let parts = event.parts;
        if !parts.is_empty() {
            batch.events.push(Admitted {
                stream: decl.id.value.clone(),
                ts,
                subject,
                parts,
            });
        }
    }
    Ok(batch)
}

fn check_time(
    index: usize,
    ts: Timestamp,
    now: Timestamp,
    limits: &AdmitLimits,
) -> Result<(), Rejection> {
    if ts.duration_since(now) > limits.max_future {
        return Err(Rejection::FutureTimestamp { index });
    }
    if let Some(max_past) = limits.max_past
        && now.duration_since(ts) > max_past
    {
        return Err(Rejection::PastTimestamp { index });
    }
    Ok(())
}

/// What stays the same for every event of a batch, and what it works out once.
struct Admitter<'a> {
    manifest: &'a Manifest,
    state: &'a dyn SubjectState,
    hasher: &'a dyn ValueHasher,
    now: Timestamp,
    plan: BatchPlan<'a>,
}

struct EventInProgress<'a> {
    index: usize,
    stream: &'a Stream,
    stream_index: usize,
    ts: Timestamp,
    subject: &'a SubjectRef,
    parts: Vec<Part>,
}

impl Admitter<'_> {
    /// Checks, minimises and gates each field of one event, adding the kept ones to its parts.
    ///
    /// Validation (declared, type, transform) comes before the consent and retention gates, so
    /// whether a batch is accepted does not depend on the subject's consents.
    fn admit_fields(
        &mut self,
        event: &mut EventInProgress<'_>,
        data: Map<String, Value>,
        dropped: &mut DropCounts,
    ) -> Result<(), Rejection> {
        let strict = self.manifest.product.strict;
        let mut checker = Checker::new(strict);
        for (name, mut value) in data {
            let position = plan::position(&event.stream.fields, &name);
            let Some((field_index, field)) = position.map(|i| (i, &event.stream.fields[i])) else {
                if strict {
                    return Err(Rejection::Undeclared {
                        index: event.index,
                        stream: event.stream.id.value.clone(),
                        field: clip_name(&name),
                    });
                }
                dropped.undeclared += 1;
                continue;
            };
            checker
                .check(&mut value, &field.ty)
                .map_err(|p| p.reject(event.index, &event.stream.id, &name))?;
            minimise::apply(
                &mut value,
                &field.transform,
                self.manifest.product.id.as_str(),
                self.hasher,
            )
            .map_err(|p| p.reject(event.index, &event.stream.id, &name))?;
            let Some(retention) = self
                .plan
                .field(event.stream_index, field_index)
                .and_then(|p| p.retention)
            else {
                dropped.undeclared += 1;
                continue;
            };
            if event.subject.is_personal() {
                let state = self.state;
                let subject = event.subject;
                let stream = &event.stream.id.value;
                let field_name = &field.name.value;
                let ask = |p: &privet_manifest::Purpose| {
                    let consented = state.consented(subject, &p.id);
                    plan::Answer {
                        consented,
                        objected: state.objected(subject, &p.id),
                        covered: !consented
                            || state.version_covers(subject, &p.id, stream, field_name),
                    }
                };
                match self
                    .plan
                    .verdict(subject, event.stream_index, field_index, &ask)
                {
                    plan::Verdict::Kept => {}
                    plan::Verdict::NoConsent => {
                        dropped.no_consent += 1;
                        continue;
                    }
                    plan::Verdict::Reconsent => {
                        dropped.reconsent += 1;
                        continue;
                    }
                }
            }
            // Fields of one retention share their expiry: worked out once per event.
            let part = event.parts.iter().position(|p| p.retention == retention);
            let expires_at = match part {
                Some(i) => event.parts[i].expires_at,
                // A timestamp beyond jiff's range cannot expire within it either.
                None => retention.expiry(event.ts).unwrap_or(Timestamp::MAX),
            };
            if crate::expiry::is_expired(expires_at, self.now) {
                dropped.expired += 1;
                continue;
            }
            match part {
                Some(i) => {
                    event.parts[i].fields.insert(name, value);
                }
                None => {
                    let mut fields = Map::new();
                    fields.insert(name, value);
                    event.parts.push(Part {
                        retention,
                        expires_at,
                        fields,
                    });
                }
            }
        }
        dropped.undeclared += checker.undeclared();
        Ok(())
    }
}

#[cfg(test)]
mod tests;
