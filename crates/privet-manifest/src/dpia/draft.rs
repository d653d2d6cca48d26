//! The draft DPIA in Markdown, laid out like the ICO's DPIA template: screening, the
//! processing, consultation, necessity and proportionality, risks, measures and sign-off.
//! What a manifest can say is filled in; every judgement is left marked for the DPO.

use super::criteria::QUESTIONS;
use super::md::{Code, DPO, DPO_CELL, Text, uk_date};
use super::processing;
use super::risks::{Measure, overall, risks};
use super::screening::Screening;
use crate::model::Manifest;
use crate::span::LineIndex;
use jiff::civil::Date;
use std::fmt::{self, Display, Formatter};

/// What the draft depends on besides the manifest.
#[derive(Clone, Copy, Debug)]
pub struct DraftContext {
    /// The date the draft is written (a parameter so tests are deterministic).
    pub today: Date,
}

/// The draft DPIA of `manifest` (whose text is `source`, for line numbers) in Markdown.
pub fn markdown(manifest: &Manifest, source: &str, cx: &DraftContext) -> String {
    let screening = super::screen(manifest);
    Draft {
        m: manifest,
        source,
        index: LineIndex::new(source),
        screening: &screening,
        cx,
    }
    .to_string()
}

/// Text the draft itself wrote around manifest keys (which it puts in backticks): table
/// separators and line breaks are neutralised, backticks kept.
pub(crate) struct Detail<'a>(pub(crate) &'a str);

impl Display for Detail<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        for c in self.0.chars() {
            match c {
                '|' | '<' | '>' | '\\' => write!(f, "\\{c}")?,
                '\n' | '\r' => f.write_str(" ")?,
                _ => write!(f, "{c}")?,
            }
        }
        Ok(())
    }
}

struct Draft<'a> {
    m: &'a Manifest,
    source: &'a str,
    index: LineIndex,
    screening: &'a Screening,
    cx: &'a DraftContext,
}

impl Draft<'_> {
    fn line(&self, offset: usize) -> usize {
        self.index.line_col(self.source, offset).line
    }
}

impl Display for Draft<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        header(f, self)?;
        screening(f, self)?;
        processing::describe(f, self.m)?;
        consultation(f)?;
        processing::necessity(f, self.m)?;
        risk_sections(f, self)?;
        sign_off(f)
    }
}

fn header(f: &mut Formatter<'_>, d: &Draft<'_>) -> fmt::Result {
    let p = &d.m.product;
    writeln!(
        f,
        "# Data protection impact assessment (draft): {}\n",
        Text(&p.name)
    )?;
    writeln!(
        f,
        "> This draft was written by Privet from the privacy manifest of {} (version {}) on {}. \
         It sets out what the manifest declares. It is not an assessment until the DPO has \
         completed every part marked **DPO to complete** and the sign-off.\n",
        Code(p.id.as_str()),
        Text(p.version()),
        uk_date(d.cx.today)
    )?;
    writeln!(f, "| | |\n|---|---|")?;
    writeln!(
        f,
        "| Product | {} ({}) |",
        Text(&p.name),
        Code(p.id.as_str())
    )?;
    writeln!(
        f,
        "| Controller | {} (the maker acts as {}) |",
        Text(&p.maker),
        p.role()
    )?;
    let contact = p.privacy_contact.as_ref().map(|c| c.value.as_str());
    writeln!(
        f,
        "| Privacy contact | {} |",
        contact.map_or_else(|| DPO_CELL.to_owned(), |c| Text(c).to_string())
    )?;
    writeln!(f, "| Who it is for | {} |", p.audience())?;
    let dpia = p.dpia.as_ref().map(|c| c.value.as_str());
    writeln!(
        f,
        "| DPIA reference in the manifest | {} |\n",
        dpia.map_or_else(|| "none yet".to_owned(), |c| Text(c).to_string())
    )
}

fn screening(f: &mut Formatter<'_>, d: &Draft<'_>) -> fmt::Result {
    let s = d.screening;
    writeln!(f, "## 1. Screening: is a DPIA required?\n")?;
    writeln!(
        f,
        "**{}** {}\n",
        if s.required {
            "Required."
        } else {
            "Not required by the screening."
        },
        Text(&s.conclusion())
    )?;
    writeln!(
        f,
        "The screening applies the ICO's list of processing likely to result in high risk and \
         the EDPB's nine criteria: two EDPB criteria, an ICO item that needs a DPIA on its own, \
         or an ICO item together with an EDPB criterion make a DPIA required (see Privet's \
         `docs/dpia.md`).\n"
    )?;
    if s.reasons.is_empty() {
        writeln!(f, "The manifest meets none of the criteria.\n")?;
    } else {
        writeln!(
            f,
            "| criterion | source | manifest lines | what meets it |\n|---|---|---|---|"
        )?;
        for r in &s.reasons {
            let mut lines: Vec<usize> = r.evidence.iter().map(|e| d.line(e.start)).collect();
            lines.dedup();
            let lines: Vec<String> = lines.iter().map(ToString::to_string).collect();
            writeln!(
                f,
                "| {} | {} | {} | {} |",
                r.criterion.title(),
                r.criterion.source(),
                lines.join(", "),
                Detail(&r.detail)
            )?;
        }
        writeln!(f)?;
    }
    writeln!(
        f,
        "The manifest cannot show the following; a \"yes\" is one more criterion.\n"
    )?;
    for q in QUESTIONS {
        writeln!(f, "- {} ({})\n", q.question, q.source)?;
        writeln!(f, "  {DPO} yes or no, and why.\n")?;
    }
    writeln!(
        f,
        "{DPO} whether you agree with the screening, and why a DPIA is (or is not) needed.\n"
    )
}

fn consultation(f: &mut Formatter<'_>) -> fmt::Result {
    writeln!(f, "## 3. Consultation\n")?;
    writeln!(
        f,
        "{DPO} who was consulted (people who use the product, or their representatives; \
         security experts; processors), when, and what they said. If you did not consult the \
         people concerned, say why.\n"
    )
}

fn risk_sections(f: &mut Formatter<'_>, d: &Draft<'_>) -> fmt::Result {
    let list = risks(d.m, d.screening);
    writeln!(f, "## 5. Risks\n")?;
    if list.is_empty() {
        writeln!(
            f,
            "The manifest declares no personal data, so Privet lists no risk to people.\n"
        )?;
    } else {
        writeln!(
            f,
            "Likelihood and severity are Privet's suggestions, before the measures in section 6.\n"
        )?;
        writeln!(
            f,
            "| # | risk to people | from | likelihood | severity | overall |\n|---|---|---|---|---|---|"
        )?;
        for (i, r) in list.iter().enumerate() {
            writeln!(
                f,
                "| R{} | {} | {} | {} | {} | {} |",
                i + 1,
                r.harm,
                Detail(&r.source),
                r.likelihood.as_str(),
                r.severity.as_str(),
                overall(r.likelihood, r.severity)
            )?;
        }
        writeln!(f)?;
    }
    writeln!(
        f,
        "{DPO} confirm or change each likelihood and severity, and add the risks the manifest \
         cannot show (to the organisation, from the product's physical setting, from misuse by \
         someone in the household).\n"
    )?;
    writeln!(f, "## 6. Measures to reduce risk\n")?;
    writeln!(f, "### What Privet already applies\n")?;
    for m in Measure::ALL {
        writeln!(f, "- **{}**: {}", capitalise(m.name()), m.description())?;
        if let Some(extra) = processing::measure_in_this_product(d.m, *m) {
            writeln!(f, "  In this product: {extra}")?;
        }
    }
    writeln!(f)?;
    if !list.is_empty() {
        writeln!(f, "### Against each risk\n")?;
        writeln!(
            f,
            "| # | measures in place | further measures | effect on risk | residual risk | measure approved |\n|---|---|---|---|---|---|"
        )?;
        for (i, r) in list.iter().enumerate() {
            let names: Vec<&str> = r.measures.iter().map(|m| m.name()).collect();
            writeln!(
                f,
                "| R{} | {} | {DPO_CELL} | {DPO_CELL} | {DPO_CELL} | {DPO_CELL} |",
                i + 1,
                names.join(", ")
            )?;
        }
        writeln!(f)?;
    }
    Ok(())
}

fn sign_off(f: &mut Formatter<'_>) -> fmt::Result {
    writeln!(f, "## 7. Sign-off and outcomes\n")?;
    writeln!(f, "| item | name and date | notes |\n|---|---|---|")?;
    for (item, note) in [
        (
            "Measures approved by",
            "Put the measures into the plan, with dates and owners.",
        ),
        (
            "Residual risks approved by",
            "If a high risk remains, consult the ICO before going ahead (UK GDPR Art. 36).",
        ),
        (
            "DPO advice provided",
            "Whether the processing should go ahead, and on what terms.",
        ),
        (
            "DPO advice accepted or overruled by",
            "If overruled, say why.",
        ),
        (
            "Consultation responses reviewed by",
            "If you depart from what people said, say why.",
        ),
        (
            "This DPIA will be kept under review by",
            "Review it whenever the manifest changes materially (`privet manifest diff`).",
        ),
    ] {
        writeln!(f, "| {item} | {DPO_CELL} | {note} |")?;
    }
    writeln!(f)?;
    writeln!(f, "{DPO} summary of the DPO's advice.")
}

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
