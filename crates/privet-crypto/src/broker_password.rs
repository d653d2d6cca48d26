//! Broker credentials: a device token hashed as a Mosquitto 2.x password-file entry, so a
//! static Mosquitto can check the token a device connects with while Privet keeps it only
//! hashed.
//!
//! The entry is what `mosquitto_passwd` (2.0) writes by default for `-H sha512-pbkdf2`:
//! `$7$<iterations>$<base64 salt>$<base64 hash>`, the hash PBKDF2-HMAC-SHA512 of the password's
//! UTF-8 bytes and the decoded salt, both in standard base64 with `=` padding.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha2::Sha512;

use crate::rng::CryptoRng;
use crate::token::ct_eq;
use crate::{Error, Result};

/// Mosquitto's identifier for PBKDF2-HMAC-SHA512 entries (`pw_sha512_pbkdf2`).
const PREFIX: &str = "$7$";

/// PBKDF2 iterations: `mosquitto_passwd`'s default in 2.0 (`PW_DEFAULT_ITERATIONS`). Low for a
/// password, and enough here: a device token carries 256 random bits, so the hash cannot be
/// reversed by guessing whatever its cost, and the broker runs it on every connect.
const ITERATIONS: u32 = 101;

/// Salt length in bytes: what `mosquitto_passwd` 2.0 draws (`SALT_LEN`); the broker accepts
/// 12 or 64.
const SALT_LEN: usize = 12;

/// The broker also accepts 64-byte salts (its `HASH_LEN`), which newer tools write.
const LONG_SALT_LEN: usize = 64;

/// Hash length in bytes: the SHA-512 output, the only length the broker accepts.
const HASH_LEN: usize = 64;

/// Stored entries with more iterations than this are refused rather than run: this crate never
/// writes them, and one verification would take seconds.
const MAX_VERIFY_ITERATIONS: u32 = 1_000_000;

/// `password` as a Mosquitto `$7$` password-file entry with a fresh salt from `rng`.
pub fn mosquitto_hash<R: CryptoRng + ?Sized>(password: &str, rng: &mut R) -> String {
    let mut salt = [0u8; SALT_LEN];
    rng.fill_bytes(&mut salt);
    let hash = pbkdf2_sha512(password, &salt, ITERATIONS);
    format!(
        "{PREFIX}{ITERATIONS}${}${}",
        STANDARD.encode(salt),
        STANDARD.encode(hash)
    )
}

/// Whether `password` matches the Mosquitto `$7$` entry `entry` (compared in constant time);
/// `false` for a malformed entry too.
pub fn verify_mosquitto_hash(password: &str, entry: &str) -> bool {
    let Ok(parsed) = Entry::parse(entry) else {
        return false;
    };
    let hash = pbkdf2_sha512(password, &parsed.salt, parsed.iterations);
    ct_eq(&hash, &parsed.hash)
}

/// PBKDF2-HMAC-SHA512 of `password` (its UTF-8 bytes, as the broker hashes `strlen` bytes).
fn pbkdf2_sha512(password: &str, salt: &[u8], iterations: u32) -> [u8; HASH_LEN] {
    pbkdf2::pbkdf2_hmac_array::<Sha512, HASH_LEN>(password.as_bytes(), salt, iterations)
}

/// A parsed `$7$` entry.
struct Entry {
    iterations: u32,
    salt: Vec<u8>,
    hash: Vec<u8>,
}

impl Entry {
    /// Parses `$7$<iterations>$<salt>$<hash>` as the broker does: iterations from 1, a 12- or
    /// 64-byte salt, a 64-byte hash, both standard base64.
    fn parse(entry: &str) -> Result<Entry> {
        let bad = |reason| Error::Parse {
            what: "Mosquitto password entry",
            reason,
        };
        let rest = entry
            .strip_prefix(PREFIX)
            .ok_or(bad("not a $7$ (PBKDF2-SHA512) entry"))?;
        let mut parts = rest.split('$');
        let (Some(iterations), Some(salt), Some(hash), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad("not $7$<iterations>$<salt>$<hash>"));
        };
        let iterations: u32 = iterations
            .parse()
            .map_err(|_| bad("iterations not a number"))?;
        if iterations == 0 || iterations > MAX_VERIFY_ITERATIONS {
            return Err(bad("iterations out of range"));
        }
        let salt = STANDARD.decode(salt).map_err(|_| bad("salt not base64"))?;
        if salt.len() != SALT_LEN && salt.len() != LONG_SALT_LEN {
            return Err(bad("salt not 12 or 64 bytes"));
        }
        let hash = STANDARD.decode(hash).map_err(|_| bad("hash not base64"))?;
        if hash.len() != HASH_LEN {
            return Err(bad("hash not 64 bytes"));
        }
        Ok(Entry {
            iterations,
            salt,
            hash,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::os_rng;

    /// Made on Mosquitto 2.0.11 with
    /// `mosquitto_passwd -c -b FILE dev_fixture pvd_Zm9yLXRlc3RzLW9ubHktbm90LWEtcmVhbC10b2tlbi0x`.
    const REAL_PASSWORD: &str = "pvd_Zm9yLXRlc3RzLW9ubHktbm90LWEtcmVhbC10b2tlbi0x";
    const REAL_ENTRY: &str = "$7$101$jZM9IjVWCDKmJbpq$m/sXSz/cKPFKMMpKVSxr3ptzHckXATFO9vpDmtn0mqg6SUP8kAw+OPUGwuesVMenIFKjQnTD1FaVTQh1rmS83g==";

    /// Made on Mosquitto 2.0.11 with `mosquitto_passwd -I 1000 -c -b FILE u 'fünf 🍏'`: other
    /// iterations, and a password that is not ASCII.
    const REAL_PASSWORD_1000: &str = "fünf 🍏";
    const REAL_ENTRY_1000: &str = "$7$1000$9p5g0vivM9e0oX26$lEJTYyRsqtNcSqH052/axXGseeTke/Ddviw7dkZkUxf7r8Ly/BksUwKjSrdMR+nZg9YYOBn4Z0S3bbMKkBbyeQ==";

    #[test]
    fn entries_made_by_mosquitto_passwd_verify() {
        assert!(verify_mosquitto_hash(REAL_PASSWORD, REAL_ENTRY));
        assert!(verify_mosquitto_hash(REAL_PASSWORD_1000, REAL_ENTRY_1000));
        assert!(!verify_mosquitto_hash(REAL_PASSWORD_1000, REAL_ENTRY));
    }

    #[test]
    fn given_mosquitto_passwds_salt_the_entry_is_byte_for_byte_its_own() {
        /// Hands out the fixture's salt, as `mosquitto_passwd`'s RAND_bytes did.
        struct Replay(Vec<u8>);
        impl rand_core::TryRng for Replay {
            type Error = core::convert::Infallible;
            fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
                unreachable!("only fill_bytes draws the salt")
            }
            fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
                unreachable!("only fill_bytes draws the salt")
            }
            fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
                dst.copy_from_slice(&self.0[..dst.len()]);
                Ok(())
            }
        }
        impl rand_core::TryCryptoRng for Replay {}

        let salt = STANDARD.decode("jZM9IjVWCDKmJbpq").unwrap();
        assert_eq!(mosquitto_hash(REAL_PASSWORD, &mut Replay(salt)), REAL_ENTRY);
    }

    #[test]
    fn entries_have_mosquitto_passwds_shape() {
        let entry = mosquitto_hash(REAL_PASSWORD, &mut os_rng());
        let parts: Vec<&str> = entry.split('$').collect();
        assert_eq!(parts.len(), 5, "{entry}");
        assert_eq!(parts[..3], ["", "7", "101"]);
        // 12 bytes → 16 characters, no padding; 64 bytes → 86 characters and `==`.
        assert_eq!(parts[3].len(), 16);
        assert_eq!(parts[4].len(), 88);
        assert!(parts[4].ends_with("=="));
        let real: Vec<&str> = REAL_ENTRY.split('$').collect();
        assert_eq!(real[3].len(), parts[3].len());
        assert_eq!(real[4].len(), parts[4].len());
    }

    #[test]
    fn hash_then_verify_round_trips_with_a_fresh_salt_each_time() {
        let mut rng = os_rng();
        let a = mosquitto_hash(REAL_PASSWORD, &mut rng);
        let b = mosquitto_hash(REAL_PASSWORD, &mut rng);
        assert_ne!(a, b);
        assert!(verify_mosquitto_hash(REAL_PASSWORD, &a));
        assert!(verify_mosquitto_hash(REAL_PASSWORD, &b));
        assert!(!a.contains(REAL_PASSWORD));
    }

    #[test]
    fn a_wrong_password_does_not_verify() {
        let entry = mosquitto_hash(REAL_PASSWORD, &mut os_rng());
        assert!(!verify_mosquitto_hash("pvd_guess", &entry));
        assert!(!verify_mosquitto_hash("", &entry));
        assert!(!verify_mosquitto_hash(
            &REAL_PASSWORD[..REAL_PASSWORD.len() - 1],
            &entry
        ));
        assert!(!verify_mosquitto_hash("pass", REAL_ENTRY));
    }

    #[test]
    fn malformed_entries_are_false_not_panics() {
        let salt = "jZM9IjVWCDKmJbpq";
        let hash = "m/sXSz/cKPFKMMpKVSxr3ptzHckXATFO9vpDmtn0mqg6SUP8kAw+OPUGwuesVMenIFKjQnTD1FaVTQh1rmS83g==";
        let short_hash = "m/sXSz/cKPFKMMpKVSxr3ptzHckXATFO9vpDmtn0mqg=";
        for bad in [
            String::new(),
            "$".to_owned(),
            "$7$".to_owned(),
            "$7$$$".to_owned(),
            "$7$101".to_owned(),
            format!("$7$101${salt}"),
            format!("$7$101${salt}$"),
            format!("$7$101${salt}${hash}$"),
            format!("$6${salt}${hash}"),
            format!("$7$0${salt}${hash}"),
            format!("$7$-1${salt}${hash}"),
            format!("$7$abc${salt}${hash}"),
            format!("$7$99999999999${salt}${hash}"),
            format!("$7$4000000000${salt}${hash}"),
            format!("$7$101$!!!!${hash}"),
            format!("$7$101$AAAA${hash}"),
            format!("$7$101${salt}${short_hash}"),
            format!("$7$101${salt}$not base64"),
            format!("7$101${salt}${hash}"),
            format!(" $7$101${salt}${hash}"),
            "$argon2id$v=19$m=8192,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g".to_owned(),
            "$7$101$é$é".to_owned(),
        ] {
            assert!(!verify_mosquitto_hash(REAL_PASSWORD, &bad), "{bad}");
            assert!(Entry::parse(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn parse_errors_never_contain_the_entry() {
        let Err(err) = Entry::parse("$7$101$secretish$x") else {
            panic!("parsed");
        };
        assert!(matches!(err, Error::Parse { .. }));
        assert!(!err.to_string().contains("secretish"));
    }
}
