//! `privet release keygen` and `privet release sign`: the maker's offline release key and
//! signed firmware metadata. The server only ever sees the public key (in the manifest).

use crate::cli::{ReleaseCmd, ReleaseKeygenArgs, ReleaseSignArgs};
use anyhow::{Context, bail};
use privet_crypto::{ReleaseKeyPair, ReleaseMetadata, os_rng, sha256_hex, sign_release};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::process::ExitCode;

pub(crate) fn run(cmd: ReleaseCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        ReleaseCmd::Keygen(args) => keygen(&args),
        ReleaseCmd::Sign(args) => sign(&args),
    }
}

fn keygen(args: &ReleaseKeygenArgs) -> anyhow::Result<ExitCode> {
    // Appended, not `with_extension`: a prefix such as `acme-2026.1` keeps its dot.
    let with_suffix = |suffix: &str| {
        let mut p = args.out.clone().into_os_string();
        p.push(suffix);
        std::path::PathBuf::from(p)
    };
    let key_path = with_suffix(".key");
    let pub_path = with_suffix(".pub");
    for p in [&key_path, &pub_path] {
        if p.exists() {
            bail!("{} exists; choose another --out prefix", p.display());
        }
    }
    let pair = ReleaseKeyPair::generate(&mut os_rng());
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&key_path)
        .with_context(|| format!("cannot create {}", key_path.display()))?;
    writeln!(f, "{}", pair.secret_key_string().expose())?;
    f.sync_all()?;
    std::fs::write(&pub_path, format!("{}\n", pair.public_key_string()))
        .with_context(|| format!("cannot write {}", pub_path.display()))?;
    eprintln!(
        "wrote {} (keep it offline) and {}; put this in the manifest:",
        key_path.display(),
        pub_path.display()
    );
    println!("update_public_key = \"{}\"", pair.public_key_string());
    Ok(ExitCode::SUCCESS)
}

fn sign(args: &ReleaseSignArgs) -> anyhow::Result<ExitCode> {
    let secret = std::fs::read_to_string(&args.key)
        .with_context(|| format!("cannot read {}", args.key.display()))?;
    let pair = ReleaseKeyPair::from_secret_string(secret.trim())
        .context("not a release key (privet release keygen makes one)")?;
    let firmware = std::fs::read(&args.firmware)
        .with_context(|| format!("cannot read {}", args.firmware.display()))?;
    let now = jiff::Timestamp::now();
    let expires = now
        .checked_add(jiff::SignedDuration::from_hours(
            24 * i64::from(args.expires_days),
        ))
        .context("expiry out of range")?;
    let metadata = ReleaseMetadata {
        product: args.product.clone(),
        version: args.version.clone(),
        sha256: sha256_hex(&firmware),
        length: firmware.len() as u64,
        expires,
        min_version: args.min_version.clone(),
        signed_at: now,
    };
    let signed = sign_release(&pair, metadata);
    println!("{}", serde_json::to_string_pretty(&signed)?);
    Ok(ExitCode::SUCCESS)
}
