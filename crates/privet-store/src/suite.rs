//! The shared test suite every backend must pass: `run(&store, &keyring, &residue)` exercises
//! every method of [`Store`] and [`Keyring`] and asserts the behaviour all backends share,
//! including crypto-shredding, the promise the traits make beyond their results: once a key
//! is destroyed, a subject erased or a device reset, no file of the backend holds what was
//! removed (checked here through [`Residue`]). The other such promise, that a write is durable
//! when it returns, needs a killed process and is checked end to end (`privet`'s
//! `e2e_durability` tests).
//!
//! It panics on the first failed expectation, as a test does; it is compiled only for tests
//! and for backends that enable the `suite` feature. It uses only the traits, the model and
//! `privet-policy`'s rules, so it says nothing of how a backend stores anything.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod accounts;
mod audit;
mod blocks;
mod changes;
mod deliveries;
mod erasure;
mod fixtures;
mod household_version;
mod jobs;
mod manifests;
mod rights;
mod rotation;
mod shredding;
mod subjects;
mod throttle;
mod webhooks;

use crate::store::{Keyring, Store};
use async_trait::async_trait;

/// What a backend's files hold, for the crypto-shredding checks: a backend's test implements
/// it by searching every file it writes (databases, logs, journals) for the bytes.
#[async_trait]
pub trait Residue: Send + Sync {
    /// Whether any file of the backend holds `needle`.
    async fn holds(&self, needle: &[u8]) -> crate::Result<bool>;
}

/// Runs every check against a fresh, empty store and keyring; `residue` looks into the files
/// behind both.
pub async fn run(store: &dyn Store, keyring: &dyn Keyring, residue: &dyn Residue) {
    subjects::subjects(store).await;
    subjects::devices(store).await;
    subjects::api_keys(store).await;
    subjects::consents(store).await;
    blocks::blocks(store).await;
    blocks::windows(store).await;
    blocks::retention(store).await;
    blocks::snapshot(store).await;
    audit::audit(store, keyring).await;
    audit::keys(keyring).await;
    rotation::keys(keyring).await;
    rotation::secrets(keyring).await;
    rights::rights(store).await;
    accounts::accounts(store).await;
    accounts::two_step(store).await;
    throttle::throttle(store).await;
    jobs::jobs(store).await;
    manifests::manifests(store).await;
    changes::changes(store).await;
    erasure::erasure(store, residue).await;
    shredding::keys(keyring, residue).await;
    shredding::subjects(store, residue).await;
    shredding::devices(store, residue).await;
    household_version::household_version(store).await;
    deliveries::deliveries(store, residue).await;
    webhooks::webhooks(store).await;
}
