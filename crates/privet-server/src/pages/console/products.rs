//! `/console/products`: each manifest this instance enforces, its lint findings (linted again
//! today, since findings depend on the date), its privacy notice and its label.

use super::staff::{Area, ConsoleNav, Staff};
use crate::pages::label::label_context;
use crate::pages::{PageContext, PageError, render};
use crate::service::error::{Missing, ServiceError};
use crate::service::publish::short;
use crate::service::versions;
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use privet_manifest::label::Label;
use privet_manifest::notice::Notice;
use privet_manifest::{FindingRecord, LineIndex, LintContext, Manifest, Severity};

/// A product in the list.
#[derive(Debug)]
struct ProductRow {
    id: String,
    name: String,
    maker: String,
    version: String,
    updates_until: String,
    past_support: bool,
    findings: String,
    grade: char,
}

#[derive(Template)]
#[template(path = "pages/console/products.html")]
struct ProductList {
    page: PageContext,
    nav: ConsoleNav,
    products: Vec<ProductRow>,
}

/// A purpose as the console shows it.
#[derive(Debug)]
struct PurposeRow {
    id: String,
    description: String,
    data_use: String,
    basis: String,
    basis_plain: String,
    needs_consent: bool,
}

/// A field as the console shows it.
#[derive(Debug)]
struct FieldRow {
    stream: String,
    whose: String,
    name: String,
    ty: String,
    category: String,
    purposes: String,
    retention: String,
}

/// The lint findings, or why they cannot be shown.
#[derive(Debug)]
enum Findings {
    /// Linted again today.
    Checked {
        file: String,
        records: Vec<FindingRecord>,
    },
    /// The manifest's text is not kept (built-in manifests in some set-ups).
    Unavailable,
}

/// A published version of the manifest, as the console lists it.
#[derive(Debug)]
struct VersionRow {
    version: String,
    published_at: String,
    published_by: String,
    digest: String,
    current: bool,
}

#[derive(Template)]
#[template(path = "pages/console/product.html")]
struct ProductPage {
    page: PageContext,
    nav: ConsoleNav,
    id: String,
    name: String,
    maker: String,
    version: String,
    contact: String,
    purposes: Vec<PurposeRow>,
    fields: Vec<FieldRow>,
    findings: Findings,
    versions: Vec<VersionRow>,
    notice: Notice,
    label: Label,
}

fn lint_context(state: &AppState) -> LintContext {
    LintContext {
        today: state.clock().today_utc(),
    }
}

/// The findings of a product's manifest, linted again today.
fn findings(state: &AppState, id: &str) -> Findings {
    let products = state.products();
    let Some(source) = products.source(id) else {
        return Findings::Unavailable;
    };
    let file = source.path.display().to_string();
    match privet_manifest::check(&source.text, &lint_context(state)) {
        Ok(checked) => {
            let index = LineIndex::new(&source.text);
            Findings::Checked {
                records: checked
                    .findings
                    .iter()
                    .map(|f| f.to_record(&file, &source.text, &index))
                    .collect(),
                file,
            }
        }
        // It parsed when the server started; if it no longer does, say so rather than fail.
        Err(_) => Findings::Unavailable,
    }
}

fn findings_summary(f: &Findings) -> String {
    match f {
        Findings::Unavailable => "Not available".to_owned(),
        Findings::Checked { records, .. } if records.is_empty() => "None".to_owned(),
        Findings::Checked { records, .. } => {
            let errors = records
                .iter()
                .filter(|r| r.severity == Severity::Error)
                .count();
            let warnings = records.len() - errors;
            let plural =
                |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
            format!(
                "{}, {}",
                plural(errors, "error"),
                plural(warnings, "warning")
            )
        }
    }
}

fn updates_until(state: &AppState, m: &Manifest) -> (String, bool) {
    match &m.product.security_updates_until {
        Some(d) => (d.value.to_string(), d.value < state.clock().today_utc()),
        None => ("Not stated".to_owned(), false),
    }
}

/// `GET /console/products`.
pub(super) async fn list(
    State(state): State<AppState>,
    staff: Staff,
) -> Result<Response, PageError> {
    staff.require(Area::Products)?;
    let products = state
        .products()
        .iter()
        .map(|m| {
            let id = m.product.id.to_string();
            let (updates_until, past_support) = updates_until(&state, m);
            let grade = privet_manifest::label::grade(
                m,
                &label_context(&state.products(), &state, &id, None),
            );
            ProductRow {
                findings: findings_summary(&findings(&state, &id)),
                id,
                name: m.product.name.value.clone(),
                maker: m.product.maker.value.clone(),
                version: m.product.version().to_owned(),
                updates_until,
                past_support,
                grade: grade.letter,
            }
        })
        .collect();
    render(&ProductList {
        page: staff.page(&state).await?,
        nav: ConsoleNav::new(&staff, Area::Products),
        products,
    })
}

/// `GET /console/products/{id}`.
pub(super) async fn show(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    staff.require(Area::Products)?;
    let products = state.products();
    let m = products
        .get(&id)
        .ok_or(ServiceError::NotFound(Missing::Product))?;
    let notice = Notice::from_manifest(m);
    let purposes = m
        .purposes
        .iter()
        .map(|p| {
            let plain = notice
                .purposes
                .iter()
                .find(|n| n.id == p.id.as_str())
                .map(|n| format!("{} ({})", n.basis.plain, n.basis.article))
                .unwrap_or_default();
            PurposeRow {
                id: p.id.to_string(),
                description: p.description.value.clone(),
                data_use: p.data_use.value.clone(),
                basis: p.basis.value.to_string(),
                basis_plain: plain,
                needs_consent: p.needs_consent(),
            }
        })
        .collect();
    let fields = m
        .fields()
        .map(|(s, f)| FieldRow {
            stream: s.id.to_string(),
            whose: s.subject.value.to_string(),
            name: f.name.to_string(),
            ty: f.ty.value.to_string(),
            category: f.category.value.clone(),
            purposes: f
                .purposes
                .iter()
                .map(|p| p.value.to_string())
                .collect::<Vec<_>>()
                .join(", "),
            retention: f
                .effective_retention()
                .map_or_else(|| "Not bounded".to_owned(), |r| r.to_string()),
        })
        .collect();
    render(&ProductPage {
        page: staff.page(&state).await?,
        nav: ConsoleNav::new(&staff, Area::Products),
        id: m.product.id.to_string(),
        name: m.product.name.value.clone(),
        maker: m.product.maker.value.clone(),
        version: m.product.version().to_owned(),
        contact: m
            .product
            .privacy_contact
            .as_ref()
            .map_or_else(|| "Not stated".to_owned(), |c| c.value.clone()),
        purposes,
        fields,
        findings: findings(&state, &id),
        versions: version_rows(&state, &id).await?,
        label: Label::from_manifest(m, &label_context(&state.products(), &state, &id, None)),
        notice,
    })
}

/// The product's published versions, newest first.
async fn version_rows(state: &AppState, id: &str) -> Result<Vec<VersionRow>, ServiceError> {
    Ok(versions::of_product(state, id)
        .await?
        .into_iter()
        .map(|v| VersionRow {
            version: v.manifest.version,
            published_at: super::when(v.manifest.published_at),
            published_by: if v.manifest.published_by.is_empty() {
                "Not recorded".to_owned()
            } else {
                v.manifest.published_by
            },
            digest: short(&v.manifest.digest).to_owned(),
            current: v.current,
        })
        .collect())
}
