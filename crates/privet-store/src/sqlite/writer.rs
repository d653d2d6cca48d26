//! The single writer thread with group commit: concurrent writes share one transaction and
//! one fsync, and each caller is answered only after the commit is durable.

use crate::error::{BackendError, Context, Error, Result};
use rusqlite::{Connection, Transaction, TransactionBehavior};
use std::any::Any;
use std::sync::mpsc;
use tokio::sync::oneshot;

type Output = Box<dyn Any + Send>;
type Work = Box<dyn FnOnce(&Transaction<'_>) -> Result<Output> + Send>;

struct Job {
    work: Work,
    reply: oneshot::Sender<Result<Output>>,
}

/// Most jobs grouped into one commit; bounds the latency a single commit can add.
const MAX_GROUP: usize = 512;

/// Handle to the writer thread.
pub(crate) struct Writer {
    tx: mpsc::Sender<Job>,
}

impl Writer {
    /// Starts the writer thread on `conn`.
    pub(crate) fn start(conn: Connection, name: &str) -> Result<Writer> {
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name(format!("privet-writer-{name}"))
            .spawn(move || run(conn, rx))
            .op("start writer thread")?;
        Ok(Writer { tx })
    }

    /// Runs `work` inside a group-committed transaction; resolves after the commit.
    pub(crate) async fn write<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> Result<T> + Send + 'static,
    {
        let (reply, rx) = oneshot::channel();
        let work: Work = Box::new(move |tx| work(tx).map(|v| Box::new(v) as Output));
        self.tx
            .send(Job { work, reply })
            .map_err(|_| Error::Closed)?;
        let out = rx.await.map_err(|_| Error::Closed)??;
        out.downcast::<T>().map(|b| *b).map_err(|_| Error::Corrupt {
            what: "writer reply",
        })
    }
}

fn run(mut conn: Connection, rx: mpsc::Receiver<Job>) {
    while let Ok(first) = rx.recv() {
        let mut jobs = vec![first];
        while jobs.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        commit_group(&mut conn, jobs);
    }
}

fn commit_group(conn: &mut Connection, jobs: Vec<Job>) {
    let tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
        Ok(tx) => tx,
        Err(e) => {
            let msg = e.to_string();
            for job in jobs {
                let _ = job.reply.send(Err(Error::backend(
                    "begin transaction",
                    BackendError::Group(msg.clone()),
                )));
            }
            return;
        }
    };
    let mut results = Vec::with_capacity(jobs.len());
    for job in jobs {
        // A savepoint per job: one failing job is rolled back alone, the others commit.
        // Prepared once and cached: re-parsing these per job showed up in profiles.
        let out = tx
            .prepare_cached("SAVEPOINT job")
            .and_then(|mut s| s.execute([]))
            .op("savepoint")
            .and_then(|_| (job.work)(&tx));
        let end = if out.is_err() {
            tx.prepare_cached("ROLLBACK TO job")
                .and_then(|mut s| s.execute([]))
                .and_then(|_| tx.prepare_cached("RELEASE job"))
                .and_then(|mut s| s.execute([]))
                .map(|_| ())
        } else {
            tx.prepare_cached("RELEASE job")
                .and_then(|mut s| s.execute([]))
                .map(|_| ())
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
            let msg = e.to_string();
            for (reply, _) in results {
                let _ = reply.send(Err(Error::backend(
                    "commit",
                    BackendError::Group(msg.clone()),
                )));
            }
        }
    }
}
