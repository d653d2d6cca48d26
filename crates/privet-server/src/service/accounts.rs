//! Accounts: sign-up, sessions, password changes, invitations and staff accounts. Passwords
//! are hashed with Argon2id; e-mails are held only sealed, found at sign-in by a keyed hash.
//! Signing in is `sign_in`'s, two-step verification `two_step`'s. Every write says what it
//! expects, so concurrent requests never overwrite each other's changes.
//!
//! Sign-up answers 409 for an e-mail that has an account (it signs the new account in at
//! once, so it cannot answer the same either way); sign-ups are therefore throttled per
//! address, taken or not ([`signup`]).

use crate::ids::new_id;
use crate::service::audit::{self, Event};
use crate::service::error::{
    Conflict, Forbidden, Missing, ServiceError, ServiceResult, missing_as,
};
use crate::service::subjects::{self, Profile};
use crate::service::throttle::{self, Scope};
use crate::service::{permissions, sign_in};
use crate::session::{self, SignedIn};
use crate::state::AppState;
use jiff::SignedDuration;
use privet_crypto::{Secret, generate_token, hash_password, hash_token, os_rng, verify_password};
use privet_policy::normalize_email;
use privet_store::{Account, AccountKind, Invitation, Role, Session, SubjectId, SubjectKind};
use std::net::IpAddr;

/// Prefix of invitation codes.
pub const INVITE_PREFIX: &str = "pvi";
/// How long an invitation stays valid.
const INVITE_LIFETIME: SignedDuration = SignedDuration::from_hours(7 * 24);

/// The keyed hash an account is found by.
pub fn email_lookup(state: &AppState, normalized: &str) -> Vec<u8> {
    state
        .pseudonyms()
        .pseudonym(&format!("email:{normalized}"))
        .as_bytes()
        .to_vec()
}

fn seal_email(state: &AppState, account_id: &str, email: &str) -> ServiceResult<Vec<u8>> {
    Ok(state.secret_box().seal(
        &format!("account-email:{account_id}"),
        email.as_bytes(),
        &mut os_rng(),
    )?)
}

/// The account's e-mail, unsealed.
pub fn email_of(state: &AppState, account: &Account) -> ServiceResult<String> {
    let plain = state.secret_box().open(
        &format!("account-email:{}", account.id),
        &account.email_sealed,
    )?;
    String::from_utf8(plain.to_vec()).map_err(|_| ServiceError::Corrupt("account e-mail"))
}

fn check_password(password: &str, inputs: &[&str]) -> ServiceResult<()> {
    Ok(privet_policy::check_password(password, inputs)?)
}

/// Argon2id computations allowed at once: each takes tens of MiB and a core for a while, so
/// a flood of sign-ins waits here instead of filling memory with blocking threads.
fn argon2_permits() -> &'static tokio::sync::Semaphore {
    static PERMITS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    PERMITS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
        tokio::sync::Semaphore::new(cores * 2)
    })
}

/// An Argon2id hash of `password`, computed off the async workers.
pub(crate) async fn hash(password: String) -> ServiceResult<String> {
    let _permit = argon2_permits()
        .acquire()
        .await
        .map_err(|_| ServiceError::Unavailable)?;
    // Argon2id is deliberately slow: keep it off the async workers.
    tokio::task::spawn_blocking(move || hash_password(&password, &mut os_rng()))
        .await
        .map_err(|_| ServiceError::Unavailable)?
        .map_err(ServiceError::from)
}

/// Whether `password` matches the stored hash `phc`; with no account, spends the same time,
/// so timing reveals nothing.
pub(crate) async fn verify(password: String, phc: Option<String>) -> ServiceResult<bool> {
    let _permit = argon2_permits()
        .acquire()
        .await
        .map_err(|_| ServiceError::Unavailable)?;
    tokio::task::spawn_blocking(move || match phc {
        Some(phc) => verify_password(&password, &phc).unwrap_or(false),
        None => privet_crypto::dummy_verify(&password),
    })
    .await
    .map_err(|_| ServiceError::Unavailable)
}

/// The subjects an account's events are about: its member, by pseudonym.
fn subjects_of(state: &AppState, account: &Account) -> Vec<privet_crypto::Pseudonym> {
    account
        .member
        .iter()
        .map(|m| state.pseudonyms().pseudonym(m.as_str()))
        .collect()
}

/// Records a security event the account holder can see (ids, pseudonyms and counts only).
pub async fn event(
    state: &AppState,
    account: &Account,
    action: &str,
    detail: serde_json::Value,
) -> ServiceResult<()> {
    let actor = format!("account:{}", account.id);
    audit::record(
        state,
        Event::new(&actor, action, detail).subjects(subjects_of(state, account)),
    )
    .await?;
    Ok(())
}

fn new_account(
    state: &AppState,
    id: String,
    lookup: Vec<u8>,
    email_sealed: Vec<u8>,
    kind: AccountKind,
    password_hash: String,
) -> Account {
    let now = state.clock().now();
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

async fn refuse_taken(state: &AppState, lookup: &[u8]) -> ServiceResult<()> {
    match state.store().account_by_email(lookup).await {
        Ok(_) => Err(Conflict::EmailTaken.into()),
        Err(e) if e.is_not_found() => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Creates a household, its owner member and the owner's account. Sign-ups from one address
/// are throttled (`Scope::Signup`: 10 an hour free, then the growing backoff), counted once
/// the e-mail is looked up, whether it was taken or not: a taken e-mail answers 409, so
/// trying e-mails one after another must be slow.
pub async fn signup(
    state: &AppState,
    email: &str,
    password: String,
    household_name: &str,
    name: Option<&str>,
    ip: Option<IpAddr>,
) -> ServiceResult<Account> {
    let signup_key = ip.map(|ip| format!("signup:{ip}"));
    if let Some(key) = &signup_key {
        throttle::check(state, key, Scope::Signup).await?;
    }
    let email = normalize_email(email)?;
    let household_profile = Profile::checked(household_name, None)?;
    let name = name
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| email.split('@').next().unwrap_or("Owner"));
    // Checked before anything is created, so a refused sign-up leaves no ownerless subjects.
    let member_profile = Profile::checked(name, Some(&email))?;
    check_password(
        &password,
        &[&email, &member_profile.name, &household_profile.name],
    )?;
    let lookup = email_lookup(state, &email);
    // Every sign-up counts, whether it succeeds or not; atomically, so parallel ones see
    // each other.
    if let Some(key) = &signup_key {
        throttle::attempt(state, key, Scope::Signup).await?;
    }
    refuse_taken(state, &lookup).await?;
    let phc = hash(password).await?;
    let household = subjects::create(
        state,
        SubjectKind::Household,
        None,
        false,
        household_profile,
    )
    .await?;
    let member = match subjects::create(
        state,
        SubjectKind::Member,
        Some(household.clone()),
        false,
        member_profile,
    )
    .await
    {
        Ok(member) => member,
        Err(e) => {
            discard(state, &[&household]).await;
            return Err(e);
        }
    };
    let id = new_id("acc");
    let mut account = new_account(
        state,
        id.clone(),
        lookup,
        seal_email(state, &id, &email)?,
        AccountKind::Member,
        phc,
    );
    account.household = Some(household.clone());
    account.member = Some(member.clone());
    account.owner = true;
    if let Err(e) = state.store().create_account(account.clone()).await {
        // Someone signed up with this e-mail since it was checked: what was made for this
        // sign-up goes again (keys first), and the answer is the one the check would give.
        discard(state, &[&member, &household]).await;
        return Err(if e.is_conflict() {
            Conflict::EmailTaken.into()
        } else {
            e.into()
        });
    }
    let household = state.pseudonyms().pseudonym(household.as_str());
    event(
        state,
        &account,
        "auth.signup",
        serde_json::json!({"household": household}),
    )
    .await?;
    Ok(account)
}

/// Removes subjects made for a sign-up that did not complete: keys first, then their rows.
/// Best effort, every id tried: the sign-up's own error is what the caller answers, and a
/// subject left behind here holds only a name and no account.
async fn discard(state: &AppState, ids: &[&SubjectId]) {
    for id in ids {
        if let Err(e) = discard_one(state, id).await {
            tracing::warn!(subject = %id, error = %e, "could not discard a subject of an incomplete sign-up");
        }
        permissions::changed(state, id).await;
    }
}

async fn discard_one(state: &AppState, id: &SubjectId) -> ServiceResult<()> {
    let s = state.store().subject(id).await?;
    // The row goes even if the keyring could not confirm the key gone: a keyless subject is
    // worse left behind than removed.
    if let Err(e) = state.keys().destroy(&s.pseudonym).await {
        tracing::warn!(subject = %id, error = %e, "could not confirm the key of a discarded subject destroyed");
    }
    state
        .store()
        .erase_subject(
            &privet_policy::ErasureStep::for_subject(&s),
            state.clock().now(),
        )
        .await?;
    Ok(())
}

/// Starts a session after a successful sign-in and records the sign-in.
pub async fn start_session(
    state: &AppState,
    account: &Account,
    client: &str,
) -> ServiceResult<Secret> {
    let (token, session) = session::new_session(account, client, state.clock().now());
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
pub async fn logout(state: &AppState, signed: &SignedIn) -> ServiceResult<()> {
    state
        .store()
        .delete_session(&signed.account.id, &signed.session.id)
        .await?;
    Ok(())
}

/// Signs out one other session of the account.
pub async fn sign_out_session(state: &AppState, signed: &SignedIn, id: &str) -> ServiceResult<()> {
    state
        .store()
        .delete_session(&signed.account.id, id)
        .await
        .map_err(missing_as(Missing::Session))
}

/// Signs out every other session of the account; returns how many.
pub async fn sign_out_elsewhere(state: &AppState, signed: &SignedIn) -> ServiceResult<u64> {
    let n = state
        .store()
        .delete_sessions(&signed.account.id, Some(&signed.session.id))
        .await?;
    event(
        state,
        &signed.account,
        "auth.signed_out_elsewhere",
        serde_json::json!({"sessions": n}),
    )
    .await?;
    Ok(n)
}

/// What a password change did.
#[derive(Debug)]
pub struct PasswordChanged {
    /// The account as it is now (the known-client token it was given is renewed from it).
    pub account: Account,
    /// How many other sessions were signed out.
    pub signed_out: u64,
}

/// Changes the password after checking the current one (`sign_in::reenter_password`: wrong
/// ones are throttled); other sessions are signed out, and every known-client token issued
/// before is retired.
pub async fn change_password(
    state: &AppState,
    signed: &SignedIn,
    current: String,
    new: String,
) -> ServiceResult<PasswordChanged> {
    sign_in::reenter_password(state, signed, Some(current)).await?;
    let email = email_of(state, &signed.account)?;
    let name = display_name(state, &signed.account).await?;
    let household = match &signed.account.household {
        Some(h) => {
            let s = state.store().subject(h).await?;
            subjects::profile(state, &s).await?.name
        }
        None => String::new(),
    };
    check_password(&new, &[&email, &name, &household])?;
    let mut account = signed.account.clone();
    let now = state.clock().now();
    account.password_hash = hash(new).await?;
    account.password_changed_at = now;
    state
        .store()
        .set_password(&account.id, account.password_hash.clone(), now)
        .await?;
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
    Ok(PasswordChanged {
        account,
        signed_out: revoked,
    })
}

/// Invites someone to join the household as a member (owners only). Returns the new member's
/// id and, when they may sign in, the single-use invitation code.
pub async fn invite(
    state: &AppState,
    owner: &SignedIn,
    name: &str,
    child: bool,
    can_sign_in: bool,
) -> ServiceResult<(SubjectId, Option<Secret>)> {
    let household = owned_household(owner)?;
    let profile = Profile::checked(name, None)?;
    let member = subjects::create(
        state,
        SubjectKind::Member,
        Some(household.clone()),
        child,
        profile,
    )
    .await?;
    let member_pseudonym = state.pseudonyms().pseudonym(member.as_str());
    if child && !can_sign_in {
        // A child who may not sign in needs no invitation; the owner manages their data.
        event(
            state,
            &owner.account,
            "household.add_member",
            serde_json::json!({"member": member_pseudonym, "child": true}),
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
            expires_at: state
                .clock()
                .now()
                .checked_add(INVITE_LIFETIME)
                .unwrap_or(jiff::Timestamp::MAX),
            created_by: owner.account.id.clone(),
        })
        .await?;
    event(
        state,
        &owner.account,
        "household.invite",
        serde_json::json!({"member": member_pseudonym, "child": child}),
    )
    .await?;
    Ok((member, Some(code)))
}

/// The household an owner manages.
pub fn owned_household(signed: &SignedIn) -> ServiceResult<SubjectId> {
    match (&signed.account.household, signed.account.owner) {
        (Some(h), true) => Ok(h.clone()),
        _ => Err(Forbidden::OwnerOnly.into()),
    }
}

/// The owner's household, checked against the one a route names (another household answers
/// as not found).
pub fn owner_of(signed: &SignedIn, household: &str) -> ServiceResult<SubjectId> {
    signed.require_verified()?;
    let h = owned_household(signed)?;
    if h.as_str() != household {
        return Err(Missing::Household.into());
    }
    Ok(h)
}

/// The invitation a code belongs to, if valid (wrong, used and expired answer alike).
pub async fn invitation(state: &AppState, code: &str) -> ServiceResult<Invitation> {
    state
        .store()
        .invitation(&hash_token(code.trim()), state.clock().now())
        .await
        .map_err(|_| Missing::Invitation.into())
}

/// Creates a member's account from an invitation; wrong, used and expired codes answer alike.
pub async fn accept_invite(
    state: &AppState,
    code: &str,
    email: &str,
    password: String,
) -> ServiceResult<Account> {
    let email = normalize_email(email)?;
    // The code first: without a valid invitation, nobody learns whether an e-mail is taken.
    // Everything is checked before the single-use code is spent: a rejected password must
    // not use up the invitation.
    let invitation = invitation(state, code).await?;
    let lookup = email_lookup(state, &email);
    refuse_taken(state, &lookup).await?;
    let member = state.store().subject(&invitation.member).await?;
    let household = state.store().subject(&invitation.household).await?;
    let member_profile = subjects::profile(state, &member).await?;
    let household_profile = subjects::profile(state, &household).await?;
    check_password(
        &password,
        &[&email, &member_profile.name, &household_profile.name],
    )?;
    let phc = hash(password).await?;
    let invitation = state
        .store()
        .take_invitation(&hash_token(code.trim()), state.clock().now())
        .await
        .map_err(|_| ServiceError::from(Missing::Invitation))?;
    let id = new_id("acc");
    let mut account = new_account(
        state,
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
) -> ServiceResult<Account> {
    let email = normalize_email(email)?;
    check_password(&password, &[&email])?;
    let lookup = email_lookup(state, &email);
    refuse_taken(state, &lookup).await?;
    let id = new_id("stf");
    let mut account = new_account(
        state,
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
        Event::new(
            actor,
            "staff.create",
            serde_json::json!({"account": id, "role": role.as_str()}),
        ),
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
) -> ServiceResult<()> {
    let household = owned_household(owner)?;
    let m = state.store().subject(member).await?;
    if m.household.as_ref() != Some(&household) || !m.child {
        return Err(Missing::ChildMember.into());
    }
    match state.store().account_of_member(member).await {
        Ok(acc) => {
            state.store().set_can_sign_in(&acc.id, allowed).await?;
            if !allowed {
                state.store().delete_sessions(&acc.id, None).await?;
            }
        }
        Err(e) if e.is_not_found() => {}
        Err(e) => return Err(e.into()),
    }
    event(
        state,
        &owner.account,
        "household.child_sign_in",
        serde_json::json!({"member": m.pseudonym, "allowed": allowed}),
    )
    .await?;
    Ok(())
}

/// Sessions of the signed-in account.
pub async fn sessions(state: &AppState, signed: &SignedIn) -> ServiceResult<Vec<Session>> {
    Ok(state.store().sessions_of(&signed.account.id).await?)
}

/// The account's recent security events (sign-ins, password and two-step changes, household
/// changes), newest first.
pub async fn security_events(
    state: &AppState,
    signed: &SignedIn,
) -> ServiceResult<Vec<privet_store::AuditEntry>> {
    Ok(state
        .store()
        .audit_by_actor(&signed.actor(), 50)
        .await?
        .into_iter()
        .filter(|e| e.entry.action.starts_with("auth.") || e.entry.action.starts_with("household."))
        .collect())
}

/// The signed-in account's profile name, for pages.
pub async fn display_name(state: &AppState, account: &Account) -> ServiceResult<String> {
    match &account.member {
        Some(m) => {
            let s = state.store().subject(m).await?;
            Ok(subjects::profile(state, &s).await?.name)
        }
        None => email_of(state, account),
    }
}
