//! Where a bench run's files go: the server's data directory, the baseline's SQLite file and
//! the manifests, in a fresh directory (`--data DIR`) or a temporary one removed afterwards.

use anyhow::{Context, ensure};
use std::path::{Path, PathBuf};

/// Where the run's files go, removed afterwards when temporary.
pub(super) struct Workspace {
    pub(super) root: PathBuf,
    _temp: Option<tempfile::TempDir>,
}

impl Workspace {
    pub(super) fn new(data: Option<&Path>) -> anyhow::Result<Workspace> {
        let (root, temp) = match data {
            Some(d) => {
                std::fs::create_dir_all(d)
                    .with_context(|| format!("cannot create {}", d.display()))?;
                (d.to_owned(), None)
            }
            None => {
                let t = tempfile::Builder::new()
                    .prefix("privet-bench-")
                    .tempdir()
                    .context("cannot create a temporary directory")?;
                (t.path().to_owned(), Some(t))
            }
        };
        let ws = Workspace { root, _temp: temp };
        for p in [ws.server_data(), ws.raw_db()] {
            ensure!(
                !p.exists(),
                "{} already exists; use a fresh --data DIR",
                p.display()
            );
        }
        Ok(ws)
    }

    pub(super) fn server_data(&self) -> PathBuf {
        self.root.join("pipeline")
    }

    pub(super) fn raw_db(&self) -> PathBuf {
        self.root.join("raw.db")
    }

    pub(super) fn manifests(&self) -> PathBuf {
        self.root.join("manifests")
    }
}

/// Size of a SQLite database with its WAL.
pub(super) fn db_bytes(path: &Path) -> u64 {
    ["", "-wal"]
        .iter()
        .filter_map(|suffix| {
            let mut p = path.as_os_str().to_owned();
            p.push(suffix);
            std::fs::metadata(p).ok().map(|m| m.len())
        })
        .sum()
}
