//! The longest Privet lets each kind of personal data be kept without a written reason
//! (`retention_reason`), per data category: one table, which `docs/lint-rules.md` (PV016)
//! prints and a test keeps in step.
//!
//! UK GDPR Art. 5(1)(e) (storage limitation) says data is kept no longer than the purpose
//! needs, and the ICO's guidance on it asks controllers to set and justify a period for each
//! kind of data. These bounds are Privet's defaults for consumer devices: most device data is
//! useful for weeks or months, and a period past the bound has to be argued for in writing.

use crate::retention::{Retention, RetentionUnit};
use crate::taxonomy::is_under;

/// One row of the table: data under `category` may be kept up to `longest` without a reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetentionBound {
    /// The data category (and everything under it), e.g. `user.location`.
    pub category: &'static str,
    /// The longest it may be kept without a written reason.
    pub longest: Retention,
    /// Why this bound, in one line (printed in the docs).
    pub why: &'static str,
}

const fn years(amount: u32) -> Retention {
    Retention {
        amount,
        unit: RetentionUnit::Years,
    }
}

const fn bound(category: &'static str, amount: u32, why: &'static str) -> RetentionBound {
    RetentionBound {
        category,
        longest: years(amount),
        why,
    }
}

/// The bounds, most specific category first; the first row a category falls under applies.
/// Data outside `user.*` (system and device data) has no bound here.
pub const RETENTION_BOUNDS: &[RetentionBound] = &[
    bound(
        "user.sensor.audio",
        1,
        "recordings inside a home are the most intrusive data a device holds",
    ),
    bound(
        "user.sensor.video",
        1,
        "recordings inside a home are the most intrusive data a device holds",
    ),
    bound(
        "user.sensor.image",
        1,
        "recordings inside a home are the most intrusive data a device holds",
    ),
    bound(
        "user.content.self_image",
        1,
        "pictures of people are recordings too",
    ),
    bound(
        "user.biometric",
        1,
        "biometric data is special category data; a template is needed only while it is used",
    ),
    bound(
        "user.authorization.biometric",
        1,
        "biometric data is special category data; a template is needed only while it is used",
    ),
    bound(
        "user.health_and_medical",
        2,
        "health data is special category data; two years covers trends people look back on",
    ),
    bound(
        "user.location",
        2,
        "where people go reveals their lives; two years covers year-on-year comparison",
    ),
    bound(
        "user.behavior",
        2,
        "what people do at home reveals their habits; two years covers year-on-year comparison",
    ),
    bound(
        "user.content",
        2,
        "what people say or write is kept for their own use and history",
    ),
    bound(
        "user.financial",
        6,
        "payment records are kept for six years for UK tax and accounting rules",
    ),
    bound(
        "user.sensor",
        3,
        "readings of the home (temperature, energy, motion) compare one winter with the last",
    ),
    bound(
        "user",
        3,
        "any other personal data: past three years a reason must be written down",
    ),
];

/// The bound for data of `category`, or `None` when it is not personal data.
pub fn bound_for(category: &str) -> Option<&'static RetentionBound> {
    RETENTION_BOUNDS
        .iter()
        .find(|b| is_under(category, b.category))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_most_specific_row_applies() {
        let longest = |c: &str| bound_for(c).map(|b| b.longest);
        assert_eq!(longest("user.sensor.audio"), Some(years(1)));
        assert_eq!(longest("user.sensor.environment"), Some(years(3)));
        assert_eq!(longest("user.behavior.presence"), Some(years(2)));
        assert_eq!(longest("user.location.precise"), Some(years(2)));
        assert_eq!(longest("user.content.self_image"), Some(years(1)));
        assert_eq!(longest("user.content.private"), Some(years(2)));
        assert_eq!(longest("user.account"), Some(years(3)));
        assert_eq!(longest("system.operations"), None);
    }

    #[test]
    fn no_row_is_hidden_behind_a_broader_one() {
        for (i, b) in RETENTION_BOUNDS.iter().enumerate() {
            let first = RETENTION_BOUNDS
                .iter()
                .position(|earlier| is_under(b.category, earlier.category));
            assert_eq!(first, Some(i), "{} is shadowed", b.category);
        }
    }
}
