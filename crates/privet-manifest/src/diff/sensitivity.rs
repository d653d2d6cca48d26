//! How sensitive a data category (or a stream's subject) is, as a rank: moving up a rank is a
//! material change, moving down a minor one.

use crate::taxonomy::{
    is_personal_category, is_precise_location, is_recording, is_special_category, is_under,
};
use crate::vocab::SubjectKind;

/// A data category's sensitivity, least first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Sensitivity {
    /// Not about people (`system.*`, or not a `user.*` category at all).
    NotPersonal,
    /// Personal data.
    Personal,
    /// Personal data whose loss or misuse is likely to harm: what the DPIA rule treats as
    /// high-risk (precise location, recordings), and money, identity documents, credentials
    /// and children's data.
    HighRisk,
    /// Special category (UK GDPR Art. 9) or criminal offence data (Art. 10).
    Special,
}

/// Personal data categories treated as high-risk besides precise location and recordings.
const HIGH_RISK: &[&str] = &[
    "user.financial",
    "user.government_id",
    "user.authorization.credentials",
    "user.authorization.password",
    "user.childrens",
];

/// The rank of a data category.
pub(super) fn of_category(category: &str) -> Sensitivity {
    if is_special_category(category) {
        Sensitivity::Special
    } else if is_precise_location(category)
        || is_recording(category)
        || HIGH_RISK.iter().any(|k| is_under(category, k))
    {
        Sensitivity::HighRisk
    } else if is_personal_category(category) {
        Sensitivity::Personal
    } else {
        Sensitivity::NotPersonal
    }
}

/// The rank of a stream's subject: data about one person is more sensitive than data about
/// a home, which is more than data about no one.
pub(super) fn of_subject(kind: SubjectKind) -> u8 {
    match kind {
        SubjectKind::None => 0,
        SubjectKind::Household => 1,
        SubjectKind::Member => 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories_rank_from_system_data_to_special_category() {
        assert_eq!(
            of_category("system.operations.device_health"),
            Sensitivity::NotPersonal
        );
        assert_eq!(of_category("user.sensor"), Sensitivity::Personal);
        assert_eq!(
            of_category("user.location.imprecise"),
            Sensitivity::Personal
        );
        assert_eq!(of_category("user.location.precise"), Sensitivity::HighRisk);
        assert_eq!(of_category("user.sensor.audio"), Sensitivity::HighRisk);
        assert_eq!(
            of_category("user.financial.bank_account"),
            Sensitivity::HighRisk
        );
        assert_eq!(
            of_category("user.health_and_medical.fitness"),
            Sensitivity::Special
        );
        assert_eq!(of_category("user.biometric.voice"), Sensitivity::Special);
    }
}
