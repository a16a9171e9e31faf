//! The error of bad experiment input: one line that names the file (or the flag), the key and
//! what is allowed.

/// A bad experiment: one line that names the file (or the flag), the key and what is allowed.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SpecError(pub String);
