//! The two-layer privacy and security label, its grade, and side-by-side comparison.
