//! Master-key epochs: the instance's master keys, numbered, so that they can be rotated.
//!
//! A wrapped data key or instance secret names the epoch whose master key wraps it. New ones
//! are always wrapped under the newest epoch; rotation re-wraps the rest; once an epoch is
//! removed from every instance and every copy of its key is destroyed, every copy of the
//! keyring taken before (backup, WAL archive, replica) is unreadable.
//!
//! The text form (`PRIVET_MASTER_KEY`, a key file) is either one bare key — epoch 1, what
//! every installation had before epochs — or entries `epoch:key` separated by commas,
//! whitespace or newlines, with `#` comments:
//!
//! ```text
//! # retired once `privet keyring status` shows no key under it
//! 1:<32 bytes as base64, e.g. from `openssl rand -base64 32`>
//! 2:<another 32 bytes, as base64 or 64 hex digits>
//! ```
//!
//! Each epoch also has a check value in the keyring ([`MasterKeys::epoch_check`]): a fixed text
//! sealed under that epoch's key by the first instance to use it, which every instance opens
//! at start, so an instance whose key for an epoch differs (a paste error) is refused before
//! it wraps anything under it.
//!
//! A blob that names its epoch is `[0xE0][epoch, u32 big-endian][sealed envelope]`. A blob
//! without the tag starts with the envelope's format version (1): it was wrapped before
//! epochs existed, by the one master key there was, so it is epoch 1. The epoch number is not
//! part of the associated data, and need not be: each epoch has its own key, so a blob whose
//! header was changed to name another epoch fails authentication under that epoch's key.

use zeroize::Zeroizing;

use crate::envelope;
use crate::error::MasterKeysProblem;
use crate::record::DataKey;
use crate::rng::CryptoRng;
use crate::{Error, MasterKey, Pseudonym, Result, ct_eq};

/// First byte of a blob that names its epoch; never an envelope format version.
const EPOCH_TAG: u8 = 0xE0;
/// The tag and the epoch number.
const HEADER_LEN: usize = 1 + 4;
/// Domain label at the start of an instance secret's associated data, so that a secret
/// never opens as a wrapped data key (whose label differs) or the other way round.
const SECRET_AAD_LABEL: &[u8] = b"privet/instance-secret";
const WRAPPED_KEY: &str = "wrapped data key";
const SECRET: &str = "instance secret";
const CHECK: &str = "epoch check";
/// What an epoch's check value seals: fixed, so that any instance can tell whether its key for
/// the epoch is the one that made the check (the value is no secret; the key is).
const CHECK_PLAINTEXT: &[u8] = b"privet/epoch-check/v1";

/// The master keys an instance is configured with, by epoch: never empty, no epoch twice,
/// no key under two epochs.
///
/// `Debug` prints the epochs only: `MasterKeys(epochs [1, 2], **redacted**)`.
///
/// ```
/// use privet_crypto::{DataKey, MasterKey, MasterKeys, Pseudonym, os_rng};
///
/// let mut rng = os_rng();
/// let (one, two) = (MasterKey::generate(&mut rng), MasterKey::generate(&mut rng));
/// let (one, two) = (one.to_encoded(), two.to_encoded());
/// let keys = MasterKeys::parse(&format!("1:{}\n2:{}", one.expose(), two.expose()))?;
///
/// // New keys are wrapped under the newest epoch, and say so.
/// let subject = Pseudonym::from_bytes([7; 16]);
/// let wrapped = keys.wrap_data_key(&subject, &DataKey::generate(&mut rng), &mut rng);
/// assert_eq!(MasterKeys::epoch_of(&wrapped)?, 2);
///
/// // Once epoch 1 is retired, epoch 2 alone unwraps it.
/// let only_2 = MasterKeys::parse(&format!("2:{}", two.expose()))?;
/// assert!(only_2.unwrap_data_key(&subject, &wrapped).is_ok());
/// # Ok::<(), privet_crypto::Error>(())
/// ```
#[derive(Clone)]
pub struct MasterKeys {
    /// Ascending by epoch.
    keys: Vec<(u32, MasterKey)>,
}

impl MasterKeys {
    /// Length of [`MasterKeys::wrap_data_key`]'s output.
    pub const WRAPPED_KEY_LEN: usize = HEADER_LEN + MasterKey::WRAPPED_KEY_LEN;

    /// One key, as epoch 1 (an installation from before epochs).
    pub fn single(key: MasterKey) -> Self {
        Self {
            keys: vec![(1, key)],
        }
    }

    /// These keys by epoch, in any order. Epochs count from 1.
    pub fn from_epochs(entries: impl IntoIterator<Item = (u32, MasterKey)>) -> Result<Self> {
        let mut keys: Vec<(u32, MasterKey)> = entries.into_iter().collect();
        keys.sort_by_key(|(epoch, _)| *epoch);
        if keys.is_empty() {
            return Err(MasterKeysProblem::Empty.into());
        }
        for (i, (epoch, key)) in keys.iter().enumerate() {
            if *epoch == 0 {
                return Err(MasterKeysProblem::BadEpoch { entry: i + 1 }.into());
            }
            for (earlier, other) in &keys[..i] {
                if earlier == epoch {
                    return Err(MasterKeysProblem::DuplicateEpoch { epoch: *epoch }.into());
                }
                if ct_eq(key.to_bytes().as_slice(), other.to_bytes().as_slice()) {
                    return Err(MasterKeysProblem::SameKey {
                        first: *earlier,
                        second: *epoch,
                    }
                    .into());
                }
            }
        }
        Ok(Self { keys })
    }

    /// Parses the text form (see the module documentation). Errors name the entry at fault,
    /// never its text.
    pub fn parse(text: &str) -> Result<Self> {
        let entries: Vec<&str> = text
            .lines()
            .map(|line| line.split_once('#').map_or(line, |(kept, _)| kept))
            .flat_map(|line| line.split(|c: char| c == ',' || c.is_whitespace()))
            .filter(|entry| !entry.is_empty())
            .collect();
        if let [only] = entries.as_slice()
            && !only.contains(':')
        {
            return MasterKey::from_encoded(only)
                .map(Self::single)
                .map_err(|_| MasterKeysProblem::NotAKey { entry: 1 }.into());
        }
        let mut keys = Vec::with_capacity(entries.len());
        for (i, entry) in entries.iter().enumerate() {
            let n = i + 1;
            let Some((epoch, key)) = entry.split_once(':') else {
                return Err(MasterKeysProblem::NoEpoch { entry: n }.into());
            };
            let epoch = parse_epoch(epoch).ok_or(MasterKeysProblem::BadEpoch { entry: n })?;
            let key = MasterKey::from_encoded(key)
                .map_err(|_| MasterKeysProblem::NotAKey { entry: n })?;
            keys.push((epoch, key));
        }
        Self::from_epochs(keys)
    }

    /// The newest epoch and its key: what wraps everything new.
    pub fn newest(&self) -> (u32, &MasterKey) {
        // `keys` is never empty (every constructor checks), and sorted by epoch.
        match self.keys.last() {
            Some((epoch, key)) => (*epoch, key),
            None => unreachable!("MasterKeys is never empty"),
        }
    }

    /// The newest epoch's number.
    pub fn newest_epoch(&self) -> u32 {
        self.newest().0
    }

    /// The configured epochs, oldest first.
    pub fn epochs(&self) -> Vec<u32> {
        self.keys.iter().map(|(epoch, _)| *epoch).collect()
    }

    /// The key of `epoch`, if configured.
    pub fn get(&self, epoch: u32) -> Option<&MasterKey> {
        self.keys.iter().find(|(e, _)| *e == epoch).map(|(_, k)| k)
    }

    /// The epoch a wrapped key or sealed secret names; 1 for one wrapped before epochs.
    pub fn epoch_of(blob: &[u8]) -> Result<u32> {
        split(blob, "wrapped blob").map(|(epoch, _)| epoch)
    }

    /// Wraps `key` for `subject` under the newest epoch ([`MasterKey::wrap_data_key`], with
    /// the epoch named in front). Output: [`MasterKeys::WRAPPED_KEY_LEN`] bytes.
    pub fn wrap_data_key<R: CryptoRng + ?Sized>(
        &self,
        subject: &Pseudonym,
        key: &DataKey,
        rng: &mut R,
    ) -> Vec<u8> {
        let (epoch, master) = self.newest();
        with_header(epoch, &master.wrap_data_key(subject, key, rng))
    }

    /// Unwraps a key written by [`MasterKeys::wrap_data_key`] (or, before epochs, by
    /// [`MasterKey::wrap_data_key`]) with the key of the epoch it names.
    pub fn unwrap_data_key(&self, subject: &Pseudonym, wrapped: &[u8]) -> Result<DataKey> {
        let (epoch, inner) = split(wrapped, WRAPPED_KEY)?;
        self.key_of(epoch, WRAPPED_KEY)?
            .unwrap_data_key(subject, inner)
    }

    /// The same key wrapped under the newest epoch, or `None` when it already is. Either way
    /// it is unwrapped first: a key labelled with the newest epoch but wrapped under another
    /// key for it (a paste error on some instance) is an error, never "already current".
    pub fn rewrap_data_key<R: CryptoRng + ?Sized>(
        &self,
        subject: &Pseudonym,
        wrapped: &[u8],
        rng: &mut R,
    ) -> Result<Option<Vec<u8>>> {
        let key = self.unwrap_data_key(subject, wrapped)?;
        if Self::epoch_of(wrapped)? == self.newest_epoch() {
            return Ok(None);
        }
        Ok(Some(self.wrap_data_key(subject, &key, rng)))
    }

    /// Seals an instance secret (AES-256-GCM under the newest epoch's wrapping key; the
    /// associated data names the secret, so it does not open under another name).
    pub fn seal_secret<R: CryptoRng + ?Sized>(
        &self,
        name: &str,
        plaintext: &[u8],
        rng: &mut R,
    ) -> Result<Vec<u8>> {
        let (epoch, master) = self.newest();
        let sealed = envelope::seal(
            master.wrap_cipher(),
            &secret_aad(name),
            plaintext,
            rng,
            SECRET,
        )?;
        Ok(with_header(epoch, &sealed))
    }

    /// Opens a secret sealed by [`MasterKeys::seal_secret`] under `name`, with the key of the
    /// epoch it names. The plaintext is wiped from memory when dropped.
    pub fn open_secret(&self, name: &str, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        let (epoch, inner) = split(sealed, SECRET)?;
        let master = self.key_of(epoch, SECRET)?;
        envelope::open(master.wrap_cipher(), &secret_aad(name), inner, SECRET).map(Zeroizing::new)
    }

    /// The same secret sealed under the newest epoch, or `None` when it already is. Opened
    /// first either way, like [`MasterKeys::rewrap_data_key`].
    pub fn reseal_secret<R: CryptoRng + ?Sized>(
        &self,
        name: &str,
        sealed: &[u8],
        rng: &mut R,
    ) -> Result<Option<Vec<u8>>> {
        let plain = self.open_secret(name, sealed)?;
        if Self::epoch_of(sealed)? == self.newest_epoch() {
            return Ok(None);
        }
        self.seal_secret(name, &plain, rng).map(Some)
    }

    /// The keyring name of `epoch`'s check value: `epoch-check/N`.
    pub fn check_name(epoch: u32) -> String {
        format!("epoch-check/{epoch}")
    }

    /// `epoch`'s check value: a fixed text sealed under *that* epoch's key (not the newest's),
    /// bound to its name [`MasterKeys::check_name`]. The first instance to start with an epoch
    /// keeps it in the keyring; every other instance opens it with its own key for the epoch
    /// ([`MasterKeys::verify_epoch_check`]), so two instances with different keys under one
    /// epoch number are told apart before either wraps anything.
    pub fn epoch_check<R: CryptoRng + ?Sized>(&self, epoch: u32, rng: &mut R) -> Result<Vec<u8>> {
        let master = self.key_of(epoch, CHECK)?;
        let sealed = envelope::seal(
            master.wrap_cipher(),
            &secret_aad(&Self::check_name(epoch)),
            CHECK_PLAINTEXT,
            rng,
            CHECK,
        )?;
        Ok(with_header(epoch, &sealed))
    }

    /// `Ok` when `check` is `epoch`'s check value made with the key configured here for it;
    /// [`Error::WrongEpochKey`] when it was made with another key (or is not a check value of
    /// this epoch at all); [`Error::EpochNotConfigured`] when the epoch is not configured here.
    pub fn verify_epoch_check(&self, epoch: u32, check: &[u8]) -> Result<()> {
        let master = self.key_of(epoch, CHECK)?;
        let wrong = Error::WrongEpochKey { epoch };
        let Ok((named, inner)) = split(check, CHECK) else {
            return Err(wrong);
        };
        if named != epoch {
            return Err(wrong);
        }
        match envelope::open(
            master.wrap_cipher(),
            &secret_aad(&Self::check_name(epoch)),
            inner,
            CHECK,
        ) {
            Ok(plain) if plain == CHECK_PLAINTEXT => Ok(()),
            _ => Err(wrong),
        }
    }

    fn key_of(&self, epoch: u32, what: &'static str) -> Result<&MasterKey> {
        self.get(epoch)
            .ok_or(Error::EpochNotConfigured { what, epoch })
    }
}

impl std::fmt::Debug for MasterKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MasterKeys(epochs {:?}, **redacted**)", self.epochs())
    }
}

/// A decimal epoch from 1 to `u32::MAX`, digits only (no sign, no spaces).
fn parse_epoch(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse::<u32>().ok().filter(|e| *e > 0)
}

fn with_header(epoch: u32, sealed: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + sealed.len());
    out.push(EPOCH_TAG);
    out.extend_from_slice(&epoch.to_be_bytes());
    out.extend_from_slice(sealed);
    out
}

/// The epoch a blob names and the envelope after its header.
fn split<'a>(blob: &'a [u8], what: &'static str) -> Result<(u32, &'a [u8])> {
    match blob.split_first() {
        Some((&EPOCH_TAG, rest)) => match rest.split_first_chunk::<4>() {
            Some((epoch, inner)) => Ok((u32::from_be_bytes(*epoch), inner)),
            None => Err(Error::Decrypt { what }),
        },
        // Wrapped before epochs: the envelope itself, under the one key there was.
        Some((&envelope::VERSION, _)) => Ok((1, blob)),
        Some((&version, _)) => Err(Error::UnknownFormat { what, version }),
        None => Err(Error::Decrypt { what }),
    }
}

/// `SECRET_AAD_LABEL ‖ version ‖ name`; the name comes last, so no length prefix is needed.
fn secret_aad(name: &str) -> Vec<u8> {
    let mut aad = Vec::with_capacity(SECRET_AAD_LABEL.len() + 1 + name.len());
    aad.extend_from_slice(SECRET_AAD_LABEL);
    aad.push(envelope::VERSION);
    aad.extend_from_slice(name.as_bytes());
    aad
}

#[cfg(test)]
mod tests;
