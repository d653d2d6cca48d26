//! Driving a fleet: each device sends batches of its events to `POST /v1/ingest`, paced so the
//! whole fleet sends the requested number of events per second.

use super::admin_api::{base_url, http_client};
use super::events::EventGen;
use super::summary::{IngestReply, Summary};
use anyhow::ensure;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use privet_manifest::Manifest;
use serde_json::Value;
use std::fmt;
use std::io::IsTerminal;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::Instant;

/// Most events in one batch by default.
pub(crate) const DEFAULT_MAX_BATCH: usize = 50;

/// A device the simulator drives.
pub(crate) struct SimDevice {
    /// Its bearer token (never printed).
    pub(crate) token: String,
    /// Its product's manifest.
    pub(crate) manifest: Arc<Manifest>,
    /// Members its member-stream events are about: one for a personal device, the household's
    /// members otherwise; with none, member streams are not sent.
    pub(crate) members: Vec<String>,
}

/// Shows the product and member count, never the token.
impl fmt::Debug for SimDevice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimDevice")
            .field("token", &"<redacted>")
            .field("product", &self.manifest.product.id.value.as_str())
            .field("members", &self.members.len())
            .finish()
    }
}

/// How a fleet runs.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FleetOptions {
    /// Events per second over the whole fleet.
    pub(crate) rate: f64,
    /// How long; forever when `None`.
    pub(crate) duration: Option<Duration>,
    /// Show a progress bar on stderr (only when it is a terminal).
    pub(crate) progress: bool,
    /// Most events in one batch; a device batches at most a second of its events.
    pub(crate) max_batch: usize,
    /// Seed for the generated values.
    pub(crate) seed: u64,
}

/// Runs `devices` against the server at `url` at `rate` events per second in total, for
/// `duration` or forever; stops cleanly when its task is aborted.
pub(crate) async fn run_fleet(
    url: &str,
    devices: Vec<SimDevice>,
    rate: f64,
    duration: Option<Duration>,
    progress: bool,
) -> anyhow::Result<Summary> {
    let options = FleetOptions {
        rate,
        duration,
        progress,
        max_batch: DEFAULT_MAX_BATCH,
        seed: fastrand::u64(..),
    };
    run_fleet_with(url, devices, &options, std::future::pending()).await
}

/// One device's pacing: a batch of `batch` events every `interval`.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Pace {
    batch: usize,
    interval: Duration,
}

/// Longest pause between one device's batches: below this pace a simulation shows nothing.
const MAX_INTERVAL: Duration = Duration::from_secs(3_600);

/// Splits the fleet's rate evenly: each device sends `rate / n` events per second in batches
/// of about a second's worth, capped at `max_batch`, at least one; `None` when that pace is
/// slower than one batch an hour per device.
fn pace(rate: f64, devices: usize, max_batch: usize) -> Option<Pace> {
    let per_device = rate / devices.max(1) as f64;
    let batch = (per_device.round() as usize).clamp(1, max_batch.max(1));
    let interval = Duration::try_from_secs_f64(batch as f64 / per_device).ok()?;
    (interval <= MAX_INTERVAL).then_some(Pace { batch, interval })
}

/// [`run_fleet`] with every option; `stop` ends the run early (requests in flight finish).
pub(crate) async fn run_fleet_with(
    url: &str,
    devices: Vec<SimDevice>,
    options: &FleetOptions,
    stop: impl Future<Output = ()>,
) -> anyhow::Result<Summary> {
    ensure!(
        options.rate.is_finite() && options.rate > 0.0,
        "the rate must be a positive number of events per second"
    );
    let mut gens: Vec<(String, EventGen)> = devices
        .into_iter()
        .enumerate()
        .map(|(i, d)| {
            let seed = options.seed.wrapping_add(i as u64);
            (d.token, EventGen::new(d.manifest, d.members, seed))
        })
        .collect();
    gens.retain(|(_, g)| g.can_send());
    ensure!(!gens.is_empty(), "no device has a stream it can send");

    let Some(pace) = pace(options.rate, gens.len(), options.max_batch) else {
        anyhow::bail!(
            "a rate of {} events/s over {} devices is under one batch an hour per device; raise --rate",
            options.rate,
            gens.len()
        );
    };
    let endpoint = format!("{}/v1/ingest", base_url(url));
    let client = http_client()?;
    let bar = progress_bar(options);
    let summary = Arc::new(Mutex::new(Summary::default()));
    let start = Instant::now();
    let deadline = options.duration.map(|d| start + d);
    let mut offsets = fastrand::Rng::with_seed(options.seed);
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut tasks = JoinSet::new();
    for (token, events) in gens {
        // Devices start spread over one interval rather than all at once.
        let first = start + pace.interval.mul_f64(offsets.f64());
        let device = Device {
            token,
            events,
            client: client.clone(),
            endpoint: endpoint.clone(),
            summary: summary.clone(),
            bar: bar.clone(),
            stop: stop_rx.clone(),
        };
        tasks.spawn(device.run(first, deadline, pace));
    }
    tokio::pin!(stop);
    let mut stopping = false;
    loop {
        tokio::select! {
            joined = tasks.join_next() => if joined.is_none() { break },
            () = &mut stop, if !stopping => {
                stopping = true;
                let _ = stop_tx.send(true);
            }
        }
    }
    bar.finish_and_clear();
    let mut out = summary.lock().map(|s| s.clone()).unwrap_or_default();
    out.elapsed = start.elapsed();
    Ok(out)
}

fn progress_bar(options: &FleetOptions) -> ProgressBar {
    if !options.progress || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = match options.duration {
        Some(d) => {
            let total = (options.rate * d.as_secs_f64()).round() as u64;
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            if let Ok(style) = ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} events ({per_sec}) {msg}",
            ) {
                bar.set_style(style);
            }
            bar
        }
        None => {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            if let Ok(style) = ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {pos} events ({per_sec}) {msg}",
            ) {
                bar.set_style(style);
            }
            bar
        }
    };
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// One simulated device's loop.
struct Device {
    token: String,
    events: EventGen,
    client: reqwest::Client,
    endpoint: String,
    summary: Arc<Mutex<Summary>>,
    bar: ProgressBar,
    stop: watch::Receiver<bool>,
}

impl Device {
    async fn run(mut self, first: Instant, deadline: Option<Instant>, pace: Pace) {
        let mut next = first;
        loop {
            if deadline.is_some_and(|d| next >= d) {
                break;
            }
            tokio::select! {
                () = tokio::time::sleep_until(next) => {}
                _ = self.stop.changed() => break,
            }
            self.send(pace.batch).await;
            next += pace.interval;
            // After a stall (a slow server), carry on at the pace rather than burst to catch up.
            let now = Instant::now();
            if next + pace.interval < now {
                next = now;
            }
        }
    }

    async fn send(&mut self, batch: usize) {
        let now = jiff::Timestamp::now();
        let events: Vec<Value> = (0..batch)
            .filter_map(|_| self.events.next(now).map(|e| e.json))
            .collect();
        let n = events.len() as u64;
        let body = match serde_json::to_vec(&Value::Array(events)) {
            Ok(b) => b,
            Err(_) => return,
        };
        let started = Instant::now();
        let resp = self
            .client
            .post(&self.endpoint)
            .bearer_auth(&self.token)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await;
        let outcome = match resp {
            Ok(r) if r.status() == reqwest::StatusCode::OK => {
                let reply = r.json::<IngestReply>().await;
                Ok((reply.ok(), started.elapsed()))
            }
            Ok(r) => {
                let status = r.status().as_u16();
                // Read the body so the connection can be reused.
                let _ = r.bytes().await;
                Err(Some((status, started.elapsed())))
            }
            Err(_) => Err(None),
        };
        if let Ok(mut s) = self.summary.lock() {
            match outcome {
                Ok((Some(reply), latency)) => s.ok(n, &reply, latency),
                // A 200 whose body is not the documented answer.
                Ok((None, latency)) => s.status(n, 200, latency),
                Err(Some((status, latency))) => s.status(n, status, latency),
                Err(None) => s.transport_error(n),
            }
            self.bar.set_message(s.progress_line());
        }
        self.bar.inc(n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_is_split_over_devices_in_batches_of_about_a_second() {
        let p = pace(1_000.0, 10, 50).unwrap();
        assert_eq!(p.batch, 50);
        assert_eq!(p.interval, Duration::from_millis(500));
        let p = pace(20.0, 5, 50).unwrap();
        assert_eq!(p.batch, 4);
        assert_eq!(p.interval, Duration::from_secs(1));
        let p = pace(10.0, 100, 50).unwrap();
        assert_eq!(p.batch, 1);
        assert_eq!(p.interval, Duration::from_secs(10));
    }

    #[test]
    fn a_rate_too_low_to_pace_is_refused_not_a_panic() {
        assert_eq!(pace(1e-20, 10, 50), None);
        assert_eq!(pace(1.0 / 7_200.0, 1, 50), None);
        assert!(pace(1.0 / 3_600.0, 1, 50).is_some());
    }
}
