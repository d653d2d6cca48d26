use super::*;
use crate::error::MasterKeysProblem as P;
use crate::os_rng;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

fn subject(n: u8) -> Pseudonym {
    Pseudonym::from_bytes([n; 16])
}

fn key(n: u8) -> MasterKey {
    MasterKey::from_bytes(std::array::from_fn(|i| (i as u8).wrapping_mul(31) ^ n))
}

fn b64(k: &MasterKey) -> String {
    STANDARD.encode(k.to_bytes().as_slice())
}

fn hex(k: &MasterKey) -> String {
    crate::encoding::hex_encode(k.to_bytes().as_slice())
}

fn problem(text: &str) -> P {
    match MasterKeys::parse(text) {
        Err(Error::MasterKeys(p)) => p,
        other => panic!("expected a master-keys problem, got {other:?}"),
    }
}

/// The pseudonym each configured epoch's key gives, to compare key sets.
fn fingerprint(keys: &MasterKeys) -> Vec<(u32, Pseudonym)> {
    keys.epochs()
        .into_iter()
        .map(|e| (e, keys.get(e).unwrap().pseudonymizer().pseudonym("s")))
        .collect()
}

#[test]
fn a_bare_key_is_epoch_1_so_existing_installations_keep_working() {
    for text in [b64(&key(1)), hex(&key(1)), format!("  {}\n", b64(&key(1)))] {
        let keys = MasterKeys::parse(&text).unwrap();
        assert_eq!(keys.epochs(), vec![1]);
        assert_eq!(keys.newest_epoch(), 1);
        assert_eq!(
            fingerprint(&keys),
            vec![(1, key(1).pseudonymizer().pseudonym("s"))]
        );
    }
}

#[test]
fn entries_parse_in_every_separator_with_comments() {
    let (one, two, five) = (key(1), key(2), key(5));
    let expected = fingerprint(
        &MasterKeys::from_epochs([(1, one.clone()), (2, two.clone()), (5, five.clone())]).unwrap(),
    );
    let texts = [
        format!("1:{},2:{},5:{}", b64(&one), hex(&two), b64(&five)),
        format!("5:{} 1:{}\t2:{}", b64(&five), b64(&one), b64(&two)),
        format!(
            "# master keys of this instance\n\n1:{}   # retire once status shows 0\n2:{},\n\n5:{}\n",
            b64(&one),
            b64(&two),
            hex(&five)
        ),
    ];
    for text in texts {
        let keys = MasterKeys::parse(&text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(keys.epochs(), vec![1, 2, 5]);
        assert_eq!(keys.newest_epoch(), 5);
        assert_eq!(fingerprint(&keys), expected);
    }
    let only_3 = MasterKeys::parse(&format!("3:{}", b64(&two))).unwrap();
    assert_eq!(only_3.epochs(), vec![3], "one entry keeps its epoch");
    assert!(only_3.get(1).is_none());
}

#[test]
fn bad_input_says_which_entry_and_never_echoes_it() {
    let (one, two) = (key(1), key(2));
    let cases: Vec<(String, P)> = vec![
        (String::new(), P::Empty),
        ("  # just a comment\n\n".to_owned(), P::Empty),
        (b64(&one)[..40].to_owned(), P::NotAKey { entry: 1 }),
        (
            format!("1:{},{}", b64(&one), b64(&two)),
            P::NoEpoch { entry: 2 },
        ),
        (
            format!("1:{},x:{}", b64(&one), b64(&two)),
            P::BadEpoch { entry: 2 },
        ),
        (format!("0:{}", b64(&one)), P::BadEpoch { entry: 1 }),
        (format!("-1:{}", b64(&one)), P::BadEpoch { entry: 1 }),
        (format!("+2:{}", b64(&one)), P::BadEpoch { entry: 1 }),
        (
            format!("4294967296:{}", b64(&one)),
            P::BadEpoch { entry: 1 },
        ),
        (format!(":{}", b64(&one)), P::BadEpoch { entry: 1 }),
        (format!("1:{}", &hex(&one)[..62]), P::NotAKey { entry: 1 }),
        (format!("1:{} 2:", b64(&one)), P::NotAKey { entry: 2 }),
        (format!("{}:1", b64(&one)), P::BadEpoch { entry: 1 }),
        (
            format!("2:{},2:{}", b64(&one), b64(&two)),
            P::DuplicateEpoch { epoch: 2 },
        ),
        (
            format!("1:{},2:{}", b64(&one), hex(&one)),
            P::SameKey {
                first: 1,
                second: 2,
            },
        ),
    ];
    let secrets = [b64(&one), hex(&one), b64(&two), hex(&two)];
    for (text, expected) in cases {
        let got = problem(&text);
        assert_eq!(got, expected, "{text:?}");
        let message = Error::MasterKeys(got).to_string();
        let debug = format!("{:?}", MasterKeys::parse(&text));
        for secret in &secrets {
            for shown in [&message, &debug] {
                assert!(
                    !shown.contains(&secret[..16]),
                    "{shown} echoes key material"
                );
            }
        }
    }
}

#[test]
fn wrapping_names_the_newest_epoch_and_unwraps_with_it_alone() {
    let mut rng = os_rng();
    let both = MasterKeys::from_epochs([(2, key(2)), (1, key(1))]).unwrap();
    let data_key = DataKey::generate(&mut rng);
    let wrapped = both.wrap_data_key(&subject(1), &data_key, &mut rng);
    assert_eq!(wrapped.len(), MasterKeys::WRAPPED_KEY_LEN);
    assert_eq!(wrapped[..HEADER_LEN], [0xE0, 0, 0, 0, 2]);
    assert_eq!(MasterKeys::epoch_of(&wrapped).unwrap(), 2);
    let back = both.unwrap_data_key(&subject(1), &wrapped).unwrap();
    assert_eq!(back.as_bytes(), data_key.as_bytes());

    let only_2 = MasterKeys::from_epochs([(2, key(2))]).unwrap();
    assert_eq!(
        only_2
            .unwrap_data_key(&subject(1), &wrapped)
            .unwrap()
            .as_bytes(),
        data_key.as_bytes()
    );
    assert!(
        both.unwrap_data_key(&subject(2), &wrapped).is_err(),
        "still bound to its subject"
    );
}

#[test]
fn legacy_blobs_are_epoch_1_and_stay_readable() {
    let mut rng = os_rng();
    let data_key = DataKey::generate(&mut rng);
    let legacy = key(1).wrap_data_key(&subject(1), &data_key, &mut rng);
    assert_eq!(MasterKeys::epoch_of(&legacy).unwrap(), 1);
    let keys = MasterKeys::parse(&b64(&key(1))).unwrap();
    assert_eq!(
        keys.unwrap_data_key(&subject(1), &legacy)
            .unwrap()
            .as_bytes(),
        data_key.as_bytes()
    );
    let both = MasterKeys::from_epochs([(1, key(1)), (2, key(2))]).unwrap();
    let rewrapped = both
        .rewrap_data_key(&subject(1), &legacy, &mut rng)
        .unwrap()
        .expect("a legacy blob is re-wrapped under the newest epoch");
    assert_eq!(MasterKeys::epoch_of(&rewrapped).unwrap(), 2);
    assert_eq!(
        both.unwrap_data_key(&subject(1), &rewrapped)
            .unwrap()
            .as_bytes(),
        data_key.as_bytes()
    );
    assert!(
        both.rewrap_data_key(&subject(1), &rewrapped, &mut rng)
            .unwrap()
            .is_none(),
        "already under the newest epoch"
    );
}

#[test]
fn a_retired_epoch_is_a_clear_error() {
    let mut rng = os_rng();
    let old = MasterKeys::single(key(1));
    let data_key = DataKey::generate(&mut rng);
    let tagged = old.wrap_data_key(&subject(1), &data_key, &mut rng);
    let legacy = key(1).wrap_data_key(&subject(1), &data_key, &mut rng);
    let only_2 = MasterKeys::from_epochs([(2, key(2))]).unwrap();
    for blob in [&tagged, &legacy] {
        let err = only_2.unwrap_data_key(&subject(1), blob).unwrap_err();
        assert!(
            matches!(err, Error::EpochNotConfigured { epoch: 1, .. }),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            "wrapped data key is wrapped under master-key epoch 1, which is not configured"
        );
        assert!(matches!(
            only_2.rewrap_data_key(&subject(1), blob, &mut rng),
            Err(Error::EpochNotConfigured { epoch: 1, .. })
        ));
    }
}

#[test]
fn a_changed_header_or_unknown_tag_does_not_unwrap() {
    let mut rng = os_rng();
    let both = MasterKeys::from_epochs([(1, key(1)), (2, key(2))]).unwrap();
    let wrapped = both.wrap_data_key(&subject(1), &DataKey::generate(&mut rng), &mut rng);
    let mut renamed = wrapped.clone();
    renamed[4] = 1;
    assert!(matches!(
        both.unwrap_data_key(&subject(1), &renamed),
        Err(Error::Decrypt { .. })
    ));
    let mut unknown = wrapped.clone();
    unknown[4] = 9;
    assert!(matches!(
        both.unwrap_data_key(&subject(1), &unknown),
        Err(Error::EpochNotConfigured { epoch: 9, .. })
    ));
    for len in 0..wrapped.len() {
        assert!(
            both.unwrap_data_key(&subject(1), &wrapped[..len]).is_err(),
            "{len}"
        );
    }
    let mut other_tag = wrapped.clone();
    other_tag[0] = 0x7f;
    assert!(matches!(
        MasterKeys::epoch_of(&other_tag),
        Err(Error::UnknownFormat { version: 0x7f, .. })
    ));
}

#[test]
fn secrets_are_sealed_under_the_newest_epoch_and_bound_to_their_name() {
    let mut rng = os_rng();
    let one = MasterKeys::single(key(1));
    let both = MasterKeys::from_epochs([(1, key(1)), (2, key(2))]).unwrap();
    let only_2 = MasterKeys::from_epochs([(2, key(2))]).unwrap();
    let sealed = one.seal_secret("root-key", b"the root", &mut rng).unwrap();
    assert_eq!(MasterKeys::epoch_of(&sealed).unwrap(), 1);
    assert!(!sealed.windows(8).any(|w| w == b"the root"));
    assert_eq!(
        both.open_secret("root-key", &sealed).unwrap().as_slice(),
        b"the root"
    );
    assert!(
        both.open_secret("signing-key", &sealed).is_err(),
        "another name"
    );
    assert!(matches!(
        only_2.open_secret("root-key", &sealed),
        Err(Error::EpochNotConfigured { epoch: 1, .. })
    ));

    let resealed = both
        .reseal_secret("root-key", &sealed, &mut rng)
        .unwrap()
        .expect("re-sealed under epoch 2");
    assert_eq!(MasterKeys::epoch_of(&resealed).unwrap(), 2);
    assert_eq!(
        only_2
            .open_secret("root-key", &resealed)
            .unwrap()
            .as_slice(),
        b"the root"
    );
    assert!(
        both.reseal_secret("root-key", &resealed, &mut rng)
            .unwrap()
            .is_none()
    );
}

#[test]
fn a_secret_is_not_a_wrapped_key_nor_the_other_way_round() {
    let mut rng = os_rng();
    let keys = MasterKeys::single(key(1));
    let data_key = DataKey::generate(&mut rng);
    let sealed = keys.seal_secret("", data_key.as_bytes(), &mut rng).unwrap();
    assert!(keys.unwrap_data_key(&subject(1), &sealed).is_err());
    let wrapped = keys.wrap_data_key(&subject(1), &data_key, &mut rng);
    assert!(keys.open_secret("", &wrapped).is_err());
}

#[test]
fn debug_shows_epochs_only() {
    let keys = MasterKeys::from_epochs([(1, key(1)), (7, key(7))]).unwrap();
    let debug = format!("{keys:?}");
    assert_eq!(debug, "MasterKeys(epochs [1, 7], **redacted**)");
    for k in [key(1), key(7)] {
        assert!(!debug.contains(&b64(&k)) && !debug.contains(&hex(&k)));
    }
}

#[test]
fn a_key_labelled_with_the_newest_epoch_is_opened_before_it_counts_as_current() {
    // Instance B has a paste error: its epoch 2 key differs. What it wraps says epoch 2; the
    // rotation on instance A must find that out, not count it as already current.
    let mut rng = os_rng();
    let a = MasterKeys::from_epochs([(1, key(1)), (2, key(2))]).unwrap();
    let b = MasterKeys::from_epochs([(1, key(1)), (2, key(9))]).unwrap();
    let data_key = DataKey::generate(&mut rng);
    let from_b = b.wrap_data_key(&subject(1), &data_key, &mut rng);
    assert_eq!(MasterKeys::epoch_of(&from_b).unwrap(), 2);
    assert!(matches!(
        a.rewrap_data_key(&subject(1), &from_b, &mut rng),
        Err(Error::Decrypt { .. })
    ));
    let from_a = a.wrap_data_key(&subject(1), &data_key, &mut rng);
    assert!(
        a.rewrap_data_key(&subject(1), &from_a, &mut rng)
            .unwrap()
            .is_none()
    );

    let sealed_by_b = b.seal_secret("root-key", b"root", &mut rng).unwrap();
    assert!(matches!(
        a.reseal_secret("root-key", &sealed_by_b, &mut rng),
        Err(Error::Decrypt { .. })
    ));
    let sealed_by_a = a.seal_secret("root-key", b"root", &mut rng).unwrap();
    assert!(
        a.reseal_secret("root-key", &sealed_by_a, &mut rng)
            .unwrap()
            .is_none()
    );
}

#[test]
fn an_epoch_check_is_sealed_under_its_own_epoch_and_tells_a_different_key_apart() {
    let mut rng = os_rng();
    let a = MasterKeys::from_epochs([(1, key(1)), (2, key(2))]).unwrap();
    let b = MasterKeys::from_epochs([(1, key(1)), (2, key(9))]).unwrap();
    assert_eq!(MasterKeys::check_name(2), "epoch-check/2");
    let check_1 = a.epoch_check(1, &mut rng).unwrap();
    let check_2 = a.epoch_check(2, &mut rng).unwrap();
    assert_eq!(
        MasterKeys::epoch_of(&check_1).unwrap(),
        1,
        "not the newest epoch"
    );
    assert_eq!(MasterKeys::epoch_of(&check_2).unwrap(), 2);

    a.verify_epoch_check(1, &check_1).unwrap();
    a.verify_epoch_check(2, &check_2).unwrap();
    b.verify_epoch_check(1, &check_1).unwrap();
    let err = b.verify_epoch_check(2, &check_2).unwrap_err();
    assert!(matches!(err, Error::WrongEpochKey { epoch: 2 }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("master-key epoch 2"), "{message}");
    assert!(!message.contains('\n'), "one line: {message}");
    for k in [key(2), key(9)] {
        assert!(!message.contains(&b64(&k)) && !message.contains(&hex(&k)));
        assert!(!format!("{err:?}").contains(&hex(&k)));
    }

    // A check is bound to its epoch: epoch 1's is not epoch 2's, even under one key.
    let same = MasterKeys::from_epochs([(2, key(1))]).unwrap();
    assert!(matches!(
        same.verify_epoch_check(2, &check_1),
        Err(Error::WrongEpochKey { epoch: 2 })
    ));
    let mut renamed = check_1.clone();
    renamed[4] = 2;
    assert!(matches!(
        same.verify_epoch_check(2, &renamed),
        Err(Error::WrongEpochKey { epoch: 2 })
    ));
    for len in 0..check_2.len() {
        assert!(a.verify_epoch_check(2, &check_2[..len]).is_err(), "{len}");
    }
    // Nor does it open as another secret or a wrapped key.
    assert!(a.open_secret("root-key", &check_2).is_err());
    assert!(a.unwrap_data_key(&subject(1), &check_2).is_err());
    assert!(matches!(
        a.verify_epoch_check(3, &check_2),
        Err(Error::EpochNotConfigured { epoch: 3, .. })
    ));
    assert!(matches!(
        a.epoch_check(3, &mut rng),
        Err(Error::EpochNotConfigured { epoch: 3, .. })
    ));
}
