//! The broker clients of devices on Mosquitto, managed through its dynamic-security plugin:
//! JSON commands published to `$CONTROL/dynamic-security/v1`, answers read from
//! `$CONTROL/dynamic-security/v1/response` and matched by `correlationData`.
//!
//! Each device is a broker client (user name = device id, password = its token) holding one
//! role of its own, `privet-device-{id}`: publish to its `…/events`, subscribe to and receive
//! its `…/results` and `…/update`, nothing else (dynsec denies what no ACL allows). One role
//! per device because Mosquitto 2.0's dynsec has no `%u`/`%c` substitution in ACL topics (an
//! ACL on `privet/v1/devices/%u/events` matches only that literal topic: tried on 2.0.11, the
//! publish is refused), so a shared role cannot name "the device's own topic".
//!
//! The bridge role `privet-bridge` may subscribe to `$share/privet/privet/v1/devices/+/events`
//! *as a literal*: Mosquitto 2.0 checks a shared subscription's filter with its `$share/group/`
//! prefix, so a pattern ACL on `privet/v1/devices/+/events` does not allow it (tried on
//! 2.0.11: SUBACK 0x87). The pattern is granted too, for brokers that strip the prefix.
//!
//! Mosquitto disconnects every session of a user whose password or roles change, and answers
//! every admin subscriber (correlation ids carry our client id). A lost connection is retried
//! with backoff; commands in flight then fail and may be repeated: every operation here is
//! idempotent. Passwords and tokens travel only in command payloads, never in logs or errors.

use crate::mqtt::{BrokerUrl, MqttError, TlsSettings, topics};
use rumqttc::v5::mqttbytes::QoS;
use rumqttc::v5::mqttbytes::v5::{Publish, SubscribeReasonCode};
use rumqttc::v5::{AsyncClient, Event, EventLoop, Incoming};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

/// Where commands go.
const REQUEST_TOPIC: &str = "$CONTROL/dynamic-security/v1";
/// Where the plugin answers (QoS 0, to every subscriber).
const RESPONSE_TOPIC: &str = "$CONTROL/dynamic-security/v1/response";
/// The role granting the bridge its topics.
pub const BRIDGE_ROLE: &str = "privet-bridge";

/// The bridge's role for the shared-subscription group `group`: [`BRIDGE_ROLE`] for the
/// default group, `privet-bridge-{group}` for another.
pub fn bridge_role(group: &str) -> String {
    if group == topics::SHARE_GROUP {
        BRIDGE_ROLE.to_owned()
    } else if group.is_empty() {
        // A plain subscription (one instance).
        format!("{BRIDGE_ROLE}-plain")
    } else {
        format!("{BRIDGE_ROLE}-{group}")
    }
}

/// How long one call (all its commands) may take, including waiting for a reconnection.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);
/// How long `connect` waits for the connection and the answers' subscription.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// Reconnection backoff bounds.
const MIN_BACKOFF: Duration = Duration::from_millis(200);
const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// getClient answers list roles and groups: above rumqttc's 10 KiB default on a busy client.
const MAX_PACKET: u32 = 1 << 20;

/// The role of one device.
pub fn device_role(device: &str) -> String {
    format!("privet-device-{device}")
}

/// Calls waiting for answers: correlation id → (command sent, where its answer goes).
type Waiting = HashMap<String, (&'static str, oneshot::Sender<Reply>)>;
type Pending = Arc<Mutex<Waiting>>;

/// A connection to the broker as its dynamic-security admin.
pub struct Dynsec {
    client: AsyncClient,
    username: Option<String>,
    broker: String,
    prefix: String,
    next: AtomicU64,
    pending: Pending,
    up: watch::Receiver<bool>,
    driver: JoinHandle<()>,
}

impl fmt::Debug for Dynsec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dynsec")
            .field("broker", &self.broker)
            .field("client_id", &self.prefix)
            .field("connected", &*self.up.borrow())
            .finish_non_exhaustive()
    }
}

impl Drop for Dynsec {
    fn drop(&mut self) {
        self.driver.abort();
    }
}

/// One command: its name and its fields.
struct Command {
    name: &'static str,
    fields: Value,
}

/// One answer: the command it answers, the broker's error text if any, the whole response.
#[derive(Debug)]
struct Reply {
    command: &'static str,
    error: Option<String>,
    body: Value,
}

impl Dynsec {
    /// Connects as the admin (the URL's user) with a clean session and subscribes to the answers.
    pub async fn connect(
        url: &BrokerUrl,
        tls: &TlsSettings,
        client_id: &str,
    ) -> Result<Dynsec, MqttError> {
        let mut options = url.options(client_id, tls)?;
        options.set_clean_start(true);
        options.set_max_packet_size(Some(MAX_PACKET));
        let (client, eventloop) = AsyncClient::new(options, 64);
        let pending: Pending = Arc::default();
        let (up_tx, up) = watch::channel(false);
        let (first_tx, first_rx) = oneshot::channel();
        let broker = url.redacted();
        let driver = tokio::spawn(drive(
            eventloop,
            client.clone(),
            pending.clone(),
            up_tx,
            first_tx,
            broker.clone(),
        ));
        let refused = |reason: String| MqttError::Connect {
            broker: broker.clone(),
            reason,
        };
        let outcome = tokio::time::timeout(CONNECT_TIMEOUT, first_rx).await;
        let failure = match outcome {
            Ok(Ok(Ok(()))) => None,
            Ok(Ok(Err(reason))) => Some(refused(reason)),
            Ok(Err(_)) => Some(refused("the connection task stopped".to_owned())),
            Err(_) => Some(MqttError::Timeout {
                what: "the dynamic-security connection",
            }),
        };
        if let Some(e) = failure {
            driver.abort();
            return Err(e);
        }
        Ok(Dynsec {
            client,
            username: url.username.clone(),
            broker,
            prefix: client_id.to_owned(),
            next: AtomicU64::new(0),
            pending,
            up,
            driver,
        })
    }

    /// Gives `bridge_user` the role `privet-bridge` (made or brought up to date). Idempotent.
    ///
    /// The role allows the shared subscription to every device's events and publishing results
    /// and (retained) updates. Adding it disconnects the user's sessions, so grant before the
    /// bridge connects; when the bridge user is this admin, the call rides out its own kick.
    pub async fn grant_bridge(&self, bridge_user: &str) -> Result<(), MqttError> {
        self.grant_bridge_in(bridge_user, topics::SHARE_GROUP).await
    }

    /// [`Dynsec::grant_bridge`] for the shared-subscription group `group`.
    pub async fn grant_bridge_in(&self, bridge_user: &str, group: &str) -> Result<(), MqttError> {
        let acls = bridge_acls(group);
        // One role per group: two deployments on one broker must not overwrite each other's.
        let role = bridge_role(group);
        let role = role.as_str();
        let replies = self
            .run(vec![create_role(role, &acls), get_client(bridge_user)])
            .await?;
        let mut fix = Vec::new();
        if exists(&replies[0], "Role already exists")? {
            fix.push(modify_role(role, &acls));
        }
        if !has_role(&replies[1], role)? {
            fix.push(add_client_role(bridge_user, role));
        }
        if fix.is_empty() {
            return Ok(());
        }
        let adds_role = fix.iter().any(|c| c.name == "addClientRole");
        match self.run(fix).await {
            Ok(replies) => replies.iter().try_for_each(succeeded),
            // Adding a role disconnects every session of the user: this one too when the bridge
            // user is the admin, maybe before the answer leaves. Look again once reconnected.
            Err(MqttError::Connect { .. } | MqttError::Timeout { .. })
                if adds_role && self.username.as_deref() == Some(bridge_user) =>
            {
                let again = self.run(vec![get_client(bridge_user)]).await?;
                if has_role(&again[0], role)? {
                    Ok(())
                } else {
                    Err(MqttError::Dynsec {
                        command: "addClientRole",
                        reason: "the role is missing after the broker disconnected us".to_owned(),
                    })
                }
            }
            Err(e) => Err(e),
        }
    }

    /// Creates a device's broker client (or re-enables it with the new `token`), own topics only.
    pub async fn upsert_device(&self, device: &str, token: &str) -> Result<(), MqttError> {
        check_device(device, "createClient")?;
        check_token(token)?;
        let role = device_role(device);
        let acls = device_acls(device);
        let replies = self
            .run(vec![
                create_role(&role, &acls),
                create_client(device, token, &role),
            ])
            .await?;
        let role_existed = exists(&replies[0], "Role already exists")?;
        let client_existed = exists(&replies[1], "Client already exists")?;
        let mut first = Vec::new();
        if role_existed {
            // Re-asserted so a role made by an older release converges on today's ACLs.
            first.push(modify_role(&role, &acls));
        }
        if !client_existed {
            return self.all_ok(first).await;
        }
        // An existing client (a reinstall, a reset device): the new password first, enabled only
        // once it is set, so a failure never leaves the old token working.
        let get_at = first.len();
        first.push(get_client(device));
        first.push(set_client_password(device, token));
        first.push(set_client_id(device));
        let replies = self.run(first).await?;
        replies.iter().try_for_each(succeeded)?;
        let mut then = vec![enable_client(device)];
        if !has_role(&replies[get_at], &role)? {
            then.push(add_client_role(device, &role));
        }
        self.all_ok(then).await
    }

    /// Disables a device's client: disconnected at once, refused from then on; none is fine.
    pub async fn disable_device(&self, device: &str) -> Result<(), MqttError> {
        check_device(device, "disableClient")?;
        let replies = self.run(vec![disable_client(device)]).await?;
        exists(&replies[0], "Client not found").map(|_| ())
    }

    /// Replaces a device's password (its new token after a reset), kicking its live session.
    pub async fn replace_device_password(
        &self,
        device: &str,
        token: &str,
    ) -> Result<(), MqttError> {
        check_device(device, "setClientPassword")?;
        check_token(token)?;
        // The live session is cut first; then the client is brought to the new token and
        // enabled only once that is set (made now if missing: a device registered before
        // Privet managed the broker).
        self.disable_device(device).await?;
        self.upsert_device(device, token).await
    }

    async fn all_ok(&self, commands: Vec<Command>) -> Result<(), MqttError> {
        if commands.is_empty() {
            return Ok(());
        }
        self.run(commands).await?.iter().try_for_each(succeeded)
    }

    /// Sends `commands` in one message and waits for every answer, in order.
    async fn run(&self, commands: Vec<Command>) -> Result<Vec<Reply>, MqttError> {
        let deadline = tokio::time::Instant::now() + CALL_TIMEOUT;
        let timeout = MqttError::Timeout {
            what: "a dynamic-security answer",
        };
        // After a disconnection, wait for the link (and the answers' subscription) to be back.
        let mut up = self.up.clone();
        match tokio::time::timeout_at(deadline, up.wait_for(|up| *up)).await {
            Ok(Ok(_)) => {}
            Ok(Err(_)) => return Err(self.lost()),
            Err(_) => return Err(timeout),
        }
        // Removes what is left of our ids however this call ends (error, timeout, cancelled).
        let mut registered = Registered {
            pending: &self.pending,
            ids: Vec::with_capacity(commands.len()),
        };
        let mut waits = Vec::with_capacity(commands.len());
        let mut payload = Vec::with_capacity(commands.len());
        for command in commands {
            let id = format!(
                "{}-{}",
                self.prefix,
                self.next.fetch_add(1, Ordering::Relaxed)
            );
            let (tx, rx) = oneshot::channel();
            self.pending_map().insert(id.clone(), (command.name, tx));
            let mut fields = match command.fields {
                Value::Object(map) => map,
                _ => Map::new(),
            };
            fields.insert("command".into(), command.name.into());
            fields.insert("correlationData".into(), id.clone().into());
            payload.push(Value::Object(fields));
            registered.ids.push(id);
            waits.push(rx);
        }
        let body = json!({ "commands": payload }).to_string();
        self.client
            .publish(REQUEST_TOPIC, QoS::AtLeastOnce, false, body)
            .await
            // The error holds the request (the password too): never shown.
            .map_err(|_| self.lost())?;
        let mut replies = Vec::with_capacity(waits.len());
        for rx in waits {
            match tokio::time::timeout_at(deadline, rx).await {
                Ok(Ok(reply)) => replies.push(reply),
                Ok(Err(_)) => return Err(self.lost()),
                Err(_) => return Err(timeout),
            }
        }
        Ok(replies)
    }

    fn pending_map(&self) -> std::sync::MutexGuard<'_, Waiting> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn lost(&self) -> MqttError {
        MqttError::Connect {
            broker: self.broker.clone(),
            reason: "the connection was lost before the broker answered".to_owned(),
        }
    }
}

/// The correlation ids of one call, forgotten when the call ends.
struct Registered<'a> {
    pending: &'a Pending,
    ids: Vec<String>,
}

impl Drop for Registered<'_> {
    fn drop(&mut self) {
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        for id in &self.ids {
            pending.remove(id);
        }
    }
}

/// Drives the connection: (re)subscribes to the answers after each connection, routes answers
/// to their callers, reconnects with backoff. Reports the first outcome on `first`; a failure
/// before the first success ends it.
async fn drive(
    mut eventloop: EventLoop,
    client: AsyncClient,
    pending: Pending,
    up: watch::Sender<bool>,
    first: oneshot::Sender<Result<(), String>>,
    broker: String,
) {
    let mut first = Some(first);
    let mut backoff = MIN_BACKOFF;
    loop {
        let failure = match eventloop.poll().await {
            Ok(Event::Incoming(Incoming::ConnAck(_))) => {
                backoff = MIN_BACKOFF;
                // A clean session: the subscription is made again on every connection.
                match client.try_subscribe(RESPONSE_TOPIC, QoS::AtLeastOnce) {
                    Ok(()) => None,
                    Err(_) => Some("cannot queue the subscription to the answers".to_owned()),
                }
            }
            Ok(Event::Incoming(Incoming::SubAck(ack))) => match ack.return_codes.first() {
                Some(SubscribeReasonCode::Success(_)) => {
                    up.send_replace(true);
                    if let Some(first) = first.take() {
                        let _ = first.send(Ok(()));
                    }
                    None
                }
                code => Some(format!(
                    "the broker refused the subscription to {RESPONSE_TOPIC} ({code:?}): is the \
                     user a dynamic-security admin?"
                )),
            },
            Ok(Event::Incoming(Incoming::Publish(publish))) => {
                route(&pending, &publish);
                None
            }
            Ok(_) => None,
            Err(e) => Some(e.to_string()),
        };
        let Some(reason) = failure else { continue };
        up.send_replace(false);
        // Answers to what is in flight will not come: their callers fail now, not at timeout.
        pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
        if let Some(first) = first.take() {
            let _ = first.send(Err(reason));
            return;
        }
        tracing::warn!(%broker, %reason, "dynamic-security connection lost; reconnecting");
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// Hands each answer of a response message to the call waiting for its correlation id.
fn route(pending: &Pending, publish: &Publish) {
    if publish.topic != RESPONSE_TOPIC.as_bytes() {
        return;
    }
    let Ok(message) = serde_json::from_slice::<Value>(&publish.payload) else {
        tracing::warn!("unreadable dynamic-security response ignored");
        return;
    };
    let Some(responses) = message.get("responses").and_then(Value::as_array) else {
        return;
    };
    let mut pending = pending.lock().unwrap_or_else(PoisonError::into_inner);
    for body in responses {
        // Answers to other admins carry ids that are not ours.
        let Some((command, tx)) = body
            .get("correlationData")
            .and_then(Value::as_str)
            .and_then(|id| pending.remove(id))
        else {
            continue;
        };
        let error = body.get("error").and_then(Value::as_str).map(str::to_owned);
        let _ = tx.send(Reply {
            command,
            error,
            body: body.clone(),
        });
    }
}

fn succeeded(reply: &Reply) -> Result<(), MqttError> {
    match &reply.error {
        None => Ok(()),
        Some(reason) => Err(MqttError::Dynsec {
            command: reply.command,
            reason: reason.clone(),
        }),
    }
}

/// `Ok(true)` when the answer is the error `benign` (e.g. "Client already exists"), `Ok(false)`
/// on success, the error otherwise.
fn exists(reply: &Reply, benign: &str) -> Result<bool, MqttError> {
    match reply.error.as_deref() {
        Some(e) if e == benign => Ok(true),
        _ => succeeded(reply).map(|()| false),
    }
}

/// Whether a getClient answer lists `role`.
fn has_role(reply: &Reply, role: &str) -> Result<bool, MqttError> {
    succeeded(reply)?;
    let roles = reply.body["data"]["client"]["roles"].as_array();
    Ok(roles
        .into_iter()
        .flatten()
        .any(|r| r["rolename"].as_str() == Some(role)))
}

/// A device id is one topic level without wildcards (or it would widen its own ACLs).
fn check_device(device: &str, command: &'static str) -> Result<(), MqttError> {
    if topics::device_of_events(&topics::events(device)) == Some(device) {
        Ok(())
    } else {
        Err(MqttError::Dynsec {
            command,
            reason: "the device id is not a single topic level".to_owned(),
        })
    }
}

fn check_token(token: &str) -> Result<(), MqttError> {
    if token.is_empty() {
        return Err(MqttError::Dynsec {
            command: "setClientPassword",
            reason: "empty password".to_owned(),
        });
    }
    Ok(())
}

fn acl(acltype: &str, topic: &str) -> Value {
    json!({ "acltype": acltype, "topic": topic, "allow": true })
}

fn bridge_acls(group: &str) -> Vec<Value> {
    vec![
        acl("subscribeLiteral", &topics::shared_events_filter_for(group)),
        acl("subscribePattern", topics::EVENTS_FILTER),
        acl("publishClientReceive", topics::EVENTS_FILTER),
        acl("publishClientSend", topics::RESULTS_FILTER),
        acl("publishClientSend", topics::UPDATE_FILTER),
    ]
}

fn device_acls(device: &str) -> Vec<Value> {
    vec![
        acl("publishClientSend", &topics::events(device)),
        acl("subscribeLiteral", &topics::results(device)),
        acl("subscribeLiteral", &topics::update(device)),
        acl("publishClientReceive", &topics::results(device)),
        acl("publishClientReceive", &topics::update(device)),
    ]
}

fn command(name: &'static str, fields: Value) -> Command {
    Command { name, fields }
}

fn create_role(role: &str, acls: &[Value]) -> Command {
    command("createRole", json!({ "rolename": role, "acls": acls }))
}

fn modify_role(role: &str, acls: &[Value]) -> Command {
    command("modifyRole", json!({ "rolename": role, "acls": acls }))
}

fn create_client(username: &str, password: &str, role: &str) -> Command {
    command(
        "createClient",
        // The client id is the user name: a device cannot take over another client's session
        // (the bridge's, whose queued messages are every device's, or another device's).
        json!({ "username": username, "clientid": username, "password": password, "roles": [{ "rolename": role }] }),
    )
}

fn get_client(username: &str) -> Command {
    command("getClient", json!({ "username": username }))
}

fn set_client_password(username: &str, password: &str) -> Command {
    command(
        "setClientPassword",
        json!({ "username": username, "password": password }),
    )
}

fn set_client_id(username: &str) -> Command {
    command(
        "setClientId",
        json!({ "username": username, "clientid": username }),
    )
}

fn add_client_role(username: &str, role: &str) -> Command {
    command(
        "addClientRole",
        json!({ "username": username, "rolename": role }),
    )
}

fn enable_client(username: &str) -> Command {
    command("enableClient", json!({ "username": username }))
}

fn disable_client(username: &str) -> Command {
    command("disableClient", json!({ "username": username }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_ids_that_are_not_one_topic_level_are_refused() {
        for bad in ["", "+", "#", "a/b", "dev+", &"x".repeat(129)] {
            assert!(check_device(bad, "createClient").is_err(), "{bad:?}");
        }
        assert!(check_device("dev_a-1", "createClient").is_ok());
    }

    #[test]
    fn device_acls_name_only_its_own_topics() {
        let acls = Value::from(device_acls("dev_a")).to_string();
        assert!(acls.contains("privet/v1/devices/dev_a/events"));
        assert!(!acls.contains('+') && !acls.contains('#'), "{acls}");
    }

    #[test]
    fn answers_reach_their_caller_and_others_are_ignored() {
        let pending: Pending = Arc::default();
        let (tx, mut rx) = oneshot::channel();
        pending
            .lock()
            .unwrap()
            .insert("me-1".into(), ("createClient", tx));
        let body = r#"{"responses":[{"command":"createClient","correlationData":"other-1"},
            {"command":"createClient","error":"Client already exists","correlationData":"me-1"}]}"#;
        let publish = Publish::new(RESPONSE_TOPIC, QoS::AtMostOnce, body, None);
        route(&pending, &publish);
        let reply = rx.try_recv().unwrap();
        assert_eq!(reply.error.as_deref(), Some("Client already exists"));
        assert!(exists(&reply, "Client already exists").unwrap());
        let err = succeeded(&reply).unwrap_err().to_string();
        assert!(
            err.contains("createClient") && err.contains("already exists"),
            "{err}"
        );
        assert!(pending.lock().unwrap().is_empty());
    }
}
