//! "Did you mean" suggestions for misspelt keys and values.

/// The candidate closest to `unknown`, if any is close enough to be a likely typo.
pub fn did_you_mean<'a>(
    unknown: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let unknown_lower = unknown.to_ascii_lowercase();
    let last = unknown_lower.rsplit('.').next().unwrap_or(&unknown_lower);
    let mut best: Option<(f64, &'a str)> = None;
    for c in candidates {
        let whole = strsim::jaro_winkler(&unknown_lower, c);
        // A right final segment under the wrong parent ("user.precise" for "user.location.precise")
        // is as good a hint as a near-miss on the whole key.
        let c_last = c.rsplit('.').next().unwrap_or(c);
        let tail = if last.len() >= 4 && c_last == last {
            0.9
        } else {
            0.0
        };
        let score = whole.max(tail);
        if best.is_none_or(|(s, _)| score > s) {
            best = Some((score, c));
        }
    }
    best.filter(|(s, _)| *s >= 0.85).map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_typos_are_suggested_and_strangers_are_not() {
        let names = ["consent", "contract", "legitimate_interests"];
        assert_eq!(did_you_mean("concent", names), Some("consent"));
        assert_eq!(
            did_you_mean("legitimate_interest", names),
            Some("legitimate_interests")
        );
        assert_eq!(did_you_mean("banana", names), None);
    }
}
