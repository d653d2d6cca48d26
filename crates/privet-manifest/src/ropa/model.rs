//! The record of processing as data: a row per product and purpose, each cell a list of lines,
//! in the columns of the ICO's record-of-processing template for controllers.

use super::columns;
use super::dpia::dpia_required;
use crate::model::Manifest;
use jiff::civil::Date;

/// The header row: the controller and its contact (which the ICO template puts above its
/// table; here they lead each row, so a row read alone, or filtered in a spreadsheet, still
/// says whose it is), then the ICO template's columns in its words and order.
pub const COLUMNS: [&str; 21] = [
    "Controller",
    "Controller contact details",
    "Business function",
    "Purpose of processing",
    "Name and contact details of joint controller",
    "Categories of individuals",
    "Categories of personal data",
    "Categories of recipients",
    "Link to contract with processor",
    "Names of third countries or international organisations that personal data are transferred to",
    "Safeguards for exceptional transfers",
    "Retention schedule",
    "General description of technical and organisational security measures",
    "Article 6 lawful basis",
    "Article 9 basis for special category data",
    "Legitimate interests for the processing",
    "Rights available to individuals",
    "Existence of automated decision-making, including profiling",
    "The source of the personal data",
    "DPIA required?",
    "Link to DPIA",
];

/// Each column's width in characters, in [`COLUMNS`] order, for the formats that lay out a
/// page: wide enough that most cells wrap to a few lines, narrow enough that several columns
/// fit on a screen.
pub const WIDTHS: [u8; COLUMNS.len()] = [
    20, 26, 24, 40, 18, 32, 48, 32, 30, 30, 34, 36, 64, 24, 28, 36, 28, 36, 40, 40, 36,
];

/// One cell: its lines (a list in HTML, lines in CSV and XLSX). Empty means blank.
pub type Cell = Vec<String>;

/// One processing activity: one purpose of one product.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// The product's id, e.g. `hearth-speaker-3`.
    pub product: String,
    /// The purpose's key, e.g. `answer_requests`.
    pub purpose: String,
    /// The maker, when it is the controller.
    pub controller: Cell,
    /// `product.privacy_contact`.
    pub controller_contact: Cell,
    /// The product: its name and id.
    pub business_function: Cell,
    /// The purpose's description, key and data use.
    pub purpose_of_processing: Cell,
    /// Joint controllers (the manifest declares none).
    pub joint_controller: Cell,
    /// Whose data: from the streams' `subject` and `data_subjects`, and the product's audience.
    pub individuals: Cell,
    /// Data categories of the fields serving the purpose, with those fields.
    pub personal_data: Cell,
    /// Recipients of the purpose, by name, with role and country.
    pub recipients: Cell,
    /// Processors among the recipients, and that the contract is not linked from the manifest.
    pub processor_contracts: Cell,
    /// Countries outside the UK that recipients process in, by name and ISO 3166 code.
    pub third_countries: Cell,
    /// Each transfer's safeguard, in words.
    pub safeguards: Cell,
    /// How long each field is kept.
    pub retention: Cell,
    /// The measures Privet applies to this processing.
    pub security_measures: Cell,
    /// The Art. 6 basis.
    pub article_6: Cell,
    /// The Art. 9 condition, when special category data is used.
    pub article_9: Cell,
    /// The purpose's description when the basis is legitimate interests, else blank.
    pub legitimate_interests: Cell,
    /// The rights the basis gives.
    pub rights: Cell,
    /// Profiling, when the data use says so.
    pub automated_decisions: Cell,
    /// Where the data comes from (the fields' `origin`).
    pub source: Cell,
    /// "Yes" or "No", then why.
    pub dpia_required: Cell,
    /// `product.dpia`.
    pub dpia_link: Cell,
}

impl Row {
    /// The cells in [`COLUMNS`] order.
    pub fn cells(&self) -> [&Cell; COLUMNS.len()] {
        [
            &self.controller,
            &self.controller_contact,
            &self.business_function,
            &self.purpose_of_processing,
            &self.joint_controller,
            &self.individuals,
            &self.personal_data,
            &self.recipients,
            &self.processor_contracts,
            &self.third_countries,
            &self.safeguards,
            &self.retention,
            &self.security_measures,
            &self.article_6,
            &self.article_9,
            &self.legitimate_interests,
            &self.rights,
            &self.automated_decisions,
            &self.source,
            &self.dpia_required,
            &self.dpia_link,
        ]
    }
}

/// A controller named above the table, with its contact.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Controller {
    /// Name.
    pub name: String,
    /// E-mail or URL for privacy questions, when the manifest gives one.
    pub contact: Option<String>,
    /// The products it is the controller of, by name.
    pub products: Vec<String>,
}

/// The record of processing for a set of products.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ropa {
    /// The day the record was drawn up.
    pub as_of: Date,
    /// Who keeps this record, as the operator describes itself (e.g. "Acme Ltd, DPO
    /// dpo@acme.example"), when given.
    pub kept_by: Option<String>,
    /// The controllers of the products, each once, in the order first met.
    pub controllers: Vec<Controller>,
    /// One row per product and purpose, in the order given and then manifest order.
    pub rows: Vec<Row>,
}

impl Ropa {
    /// The record for `manifests`: a row for every purpose of every product.
    pub fn from_manifests<'a>(
        manifests: impl IntoIterator<Item = &'a Manifest>,
        kept_by: Option<String>,
        as_of: Date,
    ) -> Ropa {
        let mut controllers: Vec<Controller> = Vec::new();
        let mut rows = Vec::new();
        for m in manifests {
            if let Some(name) = columns::controller_name(m) {
                let contact = m.product.privacy_contact.as_ref().map(|c| c.value.clone());
                let product = m.product.name.value.clone();
                match controllers
                    .iter_mut()
                    .find(|c| c.name == name && c.contact == contact)
                {
                    Some(c) => c.products.push(product),
                    None => controllers.push(Controller {
                        name,
                        contact,
                        products: vec![product],
                    }),
                }
            }
            // Screened once per product: a DPIA covers the product as a whole.
            let dpia = dpia_required(m);
            rows.extend(m.purposes.iter().map(|p| columns::row(m, p, &dpia)));
        }
        Ropa {
            as_of,
            kept_by: kept_by.filter(|k| !k.trim().is_empty()),
            controllers,
            rows,
        }
    }

    /// The title documents carry.
    pub fn title(&self) -> &'static str {
        "Record of processing activities"
    }
}
