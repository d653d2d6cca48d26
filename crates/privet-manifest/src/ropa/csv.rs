//! The record as CSV (RFC 4180: CRLF between records, quoted where needed by the `csv` crate),
//! UTF-8, a header row, then a row per product and purpose. A cell's lines are joined with line
//! breaks inside the quoted field, which spreadsheets show as lines of one cell.

use super::Error;
use super::model::{COLUMNS, Ropa};

/// Characters that make a spreadsheet read a cell as a formula (or, for tab and carriage
/// return, that it strips before doing so).
const FORMULA_STARTS: &[char] = &['=', '+', '-', '@', '\t', '\r'];

/// `text`, made inert for spreadsheets: manifests are operator input, and the DPO opens this
/// file in Excel, which would run `=HYPERLINK(…)` or `@SUM(…)` in a cell (OWASP's CSV
/// injection advice: a leading apostrophe).
pub(super) fn inert(text: &str) -> String {
    if text.starts_with(FORMULA_STARTS) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

/// Renders the record as CSV text.
pub(super) fn render(ropa: &Ropa) -> Result<String, Error> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    w.write_record(COLUMNS.iter().map(|c| inert(c)))
        .map_err(|source| Error::Csv { source })?;
    for row in &ropa.rows {
        w.write_record(row.cells().iter().map(|cell| inert(&cell.join("\n"))))
            .map_err(|source| Error::Csv { source })?;
    }
    let bytes = w.into_inner().map_err(|e| Error::Csv {
        source: e.into_error().into(),
    })?;
    // Every cell was a Rust string, so the bytes are UTF-8; a failure here would be a bug in
    // the writer, reported rather than hidden.
    String::from_utf8(bytes).map_err(|_| Error::NotUtf8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_a_spreadsheet_would_run_are_made_inert() {
        for risky in [
            "=HYPERLINK(\"x\")",
            "+1",
            "-1+2",
            "@SUM(A1)",
            "\t=1",
            "\r=1",
        ] {
            assert_eq!(inert(risky), format!("'{risky}"), "{risky:?}");
        }
        for safe in ["Consent", "a=b", "", "’quoted’"] {
            assert_eq!(inert(safe), safe);
        }
    }
}
