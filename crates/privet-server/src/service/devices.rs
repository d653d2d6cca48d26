//! Devices: registered each with its own token and claim code (never a shared default),
//! claimed by a household, checked in, and reset before resale.

use crate::access::DEVICE_TOKEN_PREFIX;
use crate::ids::new_id;
use crate::service::audit::{self, Event};
use crate::service::broker_clients;
use crate::service::error::{Invalid, Missing, ServiceError, ServiceResult};
use crate::service::permissions;
use crate::service::throttle::{self, Scope};
use crate::state::AppState;
use privet_crypto::{Secret, generate_token, hash_token, mosquitto_hash, os_rng};
use privet_store::{Device, DeviceId, NewDevice, SubjectId, SubjectKind};

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

/// Registers a device of `product`, optionally attached to a household and member; audited.
pub async fn register(
    state: &AppState,
    product: &str,
    household: Option<&SubjectId>,
    member: Option<&SubjectId>,
    actor: &str,
) -> ServiceResult<Registered> {
    if state.products().get(product).is_none() {
        return Err(Invalid::UnknownProduct(product.to_owned()).into());
    }
    let household = match household {
        Some(h) => Some(crate::service::subjects::household_subject(state, h).await?),
        None => None,
    };
    let member = match member {
        Some(m) => {
            let s = state.store().subject(m).await?;
            let in_household = household
                .as_ref()
                .is_some_and(|h| s.household.as_ref() == Some(&h.id));
            if s.kind != SubjectKind::Member || !in_household {
                return Err(Invalid::MemberNotInHousehold.into());
            }
            Some(s)
        }
        None => None,
    };
    let id = DeviceId::new(new_id("dev"));
    let token = generate_token(DEVICE_TOKEN_PREFIX, &mut os_rng());
    let claim_code = generate_token(CLAIM_CODE_PREFIX, &mut os_rng());
    // The broker's client first: a device that answers 201 can connect at once.
    broker_clients::create(state, actor, &id, token.expose()).await?;
    let created = state
        .store()
        .create_device(NewDevice {
            id: id.clone(),
            product: product.to_owned(),
            household: household.as_ref().map(|h| h.id.clone()),
            member: member.as_ref().map(|m| m.id.clone()),
            token_hash: hash_token(token.expose()),
            claim_hash: Some(hash_token(claim_code.expose())),
            broker_hash: Some(mosquitto_hash(token.expose(), &mut os_rng())),
            created_at: state.clock().now(),
        })
        .await;
    if let Err(e) = created {
        broker_clients::undo_create(state, &id).await;
        return Err(e.into());
    }
    if let Some(h) = &household {
        permissions::changed(state, &h.id).await;
    }
    // Subjects by pseudonym only: audit entries never name a subject by id.
    let subjects = household
        .iter()
        .chain(member.iter())
        .map(|s| s.pseudonym)
        .collect();
    audit::record(
        state,
        Event::new(
            actor,
            "device.create",
            serde_json::json!({"device": id, "product": product}),
        )
        .subjects(subjects),
    )
    .await?;
    Ok(Registered {
        id,
        token,
        claim_code,
    })
}

/// Claim codes are guessable only by brute force: each account's wrong codes share the
/// sign-in backoff.
fn claim_throttle_key(account: &str) -> String {
    format!("claim:{account}")
}

/// Fails while the account must wait after wrong claim codes.
pub async fn check_claim_throttle(state: &AppState, account: &str) -> ServiceResult<()> {
    throttle::check(state, &claim_throttle_key(account), Scope::Account).await
}

/// The unclaimed device a claim code belongs to, without claiming it (set-up shows what it
/// collects first). A wrong code counts towards the backoff.
pub async fn preview_claim(state: &AppState, account: &str, code: &str) -> ServiceResult<Device> {
    check_claim_throttle(state, account).await?;
    match state
        .store()
        .unclaimed_device(&hash_token(code.trim()))
        .await
    {
        Ok(d) => Ok(d),
        Err(e) if e.is_not_found() => Err(wrong_code(state, account).await),
        Err(e) => Err(e.into()),
    }
}

async fn wrong_code(state: &AppState, account: &str) -> ServiceError {
    throttle::fail(state, &claim_throttle_key(account)).await;
    Missing::ClaimCode.into()
}

/// Attaches the device a claim code belongs to to `household` (and to `member`, one of its
/// members, for a personal device); the code is spent. Audited as the claiming account's.
pub async fn claim(
    state: &AppState,
    account: &privet_store::Account,
    household: &SubjectId,
    code: &str,
    member: Option<&SubjectId>,
) -> ServiceResult<Device> {
    check_claim_throttle(state, &account.id).await?;
    // Exclusive on the household: an erasure of it, or of the member, runs wholly before the
    // claim (which then finds them gone) or after it (and takes the device with it).
    let lock = state.household_lock(household);
    let _exclusive = lock.write().await;
    state.store().subject(household).await?;
    let member = match member {
        Some(m) => {
            let s = state.store().subject(m).await?;
            if s.household.as_ref() != Some(household) {
                return Err(Missing::Member.into());
            }
            Some(s.id)
        }
        None => None,
    };
    let device = match state
        .store()
        .claim_device(&hash_token(code.trim()), household, member.as_ref())
        .await
    {
        Ok(d) => d,
        Err(e) if e.is_not_found() => return Err(wrong_code(state, &account.id).await),
        Err(e) => return Err(e.into()),
    };
    // The household's devices feed its cached permissions (`HouseholdPermissions::devices`).
    permissions::changed(state, household).await;
    crate::service::accounts::event(
        state,
        account,
        "household.claim_device",
        serde_json::json!({"device": device.id, "product": device.product}),
    )
    .await?;
    Ok(device)
}

/// What a reset removed, with the device's new credentials.
pub struct Reset {
    /// The device's new token, for re-provisioning it.
    pub token: Secret,
    /// Its new single-use claim code, for the next owner.
    pub claim_code: Secret,
    /// Record blocks deleted (everything the device sent).
    pub records: u64,
    /// The signed receipt naming the device: a compact JWS (EdDSA), verifiable with
    /// `/.well-known/jwks.json`, as an erasure's.
    pub receipt: String,
}

/// Resets a device before it is sold or given away: the old token stops working, the device
/// leaves its household, and the data it sent is erased, so the next owner starts clean.
/// Audited, the household by pseudonym only.
pub async fn reset(state: &AppState, id: &DeviceId, actor: &str) -> ServiceResult<Reset> {
    let token = generate_token(DEVICE_TOKEN_PREFIX, &mut os_rng());
    let claim_code = generate_token(CLAIM_CODE_PREFIX, &mut os_rng());
    let at = state.clock().now();
    // Exclusive on the household: the device's batches in flight commit before the delete
    // (and are deleted with the rest), and later ones see the reset and store nothing. The
    // device is read again under the lock: claimed meanwhile, it is the new household's lock
    // that must be held.
    let mut before = state.store().device(id).await?;
    let (before, _exclusive) = loop {
        let lock = before.household.as_ref().map(|h| state.household_lock(h));
        let guard = match lock {
            Some(l) => Some(l.write_owned().await),
            None => None,
        };
        let now = state.store().device(id).await?;
        if now.household == before.household {
            break (now, guard);
        }
        before = now;
    };
    // Cut off before the reset: once it commits, the old token must not reach the broker.
    broker_clients::disable(state, actor, id).await?;
    state
        .store()
        .reset_device(
            id,
            at,
            Some(hash_token(token.expose())),
            Some(hash_token(claim_code.expose())),
            Some(mosquitto_hash(token.expose(), &mut os_rng())),
        )
        .await?;
    broker_clients::replace_password(state, actor, id, token.expose()).await;
    let records = state.store().delete_device_blocks(id).await?;
    if let Some(h) = &before.household {
        permissions::changed(state, h).await;
    }
    drop(_exclusive);
    let subjects = before
        .household
        .iter()
        .map(|h| state.pseudonyms().pseudonym(h.as_str()))
        .collect();
    crate::service::webhooks::device_reset(state, &before, records).await;
    audit::record(
        state,
        Event::new(actor, "device.reset", serde_json::json!({"device": id}))
            .subjects(subjects)
            .count(records),
    )
    .await?;
    // What a seller shows a buyer: this device left its household and what it sent is gone.
    let receipt = state.signing().sign_jws(&serde_json::json!({
        "typ": "privet-reset-receipt",
        "jti": new_id("rcpt"),
        "iss": "privet",
        "sub": id,
        "device": id,
        "product": before.product,
        "iat": at.as_second(),
        "reset_at": at,
        "records_deleted": records,
    }));
    Ok(Reset {
        token,
        claim_code,
        records,
        receipt,
    })
}

/// The products served here that the household's devices are of, each once, by id — with
/// `also`, products named otherwise (a subject's product-specific consents).
pub async fn household_products(
    state: &AppState,
    household: &SubjectId,
    also: impl IntoIterator<Item = String>,
) -> ServiceResult<Vec<std::sync::Arc<privet_manifest::Manifest>>> {
    let mut ids: Vec<String> = state
        .store()
        .devices_of(household)
        .await?
        .into_iter()
        .map(|d| d.product)
        .chain(also)
        .collect();
    ids.sort();
    ids.dedup();
    Ok(ids
        .iter()
        .filter_map(|id| state.products().get(id).cloned())
        .collect())
}

/// A device reports the firmware it runs.
pub async fn check_in(state: &AppState, device: &Device, firmware: &str) -> ServiceResult<()> {
    let fw = firmware.trim();
    if !privet_policy::valid_firmware(fw) {
        return Err(Invalid::Firmware.into());
    }
    state
        .store()
        .touch_device(&device.id, state.clock().now(), Some(fw.to_owned()))
        .await?;
    Ok(())
}
