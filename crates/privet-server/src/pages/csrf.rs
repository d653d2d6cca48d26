//! CSRF tokens for HTML forms: bound to the session, unguessable without the master key.

use crate::service::error::{Forbidden, ServiceResult};
use crate::state::AppState;
use privet_crypto::ct_eq;
use privet_store::Session;

/// The form token of a session.
pub fn token(state: &AppState, session: &Session) -> String {
    state
        .pseudonyms()
        .pseudonym(&format!("csrf:{}", session.id))
        .to_hex()
}

/// Checks a submitted form token.
pub fn check(state: &AppState, session: &Session, submitted: &str) -> ServiceResult<()> {
    if ct_eq(token(state, session).as_bytes(), submitted.as_bytes()) {
        Ok(())
    } else {
        Err(Forbidden::StaleForm.into())
    }
}
