//! Storage limitation: every field has a bounded, readable retention, not longer than needed
//! (PV013, PV014, PV015, PV016, PV047). PV016's bounds are the table in
//! [`crate::retention_bounds`].

use crate::finding::Finding;
use crate::model::{Field, Manifest, RetentionSpec, Stream};
use crate::retention::Retention;
use crate::retention_bounds::bound_for;
use crate::rules;
use crate::span::Span;

pub(super) fn check(m: &Manifest, out: &mut Vec<Finding>) {
    for (s, f) in m.fields() {
        retention(s, f, out);
        drop_after(s, f, out);
    }
}

fn retention(s: &Stream, f: &Field, out: &mut Vec<Finding>) {
    let name = format!("{}.{}", s.id.as_str(), f.name.as_str());
    let Some(r) = &f.retention else {
        out.push(
            Finding::new(
                &rules::MISSING_RETENTION,
                f.name.span,
                format!("field `{name}` has no retention"),
            )
            .label("`retention` missing here")
            .help(
                "add how long it is needed, e.g. `retention = \"30d\"`; units are h, d, w, m and y",
            ),
        );
        return;
    };
    match &r.value {
        RetentionSpec::Bounded(_) => {}
        RetentionSpec::Malformed(text) => {
            let help = match respell(text) {
                Some(fixed) => format!("write it as a number and a unit: `retention = \"{fixed}\"`"),
                None => "write a number followed by h, d, w, m or y, e.g. `retention = \"30d\"`".to_owned(),
            };
            out.push(
                Finding::new(
                    &rules::INVALID_RETENTION,
                    r.span,
                    format!("retention of `{name}` is not a period"),
                )
                .label("not <number><h|d|w|m|y>")
                .help(help),
            );
        }
        RetentionSpec::Zero(_) => out.push(
            Finding::new(
                &rules::INVALID_RETENTION,
                r.span,
                format!("retention of `{name}` is zero"),
            )
            .label("zero length")
            .help("if the value is not needed at all, stop collecting it; otherwise keep it as briefly as you need, e.g. `retention = \"24h\"`"),
        ),
        RetentionSpec::Unbounded(_) => out.push(
            Finding::new(
                &rules::UNBOUNDED_RETENTION,
                r.span,
                format!("field `{name}` would be kept indefinitely"),
            )
            .label("no end")
            .help("choose the shortest period you need, e.g. `retention = \"2y\"`"),
        ),
    }
    long_retention(&name, f, r.span, out);
}

/// PV016: kept past its category's bound with no written reason.
fn long_retention(name: &str, f: &Field, at: Span, out: &mut Vec<Finding>) {
    // What is actually kept: `drop_after` may shorten the retention.
    let Some(kept) = f.effective_retention() else {
        return;
    };
    let Some(bound) = bound_for(&f.category.value) else {
        return;
    };
    let justified = f
        .retention_reason
        .as_ref()
        .is_some_and(|r| !r.value.trim().is_empty());
    if kept <= bound.longest || justified {
        return;
    }
    let longest = bound.longest.plain();
    out.push(
        Finding::new(
            &rules::LONG_RETENTION,
            at,
            format!(
                "`{name}` (`{}`) is kept for {}, longer than the {longest} allowed for `{}` without a reason",
                f.category.value,
                kept.plain(),
                bound.category
            ),
        )
        .label(format!("more than {longest}"))
        .help(format!(
            "shorten it to what the purpose needs, at most `retention = \"{}\"`, or if longer is truly necessary say why in `retention_reason = \"…\"` on this field (the privacy notice shows it)",
            bound.longest
        )),
    );
}

/// PV047.
fn drop_after(s: &Stream, f: &Field, out: &mut Vec<Finding>) {
    let (Some(d), Some(r)) = (&f.transform.drop_after, f.retention()) else {
        return;
    };
    if d.value < r {
        return;
    }
    out.push(
        Finding::new(
            &rules::INEFFECTIVE_DROP_AFTER,
            d.span,
            format!(
                "`drop_after` of `{}.{}` ({}) is not shorter than its retention ({r})",
                s.id.as_str(),
                f.name.as_str(),
                d.value
            ),
        )
        .label(format!("not shorter than {r}"))
        .help(format!(
            "make `drop_after` shorter than {r}, or remove it and set `retention` to the period you mean"
        )),
    );
}

/// `30 days` → `30d`: a spelled-out period, re-written in manifest form.
fn respell(text: &str) -> Option<String> {
    let t = text.trim().to_ascii_lowercase();
    let digits_end = t.find(|c: char| !c.is_ascii_digit())?;
    let (digits, unit) = t.split_at(digits_end);
    let suffix = match unit.trim() {
        "h" | "hr" | "hrs" | "hour" | "hours" => 'h',
        "d" | "day" | "days" => 'd',
        "w" | "wk" | "wks" | "week" | "weeks" => 'w',
        "mo" | "mon" | "month" | "months" => 'm',
        "y" | "yr" | "yrs" | "year" | "years" => 'y',
        _ => return None,
    };
    let fixed = format!("{digits}{suffix}");
    Retention::parse(&fixed).ok().map(|r| r.to_string())
}

#[cfg(test)]
mod tests {
    use super::respell;

    #[test]
    fn spelled_out_periods_are_respelled() {
        assert_eq!(respell("30 days").as_deref(), Some("30d"));
        assert_eq!(respell("2 Years").as_deref(), Some("2y"));
        assert_eq!(respell("6 months").as_deref(), Some("6m"));
        assert_eq!(respell("a while"), None);
        assert_eq!(respell("30x"), None);
        assert_eq!(respell("0 days"), None);
    }
}
