//! Password hashing (DESIGN principle 9): Argon2id, stored as a PHC string
//! (`$argon2id$v=19$m=…,t=…,p=…$<salt>$<hash>`), so every stored hash
//! carries the parameters it was made with and old hashes keep verifying
//! after the parameters are raised ([`needs_rehash`] says when to upgrade).
//!
//! [`dummy_verify`] spends the time of a real verification without an
//! account, so a sign-in for an unknown e-mail takes as long as one with a
//! wrong password and timing does not reveal which e-mails have accounts.

use argon2::password_hash::phc::PasswordHash;
use argon2::{Algorithm, Argon2, Params, PasswordHasher as _, PasswordVerifier as _, Version};

use crate::rng::CryptoRng;
use crate::{Error, Result};

// Argon2id parameters, chosen by measurement
// (`cargo run --release --example argon2_cost -p privet-crypto`) on the
// deployment kind of machine: 2 vCPUs (AMD EPYC, AVX2), 24 GiB.
//
// OWASP's Password Storage Cheat Sheet lists equally strong minimum
// Argon2id settings (m = 46 MiB t = 1, m = 19 MiB t = 2, … all p = 1). The
// target was the strongest set that still hashes in about 50–100 ms here, so
// a sign-in stays quick while each guess of an offline attacker costs as
// much memory and time as we can afford. Memory is what makes Argon2 costly
// on GPUs and ASICs, so between sets of similar time the one with more
// memory wins. The machine was shared with other builds while measuring
// (load average 4–5 on 2 vCPUs), so the table gives the CPU time per hash
// (median of 7, three runs), which waiting for a CPU does not inflate, and
// the fastest wall time seen:
//
//   m = 19 MiB, t = 2:   51–56 ms CPU,  46 ms fastest  (OWASP minimum)
//   m = 32 MiB, t = 2:   77–109 ms CPU, 78 ms fastest
//   m = 46 MiB, t = 1:   96–107 ms CPU, 70 ms fastest  ← chosen (OWASP minimum)
//   m = 64 MiB, t = 1:  108–155 ms CPU, 107 ms fastest (over budget)
//   m = 46 MiB, t = 2:  119–159 ms CPU, 108 ms fastest (over budget)
//
// m = 46 MiB, t = 1 and m = 32 MiB, t = 2 cost about the same time; the
// former has more memory, and is OWASP's first recommendation. On a busy
// machine a sign-in may wait longer than this for a CPU; that is scheduling,
// not the hash.
//
// p = 1: this build of `argon2` computes lanes one after another (no
// `parallel` feature), so more lanes would add time, not use the second
// core, which the server needs for other requests anyway.
//
// Each hash in flight holds `ARGON2_M_COST_KIB` of memory, and each core
// manages about ten per second: the sign-in rate limits sit far below that.

/// Argon2id memory cost in KiB (46 MiB; see the measurement above).
pub const ARGON2_M_COST_KIB: u32 = 46 * 1024;
/// Argon2id passes over memory.
pub const ARGON2_T_COST: u32 = 1;
/// Argon2id lanes.
pub const ARGON2_P_COST: u32 = 1;

/// Hash length in bytes: 256 bits, beyond any collision or preimage search.
const OUTPUT_LEN: usize = 32;
/// Salt length in bytes: 128 random bits, as RFC 9106 recommends, so no two
/// accounts (or two hashes of one password) share a salt.
const SALT_LEN: usize = 16;

/// Stored hashes with parameters above these are refused rather than run:
/// they would make one verification take gigabytes or seconds, and are not
/// parameters this crate ever writes.
const MAX_VERIFY_M_COST_KIB: u32 = 1024 * 1024;
const MAX_VERIFY_T_COST: u32 = 16;
const MAX_VERIFY_P_COST: u32 = 16;

/// The salt of [`dummy_verify`]'s computation: fixed, as nothing is stored.
const DUMMY_SALT: [u8; SALT_LEN] = *b"privet/dummy/v1!";

/// The hasher with the current parameters.
fn current_hasher() -> Result<Argon2<'static>> {
    let params = Params::new(
        ARGON2_M_COST_KIB,
        ARGON2_T_COST,
        ARGON2_P_COST,
        Some(OUTPUT_LEN),
    )
    .map_err(|_| Error::PasswordHash {
        reason: "invalid Argon2 parameters",
    })?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashes `password` with Argon2id, the current parameters and a fresh
/// random salt, as a PHC string for storage.
pub fn hash_password<R: CryptoRng + ?Sized>(password: &str, rng: &mut R) -> Result<String> {
    let mut salt = [0u8; SALT_LEN];
    rng.fill_bytes(&mut salt);
    let hash = current_hasher()?
        .hash_password_with_salt(password.as_bytes(), &salt)
        .map_err(|_| Error::PasswordHash {
            reason: "Argon2 could not hash (out of memory?)",
        })?;
    Ok(hash.to_string())
}

/// Whether `password` matches the stored PHC string `phc` (made by
/// [`hash_password`], with whatever parameters were current then).
///
/// `Ok(false)` means a wrong password; `Err` means the stored hash itself is
/// unusable (not an Argon2id PHC string, or absurd parameters).
pub fn verify_password(password: &str, phc: &str) -> Result<bool> {
    let hash = parse_argon2id(phc)?;
    let params = Params::try_from(&hash).map_err(|_| Error::Parse {
        what: "password hash",
        reason: "invalid Argon2 parameters",
    })?;
    if params.m_cost() > MAX_VERIFY_M_COST_KIB
        || params.t_cost() > MAX_VERIFY_T_COST
        || params.p_cost() > MAX_VERIFY_P_COST
    {
        return Err(Error::PasswordHash {
            reason: "stored hash has parameters beyond the allowed maximum",
        });
    }
    // The algorithm, version and parameters come from the stored hash; the
    // output comparison inside is constant-time (`phc::Output`'s `PartialEq`).
    match Argon2::default().verify_password(password.as_bytes(), &hash) {
        Ok(()) => Ok(true),
        Err(argon2::password_hash::Error::PasswordInvalid) => Ok(false),
        Err(_) => Err(Error::PasswordHash {
            reason: "Argon2 could not verify (out of memory?)",
        }),
    }
}

/// Whether the stored hash `phc` should be replaced by a fresh
/// [`hash_password`] at the next successful sign-in: it is not Argon2id
/// version 0x13, or its memory or time cost is below the current one.
/// Unparsable input also answers `true`.
pub fn needs_rehash(phc: &str) -> bool {
    let Ok(hash) = parse_argon2id(phc) else {
        return true;
    };
    let Ok(params) = Params::try_from(&hash) else {
        return true;
    };
    hash.version != Some(Version::V0x13.into())
        || params.m_cost() < ARGON2_M_COST_KIB
        || params.t_cost() < ARGON2_T_COST
        || hash.hash.as_ref().map(|h| h.len()) != Some(OUTPUT_LEN)
}

/// Spends the time of a real [`verify_password`] (one Argon2id hash with
/// the current parameters) and answers `false`.
///
/// Call it when a sign-in names an e-mail without an account, so that the
/// answer takes as long as a wrong password for an existing account.
pub fn dummy_verify(password: &str) -> bool {
    if let Ok(hasher) = current_hasher() {
        let result = hasher.hash_password_with_salt(password.as_bytes(), &DUMMY_SALT);
        // Keep the optimiser from dropping a computation whose result is unused.
        std::hint::black_box(&result);
    }
    false
}

fn parse_argon2id(phc: &str) -> Result<PasswordHash> {
    let hash = PasswordHash::new(phc).map_err(|_| Error::Parse {
        what: "password hash",
        reason: "not a PHC string",
    })?;
    if hash.algorithm != argon2::ARGON2ID_IDENT {
        return Err(Error::Parse {
            what: "password hash",
            reason: "not an Argon2id hash",
        });
    }
    Ok(hash)
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;
    use crate::os_rng;

    const PASSWORD: &str = "correct horse battery staple orbit";

    #[test]
    fn hash_then_verify_round_trips() {
        let phc = hash_password(PASSWORD, &mut os_rng()).unwrap();
        assert!(phc.starts_with(&format!(
            "$argon2id$v=19$m={ARGON2_M_COST_KIB},t={ARGON2_T_COST},p={ARGON2_P_COST}$"
        )));
        assert!(verify_password(PASSWORD, &phc).unwrap());
        assert!(!needs_rehash(&phc));
    }

    #[test]
    fn wrong_password_does_not_verify() {
        let phc = hash_password(PASSWORD, &mut os_rng()).unwrap();
        assert!(!verify_password("correct horse battery staple orbiT", &phc).unwrap());
        assert!(!verify_password("", &phc).unwrap());
    }

    #[test]
    fn same_password_hashes_differently_each_time() {
        let mut rng = os_rng();
        let a = hash_password(PASSWORD, &mut rng).unwrap();
        let b = hash_password(PASSWORD, &mut rng).unwrap();
        assert_ne!(a, b, "each hash has its own salt");
        assert!(!a.contains(PASSWORD));
    }

    #[test]
    fn non_ascii_passwords_round_trip() {
        let password = "fünf grüne Äpfel 🍏 und ein Fuchs";
        let phc = hash_password(password, &mut os_rng()).unwrap();
        assert!(verify_password(password, &phc).unwrap());
    }

    #[test]
    fn hashes_with_older_parameters_still_verify_and_need_a_rehash() {
        // An RFC 9106-style hash made with weaker (old) parameters.
        let params = Params::new(8 * 1024, 1, 1, Some(OUTPUT_LEN)).unwrap();
        let old = Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password_with_salt(PASSWORD.as_bytes(), b"0123456789abcdef")
            .unwrap()
            .to_string();
        assert!(old.starts_with("$argon2id$v=19$m=8192,t=1,p=1$"));
        assert!(verify_password(PASSWORD, &old).unwrap());
        assert!(!verify_password("guess", &old).unwrap());
        assert!(needs_rehash(&old));
    }

    #[test]
    fn other_algorithms_and_garbage_are_errors_not_false() {
        let argon2i = Argon2::new(
            Algorithm::Argon2i,
            Version::V0x13,
            Params::new(8 * 1024, 1, 1, None).unwrap(),
        )
        .hash_password_with_salt(PASSWORD.as_bytes(), b"0123456789abcdef")
        .unwrap()
        .to_string();
        for bad in [
            "",
            "hunter2",
            "$argon2id$",
            "$2b$12$abcdefghijklmnopqrstuu",
            argon2i.as_str(),
        ] {
            let err = verify_password(PASSWORD, bad).unwrap_err();
            assert!(matches!(err, Error::Parse { .. }), "{bad}: {err:?}");
            assert!(needs_rehash(bad), "{bad}");
        }
    }

    #[test]
    fn absurd_stored_parameters_are_refused_without_running() {
        let huge = "$argon2id$v=19$m=4194304,t=1,p=1$MDEyMzQ1Njc4OWFiY2RlZg$\
                    AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        let err = verify_password(PASSWORD, huge).unwrap_err();
        assert!(matches!(err, Error::PasswordHash { .. }), "{err:?}");
    }

    #[test]
    fn errors_never_contain_the_password() {
        let err = verify_password(PASSWORD, "not a hash").unwrap_err();
        assert!(!err.to_string().contains(PASSWORD));
        assert!(!format!("{err:?}").contains(PASSWORD));
    }

    /// The fastest of a few runs: robust against a busy machine.
    fn fastest(mut f: impl FnMut()) -> Duration {
        (0..5)
            .map(|_| {
                let start = Instant::now();
                f();
                start.elapsed()
            })
            .min()
            .unwrap()
    }

    #[test]
    fn dummy_verify_takes_about_as_long_as_a_real_verification() {
        let phc = hash_password(PASSWORD, &mut os_rng()).unwrap();
        let real = fastest(|| assert!(!verify_password("wrong guess", &phc).unwrap()));
        let dummy = fastest(|| assert!(!dummy_verify("wrong guess")));
        let ratio = dummy.as_secs_f64() / real.as_secs_f64();
        assert!(
            (0.5..2.0).contains(&ratio),
            "dummy {dummy:?} vs real {real:?}"
        );
    }
}
