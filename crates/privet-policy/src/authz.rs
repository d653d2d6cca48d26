//! Who may do what: one table of operator roles × actions, from which API keys, staff sessions
//! and console pages all take their answers, and the rule for what a signed-in household member
//! may do to a subject. Checks return a narrowed grant (lldap's pattern), never a bare boolean.

use crate::ids::SubjectId;
use crate::subjects::{Subject, SubjectKind};
use serde::{Deserialize, Serialize};
use std::fmt;

/// An operator role (of an API key or a staff account).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Manages households, devices, keys and releases.
    Admin,
    /// Reads events for its purposes only.
    Analyst,
    /// Handles rights requests and consents; reads no events.
    Support,
    /// Reads the audit log, rights requests and the records of processing.
    Dpo,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 4] = [Role::Admin, Role::Analyst, Role::Support, Role::Dpo];

    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Analyst => "analyst",
            Role::Support => "support",
            Role::Dpo => "dpo",
        }
    }

    /// Parses a stored or command-line spelling.
    pub fn parse(s: &str) -> Option<Self> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// Something an operator does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// Create households, members and devices; reset devices; accept releases; create staff.
    ManageFleet,
    /// See devices and their update status.
    SeeFleet,
    /// Read events for a purpose the key or account holds.
    ReadEvents,
    /// See a household's members and devices (ids only).
    ViewHousehold,
    /// Act on a subject's consents and rights; log, extend and complete rights requests.
    ActOnSubjects,
    /// See rights requests.
    ReadRequests,
    /// Read and verify the audit log.
    ReadAudit,
    /// Create and revoke operator API keys.
    ManageKeys,
    /// Use the console: its overview and the products' pages.
    UseConsole,
    /// Publish a new version of a product's manifest.
    PublishManifests,
    /// Register and delete webhook endpoints, see and retry their deliveries.
    ManageWebhooks,
    /// Read the records of processing (UK GDPR Art. 30) drawn from the manifests.
    ReadRecords,
}

impl Action {
    /// Every action.
    pub const ALL: [Action; 12] = [
        Action::ManageFleet,
        Action::SeeFleet,
        Action::ReadEvents,
        Action::ViewHousehold,
        Action::ActOnSubjects,
        Action::ReadRequests,
        Action::ReadAudit,
        Action::ManageKeys,
        Action::UseConsole,
        Action::PublishManifests,
        Action::ManageWebhooks,
        Action::ReadRecords,
    ];

    /// What the action is, as "the role may not …" ends.
    pub fn words(self) -> &'static str {
        match self {
            Action::ManageFleet => "manage households, devices or keys",
            Action::SeeFleet => "see the fleet",
            Action::ReadEvents => "read events",
            Action::ViewHousehold => "see households",
            Action::ActOnSubjects => "act on subjects",
            Action::ReadRequests => "see rights requests",
            Action::ReadAudit => "read the audit log",
            Action::ManageKeys => "manage API keys",
            Action::UseConsole => "use the console",
            Action::PublishManifests => "publish manifests",
            Action::ManageWebhooks => "manage webhooks",
            Action::ReadRecords => "read the records of processing",
        }
    }
}

/// The table: admin everything; analyst reads events (for its purposes); support acts on
/// subjects and requests; dpo reads the audit log, requests and the records of processing.
/// Every staff role may use the console's overview and product pages.
pub fn can(role: Option<Role>, action: Action) -> bool {
    use Action::*;
    matches!(
        (role, action),
        (_, UseConsole)
            | (Some(Role::Admin), _)
            | (Some(Role::Analyst), ReadEvents)
            | (
                Some(Role::Support),
                ActOnSubjects | ReadRequests | ViewHousehold
            )
            | (Some(Role::Dpo), ReadAudit | ReadRequests | ReadRecords)
    )
}

/// Why an operator was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    /// The role may not do this at all.
    #[error("the {} role may not {}", role.map_or("(no)", Role::as_str), action.words())]
    Role {
        /// The role (a staff account may have none).
        role: Option<Role>,
        /// What was refused.
        action: Action,
    },
    /// The key or account does not hold the purpose read for.
    #[error(
        "this API key does not hold the purpose `{purpose}`; create a key with --purpose {purpose}"
    )]
    Purpose {
        /// The purpose asked for.
        purpose: String,
    },
}

/// Permission for one action, from [`authorize`]; holds nothing but what it allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Granted {
    action: Action,
}

impl Granted {
    /// What it allows.
    pub fn action(&self) -> Action {
        self.action
    }
}

/// Permission for `role` to do `action`.
pub fn authorize(role: Option<Role>, action: Action) -> Result<Granted, Denied> {
    if can(role, action) {
        Ok(Granted { action })
    } else {
        Err(Denied::Role { role, action })
    }
}

/// Permission to read for one purpose, from [`authorize_read`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadPermit {
    purpose: String,
}

impl ReadPermit {
    /// The purpose it reads for.
    pub fn purpose(&self) -> &str {
        &self.purpose
    }
}

/// Permission to read events for `purpose`: the role must read events and `held` (the key's
/// purposes) must include it.
pub fn authorize_read(
    role: Option<Role>,
    held: &[String],
    purpose: &str,
) -> Result<ReadPermit, Denied> {
    authorize(role, Action::ReadEvents)?;
    if held.iter().any(|p| p == purpose) {
        Ok(ReadPermit {
            purpose: purpose.to_owned(),
        })
    } else {
        Err(Denied::Purpose {
            purpose: purpose.to_owned(),
        })
    }
}

/// What a caller wants to do with a subject.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SubjectAction {
    /// See or export its data and consents.
    Read,
    /// Change consents, correct, restrict, object, erase.
    Manage,
}

/// A signed-in household member, as the access rule sees them.
#[derive(Clone, Copy, Debug)]
pub struct MemberViewer<'a> {
    /// Their household.
    pub household: Option<&'a SubjectId>,
    /// Themselves.
    pub member: Option<&'a SubjectId>,
    /// Whether they own the household (manage it and the children's data).
    pub owner: bool,
}

/// Why a member may not act on a subject.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SubjectDenied {
    /// Another household's subject: answered as not found, so its existence is not revealed.
    #[error("subject not found")]
    Hidden,
    /// Another member of one's own household.
    #[error("you can see only your own data and your household's")]
    NotYours,
    /// A change only the owner may make.
    #[error("only the household's owner may change this")]
    OwnerOnly,
}

/// Permission for a member to act on one subject, from [`member_access`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemberAccess {
    /// Whether child members' data comes with a household export (owners only).
    pub sees_children: bool,
}

/// Whether a signed-in member may do `action` to `subject`: their own data and their
/// household's may be read; only the owner manages the household and child members; a child
/// manages nothing, not even their own (the owner gives a child's consents).
pub fn member_access(
    viewer: &MemberViewer<'_>,
    subject: &Subject,
    action: SubjectAction,
) -> Result<MemberAccess, SubjectDenied> {
    if viewer.household != Some(subject.household_id()) {
        return Err(SubjectDenied::Hidden);
    }
    let own = viewer.member == Some(&subject.id);
    let allowed = match (subject.kind, action) {
        (SubjectKind::Member, SubjectAction::Read) => own || (viewer.owner && subject.child),
        (SubjectKind::Member, SubjectAction::Manage) => {
            (own && !subject.child) || (viewer.owner && subject.child)
        }
        (SubjectKind::Household, SubjectAction::Read) => true,
        (SubjectKind::Household, SubjectAction::Manage) => viewer.owner,
    };
    if allowed {
        Ok(MemberAccess {
            sees_children: viewer.owner,
        })
    } else {
        Err(match action {
            SubjectAction::Read => SubjectDenied::NotYours,
            SubjectAction::Manage => SubjectDenied::OwnerOnly,
        })
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests;
