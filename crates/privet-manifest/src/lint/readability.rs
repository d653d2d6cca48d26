//! Plain-language measures for descriptions: word counts and the Flesch reading ease score.
//!
//! Flesch reading ease (Flesch, 1948) is
//! `206.835 − 1.015 × (words ÷ sentences) − 84.6 × (syllables ÷ words)`:
//! 60–70 is plain English, 50–60 "fairly difficult", below 50 "difficult" (college level).
//! Syllables are estimated, not looked up; the heuristic is in [`syllables`].

/// Below this many words the score says more about the sample than the text.
pub(super) const MIN_WORDS_FOR_FLESCH: usize = 8;

/// The words of `text`: whitespace-separated tokens with at least one letter or digit.
pub(super) fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split_whitespace()
        .filter(|t| t.chars().any(char::is_alphanumeric))
}

/// The Flesch reading ease of `text`, or `None` when it has too few words to judge.
pub(super) fn flesch_reading_ease(text: &str) -> Option<f64> {
    let mut word_count = 0usize;
    let mut syllable_count = 0usize;
    let mut sentence_count = 0usize;
    let mut last_ended = false;
    for token in words(text) {
        word_count += 1;
        syllable_count += token_syllables(token);
        last_ended = ends_sentence(token);
        if last_ended {
            sentence_count += 1;
        }
    }
    if word_count < MIN_WORDS_FOR_FLESCH {
        return None;
    }
    // Text after the last full stop is a sentence too.
    if !last_ended {
        sentence_count += 1;
    }
    let (w, s, y) = (
        word_count as f64,
        sentence_count as f64,
        syllable_count as f64,
    );
    Some(206.835 - 1.015 * (w / s) - 84.6 * (y / w))
}

/// Whether a token ends a sentence: it ends in `.`, `!` or `?` and is not an abbreviation
/// with inner dots such as `e.g.`.
fn ends_sentence(token: &str) -> bool {
    let trimmed = token.trim_end_matches(['"', '\'', ')', ']', '’', '”']);
    let Some(body) = trimmed.strip_suffix(['.', '!', '?']) else {
        return false;
    };
    !body.contains('.')
}

/// Syllables in a token: the sum over its letter runs (`smart-home` is `smart` + `home`);
/// a token with no letters (a number) counts as one.
fn token_syllables(token: &str) -> usize {
    let lower = token.to_lowercase();
    let total: usize = lower
        .split(|c: char| !c.is_alphabetic())
        .filter(|run| !run.is_empty())
        .map(syllables)
        .sum();
    total.max(1)
}

/// Estimated syllables in one lowercase word:
/// 1. words of three letters or fewer have one;
/// 2. otherwise count groups of consecutive vowels (`a e i o u y`);
/// 3. a final silent `e` does not count (`use`, `schedule`), except in a consonant + `le`
///    ending (`table`);
/// 4. a final `-ed` does not count unless after `t` or `d` (`used`, but `wanted`), nor a final
///    `-es` unless after a sibilant (`makes`, but `uses`);
/// 5. every word has at least one.
///
/// Like every such heuristic it miscounts some words (`idea`, `radio`), which matters little
/// averaged over a sentence.
pub(super) fn syllables(word: &str) -> usize {
    let chars: Vec<char> = word.chars().collect();
    if chars.len() <= 3 {
        return 1;
    }
    let is_vowel = |c: char| matches!(c, 'a' | 'e' | 'i' | 'o' | 'u' | 'y');
    let mut count = 0usize;
    let mut in_group = false;
    for &c in &chars {
        let v = is_vowel(c);
        if v && !in_group {
            count += 1;
        }
        in_group = v;
    }
    let n = chars.len();
    let at = |i: usize| chars.get(i).copied().unwrap_or(' ');
    let (last, second, third) = (at(n - 1), at(n - 2), at(n - 3));
    let silent = match (third, second, last) {
        (t, 'l', 'e') => is_vowel(t),
        (_, _, 'e') => true,
        (t, 'e', 'd') => !matches!(t, 't' | 'd'),
        (t, 'e', 's') => !matches!(t, 's' | 'x' | 'z' | 'c' | 'g' | 'h'),
        _ => false,
    };
    // Only a vowel group of its own can be silent: `free` and `see` keep theirs.
    let own_group = !is_vowel(match last {
        'e' => second,
        _ => third,
    });
    if silent && own_group && count > 1 {
        count -= 1;
    }
    count.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syllable_heuristic_counts_common_words() {
        for (word, n) in [
            ("the", 1),
            ("use", 1),
            ("used", 1),
            ("uses", 2),
            ("makes", 1),
            ("wanted", 2),
            ("heating", 2),
            ("schedule", 2),
            ("table", 2),
            ("temperature", 4),
            ("device", 2),
            ("energy", 3),
            ("monthly", 2),
            ("free", 1),
            ("information", 4),
        ] {
            assert_eq!(syllables(word), n, "{word}");
        }
    }

    #[test]
    fn plain_sentences_score_high_and_jargon_low() {
        let plain = flesch_reading_ease("Send you a monthly report of your energy use.");
        assert!(plain.is_some_and(|s| s > 60.0), "{plain:?}");
        let hard = flesch_reading_ease(
            "Telemetry information facilitates algorithmic optimisation of personalised energy consumption recommendations.",
        );
        assert!(hard.is_some_and(|s| s < 50.0), "{hard:?}");
        assert_eq!(flesch_reading_ease("Too short to judge."), None);
    }

    #[test]
    fn sentences_end_at_stops_but_not_abbreviations() {
        assert!(ends_sentence("set."));
        assert!(ends_sentence("on?\""));
        assert!(!ends_sentence("e.g."));
        assert!(!ends_sentence("heating"));
        assert_eq!(words("Turn - it on, 3 times").count(), 5);
    }
}
