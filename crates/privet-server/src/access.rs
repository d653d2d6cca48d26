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
