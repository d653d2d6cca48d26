//! A small pool of read-only connections used from blocking tasks, and read snapshots.

use crate::conn;
use privet_store::{Context, Error, Result};
use rusqlite::Connection;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// Idle read connections; more are opened on demand and kept up to `MAX_IDLE`.
#[derive(Clone)]
pub(crate) struct ReadPool {
    path: PathBuf,
    idle: Arc<Mutex<Vec<Connection>>>,
}

const MAX_IDLE: usize = 8;

impl ReadPool {
    pub(crate) fn new(path: PathBuf) -> Self {
        ReadPool {
            path,
            idle: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// Takes an idle connection or opens one.
    pub(crate) fn take(&self) -> Result<Connection> {
        let idle = self.idle.lock().ok().and_then(|mut v| v.pop());
        match idle {
            Some(c) => Ok(c),
            None => conn::open(&self.path, true),
        }
    }

    /// Returns a connection for reuse.
    pub(crate) fn give(&self, c: Connection) {
        // A connection still inside a transaction would pin an old snapshot, and with it the
        // WAL, for as long as it sits idle: close it instead.
        if !c.is_autocommit() {
            return;
        }
        if let Ok(mut v) = self.idle.lock()
            && v.len() < MAX_IDLE
        {
            v.push(c);
        }
    }

    /// Runs `f` on a read connection in a blocking task.
    pub(crate) async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let pool = self.clone();
        tokio::task::spawn_blocking(move || {
            let c = pool.take()?;
            let out = f(&c);
            pool.give(c);
            out
        })
        .await
        .map_err(|_| Error::Closed)?
    }

    /// Runs `f` on a read connection inside one read transaction (see [`snapshot`]).
    pub(crate) async fn read_snapshot<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        self.read(move |c| snapshot(c, f)).await
    }
}

/// Runs `f` inside one read transaction: everything it reads comes from the snapshot taken at
/// its first read, so a chunk dropped by a concurrent writer is still whole for it. The
/// transaction ends however `f` ends (result, error or early stop).
pub(crate) fn snapshot<T>(c: &Connection, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
    // Deferred: a read transaction, taking no lock a writer would wait for.
    let tx = c.unchecked_transaction().op("begin read")?;
    let out = f(&tx);
    // Nothing was written; ending it only releases the snapshot.
    let end = tx.rollback().op("end read");
    let out = out?;
    end?;
    Ok(out)
}
