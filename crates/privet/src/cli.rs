//! Command-line definitions (clap). Every command has `--help`.

use clap::{Args, Parser, Subcommand, ValueEnum};
use privet_server::config;
use std::net::SocketAddr;
use std::path::PathBuf;

/// Privet: the privacy-by-design data backend for smart home products.
#[derive(Debug, Parser)]
#[command(name = "privet", version, about, long_about = None)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Run the server.
    // Boxed: its flags are many times the size of every other command's.
    Serve(Box<ServeArgs>),
    /// Run a demo: the example products, a demo household and simulated devices.
    Demo(DemoArgs),
    /// Operator API keys.
    #[command(subcommand)]
    Key(KeyCmd),
    /// Check, explain and export privacy manifests.
    #[command(subcommand)]
    Manifest(ManifestCmd),
    /// The privacy and security label of products, or a side-by-side comparison.
    Label(LabelArgs),
    /// DPIA screening and a draft data protection impact assessment for the DPO; exit 0
    /// whatever the screening finds, 2 if the manifest cannot be read (docs/dpia.md).
    #[command(
        long_about = "Screens the product's processing against the ICO's list of processing likely to \
    result in high risk and the EDPB's nine criteria, says whether a DPIA is required and why (each \
    reason with its manifest line), and writes a draft DPIA in Markdown with the judgements marked \
    \"DPO to complete\". Prints to stdout; exits 0 whatever the screening finds. Lint errors are shown \
    on stderr but do not stop it; a file that is not a manifest exits 2."
    )]
    Dpia(DpiaArgs),
    /// The PSTI statement of compliance a connectable product must ship with in the UK;
    /// what the manifest lacks is marked for the maker to fill in (docs/dpia.md).
    Psti(PstiArgs),
    /// Records of processing (UK GDPR Art. 30): a row per product and purpose, as CSV, HTML or
    /// XLSX.
    ///
    /// One row per product and purpose, in the columns of the ICO's record-of-processing
    /// template for controllers (business function, purpose, categories of individuals and of
    /// personal data, recipients by name, third countries and transfer safeguards, retention
    /// per field, the security measures Privet applies, lawful basis, rights, source, DPIA),
    /// each led by the controller and its contact. CSV and HTML go to standard output; XLSX
    /// needs --out. A manifest with errors is refused with the diagnostics of `privet manifest
    /// check` (exit 2). What fills each column: docs/ropa.md.
    Ropa(crate::ropa_cmd::RopaArgs),
    /// The audit log.
    #[command(subcommand)]
    Audit(AuditCmd),
    /// Retention.
    #[command(subcommand)]
    Retention(RetentionCmd),
    /// Signed firmware releases (the maker's offline key).
    #[command(subcommand)]
    Release(ReleaseCmd),
    /// Write a consistent snapshot of the data store (never the keyring), even while serving.
    Backup(BackupArgs),
    /// Restore a backup; whatever was erased since it was taken stays erased.
    Restore(RestoreArgs),
    /// The keyring's master-key epochs: rotate to the newest, and see what each still wraps.
    #[command(subcommand)]
    Keyring(KeyringCmd),
    /// Files for a static MQTT broker (Mosquitto) that devices connect to with their tokens.
    #[command(subcommand)]
    Mqtt(MqttCmd),
    /// Simulated devices sending realistic events to a server.
    Simulate(crate::simulate::SimulateArgs),
    /// Benchmarks with a baseline measured in the same run.
    #[command(subcommand)]
    Bench(crate::bench::BenchCmd),
    /// The licence notices of the third-party data built into this binary.
    Notices,
}

/// Where the data is: a data directory (the embedded SQLite store), or a backend URL.
///
/// The environment (`PRIVET_DATA`, `PRIVET_DATABASE_URL`) is read in `backend::Location`, not
/// by clap, so that a flag overrides either variable while naming both flags, or setting both
/// variables, is refused rather than one silently winning.
#[derive(Debug, Args, Clone)]
pub(crate) struct DataArgs {
    /// Data directory (the embedded SQLite store) [env: PRIVET_DATA] [default: privet-data]
    #[arg(long = "data", value_name = "DIR")]
    pub(crate) dir: Option<PathBuf>,
    /// The backend by URL instead of --data: `sqlite:DIR`, or `postgres://…` for a database
    /// several instances share [env: PRIVET_DATABASE_URL]
    #[arg(long, value_name = "URL", conflicts_with = "dir")]
    pub(crate) database_url: Option<String>,
    /// PostgreSQL: keep the keyring in this other database (default: the `privet_keyring`
    /// schema of the data database)
    #[arg(long, env = "PRIVET_KEYRING_URL", value_name = "URL")]
    pub(crate) keyring_url: Option<String>,
    /// Read the master keys (one key, or `epoch:key` entries) from this file instead of
    /// PRIVET_MASTER_KEY or the data directory's master.key (the same on every instance; keep
    /// it outside the data directory, or rotation protects no copy of it)
    #[arg(long, env = "PRIVET_MASTER_KEY_FILE", value_name = "FILE")]
    pub(crate) master_key_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    #[command(flatten)]
    pub(crate) data: DataArgs,
    /// Directory of product manifests (`*.toml`).
    #[arg(
        long,
        env = "PRIVET_MANIFESTS",
        default_value = "manifests",
        value_name = "DIR"
    )]
    pub(crate) manifests: PathBuf,
    /// Address to listen on.
    #[arg(long, env = "PRIVET_LISTEN", default_value = "127.0.0.1:8080")]
    pub(crate) listen: SocketAddr,
    #[command(flatten)]
    pub(crate) mqtt: MqttArgs,
    /// Largest request body in bytes.
    #[arg(long, default_value_t = 8 * 1024 * 1024)]
    pub(crate) max_body_bytes: usize,
    /// Most events in one ingest batch.
    #[arg(long, default_value_t = 10_000)]
    pub(crate) max_batch_events: usize,
    /// Sustained ingest requests per second per device.
    #[arg(long, default_value_t = 50)]
    pub(crate) device_rate: u32,
    /// Burst of ingest requests per device.
    #[arg(long, default_value_t = 100)]
    pub(crate) device_burst: u32,
    /// How far ahead of the server clock an event may be, in seconds.
    #[arg(long, default_value_t = 300)]
    pub(crate) max_clock_skew_secs: u64,
    /// Seconds between retention sweeps.
    #[arg(long, default_value_t = 60)]
    pub(crate) retention_interval_secs: u64,
    /// A reverse proxy (address or CIDR, repeatable) whose X-Forwarded-For names the client;
    /// from anyone else the header is ignored
    #[arg(long = "trusted-proxy", value_name = "CIDR", value_parser = parse_cidr)]
    pub(crate) trusted_proxies: Vec<ipnet::IpNet>,
    #[command(flatten)]
    pub(crate) rotation: RotationPeriodArgs,
    #[command(flatten)]
    pub(crate) connections: ConnectionArgs,
    #[command(flatten)]
    pub(crate) tls: TlsArgs,
    #[command(flatten)]
    pub(crate) security_txt: SecurityTxtArgs,
}

/// `/.well-known/security.txt` (RFC 9116, docs/security-txt.md): served only once a contact is
/// given; each list flag repeats, and its variable takes a comma-separated list.
#[derive(Debug, Args, Clone, Default)]
pub(crate) struct SecurityTxtArgs {
    /// security.txt `Contact:`, a mailto:, https: or tel: URI; repeat for more, most preferred
    /// first
    #[arg(
        long = "security-contact",
        env = "PRIVET_SECURITY_CONTACT",
        value_name = "URI",
        value_delimiter = ','
    )]
    pub(crate) contact: Vec<String>,
    /// security.txt `Expires:`, an RFC 3339 time in the future [default: 364 days after now,
    /// counted on every request]
    #[arg(
        long = "security-expires",
        env = "PRIVET_SECURITY_EXPIRES",
        value_name = "TIME"
    )]
    pub(crate) expires: Option<String>,
    /// security.txt `Encryption:`, the key to encrypt reports with (https:, dns: or
    /// openpgp4fpr: URI)
    #[arg(
        long = "security-encryption",
        env = "PRIVET_SECURITY_ENCRYPTION",
        value_name = "URI",
        value_delimiter = ','
    )]
    pub(crate) encryption: Vec<String>,
    /// security.txt `Policy:`, the https URI of the vulnerability disclosure policy
    #[arg(
        long = "security-policy",
        env = "PRIVET_SECURITY_POLICY",
        value_name = "URI",
        value_delimiter = ','
    )]
    pub(crate) policy: Vec<String>,
    /// security.txt `Preferred-Languages:`, language tags such as `en, cy`
    #[arg(
        long = "security-preferred-languages",
        env = "PRIVET_SECURITY_PREFERRED_LANGUAGES",
        value_name = "TAGS"
    )]
    pub(crate) preferred_languages: Option<String>,
    /// security.txt `Canonical:`, the https URI this file is served at
    #[arg(
        long = "security-canonical",
        env = "PRIVET_SECURITY_CANONICAL",
        value_name = "URI",
        value_delimiter = ','
    )]
    pub(crate) canonical: Vec<String>,
    /// security.txt `Acknowledgments:`, the https URI of a page thanking reporters
    #[arg(
        long = "security-acknowledgments",
        env = "PRIVET_SECURITY_ACKNOWLEDGMENTS",
        value_name = "URI",
        value_delimiter = ','
    )]
    pub(crate) acknowledgments: Vec<String>,
    /// security.txt `Hiring:`, the https URI of security jobs
    #[arg(
        long = "security-hiring",
        env = "PRIVET_SECURITY_HIRING",
        value_name = "URI",
        value_delimiter = ','
    )]
    pub(crate) hiring: Vec<String>,
}

impl SecurityTxtArgs {
    /// The flags as the server's settings.
    pub(crate) fn settings(&self) -> privet_server::security_txt::SecurityTxtSettings {
        privet_server::security_txt::SecurityTxtSettings {
            contact: self.contact.clone(),
            expires: self.expires.clone(),
            encryption: self.encryption.clone(),
            policy: self.policy.clone(),
            preferred_languages: self.preferred_languages.clone(),
            canonical: self.canonical.clone(),
            acknowledgments: self.acknowledgments.clone(),
            hiring: self.hiring.clone(),
        }
    }
}

/// Built-in TLS, and cookies for TLS terminated in front (docs/tls.md).
#[derive(Debug, Args, Clone)]
pub(crate) struct TlsArgs {
    /// Serve HTTPS with this PEM certificate chain, the server's own certificate first (with
    /// --tls-key); SIGHUP reads it again
    #[arg(
        long,
        env = "PRIVET_TLS_CERT",
        value_name = "FILE",
        requires = "tls_key"
    )]
    pub(crate) tls_cert: Option<PathBuf>,
    /// The certificate's private key: PEM, PKCS#8, unencrypted; ECDSA P-256, Ed25519 or RSA
    /// (with --tls-cert); SIGHUP reads it again
    #[arg(
        long,
        env = "PRIVET_TLS_KEY",
        value_name = "FILE",
        requires = "tls_cert"
    )]
    pub(crate) tls_key: Option<PathBuf>,
    /// Mark cookies `Secure` while serving plain HTTP, for a reverse proxy in front that
    /// terminates TLS (they are `Secure` anyway with --tls-cert, or off loopback)
    #[arg(long)]
    pub(crate) secure_cookies: bool,
}

/// Timeouts and the cap on open connections, which keep slow or idle clients from holding
/// every connection (docs/deploy.md, "Connection limits").
#[derive(Debug, Args, Clone, Copy)]
pub(crate) struct ConnectionArgs {
    /// Seconds a client has to send a request's head (from connecting, or from the request's
    /// first byte on a kept-alive connection); then the connection is closed, after a 408 if
    /// part of a request came
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = config::DEFAULT_HEADER_TIMEOUT.as_secs(),
        value_parser = clap::value_parser!(u64).range(1..)
    )]
    pub(crate) header_timeout_secs: u64,
    /// Seconds a request's whole body may take once its head has arrived; then the request is
    /// answered 408 and the connection closed
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = config::DEFAULT_BODY_TIMEOUT.as_secs(),
        value_parser = clap::value_parser!(u64).range(1..)
    )]
    pub(crate) body_timeout_secs: u64,
    /// Seconds a kept-alive connection may wait for its next request before it is closed
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = config::DEFAULT_IDLE_TIMEOUT.as_secs(),
        value_parser = clap::value_parser!(u64).range(1..)
    )]
    pub(crate) idle_timeout_secs: u64,
    /// Most connections open at once: at the cap the one idle longest is closed to admit a new
    /// one, and when none is idle the new one is refused (503) [default: 4096, or fewer when
    /// the open-file limit leaves less room]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) max_connections: Option<u64>,
}

/// The MQTT bridge.
#[derive(Debug, Args, Clone)]
pub(crate) struct MqttArgs {
    /// MQTT broker to bridge device traffic from: `mqtt://USER:PASS@HOST:PORT` or `mqtts://…`
    /// (the user is the bridge's client; with --mqtt-dynsec also the dynamic-security admin).
    #[arg(
        long = "mqtt",
        env = "PRIVET_MQTT",
        value_name = "URL",
        hide_env_values = true
    )]
    pub(crate) url: Option<String>,
    /// Manage each device's broker client (username = device id, password = its token)
    /// through Mosquitto's dynamic-security plugin.
    #[arg(long = "mqtt-dynsec", requires = "url")]
    pub(crate) dynsec: bool,
    /// PEM file of CA certificates to trust the broker's TLS certificate with (`mqtts://`);
    /// default: the system's roots.
    #[arg(long = "mqtt-ca-file", value_name = "FILE", requires = "url")]
    pub(crate) ca_file: Option<PathBuf>,
    /// Client id of this instance's persistent session: stable across restarts and unique
    /// per instance (default: `privet-<host name>-<listen port>`).
    #[arg(
        long = "mqtt-client-id",
        env = "PRIVET_MQTT_CLIENT_ID",
        requires = "url"
    )]
    pub(crate) client_id: Option<String>,
    /// Shared-subscription group of this deployment: the same on every instance, different for
    /// another deployment (staging, say) on the same broker, which would otherwise take this
    /// one's messages. Empty: a plain subscription, for a single instance (Mosquitto 2.0 keeps
    /// it across its own restarts, a shared one it does not).
    #[arg(
        long = "mqtt-share-group",
        env = "PRIVET_MQTT_SHARE_GROUP",
        default_value = "privet",
        requires = "url"
    )]
    pub(crate) share_group: String,
    /// Most device messages taken from the broker before they are acknowledged.
    #[arg(long = "mqtt-receive-maximum", default_value_t = 1000, value_parser = clap::value_parser!(u16).range(1..), requires = "url")]
    pub(crate) receive_maximum: u16,
}

/// How often the master key is rotated: what erasure receipts promise older keyring copies
/// are unreadable by. One period for every instance, kept in the keyring.
#[derive(Debug, Args, Clone, Copy)]
pub(crate) struct RotationPeriodArgs {
    /// Days between master-key rotations (`privet keyring rotate`, then retiring the old
    /// epoch); must not exceed how long backups and WAL archives are kept. Sets the period
    /// kept in the keyring when it has none yet (else 30); a different one is refused: change
    /// it with `privet keyring rotate --every-days N`
    #[arg(
        long = "key-rotation-days",
        env = "PRIVET_KEY_ROTATION_DAYS",
        value_name = "N",
        value_parser = clap::value_parser!(u32).range(1..=3650)
    )]
    pub(crate) days: Option<u32>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum KeyringCmd {
    /// Re-wrap every live subject key and instance secret under the newest master-key epoch,
    /// so the older epochs can be retired (docs/keyring-rotation.md).
    Rotate(KeyringRotateArgs),
    /// How many keys and secrets each master-key epoch wraps: an older epoch wrapping nothing
    /// can be removed from every instance.
    Status(DataArgs),
}

#[derive(Debug, Args)]
pub(crate) struct KeyringRotateArgs {
    #[command(flatten)]
    pub(crate) data: DataArgs,
    /// Change the rotation period every instance's receipts count with (recorded only when
    /// the rotation completes; counted from the last rotation to a new epoch)
    #[arg(
        long = "every-days",
        value_name = "N",
        value_parser = clap::value_parser!(u32).range(1..=3650)
    )]
    pub(crate) every_days: Option<u32>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum MqttCmd {
    /// Write Mosquitto's password file (`passwd`: each device's token, hashed) and ACL file
    /// (`acl`: each device its own topics) into a directory.
    Passwords(MqttPasswordsArgs),
}

#[derive(Debug, Args)]
pub(crate) struct MqttPasswordsArgs {
    #[command(flatten)]
    pub(crate) data: DataArgs,
    /// Directory to write `passwd` and `acl` into (created if missing).
    #[arg(long, value_name = "DIR")]
    pub(crate) out: PathBuf,
    /// The broker user Privet's bridge connects as: the ACL lets it read every device's events
    /// and write results and updates; its entry in an existing `passwd` is kept
    #[arg(long, value_name = "NAME")]
    pub(crate) bridge_user: Option<String>,
}

/// An address or a CIDR block; a bare address is a block of one.
fn parse_cidr(s: &str) -> Result<ipnet::IpNet, String> {
    if let Ok(net) = s.parse::<ipnet::IpNet>() {
        return Ok(net);
    }
    s.parse::<std::net::IpAddr>()
        .map(ipnet::IpNet::from)
        .map_err(|_| format!("`{s}` is not an address or CIDR block (e.g. 10.0.0.0/8)"))
}

#[derive(Debug, Args)]
pub(crate) struct DemoArgs {
    /// Data directory for the demo (created if missing).
    #[arg(long = "data", default_value = "privet-demo-data", value_name = "DIR")]
    pub(crate) dir: PathBuf,
    /// Run the demo on PostgreSQL instead, in its own schemas (`privet_demo`,
    /// `privet_demo_keyring`), emptied on each run. Only this flag chooses it:
    /// PRIVET_DATABASE_URL is not read, so the demo never runs against a deployment's database
    /// because its environment names one
    // Deliberately no `env = "PRIVET_DATABASE_URL"`: on a production host that variable names
    // the production database, and the demo would quietly make its schemas there.
    #[arg(long, value_name = "URL", conflicts_with = "dir")]
    pub(crate) database_url: Option<String>,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub(crate) listen: SocketAddr,
    /// Simulated events per second.
    #[arg(long, default_value_t = 20.0)]
    pub(crate) rate: f64,
}

#[derive(Debug, Subcommand)]
pub(crate) enum KeyCmd {
    /// Create an operator API key and print it once.
    Create(KeyCreateArgs),
}

#[derive(Debug, Args)]
pub(crate) struct KeyCreateArgs {
    #[command(flatten)]
    pub(crate) data: DataArgs,
    /// The key's role.
    #[arg(long, value_enum)]
    pub(crate) role: RoleArg,
    /// A purpose the key may read for (analysts; repeatable).
    #[arg(long = "purpose", value_name = "P")]
    pub(crate) purposes: Vec<String>,
    /// A label shown in key lists (not personal data).
    #[arg(long, default_value = "")]
    pub(crate) label: String,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum RoleArg {
    /// Manages households, devices and keys.
    Admin,
    /// Reads events for its purposes only.
    Analyst,
    /// Handles rights requests; reads no events.
    Support,
    /// Reads the audit log and requests.
    Dpo,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ManifestCmd {
    /// Lint manifests against the guidance; exit 0 clean or warnings only, 1 errors, 2 unreadable.
    Check(CheckArgs),
    /// Print the privacy notice generated from a manifest.
    Notice(NoticeArgs),
    /// Export a manifest for other tools.
    Export(ExportArgs),
    /// Publish manifests to the store as new versions of their products, served by every
    /// instance; exit 0 published (or already), 1 refused (errors, or a version published with
    /// other content), 2 unreadable.
    Publish(PublishArgs),
    /// What changed between two versions of a manifest, each change material or minor;
    /// exit 0 no material change, 3 a material change, 2 an input that cannot be read.
    Diff(DiffArgs),
}

#[derive(Debug, Args)]
pub(crate) struct PublishArgs {
    #[command(flatten)]
    pub(crate) data: DataArgs,
    /// Manifest files to publish.
    #[arg(required = true, value_name = "FILE")]
    pub(crate) files: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct DiffArgs {
    /// The older version: a manifest file, or PRODUCT@VERSION as published in the store.
    #[arg(value_name = "OLD")]
    pub(crate) old: PathBuf,
    /// The newer version: a manifest file, or PRODUCT@VERSION as published in the store.
    #[arg(value_name = "NEW")]
    pub(crate) new: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = DiffFormat::Text)]
    pub(crate) format: DiffFormat,
    /// The store PRODUCT@VERSION is read from (files need none).
    #[command(flatten)]
    pub(crate) data: DataArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum DiffFormat {
    /// One line per change, `material` or `minor` first, then a count.
    Text,
    /// One JSON object: product, from, to, material, changes.
    Json,
}

#[derive(Debug, Args)]
pub(crate) struct CheckArgs {
    /// Manifest files to check.
    #[arg(required = true, value_name = "FILE")]
    pub(crate) files: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
    pub(crate) format: CheckFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum CheckFormat {
    /// rustc-style diagnostics with the offending line underlined.
    Text,
    /// One JSON array of findings: code, rule, severity, file, line, column, message, help.
    Json,
}

#[derive(Debug, Args)]
pub(crate) struct NoticeArgs {
    /// Manifest file.
    #[arg(value_name = "FILE")]
    pub(crate) file: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = NoticeFormat::Md)]
    pub(crate) format: NoticeFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum NoticeFormat {
    /// Markdown.
    Md,
    /// A complete HTML page with no external assets.
    Html,
}

#[derive(Debug, Args)]
pub(crate) struct ExportArgs {
    /// Export format.
    #[arg(long, value_enum)]
    pub(crate) format: ExportFormat,
    /// Manifest file.
    #[arg(value_name = "FILE")]
    pub(crate) file: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ExportFormat {
    /// A fideslang System with privacy declarations (YAML).
    Fideslang,
}

#[derive(Debug, Args)]
pub(crate) struct DpiaArgs {
    /// Manifest file.
    #[arg(value_name = "FILE")]
    pub(crate) file: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = DpiaFormat::Md)]
    pub(crate) format: DpiaFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum DpiaFormat {
    /// The screening and the draft DPIA, in Markdown.
    Md,
    /// The screening only: {"product", "required", "conclusion", "reasons", "open_questions"}.
    Json,
}

#[derive(Debug, Args)]
pub(crate) struct PstiArgs {
    /// Manifest file.
    #[arg(value_name = "FILE")]
    pub(crate) file: PathBuf,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub(crate) struct LabelArgs {
    #[command(subcommand)]
    pub(crate) compare: Option<LabelCmd>,
    /// Manifest files.
    #[arg(value_name = "FILE")]
    pub(crate) files: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = LabelFormat::Text)]
    pub(crate) format: LabelFormat,
}

#[derive(Debug, Subcommand)]
pub(crate) enum LabelCmd {
    /// Products side by side, so shoppers can compare them on privacy.
    Compare(CompareArgs),
}

#[derive(Debug, Args)]
pub(crate) struct CompareArgs {
    /// Two or more manifest files.
    #[arg(required = true, num_args = 2.., value_name = "FILE")]
    pub(crate) files: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = LabelFormat::Text)]
    pub(crate) format: LabelFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum LabelFormat {
    /// For a terminal.
    Text,
    /// JSON.
    Json,
    /// A complete HTML page.
    Html,
}

#[derive(Debug, Subcommand)]
pub(crate) enum AuditCmd {
    /// Recompute the audit chain; exit 1 and name the first broken entry if any.
    Verify(AuditVerifyArgs),
}

#[derive(Debug, Args)]
pub(crate) struct AuditVerifyArgs {
    #[command(flatten)]
    pub(crate) data: DataArgs,
    /// A signed head kept earlier (the body of `GET /v1/audit/head`, as served): the log must
    /// still reach and extend it, or the first missing or divergent entry is named (exit 1).
    #[arg(long, value_name = "FILE")]
    pub(crate) head: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum RetentionCmd {
    /// Drop everything past its retention now.
    Run(DataArgs),
}

#[derive(Debug, Args)]
pub(crate) struct BackupArgs {
    #[command(flatten)]
    pub(crate) data: DataArgs,
    /// The backup file to write.
    #[arg(long, value_name = "FILE")]
    pub(crate) out: PathBuf,
}

#[derive(Debug, Args)]
pub(crate) struct RestoreArgs {
    #[command(flatten)]
    pub(crate) data: DataArgs,
    /// The backup file to restore.
    #[arg(value_name = "FILE")]
    pub(crate) file: PathBuf,
    /// Restore a backup made by another installation (its subjects have no keys here, so
    /// they are purged as erased since the backup).
    #[arg(long)]
    pub(crate) force: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ReleaseCmd {
    /// Make an Ed25519 release key pair: PREFIX.key (secret, keep offline) and PREFIX.pub.
    Keygen(ReleaseKeygenArgs),
    /// Sign firmware: print signed metadata (product, version, SHA-256, length, expiry) as JSON.
    Sign(ReleaseSignArgs),
}

#[derive(Debug, Args)]
pub(crate) struct ReleaseKeygenArgs {
    /// Path prefix of the two files.
    #[arg(long, value_name = "PREFIX")]
    pub(crate) out: PathBuf,
}

#[derive(Debug, Args)]
pub(crate) struct ReleaseSignArgs {
    /// The secret key file from `release keygen`.
    #[arg(long, value_name = "FILE")]
    pub(crate) key: PathBuf,
    /// Product id.
    #[arg(long)]
    pub(crate) product: String,
    /// Version of this firmware.
    #[arg(long)]
    pub(crate) version: String,
    /// Oldest version that may update to this one directly.
    #[arg(long)]
    pub(crate) min_version: Option<String>,
    /// Days until the metadata expires (devices refuse expired metadata).
    #[arg(long, default_value_t = 365)]
    pub(crate) expires_days: u32,
    /// The firmware image.
    #[arg(value_name = "FIRMWARE")]
    pub(crate) firmware: PathBuf,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_demo_takes_its_database_from_the_flag_only() {
        let cli = Cli::command();
        let demo = cli.find_subcommand("demo");
        let url = demo.and_then(|d| d.get_arguments().find(|a| a.get_id() == "database_url"));
        assert!(url.is_some(), "demo has --database-url");
        assert_eq!(
            url.and_then(|a| a.get_env()),
            None,
            "PRIVET_DATABASE_URL (a deployment's database) is never the demo's"
        );
    }
}
