//! Records of processing (UK GDPR Art. 30): what a controller must write down about each
//! processing activity, drawn from the manifests instead of typed by hand.
//!
//! [`Ropa::from_manifests`] builds one [`Row`] per product and purpose, in the columns of the
//! ICO's record-of-processing template for controllers ([`COLUMNS`], led by the controller and
//! its contact); [`csv`], [`html`] and [`xlsx`] render that same data, so every format says the
//! same thing. What fills each column is in docs/ropa.md.
//!
//! ```
//! use privet_manifest::ropa::{self, Ropa};
//!
//! let source = r#"
//! [product]
//! id = "acme-thermostat-2"
//! name = "Acme Smart Thermostat 2"
//! maker = "Acme Ltd"
//! privacy_contact = "privacy@acme.example"
//!
//! [purposes.heating_control]
//! description = "Run your heating to the schedule you set."
//! use = "essential.service"
//! basis = "contract"
//!
//! [streams.climate]
//! subject = "household"
//!
//! [streams.climate.fields.temperature_c]
//! type = "number"
//! category = "user.sensor"
//! purposes = ["heating_control"]
//! retention = "400d"
//! "#;
//! let manifest = privet_manifest::parse(source).unwrap().manifest;
//! let record = Ropa::from_manifests([&manifest], None, "2026-12-01".parse().unwrap());
//! assert_eq!(record.rows.len(), 1);
//! assert_eq!(record.rows[0].retention, ["temperature_c: 400 days"]);
//! assert!(ropa::csv(&record).unwrap().starts_with("Controller,Controller contact details,"));
//! ```

mod columns;
mod csv;
mod dpia;
mod html;
mod measures;
mod model;
mod words;
mod xlsx;

pub use model::{COLUMNS, Cell, Controller, Ropa, Row, WIDTHS};

/// Why the record could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The CSV writer failed.
    #[error("could not write the record of processing as CSV")]
    Csv {
        /// What the csv crate reported.
        #[source]
        source: ::csv::Error,
    },
    /// The CSV writer produced bytes that are not UTF-8.
    #[error("the record of processing as CSV is not UTF-8")]
    NotUtf8,
    /// The HTML template failed to render.
    #[error("could not render the record of processing as HTML")]
    Html {
        /// What the template engine reported.
        #[source]
        source: askama::Error,
    },
    /// The workbook could not be written.
    #[error("could not write the record of processing as XLSX")]
    Xlsx {
        /// What rust_xlsxwriter reported.
        #[source]
        source: rust_xlsxwriter::XlsxError,
    },
}

/// The record as RFC 4180 CSV: a header row ([`COLUMNS`]), then a row per product and purpose.
pub fn csv(ropa: &Ropa) -> Result<String, Error> {
    csv::render(ropa)
}

/// The record as a complete, self-contained HTML document.
pub fn html(ropa: &Ropa) -> Result<String, Error> {
    html::render(ropa)
}

/// The record as an XLSX workbook's bytes.
pub fn xlsx(ropa: &Ropa) -> Result<Vec<u8>, Error> {
    xlsx::render(ropa)
}

#[cfg(test)]
mod tests;
