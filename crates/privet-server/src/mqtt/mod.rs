//! The MQTT bridge: devices publish to the maker's broker and Privet subscribes to them (a
//! shared subscription, QoS 1, a persistent session), ingests each message exactly as
//! `POST /v1/ingest` would, and acknowledges it only once its blocks are durably committed.
//!
//! Topics (the interface contract): `privet/v1/devices/{id}/events` (device → Privet),
//! `…/results` (Privet → device, counts only) and `…/update` (retained release notice). The
//! broker authenticates each device (username = device id, password = its token), so the
//! topic's device id is trusted; [`dynsec`] manages those broker clients on Mosquitto.

pub mod broker_url;
pub mod dynsec;
pub mod local_broker;
pub mod topics;

pub use broker_url::{BrokerUrl, TlsSettings};

use std::path::PathBuf;
use std::time::Duration;

/// How long delivery ids are kept to recognise a redelivered message, and how long the broker
/// is asked to keep an instance's session while it is away (one value: a message handed over
/// again after this is one whose id may already be forgotten).
pub const DELIVERY_WINDOW: Duration = Duration::from_secs(7 * 24 * 3600);

/// What went wrong setting up or talking to the broker. Never holds a password or a payload.
#[derive(Debug, thiserror::Error)]
pub enum MqttError {
    /// The broker URL is not usable.
    #[error("broker URL: {0}")]
    Url(&'static str),
    /// The CA file cannot be read or holds no certificate.
    #[error("cannot read CA certificates from {}", path.display())]
    CaFile {
        /// The file.
        path: PathBuf,
    },
    /// TLS cannot be set up.
    #[error("TLS: {0}")]
    Tls(&'static str),
    /// The broker could not be reached or refused the connection.
    #[error("broker {broker}: {reason}")]
    Connect {
        /// The broker, password redacted.
        broker: String,
        /// Why, as the client library said it (never credentials).
        reason: String,
    },
    /// A dynamic-security command failed.
    #[error("dynamic security: {command} failed: {reason}")]
    Dynsec {
        /// The command, e.g. `createClient`.
        command: &'static str,
        /// The broker's error text.
        reason: String,
    },
    /// The broker did not answer in time.
    #[error("broker did not answer {what} in time")]
    Timeout {
        /// What was waited for.
        what: &'static str,
    },
    /// The local broker could not be started.
    #[error("local mosquitto: {0}")]
    LocalBroker(String),
}

mod bridge;
mod message;
pub mod status;
pub mod updates;

pub use bridge::{Bridge, MqttConfig};
pub use message::{Refusal, ResultBody};
pub use status::{BridgeStatus, LinkState};

use crate::state::AppState;
use std::sync::Arc;

/// What the rest of the server reaches of the bridge: its state, its client (to publish
/// release notices) and, with `--mqtt-dynsec`, the broker's device clients.
pub struct MqttRuntime {
    /// Connection state and what is in flight.
    pub status: Arc<BridgeStatus>,
    /// A client on the bridge's publishing connection (release notices).
    pub client: rumqttc::v5::AsyncClient,
    /// Device clients on the broker, when Privet manages them.
    pub dynsec: Option<dynsec::Dynsec>,
    /// Release notices published.
    pub notices: updates::Notices,
}

/// Connects the bridge (and, with `cfg.dynsec`, the dynamic-security admin, granting the
/// bridge what it needs first) and registers it with `state`. Fails when the broker cannot
/// be reached or refuses, so a wrong URL stops the start instead of silently ingesting
/// nothing.
pub async fn start(state: &AppState, cfg: &MqttConfig) -> Result<Bridge, MqttError> {
    let dynsec = if cfg.dynsec {
        let user = cfg.url.username.as_deref().ok_or(MqttError::Url(
            "--mqtt-dynsec needs the admin's user name and password in the URL",
        ))?;
        let admin =
            dynsec::Dynsec::connect(&cfg.url, &cfg.tls, &format!("{}-admin", cfg.client_id))
                .await?;
        admin.grant_bridge_in(user, &cfg.share_group).await?;
        Some(admin)
    } else {
        None
    };
    let bridge = Bridge::start(state.clone(), cfg).await?;
    state.set_mqtt(MqttRuntime {
        status: bridge.status().clone(),
        client: bridge.publisher().clone(),
        dynsec,
        notices: updates::Notices::default(),
    });
    Ok(bridge)
}
