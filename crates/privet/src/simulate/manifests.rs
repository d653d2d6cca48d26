//! The manifests a fleet is simulated from: a directory of `*.toml`, or the five example
//! products built into the binary (the same files as `examples/manifests/`).

use anyhow::{Context, bail};
use privet_manifest::{LintContext, Manifest};
use std::path::Path;
use std::sync::Arc;

/// The example manifests, by file name, as shipped in `examples/manifests/`.
pub(crate) const EXAMPLES: &[(&str, &str)] = &[
    (
        "fitness-tracker.toml",
        include_str!("../../../../examples/manifests/fitness-tracker.toml"),
    ),
    (
        "smart-fridge.toml",
        include_str!("../../../../examples/manifests/smart-fridge.toml"),
    ),
    (
        "smart-speaker.toml",
        include_str!("../../../../examples/manifests/smart-speaker.toml"),
    ),
    (
        "thermostat.toml",
        include_str!("../../../../examples/manifests/thermostat.toml"),
    ),
    (
        "video-doorbell.toml",
        include_str!("../../../../examples/manifests/video-doorbell.toml"),
    ),
];

/// A manifest's file name and text.
pub(crate) type Source = (String, String);

/// The manifest sources in `dir`, or the built-in examples when `dir` is `None`.
pub(crate) fn sources(dir: Option<&Path>) -> anyhow::Result<Vec<Source>> {
    let Some(dir) = dir else {
        return Ok(EXAMPLES
            .iter()
            .map(|(name, text)| ((*name).to_owned(), (*text).to_owned()))
            .collect());
    };
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read manifests directory {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    if paths.is_empty() {
        bail!("no *.toml manifests in {}", dir.display());
    }
    paths
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p)
                .with_context(|| format!("cannot read {}", p.display()))?;
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            Ok((name, text))
        })
        .collect()
}

/// Parses and lints sources; fails naming the first file that has errors.
pub(crate) fn parse(sources: &[Source]) -> anyhow::Result<Vec<Arc<Manifest>>> {
    let today = jiff::Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .date();
    let cx = LintContext { today };
    sources
        .iter()
        .map(|(name, text)| {
            let checked = privet_manifest::check(text, &cx)
                .with_context(|| format!("{name} is not valid TOML"))?;
            let manifest = checked
                .usable()
                .with_context(|| format!("{name} has errors; run `privet manifest check` on it"))?;
            Ok(Arc::new(manifest))
        })
        .collect()
}

/// The manifests in `dir`, or the built-in examples.
pub(crate) fn load(dir: Option<&Path>) -> anyhow::Result<Vec<Arc<Manifest>>> {
    parse(&sources(dir)?)
}
