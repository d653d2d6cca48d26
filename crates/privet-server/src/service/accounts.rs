//! Accounts: sign-up, sign-in with two-step verification, sessions, password changes,
//! invitations and staff accounts. Passwords are hashed with Argon2id; e-mails are held only
//! sealed, found at sign-in by a keyed hash.

use crate::error::{ApiError, ApiResult};
use crate::ids::new_id;
use crate::service::audit;
use crate::service::subjects::{self, Profile};
use crate::session::{self, SignedIn};
use crate::state::AppState;
use jiff::{SignedDuration, Timestamp};
use privet_crypto::{
    Secret, TotpSecret, generate_recovery_codes, generate_token, hash_password, hash_recovery_code,
    hash_token, os_rng, otpauth_uri, qr_svg, verify_password, verify_totp,
};
use privet_store::{Account, AccountKind, Invitation, Role, Session, SubjectId, SubjectKind};
use std::net::IpAddr;
use std::time::Instant;

/// Prefix of invitation codes.
pub const INVITE_PREFIX: &str = "pvi";
/// How long an invitation stays valid.
const INVITE_LIFETIME: SignedDuration = SignedDuration::from_hours(7 * 24);
/// The one answer to every failed sign-in, whatever the reason.
const SIGN_IN_FAILED: &str = "the e-mail, password or two-step code is not right";

/// Validates and normalises an e-mail address (trimmed, lowercase).
pub fn normalize_email(email: &str) -> ApiResult<String> {
    let e = email.trim().to_lowercase();
    let ok = e.len() <= 254
        && !e.chars().any(|c| c.is_whitespace() || c.is_control())
        && e.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        });
    if ok {
        Ok(e)
    } else {
        Err(ApiError::Unprocessable(
            "`email` is not an e-mail address".to_owned(),
        ))
    }
}

/// The keyed hash an account is found by.
pub fn email_lookup(state: &AppState, normalized: &str) -> Vec<u8> {
    state
        .pseudonyms()
        .pseudonym(&format!("email:{normalized}"))
        .as_bytes()
        .to_vec()
}

fn seal_email(state: &AppState, account_id: &str, email: &str) -> ApiResult<Vec<u8>> {
    Ok(state.secret_box().seal(
        &format!("account-email:{account_id}"),
        email.as_bytes(),
        &mut os_rng(),
    )?)
}

/// The account's e-mail, unsealed.
pub fn email_of(state: &AppState, account: &Account) -> ApiResult<String> {
    let plain = state.secret_box().open(
        &format!("account-email:{}", account.id),
        &account.email_sealed,
    )?;
    String::from_utf8(plain.to_vec())
        .map_err(|_| ApiError::Internal("account e-mail does not decode".to_owned()))
}

fn check_password(password: &str, inputs: &[&str]) -> ApiResult<()> {
    privet_policy::check_password(password, inputs)
        .map_err(|p| ApiError::Unprocessable(p.to_string()))
}

async fn hash(password: String) -> ApiResult<String> {
    // Argon2id is deliberately slow: keep it off the async workers.
    tokio::task::spawn_blocking(move || hash_password(&password, &mut os_rng()))
        .await
        .map_err(|_| ApiError::Unavailable)?
        .map_err(ApiError::from)
}

async fn verify(password: String, phc: Option<String>) -> ApiResult<bool> {
    tokio::task::spawn_blocking(move || match phc {
        Some(phc) => verify_password(&password, &phc).unwrap_or(false),
        None => {
            // Spend the same time when there is no account, so timing reveals nothing.
            privet_crypto::dummy_verify(&password);
            false
        }
    })
    .await
    .map_err(|_| ApiError::Unavailable)
}

/// Records a security event the account holder can see.
pub async fn event(
    state: &AppState,
    account: &Account,
    action: &str,
    detail: serde_json::Value,
) -> ApiResult<()> {
    let subjects = match &account.member {
        Some(m) => vec![state.pseudonyms().pseudonym(m.as_str())],
        None => Vec::new(),
    };
    audit::record(
        state,
        &format!("account:{}", account.id),
        action,
        None,
        subjects,
        0,
        detail,
    )
    .await?;
    Ok(())
}

fn new_account(
    id: String,
    lookup: Vec<u8>,
    email_sealed: Vec<u8>,
    kind: AccountKind,
    password_hash: String,
) -> Account {
    let now = Timestamp::now();
    Account {
        id,
        email_lookup: lookup,
        email_sealed,
        kind,
        household: None,
        member: None,
        owner: false,
        role: None,
        password_hash,
        totp_sealed: None,
        totp_enabled: false,
        totp_last_step: None,
        can_sign_in: true,
        created_at: now,
        password_changed_at: now,
    }
}

/// Creates a household, its owner member and the owner's account.
pub async fn signup(
    state: &AppState,
    email: &str,
    password: String,
    household_name: &str,
    name: Option<&str>,
) -> ApiResult<Account> {
    let email = normalize_email(email)?;
    subjects::check_name(household_name)?;
    let name = name
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| email.split('@').next().unwrap_or("Owner"))
        .to_owned();
    // Checked before anything is created, so a refused sign-up leaves no ownerless subjects.
    subjects::check_name(&name)?;
    check_password(&password, &[&email, &name, household_name, "privet"])?;
    let lookup = email_lookup(state, &email);
    match state.store().account_by_email(&lookup).await {
        Ok(_) => {
            return Err(ApiError::Conflict(
                "an account with this e-mail already exists; sign in instead".to_owned(),
            ));
        }
        Err(e) if e.is_not_found() => {}
        Err(e) => return Err(e.into()),
    }
    let phc = hash(password).await?;
    let household = subjects::create(
        state,
        SubjectKind::Household,
        None,
        false,
        Profile {
            name: household_name.trim().to_owned(),
            email: None,
        },
    )
    .await?;
    let member = subjects::create(
        state,
        SubjectKind::Member,
        Some(household.clone()),
        false,
        Profile {
            name,
            email: Some(email.clone()),
        },
    )
    .await?;
    let id = new_id("acc");
    let mut account = new_account(
        id.clone(),
        lookup,
        seal_email(state, &id, &email)?,
        AccountKind::Member,
        phc,
    );
    account.household = Some(household);
    account.member = Some(member);
    account.owner = true;
    state.store().create_account(account.clone()).await?;
    event(
        state,
        &account,
        "auth.signup",
        serde_json::json!({"household": account.household}),
    )
    .await?;
    Ok(account)
}

/// Checks credentials (and the second factor when on); the same error for every failure.
pub async fn login(
    state: &AppState,
    email: &str,
    password: String,
    code: Option<&str>,
    ip: Option<IpAddr>,
) -> ApiResult<Account> {
    let now = Instant::now();
    let normalized = email.trim().to_lowercase();
    let lookup = email_lookup(state, &normalized);
    let account_key = format!(
        "account:{}",
        privet_crypto::hash_token(&normalized).to_hex()
    );
    let ip_key = ip.map(|ip| format!("ip:{ip}"));
    for key in std::iter::once(&account_key).chain(ip_key.iter()) {
        if let Err(wait) = state.throttle().check(key, now) {
            return Err(ApiError::RateLimited {
                retry_after: crate::service::throttle::retry_after_secs(wait),
            });
        }
    }
    let account = match state.store().account_by_email(&lookup).await {
        Ok(a) => Some(a),
        Err(e) if e.is_not_found() => None,
        Err(e) => return Err(e.into()),
    };
    let password_ok = verify(password, account.as_ref().map(|a| a.password_hash.clone())).await?;
    let fail = || {
        state.throttle().fail_account(&account_key, now);
        if let Some(k) = &ip_key {
            state.throttle().fail_address(k, now);
        }
        ApiError::Unauthorized(SIGN_IN_FAILED.to_owned())
    };
    let Some(mut account) = account.filter(|a| password_ok && a.can_sign_in) else {
        return Err(fail());
    };
    if account.totp_enabled {
        let Some(code) = code.map(str::trim).filter(|c| !c.is_empty()) else {
            return Err(fail());
        };
        if code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) {
            let secret = totp_secret(state, &account)?;
            let unix = u64::try_from(Timestamp::now().as_second()).unwrap_or(0);
            match verify_totp(&secret, code, unix, account.totp_last_step) {
                Some(step) => {
                    account.totp_last_step = Some(step);
                    state.store().update_account(account.clone()).await?;
                }
                None => {
                    event(
                        state,
                        &account,
                        "auth.login_failed",
                        serde_json::json!({"reason": "two-step code"}),
                    )
                    .await?;
                    return Err(fail());
                }
            }
        } else {
            match state
                .store()
                .use_recovery_code(&account.id, &hash_recovery_code(code), Timestamp::now())
                .await
            {
                Ok(()) => {
                    let left = state.store().recovery_codes_left(&account.id).await?;
                    event(
                        state,
                        &account,
                        "auth.recovery_code_used",
                        serde_json::json!({"codes_left": left}),
                    )
                    .await?;
                }
                Err(e) if e.is_not_found() => return Err(fail()),
                Err(e) => return Err(e.into()),
            }
        }
    }
    state.throttle().succeed(&account_key);
    Ok(account)
}

/// Starts a session after a successful sign-in and records the sign-in.
pub async fn start_session(state: &AppState, account: &Account, client: &str) -> ApiResult<Secret> {
    let (token, session) = session::new_session(account, client, Timestamp::now());
    state.store().create_session(session).await?;
    event(
        state,
        account,
        "auth.login",
        serde_json::json!({"client": client}),
    )
    .await?;
    Ok(token)
}

/// Ends the current session.
pub async fn logout(state: &AppState, signed: &SignedIn) -> ApiResult<()> {
    state
        .store()
        .delete_session(&signed.account.id, &signed.session.id)
        .await?;
    Ok(())
}

/// Changes the password after checking the current one; other sessions are signed out.
pub async fn change_password(
    state: &AppState,
    signed: &SignedIn,
    current: String,
    new: String,
) -> ApiResult<u64> {
    if !verify(current, Some(signed.account.password_hash.clone())).await? {
        return Err(ApiError::Unprocessable(
            "the current password is not right".to_owned(),
        ));
    }
    let email = email_of(state, &signed.account)?;
    let name = display_name(state, &signed.account).await?;
    let household = match &signed.account.household {
        Some(h) => {
            let s = state.store().subject(h).await?;
            subjects::profile(state, &s).await?.name
        }
        None => String::new(),
    };
    check_password(&new, &[&email, &name, &household, "privet"])?;
    let mut account = signed.account.clone();
    account.password_hash = hash(new).await?;
    account.password_changed_at = Timestamp::now();
    state.store().update_account(account.clone()).await?;
    let revoked = state
        .store()
        .delete_sessions(&account.id, Some(&signed.session.id))
        .await?;
    event(
        state,
        &account,
        "auth.password_changed",
        serde_json::json!({"other_sessions_signed_out": revoked}),
    )
    .await?;
    Ok(revoked)
}

fn totp_secret(state: &AppState, account: &Account) -> ApiResult<TotpSecret> {
    let sealed = account
        .totp_sealed
        .as_ref()
        .ok_or_else(|| ApiError::Conflict("two-step verification is not set up".to_owned()))?;
    let plain = state
        .secret_box()
        .open(&format!("totp:{}", account.id), sealed)?;
    Ok(TotpSecret::from_slice(&plain)?)
}

/// What an authenticator app needs to enrol.
pub struct Enrolment {
    /// The secret, base32.
    pub secret: Secret,
    /// The `otpauth://` URI.
    pub uri: Secret,
    /// The URI as a QR code (SVG).
    pub qr_svg: String,
}

/// Starts enrolling an authenticator: a fresh secret, not yet on until confirmed.
pub async fn totp_begin(state: &AppState, signed: &SignedIn) -> ApiResult<Enrolment> {
    if signed.account.totp_enabled {
        return Err(ApiError::Conflict(
            "two-step verification is already on; turn it off first".to_owned(),
        ));
    }
    let secret = TotpSecret::generate(&mut os_rng());
    let email = email_of(state, &signed.account)?;
    let uri = otpauth_uri(&secret, "Privet", &email);
    let svg = qr_svg(uri.expose())?;
    let mut account = signed.account.clone();
    account.totp_sealed = Some(state.secret_box().seal(
        &format!("totp:{}", account.id),
        secret.as_bytes(),
        &mut os_rng(),
    )?);
    account.totp_last_step = None;
    state.store().update_account(account).await?;
    Ok(Enrolment {
        secret: secret.to_base32(),
        uri,
        qr_svg: svg,
    })
}

/// Confirms enrolment with a code from the app; turns two-step verification on and returns
/// ten single-use recovery codes (stored hashed).
pub async fn totp_confirm(
    state: &AppState,
    signed: &SignedIn,
    code: &str,
) -> ApiResult<Vec<Secret>> {
    if signed.account.totp_enabled {
        return Err(ApiError::Conflict(
            "two-step verification is already on".to_owned(),
        ));
    }
    let secret = totp_secret(state, &signed.account)?;
    let unix = u64::try_from(Timestamp::now().as_second()).unwrap_or(0);
    let step = verify_totp(&secret, code.trim(), unix, None).ok_or_else(|| {
        ApiError::Unprocessable(
            "that code is not right; check the time on your phone and try the newest code"
                .to_owned(),
        )
    })?;
    let codes = generate_recovery_codes(&mut os_rng());
    let hashes = codes
        .iter()
        .map(|c| hash_recovery_code(c.expose()))
        .collect();
    state
        .store()
        .set_recovery_codes(&signed.account.id, hashes)
        .await?;
    let mut account = signed.account.clone();
    account.totp_enabled = true;
    account.totp_last_step = Some(step);
    state.store().update_account(account.clone()).await?;
    event(state, &account, "auth.two_step_on", serde_json::json!({})).await?;
    Ok(codes)
}

/// Turns two-step verification off; needs a fresh code.
pub async fn totp_disable(state: &AppState, signed: &SignedIn, code: &str) -> ApiResult<()> {
    if !signed.account.totp_enabled {
        return Err(ApiError::Conflict(
            "two-step verification is not on".to_owned(),
        ));
    }
    if signed.account.kind == AccountKind::Staff {
        return Err(ApiError::Forbidden(
            "staff accounts must keep two-step verification on".to_owned(),
        ));
    }
    let secret = totp_secret(state, &signed.account)?;
    let unix = u64::try_from(Timestamp::now().as_second()).unwrap_or(0);
    verify_totp(&secret, code.trim(), unix, signed.account.totp_last_step).ok_or_else(|| {
        ApiError::Unprocessable(
            "that code is not right, or was already used; wait for the next one".to_owned(),
        )
    })?;
    let mut account = signed.account.clone();
    account.totp_enabled = false;
    account.totp_sealed = None;
    account.totp_last_step = None;
    state.store().update_account(account.clone()).await?;
    state
        .store()
        .set_recovery_codes(&account.id, Vec::new())
        .await?;
    event(state, &account, "auth.two_step_off", serde_json::json!({})).await?;
    Ok(())
}

/// Invites someone to join the household as a member (owners only). Returns the new member's
/// id and, when they may sign in, the single-use invitation code.
pub async fn invite(
    state: &AppState,
    owner: &SignedIn,
    name: &str,
    child: bool,
    can_sign_in: bool,
) -> ApiResult<(SubjectId, Option<Secret>)> {
    let household = owned_household(owner)?;
    let member = subjects::create(
        state,
        SubjectKind::Member,
        Some(household.clone()),
        child,
        Profile {
            name: name.trim().to_owned(),
            email: None,
        },
    )
    .await?;
    if child && !can_sign_in {
        // A child who may not sign in needs no invitation; the owner manages their data.
        event(
            state,
            &owner.account,
            "household.add_member",
            serde_json::json!({"member": member, "child": true}),
        )
        .await?;
        return Ok((member, None));
    }
    let code = generate_token(INVITE_PREFIX, &mut os_rng());
    state
        .store()
        .create_invitation(Invitation {
            code_hash: hash_token(code.expose()),
            household: household.clone(),
            member: member.clone(),
            expires_at: Timestamp::now()
                .checked_add(INVITE_LIFETIME)
                .unwrap_or(Timestamp::MAX),
            created_by: owner.account.id.clone(),
        })
        .await?;
    event(
        state,
        &owner.account,
        "household.invite",
        serde_json::json!({"member": member, "child": child}),
    )
    .await?;
    Ok((member, Some(code)))
}

/// The household an owner manages.
pub fn owned_household(signed: &SignedIn) -> ApiResult<SubjectId> {
    match (&signed.account.household, signed.account.owner) {
        (Some(h), true) => Ok(h.clone()),
        _ => Err(ApiError::Forbidden(
            "only the household's owner may do this".to_owned(),
        )),
    }
}

/// Creates a member's account from an invitation; wrong, used and expired codes answer alike.
pub async fn accept_invite(
    state: &AppState,
    code: &str,
    email: &str,
    password: String,
) -> ApiResult<Account> {
    let email = normalize_email(email)?;
    let lookup = email_lookup(state, &email);
    if state.store().account_by_email(&lookup).await.is_ok() {
        return Err(ApiError::Conflict(
            "an account with this e-mail already exists".to_owned(),
        ));
    }
    // Check everything before the single-use code is spent: a rejected password must not
    // use up the invitation.
    let code_hash = hash_token(code.trim());
    let gone = |_| ApiError::NotFound("invitation (it may be wrong, used or expired)".to_owned());
    let invitation = state
        .store()
        .invitation(&code_hash, Timestamp::now())
        .await
        .map_err(gone)?;
    let member = state.store().subject(&invitation.member).await?;
    let household = state.store().subject(&invitation.household).await?;
    let member_profile = subjects::profile(state, &member).await?;
    let household_profile = subjects::profile(state, &household).await?;
    check_password(
        &password,
        &[
            &email,
            &member_profile.name,
            &household_profile.name,
            "privet",
        ],
    )?;
    let phc = hash(password).await?;
    let invitation = state
        .store()
        .take_invitation(&code_hash, Timestamp::now())
        .await
        .map_err(gone)?;
    let id = new_id("acc");
    let mut account = new_account(
        id.clone(),
        lookup,
        seal_email(state, &id, &email)?,
        AccountKind::Member,
        phc,
    );
    account.household = Some(invitation.household.clone());
    account.member = Some(invitation.member.clone());
    state.store().create_account(account.clone()).await?;
    event(
        state,
        &account,
        "auth.signup",
        serde_json::json!({"invited_by": invitation.created_by}),
    )
    .await?;
    Ok(account)
}

/// Creates a staff account (by an admin); it can do nothing until two-step verification is on.
pub async fn create_staff(
    state: &AppState,
    email: &str,
    password: String,
    role: Role,
    actor: &str,
) -> ApiResult<Account> {
    let email = normalize_email(email)?;
    check_password(&password, &[&email, "privet"])?;
    let lookup = email_lookup(state, &email);
    if state.store().account_by_email(&lookup).await.is_ok() {
        return Err(ApiError::Conflict(
            "an account with this e-mail already exists".to_owned(),
        ));
    }
    let id = new_id("stf");
    let mut account = new_account(
        id.clone(),
        lookup,
        seal_email(state, &id, &email)?,
        AccountKind::Staff,
        hash(password).await?,
    );
    account.role = Some(role);
    state.store().create_account(account.clone()).await?;
    audit::record(
        state,
        actor,
        "staff.create",
        None,
        Vec::new(),
        0,
        serde_json::json!({"account": id, "role": role.as_str()}),
    )
    .await?;
    Ok(account)
}

/// Lets a child member sign in, or stops them (owners only).
pub async fn set_child_sign_in(
    state: &AppState,
    owner: &SignedIn,
    member: &SubjectId,
    allowed: bool,
) -> ApiResult<()> {
    let household = owned_household(owner)?;
    let m = state.store().subject(member).await?;
    if m.household.as_ref() != Some(&household) || !m.child {
        return Err(ApiError::NotFound("child member".to_owned()));
    }
    if let Ok(mut acc) = state.store().account_of_member(member).await {
        acc.can_sign_in = allowed;
        state.store().update_account(acc.clone()).await?;
        if !allowed {
            state.store().delete_sessions(&acc.id, None).await?;
        }
    }
    event(
        state,
        &owner.account,
        "household.child_sign_in",
        serde_json::json!({"member": member, "allowed": allowed}),
    )
    .await?;
    Ok(())
}

/// Sessions of the signed-in account.
pub async fn sessions(state: &AppState, signed: &SignedIn) -> ApiResult<Vec<Session>> {
    Ok(state.store().sessions_of(&signed.account.id).await?)
}

/// The signed-in account's profile name, for pages.
pub async fn display_name(state: &AppState, account: &Account) -> ApiResult<String> {
    match &account.member {
        Some(m) => {
            let s = state.store().subject(m).await?;
            Ok(subjects::profile(state, &s).await?.name)
        }
        None => email_of(state, account),
    }
}
