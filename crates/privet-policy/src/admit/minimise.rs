//! Applying a field's transforms to its (type-checked) value, in the manifest's order:
//! `truncate_location`, `round`, `bucket`, `coarsen_time`, `hash`. Arrays are transformed
//! element by element.
//!
//! A transform that does not fit the value (say `round` on a string) fails closed: the batch is
//! rejected rather than the value stored unminimised.

use super::ValueHasher;
use super::rejection::Rejection;
use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use privet_manifest::{StreamId, TimeUnit, Transform};
use serde_json::{Number, Value};

/// Why a transform could not be applied.
#[derive(Debug, PartialEq)]
pub(super) enum Problem {
    /// The transform does not fit the value's type, or its setting is unusable.
    NotApplicable(&'static str),
    /// `coarsen_time` met a string that is not an RFC 3339 timestamp.
    NotATimestamp,
}

impl Problem {
    pub(super) fn reject(self, index: usize, stream: &StreamId, field: &str) -> Rejection {
        let stream = stream.clone();
        let field = crate::clip_name(field);
        match self {
            Problem::NotApplicable(transform) => Rejection::Transform {
                index,
                stream,
                field,
                transform,
            },
            Problem::NotATimestamp => Rejection::TypeMismatch {
                index,
                stream,
                field,
                expected: "an RFC 3339 timestamp string".to_owned(),
            },
        }
    }
}

/// Applies every declared transform to `value`.
pub(super) fn apply(
    value: &mut Value,
    t: &Transform,
    product: &str,
    hasher: &dyn ValueHasher,
) -> Result<(), Problem> {
    if let Some(places) = &t.truncate_location {
        each_leaf(value, &mut |v| truncate_location(v, places.value))?;
    }
    if let Some(step) = &t.round {
        each_leaf(value, &mut |v| {
            map_number(v, "round", |n| round(n, step.value))
        })?;
    }
    if let Some(bounds) = &t.bucket {
        each_leaf(value, &mut |v| {
            map_number(v, "bucket", |n| bucket(n, &bounds.value))
        })?;
    }
    if let Some(unit) = &t.coarsen_time {
        each_leaf(value, &mut |v| match v {
            Value::String(s) => {
                *s = coarsen_time(s, unit.value).ok_or(Problem::NotATimestamp)?;
                Ok(())
            }
            _ => Err(Problem::NotApplicable("coarsen_time")),
        })?;
    }
    if t.hash.as_ref().is_some_and(|h| h.value) {
        each_leaf(value, &mut |v| match v {
            Value::String(s) => {
                *s = hasher.hash(product, s);
                Ok(())
            }
            _ => Err(Problem::NotApplicable("hash")),
        })?;
    }
    Ok(())
}

/// Calls `f` on every value that is not an array, through nested arrays.
fn each_leaf(
    value: &mut Value,
    f: &mut dyn FnMut(&mut Value) -> Result<(), Problem>,
) -> Result<(), Problem> {
    match value {
        Value::Array(items) => items.iter_mut().try_for_each(|v| each_leaf(v, f)),
        leaf => f(leaf),
    }
}

fn map_number(
    value: &mut Value,
    transform: &'static str,
    f: impl FnOnce(&Number) -> Option<Number>,
) -> Result<(), Problem> {
    match value {
        Value::Number(n) => {
            *n = f(n).ok_or(Problem::NotApplicable(transform))?;
            Ok(())
        }
        _ => Err(Problem::NotApplicable(transform)),
    }
}

/// Integers up to this size convert to and from f64 exactly.
const EXACT_F64_INT: f64 = 9_007_199_254_740_992.0;

/// The nearest multiple of `step` (halves away from zero). An integer stays an integer when
/// `step` is integral. `None` when `step` is not a positive number or the result overflows.
pub(super) fn round(n: &Number, step: f64) -> Option<Number> {
    if !(step.is_finite() && step > 0.0) {
        return None;
    }
    if let Some(i) = n.as_i64()
        && step.fract() == 0.0
        && step <= EXACT_F64_INT
    {
        let (i, s) = (i128::from(i), step as i128);
        let (q, r) = (i / s, i % s);
        let q = if 2 * r.abs() >= s { q + i.signum() } else { q };
        return i64::try_from(q * s).ok().map(Number::from);
    }
    let x = n.as_f64()?;
    let q = (x / step).round();
    // For steps like 0.1 or 0.5, dividing by the integral inverse is exact where multiplying by
    // the step is not (213 * 0.1 = 21.300000000000001, 213 / 10 = 21.3).
    let inverse = 1.0 / step;
    let r = if inverse >= 1.0 && (inverse - inverse.round()).abs() < 1e-9 {
        q / inverse.round()
    } else {
        q * step
    };
    Number::from_f64(r + 0.0)
}

/// The lower bound of the bucket `n` falls in: the largest bound `<=` it. Values below every
/// bound map to the lowest bound (the first bucket is open below). Integers stay integers when
/// the bound is integral. `None` when there are no usable bounds.
pub(super) fn bucket(n: &Number, bounds: &[f64]) -> Option<Number> {
    let x = n.as_f64()?;
    let finite = bounds.iter().copied().filter(|b| b.is_finite());
    let lowest = finite.clone().reduce(f64::min)?;
    let bound = finite
        .filter(|b| *b <= x)
        .reduce(f64::max)
        .unwrap_or(lowest);
    if (n.is_i64() || n.is_u64()) && bound.fract() == 0.0 && bound.abs() <= EXACT_F64_INT {
        return Some(Number::from(bound as i64));
    }
    Number::from_f64(bound)
}

/// Cuts a location's `lat` and `lon` to `places` decimal places (towards zero).
fn truncate_location(value: &mut Value, places: u8) -> Result<(), Problem> {
    const NOT_APPLICABLE: Problem = Problem::NotApplicable("truncate_location");
    let Value::Object(map) = value else {
        return Err(NOT_APPLICABLE);
    };
    for key in ["lat", "lon"] {
        let Some(Value::Number(n)) = map.get_mut(key) else {
            return Err(NOT_APPLICABLE);
        };
        let x = n.as_f64().ok_or(NOT_APPLICABLE)?;
        *n = Number::from_f64(truncate(x, places)).ok_or(NOT_APPLICABLE)?;
    }
    Ok(())
}

/// `x` cut to `places` decimal places, towards zero. A value already at that precision is kept
/// as is, despite binary representation error (0.29 * 100 = 28.999999999999996).
pub(super) fn truncate(x: f64, places: u8) -> f64 {
    // f64 holds about 15 significant digits: beyond that there is nothing to cut.
    if places >= 15 {
        return x;
    }
    let scale = 10f64.powi(i32::from(places));
    let scaled = x * scale;
    let nearest = scaled.round();
    let cut = if (scaled - nearest).abs() <= 1e-9 * nearest.abs().max(1.0) {
        nearest
    } else {
        scaled.trunc()
    };
    // `+ 0.0` turns -0.0 into 0.0.
    cut / scale + 0.0
}

/// An RFC 3339 timestamp truncated to `unit`, in UTC, written in RFC 3339 (`…Z`).
pub(super) fn coarsen_time(text: &str, unit: TimeUnit) -> Option<String> {
    let ts: Timestamp = text.parse().ok()?;
    let dt = ts.to_zoned_datetime(TimeZone::UTC).datetime();
    let (y, mo, d, h, mi) = (dt.year(), dt.month(), dt.day(), dt.hour(), dt.minute());
    let cut = match unit {
        TimeUnit::Minute => DateTime::new(y, mo, d, h, mi, 0, 0),
        TimeUnit::Hour => DateTime::new(y, mo, d, h, 0, 0, 0),
        TimeUnit::Day => DateTime::new(y, mo, d, 0, 0, 0, 0),
        TimeUnit::Month => DateTime::new(y, mo, 1, 0, 0, 0, 0),
    }
    .ok()?;
    let zoned = cut.to_zoned_datetime(TimeZone::UTC).ok()?;
    Some(zoned.timestamp().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use privet_manifest::{Spanned, span::Span};
    use serde_json::json;

    fn num(v: Value) -> Number {
        match v {
            Value::Number(n) => n,
            _ => Number::from(0),
        }
    }

    fn spanned<T>(v: T) -> Option<Spanned<T>> {
        Some(Spanned::new(v, Span::default()))
    }

    struct Tagged;
    impl ValueHasher for Tagged {
        fn hash(&self, product: &str, value: &str) -> String {
            format!("{product}:{}", value.len())
        }
    }

    #[test]
    fn round_goes_to_the_nearest_step() {
        let r = |v: Value, step| Value::Number(round(&num(v), step).unwrap());
        assert_eq!(r(json!(21.3), 0.5), json!(21.5));
        assert_eq!(r(json!(21.24), 0.5), json!(21.0));
        assert_eq!(r(json!(21.34), 0.1), json!(21.3));
        assert_eq!(r(json!(-2.25), 0.5), json!(-2.5));
        assert_eq!(r(json!(1234), 100.0), json!(1200));
        assert_eq!(r(json!(-1250), 100.0), json!(-1300));
        assert!(r(json!(1234), 100.0).is_i64());
        assert_eq!(r(json!(7), 0.5), json!(7.0));
        assert_eq!(r(json!(0.2), 5.0), json!(0.0));
        assert!(round(&num(json!(1)), 0.0).is_none());
        assert!(round(&num(json!(1)), -1.0).is_none());
        assert!(round(&num(json!(i64::MAX)), 10.0).is_none());
    }

    #[test]
    fn bucket_keeps_the_lower_bound() {
        let b = |v: Value| Value::Number(bucket(&num(v), &[18.0, 30.0, 45.0, 65.0]).unwrap());
        assert_eq!(b(json!(37)), json!(30));
        assert_eq!(b(json!(30)), json!(30));
        assert_eq!(b(json!(99.5)), json!(65.0));
        // Below the first bound: the first bound.
        assert_eq!(b(json!(4)), json!(18));
        assert!(bucket(&num(json!(1)), &[]).is_none());
    }

    #[test]
    fn truncate_cuts_towards_zero_without_float_noise() {
        assert_eq!(truncate(51.50735, 2), 51.5);
        assert_eq!(truncate(0.29, 2), 0.29);
        assert_eq!(truncate(-0.12789, 2), -0.12);
        assert_eq!(truncate(-0.001, 0).to_string(), "0");
        assert_eq!(truncate(1.23456789, 20), 1.23456789);
    }

    #[test]
    fn coarsen_time_truncates_in_utc() {
        let c = |unit| coarsen_time("2026-03-14T15:09:26.535+01:00", unit).unwrap();
        assert_eq!(c(TimeUnit::Minute), "2026-03-14T14:09:00Z");
        assert_eq!(c(TimeUnit::Hour), "2026-03-14T14:00:00Z");
        assert_eq!(c(TimeUnit::Day), "2026-03-14T00:00:00Z");
        assert_eq!(c(TimeUnit::Month), "2026-03-01T00:00:00Z");
        assert_eq!(coarsen_time("yesterday", TimeUnit::Day), None);
    }

    #[test]
    fn transforms_apply_in_order_through_arrays() {
        let t = Transform {
            round: spanned(10.0),
            bucket: spanned(vec![0.0, 100.0]),
            ..Transform::default()
        };
        // 96 rounds to 100 first, then falls in the [100, …) bucket.
        let mut v = json!([96, 4, [149]]);
        apply(&mut v, &t, "p", &Tagged).unwrap();
        assert_eq!(v, json!([100, 0, [100]]));
    }

    #[test]
    fn hash_and_location_transforms() {
        let t = Transform {
            hash: spanned(true),
            ..Transform::default()
        };
        let mut v = json!("serial-0001");
        apply(&mut v, &t, "prod", &Tagged).unwrap();
        assert_eq!(v, json!("prod:11"));

        let t = Transform {
            truncate_location: spanned(2),
            ..Transform::default()
        };
        let mut v = json!({"lat": 51.50735, "lon": -0.12776, "accuracy": 5});
        apply(&mut v, &t, "p", &Tagged).unwrap();
        assert_eq!(v, json!({"lat": 51.5, "lon": -0.12, "accuracy": 5}));
    }

    #[test]
    fn misfit_transforms_fail_closed() {
        let t = Transform {
            round: spanned(1.0),
            ..Transform::default()
        };
        assert_eq!(
            apply(&mut json!("x"), &t, "p", &Tagged),
            Err(Problem::NotApplicable("round"))
        );
        let t = Transform {
            hash: spanned(true),
            ..Transform::default()
        };
        assert_eq!(
            apply(&mut json!(5), &t, "p", &Tagged),
            Err(Problem::NotApplicable("hash"))
        );
        let t = Transform {
            coarsen_time: spanned(TimeUnit::Day),
            ..Transform::default()
        };
        assert_eq!(
            apply(&mut json!("not a time"), &t, "p", &Tagged),
            Err(Problem::NotATimestamp)
        );
    }
}
