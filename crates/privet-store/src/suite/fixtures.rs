//! What the checks build their data from.

use crate::{BlockQuery, DeviceId, NewBlock, NewSubject, Store, SubjectId, SubjectKind};
use futures::StreamExt;
use jiff::{SignedDuration, Timestamp};
use privet_crypto::{MasterKey, Pseudonym, hash_token};
use privet_manifest::Retention;
use privet_policy::ChunkWindow;

pub(super) fn at(s: &str) -> Timestamp {
    s.parse().unwrap()
}

pub(super) fn pseudonym(id: &str) -> Pseudonym {
    MasterKey::from_bytes([7; 32]).pseudonymizer().pseudonym(id)
}

pub(super) fn sid(id: &str) -> SubjectId {
    SubjectId::new(id)
}

pub(super) fn subject(id: &str, kind: SubjectKind, household: Option<&str>) -> NewSubject {
    NewSubject {
        id: sid(id),
        kind,
        household: household.map(SubjectId::new),
        pseudonym: pseudonym(id),
        child: false,
        profile: vec![1, 2, 3],
        created_at: at("2026-01-01T00:00:00Z"),
    }
}

/// A block in the chunk the policy chooses for it.
pub(super) fn block(
    subject: &str,
    stream: &str,
    device: &str,
    t: &str,
    retention: &str,
    n: u32,
) -> NewBlock {
    let t = at(t);
    let retention = Retention::parse(retention).unwrap();
    let expires_max = retention.expiry(t + SignedDuration::from_secs(10)).unwrap();
    NewBlock {
        id: record_id(subject, stream, t),
        subject: pseudonym(subject),
        stream: stream.to_owned(),
        product: "acme-thermostat-2".to_owned(),
        device: DeviceId::new(device),
        retention,
        window: privet_policy::chunk_window(retention, expires_max),
        t_min: t,
        t_max: t + SignedDuration::from_secs(10),
        expires_max,
        count: n,
        payload: format!("sealed:{subject}:{stream}:{n}").into_bytes(),
    }
}

/// A block placed in `window`, whatever the policy would choose: a backend stores what it is
/// told.
pub(super) fn block_in(window: ChunkWindow, subject: &str, t: &str, n: u32) -> NewBlock {
    NewBlock {
        retention: window.class,
        window,
        ..block(subject, "presence", "d1", t, &window.class.to_string(), n)
    }
}

/// A window that is not the policy's choice for anything the checks store.
pub(super) fn window(class: &str, start: &str, end: &str) -> ChunkWindow {
    ChunkWindow {
        class: Retention::parse(class).unwrap(),
        start: at(start),
        end: at(end),
    }
}

fn record_id(subject: &str, stream: &str, t: Timestamp) -> [u8; 16] {
    let h = hash_token(&format!("{subject}/{stream}/{t}"));
    let mut id = [0u8; 16];
    id.copy_from_slice(&h.as_bytes()[..16]);
    id
}

pub(super) async fn collect(store: &dyn Store, q: BlockQuery) -> Vec<NewBlock> {
    let mut s = store.scan_blocks(q).await.unwrap();
    let mut out = Vec::new();
    while let Some(b) = s.next().await {
        out.push(b.unwrap());
    }
    out
}
