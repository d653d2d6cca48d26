//! `privet bench mqtt`: MQTT end to end, on 127.0.0.1. Simulated thermostats publish
//! one-event messages at QoS 1 over a few publisher connections. The baseline is Mosquitto
//! alone carrying them to a plain subscriber on the bridge's shared subscription; then an
//! in-process Privet (SQLite in the run's directory, or the run's PostgreSQL schemas with
//! `--database-url`) bridges as many fresh ones to durable storage, timed from the first
//! publish until its metrics count them all stored. The two alternate in three rounds, so a
//! drift in the machine's speed weighs on both alike. Then 100-event messages and,
//! with `--backlog`, a backlog the broker queues while the bridge is stopped, drained when it
//! starts again, with this process's peak memory meanwhile.

mod broker;
mod clients;
mod privet;
mod report;
mod timing;

use super::MqttBenchArgs;
use super::output::{bar, exit_code};
use super::pg::{self, PgRun};
use super::procfs::Proc;
use super::workspace::Workspace;
use crate::simulate::thousands;
use anyhow::{Context, anyhow, bail, ensure};
use broker::{Broker, mosquitto_version};
use clients::{Fleet, Subscriber};
use indicatif::ProgressBar;
use jiff::{SignedDuration, Timestamp};
use privet::Privet;
use privet_server::mqtt::{self, Bridge, BrokerUrl, MqttConfig, topics};
use report::{Report, report};
use std::process::ExitCode;
use std::time::{Duration, Instant};
use timing::{Timed, all_acked, timed, wait_for};

/// Runs `privet bench mqtt`: checks the arguments, then measures on SQLite or PostgreSQL.
pub(super) async fn run(args: MqttBenchArgs) -> anyhow::Result<ExitCode> {
    ensure!(args.events > 0, "--events must be at least 1");
    ensure!(args.publishers > 0, "--publishers must be at least 1");
    ensure!(
        args.devices >= args.publishers,
        "--devices must be at least --publishers ({})",
        args.publishers
    );
    ensure!(
        (1..=10_000).contains(&args.message_events),
        "--message-events must be between 1 and 10000 (Privet's largest batch)"
    );
    ensure!(args.in_flight > 0, "--in-flight must be at least 1");
    ensure!(
        batched_events(&args) > 0,
        "--batched-events must be at least 1"
    );
    ensure!(
        args.receive_maximum > 0,
        "--receive-maximum must be at least 1"
    );
    match args.database_url.clone() {
        None => run_on(&args, None).await,
        Some(url) => pg::with_run(&url, async |pg| run_on(&args, Some(pg)).await).await,
    }
}

/// Events of the batched phase.
fn batched_events(args: &MqttBenchArgs) -> u64 {
    args.batched_events
        .unwrap_or_else(|| args.events.saturating_mul(10))
}

/// Most messages any client's queue may have to hold: every phase's, should its subscriber
/// fall that far behind (Mosquitto drops QoS 1 messages past `max_queued_messages`).
fn queue_bound(args: &MqttBenchArgs) -> u64 {
    let batched = batched_events(args) + args.backlog;
    args.events + batched.div_ceil(args.message_events) + args.devices as u64 + 1_000
}

/// What the backlog phase measured.
struct Backlog {
    /// Events queued.
    events: u64,
    /// In this many messages.
    messages: u64,
    /// How long publishing them took, to the broker's last acknowledgement.
    published: Duration,
    /// The run's own broker's resident memory with the backlog queued.
    broker_rss: Option<u64>,
    /// This process's resident memory before the drain.
    idle_rss: Option<u64>,
    /// Draining them, with this process's peak memory meanwhile.
    drain: Timed,
}

/// The run, on SQLite or on the run's PostgreSQL schemas.
async fn run_on(args: &MqttBenchArgs, pg: Option<&PgRun>) -> anyhow::Result<ExitCode> {
    let broker = Broker::start(args).await?;
    let measured = measure(args, pg, &broker).await;
    if measured.is_err()
        && let Some(local) = &broker.local
    {
        eprintln!("mosquitto's log ends:\n{}", local.log_tail());
    }
    measured
}

/// Everything but the broker: Privet, the clients, the phases, the report.
async fn measure(
    args: &MqttBenchArgs,
    pg: Option<&PgRun>,
    broker: &Broker,
) -> anyhow::Result<ExitCode> {
    let ws = Workspace::new(args.data.as_deref())?;
    let batched_n = batched_events(args);
    eprintln!(
        "privet bench mqtt: {} one-event messages, then {} events in messages of {}, from {} devices over {} connections via {}; files in {}",
        thousands(args.events),
        thousands(batched_n),
        args.message_events,
        args.devices,
        args.publishers,
        broker.url.redacted(),
        ws.root.display()
    );
    let privet = Privet::start(&ws, pg, args.devices).await?;
    // Every event of the run in the past, a millisecond apart: well within the skew allowed
    // and the product's retention.
    let span = args
        .events
        .saturating_mul(2)
        .saturating_add(batched_n)
        .saturating_add(args.backlog)
        .saturating_add(3_600_000);
    let base = Timestamp::now()
        .checked_sub(SignedDuration::from_millis(
            i64::try_from(span).unwrap_or(i64::MAX).max(86_400_000),
        ))
        .map_err(|e| anyhow!("{e}"))?;
    let fleet = Fleet::connect(
        &broker.url,
        &privet.devices,
        args.publishers,
        args.in_flight,
        base,
    )
    .await?;
    // The bridge is started here, not by `Server::start_mqtt`, to stop it and start it again.
    let cfg = bridge_config(&broker.url, args);

    // (d) first, so this process's memory while draining is the drain's own and not what the
    // one-event phase left in the allocator (threads, connections, fragments).
    let backlog = match args.backlog {
        0 => None,
        events => Some(backlog(args, events, broker, &privet, &fleet, &cfg).await?),
    };

    // (a) and (b), in alternating rounds.
    let (baseline, single, single_groups) =
        one_event_phases(args, broker, &privet, &fleet, &cfg).await?;

    // (c) Events in messages of --message-events.
    let bridge = connect_bridge(&privet, &fleet, &cfg).await?;
    let refused0 = privet.not_stored();
    let check = || fleet.failure().or_else(|| privet.refusals_since(refused0));
    let events0 = privet.events();
    let b = bar(batched_n, "batched");
    let batched = timed(broker, batched_n, async || {
        let (_, publishing) = fleet.publish(batched_n, args.message_events);
        wait_for(
            "events Privet stored",
            batched_n,
            &b,
            || privet.events() - events0,
            check,
        )
        .await
        .with_context(|| privet.describe(&fleet))?;
        publishing.await?
    })
    .await?;
    b.finish_and_clear();
    all_acked(&fleet).await?;

    bridge.shutdown().await;
    fleet.disconnect().await;
    // Leave no session of the run behind (on someone else's broker it would outlive the run).
    clients::forget_session(&broker.url, &cfg.client_id).await;
    let households = privet.households;
    privet.stop().await;
    let on = pg::on(pg).await;
    let version = match broker.local {
        Some(_) => mosquitto_version().await,
        None => None,
    };
    report(
        args,
        &Report {
            broker,
            version,
            on,
            households,
            baseline,
            single,
            single_groups,
            batched,
            backlog,
        },
    );
    Ok(exit_code(true))
}

/// Rounds the one-event phases alternate in: Mosquitto alone, then Privet, each round a
/// third of `--events`. A shared machine's speed drifts by a third over tens of seconds (seen
/// here), and phases run one after the other would each take a different part of the drift;
/// alternating, both take it alike.
const ROUNDS: u64 = 3;

/// Parts (a) and (b) in [`ROUNDS`] alternating rounds, each summed over the rounds; with the
/// groups of one device's messages Privet stored them in.
async fn one_event_phases(
    args: &MqttBenchArgs,
    broker: &Broker,
    privet: &Privet,
    fleet: &Fleet,
    cfg: &MqttConfig,
) -> anyhow::Result<(Timed, Timed, u64)> {
    let mut baseline: Option<Timed> = None;
    let mut single: Option<Timed> = None;
    let mut groups = 0;
    let b = bar(args.events.saturating_mul(2), "one-event");
    for round in 0..ROUNDS {
        let n = args.events / ROUNDS
            + if round + 1 == ROUNDS {
                args.events % ROUNDS
            } else {
                0
            };
        if n == 0 {
            continue;
        }
        let alone = mosquitto_round(args, broker, fleet, n, &b).await?;
        baseline = Some(Timed::sum(baseline, alone));
        let (stored, g) = privet_round(broker, privet, fleet, cfg, n, &b).await?;
        single = Some(Timed::sum(single, stored));
        groups += g;
    }
    b.finish_and_clear();
    match (baseline, single) {
        (Some(baseline), Some(single)) => Ok((baseline, single, groups)),
        _ => bail!("--events must be at least 1"),
    }
}

/// (a) Mosquitto alone: `n` one-event messages to a plain subscriber on the bridge's shared
/// subscription (connected for the round only: it would take a share of Privet's).
async fn mosquitto_round(
    args: &MqttBenchArgs,
    broker: &Broker,
    fleet: &Fleet,
    n: u64,
    b: &ProgressBar,
) -> anyhow::Result<Timed> {
    let devices = args.devices as u64;
    let subscriber = Subscriber::connect(&broker.url, args.receive_maximum).await?;
    let warm = fleet.publish(devices, 1).1;
    let check_sub = || subscriber.failure().or_else(|| fleet.failure());
    wait_for(
        "warm-up messages received",
        devices,
        &ProgressBar::hidden(),
        || subscriber.received(),
        check_sub,
    )
    .await?;
    warm.await??;
    all_acked(fleet).await?;
    let before = subscriber.received();
    let done = b.position();
    let baseline = timed(broker, n, async || {
        let (messages, publishing) = fleet.publish(n, 1);
        wait_for(
            "messages the subscriber received",
            messages,
            &ProgressBar::hidden(),
            || {
                let got = subscriber.received() - before;
                b.set_position(done + got);
                got
            },
            check_sub,
        )
        .await?;
        publishing.await?
    })
    .await?;
    all_acked(fleet).await?;
    subscriber.disconnect().await;
    Ok(baseline)
}

/// (b) Privet: the bridge (connected for the round, its session ended after) stores `n`
/// fresh one-event messages; with the groups it stored them in.
async fn privet_round(
    broker: &Broker,
    privet: &Privet,
    fleet: &Fleet,
    cfg: &MqttConfig,
    n: u64,
    b: &ProgressBar,
) -> anyhow::Result<(Timed, u64)> {
    let bridge = connect_bridge(privet, fleet, cfg).await?;
    let devices = privet.devices.len() as u64;
    let stored0 = privet.stored();
    let warm = fleet.publish(devices, 1).1;
    wait_for(
        "warm-up messages stored",
        devices,
        &ProgressBar::hidden(),
        || privet.stored() - stored0,
        || fleet.failure(),
    )
    .await
    .with_context(|| privet.describe(fleet))?;
    warm.await??;
    all_acked(fleet).await?;
    let (stored0, refused0, groups0) = (privet.stored(), privet.not_stored(), privet.groups());
    let check = || fleet.failure().or_else(|| privet.refusals_since(refused0));
    let done = b.position();
    let single = timed(broker, n, async || {
        let (messages, publishing) = fleet.publish(n, 1);
        wait_for(
            "messages Privet stored",
            messages,
            &ProgressBar::hidden(),
            || {
                let got = privet.stored() - stored0;
                b.set_position(done + got);
                got
            },
            check,
        )
        .await
        .with_context(|| privet.describe(fleet))?;
        publishing.await?
    })
    .await?;
    all_acked(fleet).await?;
    let groups = privet.groups() - groups0;
    bridge.shutdown().await;
    // Its shared subscription must not outlive the round: Mosquitto would queue a share of
    // the next round's messages for it.
    clients::forget_session(&broker.url, &cfg.client_id).await;
    Ok((single, groups))
}

/// The bridge of the run: its own client id and the run's Receive Maximum.
fn bridge_config(url: &BrokerUrl, args: &MqttBenchArgs) -> MqttConfig {
    let mut cfg = MqttConfig::new(url.clone(), clients::client_id("bridge"));
    cfg.receive_maximum = args.receive_maximum;
    cfg
}

/// Starts Privet's bridge and waits until it receives. A start after the first finds the
/// first one's runtime registered with the state and keeps it; only release notices use it,
/// and the run publishes no release.
async fn connect_bridge(
    privet: &Privet,
    fleet: &Fleet,
    cfg: &MqttConfig,
) -> anyhow::Result<Bridge> {
    let bridge = mqtt::start(&privet.state, cfg)
        .await
        .context("Privet's bridge could not connect")?;
    until_subscribed(privet, fleet).await?;
    Ok(bridge)
}

/// Publishes probes until the bridge takes one: it subscribes once connected, from a task of
/// its own, and a message published before that reaches no one.
async fn until_subscribed(privet: &Privet, fleet: &Fleet) -> anyhow::Result<()> {
    let taken = || privet.stored() + privet.not_stored();
    let before = taken();
    for _ in 0..40 {
        fleet.probe().await?;
        let until = Instant::now() + Duration::from_millis(250);
        while Instant::now() < until {
            if taken() > before {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    bail!(
        "Privet's bridge took no message in 10 s; is it subscribed to {}?",
        topics::shared_events_filter()
    )
}

/// Part (d): connects the bridge so the broker keeps a session for it, stops it, publishes
/// `events` in messages of --message-events for the broker to queue, then starts the bridge
/// again with the same client id and times the drain, with this process's peak memory.
/// Leaves the bridge stopped and its session ended.
async fn backlog(
    args: &MqttBenchArgs,
    events: u64,
    broker: &Broker,
    privet: &Privet,
    fleet: &Fleet,
    cfg: &MqttConfig,
) -> anyhow::Result<Backlog> {
    connect_bridge(privet, fleet, cfg).await?.shutdown().await;
    let started = Instant::now();
    let (messages, publishing) = fleet.publish(events, args.message_events);
    let b = bar(messages, "queue");
    let (acked0, _) = fleet.acked();
    wait_for(
        "backlog messages the broker acknowledged",
        acked0 + messages,
        &b,
        || fleet.acked().0,
        || fleet.failure(),
    )
    .await?;
    publishing.await??;
    let published = started.elapsed();
    b.finish_and_clear();
    let broker_rss = broker.proc.and_then(Proc::rss);

    let idle_rss = Proc::SelfProcess.rss();
    let (events0, refused0) = (privet.events(), privet.not_stored());
    let check = || fleet.failure().or_else(|| privet.refusals_since(refused0));
    let b = bar(events, "drain");
    let mut bridge = None;
    let drain = timed(broker, events, async || {
        bridge = Some(
            mqtt::start(&privet.state, cfg)
                .await
                .context("Privet's bridge could not connect again")?,
        );
        wait_for(
            "backlog events Privet stored",
            events,
            &b,
            || privet.events() - events0,
            check,
        )
        .await
        .with_context(|| privet.describe(fleet))
    })
    .await?;
    b.finish_and_clear();
    if let Some(bridge) = bridge {
        bridge.shutdown().await;
    }
    // A fresh session for the phases that follow, with nothing left in it.
    clients::forget_session(&broker.url, &cfg.client_id).await;
    Ok(Backlog {
        events,
        messages,
        published,
        broker_rss,
        idle_rss,
        drain,
    })
}
