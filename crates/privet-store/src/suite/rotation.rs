//! Master-key rotation in the keyring: wrapped keys listed a page at a time and re-wrapped
//! only over what was read, and instance secrets stored once and re-wrapped alike.

use super::fixtures::{at, pseudonym};
use crate::Keyring;
use privet_crypto::Pseudonym;

/// Every wrapped key, paging with `after` as a rotation does.
async fn all_pages(keyring: &dyn Keyring, page: usize) -> Vec<(Pseudonym, Vec<u8>)> {
    let mut out: Vec<(Pseudonym, Vec<u8>)> = Vec::new();
    loop {
        let after = out.last().map(|(p, _)| *p);
        let next = keyring.wrapped_keys(after, page).await.unwrap();
        assert!(next.len() <= page, "at most a page");
        // Checked here, not only after the loop: a listing that ignores `after` never ends.
        assert!(
            next.iter().all(|(p, _)| after.is_none_or(|a| *p > a)),
            "only keys after `after`"
        );
        if next.is_empty() {
            return out;
        }
        out.extend(next);
    }
}

pub(super) async fn keys(keyring: &dyn Keyring) {
    let mine: Vec<(Pseudonym, Vec<u8>)> = (1..=5u8)
        .map(|i| (pseudonym(&format!("rotated-{i}")), vec![i; 48]))
        .collect();
    for (p, wrapped) in &mine {
        keyring
            .put(p, wrapped.clone(), at("2026-01-01T00:00:00Z"))
            .await
            .unwrap();
    }
    let mut sorted = mine.clone();
    sorted.sort_by_key(|(p, _)| *p);
    assert_ne!(sorted, mine, "the check needs keys stored out of order");

    // Listing: pseudonym order, page by page, every key once.
    for page in [1, 2, 100] {
        let listed = all_pages(keyring, page).await;
        assert!(
            listed.windows(2).all(|w| w[0].0 < w[1].0),
            "pseudonym order, no repeats (pages of {page})"
        );
        let listed_mine: Vec<_> = listed
            .into_iter()
            .filter(|(p, _)| mine.iter().any(|(m, _)| m == p))
            .collect();
        assert_eq!(
            listed_mine, sorted,
            "every key with its wrapping (pages of {page})"
        );
    }
    let after_last = keyring.wrapped_keys(Some(sorted[4].0), 100).await.unwrap();
    assert!(
        after_last.iter().all(|(p, _)| *p > sorted[4].0),
        "only keys after `after`"
    );
    let absent = pseudonym("rotated-absent");
    let from_absent = keyring.wrapped_keys(Some(absent), 100).await.unwrap();
    assert!(from_absent.iter().all(|(p, _)| *p > absent));
    assert_eq!(
        from_absent
            .iter()
            .filter(|(p, _)| mine.iter().any(|(m, _)| m == p))
            .count(),
        sorted.iter().filter(|(p, _)| *p > absent).count(),
        "`after` need not be a stored key"
    );

    // Re-wrapping: only over the wrapping that was read.
    let (p1, old1) = (sorted[0].0, sorted[0].1.clone());
    assert!(keyring.rewrap(&p1, &old1, vec![101; 60]).await.unwrap());
    assert_eq!(keyring.get(&p1).await.unwrap(), vec![101; 60]);
    assert!(
        !keyring.rewrap(&p1, &old1, vec![102; 60]).await.unwrap(),
        "a rewrap over a stale wrapping is refused"
    );
    assert_eq!(
        keyring.get(&p1).await.unwrap(),
        vec![101; 60],
        "and leaves the key as the first rotation left it"
    );

    let (p2, old2) = (sorted[1].0, sorted[1].1.clone());
    assert!(keyring.destroy(&p2).await.unwrap());
    assert!(
        !keyring.rewrap(&p2, &old2, vec![103; 60]).await.unwrap(),
        "an erasure meanwhile wins"
    );
    assert!(
        keyring.get(&p2).await.unwrap_err().is_not_found(),
        "a rewrap never brings a destroyed key back"
    );
    assert_eq!(keyring.has_keys(&[p2]).await.unwrap(), vec![false]);
    assert!(
        !keyring
            .rewrap(&absent, &[1; 48], vec![104; 60])
            .await
            .unwrap(),
        "nor makes one"
    );
    assert!(keyring.get(&absent).await.unwrap_err().is_not_found());

    // Two rotations racing over one key: one wins, and the key is the winner's.
    let (p3, old3) = (sorted[2].0, sorted[2].1.clone());
    let racing =
        futures::future::join_all((0..4u8).map(|i| keyring.rewrap(&p3, &old3, vec![110 + i; 60])))
            .await;
    let won: Vec<u8> = (0..4u8)
        .zip(racing)
        .filter(|(_, r)| *r.as_ref().unwrap())
        .map(|(i, _)| 110 + i)
        .collect();
    assert_eq!(won.len(), 1, "one of concurrent rewraps wins: {won:?}");
    assert_eq!(keyring.get(&p3).await.unwrap(), vec![won[0]; 60]);

    for (p, _) in &mine {
        keyring.destroy(p).await.unwrap();
    }
}

pub(super) async fn secrets(keyring: &dyn Keyring) {
    let name = "receipt-signing";
    assert_eq!(keyring.secret(name).await.unwrap(), None);
    assert_eq!(
        keyring.put_secret(name, vec![1; 40]).await.unwrap(),
        vec![1; 40]
    );
    assert_eq!(
        keyring.put_secret(name, vec![2; 40]).await.unwrap(),
        vec![1; 40],
        "a second put returns the first secret"
    );
    assert_eq!(keyring.secret(name).await.unwrap(), Some(vec![1; 40]));
    assert_eq!(
        keyring.secret("other-secret").await.unwrap(),
        None,
        "secrets are by name"
    );

    // Instances starting together: whichever stores first, everyone gets the same secret.
    let racing = futures::future::join_all(
        (0..4u8).map(|i| keyring.put_secret("raced-secret", vec![10 + i; 40])),
    )
    .await;
    let got: Vec<Vec<u8>> = racing.into_iter().map(|r| r.unwrap()).collect();
    assert!(
        got.iter().all(|g| *g == got[0]),
        "every starter gets the same secret"
    );
    assert!((10..14u8).any(|i| got[0] == vec![i; 40]), "one of theirs");
    assert_eq!(
        keyring.secret("raced-secret").await.unwrap(),
        Some(got[0].clone())
    );

    // Re-wrapping a secret: compare-and-set, like a key.
    assert!(
        !keyring
            .rewrap_secret(name, &[2; 40], vec![3; 40])
            .await
            .unwrap(),
        "not over a wrapping that was never stored"
    );
    assert_eq!(keyring.secret(name).await.unwrap(), Some(vec![1; 40]));
    assert!(
        keyring
            .rewrap_secret(name, &[1; 40], vec![3; 40])
            .await
            .unwrap()
    );
    assert_eq!(keyring.secret(name).await.unwrap(), Some(vec![3; 40]));
    assert!(
        !keyring
            .rewrap_secret(name, &[1; 40], vec![4; 40])
            .await
            .unwrap(),
        "a stale rewrap is refused"
    );
    assert_eq!(keyring.secret(name).await.unwrap(), Some(vec![3; 40]));
    assert_eq!(
        keyring.put_secret(name, vec![5; 40]).await.unwrap(),
        vec![3; 40],
        "put returns the re-wrapped secret"
    );
    assert!(
        !keyring
            .rewrap_secret("never-stored", &[1; 40], vec![6; 40])
            .await
            .unwrap()
    );
    assert_eq!(
        keyring.secret("never-stored").await.unwrap(),
        None,
        "a rewrap creates no secret"
    );
}
