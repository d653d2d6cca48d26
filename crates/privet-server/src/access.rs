//! Who is calling, and what they may do. Routes deny by default: a handler needs a capability,
//! and only the checks here hand them out — each takes its answer from `privet_policy`'s one
//! table ([`privet_policy::can`]) or its member access rule ([`privet_policy::member_access`]).

use crate::error::{ApiError, ApiResult};
use crate::service::error::{Forbidden, ServiceError, ServiceResult};
use crate::session::SignedIn;
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use privet_crypto::hash_token;
use privet_policy::{
    Action, MemberViewer, ReadPermit, Role, SubjectAction, authorize, member_access,
};
use privet_store::{AccountKind, ApiKey, ApiKeyId, Device, Subject, SubjectId};

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

impl DeviceCaller {
    /// Fails unless the device acts for itself.
    pub fn only_for(&self, id: &str) -> ServiceResult<()> {
        if self.device.id.as_str() == id {
            Ok(())
        } else {
            Err(Forbidden::OtherDevice.into())
        }
    }
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

/// Permission for one action, with who holds it (for the audit log).
#[derive(Debug, Clone)]
pub struct Permit {
    /// Who: `key:<id>` or `account:<id>`.
    pub actor: String,
    /// What it allows.
    pub action: Action,
}

/// Permission to read events for one purpose.
#[derive(Debug)]
pub struct ReadPurpose {
    /// Who, for the audit log.
    pub actor: String,
    /// The key's id.
    pub key: ApiKeyId,
    /// The purpose.
    pub purpose: String,
}

impl Operator {
    /// The actor string for audit entries: `key:<id>`.
    pub fn actor(&self) -> String {
        format!("key:{}", self.key.id)
    }

    /// Permission to do `action`, as the role table says.
    pub fn permit(&self, action: Action) -> ServiceResult<Permit> {
        authorize(Some(self.key.role), action)?;
        Ok(Permit {
            actor: self.actor(),
            action,
        })
    }

    /// Permission for the first of `actions` the role allows (a route several roles may use
    /// for different reasons, such as the request list).
    pub fn permit_any(&self, actions: &[Action]) -> ServiceResult<Permit> {
        let mut denied = None;
        for a in actions {
            match self.permit(*a) {
                Ok(p) => return Ok(p),
                Err(e) => denied = denied.or(Some(e)),
            }
        }
        Err(denied.unwrap_or(ServiceError::Forbidden(Forbidden::OwnerOnly)))
    }

    /// Permission to read events for `purpose`: the key's role reads events and it holds
    /// the purpose.
    pub fn read_purpose(&self, purpose: &str) -> ServiceResult<ReadPurpose> {
        let permit: ReadPermit =
            privet_policy::authorize_read(Some(self.key.role), &self.key.purposes, purpose)?;
        Ok(ReadPurpose {
            actor: self.actor(),
            key: self.key.id.clone(),
            purpose: permit.purpose().to_owned(),
        })
    }
}

/// Whoever calls a `/v1/subjects/…` route: an operator by API key, or a signed-in account.
#[derive(Debug, Clone)]
pub enum Caller {
    /// An operator key (support or admin may act on subjects).
    Operator(Operator),
    /// A signed-in member or staff account.
    Account(Box<SignedIn>),
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
            SignedIn::from_request_parts(parts, state).await?,
        )))
    }
}

/// Permission to act on one subject, from [`authorize_subject`].
#[derive(Debug, Clone)]
pub struct SubjectCap {
    /// The subject.
    pub subject: Subject,
    /// Who, for audit entries and consent records.
    pub actor: String,
    /// How consents given through this capability are recorded (`api`, `console`, `web`).
    pub channel: &'static str,
    /// Whether child members' data comes with a household export (owners and staff).
    pub sees_children: bool,
}

impl SubjectCap {
    /// Whether a household member is acting on their own household's data (their pages or
    /// the API with their session), not staff or an operator key: what they do is recorded in
    /// the request register as self-service.
    pub fn is_self_service(&self) -> bool {
        self.channel == "web"
    }
}

/// Decides whether `caller` may do `action` to subject `id`.
///
/// Operators and staff need a role that acts on subjects. A signed-in member may do what
/// [`privet_policy::member_access`] allows; another household's subjects answer 404, so their
/// existence is not revealed.
pub async fn authorize_subject(
    state: &AppState,
    caller: &Caller,
    id: &SubjectId,
    action: SubjectAction,
) -> ServiceResult<SubjectCap> {
    match caller {
        Caller::Operator(op) => {
            let permit = op.permit(Action::ActOnSubjects)?;
            Ok(SubjectCap {
                subject: state.store().subject(id).await?,
                actor: permit.actor,
                channel: "api",
                sees_children: true,
            })
        }
        Caller::Account(signed) => {
            signed.require_verified()?;
            let account = &signed.account;
            if account.kind == AccountKind::Staff {
                authorize(account.role, Action::ActOnSubjects)?;
                return Ok(SubjectCap {
                    subject: state.store().subject(id).await?,
                    actor: signed.actor(),
                    channel: "console",
                    sees_children: true,
                });
            }
            let subject = match state.store().subject(id).await {
                Ok(s) => s,
                Err(e) if e.is_not_found() => {
                    return Err(privet_policy::SubjectDenied::Hidden.into());
                }
                Err(e) => return Err(e.into()),
            };
            let viewer = MemberViewer {
                household: account.household.as_ref(),
                member: account.member.as_ref(),
                owner: account.owner,
            };
            let access = member_access(&viewer, &subject, action)?;
            Ok(SubjectCap {
                subject,
                actor: signed.actor(),
                channel: "web",
                sees_children: access.sees_children,
            })
        }
    }
}

/// The role of a staff account, as the table reads it.
pub fn staff_role(signed: &SignedIn) -> Option<Role> {
    match signed.account.kind {
        AccountKind::Staff => signed.account.role,
        AccountKind::Member => None,
    }
}
