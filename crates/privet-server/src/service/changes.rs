//! Keeping instances that share a store in step: a change that cached state depends on is
//! announced through the store (PostgreSQL `NOTIFY`), and every instance's listener forgets
//! what it had cached. Payloads carry ids and pseudonyms only.

use crate::state::AppState;
use futures::StreamExt;
use privet_store::Change;

/// Announces `change` to every instance, this one included. A failure is logged: the caches'
/// age bound still holds, and the change itself is already committed.
pub async fn announce(state: &AppState, change: Change) {
    if let Err(e) = state.store().announce(change).await {
        tracing::warn!(error = %e, "announcing a change to other instances failed");
    }
}

/// Forgets what `change` makes stale.
pub fn apply(state: &AppState, change: &Change) {
    match change {
        Change::Household(h) => crate::service::permissions::forget(state, h),
        Change::Erased(p) => state.keys().forget(p),
        Change::Everything => {
            state.permissions().clear();
            state.keys().forget_all();
            apply(state, &Change::Manifests);
        }
        Change::Manifests => {
            let state = state.clone();
            tokio::spawn(async move { crate::service::manifests::reload(&state).await });
        }
    }
}

/// Applies every change announced, for as long as the server runs; when the store's stream
/// ends, opens it again after a pause.
///
/// Each time it starts listening — the first time included — it applies
/// [`Change::Everything`]: whatever was announced before (manifests another instance published
/// while this one loaded its own, changes while the stream was down) was not heard, so every
/// cache is dropped and the manifests are loaded again.
pub async fn listen(state: AppState) {
    loop {
        match state.store().changes().await {
            Ok(mut changes) => {
                apply(&state, &Change::Everything);
                while let Some(change) = changes.next().await {
                    apply(&state, &change);
                }
                tracing::warn!("change notifications ended; listening again");
            }
            Err(e) => tracing::warn!(error = %e, "cannot listen for changes; retrying"),
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
}
