//! Field types: what shape of JSON value a device may send for a field.

use serde::Serialize;
use std::fmt;

/// The declared type of a field.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "lowercase", tag = "kind")]
pub enum FieldType {
    /// Any JSON number.
    Number,
    /// A JSON number with no fractional part that fits in an i64.
    Integer,
    /// `true` or `false`.
    Bool,
    /// A JSON string.
    String,
    /// `{"lat": …, "lon": …}` in decimal degrees.
    Location,
    /// A JSON object whose keys are declared in a schema; undeclared keys are dropped.
    Object {
        /// The declared keys, in manifest order.
        schema: Vec<(String, FieldType)>,
    },
    /// A JSON array of one element type.
    Array {
        /// The element type.
        items: Box<FieldType>,
    },
}

/// Most `[]` a type may carry (`number[][][][]`): every walk of a type recurses once per
/// level, so a bound keeps a hostile manifest from exhausting the stack.
pub const MAX_ARRAY_DEPTH: usize = 4;

impl FieldType {
    /// Parses a scalar type name with optional `[]` suffixes (`"number"`, `"location[]"`).
    /// `object` types carry a schema and are built by the parser.
    pub fn parse_scalar(name: &str) -> Option<FieldType> {
        let base = name.trim_end_matches("[]");
        let depth = (name.len() - base.len()) / 2;
        if depth > MAX_ARRAY_DEPTH {
            return None;
        }
        let mut ty = match base {
            "number" => FieldType::Number,
            "integer" => FieldType::Integer,
            "bool" => FieldType::Bool,
            "string" => FieldType::String,
            "location" => FieldType::Location,
            _ => return None,
        };
        for _ in 0..depth {
            ty = FieldType::Array {
                items: Box::new(ty),
            };
        }
        Some(ty)
    }

    /// The innermost element type (through arrays).
    pub fn element(&self) -> &FieldType {
        match self {
            FieldType::Array { items } => items.element(),
            other => other,
        }
    }

    /// Whether values of this type are numbers (or arrays of numbers).
    pub fn is_numeric(&self) -> bool {
        matches!(self.element(), FieldType::Number | FieldType::Integer)
    }

    /// Whether this is a location (or an array of them).
    pub fn is_location(&self) -> bool {
        matches!(self.element(), FieldType::Location)
    }

    /// Whether this is a string (or an array of them).
    pub fn is_string(&self) -> bool {
        matches!(self.element(), FieldType::String)
    }

    /// Whether this holds an object (or an array of them).
    pub fn is_object(&self) -> bool {
        matches!(self.element(), FieldType::Object { .. })
    }
}

impl fmt::Display for FieldType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldType::Number => f.write_str("number"),
            FieldType::Integer => f.write_str("integer"),
            FieldType::Bool => f.write_str("bool"),
            FieldType::String => f.write_str("string"),
            FieldType::Location => f.write_str("location"),
            FieldType::Object { schema } => {
                f.write_str("object {")?;
                for (i, (k, t)) in schema.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, " {k}: {t}")?;
                }
                f.write_str(" }")
            }
            FieldType::Array { items } => write!(f, "{items}[]"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalar_and_array_names_parse() {
        assert_eq!(FieldType::parse_scalar("bool"), Some(FieldType::Bool));
        assert_eq!(
            FieldType::parse_scalar("number[][]").map(|t| t.to_string()),
            Some("number[][]".to_owned())
        );
        assert_eq!(FieldType::parse_scalar("object"), None);
        assert_eq!(FieldType::parse_scalar("float"), None);
        assert!(FieldType::parse_scalar("location[]").is_some_and(|t| t.is_location()));
    }
}
