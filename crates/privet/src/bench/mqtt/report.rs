//! What `privet bench mqtt` prints: both rates, the batched and backlog figures, the one
//! `ratio` line and the targets.

use super::broker::{BROKER_IN_FLIGHT, Broker};
use super::timing::Timed;
use super::{Backlog, queue_bound};
use crate::bench::MqttBenchArgs;
use crate::bench::output::{print_ratio, rate_target, verdict};
use crate::bench::procfs::mib;
use crate::simulate::thousands;
use privet_server::mqtt::topics;

/// DESIGN.md: Privet's one-event messages per second at least this share of Mosquitto's own
/// pub→sub rate for the same messages…
const TARGET_RATIO: f64 = 0.6;
/// …this many events per second in 100-event messages…
const TARGET_EVENTS_RATE: f64 = 100_000.0;
/// …and this process (Privet and the idle publishers) at most this resident while it drains
/// a backlog.
const TARGET_RSS: u64 = 300 * 1024 * 1024;

/// What the report shows.
pub(super) struct Report<'a> {
    /// The broker used.
    pub(super) broker: &'a Broker,
    /// `mosquitto version …` of the run's own broker.
    pub(super) version: Option<String>,
    /// `; on PostgreSQL …`, or nothing on SQLite.
    pub(super) on: String,
    /// Households the devices are in.
    pub(super) households: usize,
    /// One-event messages through Mosquitto alone.
    pub(super) baseline: Timed,
    /// One-event messages through Privet.
    pub(super) single: Timed,
    /// Groups of one device's messages those were stored in.
    pub(super) single_groups: u64,
    /// Events in messages of --message-events through Privet.
    pub(super) batched: Timed,
    /// The backlog, when measured.
    pub(super) backlog: Option<Backlog>,
}

/// Prints the report on stdout.
pub(super) fn report(args: &MqttBenchArgs, r: &Report<'_>) {
    let store = match r.on.strip_prefix("; ") {
        Some(pg) => format!("Privet {pg}"),
        None => "Privet on SQLite".to_owned(),
    };
    println!(
        "privet bench mqtt — {} thermostats in {} households over {} publisher connections (QoS 1, ≤ {} in flight each), {} cores; {store}",
        thousands(args.devices as u64),
        r.households,
        args.publishers,
        args.in_flight,
        std::thread::available_parallelism().map_or(0, usize::from),
    );
    match &r.broker.local {
        Some(local) => println!(
            "broker    {} of the run's own on 127.0.0.1:{}, anonymous; max_inflight_messages {BROKER_IN_FLIGHT} and max_queued_messages {} (raised so the broker is not the limit){}",
            r.version.as_deref().unwrap_or("mosquitto"),
            local.port(),
            thousands(queue_bound(args)),
            if args.backlog > 0 {
                "; persistence on"
            } else {
                ""
            },
        ),
        None => println!(
            "broker    {} (given; its own limits apply)",
            r.broker.url.redacted()
        ),
    }
    let per_s = |t: &Timed| thousands(t.rate().round() as u64);
    println!(
        "mosquitto {} one-event messages in {:.2} s = {} messages/s — published → received by a plain QoS 1 subscriber on {} (Receive Maximum {}; in 3 rounds, alternating with Privet's)",
        thousands(r.baseline.count),
        r.baseline.elapsed.as_secs_f64(),
        per_s(&r.baseline),
        topics::shared_events_filter(),
        args.receive_maximum,
    );
    println!(
        "          {}",
        r.baseline.cpu("this process (publishers, subscriber)")
    );
    println!(
        "privet    {} one-event messages in {:.2} s = {} messages/s — published → durable (the bridge on the same subscription, Receive Maximum {})",
        thousands(r.single.count),
        r.single.elapsed.as_secs_f64(),
        per_s(&r.single),
        args.receive_maximum,
    );
    println!(
        "          {}",
        r.single.cpu("this process (publishers, Privet)")
    );
    println!(
        "          stored in {} groups of one device's messages, {:.1} messages each on average (a device's messages that arrive while its earlier ones are being stored are stored together)",
        thousands(r.single_groups),
        r.single.count as f64 / r.single_groups.max(1) as f64,
    );
    let messages = r.batched.count.div_ceil(args.message_events);
    println!(
        "batched   {} events in {} messages of {} in {:.2} s = {} events/s end to end ({} messages/s)",
        thousands(r.batched.count),
        thousands(messages),
        args.message_events,
        r.batched.elapsed.as_secs_f64(),
        per_s(&r.batched),
        thousands((messages as f64 / r.batched.elapsed.as_secs_f64().max(1e-9)).round() as u64),
    );
    println!(
        "          {}",
        r.batched.cpu("this process (publishers, Privet)")
    );
    match &r.backlog {
        Some(b) => {
            println!(
                "backlog   {} events in {} messages of {} queued by the broker in {:.2} s while the bridge was stopped{} (measured first, before the phases above)",
                thousands(b.events),
                thousands(b.messages),
                args.message_events,
                b.published.as_secs_f64(),
                b.broker_rss.map_or_else(String::new, |rss| format!(
                    "; mosquitto then resident {}",
                    mib(rss)
                )),
            );
            println!(
                "          drained in {:.2} s = {} events/s once the bridge started again; this process's peak RSS {} (before {})",
                b.drain.elapsed.as_secs_f64(),
                per_s(&b.drain),
                mib(b.drain.peak_rss),
                b.idle_rss.map_or_else(|| "unknown".to_owned(), mib),
            );
            println!(
                "          {}",
                b.drain.cpu("this process (Privet, idle publishers)")
            );
        }
        None => println!(
            "backlog   not measured (--backlog 1000000 drains a million events queued by the broker)"
        ),
    }
    let ratio = r.single.rate() / r.baseline.rate().max(1e-9);
    print_ratio("privet / mosquitto one-event messages/s", ratio, 2);
    let rss = r
        .backlog
        .as_ref()
        .map_or("not measured", |b| verdict(b.drain.peak_rss <= TARGET_RSS));
    println!(
        "targets   one-event messages ≥ {TARGET_RATIO}× Mosquitto's: {}; messages of {} {}; peak RSS draining a backlog ≤ {}: {rss}",
        verdict(ratio >= TARGET_RATIO),
        args.message_events,
        rate_target(r.batched.rate(), TARGET_EVENTS_RATE, "events"),
        mib(TARGET_RSS),
    );
}
