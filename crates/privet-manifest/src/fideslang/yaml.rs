//! Writing the export so that YAML 1.1 readers read it as written.
//!
//! fideslang loads files with PyYAML, a YAML 1.1 reader, where a bare `yes`, `off`, `1:20` or
//! `2031-12-31` is not text but a boolean, a number or a date. `serde_norway` writes YAML 1.2
//! and leaves those unquoted, and it cannot be told to quote one value. So when any text in
//! the export would be misread that way, the whole export is written as JSON instead: JSON is
//! YAML too, and every JSON string is quoted. Real manifests almost never need it.

use super::Error;
use serde::Serialize;
use serde_norway::Value;

/// `value` as block YAML, or as JSON when block YAML would be misread by a YAML 1.1 reader.
pub(super) fn to_string<T: Serialize>(value: &T) -> Result<String, Error> {
    let tree = serde_norway::to_value(value)?;
    if is_read_back_as_written(&tree) {
        Ok(serde_norway::to_string(&tree)?)
    } else {
        let mut json = serde_json::to_string_pretty(value)?;
        json.push('\n');
        Ok(json)
    }
}

/// Whether every string in `value` reads back as the same string in YAML 1.1.
fn is_read_back_as_written(value: &Value) -> bool {
    match value {
        Value::String(s) => !is_misread(s),
        Value::Sequence(items) => items.iter().all(is_read_back_as_written),
        Value::Mapping(map) => map
            .iter()
            .all(|(k, v)| is_read_back_as_written(k) && is_read_back_as_written(v)),
        Value::Tagged(tagged) => is_read_back_as_written(&tagged.value),
        Value::Null | Value::Bool(_) | Value::Number(_) => true,
    }
}

/// Whether `serde_norway` writes `s` as a plain scalar that YAML 1.1 resolves to something
/// other than a string. Errs on the side of "misread": the cost is JSON output, not data.
fn is_misread(s: &str) -> bool {
    looks_like_yaml_1_1_scalar(s) && !is_quoted_by_serde_norway(s)
}

/// `serde_norway` quotes strings that YAML 1.2 would read as null, a boolean or a number.
fn is_quoted_by_serde_norway(s: &str) -> bool {
    matches!(
        serde_norway::from_str::<Value>(s),
        Ok(Value::Null | Value::Bool(_) | Value::Number(_))
    )
}

/// A superset of the plain scalars PyYAML's resolver turns into non-strings: booleans, nulls,
/// ints, floats (sexagesimal ones too), timestamps, and the merge and value keys.
fn looks_like_yaml_1_1_scalar(s: &str) -> bool {
    const WORDS: &[&str] = &[
        "yes", "Yes", "YES", "no", "No", "NO", "true", "True", "TRUE", "false", "False", "FALSE",
        "on", "On", "ON", "off", "Off", "OFF", "y", "Y", "n", "N", "", "~", "null", "Null", "NULL",
        "<<", "=", "!", "&", "*",
    ];
    if WORDS.contains(&s) {
        return true;
    }
    let unsigned = s.strip_prefix(['-', '+']).unwrap_or(s);
    if matches!(
        unsigned,
        ".inf" | ".Inf" | ".INF" | ".nan" | ".NaN" | ".NAN"
    ) {
        return true;
    }
    let numeric = unsigned.starts_with(|c: char| c.is_ascii_digit() || c == '.')
        && unsigned.matches('.').count() <= 1
        && unsigned
            .chars()
            .all(|c| c.is_ascii_hexdigit() || "_:.+-xXoObB".contains(c));
    let bytes = s.as_bytes();
    let timestamp = bytes.len() >= 5
        && bytes.iter().take(4).all(u8::is_ascii_digit)
        && bytes.get(4) == Some(&b'-');
    numeric || timestamp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_1_1_booleans_numbers_and_dates_are_caught() {
        for s in [
            "yes",
            "No",
            "on",
            "OFF",
            "1:20",
            "017",
            "1_000",
            "2031-12-31",
            "2031-12-31 10:00:00",
            "1_0.5",
            "<<",
        ] {
            assert!(is_misread(s), "{s}");
        }
    }

    #[test]
    fn ordinary_text_and_quoted_numbers_are_left_as_yaml() {
        for s in [
            "Hearth Speaker 3",
            "essential.service",
            "3.2",
            "400",
            "5.0",
            "3.2.1",
            "hearth-speaker-3",
            "privacy@acme.example",
            "https://acme.example/security",
            "Run your heating to the schedule you set.",
            // serde_norway quotes these itself.
            "true",
            "null",
            "~",
            "",
        ] {
            assert!(!is_misread(s), "{s}");
        }
    }

    #[test]
    fn falls_back_to_json_only_when_needed() {
        #[derive(Serialize)]
        struct Named<'a> {
            name: &'a str,
            version: &'a str,
        }
        let yaml = to_string(&Named {
            name: "Speaker",
            version: "3.2",
        })
        .unwrap_or_default();
        assert_eq!(yaml, "name: Speaker\nversion: '3.2'\n");
        let json = to_string(&Named {
            name: "On",
            version: "3.2",
        })
        .unwrap_or_default();
        assert_eq!(json, "{\n  \"name\": \"On\",\n  \"version\": \"3.2\"\n}\n");
    }
}
