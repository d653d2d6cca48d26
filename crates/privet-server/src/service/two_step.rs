//! Two-step verification: enrolling an authenticator, confirming it (with recovery codes),
//! turning it off, and checking the second factor at sign-in. A TOTP code is accepted once:
//! its time step is recorded with a compare-and-set, so of concurrent sign-ins with the same
//! code exactly one succeeds.
//!
//! Starting an enrolment and turning it off need the password again
//! (`sign_in::reenter_password`), so a stolen session cannot enrol an authenticator of its
//! own, nor take the second factor away. Confirming needs no password: it completes an
//! enrolment that was started with one, with a code only that enrolment's app can make.

use crate::service::accounts::{email_of, event};
use crate::service::error::{Conflict, Forbidden, Invalid, ServiceResult, conflict_as};
use crate::service::sign_in::reenter_password;
use crate::session::SignedIn;
use crate::state::AppState;
use privet_crypto::{
    Secret, TotpSecret, generate_recovery_codes, hash_recovery_code, os_rng, otpauth_uri, qr_svg,
    verify_totp,
};
use privet_store::{Account, AccountKind};

fn totp_secret(state: &AppState, account: &Account) -> ServiceResult<TotpSecret> {
    let sealed = account
        .totp_sealed
        .as_ref()
        .ok_or(Conflict::TwoStepNotSetUp)?;
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

/// Starts enrolling an authenticator, after the password is entered again: a fresh secret,
/// not yet on until confirmed.
pub async fn begin(
    state: &AppState,
    signed: &SignedIn,
    password: Option<String>,
) -> ServiceResult<Enrolment> {
    if signed.account.totp_enabled {
        return Err(Conflict::TwoStepOn.into());
    }
    reenter_password(state, signed, password).await?;
    let secret = TotpSecret::generate(&mut os_rng());
    let email = email_of(state, &signed.account)?;
    let uri = otpauth_uri(&secret, "Privet", &email);
    let svg = qr_svg(uri.expose())?;
    let sealed = state.secret_box().seal(
        &format!("totp:{}", signed.account.id),
        secret.as_bytes(),
        &mut os_rng(),
    )?;
    state
        .store()
        .start_totp(&signed.account.id, sealed)
        .await
        .map_err(conflict_as(Conflict::TwoStepOn))?;
    Ok(Enrolment {
        secret: secret.to_base32(),
        uri,
        qr_svg: svg,
    })
}

/// Confirms enrolment with a code from the app; turns two-step verification on and returns
/// ten single-use recovery codes (stored hashed).
pub async fn confirm(
    state: &AppState,
    signed: &SignedIn,
    code: &str,
) -> ServiceResult<Vec<Secret>> {
    if signed.account.totp_enabled {
        return Err(Conflict::TwoStepOn.into());
    }
    let secret = totp_secret(state, &signed.account)?;
    let step = verify_totp(&secret, code.trim(), state.clock().unix_secs(), None)
        .ok_or(Invalid::WrongTotpCode)?;
    // On with the codes in one compare-and-set write: of two submissions one wins, a losing
    // one never replaces the codes the person was shown, and it is never on without codes.
    let codes = generate_recovery_codes(&mut os_rng());
    let hashes = codes
        .iter()
        .map(|c| hash_recovery_code(c.expose()))
        .collect();
    state
        .store()
        .enable_totp(&signed.account.id, step, hashes)
        .await
        .map_err(conflict_as(Conflict::TwoStepOn))?;
    event(
        state,
        &signed.account,
        "auth.two_step_on",
        serde_json::json!({}),
    )
    .await?;
    Ok(codes)
}

/// Turns two-step verification off; needs the password again and a fresh code, used once
/// like a sign-in's.
pub async fn disable(
    state: &AppState,
    signed: &SignedIn,
    code: &str,
    password: Option<String>,
) -> ServiceResult<()> {
    let account = &signed.account;
    if !account.totp_enabled {
        return Err(Conflict::TwoStepOff.into());
    }
    if account.kind == AccountKind::Staff {
        return Err(Forbidden::StaffKeepTwoStep.into());
    }
    reenter_password(state, signed, password).await?;
    let secret = totp_secret(state, account)?;
    let step = verify_totp(
        &secret,
        code.trim(),
        state.clock().unix_secs(),
        account.totp_last_step,
    )
    .ok_or(Invalid::StaleTotpCode)?;
    if !state.store().advance_totp_step(&account.id, step).await? {
        return Err(Invalid::StaleTotpCode.into());
    }
    state.store().disable_totp(&account.id).await?;
    event(state, account, "auth.two_step_off", serde_json::json!({})).await?;
    Ok(())
}

/// Checks the second factor at sign-in: a current TOTP code, accepted once (compare-and-set
/// on its time step), or an unused recovery code, spent. A wrong code is audited.
pub async fn second_factor(state: &AppState, account: &Account, code: &str) -> ServiceResult<bool> {
    if code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) {
        let secret = totp_secret(state, account)?;
        let verified = verify_totp(
            &secret,
            code,
            state.clock().unix_secs(),
            account.totp_last_step,
        );
        let accepted = match verified {
            Some(step) => state.store().advance_totp_step(&account.id, step).await?,
            None => false,
        };
        if !accepted {
            event(
                state,
                account,
                "auth.login_failed",
                serde_json::json!({"reason": "two-step code"}),
            )
            .await?;
        }
        return Ok(accepted);
    }
    match state
        .store()
        .use_recovery_code(&account.id, &hash_recovery_code(code), state.clock().now())
        .await
    {
        Ok(()) => {
            let left = state.store().recovery_codes_left(&account.id).await?;
            event(
                state,
                account,
                "auth.recovery_code_used",
                serde_json::json!({"codes_left": left}),
            )
            .await?;
            Ok(true)
        }
        Err(e) if e.is_not_found() => Ok(false),
        Err(e) => Err(e.into()),
    }
}
