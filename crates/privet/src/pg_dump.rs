//! `privet backup --database-url postgres://…`: the data schema written by PostgreSQL's own
//! `pg_dump` (custom format, for `pg_restore`), never the keyring schema, so a backup never
//! holds the keys its records are sealed with. The connection reaches `pg_dump` through the
//! libpq environment, never its command line (which every local user can read).

use anyhow::{Context, bail};
use std::path::Path;
use std::process::Command;
use tokio_postgres::config::Host;

/// Dumps the data schema of the database at `url` to `out`.
pub(crate) fn dump(url: &str, out: &Path) -> anyhow::Result<()> {
    let config = privet_store_postgres::parse_url(url)?;
    // The data schema the server opens (`PgOptions`' default), not a copy of its name.
    let schema = privet_store_postgres::PgOptions::new(url).schema;
    let mut cmd = Command::new("pg_dump");
    cmd.args([
        "--format=custom",
        "--no-owner",
        "--schema",
        &schema,
        "--file",
    ])
    .arg(out)
    .env_clear()
    .env("PATH", std::env::var_os("PATH").unwrap_or_default());
    if let Some(host) = config.get_hosts().first() {
        match host {
            Host::Tcp(name) => cmd.env("PGHOST", name),
            Host::Unix(dir) => cmd.env("PGHOST", dir),
        };
    }
    if let Some(port) = config.get_ports().first() {
        cmd.env("PGPORT", port.to_string());
    }
    if let Some(user) = config.get_user() {
        cmd.env("PGUSER", user);
    }
    if let Some(dbname) = config.get_dbname() {
        cmd.env("PGDATABASE", dbname);
    }
    if let Some(password) = config.get_password() {
        let password =
            std::str::from_utf8(password).context("the database password is not UTF-8")?;
        cmd.env("PGPASSWORD", password);
    }
    let run = cmd
        .output()
        .context("cannot run pg_dump (install PostgreSQL's client tools)")?;
    if !run.status.success() {
        // pg_dump's own message names the server and the schema, never the password.
        let said = String::from_utf8_lossy(&run.stderr);
        bail!(
            "pg_dump failed: {}",
            said.lines().next().unwrap_or("no message")
        );
    }
    Ok(())
}
