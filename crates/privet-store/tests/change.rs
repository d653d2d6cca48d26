//! `Change`'s text form, sent between instances sharing a store: every change survives the
//! trip, and text that is not one is refused rather than guessed at.

use privet_crypto::{MasterKey, Pseudonym};
use privet_store::{Change, SubjectId};

fn pseudonym() -> Pseudonym {
    MasterKey::from_bytes([3; 32])
        .pseudonymizer()
        .pseudonym("m1")
}

#[test]
fn every_change_round_trips() {
    for c in [
        Change::Household(SubjectId::new("h1")),
        Change::Household(SubjectId::new("h:with:colons")),
        Change::Erased(pseudonym()),
        Change::Manifests,
        Change::Everything,
    ] {
        assert_eq!(Change::decode(&c.encode()), Some(c.clone()), "{c:?}");
    }
}

#[test]
fn the_text_holds_ids_and_pseudonyms_only() {
    assert_eq!(Change::Household(SubjectId::new("h1")).encode(), "h:h1");
    assert_eq!(
        Change::Erased(pseudonym()).encode(),
        format!("e:{}", pseudonym().to_hex())
    );
    assert_eq!(Change::Manifests.encode(), "m");
    assert_eq!(Change::Everything.encode(), "*");
}

#[test]
fn text_that_is_no_change_is_refused() {
    let hex = pseudonym().to_hex();
    for junk in [
        "".to_owned(),
        "h".to_owned(),
        "h:".to_owned(),
        "e".to_owned(),
        "e:".to_owned(),
        "e:not-hex".to_owned(),
        format!("e:{}", &hex[..30]),
        format!("e:{hex}00"),
        "m:".to_owned(),
        "m:x".to_owned(),
        "*:".to_owned(),
        "M".to_owned(),
        "manifests".to_owned(),
        "x:h1".to_owned(),
        ":h1".to_owned(),
        format!("E:{hex}"),
    ] {
        assert_eq!(Change::decode(&junk), None, "{junk:?}");
    }
}
