//! Turning a table into a run's configuration, and saying where a bad value came from: the
//! `--set` or `--sweep` that wrote it, not the file, when it came from the command line.

use std::path::Path;

use toml::{Table, Value};

use super::error::SpecError;
use super::keys::Override;
use crate::run::RunConfig;

/// Reads a one-line message from a TOML parse error, with its line and column.
pub(super) fn parse_error(path: &Path, text: &str, e: &toml::de::Error) -> SpecError {
    let at = e
        .span()
        .map(|span| {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            format!(":{line}:{col}")
        })
        .unwrap_or_default();
    SpecError(format!(
        "{}{at}: malformed TOML: {}",
        path.display(),
        e.message().trim().replace('\n', " ")
    ))
}

/// A table that did not make a valid value: the dotted key it failed at, if known, and a
/// one-line message that names it.
pub(super) struct BadValue {
    pub key: Option<String>,
    pub message: String,
    /// The message without the key, for an error that names the key already.
    pub bare: String,
}

impl BadValue {
    /// Whether it failed at `key`, inside it (`policy.hidden` holds `policy.hidden[1]`), or in
    /// the table that holds it (a `reward` table whose `weight` belongs to another kind).
    pub fn is_at(&self, key: &str) -> bool {
        self.key.as_deref().is_some_and(|k| {
            let inside = |outer: &str, inner: &str| {
                inner
                    .strip_prefix(outer)
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with(['[', '.']))
            };
            inside(key, k) || inside(k, key)
        })
    }

    /// The error, blamed on the `--set` that wrote the bad value, else on a `--set` whose key the
    /// message names (its value made another setting invalid), else on `context`.
    pub fn blame(self, context: &str, overrides: &[Override]) -> SpecError {
        let named = |o: &&Override| {
            self.message.match_indices(o.key.as_str()).any(|(at, _)| {
                let after = self.message[at + o.key.len()..].chars().next();
                let before = self.message[..at].chars().last();
                !after.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.')
                    && !before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.')
            })
        };
        match overrides
            .iter()
            .find(|o| self.is_at(&o.key))
            .or_else(|| overrides.iter().find(named))
        {
            Some(o) => SpecError(format!("--set {}={}: {}", o.key, o.value, self.beside(&o.key))),
            None => SpecError(format!("{context}: {}", self.message)),
        }
    }

    /// The message after an error that already names `key`.
    pub fn beside(&self, key: &str) -> &str {
        if self.key.as_deref() == Some(key) {
            &self.bare
        } else {
            &self.message
        }
    }
}

/// Deserializes `T` from a TOML table.
pub(super) fn deserialize_at<T: serde::de::DeserializeOwned>(table: Table) -> Result<T, BadValue> {
    let phase_names = match table.get("phases") {
        Some(Value::Array(items)) => crate::run::phases::names_in(items),
        _ => Vec::new(),
    };
    serde_path_to_error::deserialize(Value::Table(table)).map_err(|e| {
        let path = by_phase_name(&e.path().to_string(), &phase_names);
        let message = readable(&e.inner().message().trim().replace('\n', " "));
        if path.is_empty() || path == "." {
            BadValue {
                key: None,
                bare: message.clone(),
                message,
            }
        } else {
            BadValue {
                message: format!("key `{path}`: {message}"),
                bare: message,
                key: Some(path),
            }
        }
    })
}

/// A path into the list of phases by its place (`phases[1].reference`) written as the phase's
/// name, as keys name it (`phases.first.reference`).
fn by_phase_name(path: &str, names: &[String]) -> String {
    let Some(rest) = path.strip_prefix("phases[") else {
        return path.to_string();
    };
    let Some((index, after)) = rest.split_once(']') else {
        return path.to_string();
    };
    match index.parse::<usize>().ok().and_then(|i| names.get(i)) {
        Some(name) => format!("phases.{name}{after}"),
        None => path.to_string(),
    }
}

/// serde's type errors said as a person would: `invalid value: integer `-5`, expected usize`
/// becomes `must be a whole number, 0 or more, not -5`. Other messages are kept as they are.
pub(super) fn readable(message: &str) -> String {
    let Some((given, expected)) = message.split_once(", expected ") else {
        return message.to_string();
    };
    let wanted = match expected {
        "usize" | "u64" | "u32" | "u16" | "u8" => "a whole number, 0 or more",
        "isize" | "i64" | "i32" => "a whole number",
        "f64" | "f32" => "a number",
        "a boolean" => "true or false",
        "a string" => "a string (in quotes)",
        _ => return message.to_string(),
    };
    // `invalid value: integer `-5`` or `invalid type: string "abc"`: the value as written.
    let Some((_, value)) = given.split_once(": ") else {
        return message.to_string();
    };
    let value = match (value.split_once('`'), value.rsplit_once(' ')) {
        (Some((_, quoted)), _) => quoted.trim_end_matches('`').to_string(),
        (None, Some((_, v))) => v.to_string(),
        (None, None) => value.to_string(),
    };
    format!("must be {wanted}, not {value}")
}

/// Deserializes `T` from a TOML table; an error names the context and the dotted key.
pub(super) fn deserialize<T: serde::de::DeserializeOwned>(table: Table, context: &str) -> Result<T, SpecError> {
    deserialize_at(table).map_err(|bad| bad.blame(context, &[]))
}

/// A run's configuration from its table, deserialized, checked and resolved.
pub(super) fn run_config(table: Table) -> Result<RunConfig, BadValue> {
    let config: RunConfig = deserialize_at(table)?;
    config.resolve().map_err(|e| BadValue {
        message: e.to_string(),
        bare: e.allowed,
        key: Some(e.key),
    })
}

#[cfg(test)]
mod tests {
    use super::readable;

    #[test]
    fn type_errors_read_as_a_person_would_say_them() {
        assert_eq!(
            readable("invalid value: integer `-5`, expected usize"),
            "must be a whole number, 0 or more, not -5"
        );
        assert_eq!(
            readable("invalid type: string \"abc\", expected f64"),
            "must be a number, not \"abc\""
        );
        assert_eq!(
            readable("invalid type: floating point `1.5`, expected u64"),
            "must be a whole number, 0 or more, not 1.5"
        );
        assert_eq!(
            readable("invalid type: integer `1`, expected a boolean"),
            "must be true or false, not 1"
        );
        // Anything else is kept.
        let other = "unknown variant `x`, expected one of `a`, `b`";
        assert_eq!(readable(other), other);
    }
}
