//! The privacy notice people read at set-up, generated from the manifest in plain language.
//!
//! [`Notice::from_manifest`] turns a manifest into plain-language data (a short top layer, the
//! detail per stream and field, the person's rights, a children's summary); [`markdown`] and
//! [`html`] render that same data, so every format says the same thing.

mod build;
pub mod categories;
mod children;
mod html;
mod markdown;
mod model;
pub(crate) mod plain;
mod rights;

pub use model::{
    Basis, ChildrenSummary, FieldFacts, KindSummary, Notice, ProductFacts, PurposeFacts,
    RecipientFacts, RightFacts, StreamFacts,
};

use crate::model::Manifest;

/// Why the notice could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The HTML template failed to render.
    #[error("could not render the privacy notice of `{product}` as HTML")]
    Render {
        /// The product whose notice failed.
        product: String,
        /// What the template engine reported.
        #[source]
        source: askama::Error,
    },
}

/// The privacy notice as Markdown.
pub fn markdown(manifest: &Manifest) -> String {
    markdown::Markdown(&Notice::from_manifest(manifest)).to_string()
}

/// The privacy notice as a complete, self-contained HTML page.
pub fn html(manifest: &Manifest) -> Result<String, Error> {
    html::render(&Notice::from_manifest(manifest))
}

impl Notice {
    /// This notice as Markdown.
    pub fn to_markdown(&self) -> String {
        markdown::Markdown(self).to_string()
    }

    /// This notice as a complete, self-contained HTML page.
    pub fn to_html(&self) -> Result<String, Error> {
        html::render(self)
    }
}
