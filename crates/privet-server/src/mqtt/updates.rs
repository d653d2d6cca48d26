//! Release notices on `privet/v1/devices/{id}/update`, retained: the signed release (as
//! `GET /v1/devices/{id}/update` answers it) when one newer than the device's firmware exists.
//! Published when a device's message reports its firmware (or it has reported one before) and
//! when a release is accepted; each device hears of each version once per instance.

use crate::mqtt::topics;
use crate::service::releases;
use crate::state::AppState;
use privet_crypto::SignedRelease;
use privet_store::Device;
use rumqttc::v5::mqttbytes::QoS;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a product's newest release is taken from memory before it is read again.
const NEWEST_TTL: Duration = Duration::from_secs(30);

/// What this instance has published, and the newest release per product it read.
#[derive(Default)]
pub struct Notices {
    newest: Mutex<HashMap<String, (Instant, Option<SignedRelease>)>>,
    /// Device id → the version it was told of.
    told: Mutex<HashMap<String, String>>,
}

impl Notices {
    async fn newest(&self, state: &AppState, product: &str) -> Option<SignedRelease> {
        if let Ok(m) = self.newest.lock()
            && let Some((at, r)) = m.get(product)
            && at.elapsed() < NEWEST_TTL
        {
            return r.clone();
        }
        let fresh = releases::newest(state, product).await.ok().flatten();
        if let Ok(mut m) = self.newest.lock() {
            m.insert(product.to_owned(), (Instant::now(), fresh.clone()));
        }
        fresh
    }

    /// Forgets the product's newest release (a new one was accepted).
    pub fn release_accepted(&self, product: &str) {
        if let Ok(mut m) = self.newest.lock() {
            m.remove(product);
        }
    }
}

/// Publishes the notice for `device` (running `firmware`, as just reported or last known) if
/// a newer release exists and it was not told of that version yet.
pub async fn notify(state: &AppState, device: &Device, firmware: Option<&str>) {
    let Some(mqtt) = state.mqtt() else { return };
    let Some(newest) = mqtt.notices.newest(state, &device.product).await else {
        return;
    };
    let running = firmware.or(device.firmware.as_deref());
    let mut probe = device.clone();
    probe.firmware = running.map(str::to_owned);
    if releases::status(&probe, Some(&newest)) == releases::UpdateStatus::UpToDate {
        return;
    }
    let version = newest.metadata.version.clone();
    let already = mqtt
        .notices
        .told
        .lock()
        .map(|m| m.get(device.id.as_str()) == Some(&version))
        .unwrap_or(false);
    if already {
        return;
    }
    let Ok(body) = serde_json::to_vec(&newest) else {
        return;
    };
    if mqtt
        .client
        .publish(
            topics::update(device.id.as_str()),
            QoS::AtLeastOnce,
            true,
            body,
        )
        .await
        .is_ok()
        && let Ok(mut m) = mqtt.notices.told.lock()
    {
        m.insert(device.id.as_str().to_owned(), version);
    }
}

/// After a release of `product` is accepted: every device of it that runs older firmware
/// is told (in the background; the release is accepted either way).
pub fn release_accepted(state: &AppState, product: &str) {
    let Some(mqtt) = state.mqtt() else { return };
    mqtt.notices.release_accepted(product);
    let state = state.clone();
    let product = product.to_owned();
    tokio::spawn(async move {
        let Ok(devices) = state.store().all_devices().await else {
            tracing::warn!("mqtt: cannot list devices to send release notices");
            return;
        };
        for d in devices
            .iter()
            .filter(|d| d.product == product && d.revoked_at.is_none())
        {
            notify(&state, d, None).await;
        }
    });
}
