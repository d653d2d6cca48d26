//! Cache invalidation between instances: every change can be announced, and a listener sees
//! only what was announced. Whether and when it arrives is each backend's own test to show
//! (a single-process backend need not deliver at all); nothing here waits.

use super::fixtures::{pseudonym, sid};
use crate::{Change, Store};
use futures::{FutureExt, StreamExt};

pub(super) async fn changes(store: &dyn Store) {
    let mut listener = store.changes().await.unwrap();
    let mut second = store.changes().await.unwrap();
    let announced = [
        Change::Household(sid("h1")),
        Change::Erased(pseudonym("m1")),
        Change::Manifests,
        Change::Everything,
    ];
    for c in &announced {
        store.announce(c.clone()).await.unwrap();
    }
    for stream in [&mut listener, &mut second] {
        // What is ready now, if anything, without waiting.
        let mut seen = 0;
        loop {
            match stream.next().now_or_never() {
                None => break,
                Some(Some(c)) => {
                    assert!(announced.contains(&c), "never announced: {c:?}");
                    seen += 1;
                    assert!(seen <= 64, "a stream of changes that never stops yielding");
                }
                Some(None) => panic!("a stream of changes ended"),
            }
        }
    }
}
