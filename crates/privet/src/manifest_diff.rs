//! `privet manifest diff OLD NEW`: what changed between two versions of a product's manifest,
//! each change material or minor (`privet_manifest::diff`). Exit 0 when nothing material
//! changed, 3 when something did (a maker's CI gates a release on it), 2 when an input cannot
//! be read, parsed or compared.
//!
//! OLD and NEW are files, or `PRODUCT@VERSION` published in the store named by `--data` or
//! `--database-url`. A manifest with lint errors is still compared (a warning says so): the
//! diff is about what it declares, and `manifest check` about whether it is right.

use crate::backend::{self, Location};
use crate::cli::{DataArgs, DiffArgs, DiffFormat};
use crate::diagnostics::Renderer;
use crate::manifest_cmd::lint_context;
use anyhow::{Context, bail};
use privet_manifest::{Change, Manifest, Materiality, Severity};
use privet_store::Store;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The exit code when a material change was found.
const MATERIAL: u8 = 3;

/// One side of the comparison, as named on the command line.
#[derive(Debug, PartialEq, Eq)]
enum Input {
    /// A manifest file.
    File(PathBuf),
    /// A version published in the store.
    Published {
        /// The product id.
        product: String,
        /// Its `product.version`.
        version: String,
    },
}

impl Input {
    /// An existing file is a file, whatever its name; otherwise `PRODUCT@VERSION` (product ids
    /// are plain keys, so they hold no `@`) names a published version, and anything else is a
    /// file that will fail to be read.
    fn from_arg(arg: &Path) -> Input {
        if arg.exists() {
            return Input::File(arg.to_owned());
        }
        match arg.to_str().and_then(|s| s.split_once('@')) {
            Some((product, version))
                if privet_manifest::ids::is_valid_key(product) && !version.is_empty() =>
            {
                Input::Published {
                    product: product.to_owned(),
                    version: version.to_owned(),
                }
            }
            _ => Input::File(arg.to_owned()),
        }
    }

    /// How messages name it.
    fn name(&self) -> String {
        match self {
            Input::File(path) => path.display().to_string(),
            Input::Published { product, version } => format!("{product}@{version}"),
        }
    }
}

/// The JSON answer.
#[derive(Serialize)]
struct Report<'a> {
    product: &'a str,
    from: &'a str,
    to: &'a str,
    material: bool,
    changes: &'a [Change],
}

pub(crate) fn run(args: &DiffArgs) -> anyhow::Result<ExitCode> {
    let (old_in, new_in) = (Input::from_arg(&args.old), Input::from_arg(&args.new));
    let needs_store = [&old_in, &new_in]
        .iter()
        .any(|i| matches!(i, Input::Published { .. }));
    let (old_text, new_text) = if needs_store {
        crate::runtime()?.block_on(read_published(&args.data, &old_in, &new_in))?
    } else {
        (read_file(&old_in)?, read_file(&new_in)?)
    };
    let old = parse(&old_in.name(), &old_text)?;
    let new = parse(&new_in.name(), &new_text)?;
    let (old_id, new_id) = (old.product.id.as_str(), new.product.id.as_str());
    if old_id != new_id {
        bail!(
            "{} is product `{old_id}` and {} is `{new_id}`: not the same product",
            old_in.name(),
            new_in.name()
        );
    }

    let changes = privet_manifest::diff(&old, &new);
    let material = privet_manifest::has_material(&changes);
    match args.format {
        DiffFormat::Text => print!("{}", text(&changes)),
        DiffFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&Report {
                product: new_id,
                from: old.product.version(),
                to: new.product.version(),
                material,
                changes: &changes,
            })?
        ),
    }
    Ok(ExitCode::from(if material { MATERIAL } else { 0 }))
}

/// One line per change, then the count.
fn text(changes: &[Change]) -> String {
    if changes.is_empty() {
        return "No changes.\n".to_owned();
    }
    let mut out = String::new();
    for c in changes {
        let word = match c.materiality {
            Materiality::Material => "material",
            Materiality::Minor => "minor",
        };
        out.push_str(&format!("{word:<9} {}\n", c.summary));
    }
    let material = changes
        .iter()
        .filter(|c| c.materiality == Materiality::Material)
        .count();
    let plural = if material == 1 { "" } else { "s" };
    out.push_str(&format!(
        "{material} material change{plural}, {} minor\n",
        changes.len() - material
    ));
    out
}

fn read_file(input: &Input) -> anyhow::Result<String> {
    match input {
        Input::File(path) => {
            std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
        }
        // Only called when neither input is published.
        Input::Published { .. } => bail!("{} needs the store", input.name()),
    }
}

/// Both texts, published ones read from the store (opened once).
async fn read_published(
    data: &DataArgs,
    old: &Input,
    new: &Input,
) -> anyhow::Result<(String, String)> {
    // Reading never makes a store: a mistyped directory is refused, not created.
    let location = Location::from_args(data)?;
    backend::require_existing(&location)?;
    let opened = backend::open(&location).await?;
    let store = opened.store.as_ref();
    Ok((text_of(store, old).await?, text_of(store, new).await?))
}

/// The text of a file, or of a version published in `store`.
async fn text_of(store: &dyn Store, input: &Input) -> anyhow::Result<String> {
    match input {
        Input::File(_) => read_file(input),
        Input::Published { product, version } => published(store, product, version).await,
    }
}

/// The text of `product` whose `product.version` is `version`; of several such texts (a
/// version string is not unique in old stores), the one published last.
async fn published(store: &dyn Store, product: &str, version: &str) -> anyhow::Result<String> {
    let stored = store
        .manifest_versions(product)
        .await
        .context("cannot list the published manifests")?;
    if stored.is_empty() {
        bail!("no manifest of product `{product}` is published in this store");
    }
    let mut versions: Vec<String> = Vec::new();
    let mut found = None;
    for m in stored {
        let Ok(parsed) = privet_manifest::parse(&m.source) else {
            continue;
        };
        let v = parsed.manifest.product.version().to_owned();
        if v == version {
            found = Some(m.source);
        } else if !versions.contains(&v) {
            versions.push(v);
        }
    }
    found.with_context(|| {
        format!(
            "product `{product}` has no published version `{version}` (published: {})",
            versions.join(", ")
        )
    })
}

/// Parses a manifest; its lint errors are reported as a warning, not refused.
fn parse(name: &str, source: &str) -> anyhow::Result<Manifest> {
    let checked = match privet_manifest::check(source, &lint_context()) {
        Ok(c) => c,
        Err(err) => {
            eprint!("{}", Renderer::new().render_syntax(name, source, &err));
            bail!("{name} is not valid TOML");
        }
    };
    let errors = checked.count(Severity::Error);
    let Some(manifest) = checked.manifest else {
        bail!("{name} is not a manifest");
    };
    if manifest.product.id.as_str().is_empty() {
        bail!("{name} has no `[product]` id, so it cannot be compared");
    }
    if errors > 0 {
        eprintln!(
            "warning: {name} has {errors} error(s); comparing what it declares (see `privet manifest check`)"
        );
    }
    Ok(manifest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_existing_file_wins_over_a_published_version() {
        let dir = tempfile::tempdir().unwrap();
        let odd = dir.path().join("wren@2.toml");
        std::fs::write(&odd, "").unwrap();
        assert_eq!(Input::from_arg(&odd), Input::File(odd.clone()));
        assert_eq!(
            Input::from_arg(Path::new("wren-thermostat-2@2.4")),
            Input::Published {
                product: "wren-thermostat-2".into(),
                version: "2.4".into()
            }
        );
        for file in ["missing.toml", "Not A Key@1", "wren@"] {
            assert_eq!(
                Input::from_arg(Path::new(file)),
                Input::File(file.into()),
                "{file}"
            );
        }
    }
}
