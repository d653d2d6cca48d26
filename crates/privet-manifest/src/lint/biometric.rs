//! Biometric data filed under another category: a field whose name or description says it
//! identifies people by their face, voice, fingerprint, gait or iris is biometric data,
//! whatever category the maker chose (PV060).
//!
//! Words are matched whole, so "surface", "interface" and "Facebook" never match "face".
//! Terms that only ever mean biometric identification ("face print", "fingerprint", "gait",
//! "iris") match anywhere. A trait word that also has ordinary meanings ("face", "voice")
//! matches only in a sentence that also speaks of recognising or identifying someone, and not
//! in a sentence that denies it ("we do not recognise faces").

use crate::finding::Finding;
use crate::model::{Field, Manifest, Stream};
use crate::rules;
use crate::taxonomy::is_biometric;

/// Phrases (as lowercase word sequences) that mean biometric identification on their own,
/// with the category that fits them.
const STRONG: &[(&[&str], &str)] = &[
    (&["fingerprint"], "user.biometric.fingerprint"),
    (&["fingerprints"], "user.biometric.fingerprint"),
    (&["finger", "print"], "user.biometric.fingerprint"),
    (&["finger", "prints"], "user.biometric.fingerprint"),
    (&["thumbprint"], "user.biometric.fingerprint"),
    (&["palm", "print"], "user.biometric"),
    (&["palmprint"], "user.biometric"),
    (&["faceprint"], "user.biometric"),
    (&["faceprints"], "user.biometric"),
    (&["face", "print"], "user.biometric"),
    (&["face", "prints"], "user.biometric"),
    (&["face", "id"], "user.biometric"),
    (&["faceid"], "user.biometric"),
    (&["face", "template"], "user.biometric"),
    (&["face", "embedding"], "user.biometric"),
    (&["face", "signature"], "user.biometric"),
    (&["face", "recognition"], "user.biometric"),
    (&["facial", "recognition"], "user.biometric"),
    (&["facial", "geometry"], "user.biometric"),
    (&["facial", "features"], "user.biometric"),
    (&["voiceprint"], "user.biometric.voice"),
    (&["voiceprints"], "user.biometric.voice"),
    (&["voice", "print"], "user.biometric.voice"),
    (&["voice", "prints"], "user.biometric.voice"),
    (&["voice", "id"], "user.biometric.voice"),
    (&["voice", "signature"], "user.biometric.voice"),
    (&["voice", "match"], "user.biometric.voice"),
    (&["speaker", "recognition"], "user.biometric.voice"),
    (&["speaker", "identification"], "user.biometric.voice"),
    (&["gait"], "user.biometric"),
    (&["iris"], "user.biometric.retinal"),
    (&["irises"], "user.biometric.retinal"),
    (&["retina"], "user.biometric.retinal"),
    (&["retinal"], "user.biometric.retinal"),
    (&["biometric"], "user.biometric"),
    (&["biometrics"], "user.biometric"),
];

/// Trait words that are biometric only when used to tell who someone is.
const TRAITS: &[(&str, &str)] = &[
    ("face", "user.biometric"),
    ("faces", "user.biometric"),
    ("facial", "user.biometric"),
    ("voice", "user.biometric.voice"),
    ("voices", "user.biometric.voice"),
];

/// Words that speak of telling who someone is.
const IDENTIFYING: &[&str] = &[
    "recognise",
    "recognises",
    "recognised",
    "recognising",
    "recognize",
    "recognizes",
    "recognized",
    "recognizing",
    "recognition",
    "identify",
    "identifies",
    "identified",
    "identifying",
    "identification",
    "who",
    "whose",
    "match",
    "matches",
    "matched",
    "matching",
];

/// Words that deny what the sentence speaks of.
const NEGATIONS: &[&str] = &["not", "never", "no", "cannot", "nor", "without"];

pub(super) fn check(m: &Manifest, out: &mut Vec<Finding>) {
    for (s, f) in m.fields() {
        if is_biometric(&f.category.value) || f.category.value.is_empty() {
            continue;
        }
        let name = f.name.as_str().replace(['_', '-'], " ");
        let description = f.description.as_ref().map_or("", |d| d.value.as_str());
        let found = biometric_terms(&name).or_else(|| biometric_terms(description));
        if let Some((term, category)) = found {
            push(s, f, &term, category, out);
        }
    }
}

fn push(s: &Stream, f: &Field, term: &str, category: &str, out: &mut Vec<Finding>) {
    out.push(
        Finding::new(
            &rules::UNDECLARED_BIOMETRIC,
            f.category.span,
            format!(
                "field `{}.{}` speaks of \"{term}\", which identifies people, but is filed under `{}`",
                s.id.as_str(),
                f.name.as_str(),
                f.category.value
            ),
        )
        .label("biometric data under another category")
        .help(format!(
            "file it as biometric data, `category = \"{category}\"` (special category data: it needs explicit consent and a DPIA), or stop identifying people and say so in the description"
        )),
    );
}

/// The first biometric term in `text` and the category that fits it, if `text` speaks of
/// identifying people by their body.
pub(crate) fn biometric_terms(text: &str) -> Option<(String, &'static str)> {
    for sentence in text.split(['.', '!', '?', ';', '\n']) {
        let lower = sentence.to_lowercase();
        // "don't", "doesn't", "won't": the apostrophe splits words, so look for it first.
        let denies_by_contraction = lower.contains("n't") || lower.contains("n\u{2019}t");
        let words: Vec<&str> = lower
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .collect();
        for (phrase, category) in STRONG {
            if words.windows(phrase.len()).any(|w| w == *phrase) {
                return Some((phrase.join(" "), category));
            }
        }
        let denies = denies_by_contraction || words.iter().any(|w| NEGATIONS.contains(w));
        let identifies = words.iter().any(|w| IDENTIFYING.contains(w));
        if denies || !identifies {
            continue;
        }
        if let Some((word, category)) = TRAITS.iter().find(|(t, _)| words.contains(t)) {
            return Some(((*word).to_owned(), category));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::biometric_terms;

    fn term(text: &str) -> Option<String> {
        biometric_terms(text).map(|(t, _)| t)
    }

    #[test]
    fn biometric_phrases_are_found() {
        assert_eq!(
            term("A face print of whoever is in view, so we can tell you who it was.").as_deref(),
            Some("face print")
        );
        assert_eq!(term("fingerprint").as_deref(), Some("fingerprint"));
        assert_eq!(term("How you walk (your gait).").as_deref(), Some("gait"));
        assert_eq!(term("An IRIS scan.").as_deref(), Some("iris"));
        assert_eq!(
            term("Recognises familiar faces at the door.").as_deref(),
            Some("faces")
        );
        assert_eq!(
            term("We match your voice to tell who is speaking.").as_deref(),
            Some("voice")
        );
    }

    #[test]
    fn innocent_words_do_not_match() {
        for text in [
            "The surface temperature of the hob.",
            "The interface you used: app or panel.",
            "Whether you shared it on Facebook.",
            "The clock face colour you chose.",
            "The sound of your voice when you ask something.",
            "The doorbell does not recognise faces.",
            "We never try to find out whose voice it is.",
            "The camera doesn't identify faces.",
            "Footprint of the house in square metres.",
            "Who rang the bell is up to you to see.",
        ] {
            assert_eq!(term(text), None, "{text}");
        }
    }
}
