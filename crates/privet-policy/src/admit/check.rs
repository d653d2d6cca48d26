//! Type-checking a field's value against its declared [`FieldType`], dropping (or, for a strict
//! product, rejecting) keys an object schema does not declare.

use super::rejection::Rejection;
use privet_manifest::{FieldType, StreamId};
use serde_json::{Number, Value};

/// The longest string value accepted, in bytes.
pub(super) const MAX_STRING_BYTES: usize = 64 * 1024;

const LOCATION: &str = "location (an object with numeric lat in [-90, 90], lon in [-180, 180] and optional accuracy >= 0)";

/// A step into a value: an object key or an array element.
enum Segment {
    Key(String),
    Item,
}

/// What is wrong inside a field's value, with the path to it (innermost first).
pub(super) struct Problem {
    path: Vec<Segment>,
    kind: ProblemKind,
}

enum ProblemKind {
    Mismatch(String),
    Undeclared,
}

impl Problem {
    fn mismatch(expected: impl Into<String>) -> Self {
        Problem {
            path: Vec::new(),
            kind: ProblemKind::Mismatch(expected.into()),
        }
    }

    fn within(mut self, segment: Segment) -> Self {
        self.path.push(segment);
        self
    }

    /// The rejection for field `field` of event `index`, naming the path (`settings.mode`,
    /// `readings[]`) but not the value.
    pub(super) fn reject(self, index: usize, stream: &StreamId, field: &str) -> Rejection {
        let mut path = field.to_owned();
        for segment in self.path.iter().rev() {
            match segment {
                Segment::Key(k) => {
                    path.push('.');
                    path.push_str(k);
                }
                Segment::Item => path.push_str("[]"),
            }
        }
        let field = crate::clip_name(&path);
        let stream = stream.clone();
        match self.kind {
            ProblemKind::Mismatch(expected) => Rejection::TypeMismatch {
                index,
                stream,
                field,
                expected,
            },
            ProblemKind::Undeclared => Rejection::Undeclared {
                index,
                stream,
                field,
            },
        }
    }
}

/// Checks values; counts the object keys it drops.
pub(super) struct Checker {
    strict: bool,
    undeclared: u64,
}

impl Checker {
    pub(super) fn new(strict: bool) -> Self {
        Checker {
            strict,
            undeclared: 0,
        }
    }

    /// How many undeclared keys inside objects were dropped so far.
    pub(super) fn undeclared(&self) -> u64 {
        self.undeclared
    }

    /// Checks `value` against `ty`. Integral floats in an `integer` field become integers;
    /// undeclared keys of `object` fields are removed. `null` matches no type.
    pub(super) fn check(&mut self, value: &mut Value, ty: &FieldType) -> Result<(), Problem> {
        match ty {
            FieldType::Number => match value {
                Value::Number(_) => Ok(()),
                _ => Err(Problem::mismatch("number")),
            },
            FieldType::Integer => match value {
                Value::Number(n) => {
                    let i = as_integer(n).ok_or_else(|| Problem::mismatch("integer"))?;
                    *n = Number::from(i);
                    Ok(())
                }
                _ => Err(Problem::mismatch("integer")),
            },
            FieldType::Bool => match value {
                Value::Bool(_) => Ok(()),
                _ => Err(Problem::mismatch("bool")),
            },
            FieldType::String => match value {
                Value::String(s) if s.len() <= MAX_STRING_BYTES => Ok(()),
                Value::String(_) => Err(Problem::mismatch(format!(
                    "string of at most {MAX_STRING_BYTES} bytes"
                ))),
                _ => Err(Problem::mismatch("string")),
            },
            FieldType::Location => {
                if is_location(value) {
                    Ok(())
                } else {
                    Err(Problem::mismatch(LOCATION))
                }
            }
            FieldType::Object { schema } => {
                let Value::Object(map) = value else {
                    return Err(Problem::mismatch("object"));
                };
                let declared = |k: &str| schema.iter().any(|(name, _)| name == k);
                if let Some(key) = map.keys().find(|k| !declared(k)) {
                    if self.strict {
                        return Err(Problem {
                            path: vec![Segment::Key(key.clone())],
                            kind: ProblemKind::Undeclared,
                        });
                    }
                    let before = map.len();
                    map.retain(|k, _| declared(k));
                    self.undeclared += (before - map.len()) as u64;
                }
                for (name, ty) in schema {
                    if let Some(v) = map.get_mut(name) {
                        self.check(v, ty)
                            .map_err(|p| p.within(Segment::Key(name.clone())))?;
                    }
                }
                Ok(())
            }
            FieldType::Array { items } => {
                let Value::Array(values) = value else {
                    return Err(Problem::mismatch(ty.to_string()));
                };
                for v in values {
                    self.check(v, items).map_err(|p| p.within(Segment::Item))?;
                }
                Ok(())
            }
        }
    }
}

/// The number as an i64, if it is integral and in range (`3.0` counts, `3.5` and `2^63` do not).
fn as_integer(n: &Number) -> Option<i64> {
    if let Some(i) = n.as_i64() {
        return Some(i);
    }
    if n.is_u64() {
        return None;
    }
    let f = n.as_f64()?;
    // A number that did not parse as an i64 but as a float is taken as an integer only where
    // every integer is a float exactly (|f| < 2^53): beyond, `-9223372036854775809` would
    // round to i64::MIN, `9007199254740993.0` to 2^53, values the device never sent. (A long
    // fraction that rounds to an integral float below 2^53 cannot be told apart without
    // parsing the text exactly.)
    const EXACT: f64 = 9_007_199_254_740_992.0;
    (f.fract() == 0.0 && f.abs() < EXACT).then_some(f as i64)
}

/// `{"lat": …, "lon": …}` with an optional `accuracy`, in range, and nothing else.
fn is_location(value: &Value) -> bool {
    let Value::Object(map) = value else {
        return false;
    };
    let number = |k: &str| map.get(k).and_then(Value::as_f64);
    let in_range = |k: &str, limit: f64| number(k).is_some_and(|v| (-limit..=limit).contains(&v));
    let accuracy_ok = match map.get("accuracy") {
        None => true,
        Some(_) => number("accuracy").is_some_and(|a| a >= 0.0),
    };
    in_range("lat", 90.0)
        && in_range("lon", 180.0)
        && accuracy_ok
        && map
            .keys()
            .all(|k| matches!(k.as_str(), "lat" | "lon" | "accuracy"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(value: &mut Value, ty: &FieldType, strict: bool) -> Result<u64, String> {
        let mut c = Checker::new(strict);
        match c.check(value, ty) {
            Ok(()) => Ok(c.undeclared()),
            Err(p) => Err(p.reject(3, &StreamId::new("s"), "f").to_string()),
        }
    }

    fn object(schema: &[(&str, FieldType)]) -> FieldType {
        FieldType::Object {
            schema: schema
                .iter()
                .map(|(k, t)| ((*k).to_owned(), t.clone()))
                .collect(),
        }
    }

    #[test]
    fn scalars_match_their_types_and_null_matches_none() {
        assert!(check(&mut json!(1.5), &FieldType::Number, false).is_ok());
        assert!(check(&mut json!(true), &FieldType::Bool, false).is_ok());
        assert!(check(&mut json!("x"), &FieldType::String, false).is_ok());
        for ty in [
            FieldType::Number,
            FieldType::Integer,
            FieldType::Bool,
            FieldType::String,
        ] {
            assert!(check(&mut Value::Null, &ty, false).is_err(), "{ty}");
        }
        assert!(check(&mut json!("1"), &FieldType::Number, false).is_err());
        assert!(check(&mut json!(1), &FieldType::Bool, false).is_err());
    }

    #[test]
    fn integers_must_be_integral_and_fit_an_i64() {
        let mut v = json!(3.0);
        assert!(check(&mut v, &FieldType::Integer, false).is_ok());
        assert!(v.is_i64());
        assert!(check(&mut json!(-7), &FieldType::Integer, false).is_ok());
        assert!(check(&mut json!(3.5), &FieldType::Integer, false).is_err());
        assert!(check(&mut json!(u64::MAX), &FieldType::Integer, false).is_err());
        assert!(check(&mut json!(1e19), &FieldType::Integer, false).is_err());
        let mut min = json!(i64::MIN);
        assert!(check(&mut min, &FieldType::Integer, false).is_ok());
        let mut past_min: Value = serde_json::from_str("-9223372036854775809").unwrap();
        assert!(
            check(&mut past_min, &FieldType::Integer, false).is_err(),
            "one below i64::MIN parses as a float that rounds to it"
        );
        for beyond in [
            "1e17",
            "9007199254740992.0",
            "9007199254740993.0",
            "-9007199254740993.0",
        ] {
            let mut v: Value = serde_json::from_str(beyond).unwrap();
            assert!(
                check(&mut v, &FieldType::Integer, false).is_err(),
                "{beyond}: floats are not exact integers from 2^53 on"
            );
        }
        let mut thousand: Value = serde_json::from_str("1.0e3").unwrap();
        assert!(check(&mut thousand, &FieldType::Integer, false).is_ok());
        assert_eq!(thousand, json!(1000));
        let mut exact: Value = serde_json::from_str("4e15").unwrap();
        assert!(check(&mut exact, &FieldType::Integer, false).is_ok());
    }

    #[test]
    fn strings_are_bounded() {
        let mut long = Value::String("x".repeat(MAX_STRING_BYTES + 1));
        let err = check(&mut long, &FieldType::String, false).unwrap_err();
        assert!(err.contains("at most 65536 bytes"), "{err}");
        assert!(
            check(
                &mut Value::String("x".repeat(MAX_STRING_BYTES)),
                &FieldType::String,
                false
            )
            .is_ok()
        );
    }

    #[test]
    fn locations_need_lat_and_lon_in_range_and_nothing_else() {
        let ok = [
            json!({"lat": 51.5, "lon": -0.12}),
            json!({"lat": -90, "lon": 180, "accuracy": 12.5}),
        ];
        for mut v in ok {
            assert!(check(&mut v, &FieldType::Location, false).is_ok(), "{v}");
        }
        let bad = [
            json!({"lat": 91, "lon": 0}),
            json!({"lat": 0, "lon": -180.5}),
            json!({"lat": 0}),
            json!({"lat": "51", "lon": 0}),
            json!({"lat": 0, "lon": 0, "accuracy": -1}),
            json!({"lat": 0, "lon": 0, "accuracy": null}),
            json!({"lat": 0, "lon": 0, "name": "home"}),
            json!([51.5, -0.12]),
        ];
        for mut v in bad {
            assert!(check(&mut v, &FieldType::Location, false).is_err(), "{v}");
        }
    }

    #[test]
    fn objects_drop_undeclared_keys_recursively_and_count_them() {
        let ty = object(&[
            ("mode", FieldType::String),
            ("inner", object(&[("level", FieldType::Integer)])),
        ]);
        let mut v =
            json!({"mode": "eco", "extra": 1, "inner": {"level": 2, "secret": "x", "more": 0}});
        assert_eq!(check(&mut v, &ty, false), Ok(3));
        assert_eq!(v, json!({"mode": "eco", "inner": {"level": 2}}));
    }

    #[test]
    fn strict_objects_reject_undeclared_keys_by_path() {
        let ty = FieldType::Array {
            items: Box::new(object(&[(
                "inner",
                object(&[("level", FieldType::Integer)]),
            )])),
        };
        let mut v = json!([{"inner": {"level": 1}}, {"inner": {"level": 2, "oops": true}}]);
        let err = check(&mut v, &ty, true).unwrap_err();
        assert!(err.contains("`f[].inner.oops`"), "{err}");
    }

    #[test]
    fn arrays_check_each_element_and_name_the_path() {
        let ty = FieldType::parse_scalar("integer[]").unwrap();
        assert!(check(&mut json!([1, 2, 3]), &ty, false).is_ok());
        let err = check(&mut json!([1, "SECRET-VALUE-123"]), &ty, false).unwrap_err();
        assert_eq!(err, "event 3: field `f[]` of stream `s` must be integer");
        let err = check(&mut json!(1), &ty, false).unwrap_err();
        assert!(err.ends_with("must be integer[]"), "{err}");
    }
}
