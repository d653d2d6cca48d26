//! Storage limitation: every field has a bounded, readable retention, not longer than needed
//! (PV013, PV014, PV015, PV016, PV047).

use crate::finding::Finding;
use crate::model::{Field, Manifest, RetentionSpec, Stream};
use crate::retention::Retention;
use crate::rules;
use crate::taxonomy::is_personal_category;

/// Three years (and a leap day) in days: beyond this a retention needs a documented reason.
const LONG_RETENTION_DAYS: u64 = 3 * 365 + 1;

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
    // What is actually kept: `drop_after` may shorten the retention.
    if let Some(kept) = f.effective_retention()
        && is_personal_category(&f.category.value)
        && kept.approx_days() > LONG_RETENTION_DAYS
    {
        out.push(
            Finding::new(
                &rules::LONG_RETENTION,
                r.span,
                format!(
                    "personal data in `{name}` is kept for {}, more than three years",
                    kept.plain()
                ),
            )
            .label("more than 3 years")
            .help("shorten it to what the purpose needs, e.g. `retention = \"2y\"`, or record why longer is necessary (e.g. in the DPIA)"),
        );
    }
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
