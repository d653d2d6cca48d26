//! The sealed-box layout shared by records, profiles and wrapped data keys:
//! `[format version = 1][12-byte random nonce][AES-256-GCM ciphertext][16-byte tag]`.
//!
//! AES-256-GCM is the record cipher because it measured about 7× faster than
//! ChaCha20-Poly1305 for 200-byte messages on the target machines
//! (BASELINES.md). Its 96-bit nonce is random: by the birthday bound the
//! chance of a repeat stays below 2^-32 for up to 2^32 seals under one key
//! (NIST SP 800-38D's limit for random nonces). A subject's data key seals
//! one block per ingest batch and the master key's wrapping key one blob per
//! subject, far below that. Callers put the version byte into their
//! associated data so that it, too, is authenticated.

use aes_gcm::Aes256Gcm;
use aes_gcm::aead::{AeadInOut as _, Nonce, Tag};
use zeroize::Zeroize as _;

use crate::rng::CryptoRng;
use crate::{Error, Result};

/// The only format version this build writes and reads.
pub(crate) const VERSION: u8 = 1;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
const HEADER_LEN: usize = 1 + NONCE_LEN;

/// Encrypts `plaintext` under `cipher` with `aad`, with a fresh random nonce.
pub(crate) fn seal<R: CryptoRng + ?Sized>(
    cipher: &Aes256Gcm,
    aad: &[u8],
    plaintext: &[u8],
    rng: &mut R,
    what: &'static str,
) -> Result<Vec<u8>> {
    let mut nonce = [0u8; NONCE_LEN];
    rng.fill_bytes(&mut nonce);

    let mut out = Vec::with_capacity(HEADER_LEN + plaintext.len() + TAG_LEN);
    out.push(VERSION);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(plaintext);

    let tag = cipher
        .encrypt_inout_detached(
            &Nonce::<Aes256Gcm>::from(nonce),
            aad,
            (&mut out[HEADER_LEN..]).into(),
        )
        .map_err(|_| Error::TooLong {
            what,
            len: plaintext.len(),
        })?;
    out.extend_from_slice(&tag);
    Ok(out)
}

/// Checks the version byte, then decrypts and authenticates `sealed`.
pub(crate) fn open(
    cipher: &Aes256Gcm,
    aad: &[u8],
    sealed: &[u8],
    what: &'static str,
) -> Result<Vec<u8>> {
    let Some((&version, rest)) = sealed.split_first() else {
        return Err(Error::Decrypt { what });
    };
    if version != VERSION {
        return Err(Error::UnknownFormat { what, version });
    }
    let Some((nonce, rest)) = rest.split_first_chunk::<NONCE_LEN>() else {
        return Err(Error::Decrypt { what });
    };
    let Some((ciphertext, tag)) = rest.split_last_chunk::<TAG_LEN>() else {
        return Err(Error::Decrypt { what });
    };

    let mut plaintext = ciphertext.to_vec();
    let verified = cipher.decrypt_inout_detached(
        &Nonce::<Aes256Gcm>::from(*nonce),
        aad,
        plaintext.as_mut_slice().into(),
        &Tag::<Aes256Gcm>::from(*tag),
    );
    if verified.is_err() {
        // Never leave unauthenticated output lying around in freed memory.
        plaintext.zeroize();
        return Err(Error::Decrypt { what });
    }
    Ok(plaintext)
}

/// The sealed length of a plaintext of `len` bytes.
pub(crate) const fn sealed_len(len: usize) -> usize {
    HEADER_LEN + len + TAG_LEN
}
