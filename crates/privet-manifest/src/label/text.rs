//! The label as text for a terminal: an aligned two-column layout about 80 columns wide, and
//! the side-by-side comparison.

use super::model::Label;
use super::rows::{self, Row};
use super::rules::{START_POINTS, bands_sentence};
use crate::notice::plain;
use std::fmt::{self, Display, Formatter, Write};

/// Total width the text aims for.
const WIDTH: usize = 80;
/// Width of the row-label column in a single label.
const LABEL_COL: usize = 24;
/// Width of the row-label column in a comparison.
const COMPARE_LABEL_COL: usize = 22;
/// Narrowest a product column in a comparison gets (more products make the text wider).
const MIN_COLUMN: usize = 18;
/// Space between comparison columns.
const GAP: &str = "  ";

/// Splits `text` into lines of at most `width` characters, breaking at spaces, and splitting
/// words longer than a line.
pub(crate) fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut len = 0;
    for word in text.split_whitespace() {
        let mut word: Vec<char> = word.chars().collect();
        while !word.is_empty() {
            let room = if len == 0 {
                width
            } else {
                width.saturating_sub(len + 1)
            };
            if word.len() <= room {
                if len > 0 {
                    line.push(' ');
                    len += 1;
                }
                line.extend(word.iter());
                len += word.len();
                word.clear();
            } else if len > 0 {
                lines.push(std::mem::take(&mut line));
                len = 0;
            } else {
                let rest = word.split_off(width);
                lines.push(word.iter().collect());
                word = rest;
            }
        }
    }
    if len > 0 || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// A row's values as lines of at most `width`: one value wraps plainly, several become a
/// list with hanging indents.
fn value_lines(values: &[String], width: usize) -> Vec<String> {
    if let [only] = values {
        return wrap(only, width);
    }
    let mut out = Vec::new();
    for v in values {
        for (i, line) in wrap(v, width.saturating_sub(2)).into_iter().enumerate() {
            out.push(format!("{}{line}", if i == 0 { "- " } else { "  " }));
        }
    }
    out
}

fn rule_line(f: &mut Formatter<'_>, c: char, width: usize) -> fmt::Result {
    for _ in 0..width {
        f.write_char(c)?;
    }
    writeln!(f)
}

fn two_columns(
    f: &mut Formatter<'_>,
    label: &str,
    values: &[String],
    indent: usize,
) -> fmt::Result {
    let col = LABEL_COL.saturating_sub(indent);
    for (i, line) in value_lines(values, WIDTH - LABEL_COL).iter().enumerate() {
        let head = if i == 0 { label } else { "" };
        writeln!(f, "{:indent$}{head:<col$}{line}", "")?;
    }
    Ok(())
}

/// One label as terminal text.
pub(crate) struct Text<'a>(pub(crate) &'a Label);

impl Display for Text<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let l = self.0;
        writeln!(f, "PRIVACY AND SECURITY LABEL")?;
        for line in wrap(&l.product.name, WIDTH) {
            writeln!(f, "{line}")?;
        }
        let byline = format!(
            "by {} · {} · manifest version {}",
            l.product.maker, l.product.id, l.product.version
        );
        for line in wrap(&byline, WIDTH) {
            writeln!(f, "{line}")?;
        }
        writeln!(f, "Label as of {}", plain::date(l.as_of))?;
        rule_line(f, '=', WIDTH)?;
        two_columns(f, "Grade", &[rows::grade_line(l)], 0)?;
        rule_line(f, '-', WIDTH)?;
        for Row { label, values } in rows::primary(l) {
            two_columns(f, label, &values, 0)?;
        }
        rule_line(f, '-', WIDTH)?;
        writeln!(f, "WHY THIS GRADE")?;
        let how = format!(
            "Start at {START_POINTS} points; each rule that applies takes points away (rules in docs/label.md). {}.",
            bands_sentence()
        );
        for line in wrap(&how, WIDTH) {
            writeln!(f, "{line}")?;
        }
        writeln!(f, "{START_POINTS:>5}  start")?;
        if l.grade.reasons.is_empty() {
            writeln!(f, "  No rule applied.")?;
        }
        for r in &l.grade.reasons {
            let detail_width = WIDTH - 34;
            for (i, line) in wrap(&r.detail, detail_width).iter().enumerate() {
                if i == 0 {
                    writeln!(f, "{:>5}  {:<26} {line}", r.points, r.rule)?;
                } else {
                    writeln!(f, "{:34}{line}", "")?;
                }
            }
        }
        writeln!(
            f,
            "{:>5}  = {} points: grade {}",
            "", l.grade.points, l.grade.letter
        )?;
        rule_line(f, '-', WIDTH)?;
        writeln!(f, "DETAIL: EVERY FIELD")?;
        for row in &l.secondary {
            writeln!(f)?;
            let head = format!("{}.{}", row.stream, row.field);
            let optional = if row.optional { "  (optional)" } else { "" };
            writeln!(f, "{head}{optional}")?;
            let category = format!("{} ({})", row.category_name, row.category);
            two_columns(f, "Category", &[category], 2)?;
            two_columns(f, "Purposes", &row.purposes, 2)?;
            two_columns(f, "Lawful basis", &[row.bases.join(", ")], 2)?;
            two_columns(f, "Kept for", std::slice::from_ref(&row.retention), 2)?;
            if !row.transforms.is_empty() {
                two_columns(f, "Minimised", &row.transforms, 2)?;
            }
        }
        Ok(())
    }
}

/// Several labels side by side as terminal text.
pub(crate) struct Compare<'a>(pub(crate) &'a [Label]);

impl Display for Compare<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let labels = self.0;
        let n = labels.len().max(1);
        // Saturating: with many labels there is no room left and every column takes its minimum.
        let room = WIDTH.saturating_sub(COMPARE_LABEL_COL + GAP.len() * (n - 1));
        let col = (room / n).max(MIN_COLUMN);
        let total = COMPARE_LABEL_COL + col * n + GAP.len() * (n - 1);

        let names: Vec<Vec<String>> = labels.iter().map(|l| wrap(&l.product.name, col)).collect();
        print_row(f, "Product", &names, col)?;
        rule_line(f, '=', total)?;
        let per_label: Vec<Vec<Row>> = labels.iter().map(rows::compare).collect();
        let table = rows::side_by_side(&per_label);
        for (i, row) in table.iter().enumerate() {
            let cells: Vec<Vec<String>> = row
                .cells
                .iter()
                .map(|values| value_lines(values, col))
                .collect();
            print_row(f, row.label, &cells, col)?;
            if i + 1 < table.len() {
                writeln!(f)?;
            }
        }
        Ok(())
    }
}

fn print_row(f: &mut Formatter<'_>, label: &str, cells: &[Vec<String>], col: usize) -> fmt::Result {
    let label_lines = wrap(label, COMPARE_LABEL_COL - 2);
    let height = cells
        .iter()
        .map(Vec::len)
        .chain(std::iter::once(label_lines.len()))
        .max()
        .unwrap_or(1);
    for i in 0..height {
        let mut line = format!(
            "{:<width$}",
            label_lines.get(i).map_or("", String::as_str),
            width = COMPARE_LABEL_COL
        );
        for (j, cell) in cells.iter().enumerate() {
            if j > 0 {
                line.push_str(GAP);
            }
            line.push_str(&format!("{:<col$}", cell.get(i).map_or("", String::as_str)));
        }
        writeln!(f, "{}", line.trim_end())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_breaks_at_spaces_within_width() {
        let lines = wrap("the quick brown fox jumps over the lazy dog", 10);
        assert_eq!(
            lines,
            ["the quick", "brown fox", "jumps over", "the lazy", "dog"]
        );
        assert!(lines.iter().all(|l| l.chars().count() <= 10));
    }

    #[test]
    fn wrap_splits_words_longer_than_a_line() {
        assert_eq!(wrap("abcdefghij xy", 4), ["abcd", "efgh", "ij", "xy"]);
        assert_eq!(wrap("", 5), [""]);
    }

    #[test]
    fn several_values_become_a_list() {
        let v = vec!["one".to_owned(), "two".to_owned()];
        assert_eq!(value_lines(&v, 20), ["- one", "- two"]);
    }
}
