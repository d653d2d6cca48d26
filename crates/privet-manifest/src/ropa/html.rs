//! The record as a complete, self-contained HTML document (askama template `ropa.html`, which
//! escapes every value): the controllers above a table with a header row and a row per
//! product and purpose, the purpose cell as the row's header.

use super::Error;
use super::model::{COLUMNS, Cell, Controller, Ropa, WIDTHS};
use crate::notice::plain;
use crate::taxonomy::ATTRIBUTION;
use askama::Template;

/// The column whose cell names the row (the purpose of processing).
const PURPOSE_COLUMN: usize = 3;

#[derive(Template)]
#[template(path = "ropa.html")]
struct Page<'a> {
    title: &'static str,
    as_of: String,
    kept_by: Option<&'a str>,
    controllers: &'a [Controller],
    columns: &'static [&'static str],
    /// Each column's width in `ch`.
    widths: Vec<u32>,
    /// The table's width in `ch`: the sum of the columns'.
    width: u32,
    rows: Vec<Vec<&'a Cell>>,
    purpose_column: usize,
    attribution: &'static str,
}

/// The columns' widths in `ch`: a `ch` of a proportional font is wider than the average
/// letter a spreadsheet's width counts, so four fifths of it.
fn widths() -> Vec<u32> {
    WIDTHS.iter().map(|w| u32::from(*w) * 4 / 5).collect()
}

/// Renders the record as HTML.
pub(super) fn render(ropa: &Ropa) -> Result<String, Error> {
    Page {
        title: ropa.title(),
        as_of: plain::date(ropa.as_of),
        kept_by: ropa.kept_by.as_deref(),
        controllers: &ropa.controllers,
        columns: &COLUMNS,
        widths: widths(),
        width: widths().iter().sum(),
        rows: ropa.rows.iter().map(|r| r.cells().to_vec()).collect(),
        purpose_column: PURPOSE_COLUMN,
        attribution: ATTRIBUTION,
    }
    .render()
    .map_err(|source| Error::Html { source })
}
