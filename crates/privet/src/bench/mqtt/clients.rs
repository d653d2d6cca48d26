//! The MQTT clients of `privet bench mqtt`: the simulated devices' publisher connections
//! (thermostat events at QoS 1, a bounded number in flight on each) and the baseline's plain
//! subscriber on the bridge's shared subscription, both on rumqttc v5 as the bridge is.

use anyhow::{Context, bail};
use jiff::{SignedDuration, Timestamp};
use privet_server::mqtt::{BrokerUrl, TlsSettings, topics};
use rumqttc::v5::mqttbytes::QoS;
use rumqttc::v5::mqttbytes::v5::{Packet, PubAckReason, SubscribeReasonCode};
use rumqttc::v5::{AsyncClient, Event};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::{JoinHandle, JoinSet};

/// How long a connection (and a subscription) may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// Largest packet a bench client takes: as the bridge's default, so big batches pass.
const MAX_PACKET: u32 = 64 * 1024 * 1024;

/// The first error a client's connection met, for the phase waiting on it to report.
type Failure = Arc<Mutex<Option<String>>>;

fn fail(failure: &Failure, what: String) {
    if let Ok(mut f) = failure.lock()
        && f.is_none()
    {
        *f = Some(what);
    }
}

fn failure_of(failure: &Failure) -> Option<String> {
    failure.lock().ok().and_then(|f| f.clone())
}

/// A client id no other run uses at the same time: `privet-bench-<pid>-<what>`.
pub(super) fn client_id(what: &str) -> String {
    format!("privet-bench-{}-{what}", std::process::id())
}

/// One thermostat message: a JSON array of `events` climate readings, the `n`-th of the run
/// taken `n` milliseconds after `base` (so every payload differs, and no two are taken for a
/// redelivery of one another).
pub(super) fn payload(base: Timestamp, first: u64, events: u64) -> Vec<u8> {
    let mut s = String::with_capacity(usize::try_from(events).unwrap_or(0) * 100 + 2);
    s.push('[');
    for n in first..first + events {
        if n > first {
            s.push(',');
        }
        let ms = i64::try_from(n).unwrap_or(i64::MAX);
        let ts = base
            .checked_add(SignedDuration::from_millis(ms))
            .unwrap_or(base);
        let temperature = 18.0 + (n % 60) as f64 / 10.0;
        let _ = write!(
            s,
            r#"{{"stream":"climate","ts":"{ts}","data":{{"temperature_c":{temperature:.1},"heating_minutes":{}}}}}"#,
            n % 61
        );
    }
    s.push(']');
    s.into_bytes()
}

/// One publisher connection and the devices it publishes for.
struct Publisher {
    client: AsyncClient,
    topics: Arc<[String]>,
    acked: Arc<AtomicU64>,
    failure: Failure,
    task: JoinHandle<()>,
}

/// The simulated devices' publisher connections.
pub(super) struct Fleet {
    publishers: Vec<Publisher>,
    /// The time of the run's event 0.
    base: Timestamp,
    /// Events published so far (the next one's number).
    next: AtomicU64,
    /// Messages published so far, each to be acknowledged.
    sent: AtomicU64,
    /// Probes published so far.
    probes: AtomicU64,
}

impl Fleet {
    /// Connects `publishers` clients to `url`, device `d` publishing over connection
    /// `d % publishers`, each with at most `in_flight` messages unacknowledged. Events are
    /// timed from `base` on.
    pub(super) async fn connect(
        url: &BrokerUrl,
        devices: &[String],
        publishers: usize,
        in_flight: u16,
        base: Timestamp,
    ) -> anyhow::Result<Fleet> {
        let mut out = Vec::with_capacity(publishers);
        for k in 0..publishers {
            let mut options =
                url.options(&client_id(&format!("pub-{k}")), &TlsSettings::default())?;
            options
                .set_clean_start(true)
                .set_outgoing_inflight_upper_limit(in_flight.max(1))
                .set_max_packet_size(Some(MAX_PACKET));
            let (client, mut eventloop) = AsyncClient::new(options, usize::from(in_flight.max(1)));
            let (acked, failure) = (Arc::new(AtomicU64::new(0)), Failure::default());
            let (ready_tx, ready_rx) = oneshot::channel();
            let task = tokio::spawn({
                let (acked, failure) = (acked.clone(), failure.clone());
                async move {
                    let mut ready = Some(ready_tx);
                    loop {
                        match eventloop.poll().await {
                            Ok(Event::Incoming(Packet::ConnAck(_))) => {
                                if let Some(tx) = ready.take() {
                                    let _ = tx.send(());
                                }
                            }
                            Ok(Event::Incoming(Packet::PubAck(ack))) => match ack.reason {
                                // No subscriber yet is the broker's business, not a refusal.
                                PubAckReason::Success | PubAckReason::NoMatchingSubscribers => {
                                    acked.fetch_add(1, Ordering::Relaxed);
                                }
                                refused => {
                                    fail(
                                        &failure,
                                        format!("the broker refused a publish ({refused:?})"),
                                    );
                                }
                            },
                            Ok(Event::Outgoing(rumqttc::Outgoing::Disconnect)) => break,
                            Ok(_) => {}
                            Err(e) => {
                                fail(&failure, format!("a publisher's connection failed: {e}"));
                                break;
                            }
                        }
                    }
                }
            });
            match tokio::time::timeout(CONNECT_TIMEOUT, ready_rx).await {
                Ok(Ok(())) => {}
                _ => bail!(
                    "publisher {k} could not connect to {}: {}",
                    url.redacted(),
                    failure_of(&failure).unwrap_or_else(|| "no answer".to_owned())
                ),
            }
            let topics: Vec<String> = devices
                .iter()
                .skip(k)
                .step_by(publishers)
                .map(|d| topics::events(d))
                .collect();
            out.push(Publisher {
                client,
                topics: topics.into(),
                acked,
                failure,
                task,
            });
        }
        Ok(Fleet {
            publishers: out,
            base,
            next: AtomicU64::new(0),
            sent: AtomicU64::new(0),
            probes: AtomicU64::new(0),
        })
    }

    /// Publishes `events` fresh events in messages of `per_message` (the last one shorter if
    /// it must be), message `g` over connection `g % publishers`, each connection cycling
    /// through its devices. Returns the number of messages and a task that ends once every
    /// message is handed to its connection (not yet acknowledged: see [`Fleet::acked`]).
    pub(super) fn publish(
        &self,
        events: u64,
        per_message: u64,
    ) -> (u64, JoinHandle<anyhow::Result<()>>) {
        let per_message = per_message.max(1);
        let messages = events.div_ceil(per_message);
        let (first, base) = (self.next.fetch_add(events, Ordering::Relaxed), self.base);
        self.sent.fetch_add(messages, Ordering::Relaxed);
        let stride = self.publishers.len() as u64;
        let mut set = JoinSet::new();
        for (k, p) in self.publishers.iter().enumerate() {
            let (client, topics) = (p.client.clone(), p.topics.clone());
            set.spawn(async move {
                let mut g = k as u64;
                let mut j = 0;
                while g < messages && !topics.is_empty() {
                    let start = g * per_message;
                    let body = payload(base, first + start, per_message.min(events - start));
                    client
                        .publish(
                            topics[j % topics.len()].clone(),
                            QoS::AtLeastOnce,
                            false,
                            body,
                        )
                        .await
                        .context("a publisher's connection is closed")?;
                    g += stride;
                    j += 1;
                }
                anyhow::Ok(())
            });
        }
        let task = tokio::spawn(async move {
            while let Some(joined) = set.join_next().await {
                joined??;
            }
            Ok(())
        });
        (messages, task)
    }

    /// Publishes a one-event message from the first device, to learn whether the bridge
    /// receives yet. Each probe is a new event (the same one again would be refused as a
    /// redelivery, and a timed phase takes any refusal as a failure).
    pub(super) async fn probe(&self) -> anyhow::Result<()> {
        let p = self.publishers.first().context("no publisher")?;
        let topic = p.topics.first().context("no device")?.clone();
        // The phases' events come after `base`; probes are taken in the hour before it.
        let base = self
            .base
            .checked_sub(SignedDuration::from_hours(1))
            .unwrap_or(self.base);
        let n = self.probes.fetch_add(1, Ordering::Relaxed);
        p.client
            .publish(topic, QoS::AtLeastOnce, false, payload(base, n, 1))
            .await
            .context("a publisher's connection is closed")?;
        self.sent.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Messages the broker acknowledged so far, and how many were published.
    pub(super) fn acked(&self) -> (u64, u64) {
        let acked = self
            .publishers
            .iter()
            .map(|p| p.acked.load(Ordering::Relaxed))
            .sum();
        (acked, self.sent.load(Ordering::Relaxed))
    }

    /// The first failure of any publisher connection.
    pub(super) fn failure(&self) -> Option<String> {
        self.publishers.iter().find_map(|p| failure_of(&p.failure))
    }

    /// Disconnects every publisher.
    pub(super) async fn disconnect(self) {
        for p in self.publishers {
            let _ = p.client.disconnect().await;
            end(p.task).await;
        }
    }
}

/// The baseline's plain subscriber: QoS 1 on the shared subscription the bridge uses,
/// acknowledging each message as soon as it arrives.
pub(super) struct Subscriber {
    url: BrokerUrl,
    client: AsyncClient,
    received: Arc<AtomicU64>,
    failure: Failure,
    task: JoinHandle<()>,
}

impl Subscriber {
    /// Connects with a clean session and `receive_maximum`, subscribes, and waits for the
    /// broker to grant the subscription.
    pub(super) async fn connect(url: &BrokerUrl, receive_maximum: u16) -> anyhow::Result<Self> {
        let mut options = url.options(&client_id("sub"), &TlsSettings::default())?;
        options
            .set_clean_start(true)
            .set_receive_maximum(Some(receive_maximum.max(1)))
            .set_max_packet_size(Some(MAX_PACKET));
        let (client, mut eventloop) = AsyncClient::new(options, 64);
        let filter = topics::shared_events_filter();
        client
            .subscribe(filter.clone(), QoS::AtLeastOnce)
            .await
            .context("cannot request the subscription")?;
        let (received, failure) = (Arc::new(AtomicU64::new(0)), Failure::default());
        let (ready_tx, ready_rx) = oneshot::channel();
        let task = tokio::spawn({
            let (received, failure) = (received.clone(), failure.clone());
            async move {
                let mut ready = Some(ready_tx);
                loop {
                    match eventloop.poll().await {
                        Ok(Event::Incoming(Packet::Publish(_))) => {
                            received.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok(Event::Incoming(Packet::SubAck(ack))) => {
                            let granted = ack
                                .return_codes
                                .iter()
                                .all(|c| matches!(c, SubscribeReasonCode::Success(_)));
                            if let Some(tx) = ready.take() {
                                let _ = tx.send(granted);
                            }
                        }
                        Ok(Event::Outgoing(rumqttc::Outgoing::Disconnect)) => break,
                        Ok(_) => {}
                        Err(e) => {
                            fail(&failure, format!("the subscriber's connection failed: {e}"));
                            break;
                        }
                    }
                }
            }
        });
        match tokio::time::timeout(CONNECT_TIMEOUT, ready_rx).await {
            Ok(Ok(true)) => {}
            Ok(Ok(false)) => bail!(
                "{} refused the subscription to {filter}; its user must be allowed to read it",
                url.redacted()
            ),
            _ => bail!(
                "the subscriber could not subscribe at {}: {}",
                url.redacted(),
                failure_of(&failure).unwrap_or_else(|| "no answer".to_owned())
            ),
        }
        Ok(Subscriber {
            url: url.clone(),
            client,
            received,
            failure,
            task,
        })
    }

    /// Messages received so far.
    pub(super) fn received(&self) -> u64 {
        self.received.load(Ordering::Relaxed)
    }

    /// Its connection's failure, if it failed.
    pub(super) fn failure(&self) -> Option<String> {
        failure_of(&self.failure)
    }

    /// Disconnects, and makes sure the broker let go of its session: a session the broker
    /// still holds keeps its place in the shared subscription and takes (and loses) a share
    /// of the bridge's messages. Closing with messages unread resets the connection, and the
    /// broker may then never read the disconnect; it notices only when it next writes to it.
    pub(super) async fn disconnect(self) {
        let _ = self.client.disconnect().await;
        end(self.task).await;
        forget_session(&self.url, &client_id("sub")).await;
    }
}

/// Waits a little for a client's task to see its disconnect out, then stops it: a subscriber
/// left running would go on taking a share of the messages meant for the bridge.
async fn end(mut task: JoinHandle<()>) {
    if tokio::time::timeout(Duration::from_secs(2), &mut task)
        .await
        .is_err()
    {
        task.abort();
    }
}

/// Ends the session `client_id` left on the broker (its queue, its place in the shared
/// subscription): connects with a clean start, which takes the session over and discards it,
/// and no session expiry, then leaves and waits for the broker to close the connection.
/// Best effort, bounded in time.
pub(super) async fn forget_session(url: &BrokerUrl, client_id: &str) {
    let Ok(mut options) = url.options(client_id, &TlsSettings::default()) else {
        return;
    };
    options.set_clean_start(true);
    let (client, mut eventloop) = AsyncClient::new(options, 4);
    let _ = tokio::time::timeout(CONNECT_TIMEOUT, async {
        let mut asked = false;
        while let Ok(event) = eventloop.poll().await {
            match event {
                Event::Incoming(Packet::ConnAck(_)) if !asked => {
                    asked = client.try_disconnect().is_ok();
                }
                _ => {}
            }
        }
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_are_thermostat_climate_arrays_each_event_its_own_time() {
        let base: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let one: serde_json::Value = serde_json::from_slice(&payload(base, 7, 1)).unwrap();
        assert_eq!(one[0]["stream"], "climate");
        assert_eq!(one[0]["ts"], "2026-01-01T00:00:00.007Z");
        assert_eq!(one[0]["data"]["heating_minutes"], 7);
        assert_eq!(one[0]["data"]["temperature_c"], 18.7);
        let many: Vec<serde_json::Value> = serde_json::from_slice(&payload(base, 0, 100)).unwrap();
        let times: std::collections::BTreeSet<_> =
            many.iter().map(|e| e["ts"].to_string()).collect();
        assert_eq!((many.len(), times.len()), (100, 100));
        assert_ne!(payload(base, 1, 1), payload(base, 2, 1));
    }
}
