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
//! m = 7 MiB t = 5; p = 1). For each it prints the fastest, median and slowest
//! wall-clock time of several hashes and the median CPU time (which a busy
//! machine does not inflate); pick the strongest set that takes 50–100 ms.

use std::time::{Duration, Instant};

use argon2::{Algorithm, Argon2, Params, Version};

const RUNS: usize = 7;

/// Nanoseconds this thread has spent on a CPU (Linux `schedstat`), so the
/// cost of a hash can be told apart from time spent waiting for a CPU on a
/// busy machine. `None` elsewhere.
fn cpu_ns() -> Option<u64> {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

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
        (128, 1),
    ];
    println!(
        "Argon2id v19, p = 1, {RUNS} runs each: wall time fastest / median / slowest, \
         and median CPU time"
    );
    let password = b"correct horse battery staple orbit";
    let salt = [7u8; 16];
    for &(mib, t) in candidates {
        let params = Params::new(mib * 1024, t, 1, Some(32))?;
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let mut out = [0u8; 32];
        // One warm-up run, not counted.
        argon2.hash_password_into(password, &salt, &mut out)?;
        let mut wall = Vec::with_capacity(RUNS);
        let mut cpu = Vec::with_capacity(RUNS);
        for _ in 0..RUNS {
            let cpu_start = cpu_ns();
            let start = Instant::now();
            argon2.hash_password_into(password, &salt, &mut out)?;
            wall.push(start.elapsed());
            if let (Some(a), Some(b)) = (cpu_start, cpu_ns()) {
                cpu.push(Duration::from_nanos(b.saturating_sub(a)));
            }
        }
        wall.sort();
        cpu.sort();
        let ms = |d: &Duration| d.as_secs_f64() * 1e3;
        println!(
            "m = {mib:>3} MiB, t = {t}: {:>6.1} / {:>6.1} / {:>6.1} ms wall, {:>6.1} ms CPU",
            ms(&wall[0]),
            ms(&wall[RUNS / 2]),
            ms(&wall[RUNS - 1]),
            cpu.get(cpu.len() / 2).map_or(f64::NAN, ms),
        );
    }
    Ok(())
}
