//! Timing a phase of `privet bench mqtt`: waiting on a count with a deadline on progress, and
//! the CPU time this process and the broker spent meanwhile.

use super::broker::Broker;
use super::clients::Fleet;
use crate::bench::ingest::cpu_between;
use crate::bench::procfs::{Proc, RssSampler, mib};
use crate::simulate::thousands;
use anyhow::bail;
use indicatif::ProgressBar;
use std::time::{Duration, Instant};

/// A phase that makes no progress this long has failed.
const STALL: Duration = Duration::from_secs(30);
/// How often progress is read while waiting.
const POLL: Duration = Duration::from_millis(1);
/// How often this process's resident memory is read during a phase.
const RSS_EVERY: Duration = Duration::from_millis(20);

/// Waits until `progress()` reaches `target`, showing it on `bar`; fails when `check()`
/// names a problem or nothing has moved for [`STALL`].
pub(super) async fn wait_for(
    what: &str,
    target: u64,
    bar: &ProgressBar,
    mut progress: impl FnMut() -> u64,
    mut check: impl FnMut() -> Option<String>,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let (mut last, mut moved) = (0, Instant::now());
    loop {
        let n = progress();
        bar.set_position(n.min(target));
        if n >= target {
            return Ok(());
        }
        if let Some(why) = check() {
            bail!(
                "{what}: {} of {} after {:.1} s; {why}",
                thousands(n),
                thousands(target),
                started.elapsed().as_secs_f64()
            );
        }
        if n != last {
            (last, moved) = (n, Instant::now());
        } else if moved.elapsed() >= STALL {
            bail!(
                "{what}: only {} of {} after {:.1} s, none more in the last {} s",
                thousands(n),
                thousands(target),
                started.elapsed().as_secs_f64(),
                STALL.as_secs()
            );
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Waits until the broker has acknowledged every message published so far.
pub(super) async fn all_acked(fleet: &Fleet) -> anyhow::Result<()> {
    let (_, sent) = fleet.acked();
    wait_for(
        "messages the broker acknowledged",
        sent,
        &ProgressBar::hidden(),
        || fleet.acked().0,
        || fleet.failure(),
    )
    .await
}

/// One timed phase: how many went through, in how long, and the CPU time spent meanwhile.
pub(super) struct Timed {
    /// Messages or events.
    pub(super) count: u64,
    /// From the first publish to the last one received or stored.
    pub(super) elapsed: Duration,
    /// This process: the publishers, and the subscriber or Privet.
    this_cpu: Option<Duration>,
    /// The run's own broker.
    broker_cpu: Option<Duration>,
    /// This process's highest resident memory seen meanwhile.
    pub(super) peak_rss: u64,
}

impl Timed {
    /// `earlier` and `more` as one phase: counts, times and CPU added, the higher peak.
    pub(super) fn sum(earlier: Option<Timed>, more: Timed) -> Timed {
        let Some(a) = earlier else { return more };
        let add = |x: Option<Duration>, y: Option<Duration>| Some(x? + y?);
        Timed {
            count: a.count + more.count,
            elapsed: a.elapsed + more.elapsed,
            this_cpu: add(a.this_cpu, more.this_cpu),
            broker_cpu: add(a.broker_cpu, more.broker_cpu),
            peak_rss: a.peak_rss.max(more.peak_rss),
        }
    }

    /// Per second.
    pub(super) fn rate(&self) -> f64 {
        self.count as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// `CPU: this process 1.20 s, mosquitto 0.80 s, of 4.00 s on 2 cores; peak RSS …`.
    pub(super) fn cpu(&self, this: &str) -> String {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let secs = |d: Option<Duration>| {
            d.map_or("unknown".to_owned(), |d| {
                format!("{:.2} s", d.as_secs_f64())
            })
        };
        let broker = self.broker_cpu.map_or_else(String::new, |_| {
            format!(", mosquitto {}", secs(self.broker_cpu))
        });
        format!(
            "CPU: {this} {}{broker}, of {:.2} s on {cores} cores; this process's peak RSS {}",
            secs(self.this_cpu),
            self.elapsed.as_secs_f64() * cores as f64,
            mib(self.peak_rss)
        )
    }
}

/// Times `body` (which publishes and waits until all went through), with the CPU time spent
/// and this process's peak resident memory meanwhile (sampled, and `VmHWM` reset first where
/// the kernel allows, so the peak is the phase's own).
pub(super) async fn timed<F>(broker: &Broker, count: u64, body: F) -> anyhow::Result<Timed>
where
    F: AsyncFnOnce() -> anyhow::Result<()>,
{
    let reset = Proc::SelfProcess.reset_peak_rss();
    let sampler = RssSampler::start(Proc::SelfProcess, RSS_EVERY);
    let (this0, broker0) = (Proc::SelfProcess.cpu(), broker.cpu());
    let started = Instant::now();
    let outcome = body().await;
    let elapsed = started.elapsed();
    let (this1, broker1) = (Proc::SelfProcess.cpu(), broker.cpu());
    let mut peak_rss = sampler.stop().await;
    outcome?;
    if reset {
        peak_rss = peak_rss.max(Proc::SelfProcess.peak_rss().unwrap_or(0));
    }
    Ok(Timed {
        count,
        elapsed,
        this_cpu: cpu_between(this0, this1),
        broker_cpu: cpu_between(broker0, broker1),
        peak_rss,
    })
}
