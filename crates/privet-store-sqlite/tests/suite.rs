//! The SQLite backend passes the shared suite, with crypto-shredding checked by scanning
//! every file of the data directory.

// Test helpers outside `#[test]` functions may unwrap and panic too.
#![allow(clippy::unwrap_used, clippy::panic)]

use async_trait::async_trait;
use privet_store::suite::{self, Residue};
use privet_store_sqlite::{KEYRING_FILE, STORE_FILE, SqliteDir};
use std::path::PathBuf;

/// Looks for bytes in every file of a data directory: both databases, their WAL and
/// shared-memory files, and anything else SQLite may leave there.
struct DirResidue(PathBuf);

#[async_trait]
impl Residue for DirResidue {
    async fn holds(&self, needle: &[u8]) -> privet_store::Result<bool> {
        let mut found = false;
        for entry in std::fs::read_dir(&self.0).unwrap() {
            let path = entry.unwrap().path();
            if path.is_file() {
                let bytes = std::fs::read(&path).unwrap();
                found |= bytes.windows(needle.len()).any(|w| w == needle);
            }
        }
        Ok(found)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_passes_the_shared_suite() {
    let dir = tempfile::tempdir().unwrap();
    let SqliteDir { store, keyring, .. } = SqliteDir::open(dir.path()).unwrap();
    suite::run(&store, &keyring, &DirResidue(dir.path().to_owned())).await;
}

#[tokio::test]
async fn the_residue_check_sees_every_file() {
    // The shredding checks mean something only if the scan reads the WAL, not just the
    // database files: a value just written sits in the WAL.
    let dir = tempfile::tempdir().unwrap();
    let SqliteDir { keyring, .. } = SqliteDir::open(dir.path()).unwrap();
    let marker = b"<only-in-the-wal>".to_vec();
    let p = privet_crypto::MasterKey::from_bytes([1; 32])
        .pseudonymizer()
        .pseudonym("x");
    privet_store::Keyring::put(&keyring, &p, marker.clone(), jiff::Timestamp::UNIX_EPOCH)
        .await
        .unwrap();
    let db = std::fs::read(dir.path().join(KEYRING_FILE)).unwrap();
    assert!(
        !db.windows(marker.len()).any(|w| w == marker),
        "not yet checkpointed"
    );
    let residue = DirResidue(dir.path().to_owned());
    assert!(residue.holds(&marker).await.unwrap());
    assert!(!residue.holds(b"<never-written>").await.unwrap());
}

#[tokio::test]
async fn database_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("data");
    let _opened = SqliteDir::open(&dir).unwrap();
    let mode = |p: PathBuf| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(dir.clone()), 0o700, "the directory");
    for f in [STORE_FILE, KEYRING_FILE] {
        assert_eq!(mode(dir.join(f)), 0o600, "{f}");
    }
}
