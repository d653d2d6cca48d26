//! A small pool of read-only connections used from blocking tasks.

use super::conn;
use crate::error::{Error, Result};
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
}
