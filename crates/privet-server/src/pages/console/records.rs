//! `/console/records`: the records of processing (UK GDPR Art. 30) of every product this
//! instance serves, drawn from the manifests by `privet_manifest::ropa`, with the same record to
//! download as CSV and XLSX. For the roles that read it (admin, dpo).
//!
//! The record has 21 columns, too many for a page; here each product gets its facts (the
//! columns that are the same for all its purposes) and then the ICO's columns as rows, a
//! column per purpose, at most [`PER_TABLE`] purposes to a table so it fits the page's width.

use super::staff::{Area, ConsoleNav, Staff};
use crate::pages::household::attachment;
use crate::pages::{PageContext, PageError, render};
use crate::state::AppState;
use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use privet_manifest::ropa::{self, COLUMNS, Cell, Ropa, Row};

/// Purposes per table: with the row headers, four columns of wrapped text fit the console's
/// width (60rem) without scrolling sideways.
const PER_TABLE: usize = 4;

/// The columns that say the same for every purpose of a product (controller, contact,
/// business function, DPIA required, link to DPIA), by index in [`COLUMNS`].
const PRODUCT_COLUMNS: [usize; 5] = [0, 1, 2, 19, 20];

/// One row of a table: the column's name, then a cell per purpose (or one for a fact).
#[derive(Debug)]
struct Line {
    name: &'static str,
    cells: Vec<Cell>,
}

/// Some purposes of one product, the ICO's columns as rows.
#[derive(Debug)]
struct PurposeTable {
    /// Unique on the page (captions are named by it).
    n: usize,
    caption: String,
    columns: Vec<String>,
    lines: Vec<Line>,
}

impl PurposeTable {
    /// The header row's names, as the table macro takes them.
    fn column_names(&self) -> Vec<&str> {
        self.columns.iter().map(String::as_str).collect()
    }
}

/// One product's part of the record.
#[derive(Debug)]
struct ProductRecord {
    name: String,
    anchor: String,
    facts_n: usize,
    facts_caption: String,
    facts: Vec<Line>,
    tables: Vec<PurposeTable>,
}

#[derive(Template)]
#[template(path = "pages/console/records.html")]
struct RecordsPage {
    page: PageContext,
    nav: ConsoleNav,
    as_of: String,
    activities: usize,
    products: Vec<ProductRecord>,
}

/// The record of every product served, as of today.
fn record(state: &AppState) -> Ropa {
    let products = state.products();
    Ropa::from_manifests(
        products.iter().map(|m| m.as_ref()),
        None,
        state.clock().today_utc(),
    )
}

/// One product's rows as the page shows them; `n` numbers the tables.
fn product_record(rows: &[Row], n: &mut usize) -> Option<ProductRecord> {
    let first = rows.first()?;
    let name = first
        .business_function
        .first()
        .cloned()
        .unwrap_or_else(|| first.product.clone());
    *n += 1;
    let facts_n = *n;
    let facts = PRODUCT_COLUMNS
        .iter()
        .map(|&i| Line {
            name: COLUMNS[i],
            cells: vec![first.cells()[i].clone()],
        })
        .collect();
    let chunks: Vec<&[Row]> = rows.chunks(PER_TABLE).collect();
    let tables = chunks
        .iter()
        .enumerate()
        .map(|(k, chunk)| {
            *n += 1;
            let caption = if chunks.len() == 1 {
                format!("{name}: each purpose")
            } else {
                format!("{name}: purposes, part {} of {}", k + 1, chunks.len())
            };
            let mut columns = vec!["Column of the record".to_owned()];
            columns.extend(chunk.iter().map(|r| r.purpose.clone()));
            PurposeTable {
                n: *n,
                caption,
                columns,
                lines: (0..COLUMNS.len())
                    .filter(|i| !PRODUCT_COLUMNS.contains(i))
                    .map(|i| Line {
                        name: COLUMNS[i],
                        cells: chunk.iter().map(|r| r.cells()[i].clone()).collect(),
                    })
                    .collect(),
            }
        })
        .collect();
    let facts_caption = format!("{name}: what holds for every purpose");
    Some(ProductRecord {
        anchor: format!("product-{}", first.product),
        name,
        facts_n,
        facts_caption,
        facts,
        tables,
    })
}

/// `GET /console/records`.
pub(super) async fn show(
    State(state): State<AppState>,
    staff: Staff,
) -> Result<Response, PageError> {
    staff.require(Area::Records)?;
    let ropa = record(&state);
    let mut n = 0;
    // The rows come product by product, in the order the products are served.
    let products = ropa
        .rows
        .chunk_by(|a, b| a.product == b.product)
        .filter_map(|rows| product_record(rows, &mut n))
        .collect();
    render(&RecordsPage {
        page: staff.page(&state).await?,
        nav: ConsoleNav::new(&staff, Area::Records),
        as_of: ropa.as_of.strftime("%-d %B %Y").to_string(),
        activities: ropa.rows.len(),
        products,
    })
}

/// A failure to render the record: ours, logged, never shown.
fn internal(e: ropa::Error) -> PageError {
    PageError::Internal(format!("records of processing: {e}"))
}

/// `GET /console/records.csv`.
pub(super) async fn csv(
    State(state): State<AppState>,
    staff: Staff,
) -> Result<Response, PageError> {
    staff.require(Area::Records)?;
    let text = ropa::csv(&record(&state)).map_err(internal)?;
    Ok(attachment(
        text.into_response(),
        "text/csv; charset=utf-8",
        "records-of-processing.csv",
    ))
}

/// `GET /console/records.xlsx`.
pub(super) async fn xlsx(
    State(state): State<AppState>,
    staff: Staff,
) -> Result<Response, PageError> {
    staff.require(Area::Records)?;
    let bytes = ropa::xlsx(&record(&state)).map_err(internal)?;
    Ok(attachment(
        bytes.into_response(),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "records-of-processing.xlsx",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_product_columns_are_the_ones_the_same_for_every_purpose() {
        let names: Vec<&str> = PRODUCT_COLUMNS.iter().map(|&i| COLUMNS[i]).collect();
        assert_eq!(
            names,
            [
                "Controller",
                "Controller contact details",
                "Business function",
                "DPIA required?",
                "Link to DPIA"
            ]
        );
    }
}
