//! The specs shipped in `specs/` (inside this crate), embedded so that a binary works from anywhere.

use std::sync::Arc;

use crate::spec::{Spec, SpecError};

/// (name, TOML text) of every embedded spec.
pub const BUILTIN: &[(&str, &str)] = &[
    ("iso87ascii", include_str!("../specs/iso87ascii.toml")),
    ("iso87binary", include_str!("../specs/iso87binary.toml")),
    ("iso93ascii", include_str!("../specs/iso93ascii.toml")),
    ("mobile-money", include_str!("../specs/mobile-money.toml")),
];

/// Names of the embedded specs.
pub fn names() -> impl Iterator<Item = &'static str> {
    BUILTIN.iter().map(|(n, _)| *n)
}

/// Load an embedded spec by name (`iso87ascii`, `iso87binary`, `iso93ascii`, `mobile-money`).
pub fn builtin(name: &str) -> Result<Arc<Spec>, SpecError> {
    match BUILTIN.iter().find(|(n, _)| *n == name) {
        Some((_, text)) => Spec::from_toml(text),
        None => Err(SpecError {
            path: String::new(),
            message: format!(
                "no embedded spec named {name:?} (known: {})",
                names().collect::<Vec<_>>().join(", ")
            ),
        }),
    }
}

/// An embedded spec by name, or a TOML file when `name_or_path` ends in `.toml`.
pub fn load(name_or_path: &str) -> Result<Arc<Spec>, SpecError> {
    if name_or_path.ends_with(".toml") {
        let text = std::fs::read_to_string(name_or_path).map_err(|e| SpecError {
            path: name_or_path.to_string(),
            message: e.to_string(),
        })?;
        return Spec::from_toml(&text);
    }
    builtin(name_or_path)
}
