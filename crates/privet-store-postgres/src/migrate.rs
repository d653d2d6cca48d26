//! Migrations: numbered SQL files, applied in order at [`crate::open`] inside one transaction
//! that holds an advisory lock on the schema, so instances starting together apply each once.
//! `schema_migrations` records what was applied; a schema migrated further than this binary
//! knows is refused rather than written to.

use crate::error::PgError;
use crate::locks;
use tokio_postgres::Client;

/// One migration file.
pub(crate) struct Migration {
    /// Its number: the order it runs in.
    pub(crate) version: i32,
    /// Its file name, matching the SQLite backend's.
    pub(crate) name: &'static str,
    /// Its statements.
    pub(crate) sql: &'static str,
}

/// Data schema migrations, in order. Append only.
pub(crate) const DATA: &[Migration] = &[
    Migration {
        version: 1,
        name: "0001_init",
        sql: include_str!("../migrations/0001_init.sql"),
    },
    Migration {
        version: 2,
        name: "0002_rights",
        sql: include_str!("../migrations/0002_rights.sql"),
    },
    Migration {
        version: 3,
        name: "0003_accounts",
        sql: include_str!("../migrations/0003_accounts.sql"),
    },
    Migration {
        version: 4,
        name: "0004_failures_jobs_manifests",
        sql: include_str!("../migrations/0004_failures_jobs_manifests.sql"),
    },
    Migration {
        version: 5,
        name: "0005_household_versions",
        sql: include_str!("../migrations/0005_household_versions.sql"),
    },
    Migration {
        version: 6,
        name: "0006_mqtt",
        sql: include_str!("../migrations/0006_mqtt.sql"),
    },
    Migration {
        version: 7,
        name: "0007_manifest_versions",
        sql: include_str!("../migrations/0007_manifest_versions.sql"),
    },
    Migration {
        version: 8,
        name: "0008_webhooks",
        sql: include_str!("../migrations/0008_webhooks.sql"),
    },
    Migration {
        version: 9,
        name: "0009_request_workflow",
        sql: include_str!("../migrations/0009_request_workflow.sql"),
    },
];

/// Keyring schema migrations, in order. Append only.
pub(crate) const KEYRING: &[Migration] = &[
    Migration {
        version: 1,
        name: "keyring_0001_init",
        sql: include_str!("../migrations/keyring_0001_init.sql"),
    },
    Migration {
        version: 2,
        name: "keyring_0002_secrets",
        sql: include_str!("../migrations/keyring_0002_secrets.sql"),
    },
];

/// The newest version in `migrations`.
pub(crate) fn newest(migrations: &[Migration]) -> i32 {
    migrations.iter().map(|m| m.version).max().unwrap_or(0)
}

/// Creates `schema` if it is missing and applies the migrations it lacks, all in one
/// transaction under the schema's migration lock. `schema` is a checked identifier.
pub(crate) async fn run(
    client: &mut Client,
    schema: &str,
    migrations: &[Migration],
) -> Result<(), PgError> {
    let fail = |doing| move |e: tokio_postgres::Error| PgError::other(doing, &e);
    let tx = client
        .transaction()
        .await
        .map_err(fail("starting migrations"))?;
    tx.execute(locks::XACT_LOCK, &[&locks::MIGRATE, &schema])
        .await
        .map_err(fail("taking the migration lock"))?;
    tx.batch_execute(&format!(
        "CREATE SCHEMA IF NOT EXISTS {schema};
         SET LOCAL search_path TO {schema};
         CREATE TABLE IF NOT EXISTS schema_migrations (
             version     integer PRIMARY KEY,
             name        text NOT NULL,
             applied_at  timestamptz NOT NULL DEFAULT now()
         );"
    ))
    .await
    .map_err(fail("creating the schema"))?;
    let found: i32 = tx
        .query_one(
            "SELECT coalesce(max(version), 0) FROM schema_migrations",
            &[],
        )
        .await
        .and_then(|r| r.try_get(0))
        .map_err(fail("reading the applied migrations"))?;
    let known = newest(migrations);
    if found > known {
        return Err(PgError::SchemaTooNew {
            schema: schema.to_owned(),
            found,
            known,
        });
    }
    for m in migrations.iter().filter(|m| m.version > found) {
        let failed = |e: tokio_postgres::Error| PgError::Migration {
            schema: schema.to_owned(),
            name: m.name,
            reason: crate::codec::PgFailure::of(&e).to_string(),
        };
        tx.batch_execute(m.sql).await.map_err(failed)?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
            &[&m.version, &m.name],
        )
        .await
        .map_err(failed)?;
        tracing::info!(schema, migration = m.name, "applied migration");
    }
    tx.commit().await.map_err(fail("committing migrations"))
}
