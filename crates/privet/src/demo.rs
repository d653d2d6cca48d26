//! `privet demo`: the example products served on the embedded store, with a demo household,
//! its devices and some consents, and simulated devices sending events until Ctrl-C.

use crate::backend::{self, Location};
use crate::cli::DemoArgs;
use crate::simulate::{SimDevice, run_fleet};
use anyhow::{Context, anyhow};
use privet_crypto::TotpSecret;
use privet_manifest::LintContext;
use privet_server::error::ApiError;
use privet_server::service::consent::{self, ConsentChange};
use privet_server::service::error::ServiceError;
use privet_server::service::{accounts, api_keys, devices, requests, subjects};
use privet_server::{AppState, Clock, Config, Products, Server, shutdown_signal};
use privet_store::{RequestKind, Role, SubjectId};
use std::process::ExitCode;
use std::sync::Arc;

/// The example manifests as products, keeping their text for the console's findings.
pub(crate) fn example_products(cx: &LintContext) -> anyhow::Result<Products> {
    let sources = crate::simulate::manifests::EXAMPLES
        .iter()
        .map(|(name, src)| {
            (
                std::path::PathBuf::from(format!("examples/manifests/{name}")),
                (*src).to_owned(),
            )
        })
        .collect();
    let (products, _) =
        Products::from_sources(sources, cx).map_err(|e| anyhow!("built-in examples: {e}"))?;
    Ok(products)
}

fn api(e: ServiceError) -> anyhow::Error {
    let e = ApiError::from(e);
    if e.is_internal() {
        anyhow!("internal error: {e}")
    } else {
        anyhow!("{}", e.problem().detail)
    }
}

/// The demo owner's sign-in name.
const DEMO_OWNER_EMAIL: &str = "alex@demo.privet.example";
/// The demo console account's sign-in name.
const DEMO_STAFF_EMAIL: &str = "console@demo.privet.example";

/// A random password that passes the policy (printed once, for the demo only).
fn demo_password() -> String {
    let t = privet_crypto::generate_token("demo", &mut privet_crypto::os_rng());
    t.expose().chars().take(20).collect()
}

/// What the demo set up.
struct Setup {
    admin_key: String,
    household: SubjectId,
    members: Vec<(String, SubjectId)>,
    devices: Vec<SimDevice>,
    owner_password: String,
    staff_password: String,
    staff_totp: String,
    claim_code: String,
}

async fn setup(state: &AppState) -> anyhow::Result<Setup> {
    let mut purposes: Vec<String> = state
        .products()
        .iter()
        .flat_map(|m| m.purposes.iter().map(|p| p.id.to_string()))
        .collect();
    purposes.sort();
    purposes.dedup();
    let (_, admin) = api_keys::create(
        state.store().as_ref(),
        state.keys().keyring().as_ref(),
        state.audit_chain().await?,
        state.clock().now(),
        "demo",
        Role::Admin,
        purposes,
        "demo admin".to_owned(),
    )
    .await
    .map_err(api)?;

    // The owner signs up like anyone would: a household, its owner member and an account.
    let owner_password = demo_password();
    let owner = accounts::signup(
        state,
        DEMO_OWNER_EMAIL,
        owner_password.clone(),
        "The Demo Household",
        Some("Alex"),
        None,
    )
    .await
    .map_err(api)?;
    let household = owner
        .household
        .clone()
        .ok_or_else(|| anyhow!("sign-up made no household"))?;
    let alex_id = owner
        .member
        .clone()
        .ok_or_else(|| anyhow!("sign-up made no member"))?;
    let mut members = vec![("Alex".to_owned(), alex_id)];
    for (name, child) in [("Sam", false), ("Robin", true)] {
        let id = subjects::create_member(state, &household, child, name, None, "demo")
            .await
            .map_err(api)?;
        members.push((name.to_owned(), id));
    }
    let alex = members[0].1.clone();
    let member_ids: Vec<String> = members.iter().map(|(_, id)| id.to_string()).collect();

    let mut sims = Vec::new();
    for manifest in state.products().iter() {
        let personal = manifest.product.id.as_str() == "stride-band-4";
        let member = personal.then_some(&alex);
        let reg = devices::register(
            state,
            manifest.product.id.as_str(),
            Some(&household),
            member,
            "demo",
        )
        .await
        .map_err(api)?;
        // Alex and the household switch on every optional purpose except marketing; Sam and
        // Robin switch on nothing, so their consent-only data is never collected.
        for purpose in manifest.optional_purposes() {
            if purpose.data_use.starts_with("marketing") {
                continue;
            }
            for subject in [&household, &alex] {
                let s = state.store().subject(subject).await?;
                consent::decide(
                    state,
                    &s,
                    ConsentChange {
                        purpose: purpose.id.as_str(),
                        granted: true,
                        product: Some(manifest.product.id.as_str()),
                        actor: "demo",
                        channel: "demo",
                    },
                )
                .await
                .map_err(api)?;
            }
        }
        sims.push(SimDevice {
            token: reg.token.expose().to_owned(),
            manifest: Arc::clone(manifest),
            members: if personal {
                vec![alex.to_string()]
            } else {
                member_ids.clone()
            },
        });
    }
    // An unclaimed device, to try the set-up page with.
    let spare = devices::register(state, "wren-thermostat-2", None, None, "demo")
        .await
        .map_err(api)?;

    // A console account with two-step verification on, and an overdue rights request to find.
    let staff_password = demo_password();
    let staff = accounts::create_staff(
        state,
        DEMO_STAFF_EMAIL,
        staff_password.clone(),
        Role::Admin,
        "demo",
    )
    .await
    .map_err(api)?;
    // Two-step verification on from the start, as if the staff member had enrolled.
    let secret = TotpSecret::generate(&mut privet_crypto::os_rng());
    let sealed = state.secret_box().seal(
        &format!("totp:{}", staff.id),
        secret.as_bytes(),
        &mut privet_crypto::os_rng(),
    )?;
    state.store().start_totp(&staff.id, sealed).await?;
    state.store().enable_totp(&staff.id, 0, Vec::new()).await?;
    let received = state
        .clock()
        .now()
        .checked_sub(jiff::SignedDuration::from_hours(24 * 40))
        .map_err(|e| anyhow!("{e}"))?;
    requests::create(
        state,
        RequestKind::Access,
        requests::About::Subject(members[1].1.clone()),
        Some(received),
        "demo",
    )
    .await
    .map_err(api)?;

    Ok(Setup {
        admin_key: admin.expose().to_owned(),
        household,
        members,
        devices: sims,
        owner_password,
        staff_password,
        staff_totp: secret.to_base32().expose().to_owned(),
        claim_code: spare.claim_code.expose().to_owned(),
    })
}

/// The thermostat, which the demo moves to its next version.
const THERMOSTAT: &str = "wren-thermostat-2";

/// The thermostat's next version: a new consent-based field (`presence.room`).
const THERMOSTAT_NEXT: &str = include_str!("../../../examples/versions/thermostat-2.5.toml");

/// Publishes the thermostat's next version after the household consented under the first, as
/// a maker shipping new firmware would; its simulated device sends the new field from then on.
/// Returns the new version.
async fn next_version(state: &AppState, devices: &mut [SimDevice]) -> anyhow::Result<String> {
    let published = privet_server::service::publish::publish(state, THERMOSTAT_NEXT, "demo")
        .await
        .map_err(api)?;
    let products = state.products();
    let manifest = products
        .get(THERMOSTAT)
        .ok_or_else(|| anyhow!("the thermostat is not served after publishing its next version"))?;
    for d in devices
        .iter_mut()
        .filter(|d| d.manifest.product.id.as_str() == THERMOSTAT)
    {
        d.manifest = Arc::clone(manifest);
    }
    Ok(privet_server::service::publish::version_of(
        published.manifest(),
    ))
}

/// The marker file that says a directory was made by `privet demo` (and may be replaced).
const DEMO_MARKER: &str = ".privet-demo";

/// Each demo starts from an empty data directory; only one the demo made itself is cleared,
/// and only once its lock is held, so a demo still serving it is never cleared under it.
fn fresh_demo_dir(location: &Location) -> anyhow::Result<privet_store_sqlite::DirLock> {
    let dir = location.data_dir()?;
    if dir.exists() && !dir.join(DEMO_MARKER).exists() {
        anyhow::bail!(
            "{} exists and was not made by `privet demo`; choose another --data directory",
            dir.display()
        );
    }
    let Some(lock) = backend::lock(location)? else {
        anyhow::bail!("the demo runs on the embedded store");
    };
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot read {}", dir.display()))?;
        // The lock is held; the marker stays so a failed clear can be run again.
        if entry.file_name() == privet_store_sqlite::LOCK_FILE || entry.file_name() == DEMO_MARKER {
            continue;
        }
        let path = entry.path();
        let removed = if entry.file_type().is_ok_and(|t| t.is_dir()) {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        removed.with_context(|| format!("cannot clear {}", path.display()))?;
    }
    std::fs::write(
        dir.join(DEMO_MARKER),
        "made by privet demo; cleared on each run\n",
    )
    .with_context(|| format!("cannot write {}", dir.display()))?;
    Ok(lock)
}

/// Where the demo keeps its data, for people: never a password.
fn describe(location: &Location) -> String {
    match location {
        Location::Sqlite { dir, .. } => dir.display().to_string(),
        Location::Postgres(pg) => format!(
            "{} (schemas {} and {})",
            backend::describe_url(&pg.url),
            backend::DEMO_SCHEMA,
            backend::DEMO_KEYRING_SCHEMA
        ),
    }
}

pub(crate) async fn run(args: DemoArgs) -> anyhow::Result<ExitCode> {
    // Checked here: the simulator runs in a background task whose error nobody would see.
    anyhow::ensure!(
        args.rate.is_finite() && args.rate > 0.0,
        "--rate must be a positive number of events per second"
    );
    let cx = crate::manifest_cmd::lint_context();
    let products = example_products(&cx)?;
    let location = match &args.database_url {
        Some(url) => match Location::parse(url)? {
            Location::Postgres(pg) => Location::Postgres(backend::Pg { demo: true, ..pg }),
            sqlite => sqlite,
        },
        None => Location::sqlite(args.dir.clone()),
    };
    let _lock = match &location {
        Location::Sqlite { .. } => Some(fresh_demo_dir(&location)?),
        Location::Postgres(_) => None,
    };
    let opened = backend::open(&location)
        .await
        .with_context(|| format!("cannot open the demo's store {}", describe(&location)))?;
    let config = Config {
        listen: args.listen,
        connections: crate::connection_limits::limits(None),
        ..Config::default()
    };
    // Published like `serve --manifests` does, so the demo lists their versions and a manifest
    // published to it (`POST /v1/products`) joins them rather than replacing them.
    let clock = Clock::system();
    let products = privet_server::service::manifests::publish(
        opened.store.as_ref(),
        opened.keyring.as_ref(),
        &opened.audit_chain().await?,
        &products,
        &cx,
        "demo",
        clock.now(),
    )
    .await
    .map_err(|e| anyhow!("cannot publish the example manifests: {e}"))?;
    let server = Server::bind(config, opened.into_parts(products, clock)).await?;
    let state = server.state().clone();
    let mut setup = setup(&state).await?;
    let url = format!("http://{}", server.local_addr());
    let next = next_version(&state, &mut setup.devices).await?;

    let n_devices = setup.devices.len();
    let sim_url = url.clone();
    let rate = args.rate;
    let sim =
        tokio::spawn(async move { run_fleet(&sim_url, setup.devices, rate, None, false).await });

    let members: Vec<String> = setup
        .members
        .iter()
        .map(|(n, id)| format!("{n} ({id})"))
        .collect();
    println!("Privet demo running at {url}");
    println!("  data           : {}", describe(&location));
    println!(
        "  products       : {} built-in examples (privet label compare examples/manifests/*.toml)",
        state.products().iter().count()
    );
    println!(
        "  household      : {} with members {}",
        setup.household,
        members.join(", ")
    );
    println!(
        "  devices        : {n_devices} simulated, ~{rate} events/s in total, undeclared fields included"
    );
    println!(
        "  new version    : {THERMOSTAT} {next} adds presence.room for the energy report; consents given"
    );
    println!(
        "                   under the earlier version do not cover it, so it waits until Alex agrees (My data)"
    );
    println!("  admin API key  : {}   (shown once)", setup.admin_key);
    println!();
    println!("Sign in at {url}/login");
    println!(
        "  household owner: {DEMO_OWNER_EMAIL}  password {}",
        setup.owner_password
    );
    println!(
        "  console (staff): {DEMO_STAFF_EMAIL}  password {}",
        setup.staff_password
    );
    println!(
        "                   two-step secret {} (add it to an authenticator app,",
        setup.staff_totp
    );
    println!(
        "                   or: oathtool --totp -b {})",
        setup.staff_totp
    );
    println!(
        "  a new device to set up at {url}/setup: claim code {}",
        setup.claim_code
    );
    println!();
    println!("Try:");
    println!("  export KEY={}", setup.admin_key);
    println!(
        "  curl -H \"Authorization: Bearer $KEY\" '{url}/v1/events?purpose=heating_control&limit=5'"
    );
    println!(
        "  curl -H \"Authorization: Bearer $KEY\" '{url}/v1/subjects/{}/consents'",
        setup.members[0].1
    );
    println!(
        "  curl -H \"Authorization: Bearer $KEY\" '{url}/v1/subjects/{}/changes'",
        setup.members[0].1
    );
    println!("  curl '{url}/v1/products/{THERMOSTAT}/versions'");
    println!("  curl -H \"Authorization: Bearer $KEY\" '{url}/v1/audit?limit=5'");
    println!("  curl '{url}/metrics'");
    println!();
    println!("Press Ctrl-C to stop.");

    server.run_until(shutdown_signal()).await?;
    sim.abort();
    Ok(ExitCode::SUCCESS)
}
