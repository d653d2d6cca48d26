//! Randomness is a parameter: every function that needs it takes
//! `rng: &mut R` with `R: CryptoRng + ?Sized`, so tests can pass a seeded
//! generator and the server passes [`os_rng`].

use rand_core::UnwrapErr;
use zeroize::Zeroizing;

pub use rand_core::{CryptoRng, Rng};

/// The operating system's CSPRNG (`getrandom`), as an infallible [`CryptoRng`].
///
/// It is a zero-sized, `Copy` value; create one wherever it is needed.
pub type OsRng = UnwrapErr<getrandom::SysRng>;

/// The operating system's CSPRNG, for the server and the CLI.
///
/// If the operating system cannot supply randomness at all (a broken
/// platform, not an input), drawing from it panics rather than continuing
/// with predictable keys or nonces.
pub fn os_rng() -> OsRng {
    UnwrapErr(getrandom::SysRng)
}

/// 32 fresh random bytes for a key, wiped from memory on drop.
pub(crate) fn random_key<R: CryptoRng + ?Sized>(rng: &mut R) -> Zeroizing<[u8; 32]> {
    let mut bytes = Zeroizing::new([0u8; 32]);
    rng.fill_bytes(bytes.as_mut_slice());
    bytes
}
