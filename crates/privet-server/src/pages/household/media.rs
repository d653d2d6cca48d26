//! Recordings and pictures on My data: a field whose data category is audio, an image or
//! video holds the media base64-encoded. The page names it ("audio clip, 3 s", "picture,
//! 12 KB") and links to a download of the decoded bytes, never showing the encoded text.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use serde_json::Value;

/// What kind of media a field holds, from its data category.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MediaKind {
    /// Sound: a microphone's recording, a voice.
    Audio,
    /// A still picture.
    Picture,
    /// Moving pictures.
    Video,
}

/// The data categories (fideslang) whose values are media, with the kind each holds.
const CATEGORIES: [(&str, MediaKind); 5] = [
    ("user.sensor.audio", MediaKind::Audio),
    ("user.biometric.voice", MediaKind::Audio),
    ("user.sensor.image", MediaKind::Picture),
    ("user.content.self_image", MediaKind::Picture),
    ("user.sensor.video", MediaKind::Video),
];

impl MediaKind {
    /// The kind of media a field of `category` (or of a category under it) holds, if any.
    pub(crate) fn of_category(category: &str) -> Option<MediaKind> {
        CATEGORIES.iter().find_map(|(key, kind)| {
            let under = category
                .strip_prefix(key)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'));
            under.then_some(*kind)
        })
    }

    /// What one is called on the page.
    fn noun(self) -> &'static str {
        match self {
            MediaKind::Audio => "audio clip",
            MediaKind::Picture => "picture",
            MediaKind::Video => "video clip",
        }
    }
}

/// The bytes of a stored media value: devices send them base64-encoded (standard or
/// URL-safe alphabet, padded or not). `None` for anything else.
pub(crate) fn decode(value: Option<&Value>) -> Option<Vec<u8>> {
    let text = value?.as_str()?.trim();
    if text.is_empty() {
        return None;
    }
    [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|engine| engine.decode(text).ok())
}

/// How the page names a stored clip or picture: "audio clip, 3 s" when its length can be read
/// from it, else with its size ("picture, 12 KB").
pub(crate) fn describe(kind: MediaKind, bytes: &[u8]) -> String {
    match wav_seconds(bytes) {
        Some(s) if kind == MediaKind::Audio => format!("{}, {}", kind.noun(), seconds(s)),
        _ => format!("{}, {}", kind.noun(), size(bytes.len())),
    }
}

/// How the page names a stored value of this kind that could not be decoded.
pub(crate) fn unreadable(kind: MediaKind) -> String {
    format!("{} (stored in a form this page cannot read)", kind.noun())
}

/// The content type and file extension of a download, from the bytes' magic number;
/// unrecognised bytes download as `application/octet-stream`.
pub(crate) fn content_type(bytes: &[u8]) -> (&'static str, &'static str) {
    infer::get(bytes).map_or(("application/octet-stream", "bin"), |t| {
        (t.mime_type(), t.extension())
    })
}

fn seconds(s: f64) -> String {
    if s < 1.0 {
        "under 1 s".to_owned()
    } else {
        format!("{} s", s.round())
    }
}

fn size(n: usize) -> String {
    // Display only: the page rounds, so the float conversion's precision is plenty.
    #[allow(clippy::cast_precision_loss)]
    let n = n as f64;
    if n < 1024.0 {
        format!("{n} bytes")
    } else if n < 1024.0 * 1024.0 {
        format!("{} KB", (n / 1024.0).round())
    } else {
        format!("{:.1} MB", n / (1024.0 * 1024.0))
    }
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    let b: [u8; 4] = bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_le_bytes(b))
}

/// The length of a WAV (RIFF/WAVE) recording in seconds: the `data` chunk's size over the
/// `fmt ` chunk's byte rate. `None` for anything else, or a header that does not add up.
fn wav_seconds(bytes: &[u8]) -> Option<f64> {
    if bytes.get(0..4)? != b"RIFF" || bytes.get(8..12)? != b"WAVE" {
        return None;
    }
    let mut at = 12usize;
    let mut byte_rate = None;
    while let (Some(id), Some(len)) = (bytes.get(at..at + 4), u32_at(bytes, at + 4)) {
        let body = at + 8;
        match id {
            b"fmt " => byte_rate = u32_at(bytes, body + 8).filter(|r| *r > 0),
            b"data" => return Some(f64::from(len) / f64::from(byte_rate?)),
            _ => {}
        }
        // Chunks are padded to an even length.
        let len = usize::try_from(len).ok()?;
        at = body.checked_add(len)?.checked_add(len % 2)?;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A silent 16-bit mono WAV of `secs` seconds at 8 kHz.
    fn wav(secs: u32) -> Vec<u8> {
        let rate = 8000u32;
        let data = rate * 2 * secs;
        let mut b = Vec::new();
        b.extend_from_slice(b"RIFF");
        b.extend_from_slice(&(36 + data).to_le_bytes());
        b.extend_from_slice(b"WAVEfmt ");
        b.extend_from_slice(&16u32.to_le_bytes());
        b.extend_from_slice(&1u16.to_le_bytes()); // PCM
        b.extend_from_slice(&1u16.to_le_bytes()); // mono
        b.extend_from_slice(&rate.to_le_bytes());
        b.extend_from_slice(&(rate * 2).to_le_bytes()); // byte rate
        b.extend_from_slice(&2u16.to_le_bytes());
        b.extend_from_slice(&16u16.to_le_bytes());
        b.extend_from_slice(b"data");
        b.extend_from_slice(&data.to_le_bytes());
        b.resize(b.len() + data as usize, 0);
        b
    }

    #[test]
    fn media_kinds_follow_the_data_category() {
        assert_eq!(
            MediaKind::of_category("user.sensor.audio"),
            Some(MediaKind::Audio)
        );
        assert_eq!(
            MediaKind::of_category("user.sensor.video"),
            Some(MediaKind::Video)
        );
        assert_eq!(
            MediaKind::of_category("user.content.self_image"),
            Some(MediaKind::Picture)
        );
        assert_eq!(MediaKind::of_category("user.sensor"), None);
        assert_eq!(MediaKind::of_category("user.sensor.audiophile"), None);
        assert_eq!(MediaKind::of_category("user.content.private"), None);
    }

    #[test]
    fn a_recording_is_named_by_its_length_and_a_picture_by_its_size() {
        let clip = wav(3);
        assert_eq!(describe(MediaKind::Audio, &clip), "audio clip, 3 s");
        assert_eq!(content_type(&clip), ("audio/x-wav", "wav"));
        let jpeg = [0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, b'J', b'F', b'I', b'F'];
        let mut picture = jpeg.to_vec();
        picture.resize(12 * 1024, 0);
        assert_eq!(describe(MediaKind::Picture, &picture), "picture, 12 KB");
        assert_eq!(content_type(&picture).0, "image/jpeg");
        // Not a WAV: its length is unknown, so its size is given.
        assert_eq!(describe(MediaKind::Audio, b"noise"), "audio clip, 5 bytes");
        assert_eq!(content_type(b"noise"), ("application/octet-stream", "bin"));
    }

    #[test]
    fn stored_values_are_decoded_from_base64_only() {
        let encoded = STANDARD.encode(wav(1));
        assert_eq!(decode(Some(&Value::from(encoded))), Some(wav(1)));
        assert_eq!(
            decode(Some(&Value::from("aGVsbG8"))),
            Some(b"hello".to_vec())
        );
        assert_eq!(decode(Some(&Value::from("not base64!"))), None);
        assert_eq!(decode(Some(&Value::from(3))), None);
        assert_eq!(decode(None), None);
    }

    #[test]
    fn a_truncated_wav_header_has_no_length() {
        let mut clip = wav(2);
        clip.truncate(30);
        assert_eq!(wav_seconds(&clip), None);
        assert_eq!(wav_seconds(b"RIFF\0\0\0\0WAVEdata"), None);
    }
}
