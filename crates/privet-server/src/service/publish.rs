//! Publishing one manifest text as a version of its product: the one path every entry point
//! takes (`POST /v1/products`, `privet manifest publish`, `serve --manifests DIR` at start).
//!
//! A text is linted as `serve` lints it and never published with errors; a version published
//! with another text is refused (a version is immutable); the same text again changes nothing.
//! A new version is audited (`manifest.publish`) and announced, so every instance serves it.

use crate::service::audit;
use crate::service::error::{Conflict, Invalid, ServiceResult};
use crate::state::AppState;
use jiff::Timestamp;
use privet_manifest::{LineIndex, LintContext, Severity};
use privet_store::{Change, Keyring, Published, Store, StoredManifest};
use serde::Serialize;
use std::fmt;
use utoipa::ToSchema;

/// One error finding of a manifest refused for it: the rule and where, never a value (manifests
/// hold no personal data, and the message is the rule's).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct ManifestFinding {
    /// Rule code, e.g. `PV015`.
    pub code: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

/// The error findings of a manifest that is therefore not published.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManifestErrors(pub Vec<ManifestFinding>);

impl fmt::Display for ManifestErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        write!(
            f,
            "the manifest has {n} error{}, so it is not published (privet manifest check shows them): ",
            if n == 1 { "" } else { "s" }
        )?;
        for (i, x) in self.0.iter().enumerate() {
            let sep = if i == 0 { "" } else { "; " };
            write!(
                f,
                "{sep}{} at line {}, column {}: {}",
                x.code, x.line, x.column, x.message
            )?;
        }
        Ok(())
    }
}

/// What publishing a text did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Publication {
    /// A new version, now published.
    New(StoredManifest),
    /// The product had this very text: nothing changed. Its first publication.
    AlreadyPublished(StoredManifest),
}

impl Publication {
    /// The version published (now, or before).
    pub fn manifest(&self) -> &StoredManifest {
        match self {
            Publication::New(m) | Publication::AlreadyPublished(m) => m,
        }
    }
}

/// The version of a published text: as recorded, or, for a text published before versions
/// were recorded, as the text says.
pub fn version_of(m: &StoredManifest) -> String {
    if !m.version.is_empty() {
        return m.version.clone();
    }
    match privet_manifest::parse(&m.source) {
        Ok(parsed) => parsed.manifest.product.version().to_owned(),
        // It parsed when it was published; a text that no longer does has no version to show.
        Err(_) => String::new(),
    }
}

/// The first 12 hex digits of a digest, as logs, audit entries and pages show it.
pub fn short(digest: &str) -> &str {
    digest.get(..12).unwrap_or(digest)
}

/// Lints `text` as `serve` does and publishes it as a version of its product, as `actor`'s, at
/// `now`; a new version is audited and announced to every instance (this one reloads when it
/// hears it; [`publish`] also reloads at once).
///
/// Refused: a text that is not TOML or has lint errors ([`Invalid::ManifestSyntax`],
/// [`Invalid::Manifest`]), and a version the product has with another text
/// ([`Conflict::VersionTaken`]).
pub async fn publish_one(
    store: &dyn Store,
    keyring: &dyn Keyring,
    chain: &privet_policy::AuditChain,
    text: &str,
    actor: &str,
    cx: &LintContext,
    now: Timestamp,
) -> ServiceResult<Publication> {
    let (product, version) = checked(text, cx)?;
    let digest = privet_crypto::sha256_hex(text.as_bytes());
    // As the store keeps it, so a new version answers with the time it will be listed with.
    let now = privet_store::columns::from_ts(privet_store::columns::ts(now))?;
    let manifest = StoredManifest {
        product: product.clone(),
        version: version.clone(),
        source: text.to_owned(),
        digest: digest.clone(),
        published_at: now,
        published_by: actor.to_owned(),
    };
    refuse_if_taken_before_versions(store, &manifest).await?;
    match store.publish_manifest(manifest.clone()).await? {
        Published::New => {}
        Published::AlreadyPublished(first) => {
            return Ok(Publication::AlreadyPublished(with_version(first)));
        }
        Published::VersionTaken(_) => {
            return Err(Conflict::VersionTaken { product, version }.into());
        }
    }
    audit::append(
        store,
        keyring,
        chain,
        privet_policy::NewAuditEntry {
            at: now,
            actor: actor.to_owned(),
            action: "manifest.publish".to_owned(),
            purpose: None,
            subjects: Vec::new(),
            count: 0,
            detail: serde_json::json!({
                "product": product,
                "version": version,
                "digest": short(&digest),
            }),
        },
    )
    .await?;
    // The running instances serve it too; if they are not told, they do at restart.
    if let Err(e) = store.announce(Change::Manifests).await {
        tracing::warn!(error = %e, "announcing a newly published manifest failed");
    }
    tracing::info!(product = %product, version = %version, digest = %short(&digest), "published a manifest");
    Ok(Publication::New(manifest))
}

/// [`publish_one`] on a running server, as `actor`'s, at the server clock's now; a new version
/// is served here before this returns.
pub async fn publish(state: &AppState, text: &str, actor: &str) -> ServiceResult<Publication> {
    let cx = LintContext {
        today: state.clock().today_utc(),
    };
    let published = publish_one(
        state.store().as_ref(),
        state.keys().keyring().as_ref(),
        state.audit_chain().await?,
        text,
        actor,
        &cx,
        state.clock().now(),
    )
    .await?;
    if matches!(published, Publication::New(_)) {
        crate::service::manifests::reload(state).await;
    }
    Ok(published)
}

/// The product id and version of a text without lint errors.
fn checked(text: &str, cx: &LintContext) -> ServiceResult<(String, String)> {
    let checked = privet_manifest::check(text, cx).map_err(|e| {
        let index = LineIndex::new(text);
        let at = index.line_col(text, e.span.map_or(0, |s| s.start));
        Invalid::ManifestSyntax {
            line: at.line,
            column: at.column,
            message: e.message.trim().to_owned(),
        }
    })?;
    if checked.has_errors() {
        let index = LineIndex::new(text);
        let errors = checked
            .findings
            .iter()
            .filter(|f| f.severity() == Severity::Error)
            .map(|f| {
                let r = f.to_record("manifest", text, &index);
                ManifestFinding {
                    code: r.code.to_owned(),
                    line: r.line,
                    column: r.column,
                    message: r.message,
                }
            })
            .collect();
        return Err(Invalid::Manifest(ManifestErrors(errors)).into());
    }
    let m = checked
        .manifest
        .ok_or(Invalid::Manifest(ManifestErrors(Vec::new())))?;
    let version = m.product.version();
    if !is_version(version) {
        return Err(Invalid::ManifestVersion(MAX_VERSION_CHARS).into());
    }
    Ok((m.product.id.value.to_string(), version.to_owned()))
}

/// The longest `product.version` published: it is shown in lists and paths.
const MAX_VERSION_CHARS: usize = 64;

/// Whether `v` can name a published version: an empty one is how the store marks texts
/// published before versions were recorded, lists and paths show it, and consent records
/// name it in `product@version, …` (so neither `,` nor `@`).
fn is_version(v: &str) -> bool {
    !v.is_empty()
        && v.trim() == v
        && v.chars().count() <= MAX_VERSION_CHARS
        && !v.chars().any(|c| c.is_control() || c == ',' || c == '@')
}

/// Texts published before versions were recorded carry none in the store, so its unique index
/// cannot see theirs: their version is read from the text. They never change, so this check
/// cannot race; the store checks every version recorded since.
async fn refuse_if_taken_before_versions(
    store: &dyn Store,
    m: &StoredManifest,
) -> ServiceResult<()> {
    let earlier = store.manifest_versions(&m.product).await?;
    if earlier.iter().any(|e| e.digest == m.digest) {
        return Ok(());
    }
    let taken = earlier
        .iter()
        .any(|e| e.version.is_empty() && version_of(e) == m.version);
    if taken {
        return Err(Conflict::VersionTaken {
            product: m.product.clone(),
            version: m.version.clone(),
        }
        .into());
    }
    Ok(())
}

/// `m` with its version filled in from its text when it was published without one.
fn with_version(mut m: StoredManifest) -> StoredManifest {
    m.version = version_of(&m);
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_version_is_a_short_line_with_no_padding() {
        for ok in ["1", "2.4", "2 beta/1", "v1.2.3-rc.1"] {
            assert!(is_version(ok), "{ok:?}");
        }
        let long = "9".repeat(MAX_VERSION_CHARS + 1);
        for refused in ["", " 1", "1 ", "1\n2", "\u{7}", "1,2", "a@2", long.as_str()] {
            assert!(!is_version(refused), "{refused:?}");
        }
    }

    #[test]
    fn refused_manifests_list_each_error_with_its_place() {
        let errors = ManifestErrors(vec![
            ManifestFinding {
                code: "PV015".to_owned(),
                line: 68,
                column: 13,
                message: "bad retention".to_owned(),
            },
            ManifestFinding {
                code: "PV003".to_owned(),
                line: 2,
                column: 1,
                message: "no purpose".to_owned(),
            },
        ]);
        let said = errors.to_string();
        assert!(
            said.starts_with("the manifest has 2 errors, so it is not published"),
            "{said}"
        );
        assert!(
            said.contains("PV015 at line 68, column 13: bad retention; PV003 at line 2"),
            "{said}"
        );
    }

    #[test]
    fn an_empty_product_version_is_refused() {
        let cx = LintContext {
            today: jiff::civil::date(2026, 12, 5),
        };
        let text = include_str!("../../tests/fixtures/plug.toml").replacen(
            "version = \"1\"",
            "version = \"\"",
            1,
        );
        assert!(matches!(
            checked(&text, &cx),
            Err(crate::service::error::ServiceError::Invalid(
                Invalid::ManifestVersion(_)
            ))
        ));
    }
}
