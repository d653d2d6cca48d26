//! Markdown pieces for the DPO documents: free text escaped, keys as code, dates the UK way.
//!
//! The escaping follows the privacy notice's (`notice/markdown.rs`), so manifest text can
//! never inject links, HTML or table cells into a document a DPO signs.

use jiff::civil::Date;
use std::fmt::{self, Display, Formatter, Write};

/// Free text from a manifest with Markdown's special characters backslash-escaped.
pub(crate) struct Text<'a>(pub(crate) &'a str);

impl Display for Text<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        for c in self.0.chars() {
            match c {
                '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' | '&' => {
                    f.write_char('\\')?;
                    f.write_char(c)?;
                }
                // A line break would end a table row or a list item.
                '\n' | '\r' => f.write_char(' ')?,
                _ => f.write_char(c)?,
            }
        }
        Ok(())
    }
}

/// A manifest key or value as inline code (backticks and line breaks removed).
pub(crate) struct Code<'a>(pub(crate) &'a str);

impl Display for Code<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let clean: String = self
            .0
            .chars()
            .filter(|c| !matches!(c, '`' | '\n' | '\r' | '|'))
            .collect();
        write!(f, "`{clean}`")
    }
}

/// A date as written in the UK, e.g. "31 December 2032".
pub(crate) fn uk_date(d: Date) -> String {
    d.strftime("%-d %B %Y").to_string()
}

/// The marker for a judgement the DPO must make, as a block.
pub(crate) const DPO: &str = "> **DPO to complete:**";

/// The marker for a judgement the DPO must make, inside a table cell.
pub(crate) const DPO_CELL: &str = "**DPO to complete**";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_escapes_markdown_and_tables() {
        assert_eq!(
            Text("a | b [x](y) <i>\nz").to_string(),
            "a \\| b \\[x\\](y) \\<i\\> z"
        );
        assert_eq!(Code("a`b|c").to_string(), "`abc`");
    }

    #[test]
    fn dates_read_the_uk_way() {
        assert_eq!(uk_date(jiff::civil::date(2032, 12, 31)), "31 December 2032");
        assert_eq!(uk_date(jiff::civil::date(2033, 3, 1)), "1 March 2033");
    }
}
