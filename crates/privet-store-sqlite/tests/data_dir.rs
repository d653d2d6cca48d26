//! The data directory: one serving process at a time, and restoring a backup of the store.

// Test helpers outside `#[test]` functions may unwrap and panic too.
#![allow(clippy::unwrap_used, clippy::panic)]

use privet_policy::{SubjectId, SubjectKind};
use privet_store::{NewSubject, Store};
use privet_store_sqlite::{KEYRING_FILE, STORE_FILE, SqliteDir, SqliteDirError, SqliteStore};
use std::path::Path;

fn subject(id: &str) -> NewSubject {
    NewSubject {
        id: SubjectId::new(id),
        kind: SubjectKind::Household,
        household: None,
        pseudonym: privet_crypto::MasterKey::from_bytes([4; 32])
            .pseudonymizer()
            .pseudonym(id),
        child: false,
        profile: vec![1],
        created_at: jiff::Timestamp::UNIX_EPOCH,
    }
}

#[test]
fn a_locked_directory_is_refused_until_the_lock_is_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let lock = SqliteDir::lock(dir.path()).unwrap();
    assert_eq!(lock.dir(), dir.path());
    let second = SqliteDir::lock(dir.path()).unwrap_err();
    assert!(matches!(second, SqliteDirError::Locked(_)));
    assert_eq!(
        second.to_string(),
        format!(
            "another privet process is serving {}; stop it first",
            dir.path().display()
        )
    );
    drop(lock);
    assert!(SqliteDir::lock(dir.path()).is_ok());
}

/// A data directory with one household stored, and a backup of its store taken then.
async fn directory_with_backup(root: &Path) -> std::path::PathBuf {
    let backup = root.join("backup.db");
    let SqliteDir { store, .. } = SqliteDir::open(&root.join("data")).unwrap();
    store.create_subject(subject("kept")).await.unwrap();
    store.backup_to(&backup).await.unwrap();
    store.create_subject(subject("after")).await.unwrap();
    drop(store);
    // What a killed server leaves: a WAL and shared memory beside the store (closing the store
    // cleanly removed the real ones).
    for f in ["privet.db-wal", "privet.db-shm"] {
        std::fs::write(root.join("data").join(f), b"left by a killed server").unwrap();
    }
    backup
}

#[tokio::test]
async fn a_backup_replaces_the_store_and_its_wal() {
    let root = tempfile::tempdir().unwrap();
    let backup = directory_with_backup(root.path()).await;
    let data = root.path().join("data");

    let lock = SqliteDir::lock(&data).unwrap();
    lock.install_backup(&backup).unwrap();
    assert!(
        !data.join("privet.db-wal").exists(),
        "the old WAL is not replayed"
    );
    assert!(!data.join("privet.db-shm").exists());
    assert!(!data.join("privet.db.restoring").exists());
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(data.join(STORE_FILE))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);

    let store = SqliteStore::open(&data.join(STORE_FILE)).unwrap();
    assert!(store.subject(&SubjectId::new("kept")).await.is_ok());
    assert!(
        store
            .subject(&SubjectId::new("after"))
            .await
            .unwrap_err()
            .is_not_found(),
        "what was written after the backup is gone"
    );
}

#[tokio::test]
async fn only_a_backup_of_a_data_store_is_installed() {
    let root = tempfile::tempdir().unwrap();
    let backup = directory_with_backup(root.path()).await;
    let data = root.path().join("data");
    let lock = SqliteDir::lock(&data).unwrap();
    let live_bytes = std::fs::read(data.join(STORE_FILE)).unwrap();

    let stray = root.path().join("notes.txt");
    std::fs::write(&stray, "not a database at all").unwrap();
    let err = lock.install_backup(&stray).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("{} is not a Privet data store backup", stray.display())
    );

    let keyring_copy = root.path().join("keyring-copy.db");
    std::fs::copy(data.join(KEYRING_FILE), &keyring_copy).unwrap();
    assert!(matches!(
        lock.install_backup(&keyring_copy).unwrap_err(),
        SqliteDirError::NotABackup(_)
    ));

    let live = data.join(STORE_FILE);
    let err = lock.install_backup(&live).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{} is the live data store itself, not a backup of it",
            live.display()
        )
    );
    let via_link = root.path().join("hard-link.db");
    std::fs::hard_link(&live, &via_link).unwrap();
    assert!(matches!(
        lock.install_backup(&via_link).unwrap_err(),
        SqliteDirError::LiveStore(_)
    ));

    let missing = root.path().join("missing.db");
    assert!(matches!(
        lock.install_backup(&missing).unwrap_err(),
        SqliteDirError::OpenBackup { .. }
    ));

    // Without the keyring the backup could not be read: refused before anything is touched.
    std::fs::remove_file(data.join(KEYRING_FILE)).unwrap();
    let err = lock.install_backup(&backup).unwrap_err();
    assert!(matches!(err, SqliteDirError::NoKeyring(_)));
    assert!(err.to_string().contains("has no keyring.db"));
    assert!(
        data.join("privet.db-wal").exists(),
        "the live store is untouched"
    );
    assert_eq!(std::fs::read(data.join(STORE_FILE)).unwrap(), live_bytes);
}

#[tokio::test]
async fn a_restore_is_refused_while_the_store_is_open_and_opening_is_refused_during_one() {
    let root = tempfile::tempdir().unwrap();
    let backup = directory_with_backup(root.path()).await;
    let data = root.path().join("data");

    // A command without the serving lock (a backup, say) has the store open: refused.
    let SqliteDir { store, .. } = SqliteDir::open(&data).unwrap();
    let lock = SqliteDir::lock(&data).unwrap();
    assert!(
        matches!(lock.install_backup(&backup), Err(SqliteDirError::InUse(_))),
        "installed under an open store"
    );
    assert!(
        store.subject(&SubjectId::new("after")).await.is_ok(),
        "the open store is untouched"
    );
    drop(store);
    let installed = lock.install_backup(&backup).unwrap();

    // Until the restore has dealt with the backup (its own store keeps the lock), opening the
    // directory is refused rather than racing it.
    let refused = || matches!(SqliteDir::open(&data), Err(SqliteDirError::Restoring(_)));
    assert!(refused(), "opened while the backup was being installed");
    let restoring = installed.open().unwrap();
    assert!(
        restoring
            .store
            .subject(&SubjectId::new("kept"))
            .await
            .is_ok()
    );
    assert!(refused(), "opened before the restore was done");
    drop(restoring);
    assert!(SqliteDir::open(&data).is_ok());
}
