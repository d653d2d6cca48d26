//! Recovery codes: the way back in when the authenticator app is lost. Ten
//! single-use codes are shown once, when two-step verification is turned
//! on, and stored only as hashes ([`hash_recovery_code`]); the caller
//! deletes a code's hash when it is used.
//!
//! A code looks like `7k2m-9xqp-v4hd-3tce`: 16 characters from a 32-letter
//! alphabet without the look-alikes `i`, `l`, `o` and `u` (Crockford's
//! base32), so 80 random bits. Typing variations still match: case, dashes
//! and spaces are ignored, and `o`/`i`/`l` are read as `0`/`1`/`1`.
//!
//! Why 80 bits rather than the 40–60 common elsewhere: the stored hash is a
//! fast, unsalted SHA-256 ([`TokenHash`]), so someone holding a copy of the
//! database can test one guess against every stored code at once. At 80
//! bits, even 10^5 stored codes leave about 2^63 guesses per hit — decades
//! of GPU time — while the codes stay short enough to copy by hand.

use zeroize::Zeroizing;

use crate::rng::CryptoRng;
use crate::{Secret, TokenHash, hash_token};

/// Recovery codes issued at a time.
pub const RECOVERY_CODE_COUNT: usize = 10;

/// Crockford's base32 alphabet, lowercase: digits and letters without
/// `i`, `l`, `o`, `u`. 32 symbols, so each is exactly 5 random bits.
const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
const GROUPS: usize = 4;
const GROUP_LEN: usize = 4;
/// Symbols per code: 16 × 5 = 80 random bits.
const SYMBOLS: usize = GROUPS * GROUP_LEN;

/// Ten fresh recovery codes, e.g. `7k2m-9xqp-v4hd-3tce`, to show once.
pub fn generate_recovery_codes<R: CryptoRng + ?Sized>(rng: &mut R) -> Vec<Secret> {
    (0..RECOVERY_CODE_COUNT)
        .map(|_| generate_one(rng))
        .collect()
}

fn generate_one<R: CryptoRng + ?Sized>(rng: &mut R) -> Secret {
    // 10 random bytes = 80 bits = 16 symbols of 5 bits: no modulo bias.
    let mut random = Zeroizing::new([0u8; SYMBOLS * 5 / 8]);
    rng.fill_bytes(random.as_mut_slice());
    let mut bits = Zeroizing::new(u128::from_be_bytes({
        let mut wide = [0u8; 16];
        wide[16 - random.len()..].copy_from_slice(random.as_slice());
        wide
    }));
    let mut code = String::with_capacity(SYMBOLS + GROUPS - 1);
    for i in 0..SYMBOLS {
        if i > 0 && i % GROUP_LEN == 0 {
            code.push('-');
        }
        let index = (*bits & 0x1f) as usize;
        *bits >>= 5;
        code.push(char::from(ALPHABET[index]));
    }
    Secret::new(code)
}

/// The stored hash of a recovery code as typed: lowercased, without dashes
/// or whitespace, with `o` read as `0` and `i`/`l` as `1`, then SHA-256.
/// Compare it with [`TokenHash`]'s equality or `matches` of the normalised
/// code; look it up only among the account's own codes.
pub fn hash_recovery_code(code: &str) -> TokenHash {
    hash_token(&normalize(code))
}

fn normalize(code: &str) -> Zeroizing<String> {
    Zeroizing::new(
        code.chars()
            .filter(|c| !c.is_whitespace() && !is_dash(*c))
            .map(|c| match c.to_ascii_lowercase() {
                'o' => '0',
                'i' | 'l' => '1',
                other => other,
            })
            .collect(),
    )
}

/// ASCII and Unicode dashes (copied codes may carry typographic ones).
fn is_dash(c: char) -> bool {
    matches!(
        c,
        '-' | '\u{2010}' | '\u{2011}' | '\u{2012}' | '\u{2013}' | '\u{2014}' | '\u{2212}'
    )
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::os_rng;

    #[test]
    fn ten_distinct_codes_in_four_groups_of_four() {
        let codes = generate_recovery_codes(&mut os_rng());
        assert_eq!(codes.len(), RECOVERY_CODE_COUNT);
        let distinct: HashSet<&str> = codes.iter().map(Secret::expose).collect();
        assert_eq!(distinct.len(), RECOVERY_CODE_COUNT);
        for code in &codes {
            let groups: Vec<&str> = code.expose().split('-').collect();
            assert_eq!(groups.len(), 4, "{code:?}");
            for group in groups {
                assert_eq!(group.len(), 4);
                assert!(group.bytes().all(|b| ALPHABET.contains(&b)));
                assert!(!group.contains(['i', 'l', 'o', 'u']));
            }
        }
    }

    #[test]
    fn every_symbol_is_used() {
        // 100 codes × 16 symbols: missing any of 32 symbols is ~2^-70 likely.
        let mut rng = os_rng();
        let seen: HashSet<char> = (0..100)
            .flat_map(|_| generate_one(&mut rng).expose().chars().collect::<Vec<_>>())
            .filter(|c| *c != '-')
            .collect();
        assert_eq!(seen.len(), 32);
    }

    #[test]
    fn typing_variations_hash_the_same() {
        let stored = hash_recovery_code("7k2m-9xqp-v4hd-3tc0");
        for typed in [
            "7k2m-9xqp-v4hd-3tc0",
            "7K2M-9XQP-V4HD-3TC0",
            "7k2m9xqpv4hd3tc0",
            " 7k2m 9xqp v4hd 3tc0 \n",
            "7k2m–9xqp–v4hd–3tco",
            "7K2M 9XQP-V4HD 3TCO",
        ] {
            assert_eq!(hash_recovery_code(typed), stored, "{typed:?}");
        }
        assert_eq!(
            hash_recovery_code("1111-aaaa-bbbb-cccc"),
            hash_recovery_code("iIlL-aaaa-bbbb-cccc")
        );
    }

    #[test]
    fn different_codes_hash_differently() {
        let codes = generate_recovery_codes(&mut os_rng());
        let hashes: HashSet<TokenHash> = codes
            .iter()
            .map(|c| hash_recovery_code(c.expose()))
            .collect();
        assert_eq!(hashes.len(), RECOVERY_CODE_COUNT);
        assert_ne!(
            hash_recovery_code("7k2m-9xqp-v4hd-3tc0"),
            hash_recovery_code("7k2m-9xqp-v4hd-3tc1")
        );
        assert_ne!(hash_recovery_code("7k2m"), hash_recovery_code(""));
    }

    #[test]
    fn the_hash_is_sha256_of_the_normalised_code() {
        assert_eq!(
            hash_recovery_code("ABCD-EFGH"),
            crate::hash_token("abcdefgh")
        );
    }

    #[test]
    fn debug_never_shows_a_code() {
        let codes = generate_recovery_codes(&mut os_rng());
        let debug = format!("{codes:?}");
        for code in &codes {
            assert!(!debug.contains(code.expose()));
        }
    }
}
