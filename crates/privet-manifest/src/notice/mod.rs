//! The privacy notice people read at set-up, generated from the manifest in plain language.
