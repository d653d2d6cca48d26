//! Retention chunks: one table (`rec_<id>`) per retention class and window, listed in
//! `chunks`, so an expired chunk is dropped whole and retention costs O(chunks), not O(rows).
//! Which window a block belongs in and when a chunk has expired are `privet_policy`'s to
//! decide; this module only stores and drops what it is told.

use crate::codec::{changed, count};
use crate::rows;
use jiff::Timestamp;
use privet_manifest::Retention;
use privet_policy::{ChunkId, ChunkInfo, ChunkWindow};
use privet_store::{Context, Error, Result, RetentionReport};
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::HashMap;

/// A chunk as listed in `chunks`.
#[derive(Clone, Debug)]
pub(crate) struct Chunk {
    /// Its row id, which names its table.
    pub(crate) id: i64,
    /// Its class and window, as stored.
    pub(crate) window: ChunkWindow,
}

/// The table holding a chunk's blocks.
pub(crate) fn table(id: i64) -> String {
    format!("rec_{id}")
}

/// The window of a `chunks` row. Windows are stored in whole seconds, as they always were,
/// so databases written before the policy chose windows still read.
fn window(class: &str, start: i64, end: i64) -> Result<ChunkWindow> {
    let at = |s: i64| {
        Timestamp::from_second(s).map_err(|_| Error::Corrupt {
            what: "chunk window",
        })
    };
    Ok(ChunkWindow {
        class: Retention::parse(class).map_err(|_| Error::Corrupt {
            what: "retention class",
        })?,
        start: at(start)?,
        end: at(end)?,
    })
}

/// Every chunk, oldest window first.
pub(crate) fn list(c: &Connection) -> Result<Vec<Chunk>> {
    let mut stmt = c
        .prepare_cached(
            "SELECT id, class, window_start, window_end FROM chunks ORDER BY window_start, id",
        )
        .op("list chunks")?;
    rows::decode_all(
        &mut stmt,
        [],
        "list chunks",
        |(id, class, start, end): (i64, String, i64, i64)| {
            Ok(Chunk {
                id,
                window: window(&class, start, end)?,
            })
        },
    )
}

/// Every chunk as the policy sees it.
pub(crate) fn infos(c: &Connection) -> Result<Vec<ChunkInfo>> {
    Ok(list(c)?
        .into_iter()
        .map(|ch| ChunkInfo {
            id: ChunkId(ch.id),
            window: ch.window,
        })
        .collect())
}

/// The writer's memory of which chunk holds each (class, window start), so appending a block
/// does not look its chunk up each time.
///
/// Another process (`privet retention run` next to a server) may drop chunks, so the cache is
/// trusted only while the schema cookie is the one it was filled under: creating or dropping
/// a table changes it, and the writer's transaction keeps it still while a job runs. The
/// writer also clears it whenever a job or a commit fails, since what was cached may have been
/// rolled back.
#[derive(Debug, Default)]
pub(crate) struct ChunkCache {
    schema: Option<i64>,
    ids: HashMap<(Retention, i64), i64>,
}

fn schema_version(c: &Connection) -> Result<i64> {
    c.prepare_cached("PRAGMA schema_version")
        .and_then(|mut s| s.query_row([], |r| r.get(0)))
        .op("read schema version")
}

impl ChunkCache {
    /// Forgets every chunk id.
    pub(crate) fn clear(&mut self) {
        self.schema = None;
        self.ids.clear();
    }

    /// Checks the cache is still valid in this transaction; call once per job before
    /// [`ChunkCache::chunk_for`].
    pub(crate) fn revalidate(&mut self, c: &Connection) -> Result<()> {
        let v = schema_version(c)?;
        if self.schema != Some(v) {
            self.ids.clear();
            self.schema = Some(v);
        }
        Ok(())
    }

    /// The id of the chunk for `window`, created (row and table) if it does not exist.
    pub(crate) fn chunk_for(&mut self, c: &Connection, window: &ChunkWindow) -> Result<i64> {
        let start = window.start.as_second();
        if let Some(&id) = self.ids.get(&(window.class, start)) {
            return Ok(id);
        }
        let class = window.class.to_string();
        let existing: Option<i64> = c
            .prepare_cached("SELECT id FROM chunks WHERE class = ?1 AND window_start = ?2")
            .and_then(|mut s| s.query_row(params![class, start], |r| r.get(0)).optional())
            .op("find chunk")?;
        let id = match existing {
            Some(id) => id,
            None => {
                let id = create(c, &class, start, window.end.as_second())?;
                // The table just created changed the schema cookie; what is cached stays
                // valid, since nothing else can change the schema inside this transaction.
                self.schema = Some(schema_version(c)?);
                id
            }
        };
        self.ids.insert((window.class, start), id);
        Ok(id)
    }
}

fn create(c: &Connection, class: &str, start: i64, end: i64) -> Result<i64> {
    c.execute(
        "INSERT INTO chunks (class, window_start, window_end) VALUES (?1, ?2, ?3)",
        params![class, start, end],
    )
    .op("create chunk")?;
    let id = c.last_insert_rowid();
    let t = table(id);
    c.execute_batch(&format!(
        "CREATE TABLE IF NOT EXISTS {t} (
            id BLOB NOT NULL UNIQUE,
            subject BLOB NOT NULL,
            stream TEXT NOT NULL,
            product TEXT NOT NULL,
            device TEXT NOT NULL,
            class TEXT NOT NULL,
            t_min INTEGER NOT NULL,
            t_max INTEGER NOT NULL,
            expires_max INTEGER NOT NULL,
            n INTEGER NOT NULL,
            payload BLOB NOT NULL
        ) STRICT;
        CREATE INDEX IF NOT EXISTS {t}_subject ON {t}(subject, stream, t_min);"
    ))
    .op("create chunk table")?;
    Ok(id)
}

/// Drops these chunks (those that still exist) and counts what they held.
pub(crate) fn drop(c: &Connection, ids: &[ChunkId]) -> Result<RetentionReport> {
    let mut report = RetentionReport::default();
    for &ChunkId(id) in ids {
        let exists: bool = c
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM chunks WHERE id = ?1)")
            .and_then(|mut s| s.query_row([id], |r| r.get(0)))
            .op("find chunk")?;
        if !exists {
            continue;
        }
        let t = table(id);
        let (blocks, events): (i64, Option<i64>) = c
            .query_row(&format!("SELECT count(*), sum(n) FROM {t}"), [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .op("count chunk")?;
        c.execute_batch(&format!("DROP TABLE {t}"))
            .op("drop chunk")?;
        let n = c
            .execute("DELETE FROM chunks WHERE id = ?1", [id])
            .op("drop chunk")?;
        report.chunks_dropped += changed(n);
        report.blocks_dropped += count(blocks);
        report.events_dropped += count(events.unwrap_or(0));
    }
    Ok(report)
}
