//! CSRF tokens for HTML forms: bound to the session, unguessable without the master key.

use crate::error::ApiError;
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
pub fn check(state: &AppState, session: &Session, submitted: &str) -> Result<(), ApiError> {
    if ct_eq(token(state, session).as_bytes(), submitted.as_bytes()) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "the form expired or came from another site; reload the page and try again".to_owned(),
        ))
    }
}
