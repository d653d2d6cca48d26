//! The bridge's connection: one MQTT v5 client per instance with a persistent session (a
//! stable client id, `clean_start` off, a session expiry), subscribed to the shared
//! subscription at QoS 1 with manual acknowledgements. A message is acknowledged only after
//! its outcome is durable (stored, recognised as a duplicate, or refused), so if Privet dies
//! first the broker hands it over again; the delivery id stored with the blocks keeps a
//! redelivered message from being stored twice.

use crate::mqtt::message::{self, Outcome};
use crate::mqtt::status::{BridgeStatus, LinkState};
use crate::mqtt::{BrokerUrl, MqttError, TlsSettings, topics};
use crate::state::AppState;
use privet_store::Device;
use rumqttc::v5::mqttbytes::QoS;
use rumqttc::v5::mqttbytes::v5::{Packet, Publish, PublishProperties, SubscribeReasonCode};
use rumqttc::v5::{AsyncClient, ConnectionError, Event, EventLoop};
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, watch};
use tokio::task::JoinHandle;

/// Tries of a failing message after which, if the store answers a health check, the message
/// itself is taken to be the problem (about 1.5 s of backoff).
const MAX_ATTEMPTS_WHILE_STORE_ANSWERS: u32 = 5;

/// KiB of payload the messages being processed may hold together (256 MiB).
const PAYLOAD_BUDGET_KIB: u32 = 256 * 1024;

/// Most messages of one device stored in one commit.
const MAX_MERGED: usize = 64;

/// Most payload bytes of one device's messages stored in one commit (a single larger message
/// is stored alone).
const MAX_MERGED_BYTES: usize = 1024 * 1024;

/// How the bridge connects.
#[derive(Clone, Debug)]
pub struct MqttConfig {
    /// The broker, with the bridge's own credentials.
    pub url: BrokerUrl,
    /// How to trust the broker's certificate (`mqtts`).
    pub tls: TlsSettings,
    /// The client id of this instance's persistent session: stable across restarts, so a
    /// restarted instance picks up what the broker kept for it, and unique per instance.
    pub client_id: String,
    /// Whether Privet manages device clients through Mosquitto's dynamic security.
    pub dynsec: bool,
    /// Most messages the broker may hand over before Privet acknowledges them (MQTT v5
    /// Receive Maximum): the bridge's concurrency, and what a crash leaves for redelivery.
    pub receive_maximum: u16,
    /// The shared-subscription group: every instance of one deployment uses the same, and
    /// two deployments on one broker must not (each would take the other's messages).
    pub share_group: String,
    /// Largest packet taken from the broker; bigger ones the broker must not send (a payload
    /// above the server's body limit but below this is refused and reported).
    pub max_packet_bytes: u32,
    /// How long a graceful stop waits for messages in flight.
    pub drain_timeout: Duration,
}

impl MqttConfig {
    /// Defaults for `url` and `client_id`.
    pub fn new(url: BrokerUrl, client_id: String) -> MqttConfig {
        MqttConfig {
            url,
            tls: TlsSettings::default(),
            client_id,
            dynsec: false,
            receive_maximum: 1000,
            share_group: topics::SHARE_GROUP.to_owned(),
            max_packet_bytes: 64 * 1024 * 1024,
            drain_timeout: Duration::from_secs(30),
        }
    }
}

/// What the bridge's tasks share.
struct Ctx {
    state: AppState,
    url: BrokerUrl,
    filter: String,
    client: AsyncClient,
    /// A second connection (clean, no session) for what Privet publishes: results and release
    /// notices. Apart, so a stall in rumqttc's outgoing packet ids (a collision after a
    /// reconnect waits for an ack) never holds back the acknowledgements on `client`.
    publisher: AsyncClient,
    status: Arc<BridgeStatus>,
    /// Bumped on every connection: an acknowledgement is sent only on the connection its
    /// message came in on (after a reconnect the broker hands it over again).
    epoch: AtomicU64,
    stopping: AtomicBool,
    /// One permit per message being processed: Receive Maximum, enforced here as well, as a
    /// broker may hand over more than it (Mosquitto 2.0 does, seen with persistent sessions);
    /// with none left the driver stops reading, and TCP holds the broker back.
    permits: Arc<Semaphore>,
    /// KiB of payload held by messages being processed: bounds memory when messages are large
    /// (a broker may send packets up to `max_packet_bytes`).
    payload_budget: Arc<Semaphore>,
    /// Set once the bridge disconnects for good: the event loop must not reconnect.
    disconnecting: AtomicBool,
    /// Replies for the driver to send.
    outbox: mpsc::UnboundedSender<Out>,
    /// Devices recently looked up.
    devices: message::DeviceCache,
    /// Messages waiting for the task storing their device's earlier ones.
    lanes: Lanes,
}

/// A running bridge.
pub struct Bridge {
    ctx: Arc<Ctx>,
    stop: watch::Sender<bool>,
    driver: JoinHandle<()>,
    drain_timeout: Duration,
}

impl Bridge {
    /// Connects (failing if the broker cannot be reached or refuses within the connect
    /// timeout), subscribes and starts taking messages.
    pub async fn start(state: AppState, cfg: &MqttConfig) -> Result<Bridge, MqttError> {
        let mut options = cfg.url.options(&cfg.client_id, &cfg.tls)?;
        options
            .set_clean_start(false)
            // Kept no longer than delivery ids are: see `DELIVERY_WINDOW`.
            .set_session_expiry_interval(Some(
                u32::try_from(crate::mqtt::DELIVERY_WINDOW.as_secs()).unwrap_or(u32::MAX),
            ))
            .set_receive_maximum(Some(cfg.receive_maximum.max(1)))
            .set_max_packet_size(Some(cfg.max_packet_bytes))
            // No outgoing in-flight limit below rumqttc's 65,536 (which costs ~14 MiB of
            // slots): its packet ids wrap at the limit, and after a reconnect a smaller one
            // collides with results still pending, stalling every request, acks included.
            .set_manual_acks(true);
        // Room for an acknowledgement and a result per message in flight, plus control.
        let capacity = usize::from(cfg.receive_maximum) * 2 + 64;
        let (client, mut eventloop) = AsyncClient::new(options, capacity);
        let mut out_options = cfg
            .url
            .options(&format!("{}-out", cfg.client_id), &cfg.tls)?;
        out_options.set_max_packet_size(Some(cfg.max_packet_bytes));
        let (publisher, publisher_loop) = AsyncClient::new(out_options, capacity);
        let status = Arc::new(BridgeStatus::default());
        let (outbox, outbox_rx) = mpsc::unbounded_channel();
        let ctx = Arc::new(Ctx {
            state,
            url: cfg.url.clone(),
            filter: topics::shared_events_filter_for(&cfg.share_group),
            client,
            publisher,
            status,
            epoch: AtomicU64::new(0),
            stopping: AtomicBool::new(false),
            permits: Arc::new(Semaphore::new(usize::from(cfg.receive_maximum.max(1)))),
            payload_budget: Arc::new(Semaphore::new(PAYLOAD_BUDGET_KIB as usize)),
            disconnecting: AtomicBool::new(false),
            outbox,
            devices: message::DeviceCache::default(),
            lanes: Lanes::default(),
        });
        // The first connection is made here, so a wrong URL or password stops the start.
        let first = tokio::time::timeout(Duration::from_secs(15), async {
            loop {
                match eventloop.poll().await {
                    Ok(Event::Incoming(Packet::ConnAck(_))) => return Ok(()),
                    Ok(_) => {}
                    Err(e) => return Err(e),
                }
            }
        })
        .await;
        match first {
            Ok(Ok(())) => on_connected(&ctx),
            Ok(Err(e)) => return Err(connect_error(&cfg.url, &e)),
            Err(_) => {
                return Err(MqttError::Timeout {
                    what: "the first connection",
                });
            }
        }
        let (stop, stop_rx) = watch::channel(false);
        let outbox = Outbox {
            rx: outbox_rx,
            waiting: VecDeque::new(),
        };
        let (events_tx, events) = mpsc::channel(64);
        tokio::spawn(pump(eventloop, events_tx, ctx.clone()));
        tokio::spawn(pump_publisher(publisher_loop, ctx.clone()));
        let driver = tokio::spawn(drive(events, ctx.clone(), outbox, stop_rx));
        Ok(Bridge {
            ctx,
            stop,
            driver,
            drain_timeout: cfg.drain_timeout,
        })
    }

    /// The bridge's state, for health and metrics.
    pub fn status(&self) -> &Arc<BridgeStatus> {
        &self.ctx.status
    }

    /// A client on the bridge's publishing connection (results, release notices).
    pub fn publisher(&self) -> &AsyncClient {
        &self.ctx.publisher
    }

    /// Stops taking messages, lets those in flight finish and be acknowledged (up to the
    /// drain timeout; any left are handed over again later), then disconnects.
    pub async fn shutdown(self) {
        self.ctx.stopping.store(true, Ordering::SeqCst);
        self.ctx.status.set_state(LinkState::Stopping);
        let deadline = Instant::now() + self.drain_timeout;
        while self.ctx.status.in_flight() > 0 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let left = self.ctx.status.in_flight();
        if left > 0 {
            tracing::warn!(
                left,
                "mqtt: stopped with messages in flight; the broker hands them over again"
            );
        }
        let _ = self.stop.send(true);
        let mut driver = self.driver;
        if tokio::time::timeout(Duration::from_secs(5), &mut driver)
            .await
            .is_err()
        {
            driver.abort();
        }
    }
}

/// The error for a failed connection, without credentials.
fn connect_error(url: &BrokerUrl, e: &ConnectionError) -> MqttError {
    let reason = match e {
        ConnectionError::ConnectionRefused(code) => format!("refused the connection ({code:?})"),
        ConnectionError::Io(io) => format!("cannot connect ({})", io.kind()),
        ConnectionError::Tls(t) => format!("TLS failed ({t})"),
        ConnectionError::Timeout(_) => "did not answer in time".to_owned(),
        // Its text is the packet's Debug form, which could hold a payload.
        ConnectionError::NotConnAck(_) => "answered with something other than CONNACK".to_owned(),
        other => other.to_string(),
    };
    MqttError::Connect {
        broker: url.redacted(),
        reason,
    }
}

fn on_connected(ctx: &Arc<Ctx>) {
    ctx.epoch.fetch_add(1, Ordering::SeqCst);
    ctx.status.set_state(LinkState::Connected);
    // Subscribed on every connection: a broker that lost the session (or never kept it)
    // has no subscription to resume. Sent from a task: the event loop must keep polling.
    let client = ctx.client.clone();
    let filter = ctx.filter.clone();
    tokio::spawn(async move {
        if let Err(e) = client.subscribe(filter, QoS::AtLeastOnce).await {
            tracing::warn!(error = %e, "mqtt: cannot request the subscription");
        }
    });
}

/// What a message's task hands back to the driver, which alone sends on the connection (so a
/// task never waits on the client's request queue, which only the event loop empties).
enum Out {
    /// The outcome for the device's results topic.
    Result {
        topic: String,
        body: Vec<u8>,
        properties: Option<PublishProperties>,
    },
    /// The acknowledgement of a message taken on connection `epoch` (its packet id and QoS
    /// only: the payload is not kept once processed).
    Ack { ack: Publish, epoch: u64 },
}

/// Queued replies, sent to the client as its request queue has room.
struct Outbox {
    rx: mpsc::UnboundedReceiver<Out>,
    waiting: VecDeque<Out>,
}

impl Outbox {
    /// Moves what fits into the client's queue; an acknowledgement from an earlier connection
    /// is dropped (the broker hands that message over again, and it is then a duplicate).
    fn flush(&mut self, ctx: &Ctx) {
        while let Ok(out) = self.rx.try_recv() {
            self.waiting.push_back(out);
        }
        let epoch = ctx.epoch.load(Ordering::SeqCst);
        while let Some(out) = self.waiting.pop_front() {
            let sent = match &out {
                Out::Ack { epoch: e, .. } if *e != epoch => Ok(()),
                Out::Ack { ack, .. } => ctx.client.try_ack(ack),
                Out::Result {
                    topic,
                    body,
                    properties,
                } => {
                    let sent = match properties {
                        Some(p) => ctx.publisher.try_publish_with_properties(
                            topic.clone(),
                            QoS::AtLeastOnce,
                            false,
                            body.clone(),
                            p.clone(),
                        ),
                        None => ctx.publisher.try_publish(
                            topic.clone(),
                            QoS::AtLeastOnce,
                            false,
                            body.clone(),
                        ),
                    };
                    // A result is information, not data: one that finds the publishing
                    // connection's queue full is dropped, never waited for ahead of acks.
                    if sent.is_err() {
                        ctx.state.metrics().mqtt_message("result_dropped");
                    }
                    Ok(())
                }
            };
            match sent {
                Ok(()) => {}
                Err(rumqttc::v5::ClientError::TryRequest(_)) => {
                    // Full: the rest waits until the event loop makes room.
                    self.waiting.push_front(out);
                    return;
                }
                // The event loop is gone: nothing more can be sent.
                Err(_) => return,
            }
        }
    }

    fn is_empty(&self) -> bool {
        self.waiting.is_empty() && self.rx.is_empty()
    }

    fn take(&mut self, out: Option<Out>) {
        if let Some(out) = out {
            self.waiting.push_back(out);
        }
    }
}

/// What the event loop reports.
type Polled = Result<Event, ConnectionError>;

/// Polls the connection in a task of its own, never cancelled mid-poll (rumqttc's `poll` is
/// not cancel-safe: a request taken off its queue could be lost), and passes every event on;
/// after a failure it waits (backoff) before the next poll reconnects, unless the bridge is
/// disconnecting.
async fn pump(mut eventloop: EventLoop, events: mpsc::Sender<Polled>, ctx: Arc<Ctx>) {
    let mut backoff = Duration::from_millis(100);
    loop {
        let polled = eventloop.poll().await;
        let failed = polled.is_err();
        if matches!(polled, Ok(Event::Incoming(Packet::ConnAck(_)))) {
            backoff = Duration::from_millis(100);
        }
        if events.send(polled).await.is_err() {
            return;
        }
        if failed {
            if ctx.disconnecting.load(Ordering::SeqCst) {
                return;
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(30));
            if ctx.disconnecting.load(Ordering::SeqCst) {
                return;
            }
        }
    }
}

/// Drives the publishing connection (results, release notices) for as long as the bridge
/// runs: reconnects with backoff, and ignores what comes in (it subscribes to nothing).
async fn pump_publisher(mut eventloop: EventLoop, ctx: Arc<Ctx>) {
    let mut backoff = Duration::from_millis(100);
    loop {
        match eventloop.poll().await {
            Ok(Event::Outgoing(rumqttc::Outgoing::Disconnect)) => return,
            Ok(Event::Incoming(Packet::ConnAck(_))) => backoff = Duration::from_millis(100),
            Ok(_) => {}
            Err(e) => {
                if ctx.disconnecting.load(Ordering::SeqCst) {
                    return;
                }
                tracing::debug!(error = %connect_error(&ctx.url, &e), "mqtt: the publishing connection was lost; reconnecting");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(30));
            }
        }
    }
}

/// Takes the event loop's events until stopped: hands each message to a task (as permits
/// allow), and sends what the tasks hand back.
async fn drive(
    mut events: mpsc::Receiver<Polled>,
    ctx: Arc<Ctx>,
    mut outbox: Outbox,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        outbox.flush(&ctx);
        let event = tokio::select! {
            _ = stop.changed() => break,
            out = outbox.rx.recv() => {
                outbox.take(out);
                continue;
            }
            e = events.recv() => match e {
                Some(e) => e,
                None => break,
            },
        };
        match event {
            Ok(Event::Incoming(Packet::ConnAck(_))) => {
                tracing::info!("mqtt: connected again");
                on_connected(&ctx);
            }
            Ok(Event::Incoming(Packet::SubAck(ack))) => {
                let refused = ack
                    .return_codes
                    .iter()
                    .any(|c| !matches!(c, SubscribeReasonCode::Success(_)));
                if refused {
                    tracing::error!(codes = ?ack.return_codes, "mqtt: the broker refused the subscription; no device message will arrive");
                }
            }
            Ok(Event::Incoming(Packet::Publish(p))) => {
                // Once stopping, a message is left unacknowledged: the broker keeps it in
                // this instance's session and hands it over again.
                if ctx.stopping.load(Ordering::SeqCst) {
                    continue;
                }
                let epoch = ctx.epoch.load(Ordering::SeqCst);
                // With every permit taken, no event is taken (and the event loop, its queue to
                // here full, stops reading: TCP holds the broker back) until a task finishes;
                // tasks never wait on this loop, so one always does.
                let kib = u32::try_from(p.payload.len().div_ceil(1024))
                    .unwrap_or(u32::MAX)
                    .clamp(1, PAYLOAD_BUDGET_KIB);
                let permits = loop {
                    tokio::select! {
                        _ = stop.changed() => break None,
                        p = async {
                            let one = ctx.permits.clone().acquire_owned().await.ok()?;
                            let bytes = ctx.payload_budget.clone().acquire_many_owned(kib).await.ok()?;
                            Some((one, bytes))
                        } => break p,
                        out = outbox.rx.recv() => {
                            outbox.take(out);
                            outbox.flush(&ctx);
                        }
                    }
                };
                let Some(permits) = permits else { break };
                // Counted from here, so a stop waits for a task that has not started yet.
                let ticket = ctx.status.take();
                let taken = Taken {
                    publish: p,
                    epoch,
                    permits,
                    ticket,
                };
                // A device's messages go one lane: with its earlier ones being stored, this
                // one waits and is stored with the others that arrive meanwhile.
                if let Some((lane, first)) = ctx.lanes.enter(taken) {
                    tokio::spawn(run_lane(ctx.clone(), lane, first));
                }
            }
            Ok(_) => {}
            Err(e) => {
                // Replies for messages of the lost connection are not sent on the next one.
                ctx.epoch.fetch_add(1, Ordering::SeqCst);
                if ctx.stopping.load(Ordering::SeqCst) {
                    break;
                }
                // Counted once per loss, not per failed attempt to connect again.
                if ctx.status.state() == LinkState::Connected {
                    ctx.status.reconnects.fetch_add(1, Ordering::Relaxed);
                    ctx.state.metrics().mqtt_reconnects.inc();
                }
                ctx.status.set_state(LinkState::Disconnected);
                tracing::warn!(error = %connect_error(&ctx.url, &e), "mqtt: connection lost; reconnecting with backoff");
            }
        }
    }
    // Send what the finished tasks handed back, then the disconnect, then read until the
    // broker closes: closing with unread data (messages it kept sending) would reset the
    // connection, and the broker could lose the last acknowledgements.
    let clean = tokio::time::timeout(Duration::from_secs(5), async {
        let mut disconnecting = false;
        let mut sent = false;
        loop {
            outbox.flush(&ctx);
            if !disconnecting && outbox.is_empty() {
                ctx.disconnecting.store(true, Ordering::SeqCst);
                // The publisher's last results go first (best effort).
                let _ = ctx.publisher.try_disconnect();
                disconnecting = ctx.client.try_disconnect().is_ok();
            }
            match events.recv().await {
                Some(Ok(Event::Outgoing(rumqttc::Outgoing::Disconnect))) => sent = true,
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return sent,
            }
        }
    })
    .await;
    ctx.disconnecting.store(true, Ordering::SeqCst);
    if clean != Ok(true) {
        tracing::warn!(
            unsent = outbox.waiting.len(),
            "mqtt: disconnected before every acknowledgement went out; the broker hands those messages over again"
        );
    }
}

/// A message taken from the broker, with what it holds until it is answered.
struct Taken {
    publish: Publish,
    /// The connection it came in on.
    epoch: u64,
    permits: (OwnedSemaphorePermit, OwnedSemaphorePermit),
    ticket: crate::mqtt::status::Ticket,
}

/// Messages waiting, by topic (one device's), for the task storing that device's earlier
/// messages. A topic has an entry exactly while its lane's task runs.
#[derive(Default)]
struct Lanes {
    waiting: Mutex<HashMap<Vec<u8>, VecDeque<Taken>>>,
}

impl Lanes {
    /// Queues `taken` behind its device's running lane, or opens the lane and hands the
    /// message back with the lane's key: the caller then runs the lane.
    fn enter(&self, taken: Taken) -> Option<(Vec<u8>, Taken)> {
        let key = taken.publish.topic.to_vec();
        // A panic elsewhere cannot leave the map half-changed: every change is one call.
        let mut waiting = self
            .waiting
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match waiting.get_mut(&key) {
            Some(queue) => {
                queue.push_back(taken);
                None
            }
            None => {
                waiting.insert(key.clone(), VecDeque::new());
                Some((key, taken))
            }
        }
    }

    /// The next messages of the lane, in order, up to the merge bounds; none closes the lane.
    fn next(&self, key: &[u8]) -> Vec<Taken> {
        let mut waiting = self
            .waiting
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let Some(queue) = waiting.get_mut(key) else {
            return Vec::new();
        };
        let mut group = Vec::new();
        let mut bytes = 0;
        while let Some(next) = queue.front() {
            let size = next.publish.payload.len();
            if !group.is_empty() && (group.len() >= MAX_MERGED || bytes + size > MAX_MERGED_BYTES) {
                break;
            }
            bytes += size;
            if let Some(taken) = queue.pop_front() {
                group.push(taken);
            }
        }
        if group.is_empty() {
            waiting.remove(key);
        }
        group
    }
}

/// Stores a device's messages until none waits: the first alone, then each time what
/// arrived meanwhile, together.
async fn run_lane(ctx: Arc<Ctx>, key: Vec<u8>, first: Taken) {
    let mut open = OpenLane {
        lanes: &ctx.lanes,
        key: &key,
        closed: false,
    };
    let mut group = vec![first];
    while !group.is_empty() {
        handle(&ctx, group).await;
        group = ctx.lanes.next(&key);
    }
    open.closed = true;
}

/// Closes a lane whose task ended without closing it (a panic while storing): its waiting
/// messages are dropped unanswered (the broker hands them over again), and the device's next
/// message opens a new lane rather than waiting behind a task that is gone.
struct OpenLane<'a> {
    lanes: &'a Lanes,
    key: &'a [u8],
    closed: bool,
}

impl Drop for OpenLane<'_> {
    fn drop(&mut self) {
        if !self.closed {
            let mut waiting = self
                .lanes
                .waiting
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            waiting.remove(self.key);
        }
    }
}

/// Messages of one device to their outcomes, each handed back to the driver to report and
/// acknowledge as soon as its own is final.
async fn handle(ctx: &Arc<Ctx>, group: Vec<Taken>) {
    let started = Instant::now();
    ctx.state.metrics().mqtt_groups.inc();
    let mut wait = Duration::from_millis(50);
    let mut attempts = 0u32;
    let mut group: Vec<Option<Taken>> = group.into_iter().map(Some).collect();
    let mut pending: Vec<usize> = (0..group.len()).collect();
    // The device and the firmware its newest stored message reported, for the release notice.
    let mut notice: Option<(Device, Option<String>)> = None;
    while !pending.is_empty() {
        let processed = {
            let publishes: Vec<&Publish> = pending
                .iter()
                .filter_map(|&i| group.get(i).and_then(Option::as_ref).map(|t| &t.publish))
                .collect();
            message::process_many(&ctx.state, &ctx.devices, &publishes).await
        };
        let mut again = Vec::new();
        for (i, p) in pending.iter().zip(processed) {
            if matches!(p.outcome, Outcome::Transient) {
                again.push(*i);
            } else {
                // Final: answered now, not after its group's slower messages.
                answer_final(ctx, &mut group, &mut notice, *i, p, started);
            }
        }
        pending = again;
        if pending.is_empty() {
            break;
        }
        // Not acknowledged while the store is away; given up only when stopping (the broker
        // hands them over again after the restart).
        if ctx.stopping.load(Ordering::SeqCst) {
            for _ in &pending {
                ctx.state.metrics().mqtt_message("abandoned");
            }
            break;
        }
        attempts += 1;
        // The store answers, yet these messages keep failing: they are the problem, and
        // retrying them for ever would hold their permits (and, with enough such, the bridge).
        if attempts >= MAX_ATTEMPTS_WHILE_STORE_ANSWERS
            && ctx.state.store().api_keys().await.is_ok()
        {
            tracing::error!(
                attempts,
                messages = pending.len(),
                "mqtt: messages keep failing while the store answers; refused and acknowledged"
            );
            for i in pending.drain(..) {
                let refused = message::Processed::refused_as_internal();
                answer_final(ctx, &mut group, &mut notice, i, refused, started);
            }
            break;
        }
        if attempts.is_power_of_two() {
            tracing::warn!(attempts, "mqtt: storing a message failed; retrying");
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(Duration::from_secs(5));
    }
    // Abandoned while stopping: dropped unanswered (the broker hands them over again).
    drop(group);
    // Off the lane: publishing the notice may wait for the publishing connection, and the
    // device's next messages must not wait for it.
    if let Some((device, firmware)) = notice {
        let state = ctx.state.clone();
        tokio::spawn(async move {
            crate::mqtt::updates::notify(&state, &device, firmware.as_deref()).await;
        });
    }
}

/// Answers message `i` of `group`, whose outcome is final, and notes the firmware its device
/// reported when stored (the newest message that reported one counts).
fn answer_final(
    ctx: &Ctx,
    group: &mut [Option<Taken>],
    notice: &mut Option<(Device, Option<String>)>,
    i: usize,
    processed: message::Processed,
    started: Instant,
) {
    if let (Outcome::Stored(o), Some(device)) = (&processed.outcome, &processed.device) {
        let firmware = o
            .firmware
            .clone()
            .or_else(|| notice.take().and_then(|(_, f)| f));
        *notice = Some((device.clone(), firmware));
    }
    if let Some(taken) = group.get_mut(i).and_then(Option::take) {
        answer(ctx, taken, processed, started);
    }
}

/// Reports one message's outcome on the device's results topic and acknowledges it, then
/// lets the next message in (its permits) and a stop go on (its ticket).
fn answer(ctx: &Ctx, taken: Taken, processed: message::Processed, started: Instant) {
    let Taken {
        publish,
        epoch,
        permits,
        ticket,
    } = taken;
    let message::Processed { outcome, kind, .. } = processed;
    let metrics = ctx.state.metrics();
    metrics.mqtt_message(match &outcome {
        Outcome::Stored(_) => "stored",
        Outcome::Duplicate => "duplicate",
        Outcome::Rejected(r) => r.label(),
        Outcome::Ignored | Outcome::Transient => "ignored",
    });
    if let (Some(body), Ok(topic)) = (
        message::result_body(&outcome, kind),
        std::str::from_utf8(&publish.topic),
    ) && let Some(device) = topics::device_of_events(topic)
    {
        // The device's own correlation data and batch id, echoed so it can match the result.
        let properties = publish.properties.as_ref().map(|p| PublishProperties {
            correlation_data: p.correlation_data.clone(),
            user_properties: p
                .user_properties
                .iter()
                .filter(|(k, _)| k == "batch-id")
                .cloned()
                .collect(),
            content_type: Some("application/json".to_owned()),
            ..Default::default()
        });
        let _ = ctx.outbox.send(Out::Result {
            topic: topics::results(device),
            body,
            properties,
        });
    }
    if publish.qos != QoS::AtMostOnce {
        // Only what an acknowledgement needs, not the payload.
        let mut ack = Publish::new("", publish.qos, Vec::new(), None);
        ack.pkid = publish.pkid;
        let _ = ctx.outbox.send(Out::Ack { ack, epoch });
    }
    metrics
        .mqtt_commit_seconds
        .observe(started.elapsed().as_secs_f64());
    drop(ticket);
    drop(permits);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn taken(topic: &str, payload: usize) -> Taken {
        let mut publish = Publish::new(topic, QoS::AtLeastOnce, vec![b'x'; payload], None);
        publish.pkid = 1;
        let one = Arc::new(Semaphore::new(1)).try_acquire_owned().unwrap();
        let kib = Arc::new(Semaphore::new(1)).try_acquire_owned().unwrap();
        Taken {
            publish,
            epoch: 1,
            permits: (one, kib),
            ticket: Arc::new(BridgeStatus::default()).take(),
        }
    }

    #[test]
    fn a_device_s_messages_wait_behind_its_lane_and_leave_in_bounded_groups() {
        let lanes = Lanes::default();
        let (key, _first) = lanes
            .enter(taken("a", 10))
            .expect("an idle device opens a lane");
        for _ in 0..70 {
            assert!(lanes.enter(taken("a", 10)).is_none(), "a busy lane queues");
        }
        assert!(
            lanes.enter(taken("b", 10)).is_some(),
            "another device has its own lane"
        );
        assert_eq!(lanes.next(&key).len(), MAX_MERGED);
        assert_eq!(lanes.next(&key).len(), 70 - MAX_MERGED);
        assert!(lanes.next(&key).is_empty(), "an empty lane closes");
        assert!(
            lanes.enter(taken("a", 10)).is_some(),
            "a closed lane opens again"
        );
    }

    #[test]
    fn a_group_holds_at_most_a_mebibyte_but_a_larger_message_goes_alone() {
        let lanes = Lanes::default();
        let (key, _first) = lanes.enter(taken("a", 1)).unwrap();
        let half = MAX_MERGED_BYTES / 2;
        for size in [half, half, 1, MAX_MERGED_BYTES * 2] {
            assert!(lanes.enter(taken("a", size)).is_none());
        }
        assert_eq!(lanes.next(&key).len(), 2, "two halves fill a group");
        assert_eq!(
            lanes.next(&key).len(),
            1,
            "the small one alone: the next is too big"
        );
        assert_eq!(
            lanes.next(&key).len(),
            1,
            "a message above the bound still goes"
        );
    }

    #[test]
    fn a_lane_whose_task_dies_is_closed_for_the_next_message() {
        let lanes = Lanes::default();
        let (key, _first) = lanes.enter(taken("a", 1)).unwrap();
        assert!(lanes.enter(taken("a", 1)).is_none());
        drop(OpenLane {
            lanes: &lanes,
            key: &key,
            closed: false,
        });
        assert!(
            lanes.enter(taken("a", 1)).is_some(),
            "the device's next message opens a new lane"
        );
    }
}
