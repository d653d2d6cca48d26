//! The record as an XLSX workbook (rust_xlsxwriter, written to a buffer: no I/O here): the
//! title and the controllers above the table, as in the ICO's template; then a bold, frozen,
//! filterable header row and a row per product and purpose, text wrapped in fixed-width columns.

use super::Error;
use super::model::{COLUMNS, Ropa, WIDTHS};
use crate::notice::plain;
use rust_xlsxwriter::{
    DocProperties, ExcelDateTime, Format, FormatAlign, FormatBorder, Workbook, XlsxError,
};

/// The sheet's name (Excel allows 31 characters).
const SHEET: &str = "Record of processing";

/// Renders the record as XLSX bytes.
pub(super) fn render(ropa: &Ropa) -> Result<Vec<u8>, Error> {
    build(ropa).map_err(|source| Error::Xlsx { source })
}

fn build(ropa: &Ropa) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let mut props = DocProperties::new()
        .set_title(ropa.title())
        .set_subject("UK GDPR Article 30 record of processing activities")
        .set_comment("Drawn from the products' privacy manifests by Privet");
    // The record's own date, not the clock: the same record gives the same file.
    if let (Ok(y), Ok(m), Ok(d)) = (
        u16::try_from(ropa.as_of.year()),
        u8::try_from(ropa.as_of.month()),
        u8::try_from(ropa.as_of.day()),
    ) {
        props = props.set_creation_datetime(&ExcelDateTime::from_ymd(y, m, d)?);
    }
    book.set_properties(&props);

    let title = Format::new().set_bold().set_font_size(14);
    let note = Format::new().set_align(FormatAlign::Top);
    let header = Format::new()
        .set_bold()
        .set_text_wrap()
        .set_align(FormatAlign::Top)
        .set_background_color("#E7ECEA")
        .set_border(FormatBorder::Thin);
    let body = Format::new()
        .set_text_wrap()
        .set_align(FormatAlign::Top)
        .set_border(FormatBorder::Thin);

    let sheet = book.add_worksheet();
    sheet.set_name(SHEET)?;
    let mut row: u32 = 0;
    sheet.write_string_with_format(
        row,
        0,
        format!(
            "{} (UK GDPR Article 30), as of {}",
            ropa.title(),
            plain::date(ropa.as_of)
        ),
        &title,
    )?;
    row += 1;
    if let Some(k) = &ropa.kept_by {
        sheet.write_string_with_format(row, 0, format!("Record kept by: {k}"), &note)?;
        row += 1;
    }
    for c in &ropa.controllers {
        let contact = c.contact.as_deref().unwrap_or("not stated");
        sheet.write_string_with_format(
            row,
            0,
            format!(
                "Controller: {}, contact: {contact} (controller of {})",
                c.name,
                c.products.join(", ")
            ),
            &note,
        )?;
        row += 1;
    }
    // A blank row, then the table.
    row += 1;
    let header_row = row;
    for (col, name) in (0u16..).zip(COLUMNS) {
        sheet.write_string_with_format(header_row, col, name, &header)?;
    }
    for (col, width) in (0u16..).zip(WIDTHS) {
        sheet.set_column_width(col, f64::from(width))?;
    }
    for r in &ropa.rows {
        row += 1;
        for (col, cell) in (0u16..).zip(r.cells()) {
            // Written as strings, never formulas, so a cell starting with `=` stays text.
            sheet.write_string_with_format(row, col, cell.join("\n"), &body)?;
        }
    }
    let last_col = u16::try_from(COLUMNS.len() - 1).unwrap_or(u16::MAX);
    sheet.autofilter(header_row, 0, row, last_col)?;
    sheet.set_freeze_panes(header_row + 1, 0)?;
    // Printed: landscape, one page wide, the header row on every page.
    sheet.set_landscape();
    sheet.set_print_fit_to_pages(1, 0);
    sheet.set_repeat_rows(header_row, header_row)?;
    book.save_to_buffer()
}
