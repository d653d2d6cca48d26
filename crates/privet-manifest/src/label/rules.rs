//! The grading rules: a stable code, the points each deducts and what it checks, and the
//! bands that turn points into a letter. This table is the single source; docs/label.md
//! lists the same rules and a test keeps the two in step.

/// One grading rule: a stable code, the points it deducts and what it checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GradeRule {
    /// Stable kebab-case code, e.g. `on-by-default`.
    pub code: &'static str,
    /// Points deducted each time it applies (negative).
    pub points: i32,
    /// Whether it applies once per matching item (purpose, field, recipient…) or once at most.
    pub each: bool,
    /// What it checks, in plain words.
    pub summary: &'static str,
}

const fn rule(code: &'static str, points: i32, each: bool, summary: &'static str) -> GradeRule {
    GradeRule {
        code,
        points,
        each,
        summary,
    }
}

pub(super) const ON_BY_DEFAULT: GradeRule = rule(
    "on-by-default",
    -10,
    true,
    "a purpose that is not essential runs without asking (it needs no consent)",
);
pub(super) const MARKETING: GradeRule = rule(
    "marketing",
    -5,
    true,
    "a purpose uses data for marketing or advertising, or shares it for others' own use",
);
pub(super) const SPECIAL_CATEGORY: GradeRule = rule(
    "special-category",
    -10,
    true,
    "a kind of special category data is collected (health, biometrics…)",
);
pub(super) const PRECISE_LOCATION: GradeRule = rule(
    "precise-location",
    -10,
    true,
    "a precise location field is not cut to 3 decimal places (about 110 m) or fewer",
);
pub(super) const RECORDINGS: GradeRule = rule(
    "recordings",
    -10,
    true,
    "a kind of recording is collected (audio, video, images, voice)",
);
pub(super) const THIRD_PARTY_CONTROLLER: GradeRule = rule(
    "third-party-controller",
    -10,
    true,
    "a recipient uses the data for its own purposes (a controller, or role not stated)",
);
pub(super) const OUTSIDE_UK: GradeRule = rule(
    "outside-uk",
    -5,
    true,
    "a recipient is outside the UK (or its country is not stated)",
);
pub(super) const RETENTION_OVER_1Y: GradeRule = rule(
    "retention-over-1-year",
    -5,
    false,
    "the longest retention is over 1 year, up to 3 years",
);
pub(super) const RETENTION_OVER_3Y: GradeRule = rule(
    "retention-over-3-years",
    -15,
    false,
    "the longest retention is over 3 years, unlimited or not stated",
);
pub(super) const NOT_OFFLINE: GradeRule = rule(
    "not-offline",
    -5,
    false,
    "the product does not work without the internet, or does not say",
);
pub(super) const UPDATES_ENDING: GradeRule = rule(
    "updates-ending",
    -10,
    false,
    "security updates end less than 2 years from today",
);
pub(super) const UPDATES_ENDED: GradeRule = rule(
    "updates-ended",
    -25,
    false,
    "the security update period has ended",
);
pub(super) const UPDATES_NOT_STATED: GradeRule = rule(
    "updates-not-stated",
    -20,
    false,
    "no security update period is stated",
);
pub(super) const NO_DISCLOSURE: GradeRule = rule(
    "no-vulnerability-disclosure",
    -10,
    false,
    "there is no way to report a vulnerability",
);
pub(super) const NO_UPDATE_KEY: GradeRule = rule(
    "no-update-key",
    -5,
    false,
    "firmware updates are not signed with a declared release key",
);
pub(super) const NO_TWO_STEP: GradeRule = rule(
    "no-two-step",
    -10,
    false,
    "accounts cannot turn on two-step verification",
);
pub(super) const DEFAULT_PASSWORDS: GradeRule = rule(
    "default-passwords",
    -20,
    false,
    "devices may share a default password instead of unique credentials",
);
pub(super) const NO_PER_PERSON_ENCRYPTION: GradeRule = rule(
    "no-per-person-encryption",
    -5,
    false,
    "people's data is not encrypted with a key of their own",
);

/// Every grading rule, in the order they are checked. The documentation (docs/label.md)
/// lists the same rules; a test keeps the two in step.
pub const GRADE_RULES: &[GradeRule] = &[
    ON_BY_DEFAULT,
    MARKETING,
    SPECIAL_CATEGORY,
    PRECISE_LOCATION,
    RECORDINGS,
    THIRD_PARTY_CONTROLLER,
    OUTSIDE_UK,
    RETENTION_OVER_1Y,
    RETENTION_OVER_3Y,
    NOT_OFFLINE,
    UPDATES_ENDING,
    UPDATES_ENDED,
    UPDATES_NOT_STATED,
    NO_DISCLOSURE,
    NO_UPDATE_KEY,
    NO_TWO_STEP,
    DEFAULT_PASSWORDS,
    NO_PER_PERSON_ENCRYPTION,
];

/// Points every product starts with.
pub const START_POINTS: i32 = 100;

/// The lowest points for each letter, best first; below the last band is `E`.
pub const GRADE_BANDS: &[(char, u32)] = &[('A', 85), ('B', 70), ('C', 55), ('D', 40)];

/// The letter for the lowest band.
pub const LOWEST_GRADE: char = 'E';

/// The bands in words, e.g. "A is 85 or more, B 70 to 84, …, E below 40".
pub fn bands_sentence() -> String {
    let mut parts = Vec::new();
    let mut upper: Option<u32> = None;
    for (letter, min) in GRADE_BANDS {
        parts.push(match upper {
            None => format!("{letter} is {min} or more"),
            Some(u) => format!("{letter} {min} to {}", u.saturating_sub(1)),
        });
        upper = Some(*min);
    }
    if let Some(u) = upper {
        parts.push(format!("{LOWEST_GRADE} below {u}"));
    }
    parts.join(", ")
}

/// The letter for `points`.
pub fn letter(points: u32) -> char {
    GRADE_BANDS
        .iter()
        .find(|(_, min)| points >= *min)
        .map_or(LOWEST_GRADE, |(l, _)| *l)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_map_points_to_letters() {
        assert_eq!(letter(100), 'A');
        assert_eq!(letter(85), 'A');
        assert_eq!(letter(84), 'B');
        assert_eq!(letter(55), 'C');
        assert_eq!(letter(40), 'D');
        assert_eq!(letter(39), 'E');
        assert_eq!(letter(0), 'E');
        assert_eq!(
            bands_sentence(),
            "A is 85 or more, B 70 to 84, C 55 to 69, D 40 to 54, E below 40"
        );
    }

    #[test]
    fn rule_codes_are_unique_and_only_deduct() {
        for (i, a) in GRADE_RULES.iter().enumerate() {
            assert!(a.points < 0, "{}", a.code);
            assert!(
                GRADE_RULES.iter().skip(i + 1).all(|b| b.code != a.code),
                "{}",
                a.code
            );
        }
    }
}
