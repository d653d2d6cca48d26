//! The erasure plan: what erasing a subject removes. A household takes its members with it;
//! each subject's key is destroyed first (crypto-shredding), then its rows, then its records.

use crate::ids::SubjectId;
use crate::subjects::{Subject, SubjectKind};
use privet_crypto::Pseudonym;

/// What happens to the devices of an erased subject.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceDisposition {
    /// A household's devices leave it and their tokens are revoked: nobody may send data
    /// about a home that no longer exists.
    RevokeHouseholdDevices,
    /// A member's personal devices stay with the household, no longer tied to the member.
    DetachFromMember,
}

/// The erasure of one subject: its key, its row and everything keyed by its id (consents,
/// objections, account, sessions), its devices as `devices` says, and its records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ErasureStep {
    /// The subject.
    pub subject: SubjectId,
    /// Its pseudonym: its key and its records are found by it.
    pub pseudonym: Pseudonym,
    /// What happens to its devices.
    pub devices: DeviceDisposition,
    /// Whether the devices it unlinks count in the receipt (a member erased with its household
    /// does not count the household's devices twice).
    pub counts_devices: bool,
}

impl ErasureStep {
    /// The step for erasing `subject` on its own.
    pub fn for_subject(subject: &Subject) -> ErasureStep {
        ErasureStep {
            subject: subject.id.clone(),
            pseudonym: subject.pseudonym,
            devices: match subject.kind {
                SubjectKind::Household => DeviceDisposition::RevokeHouseholdDevices,
                SubjectKind::Member => DeviceDisposition::DetachFromMember,
            },
            counts_devices: true,
        }
    }
}

/// Everything one erasure request removes, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ErasurePlan {
    /// The subject asked for.
    pub target: SubjectId,
    /// Its kind.
    pub kind: SubjectKind,
    /// The steps: for a household, each member first, then the household.
    pub steps: Vec<ErasureStep>,
}

impl ErasurePlan {
    /// The pseudonyms of every subject erased.
    pub fn pseudonyms(&self) -> Vec<Pseudonym> {
        self.steps.iter().map(|s| s.pseudonym).collect()
    }
}

/// The plan for erasing `target`; `members` are the household's members when `target` is a
/// household (ignored for a member: erasing one person leaves the others).
pub fn erasure_plan(target: &Subject, members: &[Subject]) -> ErasurePlan {
    let mut steps = Vec::new();
    if target.kind == SubjectKind::Household {
        steps.extend(
            members
                .iter()
                .filter(|m| m.household.as_ref() == Some(&target.id))
                .map(|m| ErasureStep {
                    counts_devices: false,
                    ..ErasureStep::for_subject(m)
                }),
        );
    }
    steps.push(ErasureStep::for_subject(target));
    ErasurePlan {
        target: target.id.clone(),
        kind: target.kind,
        steps,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use privet_crypto::MasterKey;

    fn subject(id: &str, kind: SubjectKind, household: Option<&str>) -> Subject {
        Subject {
            id: SubjectId::new(id),
            kind,
            household: household.map(SubjectId::new),
            pseudonym: MasterKey::from_bytes([3; 32]).pseudonymizer().pseudonym(id),
            child: false,
            restricted: false,
            profile: Vec::new(),
            created_at: jiff::Timestamp::UNIX_EPOCH,
        }
    }

    #[test]
    fn a_household_takes_its_members_first_and_revokes_its_devices() {
        let h = subject("h", SubjectKind::Household, None);
        let members = [
            subject("a", SubjectKind::Member, Some("h")),
            subject("b", SubjectKind::Member, Some("h")),
            subject("x", SubjectKind::Member, Some("other")),
        ];
        let plan = erasure_plan(&h, &members);
        let ids: Vec<&str> = plan.steps.iter().map(|s| s.subject.as_str()).collect();
        assert_eq!(
            ids,
            ["a", "b", "h"],
            "another household's member is never erased"
        );
        let last = &plan.steps[2];
        assert_eq!(last.devices, DeviceDisposition::RevokeHouseholdDevices);
        assert!(last.counts_devices);
        assert!(
            plan.steps[..2]
                .iter()
                .all(|s| { s.devices == DeviceDisposition::DetachFromMember && !s.counts_devices })
        );
        assert_eq!(plan.pseudonyms().len(), 3);
    }

    #[test]
    fn a_member_is_erased_alone_and_its_devices_stay_with_the_household() {
        let m = subject("a", SubjectKind::Member, Some("h"));
        let others = [subject("b", SubjectKind::Member, Some("h"))];
        let plan = erasure_plan(&m, &others);
        assert_eq!(plan.steps.len(), 1);
        assert_eq!(plan.steps[0].devices, DeviceDisposition::DetachFromMember);
        assert_eq!(plan.kind, SubjectKind::Member);
    }
}
