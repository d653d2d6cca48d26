//! Device clients on the MQTT broker, kept in step with device tokens when Privet manages them
//! (`--mqtt-dynsec`): a client exists by the time a device's registration answers, its
//! password follows a reset, and it is disabled when the device is revoked. Every change is
//! audited by device id; a token never leaves this module except to the broker.

use crate::service::audit::{self, Event};
use crate::service::error::ServiceResult;
use crate::state::AppState;
use privet_store::DeviceId;

fn dynsec(state: &AppState) -> Option<&crate::mqtt::dynsec::Dynsec> {
    state.mqtt().and_then(|m| m.dynsec.as_ref())
}

async fn audited(state: &AppState, actor: &str, device: &DeviceId, change: &str) {
    let entry = Event::new(
        actor,
        "device.broker_client",
        serde_json::json!({"device": device, "change": change}),
    );
    if let Err(e) = audit::record(state, entry).await {
        tracing::error!(error = %e, "auditing a broker client change failed");
    }
}

/// Creates the device's broker client (or re-enables it with this password). Before the
/// device is stored: when the broker refuses, nothing is registered.
pub async fn create(
    state: &AppState,
    actor: &str,
    device: &DeviceId,
    token: &str,
) -> ServiceResult<()> {
    if let Some(d) = dynsec(state) {
        d.upsert_device(device.as_str(), token).await?;
        audited(state, actor, device, "created").await;
    }
    Ok(())
}

/// Undoes [`create`] when storing the device failed afterwards.
pub async fn undo_create(state: &AppState, device: &DeviceId) {
    if let Some(d) = dynsec(state)
        && let Err(e) = d.disable_device(device.as_str()).await
    {
        tracing::error!(error = %e, device = device.as_str(), "disabling an orphan broker client failed");
    }
}

/// Disables the device's client before a reset replaces its token: the old token's
/// connection is cut and refused from here on. When the broker refuses, the reset does not
/// happen (else the old token would still reach the broker).
pub async fn disable(state: &AppState, actor: &str, device: &DeviceId) -> ServiceResult<()> {
    if let Some(d) = dynsec(state) {
        d.disable_device(device.as_str()).await?;
        audited(state, actor, device, "disabled").await;
    }
    Ok(())
}

/// Gives the device's client its new token after a reset and enables it. A failure leaves it
/// disabled (safe: nothing can connect as the device) and is logged; the reset stands.
pub async fn replace_password(state: &AppState, actor: &str, device: &DeviceId, token: &str) {
    if let Some(d) = dynsec(state) {
        match d.replace_device_password(device.as_str(), token).await {
            Ok(()) => audited(state, actor, device, "password_replaced").await,
            Err(e) => {
                tracing::error!(error = %e, device = device.as_str(), "the device's broker client stays disabled: setting its new password failed");
                audited(state, actor, device, "left_disabled").await;
            }
        }
    }
}

/// Disables the clients of devices revoked by an erasure. The erasure has committed and the
/// bridge refuses revoked devices' messages anyway, so a broker failure is logged, not raised.
pub async fn revoked(state: &AppState, actor: &str, devices: &[DeviceId]) {
    let Some(d) = dynsec(state) else { return };
    for device in devices {
        match d.disable_device(device.as_str()).await {
            Ok(()) => audited(state, actor, device, "disabled").await,
            Err(e) => {
                tracing::error!(error = %e, device = device.as_str(), "disabling a revoked device's broker client failed");
            }
        }
    }
}
