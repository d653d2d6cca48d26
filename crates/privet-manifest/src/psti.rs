//! The PSTI statement of compliance a connectable product must ship with in the UK (Product
//! Security and Telecommunications Infrastructure Act 2022 and the Security Requirements for
//! Relevant Connectable Products Regulations 2023), in Markdown, from the manifest.
//!
//! It fills in what the manifest knows: the product, the manufacturer's name, how to report
//! security issues, the defined support period as an end date, and the password requirement
//! Privet meets by construction. What the manifest does not hold (the manufacturer's address,
//! the batch, the signatory) is marked for the maker to fill in, never invented.
//!
//! ```
//! let source = include_str!("../../../examples/manifests/thermostat.toml");
//! let manifest = privet_manifest::parse(source).unwrap().manifest;
//! let statement = privet_manifest::psti::statement(&manifest);
//! assert!(statement.contains("31 December 2032"));
//! ```

use crate::dpia::{Text, uk_date};
use crate::model::Manifest;
use std::fmt::Write;

/// The marker for something the maker must fill in.
pub const MAKER: &str = "**Maker to complete:**";

/// The declaration every statement carries, with the manufacturer's name.
pub fn declaration(maker: &str) -> String {
    format!(
        "In the opinion of {maker}, the manufacturer, {maker} has complied with the security \
         requirements in Schedule 1 to the Product Security and Telecommunications \
         Infrastructure (Security Requirements for Relevant Connectable Products) Regulations \
         2023 in relation to the product described above."
    )
}

/// What Privet gives each device instead of a default password.
pub const NO_DEFAULT_PASSWORDS: &str = "The product has no universal default password. Each \
device gets its own credential when it is registered (a unique random token, shown once and \
stored only as a hash), and every account's password is chosen by its owner and checked \
against common and guessable passwords.";

/// The statement of compliance of `m`, in Markdown.
pub fn statement(m: &Manifest) -> String {
    let p = &m.product;
    // Writing to a String cannot fail; `let _` keeps the function infallible.
    let mut out = String::new();
    let maker = text(&p.maker.value);
    let _ = writeln!(out, "# Statement of compliance: {}\n", text(&p.name.value));
    let _ = writeln!(
        out,
        "Product Security and Telecommunications Infrastructure Act 2022, and the Product \
         Security and Telecommunications Infrastructure (Security Requirements for Relevant \
         Connectable Products) Regulations 2023.\n"
    );
    let _ = writeln!(out, "## Product\n");
    let _ = writeln!(out, "- Product type: {}", text(&p.name.value));
    let _ = writeln!(
        out,
        "- Model: {} (manifest version {})",
        text(p.id.as_str()),
        text(p.version())
    );
    let _ = writeln!(
        out,
        "- Batch or other identification: {MAKER} the batch, or the range of serial numbers, \
         this statement covers.\n"
    );
    let _ = writeln!(out, "## Manufacturer\n");
    let _ = writeln!(out, "- Name: {maker}");
    let _ = writeln!(
        out,
        "- Address: {MAKER} the manufacturer's postal address (the manifest does not hold it)."
    );
    let _ = writeln!(
        out,
        "- This statement of compliance has been prepared by, or on behalf of, {maker}.\n"
    );
    let _ = writeln!(out, "## Declaration\n\n{}\n", declaration(&maker));
    let _ = writeln!(out, "## Security requirements\n");
    let _ = writeln!(out, "### Passwords\n\n{NO_DEFAULT_PASSWORDS}\n");
    let _ = writeln!(out, "### How to report security issues\n");
    match &p.vulnerability_disclosure {
        Some(v) => {
            let _ = writeln!(
                out,
                "Report security issues with this product to {}.",
                text(v.value.trim())
            );
        }
        None => {
            let _ = writeln!(
                out,
                "{MAKER} where security researchers and others report security issues \
                 (`vulnerability_disclosure` in the manifest)."
            );
        }
    }
    match &p.disclosure_response_days {
        Some(d) => {
            let _ = writeln!(
                out,
                "{maker} will acknowledge each report within {} days, and will give the \
                 person who reported it status updates until the issue is resolved.\n",
                d.value
            );
        }
        None => {
            let _ = writeln!(
                out,
                "{MAKER} when people who report an issue will first hear back, and how they \
                 will be kept informed (`disclosure_response_days` in the manifest).\n"
            );
        }
    }
    let _ = writeln!(out, "### Defined support period\n");
    match &p.security_updates_until {
        Some(d) => {
            let _ = writeln!(
                out,
                "Security updates for this product will be provided until at least {}. The \
                 defined support period ends on {}.\n",
                uk_date(d.value),
                uk_date(d.value)
            );
        }
        None => {
            let _ = writeln!(
                out,
                "{MAKER} the end date of the defined support period \
                 (`security_updates_until` in the manifest).\n"
            );
        }
    }
    let _ = writeln!(out, "## Signed for and on behalf of {maker}\n");
    for item in [
        "Signature",
        "Name",
        "Function",
        "Place of issue",
        "Date of issue",
    ] {
        let _ = writeln!(out, "- {item}: {MAKER}");
    }
    out
}

/// Manifest text, escaped for Markdown.
fn text(s: &str) -> String {
    Text(s).to_string()
}
