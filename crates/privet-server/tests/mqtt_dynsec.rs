//! Device clients on a real Mosquitto (dynamic security), managed by `mqtt::dynsec`, and the
//! local broker's persistence across a graceful restart. Every wait is on a broker event,
//! bounded by a timeout.

// Test helpers outside #[test] functions: the house allows these in test files.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use privet_server::mqtt::dynsec::Dynsec;
use privet_server::mqtt::local_broker::{LocalBroker, LocalBrokerOptions};
use privet_server::mqtt::{BrokerUrl, MqttError, TlsSettings, topics};
use rumqttc::Outgoing;
use rumqttc::v5::mqttbytes::QoS;
use rumqttc::v5::mqttbytes::v5::{
    ConnAck, ConnectReturnCode, PubAckReason, Publish, SubscribeReasonCode,
};
use rumqttc::v5::{AsyncClient, ConnectionError, Event, Incoming};
use std::time::Duration;
use tokio::sync::mpsc;

const WAIT: Duration = Duration::from_secs(10);
const ADMIN: (&str, &str) = ("admin", "admin-Pw_1");

/// Whether Mosquitto is installed; without it the test is skipped (after saying so), or fails
/// under `PRIVET_REQUIRE_TOOLS=1`, as in CI.
fn mosquitto_here() -> bool {
    if privet_server::mqtt::local_broker::available() {
        return true;
    }
    assert!(
        std::env::var("PRIVET_REQUIRE_TOOLS").as_deref() != Ok("1"),
        "mosquitto is required (PRIVET_REQUIRE_TOOLS=1)"
    );
    eprintln!("skipped: mosquitto not installed");
    false
}

async fn dynsec_broker() -> (LocalBroker, Dynsec) {
    let broker = LocalBroker::start(LocalBrokerOptions {
        dynsec: Some((ADMIN.0.into(), ADMIN.1.into())),
        ..LocalBrokerOptions::default()
    })
    .await
    .unwrap();
    let url = BrokerUrl::parse(&broker.url(Some(ADMIN))).unwrap();
    let admin = Dynsec::connect(&url, &TlsSettings::default(), "privet-test-admin")
        .await
        .unwrap();
    (broker, admin)
}

/// A test client: its event loop runs in a task that forwards every event, then the error
/// that ends it (no reconnection, so a kick is seen).
struct Session {
    client: AsyncClient,
    events: mpsc::UnboundedReceiver<Result<Event, String>>,
    connack: ConnAck,
}

/// Connects as `user`, or returns the connection error (a refused CONNACK among them).
async fn session(
    broker: &LocalBroker,
    user: Option<(&str, &str)>,
    id: &str,
    persistent: bool,
) -> Result<Session, ConnectionError> {
    let url = BrokerUrl::parse(&broker.url(user)).unwrap();
    let mut options = url.options(id, &TlsSettings::default()).unwrap();
    if persistent {
        options.set_clean_start(false);
        options.set_session_expiry_interval(Some(3600));
    }
    let (client, mut eventloop) = AsyncClient::new(options, 64);
    let connack = loop {
        match tokio::time::timeout(WAIT, eventloop.poll()).await {
            Ok(Ok(Event::Incoming(Incoming::ConnAck(ack)))) => break ack,
            Ok(Ok(_)) => {}
            Ok(Err(e)) => return Err(e),
            Err(_) => panic!("no CONNACK for {id} within {WAIT:?}"),
        }
    };
    let (tx, events) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            match eventloop.poll().await {
                Ok(event) => {
                    if tx.send(Ok(event)).is_err() {
                        return;
                    }
                }
                Err(e) => {
                    let _ = tx.send(Err(e.to_string()));
                    return;
                }
            }
        }
    });
    Ok(Session {
        client,
        events,
        connack,
    })
}

impl Session {
    /// The first event `pick` accepts, within the timeout; a connection error fails the test.
    async fn expect<T>(&mut self, what: &str, mut pick: impl FnMut(&Event) -> Option<T>) -> T {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Ok(Some(Ok(event))) => {
                    if let Some(found) = pick(&event) {
                        return found;
                    }
                }
                Ok(Some(Err(e))) => panic!("connection ended waiting for {what}: {e}"),
                Ok(None) => panic!("event loop gone waiting for {what}"),
                Err(_) => panic!("no {what} within {WAIT:?}"),
            }
        }
    }

    /// Waits until the broker ends the connection (DISCONNECT or closed socket).
    async fn expect_disconnected(&mut self) {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Ok(Some(Ok(Event::Incoming(Incoming::Disconnect(_)))))
                | Ok(Some(Err(_)))
                | Ok(None) => return,
                Ok(Some(Ok(_))) => {}
                Err(_) => panic!("still connected after {WAIT:?}"),
            }
        }
    }

    async fn subscribe(&mut self, filter: &str) -> SubscribeReasonCode {
        self.client
            .subscribe(filter, QoS::AtLeastOnce)
            .await
            .unwrap();
        self.expect("SUBACK", |e| match e {
            Event::Incoming(Incoming::SubAck(ack)) => ack.return_codes.first().copied(),
            _ => None,
        })
        .await
    }

    async fn publish(&mut self, topic: &str, payload: &str, retain: bool) -> PubAckReason {
        self.client
            .publish(topic, QoS::AtLeastOnce, retain, payload.to_owned())
            .await
            .unwrap();
        self.expect("PUBACK", |e| match e {
            Event::Incoming(Incoming::PubAck(ack)) => Some(ack.reason),
            _ => None,
        })
        .await
    }

    async fn next_publish(&mut self) -> Publish {
        self.expect("a message", |e| match e {
            Event::Incoming(Incoming::Publish(p)) => Some(p.clone()),
            _ => None,
        })
        .await
    }

    async fn disconnect(mut self) {
        self.client.disconnect().await.unwrap();
        self.expect("DISCONNECT sent", |e| {
            matches!(e, Event::Outgoing(Outgoing::Disconnect)).then_some(())
        })
        .await;
    }
}

fn assert_refused(result: Result<Session, ConnectionError>, who: &str) {
    match result {
        Err(ConnectionError::ConnectionRefused(code)) => assert!(
            matches!(
                code,
                ConnectReturnCode::BadUserNamePassword | ConnectReturnCode::NotAuthorized
            ),
            "{who}: refused with {code:?}"
        ),
        Err(other) => panic!("{who}: not a refusal: {other}"),
        Ok(_) => panic!("{who} was let in"),
    }
}

fn text(p: &Publish) -> (String, String) {
    (
        String::from_utf8_lossy(&p.topic).into_owned(),
        String::from_utf8_lossy(&p.payload).into_owned(),
    )
}

/// A plain broker client with no role, as the maker's broker admin would create the bridge's.
async fn create_plain_client(broker: &LocalBroker, user: &str, password: &str) {
    let out = tokio::process::Command::new("mosquitto_ctrl")
        .args(["-h", "127.0.0.1", "-p", &broker.port().to_string()])
        .args(["-u", ADMIN.0, "-P", ADMIN.1])
        .args(["dynsec", "createClient", user, "-p", password])
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn a_device_connects_with_its_token_and_nothing_else_gets_in() {
    if !mosquitto_here() {
        return;
    }
    let (broker, admin) = dynsec_broker().await;
    admin.upsert_device("dev_a", "tok-A_1").await.unwrap();
    session(&broker, Some(("dev_a", "tok-A_1")), "dev_a", false)
        .await
        .unwrap();
    assert_refused(
        session(&broker, Some(("dev_a", "wrong")), "dev_a-2", false).await,
        "dev_a with a wrong password",
    );
    assert_refused(
        session(&broker, Some(("dev_b", "tok-A_1")), "dev_b", false).await,
        "an unknown device",
    );
    assert_refused(
        session(&broker, None, "anon", false).await,
        "an anonymous client",
    );
    // Idempotent: the same upsert again succeeds and the token still works.
    admin.upsert_device("dev_a", "tok-A_1").await.unwrap();
    session(&broker, Some(("dev_a", "tok-A_1")), "dev_a", false)
        .await
        .unwrap();
    for bad in ["+", "a/b", "#", ""] {
        assert!(matches!(
            admin.upsert_device(bad, "t").await,
            Err(MqttError::Dynsec { .. })
        ));
    }
}

#[tokio::test]
async fn a_device_publishes_only_its_own_events_and_the_bridge_gets_them_shared() {
    if !mosquitto_here() {
        return;
    }
    let (broker, admin) = dynsec_broker().await;
    admin.upsert_device("dev_a", "tok-a").await.unwrap();
    admin.upsert_device("dev_b", "tok-b").await.unwrap();
    create_plain_client(&broker, "bridge", "bridge-pw").await;

    // Default deny: without the role the bridge may not subscribe.
    let mut bridge = session(&broker, Some(("bridge", "bridge-pw")), "bridge-1", false)
        .await
        .unwrap();
    let shared = topics::shared_events_filter();
    assert_eq!(
        bridge.subscribe(&shared).await,
        SubscribeReasonCode::NotAuthorized
    );
    admin.grant_bridge("bridge").await.unwrap();
    admin.grant_bridge("bridge").await.unwrap();
    // Adding the role disconnected the bridge's session.
    bridge.expect_disconnected().await;
    let mut bridge = session(&broker, Some(("bridge", "bridge-pw")), "bridge-1", false)
        .await
        .unwrap();
    assert!(matches!(
        bridge.subscribe(&shared).await,
        SubscribeReasonCode::Success(_)
    ));

    let mut dev_a = session(&broker, Some(("dev_a", "tok-a")), "dev_a", false)
        .await
        .unwrap();
    assert_eq!(
        dev_a
            .publish(&topics::events("dev_b"), "forged", false)
            .await,
        PubAckReason::NotAuthorized
    );
    assert_eq!(
        dev_a.publish(&topics::results("dev_a"), "x", false).await,
        PubAckReason::NotAuthorized
    );
    assert_eq!(
        dev_a.publish(&topics::events("dev_a"), "real", false).await,
        PubAckReason::Success
    );
    // Messages of one publisher arrive in order: the first the bridge sees is the allowed one,
    // so the refused ones were not delivered.
    assert_eq!(
        text(&bridge.next_publish().await),
        (topics::events("dev_a"), "real".to_owned())
    );
    // A device may not join the shared subscription nor read another device's topics.
    assert_eq!(
        dev_a.subscribe(&shared).await,
        SubscribeReasonCode::NotAuthorized
    );
    assert_eq!(
        dev_a.subscribe(&topics::results("dev_b")).await,
        SubscribeReasonCode::NotAuthorized
    );
    assert!(matches!(
        dev_a.subscribe(&topics::results("dev_a")).await,
        SubscribeReasonCode::Success(_)
    ));
    assert!(matches!(
        dev_a.subscribe(&topics::update("dev_a")).await,
        SubscribeReasonCode::Success(_)
    ));
    // The bridge answers on results and publishes retained updates, but forges no events.
    assert_eq!(
        bridge
            .publish(&topics::events("dev_a"), "forged", false)
            .await,
        PubAckReason::NotAuthorized
    );
    assert_eq!(
        bridge.publish(&topics::results("dev_a"), "r1", false).await,
        PubAckReason::Success
    );
    assert_eq!(
        bridge.publish(&topics::update("dev_a"), "u1", true).await,
        PubAckReason::Success
    );
    assert_eq!(
        text(&dev_a.next_publish().await),
        (topics::results("dev_a"), "r1".to_owned())
    );
    assert_eq!(
        text(&dev_a.next_publish().await),
        (topics::update("dev_a"), "u1".to_owned())
    );
}

#[tokio::test]
async fn disabling_a_device_disconnects_it_and_keeps_it_out() {
    if !mosquitto_here() {
        return;
    }
    let (broker, admin) = dynsec_broker().await;
    admin.upsert_device("dev_a", "tok-1").await.unwrap();
    let mut live = session(&broker, Some(("dev_a", "tok-1")), "dev_a", false)
        .await
        .unwrap();
    admin.disable_device("dev_a").await.unwrap();
    live.expect_disconnected().await;
    assert_refused(
        session(&broker, Some(("dev_a", "tok-1")), "dev_a", false).await,
        "a disabled device",
    );
    // Again, and for a device the broker never knew: both fine.
    admin.disable_device("dev_a").await.unwrap();
    admin.disable_device("ghost").await.unwrap();
    // An upsert re-enables it, with the new token only.
    admin.upsert_device("dev_a", "tok-2").await.unwrap();
    assert_refused(
        session(&broker, Some(("dev_a", "tok-1")), "dev_a", false).await,
        "the old token after an upsert",
    );
    session(&broker, Some(("dev_a", "tok-2")), "dev_a", false)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_replaced_password_kicks_the_old_token_and_admits_the_new_one() {
    if !mosquitto_here() {
        return;
    }
    let (mut broker, admin) = dynsec_broker().await;
    admin.upsert_device("dev_a", "old-token").await.unwrap();
    let mut live = session(&broker, Some(("dev_a", "old-token")), "dev_a", false)
        .await
        .unwrap();
    admin
        .replace_device_password("dev_a", "new-token")
        .await
        .unwrap();
    live.expect_disconnected().await;
    assert_refused(
        session(&broker, Some(("dev_a", "old-token")), "dev_a", false).await,
        "the old token",
    );
    session(&broker, Some(("dev_a", "new-token")), "dev_a", false)
        .await
        .unwrap();
    // A device the broker does not have yet is given its client (not an error).
    admin
        .replace_device_password("ghost", "ghost-secret-token")
        .await
        .unwrap();
    session(
        &broker,
        Some(("ghost", "ghost-secret-token")),
        "ghost",
        false,
    )
    .await
    .unwrap();

    // The broker keeps its clients across a restart, and the admin connection comes back.
    broker.stop_graceful().await.unwrap();
    broker.restart().await.unwrap();
    admin.disable_device("ghost").await.unwrap();
    session(&broker, Some(("dev_a", "new-token")), "dev_a", false)
        .await
        .unwrap();
}

#[tokio::test]
async fn the_admin_may_be_the_bridge_user_and_survives_its_own_kick() {
    if !mosquitto_here() {
        return;
    }
    let (broker, admin) = dynsec_broker().await;
    admin.grant_bridge(ADMIN.0).await.unwrap();
    admin.grant_bridge(ADMIN.0).await.unwrap();
    // The admin connection recovered from being disconnected by the role change.
    admin.upsert_device("dev_a", "tok").await.unwrap();
    let mut bridge = session(&broker, Some(ADMIN), "bridge", false)
        .await
        .unwrap();
    assert!(matches!(
        bridge.subscribe(&topics::shared_events_filter()).await,
        SubscribeReasonCode::Success(_)
    ));
    // Allowed; nobody listens on that topic yet.
    assert!(matches!(
        bridge.publish(&topics::results("dev_a"), "r", false).await,
        PubAckReason::Success | PubAckReason::NoMatchingSubscribers
    ));
}

#[tokio::test]
async fn a_graceful_restart_keeps_queued_qos1_messages_for_a_persistent_session() {
    if !mosquitto_here() {
        return;
    }
    let mut broker = LocalBroker::start(LocalBrokerOptions {
        persistence: true,
        max_queued_messages: Some(100),
        ..LocalBrokerOptions::default()
    })
    .await
    .unwrap();
    let topic = "privet/v1/devices/dev_a/results";
    let mut sub = session(&broker, None, "persistent-sub", true)
        .await
        .unwrap();
    assert!(matches!(
        sub.subscribe(topic).await,
        SubscribeReasonCode::Success(QoS::AtLeastOnce)
    ));
    sub.disconnect().await;

    let mut publisher = session(&broker, None, "publisher", false).await.unwrap();
    for n in 1..=3 {
        let reason = publisher.publish(topic, &format!("m{n}"), false).await;
        assert_eq!(reason, PubAckReason::Success);
    }
    publisher.disconnect().await;

    broker.stop_graceful().await.unwrap();
    broker.restart().await.unwrap();

    let mut sub = session(&broker, None, "persistent-sub", true)
        .await
        .unwrap();
    assert!(sub.connack.session_present, "the session did not survive");
    for n in 1..=3 {
        assert_eq!(
            text(&sub.next_publish().await),
            (topic.to_owned(), format!("m{n}"))
        );
    }
}

#[tokio::test]
async fn a_killed_broker_loses_what_a_graceful_stop_keeps() {
    if !mosquitto_here() {
        return;
    }
    // The counterpart of the test above, so it cannot pass by accident (e.g. a session kept
    // in memory by a broker that never stopped).
    let mut broker = LocalBroker::start(LocalBrokerOptions {
        persistence: true,
        ..LocalBrokerOptions::default()
    })
    .await
    .unwrap();
    let mut sub = session(&broker, None, "persistent-sub", true)
        .await
        .unwrap();
    sub.subscribe("t/x").await;
    sub.disconnect().await;
    broker.kill();
    broker.restart().await.unwrap();
    let sub = session(&broker, None, "persistent-sub", true)
        .await
        .unwrap();
    assert!(!sub.connack.session_present);
}

#[tokio::test]
async fn a_device_connects_only_as_its_own_client_id_and_a_reset_keeps_it_so() {
    if !mosquitto_here() {
        return;
    }
    let (broker, admin) = dynsec_broker().await;
    admin.upsert_device("dev_a", "tok-A_1").await.unwrap();
    // The right password under another client id would take that client's session: the
    // bridge's (every device's queued events) or another device's.
    assert_refused(
        session(
            &broker,
            Some(("dev_a", "tok-A_1")),
            "privet-host-8080",
            true,
        )
        .await,
        "dev_a as the bridge's client id",
    );
    assert_refused(
        session(&broker, Some(("dev_a", "tok-A_1")), "dev_b", false).await,
        "dev_a as another device",
    );
    session(&broker, Some(("dev_a", "tok-A_1")), "dev_a", false)
        .await
        .unwrap();

    admin
        .replace_device_password("dev_a", "tok-A_2")
        .await
        .unwrap();
    assert_refused(
        session(&broker, Some(("dev_a", "tok-A_2")), "someone-else", false).await,
        "dev_a after a reset, as another client id",
    );
    session(&broker, Some(("dev_a", "tok-A_2")), "dev_a", false)
        .await
        .unwrap();

    // A device the broker never had (registered before Privet managed it) gets its client at
    // its next reset.
    admin
        .replace_device_password("dev_c", "tok-C_1")
        .await
        .unwrap();
    session(&broker, Some(("dev_c", "tok-C_1")), "dev_c", false)
        .await
        .unwrap();
}
