//! The single writer thread with group commit: concurrent writes share one transaction and
//! one fsync, and each caller is answered only after the commit is durable.

use crate::chunks::ChunkCache;
use privet_store::{Context, Error, Result};
use rusqlite::{Connection, Transaction, TransactionBehavior};
use std::any::Any;
use std::sync::{Arc, mpsc};
use tokio::sync::oneshot;

type Output = Box<dyn Any + Send>;
type Work = Box<dyn FnOnce(&Transaction<'_>, &mut ChunkCache) -> Result<Output> + Send>;

struct Job {
    work: Work,
    reply: oneshot::Sender<Result<Output>>,
}

/// Most jobs grouped into one commit; bounds the latency a single commit can add.
const MAX_GROUP: usize = 512;

/// Statements the writer keeps prepared: the fixed ones plus an insert per live chunk.
const STATEMENT_CACHE: usize = 64;

/// Handle to the writer thread. Dropping it lets the thread finish the jobs already sent and
/// waits for it, so the connection is closed once the handle is gone.
pub(crate) struct Writer {
    tx: Option<mpsc::Sender<Job>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Writer {
    /// Starts the writer thread on `conn`.
    pub(crate) fn start(conn: Connection, name: &str) -> Result<Writer> {
        let (tx, rx) = mpsc::channel::<Job>();
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        let thread = std::thread::Builder::new()
            .name(format!("privet-writer-{name}"))
            .spawn(move || run(conn, rx))
            .op("start writer thread")?;
        Ok(Writer {
            tx: Some(tx),
            thread: Some(thread),
        })
    }

    /// Runs `work` inside a group-committed transaction; resolves after the commit.
    pub(crate) async fn write<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> Result<T> + Send + 'static,
    {
        self.write_chunks(move |tx, _| work(tx)).await
    }

    /// Like [`Writer::write`], with the writer's cache of chunk ids (valid only on this
    /// thread, inside its transaction).
    pub(crate) async fn write_chunks<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>, &mut ChunkCache) -> Result<T> + Send + 'static,
    {
        let (reply, rx) = oneshot::channel();
        let work: Work = Box::new(move |tx, cache| work(tx, cache).map(|v| Box::new(v) as Output));
        self.tx
            .as_ref()
            .ok_or(Error::Closed)?
            .send(Job { work, reply })
            .map_err(|_| Error::Closed)?;
        let out = rx.await.map_err(|_| Error::Closed)??;
        out.downcast::<T>().map(|b| *b).map_err(|_| Error::Corrupt {
            what: "writer reply",
        })
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        // Closing the channel ends the thread's loop once the queue is empty.
        self.tx = None;
        if let Some(t) = self.thread.take()
            && t.join().is_err()
        {
            tracing::error!("the writer thread panicked");
        }
    }
}

fn run(mut conn: Connection, rx: mpsc::Receiver<Job>) {
    let mut cache = ChunkCache::default();
    while let Ok(first) = rx.recv() {
        let mut jobs = vec![first];
        while jobs.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        commit_group(&mut conn, &mut cache, jobs);
    }
}

fn exec_cached(tx: &Transaction<'_>, sql: &str) -> rusqlite::Result<()> {
    tx.prepare_cached(sql)
        .and_then(|mut s| s.execute([]))
        .map(|_| ())
}

fn commit_group(conn: &mut Connection, cache: &mut ChunkCache, jobs: Vec<Job>) {
    let tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
        Ok(tx) => tx,
        Err(e) => {
            // One error answers every job of the group; shared rather than re-rendered.
            let e = Arc::new(e);
            for job in jobs {
                let _ = job
                    .reply
                    .send(Err(Error::backend("begin transaction", e.clone())));
            }
            return;
        }
    };
    let mut results = Vec::with_capacity(jobs.len());
    for job in jobs {
        // A savepoint per job: one failing job is rolled back alone, the others commit.
        // Prepared once and cached: re-parsing these per job showed up in profiles.
        let out = exec_cached(&tx, "SAVEPOINT job")
            .op("savepoint")
            .and_then(|()| (job.work)(&tx, cache));
        let end = if out.is_err() {
            // What the job did is undone, so what it cached may name chunks that do not exist.
            cache.clear();
            exec_cached(&tx, "ROLLBACK TO job").and_then(|()| exec_cached(&tx, "RELEASE job"))
        } else {
            exec_cached(&tx, "RELEASE job")
        };
        let out = match end {
            Ok(()) => out,
            Err(e) => Err(Error::backend("release savepoint", e)),
        };
        results.push((job.reply, out));
    }
    match tx.commit() {
        Ok(()) => {
            for (reply, out) in results {
                let _ = reply.send(out);
            }
        }
        Err(e) => {
            cache.clear();
            let e = Arc::new(e);
            for (reply, _) in results {
                let _ = reply.send(Err(Error::backend("commit", e.clone())));
            }
        }
    }
}
