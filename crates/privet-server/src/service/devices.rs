//! Registering devices, each with its own token and claim code (never a shared default).

use crate::access::DEVICE_TOKEN_PREFIX;
use crate::error::{ApiError, ApiResult};
use crate::ids::new_id;
use crate::state::AppState;
use jiff::Timestamp;
use privet_crypto::{Secret, generate_token, hash_token, os_rng};
use privet_store::{DeviceId, NewDevice, SubjectId, SubjectKind};

/// Prefix of single-use claim codes.
pub const CLAIM_CODE_PREFIX: &str = "pvc";

/// A new device and its credentials, which exist in clear only here.
pub struct Registered {
    /// Device id.
    pub id: DeviceId,
    /// Its bearer token.
    pub token: Secret,
    /// Its single-use claim code.
    pub claim_code: Secret,
}

/// Registers a device of `product`, optionally attached to a household and member.
pub async fn register(
    state: &AppState,
    product: &str,
    household: Option<&SubjectId>,
    member: Option<&SubjectId>,
) -> ApiResult<Registered> {
    if state.products().get(product).is_none() {
        return Err(ApiError::Unprocessable(format!(
            "unknown product `{product}`"
        )));
    }
    let household = match household {
        Some(h) => {
            let s = state.store().subject(h).await?;
            if s.kind != SubjectKind::Household {
                return Err(ApiError::NotFound("household".to_owned()));
            }
            Some(s.id)
        }
        None => None,
    };
    let member = match member {
        Some(m) => {
            let s = state.store().subject(m).await?;
            if s.kind != SubjectKind::Member || s.household.is_none() || s.household != household {
                return Err(ApiError::Unprocessable(
                    "`member` must be a member of `household`".to_owned(),
                ));
            }
            Some(s.id)
        }
        None => None,
    };
    let id = DeviceId::new(new_id("dev"));
    let token = generate_token(DEVICE_TOKEN_PREFIX, &mut os_rng());
    let claim_code = generate_token(CLAIM_CODE_PREFIX, &mut os_rng());
    state
        .store()
        .create_device(NewDevice {
            id: id.clone(),
            product: product.to_owned(),
            household,
            member,
            token_hash: hash_token(token.expose()),
            claim_hash: Some(hash_token(claim_code.expose())),
            created_at: Timestamp::now(),
        })
        .await?;
    Ok(Registered {
        id,
        token,
        claim_code,
    })
}

/// What a reset removed, with the device's new credentials.
pub struct Reset {
    /// The device's new token, for re-provisioning it.
    pub token: Secret,
    /// Its new single-use claim code, for the next owner.
    pub claim_code: Secret,
    /// Record blocks deleted (everything the device sent).
    pub records: u64,
}

/// Resets a device before it is sold or given away: the old token stops working, the device
/// leaves its household, and the data it sent is erased, so the next owner starts clean.
pub async fn reset(state: &AppState, id: &DeviceId) -> ApiResult<Reset> {
    let token = generate_token(DEVICE_TOKEN_PREFIX, &mut os_rng());
    let claim_code = generate_token(CLAIM_CODE_PREFIX, &mut os_rng());
    state
        .store()
        .reset_device(
            id,
            Timestamp::now(),
            Some(hash_token(token.expose())),
            Some(hash_token(claim_code.expose())),
        )
        .await?;
    let records = state.store().delete_device_blocks(id).await?;
    // The reset is done and its new secrets exist only in this answer: a checkpoint held up by
    // long readers is left to the background checkpoint rather than losing them.
    if let Err(e) = state.store().checkpoint().await {
        tracing::warn!(error = %e, "checkpoint after device reset deferred to the background checkpoint");
    }
    Ok(Reset {
        token,
        claim_code,
        records,
    })
}
