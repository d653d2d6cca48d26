use super::*;
use jiff::Timestamp;
use privet_crypto::MasterKey;

#[test]
fn every_role_reaches_exactly_its_actions() {
    use Action::*;
    let expect = |role: Option<Role>| -> Vec<Action> {
        match role {
            Some(Role::Admin) => Action::ALL.to_vec(),
            Some(Role::Analyst) => vec![ReadEvents, UseConsole],
            Some(Role::Support) => vec![ViewHousehold, ActOnSubjects, ReadRequests, UseConsole],
            Some(Role::Dpo) => vec![ReadRequests, ReadAudit, ReadRecords, UseConsole],
            None => vec![UseConsole],
        }
    };
    for role in Role::ALL.map(Some).into_iter().chain([None]) {
        for action in Action::ALL {
            let allowed = expect(role).contains(&action);
            assert_eq!(can(role, action), allowed, "{role:?} × {action:?}");
            match authorize(role, action) {
                Ok(g) => assert!(allowed && g.action() == action, "{role:?} × {action:?}"),
                Err(d) => {
                    assert!(!allowed, "{role:?} × {action:?}");
                    assert_eq!(d, Denied::Role { role, action });
                }
            }
        }
    }
}

#[test]
fn reads_need_the_role_and_the_purpose() {
    let held = ["energy_report".to_owned()];
    let permit = authorize_read(Some(Role::Analyst), &held, "energy_report");
    assert_eq!(
        permit.map(|p| p.purpose().to_owned()).ok().as_deref(),
        Some("energy_report")
    );
    assert_eq!(
        authorize_read(Some(Role::Analyst), &held, "marketing"),
        Err(Denied::Purpose {
            purpose: "marketing".to_owned()
        })
    );
    assert!(matches!(
        authorize_read(Some(Role::Support), &held, "energy_report"),
        Err(Denied::Role {
            action: Action::ReadEvents,
            ..
        })
    ));
    let words = Denied::Role {
        role: Some(Role::Dpo),
        action: Action::ReadEvents,
    }
    .to_string();
    assert_eq!(words, "the dpo role may not read events");
}

fn subject(id: &str, kind: SubjectKind, household: Option<&str>, child: bool) -> Subject {
    Subject {
        id: SubjectId::new(id),
        kind,
        household: household.map(SubjectId::new),
        pseudonym: MasterKey::from_bytes([2; 32]).pseudonymizer().pseudonym(id),
        child,
        restricted: false,
        profile: Vec::new(),
        created_at: Timestamp::UNIX_EPOCH,
    }
}

#[test]
fn members_reach_their_own_data_their_household_and_as_owner_their_children() {
    let (h, other) = (SubjectId::new("h"), SubjectId::new("h2"));
    let (owner_id, adult_id, child_id) = (
        SubjectId::new("owner"),
        SubjectId::new("adult"),
        SubjectId::new("kid"),
    );
    let household = subject("h", SubjectKind::Household, None, false);
    let owner = subject("owner", SubjectKind::Member, Some("h"), false);
    let adult = subject("adult", SubjectKind::Member, Some("h"), false);
    let child = subject("kid", SubjectKind::Member, Some("h"), true);
    let stranger = subject("s", SubjectKind::Member, Some("h2"), false);
    let other_home = subject("h2", SubjectKind::Household, None, false);
    fn viewer<'a>(h: &'a SubjectId, member: &'a SubjectId, owner: bool) -> MemberViewer<'a> {
        MemberViewer {
            household: Some(h),
            member: Some(member),
            owner,
        }
    }
    use SubjectAction::{Manage, Read};
    use SubjectDenied::*;
    // (viewer, subject, action) → expected
    let cases: Vec<(
        MemberViewer<'_>,
        &Subject,
        SubjectAction,
        Result<bool, SubjectDenied>,
    )> = vec![
        (viewer(&h, &owner_id, true), &owner, Read, Ok(true)),
        (viewer(&h, &owner_id, true), &owner, Manage, Ok(true)),
        (viewer(&h, &owner_id, true), &adult, Read, Err(NotYours)),
        (viewer(&h, &owner_id, true), &adult, Manage, Err(OwnerOnly)),
        (viewer(&h, &owner_id, true), &child, Read, Ok(true)),
        (viewer(&h, &owner_id, true), &child, Manage, Ok(true)),
        (viewer(&h, &owner_id, true), &household, Manage, Ok(true)),
        (viewer(&h, &adult_id, false), &adult, Manage, Ok(false)),
        (viewer(&h, &adult_id, false), &household, Read, Ok(false)),
        (
            viewer(&h, &adult_id, false),
            &household,
            Manage,
            Err(OwnerOnly),
        ),
        (viewer(&h, &adult_id, false), &child, Read, Err(NotYours)),
        (viewer(&h, &child_id, false), &child, Read, Ok(false)),
        (viewer(&h, &child_id, false), &child, Manage, Err(OwnerOnly)),
        (viewer(&h, &owner_id, true), &stranger, Read, Err(Hidden)),
        (viewer(&h, &owner_id, true), &other_home, Read, Err(Hidden)),
    ];
    for (v, s, action, expected) in cases {
        let got = member_access(&v, s, action).map(|a| a.sees_children);
        assert_eq!(got, expected, "{:?} {action:?} {}", v.member, s.id);
    }
    let nobody = MemberViewer {
        household: Some(&other),
        member: None,
        owner: false,
    };
    assert_eq!(member_access(&nobody, &household, Read), Err(Hidden));
}
