//! The Privet under test of `privet bench mqtt`: in this process, so its metrics say at once
//! what it stored, on SQLite in the run's directory or the run's PostgreSQL schemas, with
//! thermostats registered in households.

use super::clients::Fleet;
use crate::backend::{self, Location};
use crate::bench::pg::PgRun;
use crate::bench::server::Backend;
use crate::bench::workspace::Workspace;
use crate::simulate::thousands;
use anyhow::{anyhow, bail};
use privet_crypto::{MasterKey, MasterKeys, os_rng};
use privet_server::metrics::MqttOutcomeLabels;
use privet_server::service::{devices, manifests, subjects};
use privet_server::{AppState, Clock, Config, ServeError, Server};
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The product the simulated devices are: its `climate` stream is about the household and
/// kept for a contract purpose, so every event is admitted and sealed without a consent.
const PRODUCT: &str = "wren-thermostat-2";
/// Every outcome of a message but `stored`: none is expected in a timed phase.
const NOT_STORED: &[&str] = &[
    "duplicate",
    "invalid",
    "too_large",
    "unknown_device",
    "revoked",
    "device_changed",
    "other",
    "ignored",
    "abandoned",
];

/// The Privet under test, in this process, and the devices registered in it.
pub(super) struct Privet {
    /// Its state: the bridge is started on it, and its metrics read.
    pub(super) state: AppState,
    stop: Option<oneshot::Sender<()>>,
    served: JoinHandle<Result<(), ServeError>>,
    /// The registered devices' ids.
    pub(super) devices: Vec<String>,
    /// Households they are in.
    pub(super) households: usize,
}

impl Privet {
    /// Opens the store (SQLite in `ws`, or the run's PostgreSQL schemas), publishes the
    /// example manifests, serves on a free loopback port (so its background jobs run as in
    /// `privet serve`) and registers `devices` thermostats, two to a household.
    pub(super) async fn start(
        ws: &Workspace,
        pg: Option<&PgRun>,
        devices: usize,
    ) -> anyhow::Result<Self> {
        let clock = Clock::system();
        let cx = crate::manifest_cmd::lint_context();
        let local = crate::demo::example_products(&cx)?;
        let opened = match pg.map(PgRun::backend) {
            None => backend::open(&Location::sqlite(ws.server_data())).await?,
            Some(Backend::Postgres {
                url,
                schema,
                keyring_schema,
            }) => {
                // For this run only: whatever the schemas hold is dropped with them afterwards.
                let epochs = MasterKeys::single(MasterKey::generate(&mut os_rng()));
                let mut options = privet_store_postgres::PgOptions::new(url);
                options.schema = schema;
                options.keyring_schema = keyring_schema;
                backend::open_postgres_with(&options, epochs).await?
            }
            Some(Backend::Sqlite(_)) => bail!("a PostgreSQL run named a SQLite backend"),
        };
        let products = manifests::publish(
            opened.store.as_ref(),
            opened.keyring.as_ref(),
            &opened.audit_chain().await?,
            &local,
            &cx,
            "bench",
            clock.now(),
        )
        .await
        .map_err(|e| anyhow!("cannot publish the example manifests: {e}"))?;
        let config = Config {
            listen: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
            retention_interval: Duration::from_secs(3600),
            ..Config::default()
        };
        let server = Server::bind(config, opened.into_parts(products, clock)).await?;
        let state = server.state().clone();
        let (stop, stopped) = oneshot::channel::<()>();
        let served = tokio::spawn(server.run_until(async {
            let _ = stopped.await;
        }));
        let mut privet = Privet {
            state,
            stop: Some(stop),
            served,
            devices: Vec::with_capacity(devices),
            households: 0,
        };
        let state = privet.state.clone();
        let mut household = None;
        for d in 0..devices {
            if d % 2 == 0 {
                let name = format!("Bench home {}", d / 2 + 1);
                household = Some(subjects::create_household(&state, &name, "bench").await?);
                privet.households += 1;
            }
            let registered =
                devices::register(&state, PRODUCT, household.as_ref(), None, "bench").await?;
            privet.devices.push(registered.id.to_string());
        }
        Ok(privet)
    }

    /// The bridge's count of messages with `outcome` so far.
    fn count(&self, outcome: &'static str) -> u64 {
        self.state
            .metrics()
            .mqtt_messages
            .get_or_create(&MqttOutcomeLabels { outcome })
            .get()
    }

    /// Groups of one device's messages the bridge has processed so far.
    pub(super) fn groups(&self) -> u64 {
        self.state.metrics().mqtt_groups.get()
    }

    /// Messages the bridge stored so far.
    pub(super) fn stored(&self) -> u64 {
        self.count("stored")
    }

    /// Messages the bridge took and did not store, so far.
    pub(super) fn not_stored(&self) -> u64 {
        NOT_STORED.iter().map(|o| self.count(o)).sum()
    }

    /// Events stored so far (by any path; only the bridge's run here).
    pub(super) fn events(&self) -> u64 {
        self.state.metrics().events_accepted.get()
    }

    /// Why a phase that expected every message stored cannot succeed: messages refused or
    /// taken as redeliveries since `before` (a [`Privet::not_stored`] reading).
    pub(super) fn refusals_since(&self, before: u64) -> Option<String> {
        (self.not_stored() > before).then(|| {
            format!(
                "the bridge did not store some messages (so far: {})",
                self.counts(NOT_STORED.iter().copied())
            )
        })
    }

    /// What the bridge did so far, for an error message: its counts by outcome and what it
    /// has in flight.
    pub(super) fn describe(&self, fleet: &Fleet) -> String {
        let counts = self.counts(std::iter::once("stored").chain(NOT_STORED.iter().copied()));
        let in_flight = self.state.mqtt().map_or(0, |m| m.status.in_flight());
        let (acked, sent) = fleet.acked();
        format!(
            "the bridge's messages: {counts}; in flight {in_flight}; the broker acknowledged {} of {} published",
            thousands(acked),
            thousands(sent)
        )
    }

    /// `stored 99, duplicate 1`: the non-zero counts of `outcomes`.
    fn counts(&self, outcomes: impl Iterator<Item = &'static str>) -> String {
        let counts: Vec<String> = outcomes
            .filter_map(|o| {
                let n = self.count(o);
                (n > 0).then(|| format!("{o} {}", thousands(n)))
            })
            .collect();
        counts.join(", ")
    }

    /// Stops serving, and waits for it.
    pub(super) async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if tokio::time::timeout(Duration::from_secs(30), self.served)
            .await
            .is_err()
        {
            tracing::warn!("the server under test did not stop within 30 s");
        }
    }
}
