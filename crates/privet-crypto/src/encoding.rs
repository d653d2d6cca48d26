//! Text encodings shared by the key and hash types: lowercase hex for
//! pseudonyms and hashes (the `hex` crate), lenient base64 for keys typed or
//! pasted by people (the `base64` crate).

use std::fmt;
use std::marker::PhantomData;
use std::str::FromStr;

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use zeroize::Zeroizing;

/// Base64 (standard alphabet) accepting input with or without padding.
const STANDARD_ANY_PAD: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Base64url accepting input with or without padding.
const URL_SAFE_ANY_PAD: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Lowercase hex of `bytes`.
pub(crate) fn hex_encode(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

/// Decodes hex (either case) into exactly `out.len()` bytes.
pub(crate) fn hex_decode_into(s: &str, out: &mut [u8]) -> Result<(), &'static str> {
    hex::decode_to_slice(s, out).map_err(|e| match e {
        hex::FromHexError::InvalidStringLength | hex::FromHexError::OddLength => "wrong length",
        hex::FromHexError::InvalidHexCharacter { .. } => "not hex",
    })
}

/// Decodes base64 in either alphabet, padded or not, into a buffer that is
/// wiped on drop (the input is often a secret).
pub(crate) fn base64_decode_any(s: &str) -> Option<Zeroizing<Vec<u8>>> {
    let engine = if s.contains(['-', '_']) {
        URL_SAFE_ANY_PAD
    } else {
        STANDARD_ANY_PAD
    };
    engine.decode(s).ok().map(Zeroizing::new)
}

/// Decodes base64 (any alphabet or padding) into exactly `N` bytes.
pub(crate) fn base64_decode_array<const N: usize>(s: &str) -> Option<Zeroizing<[u8; N]>> {
    let bytes = base64_decode_any(s)?;
    let mut out = Zeroizing::new([0u8; N]);
    if bytes.len() != N {
        return None;
    }
    out.copy_from_slice(&bytes);
    Some(out)
}

/// Serde visitor turning a hex string into `T` through `FromStr`.
pub(crate) struct HexVisitor<T>(pub(crate) PhantomData<T>);

impl<T> serde::de::Visitor<'_> for HexVisitor<T>
where
    T: FromStr,
    T::Err: fmt::Display,
{
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a hex string")
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<T, E> {
        v.parse().map_err(E::custom)
    }
}

/// Implements `to_hex`, `Display`, `Debug`, `FromStr` and hex-string serde
/// for a public (non-secret) fixed-size byte newtype `$name([u8; $len])`.
macro_rules! hex_newtype {
    ($name:ident, $len:expr, $what:literal) => {
        impl $name {
            /// Lowercase hex.
            pub fn to_hex(&self) -> String {
                $crate::encoding::hex_encode(&self.0)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.to_hex())
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}({})", stringify!($name), self.to_hex())
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::Error;

            fn from_str(s: &str) -> $crate::Result<Self> {
                let mut out = [0u8; $len];
                $crate::encoding::hex_decode_into(s, &mut out).map_err(|reason| {
                    $crate::Error::Parse {
                        what: $what,
                        reason,
                    }
                })?;
                Ok(Self(out))
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.to_hex())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                deserializer.deserialize_str($crate::encoding::HexVisitor(std::marker::PhantomData))
            }
        }
    };
}

pub(crate) use hex_newtype;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips_and_rejects_bad_input() {
        let bytes = [0x00, 0x0f, 0xa5, 0xff];
        let hex = hex_encode(&bytes);
        assert_eq!(hex, "000fa5ff");
        let mut out = [0u8; 4];
        hex_decode_into("000FA5ff", &mut out).unwrap();
        assert_eq!(out, bytes);
        assert!(hex_decode_into("000fa5f", &mut out).is_err());
        assert!(hex_decode_into("000fa5fg", &mut out).is_err());
        assert!(hex_decode_into("é0fa5f", &mut out).is_err());
    }

    #[test]
    fn base64_accepts_both_alphabets_with_or_without_padding() {
        // 0xfb 0xff encodes to "+/8=" / "-_8".
        for s in ["+/8=", "+/8", "-_8=", "-_8"] {
            assert_eq!(
                base64_decode_any(s).unwrap().as_slice(),
                &[0xfb, 0xff],
                "{s}"
            );
        }
        assert!(base64_decode_any("+_8").is_none());
        assert!(base64_decode_array::<3>("+/8=").is_none());
    }
}
