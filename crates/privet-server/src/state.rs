//! Shared server state: the store, keys, products, clock, signing key, metrics, limits.

use crate::clock::Clock;
use crate::config::Config;
use crate::keys::Keys;
use crate::metrics::Metrics;
use crate::products::Products;
use crate::service::locks::Locks;
use crate::service::permissions::PermissionsCache;
use axum::extract::FromRef;
use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use privet_crypto::{FieldHasher, InstanceRoot, MasterKeys, Pseudonymizer, SecretBox, SigningKey};
use privet_policy::AuditChain;
use privet_store::{Keyring, Store};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

/// What a server is made of, opened by whoever starts it (the `privet` binary opens the
/// backend from its URL; tests open what they need).
pub struct Parts {
    /// The data store.
    pub store: Arc<dyn Store>,
    /// The keyring of wrapped subject keys.
    pub keyring: Arc<dyn Keyring>,
    /// The keys of pseudonyms, hashed fields and sealed secrets, which outlive every
    /// master-key epoch (`service::instance_secrets::root` reads it from the keyring).
    pub root: InstanceRoot,
    /// The master keys by epoch: the newest wraps new subject keys.
    pub epochs: MasterKeys,
    /// The instance signing key (receipts).
    pub signing: SigningKey,
    /// The products served.
    pub products: Products,
    /// Where the time comes from.
    pub clock: Clock,
}

/// Everything a handler may use. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    keys: Keys,
    products: std::sync::RwLock<Products>,
    clock: Clock,
    pseudonyms: Pseudonymizer,
    field_hasher: FieldHasher,
    signing: SigningKey,
    metrics: Arc<Metrics>,
    config: Config,
    device_limiter: DefaultKeyedRateLimiter<String>,
    secret_box: SecretBox,
    permissions: PermissionsCache,
    households: Locks<privet_store::SubjectId>,
    requests: Locks<String>,
    jobs_queued: tokio::sync::Notify,
    webhooks_queued: tokio::sync::Notify,
    manifests_reloading: tokio::sync::Mutex<()>,
    /// The MQTT bridge, once started (`privet serve --mqtt`).
    mqtt: std::sync::OnceLock<Arc<crate::mqtt::MqttRuntime>>,
    /// The instance root it was opened with.
    root: InstanceRoot,
    /// How the audit chain is linked, read (or recorded) at the first append.
    audit_chain: tokio::sync::OnceCell<AuditChain>,
}

impl AppState {
    /// Assembles the state.
    pub fn new(config: Config, parts: Parts) -> AppState {
        let per_second =
            NonZeroU32::new(config.device_requests_per_second.max(1)).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(config.device_burst.max(1)).unwrap_or(NonZeroU32::MIN);
        let root = parts.root;
        AppState {
            inner: Arc::new(Inner {
                secret_box: root.secret_box(),
                audit_chain: tokio::sync::OnceCell::new(),
                root: root.clone(),
                pseudonyms: root.pseudonymizer(),
                field_hasher: root.field_hasher(),
                keys: Keys::new(Arc::new(parts.epochs), parts.keyring, parts.clock.clone()),
                store: parts.store,
                products: std::sync::RwLock::new(parts.products),
                clock: parts.clock,
                signing: parts.signing,
                metrics: Metrics::new(),
                device_limiter: DefaultKeyedRateLimiter::keyed(
                    Quota::per_second(per_second).allow_burst(burst),
                ),
                permissions: PermissionsCache::default(),
                households: Locks::default(),
                requests: Locks::default(),
                jobs_queued: tokio::sync::Notify::new(),
                webhooks_queued: tokio::sync::Notify::new(),
                manifests_reloading: tokio::sync::Mutex::new(()),
                mqtt: std::sync::OnceLock::new(),
                config,
            }),
        }
    }

    /// How the audit chain is linked (`service::instance_secrets::audit_chain`), read once.
    pub async fn audit_chain(&self) -> crate::service::error::ServiceResult<&AuditChain> {
        self.inner
            .audit_chain
            .get_or_try_init(|| {
                crate::service::instance_secrets::audit_chain(
                    self.inner.store.as_ref(),
                    self.inner.keys.keyring().as_ref(),
                    self.inner.keys.epochs(),
                    &self.inner.root,
                )
            })
            .await
    }

    /// The MQTT bridge, if this instance runs one.
    pub fn mqtt(&self) -> Option<&Arc<crate::mqtt::MqttRuntime>> {
        self.inner.mqtt.get()
    }

    /// Registers the MQTT bridge (once; a second call is ignored).
    pub fn set_mqtt(&self, runtime: crate::mqtt::MqttRuntime) {
        let _ = self.inner.mqtt.set(Arc::new(runtime));
    }

    /// The data store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }

    /// Subject keys.
    pub fn keys(&self) -> &Keys {
        &self.inner.keys
    }

    /// The products served now (a cheap snapshot: manifests published by another instance
    /// replace it, see `service::manifests::reload`).
    pub fn products(&self) -> Products {
        match self.inner.products.read() {
            Ok(p) => p.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Held while the published manifests are reloaded, so reloads run one at a time (see
    /// `service::manifests::reload`).
    pub fn manifests_reloading(&self) -> &tokio::sync::Mutex<()> {
        &self.inner.manifests_reloading
    }

    /// Serves `products` from now on.
    pub fn set_products(&self, products: Products) {
        match self.inner.products.write() {
            Ok(mut p) => *p = products,
            Err(poisoned) => *poisoned.into_inner() = products,
        }
    }

    /// The server's clock: the only source of "now".
    pub fn clock(&self) -> &Clock {
        &self.inner.clock
    }

    /// Pseudonyms of subject ids.
    pub fn pseudonyms(&self) -> &Pseudonymizer {
        &self.inner.pseudonyms
    }

    /// The keyed hash for the manifest's `hash` transform.
    pub fn field_hasher(&self) -> &FieldHasher {
        &self.inner.field_hasher
    }

    /// The instance signing key.
    pub fn signing(&self) -> &SigningKey {
        &self.inner.signing
    }

    /// Metrics.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.inner.metrics
    }

    /// Configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// Sealing of small secrets at rest (TOTP secrets, account e-mails).
    pub fn secret_box(&self) -> &SecretBox {
        &self.inner.secret_box
    }

    /// Households' permissions, cached until they change.
    pub fn permissions(&self) -> &PermissionsCache {
        &self.inner.permissions
    }

    /// The lock ordering a household's ingest (shared) against changes to what its people
    /// allow (exclusive): see `service::locks`.
    pub fn household_lock(
        &self,
        household: &privet_store::SubjectId,
    ) -> Arc<tokio::sync::RwLock<()>> {
        self.inner.households.of(household)
    }

    /// The lock a rights request's completion holds, so it runs once.
    pub fn request_lock(&self, id: &str) -> Arc<tokio::sync::RwLock<()>> {
        self.inner.requests.of(&id.to_owned())
    }

    /// Woken when a job is queued here (see `service::jobs`).
    pub fn jobs_queued(&self) -> &tokio::sync::Notify {
        &self.inner.jobs_queued
    }

    /// Woken when a webhook delivery is queued here (see `service::webhooks::worker`).
    pub fn webhooks_queued(&self) -> &tokio::sync::Notify {
        &self.inner.webhooks_queued
    }

    /// `Ok` if the device may send now, else how long it must wait.
    pub fn check_device_rate(&self, device: &str) -> Result<(), Duration> {
        self.inner
            .device_limiter
            .check_key(&device.to_owned())
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }
}

impl FromRef<AppState> for Arc<Metrics> {
    fn from_ref(s: &AppState) -> Arc<Metrics> {
        s.inner.metrics.clone()
    }
}
