//! The broker of a `privet bench mqtt` run: a Mosquitto of its own on 127.0.0.1 (anonymous,
//! with its QoS 1 window and queues raised out of the way), or the one `--mqtt` names.

use super::queue_bound;
use crate::bench::MqttBenchArgs;
use crate::bench::procfs::Proc;
use anyhow::{Context, anyhow};
use privet_server::mqtt::BrokerUrl;
use privet_server::mqtt::local_broker::{LocalBroker, LocalBrokerOptions};
use std::time::Duration;

/// Mosquitto's `max_inflight_messages` on the run's own broker (its default, 20, would cap
/// each publisher's QoS 1 window, making the broker the limit of both halves).
pub(super) const BROKER_IN_FLIGHT: u16 = 1_000;

/// The broker of the run: a Mosquitto of its own, or the one `--mqtt` names.
pub(super) struct Broker {
    /// Where it is.
    pub(super) url: BrokerUrl,
    /// The run's own; killed when dropped.
    pub(super) local: Option<LocalBroker>,
    /// Its process, for its CPU time and memory.
    pub(super) proc: Option<Proc>,
}

impl Broker {
    /// Starts the run's own, or parses `--mqtt`.
    pub(super) async fn start(args: &MqttBenchArgs) -> anyhow::Result<Broker> {
        if let Some(url) = &args.mqtt {
            let url = BrokerUrl::parse(url).map_err(|e| anyhow!("--mqtt: {e}"))?;
            return Ok(Broker {
                url,
                local: None,
                proc: None,
            });
        }
        let local = LocalBroker::start(LocalBrokerOptions {
            // A backlog is queued for the stopped bridge's session, kept as it would be on a
            // broker that must survive its own restart.
            persistence: args.backlog > 0,
            max_queued_messages: Some(queue_bound(args)),
            extra_conf: format!("max_inflight_messages {BROKER_IN_FLIGHT}"),
            ..LocalBrokerOptions::default()
        })
        .await
        .context(
            "cannot start a Mosquitto of the run's own (install mosquitto, or give --mqtt URL)",
        )?;
        let url = BrokerUrl::parse(&local.url(None))?;
        let proc = broker_pid(local.dir()).map(Proc::Pid);
        Ok(Broker {
            url,
            local: Some(local),
            proc,
        })
    }

    /// CPU time of the run's own broker so far.
    pub(super) fn cpu(&self) -> Option<Duration> {
        self.proc.and_then(Proc::cpu)
    }
}

/// The process running `dir/mosquitto.conf`.
fn broker_pid(dir: &std::path::Path) -> Option<u32> {
    let conf = dir.join("mosquitto.conf");
    let needle = conf.as_os_str().as_encoded_bytes();
    std::fs::read_dir("/proc")
        .ok()?
        .flatten()
        .find_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let cmdline = std::fs::read(entry.path().join("cmdline")).ok()?;
            cmdline
                .windows(needle.len())
                .any(|w| w == needle)
                .then_some(pid)
        })
}

/// `mosquitto version 2.0.11`, as the binary the local broker runs says.
pub(super) async fn mosquitto_version() -> Option<String> {
    let binary = std::env::var_os("PRIVET_MOSQUITTO")
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "mosquitto".into());
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(binary)
            .arg("-h")
            .stdin(std::process::Stdio::null())
            .output()
    })
    .await
    .ok()?
    .ok()?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.lines()
        .find(|l| l.starts_with("mosquitto version"))
        .map(str::to_owned)
}
