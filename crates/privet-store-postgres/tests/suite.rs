//! The PostgreSQL backend passes the shared suite, on a fresh pair of schemas.
//!
//! Crypto-shredding is checked as "no live row": [`RowResidue`] searches every row of every
//! table in both schemas. Older row versions and WAL are out of its sight; the crate's docs say
//! what covers them (vacuum after each removal, and master-key epoch rotation).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use async_trait::async_trait;
use privet_store::suite::{self, Residue};
use privet_store_postgres::{PgStore, open};

/// Looks for bytes in every row of every table (partitions included) of the given schemas:
/// `bytea` and `text` columns, and arrays of them.
struct RowResidue {
    store: PgStore,
    schemas: Vec<String>,
}

#[async_trait]
impl Residue for RowResidue {
    async fn holds(&self, needle: &[u8]) -> privet_store::Result<bool> {
        let c = self.store.pool().get().await.unwrap();
        let columns = c
            .query(
                "SELECT n.nspname::text, t.relname::text, a.attname::text, a.atttypid::regtype::text
                 FROM pg_attribute a
                 JOIN pg_class t ON t.oid = a.attrelid
                 JOIN pg_namespace n ON n.oid = t.relnamespace
                 WHERE n.nspname = ANY($1) AND t.relkind = 'r' AND a.attnum > 0
                   AND NOT a.attisdropped
                 ORDER BY 1, 2, a.attnum",
                &[&self.schemas],
            )
            .await
            .unwrap();
        let mut tables: std::collections::BTreeMap<(String, String), Vec<String>> =
            Default::default();
        for r in &columns {
            let (schema, table, column, ty): (String, String, String, String) =
                (r.get(0), r.get(1), r.get(2), r.get(3));
            let col = format!("\"{column}\"");
            let test = match ty.as_str() {
                "bytea" => format!("position($1 in {col}) > 0"),
                "text" => format!("position($1 in convert_to({col}, 'UTF8')) > 0"),
                "bytea[]" => {
                    format!("EXISTS (SELECT 1 FROM unnest({col}) x WHERE position($1 in x) > 0)")
                }
                "text[]" => format!(
                    "EXISTS (SELECT 1 FROM unnest({col}) x WHERE position($1 in convert_to(x, 'UTF8')) > 0)"
                ),
                // Numbers, booleans, dates and times cannot hold the markers.
                _ => continue,
            };
            tables.entry((schema, table)).or_default().push(test);
        }
        for ((schema, table), tests) in tables {
            let sql = format!(
                "SELECT EXISTS (SELECT 1 FROM \"{schema}\".\"{table}\" WHERE {})",
                tests.join(" OR ")
            );
            let found: bool = c.query_one(&sql, &[&needle]).await.unwrap().get(0);
            if found {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_passes_the_shared_suite() {
    let Some(url) = common::url() else { return };
    common::with_fresh(&url, |opts| async move {
        let (store, keyring) = open(&opts).await.unwrap();
        let residue = RowResidue {
            store: store.clone(),
            schemas: vec![opts.schema.clone(), opts.keyring_schema.clone()],
        };
        suite::run(&store, &keyring, &residue).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_residue_check_sees_both_schemas() {
    let Some(url) = common::url() else { return };
    common::with_fresh(&url, |opts| async move {
        let (store, keyring) = open(&opts).await.unwrap();
        let residue = RowResidue {
            store: store.clone(),
            schemas: vec![opts.schema.clone(), opts.keyring_schema.clone()],
        };
        let p = privet_crypto::MasterKey::from_bytes([1; 32])
            .pseudonymizer()
            .pseudonym("x");
        let marker = b"<only-in-the-keyring>".to_vec();
        privet_store::Keyring::put(&keyring, &p, marker.clone(), jiff::Timestamp::UNIX_EPOCH)
            .await
            .unwrap();
        assert!(residue.holds(&marker).await.unwrap());
        assert!(!residue.holds(b"<never-written>").await.unwrap());
    })
    .await;
}
