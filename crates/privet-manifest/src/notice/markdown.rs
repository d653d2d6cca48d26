//! The notice as Markdown (CommonMark), for the CLI and for repositories.

use super::model::{ChildrenSummary, FieldFacts, Notice, PurposeFacts, StreamFacts};
use std::fmt::{self, Display, Formatter, Write};

/// Free text from a manifest, with Markdown's special characters backslash-escaped so that
/// a description cannot inject links, HTML or formatting.
struct Text<'a>(&'a str);

impl Display for Text<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        for c in self.0.chars() {
            match c {
                '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' | '&' => {
                    f.write_char('\\')?;
                    f.write_char(c)?;
                }
                // A line break in a description would end a list item or start a new block.
                '\n' | '\r' => f.write_char(' ')?,
                _ => f.write_char(c)?,
            }
        }
        Ok(())
    }
}

/// A manifest key as inline code; keys are validated (letters, digits, `_`, `-`, `.`).
struct Code<'a>(&'a str);

impl Display for Code<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let clean: String = self.0.chars().filter(|c| *c != '`' && *c != '\n').collect();
        write!(f, "`{clean}`")
    }
}

/// Renders a notice as Markdown.
pub(crate) struct Markdown<'a>(pub(crate) &'a Notice);

impl Display for Markdown<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let n = self.0;
        let p = &n.product;
        writeln!(f, "# Privacy notice: {}\n", Text(&p.name))?;
        writeln!(
            f,
            "Made by {}. Notice version {}, for {}.\n",
            Text(&p.maker),
            Text(&p.version),
            Code(&p.id)
        )?;
        summary(f, n)?;
        writeln!(f, "## In detail\n")?;
        for s in &n.streams {
            stream(f, s)?;
        }
        writeln!(f, "## Your rights and how to use them\n")?;
        for r in &n.rights {
            writeln!(f, "### {}\n\n{}\n", Text(&r.title), Text(&r.how))?;
            for item in &r.items {
                writeln!(f, "- {}", Text(item))?;
            }
            if !r.items.is_empty() {
                writeln!(f)?;
            }
        }
        if let Some(c) = &n.children {
            writeln!(f, "## For children\n")?;
            for line in &c.intro {
                writeln!(f, "{}\n", Text(line))?;
            }
            if !c.switched_off.is_empty() {
                writeln!(f, "{}\n", ChildrenSummary::SWITCHED_OFF)?;
                for line in &c.switched_off {
                    writeln!(f, "- {}", Text(line))?;
                }
                writeln!(f)?;
            }
            for line in &c.outro {
                writeln!(f, "{}\n", Text(line))?;
            }
        }
        writeln!(f, "## Who we are\n")?;
        writeln!(f, "{}\n", Text(&p.role_plain))?;
        match &p.contact {
            Some(c) => writeln!(f, "- Privacy questions and requests: {}", Text(c))?,
            None => writeln!(
                f,
                "- Privacy questions and requests: write to {}",
                Text(&p.maker)
            )?,
        }
        if let Some(v) = &p.vulnerability_disclosure {
            writeln!(f, "- Report a security problem: {}", Text(v))?;
        }
        writeln!(f, "\n---\n\n{}", Text(&n.attribution))
    }
}

fn summary(f: &mut Formatter<'_>, n: &Notice) -> fmt::Result {
    writeln!(f, "## In short\n")?;
    writeln!(f, "### What we collect\n")?;
    if n.collected.is_empty() {
        writeln!(f, "Nothing.\n")?;
    }
    for k in &n.collected {
        write!(f, "- **{}**", Text(&k.name))?;
        if !k.description.is_empty() {
            write!(f, ": {}", Text(&k.description))?;
        }
        write!(f, " Kept for up to {}.", Text(&k.longest))?;
        if k.optional {
            write!(f, " Only if you switch it on.")?;
        }
        writeln!(f)?;
    }
    writeln!(f, "\n### Why we collect it\n")?;
    for pu in &n.purposes {
        write!(f, "- {}", Text(&pu.description))?;
        if pu.optional {
            write!(f, " *(Optional: off until you switch it on.)*")?;
        }
        writeln!(f)?;
    }
    writeln!(f, "\n### Who else gets it\n")?;
    if n.recipients.is_empty() {
        writeln!(f, "Nobody else. We do not share your data.")?;
    }
    for r in &n.recipients {
        write!(
            f,
            "- **{}** ({}): it {}.",
            Text(&r.name),
            Text(&r.country_name),
            Text(&r.role_plain)
        )?;
        if let Some(s) = &r.safeguard_plain {
            write!(f, " The data leaves the UK, protected by {}.", Text(s))?;
        }
        writeln!(f)?;
    }
    writeln!(f, "\n### Off until you switch it on\n")?;
    if n.optional.is_empty() {
        writeln!(
            f,
            "Nothing here is optional: everything above is needed for the product to work."
        )?;
    } else {
        writeln!(
            f,
            "These are off until you switch them on. You can switch them off again at any time.\n"
        )?;
        for pu in &n.optional {
            writeln!(f, "- {}", Text(&pu.description))?;
        }
    }
    writeln!(f, "\n### Without the internet, and security updates\n")?;
    writeln!(
        f,
        "- Works without the internet: {}",
        Text(&n.works_offline)
    )?;
    writeln!(f, "- Security updates: {}\n", Text(&n.security_updates))
}

fn stream(f: &mut Formatter<'_>, s: &StreamFacts) -> fmt::Result {
    writeln!(f, "### Data stream {}\n", Code(&s.id))?;
    if let Some(d) = &s.description {
        writeln!(f, "{}\n", Text(d))?;
    }
    writeln!(f, "This data is {}.\n", Text(&s.whose))?;
    if !s.captures.is_empty() {
        let sentences: Vec<String> = s.captures.iter().map(|c| Text(c).to_string()).collect();
        writeln!(f, "{}\n", sentences.join(" "))?;
    }
    for field in &s.fields {
        field_detail(f, field)?;
    }
    Ok(())
}

fn field_detail(f: &mut Formatter<'_>, d: &FieldFacts) -> fmt::Result {
    writeln!(f, "#### {}\n", Code(&d.name))?;
    if let Some(desc) = &d.description {
        writeln!(f, "{}\n", Text(desc))?;
    }
    writeln!(
        f,
        "- What it is: {} ({})",
        Text(&d.category_name),
        Code(&d.category)
    )?;
    writeln!(f, "- Where it comes from: {}", Text(&d.origin))?;
    write!(f, "- How long we keep it: {}", Text(&d.retention))?;
    if let Some(note) = &d.retention_note {
        write!(f, " ({})", Text(note))?;
    }
    writeln!(f)?;
    if let Some(reason) = &d.retention_reason {
        writeln!(f, "- Why we keep it that long: {}", Text(reason))?;
    }
    if !d.transforms.is_empty() {
        let t: Vec<String> = d.transforms.iter().map(|t| Text(t).to_string()).collect();
        writeln!(f, "- How we reduce it before storing it: {}", t.join("; "))?;
    }
    if d.optional {
        writeln!(f, "- Optional: collected only if you switch it on")?;
    }
    writeln!(f, "- Why we use it:")?;
    for p in &d.purposes {
        purpose_line(f, p)?;
    }
    writeln!(f)
}

fn purpose_line(f: &mut Formatter<'_>, p: &PurposeFacts) -> fmt::Result {
    write!(
        f,
        "  - {} Allowed because {} ({}).",
        Text(&p.description),
        Text(&p.basis.plain),
        Text(&p.basis.article)
    )?;
    if let Some(c) = &p.condition {
        write!(
            f,
            " It is sensitive data, which we use only because {} ({}).",
            Text(&c.plain),
            Text(&c.article)
        )?;
    }
    if !p.recipients.is_empty() {
        let r: Vec<String> = p.recipients.iter().map(|r| Text(r).to_string()).collect();
        write!(f, " Shared with: {}.", r.join(", "))?;
    }
    writeln!(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_escapes_markdown_and_html_syntax() {
        let s = Text("<script>alert(1)</script> [x](y) *b*").to_string();
        assert_eq!(s, "\\<script\\>alert(1)\\</script\\> \\[x\\](y) \\*b\\*");
    }

    #[test]
    fn code_drops_backticks() {
        assert_eq!(Code("a`b").to_string(), "`ab`");
    }
}
