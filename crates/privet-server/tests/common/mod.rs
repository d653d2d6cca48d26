//! What every test of this crate starts from: the example manifests, a fresh data directory
//! on the embedded SQLite backend, fresh instance keys, and a manual clock at [`START`] that a
//! test moves instead of sleeping.
#![allow(dead_code, unreachable_pub)]

use privet_crypto::{InstanceRoot, MasterKey, MasterKeys, SigningKey, os_rng};
use privet_manifest::LintContext;
use privet_server::{Clock, Parts, Products};
use privet_store_sqlite::SqliteDir;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// When every test's clock starts.
pub const START: &str = "2026-12-05T10:00:00Z";

/// A manual clock standing at [`START`].
pub fn clock() -> Clock {
    Clock::manual(START.parse().unwrap_or(jiff::Timestamp::UNIX_EPOCH))
}

/// The example manifests' directory.
pub fn manifests_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/manifests")
}

/// The example manifests, linted as of `clock`'s day.
pub fn example_products(clock: &Clock) -> Products {
    let cx = LintContext {
        today: clock.today_utc(),
    };
    match Products::load_dir(&manifests_dir(), &cx) {
        Ok((p, _)) => p,
        Err(e) => panic!("example manifests: {e}"),
    }
}

/// A server's parts over a fresh SQLite data directory in `dir`.
pub fn parts(dir: &Path, products: Products, clock: Clock) -> Parts {
    let opened = match SqliteDir::open(&dir.join("data")) {
        Ok(o) => o,
        Err(e) => panic!("open data directory: {e}"),
    };
    Parts {
        store: Arc::new(opened.store),
        keyring: Arc::new(opened.keyring),
        root: InstanceRoot::generate(&mut os_rng()),
        epochs: MasterKeys::single(MasterKey::generate(&mut os_rng())),
        signing: SigningKey::generate(&mut os_rng()),
        products,
        clock,
    }
}

/// The two small test products (`tests/fixtures/plug.toml`, `lamp.toml`), linted as of
/// `clock`'s day.
pub fn fixture_products(clock: &Clock) -> Products {
    let sources = [
        ("plug.toml", include_str!("../fixtures/plug.toml")),
        ("lamp.toml", include_str!("../fixtures/lamp.toml")),
    ]
    .map(|(name, text)| (name.into(), text.to_owned()))
    .to_vec();
    let cx = LintContext {
        today: clock.today_utc(),
    };
    match Products::from_sources(sources, &cx) {
        Ok((p, _)) => p,
        Err(e) => panic!("fixture manifests: {e}"),
    }
}
