//! `privet bench`: benchmarks that measure their own baseline in the same run and print the
//! ratio, so a figure means the same on any machine.

mod corpus;
mod erase;
mod export;
mod ingest;
mod load;
mod mqtt;
mod output;
mod pg;
mod pg_server;
mod procfs;
mod raw;
mod raw_pg;
mod rights;
mod server;
mod workspace;

use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// Benchmarks.
#[derive(Debug, Subcommand)]
pub(crate) enum BenchCmd {
    /// Events through the full pipeline over HTTP, against one row per event in SQLite (a
    /// binary COPY of one row per event into the same server with --database-url).
    Ingest(IngestArgs),
    /// Exporting a subject's records over HTTP, against a plain SELECT serialised to JSON.
    Export(ExportArgs),
    /// Erasure to a signed receipt over HTTP, against a plain indexed DELETE of the same rows.
    Erase(EraseArgs),
    /// Device messages through MQTT to durable storage, against Mosquitto's own QoS 1
    /// publish-to-subscriber rate for the same messages.
    Mqtt(MqttBenchArgs),
    /// The server under test on PostgreSQL: started by the benchmarks, not by people.
    #[command(hide = true)]
    PgServer(pg_server::PgServerArgs),
}

/// Arguments of `privet bench ingest`.
#[derive(Debug, Args)]
pub(crate) struct IngestArgs {
    /// Events to send (and to insert in the baseline).
    #[arg(long, default_value_t = 1_000_000)]
    pub(crate) events: usize,
    /// Events per ingest request.
    #[arg(long, default_value_t = 1_000)]
    pub(crate) batch: usize,
    /// Concurrent HTTP clients.
    #[arg(long, default_value_t = 8)]
    pub(crate) clients: usize,
    /// Simulated devices the events come from (about two per household).
    #[arg(long, default_value_t = 100)]
    pub(crate) devices: usize,
    /// Rows per transaction (per COPY on PostgreSQL) in the raw baseline.
    #[arg(long, default_value_t = 10_000)]
    pub(crate) raw_batch: usize,
    /// Where to put the server's data directory and the baseline's database (must not hold
    /// either yet); a temporary directory, removed afterwards, when omitted.
    #[arg(long = "data", value_name = "DIR")]
    pub(crate) data: Option<PathBuf>,
    /// Directory of product manifests; the built-in example products when omitted.
    #[arg(long, value_name = "DIR")]
    pub(crate) manifests: Option<PathBuf>,
    /// Seed for the generated events.
    #[arg(long, default_value_t = 2026)]
    pub(crate) seed: u64,
    /// Run the server under test on this PostgreSQL database (`postgres://…`), in fresh
    /// `bench_*` schemas dropped afterwards, and measure the baseline on the same server;
    /// SQLite when omitted.
    #[arg(long, value_name = "URL")]
    pub(crate) database_url: Option<String>,
}

/// Arguments of `privet bench mqtt`.
#[derive(Debug, Args)]
pub(crate) struct MqttBenchArgs {
    /// One-event messages sent through Mosquitto alone, then through Privet.
    #[arg(long, default_value_t = 200_000)]
    pub(crate) events: u64,
    /// Events sent in messages of --message-events (ten times --events when omitted: they
    /// go through several times faster).
    #[arg(long, value_name = "EVENTS")]
    pub(crate) batched_events: Option<u64>,
    /// Events per message in the batched phase (and the backlog).
    #[arg(long, default_value_t = 100)]
    pub(crate) message_events: u64,
    /// Simulated thermostats the messages come from (two to a household).
    #[arg(long, default_value_t = 100)]
    pub(crate) devices: usize,
    /// MQTT connections the devices publish over.
    #[arg(long, default_value_t = 4)]
    pub(crate) publishers: usize,
    /// Most unacknowledged QoS 1 messages on each publisher connection.
    #[arg(long, default_value_t = 100)]
    pub(crate) in_flight: u16,
    /// Receive Maximum of the bridge and of the baseline's subscriber: messages the broker may
    /// hand over before they are acknowledged.
    #[arg(long, default_value_t = 1_000)]
    pub(crate) receive_maximum: u16,
    /// Events queued by the broker (in messages of --message-events) while Privet's bridge is
    /// stopped, then drained when it starts again, with the peak memory meanwhile; 0 skips it
    /// (1000000: a million events, drained in seconds).
    #[arg(long, default_value_t = 0, value_name = "EVENTS")]
    pub(crate) backlog: u64,
    /// Use this broker (`mqtt://USER:PASS@HOST:PORT`) instead of a Mosquitto of the run's own;
    /// its user must be allowed to publish to and subscribe to `privet/v1/devices/+/events`,
    /// and no Privet instance may be bridged to it (it would take a share of the messages).
    #[arg(long, value_name = "URL")]
    pub(crate) mqtt: Option<String>,
    /// Where to put Privet's data directory (must not hold one yet); a temporary directory,
    /// removed afterwards, when omitted.
    #[arg(long = "data", value_name = "DIR")]
    pub(crate) data: Option<PathBuf>,
    /// Run Privet on this PostgreSQL database (`postgres://…`), in fresh `bench_*` schemas
    /// dropped afterwards; SQLite when omitted.
    #[arg(long, value_name = "URL")]
    pub(crate) database_url: Option<String>,
}

/// How `privet bench erase` and `privet bench export` build the store they measure.
#[derive(Debug, Args)]
pub(crate) struct StoreArgs {
    /// Events per ingest request while building the store.
    #[arg(long, default_value_t = 1_000)]
    pub(crate) batch: usize,
    /// Concurrent HTTP clients while building the store.
    #[arg(long, default_value_t = 8)]
    pub(crate) clients: usize,
    /// Event times are spread over this many days before now.
    #[arg(long, default_value_t = 30)]
    pub(crate) days: u32,
    /// Where to put the server's data directory and the baseline's database (must not hold
    /// either yet); a temporary directory, removed afterwards, when omitted.
    #[arg(long = "data", value_name = "DIR")]
    pub(crate) data: Option<PathBuf>,
    /// Seed for the generated events.
    #[arg(long, default_value_t = 2026)]
    pub(crate) seed: u64,
    /// Run the server under test on this PostgreSQL database (`postgres://…`), in fresh
    /// `bench_*` schemas dropped afterwards, and measure the baseline on the same server;
    /// SQLite when omitted.
    #[arg(long, value_name = "URL")]
    pub(crate) database_url: Option<String>,
}

/// Arguments of `privet bench erase`.
#[derive(Debug, Args)]
pub(crate) struct EraseArgs {
    /// Records in the store, over all subjects (sent through the pipeline, and inserted as
    /// rows in the baseline).
    #[arg(long, default_value_t = 2_000_000)]
    pub(crate) records: u64,
    /// Member subjects, four to a household.
    #[arg(long, default_value_t = 1_000)]
    pub(crate) subjects: usize,
    /// Records of each subject whose erasure is timed against the baseline.
    #[arg(long, default_value_t = 20_000)]
    pub(crate) target_records: u64,
    /// Records of each smaller subject erased, to show the receipt time is flat in the count.
    #[arg(long, default_value_t = 2_000)]
    pub(crate) small_records: u64,
    /// Subjects of each size erased (the medians are reported).
    #[arg(long, default_value_t = 5)]
    pub(crate) erasures: usize,
    #[command(flatten)]
    pub(crate) store: StoreArgs,
}

/// Arguments of `privet bench export`.
#[derive(Debug, Args)]
pub(crate) struct ExportArgs {
    /// Records of the exported subject.
    #[arg(long, default_value_t = 100_000)]
    pub(crate) records: u64,
    /// Other member subjects in the store (four to a household with the exported one).
    #[arg(long, default_value_t = 39)]
    pub(crate) other_subjects: usize,
    /// Records of the other subjects, shared evenly.
    #[arg(long, default_value_t = 200_000)]
    pub(crate) other_records: u64,
    /// Exports (and baseline SELECTs, alternating) to take the median of.
    #[arg(long, default_value_t = 3)]
    pub(crate) repeat: usize,
    #[command(flatten)]
    pub(crate) store: StoreArgs,
}

pub(crate) async fn run(cmd: BenchCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        BenchCmd::Ingest(args) => ingest::run(args).await,
        BenchCmd::Export(args) => export::run(args).await,
        BenchCmd::Erase(args) => erase::run(args).await,
        BenchCmd::Mqtt(args) => mqtt::run(args).await,
        BenchCmd::PgServer(args) => pg_server::run(args).await,
    }
}
