//! Public product pages: the list, each product's privacy notice and label, and a side-by-side
//! comparison of two or more. Everything comes from the manifests; nothing is typed by hand.

use super::form::PageForm;
use super::view;
use crate::pages::label::label_context;
use crate::pages::{MaybeSignedIn, PageContext, PageError, render};
use crate::service::error::{Missing, ServiceError};
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use privet_manifest::Manifest;
use privet_manifest::label::{
    GRADE_RULES, Label, LabelRow, START_POINTS, bands_sentence, primary_rows, side_by_side,
    updates_line,
};
use privet_manifest::notice::{FieldFacts, Notice};

struct ProductRow {
    id: String,
    name: String,
    maker: String,
    grade: char,
    points: u32,
    updates: String,
}

struct Pick {
    id: String,
    name: String,
    checked: bool,
}

#[derive(Template)]
#[template(path = "pages/household/products.html")]
struct ListPage {
    page: PageContext,
    products: Vec<ProductRow>,
    picks: Vec<Pick>,
}

struct Reason {
    rule: String,
    why: String,
    detail: String,
    points: i32,
}

#[derive(Template)]
#[template(path = "pages/household/product.html")]
struct DetailPage {
    page: PageContext,
    notice: Notice,
    label: Label,
    as_of: String,
    rows: Vec<LabelRow>,
    reasons: Vec<Reason>,
    start: i32,
    bands: String,
    /// Set when the page shows a version other than the current one.
    earlier: Option<EarlierVersion>,
}

impl DetailPage {
    /// Whether and how a field can be stopped, as My data says it.
    fn control(&self, f: &FieldFacts) -> String {
        super::records::control_of(&f.purposes)
    }
}

/// The version an earlier notice is of, and when it was published.
pub(super) struct EarlierVersion {
    /// Its `product.version`.
    pub(super) version: String,
    /// When it was published, in words.
    pub(super) published: String,
}

#[derive(Template)]
#[template(path = "pages/household/compare.html")]
struct ComparePage {
    page: PageContext,
    picks: Vec<Pick>,
    names: Vec<String>,
    rows: Vec<(&'static str, Vec<Vec<String>>)>,
}

/// The label of `m`'s current version, as served here.
fn current_label(state: &AppState, m: &Manifest) -> Label {
    Label::from_manifest(
        m,
        &label_context(&state.products(), state, m.product.id.as_str(), None),
    )
}

fn picks(state: &AppState, chosen: &[String]) -> Vec<Pick> {
    state
        .products()
        .iter()
        .map(|m| Pick {
            id: m.product.id.to_string(),
            name: m.product.name.value.clone(),
            checked: chosen.iter().any(|c| c == m.product.id.as_str()),
        })
        .collect()
}

/// Every product served here.
pub(crate) async fn list(
    State(state): State<AppState>,
    MaybeSignedIn(signed): MaybeSignedIn,
) -> Result<Response, PageError> {
    let products = state
        .products()
        .iter()
        .map(|m| {
            let l = current_label(&state, m);
            ProductRow {
                id: l.product.id.clone(),
                name: l.product.name.clone(),
                maker: l.product.maker.clone(),
                grade: l.grade.letter,
                points: l.grade.points,
                updates: updates_line(&l),
            }
        })
        .collect();
    render(&ListPage {
        page: PageContext::new(&state, signed.as_ref()).await?,
        products,
        picks: picks(&state, &[]),
    })
}

/// One product's privacy notice and label.
pub(crate) async fn detail(
    State(state): State<AppState>,
    MaybeSignedIn(signed): MaybeSignedIn,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let products = state.products();
    let m = products
        .get(&id)
        .ok_or(ServiceError::NotFound(Missing::Product))?;
    let page = PageContext::new(&state, signed.as_ref()).await?;
    detail_page(&state, page, m, None)
}

/// The notice and label page of `m`: the current manifest, or an `earlier` version of it.
pub(super) fn detail_page(
    state: &AppState,
    page: PageContext,
    m: &Manifest,
    earlier: Option<EarlierVersion>,
) -> Result<Response, PageError> {
    let version = earlier.as_ref().map(|e| e.version.as_str());
    let label = Label::from_manifest(
        m,
        &label_context(&state.products(), state, m.product.id.as_str(), version),
    );
    let reasons = label
        .grade
        .reasons
        .iter()
        .map(|r| Reason {
            why: GRADE_RULES
                .iter()
                .find(|g| g.code == r.rule)
                .map_or_else(String::new, |g| g.summary.to_owned()),
            rule: r.rule.clone(),
            detail: r.detail.clone(),
            points: r.points,
        })
        .collect();
    render(&DetailPage {
        page,
        notice: Notice::from_manifest(m),
        rows: primary_rows(&label),
        as_of: view::day(label.as_of),
        label,
        reasons,
        start: START_POINTS,
        bands: bands_sentence(),
        earlier,
    })
}

/// Two or more products side by side (`?ids=a&ids=b`).
pub(crate) async fn compare(
    State(state): State<AppState>,
    MaybeSignedIn(signed): MaybeSignedIn,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    let q = PageForm::parse(query.unwrap_or_default().as_bytes());
    let mut chosen: Vec<String> = Vec::new();
    for id in q.all("ids") {
        if state.products().get(id).is_some() && !chosen.iter().any(|c| c == id) {
            chosen.push(id.to_owned());
        }
    }
    let products = state.products();
    let labels: Vec<Label> = chosen
        .iter()
        .filter_map(|id| products.get(id))
        .map(|m| current_label(&state, m))
        .collect();
    let mut page = PageContext::new(&state, signed.as_ref()).await?;
    let mut table = Vec::new();
    if labels.len() < 2 {
        if q.all("ids").next().is_some() {
            page.error = Some("Pick two or more products to compare.".to_owned());
        }
    } else {
        let per: Vec<Vec<LabelRow>> = labels.iter().map(primary_rows).collect();
        let grade = labels
            .iter()
            .map(|l| {
                vec![format!(
                    "{} ({} of 100 points)",
                    l.grade.letter, l.grade.points
                )]
            })
            .collect();
        let maker = labels
            .iter()
            .map(|l| vec![l.product.maker.clone()])
            .collect();
        table.push(("Grade", grade));
        table.push(("Maker", maker));
        table.extend(side_by_side(&per).into_iter().map(|r| (r.label, r.cells)));
        let optional = labels
            .iter()
            .map(|l| {
                let n = l.secondary.iter().filter(|f| f.optional).count();
                vec![format!(
                    "{} ({n} optional, off until you switch them on)",
                    l.secondary.len()
                )]
            })
            .collect();
        table.push(("Fields collected", optional));
    }
    render(&ComparePage {
        page,
        picks: picks(&state, &chosen),
        names: labels.iter().map(|l| l.product.name.clone()).collect(),
        rows: table,
    })
}
