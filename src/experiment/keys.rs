//! Settings named by dotted keys on the command line and in an experiment file: `--set
//! KEY=VALUE` overrides, sweep axes, and the TOML table operations that apply them. Which keys
//! exist is the run's to say (`run::keys::check_key`).

use toml::{Table, Value};

use super::error::SpecError;
use crate::run::keys::check_key;

/// One swept setting and its values.
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    pub key: String,
    pub values: Vec<Value>,
}

impl Axis {
    /// Parses `--sweep KEY=V1,V2,...`; values are read as TOML, bare words as strings.
    pub fn parse(text: &str) -> Result<Axis, SpecError> {
        let bad = |why: &str| SpecError(format!("--sweep {text}: {why}"));
        let (key, raw) = text
            .split_once('=')
            .ok_or_else(|| bad("expected KEY=V1,V2,..., e.g. --sweep world.contradiction_rate=0,0.5"))?;
        let key = key.trim().to_string();
        check_key(&key).map_err(|why| bad(&why))?;
        let raw = raw.trim();
        if raw.contains(['\n', '\r']) {
            return Err(bad(
                "the values hold a line break, and what follows it would be dropped; give KEY=V1,V2,... on one line",
            ));
        }
        let values = match format!("v = [{raw}]")
            .parse::<Table>()
            .ok()
            .and_then(|mut t| t.remove("v"))
        {
            Some(Value::Array(items)) => items,
            _ => raw
                .split(',')
                .map(|v| Override::parse(&format!("{key}={v}")).map(|o| o.value))
                .collect::<Result<_, _>>()?,
        };
        if values.is_empty() || raw.is_empty() {
            return Err(bad("the list of values is empty"));
        }
        Ok(Axis { key, values })
    }
}

/// Renders a sweep value the way output columns and labels show it (strings without quotes).
pub fn value_label(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A `--set KEY=VALUE` override.
#[derive(Debug, Clone, PartialEq)]
pub struct Override {
    pub key: String,
    pub value: Value,
}

impl Override {
    /// Parses `KEY=VALUE`; the value is read as TOML (`[32, 32]`, `0.5`, `true`, `"x"`), and a
    /// bare word that is not TOML is taken as a string (`reward.kind=mixture`).
    pub fn parse(text: &str) -> Result<Override, SpecError> {
        let (key, raw) = text.split_once('=').ok_or_else(|| {
            SpecError(format!(
                "--set {text}: expected KEY=VALUE, e.g. --set pressure.steps=500"
            ))
        })?;
        let key = key.trim();
        if key.is_empty() || key.split('.').any(str::is_empty) {
            return Err(SpecError(format!(
                "--set {text}: `{key}` is not a dotted key like pressure.steps"
            )));
        }
        let raw = raw.trim();
        if raw.contains(['\n', '\r']) {
            return Err(SpecError(format!(
                "--set {key}: the value holds a line break, and what follows it would be dropped; give one KEY=VALUE on one line per --set"
            )));
        }
        let parsed = format!("v = {raw}")
            .parse::<Table>()
            .ok()
            .and_then(|mut t| t.remove("v"));
        // A number TOML cannot hold is an error about the number, not a string.
        if parsed.is_none() && raw.parse::<f64>().is_ok() {
            return Err(SpecError(format!(
                "--set {key}={raw}: not a number TOML can hold (out of range, or a form TOML does not write); give a finite number like 0.5 or 1e-3"
            )));
        }
        let value = parsed.unwrap_or_else(|| Value::String(raw.to_string()));
        Ok(Override {
            key: key.to_string(),
            value,
        })
    }

    /// Checks the key names a setting of a run's configuration.
    pub fn check_key(&self) -> Result<(), SpecError> {
        check_key(&self.key).map_err(|why| SpecError(format!("--set {}: {why}", self.key)))
    }
}

/// The table of the phase named `name` in a `[[phases]]` list, if there is one.
fn phase_named<'a>(items: &'a mut [Value], name: &str) -> Option<&'a mut Table> {
    let at = crate::run::phases::names_in(items).iter().position(|n| n == name)?;
    items[at].as_table_mut()
}

/// Sets a dotted key in a table, creating intermediate tables; in a list of phases the part
/// after `phases` names one (`phases.teach.steps`). `Err` names a phase the list does not have.
pub fn set_path(table: &mut Table, key: &str, value: Value) -> Result<(), String> {
    let mut parts = key.split('.').peekable();
    let mut level = table;
    while let Some(part) = parts.next() {
        if parts.peek().is_none() {
            level.insert(part.to_string(), value);
            return Ok(());
        }
        if part == "phases" && !level.contains_key(part) {
            return Err(no_list(key));
        }
        let entry = level
            .entry(part.to_string())
            .or_insert_with(|| Value::Table(Table::new()));
        if let Value::Array(items) = entry {
            let name = parts.next().expect("a key names a phase's setting after its name");
            let names = crate::run::phases::names_in(items);
            level = phase_named(items, name).ok_or_else(|| no_phase(key, name, &names))?;
            if parts.peek().is_none() {
                return Err(format!("`{key}`: name a setting of the phase, e.g. `{key}.steps`"));
            }
            continue;
        }
        if !entry.is_table() {
            *entry = Value::Table(Table::new());
        }
        level = entry.as_table_mut().expect("just made a table");
    }
    Ok(())
}

/// The error for a phase's key where the configuration lists no phases.
fn no_list(key: &str) -> String {
    format!(
        "`{key}`: this configuration has no [[phases]] list; without one its phases are set by [pressure] and [followup] (`pressure.steps`, `followup.steps`)"
    )
}

/// The error for a key that names a phase the list does not have.
fn no_phase(key: &str, name: &str, names: &[String]) -> String {
    format!(
        "`{key}`: there is no phase named \"{name}\"; the phases: {}",
        names.join(", ")
    )
}

/// Removes a dotted key from a table, if present.
pub fn remove_path(table: &mut Table, key: &str) {
    match key.split_once('.') {
        Some((head, rest)) => {
            if let Some(Value::Table(t)) = table.get_mut(head) {
                remove_path(t, rest);
            }
        }
        None => {
            table.remove(key);
        }
    }
}

/// Merges `over` into `base`: tables merge key by key, a table over a list of phases merges
/// into the phases it names (`phases.teach.steps`), anything else replaces. `Err` names a
/// phase the list does not have.
pub fn merge(base: &mut Table, over: &Table) -> Result<(), String> {
    for (k, v) in over {
        match (base.get_mut(k), v) {
            (Some(Value::Table(b)), Value::Table(o)) => merge(b, o)?,
            (None, Value::Table(o)) if k == "phases" => {
                let first = o.keys().next().cloned().unwrap_or_default();
                return Err(no_list(&format!("phases.{first}")));
            }
            (Some(Value::Array(items)), Value::Table(o)) => {
                let names = crate::run::phases::names_in(items);
                for (name, sub) in o {
                    let key = format!("{k}.{name}");
                    let phase = phase_named(items, name).ok_or_else(|| no_phase(&key, name, &names))?;
                    match sub {
                        Value::Table(sub) => merge(phase, sub)?,
                        other => {
                            return Err(format!(
                                "`{key}` = {other}: name a setting of the phase, e.g. `{key}.steps`"
                            ));
                        }
                    }
                }
            }
            _ => {
                base.insert(k.clone(), v.clone());
            }
        }
    }
    Ok(())
}

/// The dotted keys of every value in a table.
pub fn dotted_keys(table: &Table, prefix: &str) -> Vec<String> {
    table
        .iter()
        .flat_map(|(k, v)| {
            let key = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            match v {
                Value::Table(t) => dotted_keys(t, &key),
                _ => vec![key],
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_values_are_toml_or_bare_strings() {
        let o = Override::parse("policy.hidden=[32,32]").unwrap();
        assert_eq!(o.value, Value::Array(vec![Value::Integer(32), Value::Integer(32)]));
        let o = Override::parse("reward.kind=mixture").unwrap();
        assert_eq!(o.value, Value::String("mixture".into()));
        assert!(Override::parse("pressure.steps").is_err());
    }
}
