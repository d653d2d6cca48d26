//! The products this instance serves: every manifest in the manifests directory.

use privet_manifest::{Checked, Finding, LintContext, Manifest, ProductId, Severity};
use privet_policy::Lineage;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One manifest file that was loaded (or failed to).
#[derive(Debug)]
pub struct ManifestFile {
    /// Its path.
    pub path: PathBuf,
    /// Its text.
    pub source: String,
    /// What `check` found.
    pub findings: Vec<Finding>,
}

/// Why the manifests could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ProductsError {
    /// The directory or a file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A file is not valid TOML.
    #[error("{path}: invalid TOML: {message}")]
    Syntax {
        /// The file.
        path: PathBuf,
        /// The parser's message.
        message: String,
    },
    /// Some manifests have errors; the server refuses to start.
    #[error("{count} manifest(s) have errors")]
    Invalid {
        /// How many files have errors.
        count: usize,
        /// Every file with its findings, for printing diagnostics.
        files: Vec<ManifestFile>,
    },
    /// Two files declare the same product id.
    #[error("product {id} is declared twice ({first} and {second})")]
    Duplicate {
        /// The id.
        id: String,
        /// First file.
        first: PathBuf,
        /// Second file.
        second: PathBuf,
    },
    /// No manifests at all.
    #[error("no *.toml manifests in {0}")]
    Empty(PathBuf),
}

/// The text a served manifest was loaded from, kept so the console can lint it again (its
/// findings depend on today's date).
#[derive(Debug)]
pub struct ManifestSource {
    /// Its path (or name, for built-in manifests).
    pub path: PathBuf,
    /// Its text.
    pub text: String,
}

/// The loaded manifests, by product id.
#[derive(Clone, Debug, Default)]
pub struct Products {
    by_id: Arc<BTreeMap<ProductId, Arc<Manifest>>>,
    sources: Arc<BTreeMap<ProductId, ManifestSource>>,
    /// Each product's published versions, when loaded from the store.
    lineages: Arc<BTreeMap<String, Arc<Lineage>>>,
}

impl Products {
    /// Loads every `*.toml` in `dir`; fails if any has errors (warnings are fine).
    pub fn load_dir(
        dir: &Path,
        cx: &LintContext,
    ) -> Result<(Products, Vec<ManifestFile>), ProductsError> {
        let read = std::fs::read_dir(dir).map_err(|source| ProductsError::Io {
            path: dir.to_owned(),
            source,
        })?;
        let mut paths: Vec<PathBuf> = read
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        paths.sort();
        if paths.is_empty() {
            return Err(ProductsError::Empty(dir.to_owned()));
        }
        let mut sources = Vec::new();
        for path in paths {
            let source = std::fs::read_to_string(&path).map_err(|source| ProductsError::Io {
                path: path.clone(),
                source,
            })?;
            sources.push((path, source));
        }
        Products::from_sources(sources, cx)
    }

    /// Loads manifests from their text (each with its path or name); fails if any has errors
    /// (warnings are fine). Keeps the text, for [`Products::source`].
    pub fn from_sources(
        sources: Vec<(PathBuf, String)>,
        cx: &LintContext,
    ) -> Result<(Products, Vec<ManifestFile>), ProductsError> {
        let mut files = Vec::new();
        let mut by_id: BTreeMap<ProductId, (PathBuf, Arc<Manifest>)> = BTreeMap::new();
        let mut broken = 0;
        for (path, source) in sources {
            let checked: Checked =
                privet_manifest::check(&source, cx).map_err(|e| ProductsError::Syntax {
                    path: path.clone(),
                    message: e.message.clone(),
                })?;
            let has_errors = checked.has_errors();
            if has_errors {
                broken += 1;
            } else if let Some(m) = checked.manifest.clone() {
                let id = m.product.id.value.clone();
                if let Some((first, _)) = by_id.get(&id) {
                    return Err(ProductsError::Duplicate {
                        id: id.to_string(),
                        first: first.clone(),
                        second: path.clone(),
                    });
                }
                by_id.insert(id, (path.clone(), Arc::new(m)));
            }
            files.push(ManifestFile {
                path,
                source,
                findings: checked.findings,
            });
        }
        if broken > 0 {
            let files = files
                .into_iter()
                .filter(|f| f.findings.iter().any(|x| x.severity() == Severity::Error))
                .collect();
            return Err(ProductsError::Invalid {
                count: broken,
                files,
            });
        }
        let texts: BTreeMap<&Path, &str> = files
            .iter()
            .map(|f| (f.path.as_path(), f.source.as_str()))
            .collect();
        let sources = by_id
            .iter()
            .filter_map(|(id, (path, _))| {
                texts.get(path.as_path()).map(|text| {
                    (
                        id.clone(),
                        ManifestSource {
                            path: path.clone(),
                            text: (*text).to_owned(),
                        },
                    )
                })
            })
            .collect();
        let products = Products {
            by_id: Arc::new(by_id.into_iter().map(|(k, (_, m))| (k, m)).collect()),
            sources: Arc::new(sources),
            lineages: Arc::default(),
        };
        Ok((products, files))
    }

    /// Products from manifests already parsed (tests, the demo).
    pub fn from_manifests(manifests: Vec<Manifest>) -> Products {
        Products {
            by_id: Arc::new(
                manifests
                    .into_iter()
                    .map(|m| (m.product.id.value.clone(), Arc::new(m)))
                    .collect(),
            ),
            sources: Arc::default(),
            lineages: Arc::default(),
        }
    }

    /// The same products, with each one's published versions.
    pub fn with_lineages(mut self, lineages: BTreeMap<String, Arc<Lineage>>) -> Products {
        self.lineages = Arc::new(lineages);
        self
    }

    /// A product's published versions and the material changes between them (`None` when
    /// the products were not loaded from the store).
    pub fn lineage(&self, id: &str) -> Option<&Arc<Lineage>> {
        self.lineages.get(id)
    }

    /// The text a product's manifest was loaded from (`None` when built from parsed
    /// manifests).
    pub fn source(&self, id: &str) -> Option<&ManifestSource> {
        self.sources.get(id)
    }

    /// The manifest of a product.
    pub fn get(&self, id: &str) -> Option<&Arc<Manifest>> {
        self.by_id.get(id)
    }

    /// Every manifest, by id.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<Manifest>> {
        self.by_id.values()
    }

    /// Products declaring a purpose with this key.
    pub fn declaring(&self, purpose: &str) -> impl Iterator<Item = &Arc<Manifest>> + '_ {
        let purpose = purpose.to_owned();
        self.by_id
            .values()
            .filter(move |m| m.purpose(&purpose).is_some())
    }
}
