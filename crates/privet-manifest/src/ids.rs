//! Identifier newtypes for the things a manifest names.

/// Declares an opaque string id newtype with `new`, `as_str`, `Display`, `Borrow<str>` and
/// transparent serde; other crates of Privet use it for their own ids (the user crate must
/// depend on serde).
#[macro_export]
macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
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

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl ::std::borrow::Borrow<str> for $name {
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

crate::id_type!(
    /// A product's id, e.g. `acme-thermostat-2`.
    ProductId
);
crate::id_type!(
    /// A purpose's key under `[purposes]`.
    PurposeId
);
crate::id_type!(
    /// A recipient's key under `[recipients]`.
    RecipientId
);
crate::id_type!(
    /// A stream's key under `[streams]`.
    StreamId
);
crate::id_type!(
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
