//! Identifier newtypes for the things a manifest names.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Wraps an identifier.
            pub fn new(s: impl Into<String>) -> Self {
                $name(s.into())
            }

            /// The identifier as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

id_type!(
    /// A product's id, e.g. `acme-thermostat-2`.
    ProductId
);
id_type!(
    /// A purpose's key under `[purposes]`.
    PurposeId
);
id_type!(
    /// A recipient's key under `[recipients]`.
    RecipientId
);
id_type!(
    /// A stream's key under `[streams]`.
    StreamId
);
id_type!(
    /// A field's key under `[streams.X.fields]`.
    FieldName
);

/// Whether `s` is a valid manifest key: lowercase ASCII letters, digits, `_` and `-`, starting with a letter.
pub fn is_valid_key(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase())
        && s.len() <= 64
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}
