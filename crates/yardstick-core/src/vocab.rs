//! Words of the language that more than one module needs (the loader reads
//! them, diagnostics reason about them). Depends on nothing.

/// The keys that each give a definition its measure.
pub(crate) const FORM_KEYS: [&str; 8] = [
    "measure",
    "share",
    "percentile",
    "ratio",
    "formula",
    "growth",
    "cumulative",
    "availability",
];
