//! The background checkpointer: moves the WAL into the database from its own connection and
//! thread, so commits on the writer thread never stall for a checkpoint (SQLite's automatic
//! one runs inline at commit, and is turned off).
//!
//! It also truncates the WAL on demand. Deleted content is zeroed in place (`secure_delete`),
//! but the pages that held it live on in WAL frames until a checkpoint copies the newest
//! pages back and the WAL is truncated to nothing; erasure and device reset ask for that at
//! once and wait for it. A TRUNCATE must wait for readers of older snapshots; when they do not
//! finish in time the request is not failed but remembered, and retried every tick until it
//! succeeds.

use crate::conn;
use privet_store::{Context, Result};
use rusqlite::Connection;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::Duration;
use tokio::sync::oneshot;

/// How often the background checkpoint runs.
const TICK: Duration = Duration::from_millis(250);

/// WAL frames (pages) past which a caught-up WAL is truncated by the background checkpoint.
const TRUNCATE_FRAMES: i64 = 16 * 1024;

/// How long an erasure's TRUNCATE waits for readers. A TRUNCATE holds off writers while it
/// waits, so this bounds the stall an erasure can cause behind a long read (an export);
/// ordinary reads end well within it.
const URGENT_WAIT: Duration = Duration::from_millis(200);

/// How long a retried TRUNCATE waits for readers, each tick: short, since it may be retried
/// many times while a long read runs, stalling writers each time.
const RETRY_WAIT: Duration = Duration::from_millis(20);

/// Handle to the checkpoint thread; dropping it stops the thread and waits for it, so its
/// connection is closed once the handle is gone.
pub(crate) struct Checkpointer {
    urgent: Option<mpsc::Sender<oneshot::Sender<bool>>>,
    owed: Arc<Owed>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Checkpointer {
    /// Starts the checkpoint thread on its own connection to `path`.
    pub(crate) fn start(path: &Path) -> Result<Checkpointer> {
        let (urgent, requests) = mpsc::channel();
        let owed = Arc::new(Owed::default());
        let flag = owed.clone();
        let conn = conn::open(path, false)?;
        let thread = std::thread::Builder::new()
            .name("privet-checkpoint".to_owned())
            .spawn(move || run(&conn, &requests, &flag))
            .op("start checkpoint thread")?;
        Ok(Checkpointer {
            urgent: Some(urgent),
            owed,
            thread: Some(thread),
        })
    }

    /// Checkpoints and truncates the WAL now, so what was deleted by the writes committed so
    /// far is in no file; returns whether it was done. When readers hold it off, the
    /// background thread keeps retrying.
    pub(crate) async fn truncate_now(&self) -> bool {
        let (reply, done) = oneshot::channel();
        let sent = self.urgent.as_ref().is_some_and(|u| u.send(reply).is_ok());
        if !sent {
            tracing::warn!("the checkpoint thread has stopped; the WAL was not truncated");
            return false;
        }
        done.await.unwrap_or(false)
    }

    /// Asks the background thread to truncate the WAL at its next tick (after deletions whose
    /// content is sealed, where waiting is not worth a stall).
    pub(crate) fn truncate_soon(&self) {
        self.owed.request();
    }

    /// Whether a truncation is still owed.
    #[cfg(test)]
    pub(crate) fn is_pending(&self) -> bool {
        self.owed.is_pending()
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        // A closed channel wakes the thread at once.
        self.urgent = None;
        if let Some(t) = self.thread.take()
            && t.join().is_err()
        {
            tracing::error!("the checkpoint thread panicked");
        }
    }
}

/// Truncations asked for and truncations done, counted: a request made while a truncation
/// runs is still owed after it (the truncation may have started before the request's commit).
#[derive(Debug, Default)]
struct Owed {
    requested: AtomicU64,
    settled: AtomicU64,
}

impl Owed {
    fn request(&self) {
        self.requested.fetch_add(1, Ordering::SeqCst);
    }

    fn is_pending(&self) -> bool {
        self.requested.load(Ordering::SeqCst) != self.settled.load(Ordering::SeqCst)
    }

    /// Truncates, and settles every request made before it started if it succeeds.
    fn truncate(&self, conn: &Connection, wait: Duration) -> bool {
        let asked = self.requested.load(Ordering::SeqCst);
        let done = truncate(conn, wait);
        if done {
            self.settled.store(asked, Ordering::SeqCst);
        }
        done
    }
}

fn run(conn: &Connection, requests: &mpsc::Receiver<oneshot::Sender<bool>>, owed: &Owed) {
    loop {
        match requests.recv_timeout(TICK) {
            Ok(reply) => {
                let done = owed.truncate(conn, URGENT_WAIT);
                if !done {
                    owed.request();
                }
                let _ = reply.send(done);
            }
            Err(mpsc::RecvTimeoutError::Timeout) => tick(conn, owed),
            Err(mpsc::RecvTimeoutError::Disconnected) => return,
        }
    }
}

/// One background round: an owed truncation if there is one, else a passive checkpoint.
fn tick(conn: &Connection, owed: &Owed) {
    if owed.is_pending() {
        owed.truncate(conn, RETRY_WAIT);
        return;
    }
    // PASSIVE never blocks the writer or readers; the WAL restarts from its beginning once a
    // checkpoint has caught up.
    let passive = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, i64>(2)?,
        ))
    });
    match passive {
        // Caught up with a large WAL (after a burst, when idle): truncate it, which only
        // waits for the few readers, so the disk is given back now rather than at the next
        // write.
        Ok((0, log, done)) if log == done && log > TRUNCATE_FRAMES => {
            truncate(conn, RETRY_WAIT);
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "background checkpoint failed"),
    }
}

/// Checkpoints the whole WAL and truncates it to nothing, waiting up to `wait` for readers;
/// returns whether it was done.
fn truncate(conn: &Connection, wait: Duration) -> bool {
    if let Err(e) = conn.busy_timeout(wait) {
        tracing::warn!(error = %e, "cannot set the checkpoint's busy timeout");
        return false;
    }
    match conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
        r.get::<_, i64>(0)
    }) {
        Ok(busy) => busy == 0,
        Err(e) => {
            tracing::warn!(error = %e, "WAL truncation failed");
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wal_len(db: &Path) -> u64 {
        let wal = db.with_file_name("t.db-wal");
        std::fs::metadata(wal).map(|m| m.len()).unwrap_or(0)
    }

    #[test]
    fn an_owed_truncation_waits_out_a_reader_and_then_happens() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("t.db");
        let writer = conn::open(&db, false).unwrap();
        writer
            .execute_batch("PRAGMA wal_autocheckpoint = 0; CREATE TABLE t (v BLOB); INSERT INTO t VALUES (x'01');")
            .unwrap();
        let checkpointer = conn::open(&db, false).unwrap();

        // A reader whose snapshot is in the WAL holds a TRUNCATE off.
        let reader = conn::open(&db, true).unwrap();
        reader
            .execute_batch("BEGIN; SELECT count(*) FROM t;")
            .unwrap();
        writer.execute("INSERT INTO t VALUES (x'02')", []).unwrap();
        let owed = Owed::default();
        owed.request();
        tick(&checkpointer, &owed);
        assert!(owed.is_pending(), "still owed while the reader runs");
        assert!(wal_len(&db) > 0);

        reader.execute_batch("COMMIT").unwrap();
        tick(&checkpointer, &owed);
        assert!(!owed.is_pending(), "done once the reader has gone");
        assert_eq!(wal_len(&db), 0, "the WAL is truncated to nothing");
    }
}
