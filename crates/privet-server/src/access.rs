//! Who is calling, and what they may do. Routes deny by default: a handler needs a
//! capability, and only the role checks here hand them out.

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use privet_crypto::hash_token;
use privet_store::{ApiKey, ApiKeyId, Device, Role};

/// Prefix of operator API keys.
pub const API_KEY_PREFIX: &str = "pvk";
/// Prefix of device tokens.
pub const DEVICE_TOKEN_PREFIX: &str = "pvd";

fn bearer(parts: &Parts) -> Option<&str> {
    let v = parts.headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// An operator authenticated by API key.
#[derive(Debug, Clone)]
pub struct Operator {
    /// The key (never its secret).
    pub key: ApiKey,
}

impl FromRequestParts<AppState> for Operator {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let token = bearer(parts).ok_or(ApiError::Unauthenticated)?;
        if !token.starts_with(API_KEY_PREFIX) {
            return Err(ApiError::Unauthenticated);
        }
        match state.store().api_key_by_hash(&hash_token(token)).await {
            Ok(key) => Ok(Operator { key }),
            Err(e) if e.is_not_found() => Err(ApiError::Unauthenticated),
            Err(e) => Err(e.into()),
        }
    }
}

/// A device authenticated by its own token.
#[derive(Debug, Clone)]
pub struct DeviceCaller {
    /// The device.
    pub device: Device,
}

impl FromRequestParts<AppState> for DeviceCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let token = bearer(parts).ok_or(ApiError::Unauthenticated)?;
        if !token.starts_with(DEVICE_TOKEN_PREFIX) {
            return Err(ApiError::Unauthenticated);
        }
        match state.store().device_by_token(&hash_token(token)).await {
            Ok(device) => Ok(DeviceCaller { device }),
            Err(e) if e.is_not_found() => Err(ApiError::Unauthenticated),
            Err(e) => Err(e.into()),
        }
    }
}

/// May create households, members, devices and keys (admin).
#[derive(Debug)]
pub struct ManageFleet {
    /// Who, for the audit log.
    pub actor: String,
}

/// May read events for one purpose (analyst holding it, or admin).
#[derive(Debug)]
pub struct ReadPurpose {
    /// Who, for the audit log.
    pub actor: String,
    /// The key's id.
    pub key: ApiKeyId,
    /// The purpose.
    pub purpose: String,
}

/// May act on subjects' rights and consents (support, admin).
#[derive(Debug)]
pub struct HandleSubjects {
    /// Who, for the audit log and consent records.
    pub actor: String,
}

/// May read the audit log (dpo, admin).
#[derive(Debug)]
pub struct ReadAudit {
    /// Who.
    pub actor: String,
}

impl Operator {
    /// The actor string for audit entries: `key:<id>`.
    pub fn actor(&self) -> String {
        format!("key:{}", self.key.id)
    }

    fn deny(&self, what: &str) -> ApiError {
        ApiError::Forbidden(format!(
            "the {} role may not {what}",
            self.key.role.as_str()
        ))
    }

    /// Capability to manage households, members, devices and keys.
    pub fn manage_fleet(&self) -> ApiResult<ManageFleet> {
        match self.key.role {
            Role::Admin => Ok(ManageFleet {
                actor: self.actor(),
            }),
            _ => Err(self.deny("manage households, devices or keys")),
        }
    }

    /// Capability to read events for `purpose`: the key must hold the purpose.
    pub fn read_purpose(&self, purpose: &str) -> ApiResult<ReadPurpose> {
        match self.key.role {
            Role::Analyst | Role::Admin if self.key.purposes.iter().any(|p| p == purpose) => {
                Ok(ReadPurpose {
                    actor: self.actor(),
                    key: self.key.id.clone(),
                    purpose: purpose.to_owned(),
                })
            }
            Role::Analyst | Role::Admin => Err(ApiError::Forbidden(format!(
                "this API key does not hold the purpose `{purpose}`; create a key with --purpose {purpose}"
            ))),
            _ => Err(self.deny("read events")),
        }
    }

    /// Capability to handle subjects' consents and rights.
    pub fn handle_subjects(&self) -> ApiResult<HandleSubjects> {
        match self.key.role {
            Role::Support | Role::Admin => Ok(HandleSubjects {
                actor: self.actor(),
            }),
            _ => Err(self.deny("act on subjects")),
        }
    }

    /// Capability to read the audit log.
    pub fn read_audit(&self) -> ApiResult<ReadAudit> {
        match self.key.role {
            Role::Dpo | Role::Admin => Ok(ReadAudit {
                actor: self.actor(),
            }),
            _ => Err(self.deny("read the audit log")),
        }
    }
}

/// Whoever calls a `/v1/subjects/…` route: an operator by API key, or a signed-in account.
#[derive(Debug, Clone)]
pub enum Caller {
    /// An operator key (support or admin may act on subjects).
    Operator(Operator),
    /// A signed-in member or staff account.
    Account(Box<crate::session::SignedIn>),
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        if parts.headers.contains_key(AUTHORIZATION) {
            return Ok(Caller::Operator(
                Operator::from_request_parts(parts, state).await?,
            ));
        }
        Ok(Caller::Account(Box::new(
            crate::session::SignedIn::from_request_parts(parts, state).await?,
        )))
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

/// Permission to act on one subject, from [`authorize_subject`].
#[derive(Debug, Clone)]
pub struct SubjectCap {
    /// The subject.
    pub subject: privet_store::Subject,
    /// Who, for audit entries and consent records.
    pub actor: String,
    /// How consents given through this capability are recorded (`api`, `web`).
    pub channel: &'static str,
    /// Whether child members' data comes with a household export (owners and staff).
    pub sees_children: bool,
}

/// Decides whether `caller` may do `action` to subject `id`.
///
/// Operators and staff need the support or admin role. A signed-in member may read their own
/// data and their household's; only the owner manages the household and child members; a
/// child may only read their own. Another household's subjects answer 404, so their existence
/// is not revealed; another member of one's own household answers 403.
pub async fn authorize_subject(
    state: &AppState,
    caller: &Caller,
    id: &privet_store::SubjectId,
    action: SubjectAction,
) -> ApiResult<SubjectCap> {
    use privet_store::{AccountKind, SubjectKind};
    let staff = |actor: String, role: Role| -> ApiResult<()> {
        match role {
            Role::Support | Role::Admin => Ok(()),
            other => Err(ApiError::Forbidden(format!(
                "the {} role may not act on subjects ({actor})",
                other.as_str()
            ))),
        }
    };
    match caller {
        Caller::Operator(op) => {
            let cap = op.handle_subjects()?;
            let subject = state.store().subject(id).await?;
            Ok(SubjectCap {
                subject,
                actor: cap.actor,
                channel: "api",
                sees_children: true,
            })
        }
        Caller::Account(signed) => {
            signed.require_verified()?;
            let account = &signed.account;
            if account.kind == AccountKind::Staff {
                staff(signed.actor(), account.role.unwrap_or(Role::Dpo))?;
                let subject = state.store().subject(id).await?;
                return Ok(SubjectCap {
                    subject,
                    actor: signed.actor(),
                    channel: "console",
                    sees_children: true,
                });
            }
            let not_found = || ApiError::NotFound("subject".to_owned());
            let subject = state.store().subject(id).await.map_err(|e| {
                if e.is_not_found() {
                    not_found()
                } else {
                    e.into()
                }
            })?;
            let household = crate::service::subjects::household_of(&subject);
            if account.household.as_ref() != Some(&household) {
                return Err(not_found());
            }
            let own = account.member.as_ref() == Some(&subject.id);
            let allowed = match (subject.kind, action) {
                (SubjectKind::Member, SubjectAction::Read) => {
                    own || (account.owner && subject.child)
                }
                (SubjectKind::Member, SubjectAction::Manage) => {
                    // When `own`, `subject` is the caller: a child's consents and erasure
                    // are the owner's to give.
                    (own && !subject.child) || (account.owner && subject.child)
                }
                (SubjectKind::Household, SubjectAction::Read) => true,
                (SubjectKind::Household, SubjectAction::Manage) => account.owner,
            };
            if !allowed {
                return Err(ApiError::Forbidden(match action {
                    SubjectAction::Read => {
                        "you can see only your own data and your household's".to_owned()
                    }
                    SubjectAction::Manage => {
                        "only the household's owner may change this".to_owned()
                    }
                }));
            }
            Ok(SubjectCap {
                subject,
                actor: signed.actor(),
                channel: "web",
                sees_children: account.owner,
            })
        }
    }
}
