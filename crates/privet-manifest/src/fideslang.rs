//! Export of a manifest as a fideslang `System` with privacy declarations (YAML).
