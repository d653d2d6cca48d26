//! Property tests: parsing and opening never panic on arbitrary input, and
//! sealing round-trips any payload under any stream name.

use privet_crypto::{
    DataKey, InstanceRoot, MasterKey, MasterKeys, Pseudonym, RecordAad, ReleaseKeyPair, SigningKey,
    open, open_profile, os_rng, parse_public_key_string, seal, verify_jws, verify_release,
};
use proptest::prelude::*;

fn fixtures() -> (MasterKey, DataKey, Pseudonym) {
    let master = MasterKey::from_bytes([1; 32]);
    let subject = master.pseudonymizer().pseudonym("member-1");
    (master, DataKey::from_bytes([2; 32]), subject)
}

proptest! {
    #[test]
    fn open_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let (master, key, subject) = fixtures();
        let aad = RecordAad::new([3; 16], subject, "climate");
        prop_assert!(open(&key, &aad, &bytes).is_err());
        prop_assert!(open_profile(&key, &subject, &bytes).is_err());
        prop_assert!(master.unwrap_data_key(&subject, &bytes).is_err());
        let epochs = MasterKeys::from_epochs([(1, master.clone()), (2, MasterKey::from_bytes([5; 32]))]).unwrap();
        prop_assert!(epochs.unwrap_data_key(&subject, &bytes).is_err());
        prop_assert!(epochs.open_secret("root-key", &bytes).is_err());
        let _ = MasterKeys::epoch_of(&bytes);
        let _ = InstanceRoot::from_bytes(&bytes);
    }

    #[test]
    fn epoch_blobs_never_panic(epoch in any::<u32>(), tail in proptest::collection::vec(any::<u8>(), 0..128)) {
        let (master, _, subject) = fixtures();
        let epochs = MasterKeys::single(master);
        let mut bytes = vec![0xE0];
        bytes.extend_from_slice(&epoch.to_be_bytes());
        bytes.extend_from_slice(&tail);
        prop_assert!(epochs.unwrap_data_key(&subject, &bytes).is_err());
        prop_assert!(epochs.open_secret("root-key", &bytes).is_err());
        prop_assert_eq!(MasterKeys::epoch_of(&bytes).unwrap(), epoch);
    }

    #[test]
    fn open_never_panics_on_a_version_1_prefix(tail in proptest::collection::vec(any::<u8>(), 0..128)) {
        let (_, key, subject) = fixtures();
        let mut bytes = vec![1u8];
        bytes.extend_from_slice(&tail);
        prop_assert!(open(&key, &RecordAad::new([3; 16], subject, "s"), &bytes).is_err());
    }

    #[test]
    fn seal_open_round_trips(
        plaintext in proptest::collection::vec(any::<u8>(), 0..512),
        stream in ".{0,40}",
        record_id in any::<[u8; 16]>(),
    ) {
        let (_, key, subject) = fixtures();
        let aad = RecordAad::new(record_id, subject, &stream);
        let sealed = seal(&key, &aad, &plaintext, &mut os_rng()).unwrap();
        prop_assert_eq!(open(&key, &aad, &sealed).unwrap(), plaintext);
    }

    #[test]
    fn text_parsers_never_panic(s in "\\PC{0,120}") {
        let _ = MasterKey::from_encoded(&s);
        let _ = MasterKeys::parse(&s);
        let _ = s.parse::<Pseudonym>();
        let _ = parse_public_key_string(&s);
        let _ = ReleaseKeyPair::from_secret_string(&s);
        let signing = SigningKey::from_seed([4; 32]);
        prop_assert!(verify_jws(signing.verifying_key(), &s).is_err());
        let release = ReleaseKeyPair::from_secret_string(
            "ed25519-secret:BQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQU=",
        ).unwrap();
        prop_assert!(verify_release(&release.public_key_string(), b"m", &s).is_err());
    }

    #[test]
    fn jws_like_input_never_panics(parts in proptest::collection::vec("[A-Za-z0-9_=-]{0,90}", 0..5)) {
        let signing = SigningKey::from_seed([4; 32]);
        prop_assert!(verify_jws(signing.verifying_key(), &parts.join(".")).is_err());
    }
}
