//! How long a field is kept and how much it is minimised, compared between two versions.

use super::ChangeKind;
use super::words::kept;
use crate::model::{Field, RetentionSpec};
use crate::notice::plain::Keep;
use crate::transform::{TimeUnit, Transform, location_precision};

/// A retention change: longer, shorter, or the same length written differently; with what to
/// say after the field's name.
pub(super) fn retention(old: &Field, new: &Field) -> Option<(ChangeKind, String)> {
    let (was, now) = (Keep::of(old), Keep::of(new));
    let said = format!("is now kept {} (was {})", kept(now), was.plain());
    let kind = match length(now).cmp(&length(was)) {
        std::cmp::Ordering::Greater => ChangeKind::LongerRetention,
        std::cmp::Ordering::Less => ChangeKind::ShorterRetention,
        std::cmp::Ordering::Equal => {
            let written = |f: &Field| {
                (
                    f.retention.as_ref().map(|r| r.value.clone()),
                    f.transform.drop_after.as_ref().map(|d| d.value),
                )
            };
            if written(old) == written(new) {
                return None;
            }
            return Some((
                ChangeKind::Wording,
                format!(
                    "keeps the same retention, now written `{}` (was `{}`)",
                    spelled(new),
                    spelled(old)
                ),
            ));
        }
    };
    Some((kind, said))
}

/// A period's length for comparison: `4w` and `28d` are the same length, whatever `Ord` on
/// `Retention` says about their units; unknown sorts after any period, no limit last.
fn length(k: Keep) -> (u8, u64) {
    match k {
        Keep::For(r) => (0, r.approx_hours()),
        Keep::NotStated => (1, 0),
        Keep::NoLimit => (2, 0),
    }
}

/// The retention and `drop_after` as written.
fn spelled(f: &Field) -> String {
    let retention = match f.retention.as_ref().map(|r| &r.value) {
        Some(RetentionSpec::Bounded(r)) => r.to_string(),
        Some(
            RetentionSpec::Unbounded(text)
            | RetentionSpec::Zero(text)
            | RetentionSpec::Malformed(text),
        ) => text.clone(),
        None => "none".to_owned(),
    };
    match &f.transform.drop_after {
        Some(d) => format!("{retention}, drop_after {}", d.value),
        None => retention,
    }
}

/// The parts of a transform that got weaker and those that got stronger, as phrases.
/// `drop_after` is left to [`retention`]: it is how long the value is kept.
#[derive(Debug, Default)]
pub(super) struct TransformChange {
    /// Each way the value is now kept in more detail.
    pub(super) weaker: Vec<String>,
    /// Each way it is now minimised more.
    pub(super) stronger: Vec<String>,
}

pub(super) fn transform(old: &Transform, new: &Transform) -> TransformChange {
    let mut c = TransformChange::default();
    hash(old, new, &mut c);
    location(old, new, &mut c);
    round(old, new, &mut c);
    bucket(old, new, &mut c);
    time(old, new, &mut c);
    c
}

fn is_hashed(t: &Transform) -> bool {
    t.hash.as_ref().is_some_and(|h| h.value)
}

fn hash(old: &Transform, new: &Transform, c: &mut TransformChange) {
    match (is_hashed(old), is_hashed(new)) {
        (true, false) => c
            .weaker
            .push("no longer replaced by a pseudonym".to_owned()),
        (false, true) => c.stronger.push("now replaced by a pseudonym".to_owned()),
        _ => {}
    }
}

/// Fewer decimal places is coarser; no truncation keeps every place.
fn location(old: &Transform, new: &Transform, c: &mut TransformChange) {
    let places = |t: &Transform| t.truncate_location.as_ref().map(|p| p.value);
    let cut = |p: u8| format!("{p} decimal places (about {})", location_precision(p));
    match (places(old), places(new)) {
        (Some(was), None) => c
            .weaker
            .push(format!("location no longer cut (was to {})", cut(was))),
        (None, Some(now)) => c.stronger.push(format!("location now cut to {}", cut(now))),
        (Some(was), Some(now)) if now > was => c.weaker.push(format!(
            "location cut to {} instead of {}",
            cut(now),
            cut(was)
        )),
        (Some(was), Some(now)) if now < was => c.stronger.push(format!(
            "location cut to {} instead of {}",
            cut(now),
            cut(was)
        )),
        _ => {}
    }
}

/// A larger step is coarser. Steps that cannot be compared count as weaker: nobody can say
/// the value is still minimised as much.
fn round(old: &Transform, new: &Transform, c: &mut TransformChange) {
    let step = |t: &Transform| t.round.as_ref().map(|r| r.value);
    match (step(old), step(new)) {
        (Some(was), None) => c
            .weaker
            .push(format!("no longer rounded (was to the nearest {was})")),
        (None, Some(now)) => c.stronger.push(format!("now rounded to the nearest {now}")),
        (Some(was), Some(now)) if now > was => c
            .stronger
            .push(format!("rounded to the nearest {now} instead of {was}")),
        (Some(was), Some(now)) if now.to_bits() != was.to_bits() => c
            .weaker
            .push(format!("rounded to the nearest {now} instead of {was}")),
        _ => {}
    }
}

/// A new bound splits a range, so the value is told apart more finely there: weaker, even if
/// other bounds were removed. Only removing bounds is stronger.
fn bucket(old: &Transform, new: &Transform, c: &mut TransformChange) {
    let bounds = |t: &Transform| t.bucket.as_ref().map(|b| b.value.clone());
    let show = |b: &[f64]| b.iter().map(f64::to_string).collect::<Vec<_>>().join(", ");
    match (bounds(old), bounds(new)) {
        (Some(was), None) => c.weaker.push(format!(
            "no longer kept only as a range (was bounds {})",
            show(&was)
        )),
        (None, Some(now)) => c
            .stronger
            .push(format!("now kept only as a range (bounds {})", show(&now))),
        (Some(was), Some(now)) => {
            let has = |list: &[f64], x: f64| list.iter().any(|y| y.to_bits() == x.to_bits());
            let said = format!(
                "kept as a range with bounds {} instead of {}",
                show(&now),
                show(&was)
            );
            if now.iter().any(|&x| !has(&was, x)) {
                c.weaker.push(said);
            } else if was.iter().any(|&x| !has(&now, x)) {
                c.stronger.push(said);
            }
        }
        (None, None) => {}
    }
}

/// Time units from finest to coarsest.
fn coarseness(u: TimeUnit) -> u8 {
    match u {
        TimeUnit::Minute => 1,
        TimeUnit::Hour => 2,
        TimeUnit::Day => 3,
        TimeUnit::Month => 4,
    }
}

fn time(old: &Transform, new: &Transform, c: &mut TransformChange) {
    let unit = |t: &Transform| t.coarsen_time.as_ref().map(|u| u.value);
    match (unit(old), unit(new)) {
        (Some(was), None) => c
            .weaker
            .push(format!("time no longer cut (was to the {})", was.as_str())),
        (None, Some(now)) => c
            .stronger
            .push(format!("time now kept only to the {}", now.as_str())),
        (Some(was), Some(now)) if coarseness(now) < coarseness(was) => c.weaker.push(format!(
            "time kept to the {} instead of the {}",
            now.as_str(),
            was.as_str()
        )),
        (Some(was), Some(now)) if coarseness(now) > coarseness(was) => c.stronger.push(format!(
            "time kept only to the {} instead of the {}",
            now.as_str(),
            was.as_str()
        )),
        _ => {}
    }
}
