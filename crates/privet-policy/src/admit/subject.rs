//! Whose data an event is: the subject, resolved from the stream's declaration, the event and
//! the device; and what the server knows about subjects (consents, restriction).

use super::DeviceContext;
use super::rejection::Rejection;
use privet_manifest::{FieldName, PurposeId, StreamId, SubjectKind};

/// The data subject an event is about.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum SubjectRef {
    /// A household member (a person), by member id.
    Member(String),
    /// A household as a whole, by household id.
    Household(String),
    /// Nobody: the stream holds no personal data.
    NotPersonal,
}

impl SubjectRef {
    /// Whether the data is about a subject (so consent and restriction apply).
    pub fn is_personal(&self) -> bool {
        !matches!(self, SubjectRef::NotPersonal)
    }

    /// The member or household id.
    pub fn id(&self) -> Option<&str> {
        match self {
            SubjectRef::Member(id) | SubjectRef::Household(id) => Some(id),
            SubjectRef::NotPersonal => None,
        }
    }
}

/// What the server knows about subjects when a batch arrives.
pub trait SubjectState {
    /// Whether `subject` has consented to `purpose` (consent-based purposes default to off).
    fn consented(&self, subject: &SubjectRef, purpose: &PurposeId) -> bool;

    /// Whether the consent to `purpose` in force for `subject` was given under a manifest
    /// version that covers `field` of `stream` as collected now (see [`crate::Lineage`]).
    /// Asked only of consents in force; without version history, every consent covers all.
    fn version_covers(
        &self,
        _subject: &SubjectRef,
        _purpose: &PurposeId,
        _stream: &StreamId,
        _field: &FieldName,
    ) -> bool {
        true
    }

    /// Whether `subject` has restricted processing (UK GDPR Art. 18): nothing new is stored.
    fn restricted(&self, _subject: &SubjectRef) -> bool {
        false
    }

    /// Whether `subject` has objected to `purpose` (UK GDPR Art. 21): it no longer serves as a
    /// reason to collect their data.
    fn objected(&self, _subject: &SubjectRef, _purpose: &PurposeId) -> bool {
        false
    }
}

/// Why no subject could be resolved.
#[derive(Debug)]
pub(super) enum SubjectProblem {
    UnknownMember,
    NoMember,
    NoHousehold,
    MemberNotAllowed,
}

impl SubjectProblem {
    pub(super) fn at(self, index: usize, stream: &StreamId) -> Rejection {
        let stream = stream.clone();
        match self {
            SubjectProblem::UnknownMember => Rejection::UnknownMember { index, stream },
            SubjectProblem::NoMember => Rejection::NoMember { index, stream },
            SubjectProblem::NoHousehold => Rejection::NoHousehold { index, stream },
            SubjectProblem::MemberNotAllowed => Rejection::MemberNotAllowed { index, stream },
        }
    }
}

/// The subject of an event of a stream of `kind`.
///
/// Personal data (member and household streams) is accepted only from a device attached to a
/// household. A member stream's event is the named member's, who must belong to the device's
/// household, or else the device's own member's. An event of another stream may not name a
/// member.
pub(super) fn resolve(
    kind: SubjectKind,
    ctx: &DeviceContext<'_>,
    event_member: Option<&str>,
) -> Result<SubjectRef, SubjectProblem> {
    match kind {
        SubjectKind::None if event_member.is_some() => Err(SubjectProblem::MemberNotAllowed),
        SubjectKind::None => Ok(SubjectRef::NotPersonal),
        SubjectKind::Household => {
            let household = ctx.household.ok_or(SubjectProblem::NoHousehold)?;
            if event_member.is_some() {
                return Err(SubjectProblem::MemberNotAllowed);
            }
            Ok(SubjectRef::Household(household.to_owned()))
        }
        SubjectKind::Member => {
            if ctx.household.is_none() {
                return Err(SubjectProblem::NoHousehold);
            }
            match (event_member, ctx.member) {
                (Some(m), _) if ctx.household_members.iter().any(|h| h == m) => {
                    Ok(SubjectRef::Member(m.to_owned()))
                }
                (Some(_), _) => Err(SubjectProblem::UnknownMember),
                (None, Some(m)) => Ok(SubjectRef::Member(m.to_owned())),
                (None, None) => Err(SubjectProblem::NoMember),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use privet_manifest::Manifest;

    fn manifest() -> Manifest {
        privet_manifest::parse("[product]\nid = \"p\"\nname = \"P\"\nmaker = \"M\"\n")
            .unwrap()
            .manifest
    }

    #[test]
    fn member_streams_prefer_the_event_member_then_the_device_member() {
        let m = manifest();
        let members = ["alice".to_owned(), "bob".to_owned()];
        let ctx = DeviceContext {
            manifest: &m,
            household: Some("hh"),
            member: Some("alice"),
            household_members: &members,
        };
        let r = |member| resolve(SubjectKind::Member, &ctx, member);
        assert_eq!(r(Some("bob")).unwrap(), SubjectRef::Member("bob".into()));
        assert_eq!(r(None).unwrap(), SubjectRef::Member("alice".into()));
        assert!(matches!(
            r(Some("mallory")),
            Err(SubjectProblem::UnknownMember)
        ));
        let shared = DeviceContext {
            member: None,
            ..ctx
        };
        assert!(matches!(
            resolve(SubjectKind::Member, &shared, None),
            Err(SubjectProblem::NoMember)
        ));
    }

    #[test]
    fn personal_data_needs_a_household_and_other_data_does_not() {
        let m = manifest();
        let ctx = DeviceContext {
            manifest: &m,
            household: None,
            member: Some("alice"),
            household_members: &[],
        };
        for kind in [SubjectKind::Member, SubjectKind::Household] {
            assert!(matches!(
                resolve(kind, &ctx, None),
                Err(SubjectProblem::NoHousehold)
            ));
        }
        assert!(matches!(
            resolve(SubjectKind::None, &ctx, Some("x")),
            Err(SubjectProblem::MemberNotAllowed)
        ));
        assert_eq!(
            resolve(SubjectKind::None, &ctx, None).unwrap(),
            SubjectRef::NotPersonal
        );
        let attached = DeviceContext {
            household: Some("hh"),
            ..ctx
        };
        assert_eq!(
            resolve(SubjectKind::Household, &attached, None).unwrap(),
            SubjectRef::Household("hh".into())
        );
        assert!(
            matches!(
                resolve(SubjectKind::Household, &attached, Some("alice")),
                Err(SubjectProblem::MemberNotAllowed)
            ),
            "a member on a household stream is refused, not ignored"
        );
    }
}
