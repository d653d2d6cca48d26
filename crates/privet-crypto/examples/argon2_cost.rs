//! Measures Argon2id's cost on this machine for candidate parameter sets, to
//! choose `privet_crypto`'s password-hashing parameters (see the comment
//! above them in `src/password.rs`).
//!
//! Run in release mode, on an otherwise idle machine of the deployment kind:
//!
//! ```text
//! cargo run --release --example argon2_cost -p privet-crypto
//! ```
//!
//! Every candidate meets one of OWASP's minimum Argon2id configurations
//! (m = 46 MiB t = 1, m = 19 MiB t = 2, m = 12 MiB t = 3, m = 9 MiB t = 4,
//! m = 7 MiB t = 5; p = 1). The output lists the fastest, the median and the
//! slowest of several hashes; pick the strongest set whose median is
//! 50–100 ms. On a busy machine the fastest run is the better estimate.

use std::time::{Duration, Instant};

use argon2::{Algorithm, Argon2, Params, Version};

const RUNS: usize = 7;

fn main() -> Result<(), argon2::Error> {
    let candidates: &[(u32, u32)] = &[
        // (memory in MiB, passes)
        (19, 2),
        (46, 1),
        (32, 2),
        (46, 2),
        (64, 1),
        (64, 2),
        (96, 1),
        (96, 2),
        (128, 1),
        (128, 2),
        (192, 1),
    ];
    println!("Argon2id v19, p = 1, {RUNS} runs each (fastest / median / slowest)");
    let password = b"correct horse battery staple orbit";
    let salt = [7u8; 16];
    for &(mib, t) in candidates {
        let params = Params::new(mib * 1024, t, 1, Some(32))?;
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let mut out = [0u8; 32];
        // One warm-up run so page faults of the first allocation do not count twice.
        argon2.hash_password_into(password, &salt, &mut out)?;
        let mut times: Vec<Duration> = (0..RUNS)
            .map(|_| {
                let start = Instant::now();
                let result = argon2.hash_password_into(password, &salt, &mut out);
                let elapsed = start.elapsed();
                result.map(|()| elapsed)
            })
            .collect::<Result<_, _>>()?;
        times.sort();
        println!(
            "m = {mib:>3} MiB, t = {t}: {:>6.1} ms / {:>6.1} ms / {:>6.1} ms",
            times[0].as_secs_f64() * 1e3,
            times[RUNS / 2].as_secs_f64() * 1e3,
            times[RUNS - 1].as_secs_f64() * 1e3,
        );
    }
    Ok(())
}
