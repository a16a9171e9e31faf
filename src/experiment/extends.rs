//! Composition: an experiment file may say `extends = "base.toml"` (a path relative to it, or a
//! shipped experiment's name). Its tables then override the base's key by key, at any depth;
//! any other value (the seeds, `[[arms]]`, `[[claims]]`, `[[figures]]`, a list) replaces the
//! base's whole, and what it does not give is inherited, except `name`, which is the file's own.
//! A base may extend another. The result is one flat table, so the resolved `config.toml` and
//! every run id depend on what is trained, never on how the file was written.

use std::path::{Path, PathBuf};

use toml::{Table, Value};

use super::error::SpecError;
use super::shipped;

/// The largest experiment file read: far above any real one, far below what could exhaust memory.
pub const MAX_FILE_BYTES: u64 = 1 << 20;

/// How many files a chain of `extends` may hold.
const MAX_CHAIN: usize = 16;

/// `table` (read from `path`) with its `extends` resolved: the base's table with this one's
/// keys laid over it. Without `extends`, the table as it is.
pub fn resolve(table: Table, path: &Path) -> Result<Table, SpecError> {
    resolve_chain(table, path, &mut Vec::new())
}

/// `chain` holds each file of the chain so far: how it is known (resolved), and as it was named.
fn resolve_chain(mut table: Table, path: &Path, chain: &mut Vec<(String, String)>) -> Result<Table, SpecError> {
    let file = path.display().to_string();
    let Some(extends) = table.remove("extends") else {
        return Ok(table);
    };
    let Value::String(base) = extends else {
        return Err(SpecError(format!(
            "{file}: extends = {extends}: must be a string, the path of an experiment file (relative to this one) or a shipped experiment's name"
        )));
    };
    let (text, base_path) = locate(&base, path)?;
    chain.push((identity(path), file.clone()));
    let there = identity(&base_path);
    if chain.iter().any(|(id, _)| *id == there) || chain.len() >= MAX_CHAIN {
        let mut names: Vec<String> = chain.iter().map(|(_, name)| name.clone()).collect();
        names.push(base_path.display().to_string());
        return Err(SpecError(format!(
            "{file}: extends = \"{base}\": circular (or longer than {MAX_CHAIN} files): {}",
            names.join(" → ")
        )));
    }
    let base_table: Table = text
        .parse()
        .map_err(|e: toml::de::Error| SpecError(format!("{}: {}", base_path.display(), e.message())))?;
    let mut merged = resolve_chain(base_table, &base_path, chain)?;
    chain.pop();
    // The composed experiment is a new one: named by its own file unless it says.
    merged.remove("name");
    overlay(&mut merged, table);
    Ok(merged)
}

/// The text and path of a base: a file relative to `from`'s folder, else a shipped experiment.
fn locate(base: &str, from: &Path) -> Result<(String, PathBuf), SpecError> {
    let relative = from.parent().unwrap_or(Path::new(".")).join(base);
    if relative.is_file() {
        let text = crate::records::read_limited(&relative, MAX_FILE_BYTES)
            .map_err(|e| SpecError(format!("{}: cannot read ({e})", relative.display())))?;
        return Ok((text, relative));
    }
    let name = base.strip_suffix(".toml").unwrap_or(base);
    match shipped::find(name) {
        Some(text) => Ok((text.to_string(), PathBuf::from(format!("experiments/{name}.toml")))),
        None => Err(SpecError(format!(
            "{}: extends = \"{base}\": no such file beside it ({}), nor a shipped experiment; shipped: {}",
            from.display(),
            relative.display(),
            shipped::SHIPPED.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
        ))),
    }
}

/// A file as the chain knows it: its resolved path, or its name for a shipped one.
fn identity(path: &Path) -> String {
    std::fs::canonicalize(path).map_or_else(|_| path.display().to_string(), |p| p.display().to_string())
}

/// Lays `top` over `base`: tables merge key by key, anything else replaces.
fn overlay(base: &mut Table, top: Table) {
    for (key, value) in top {
        match (base.get_mut(&key), value) {
            (Some(Value::Table(b)), Value::Table(t)) => overlay(b, t),
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_merge_key_by_key_and_lists_replace() {
        let mut base: Table = "seeds = 5\n[pressure]\nsteps = 10\nkl = 0.1\n[[arms]]\nname = \"a\"\n"
            .parse()
            .unwrap();
        let top: Table = "[pressure]\nsteps = 20\n[[arms]]\nname = \"b\"\n".parse().unwrap();
        overlay(&mut base, top);
        assert_eq!(base["pressure"]["steps"].as_integer(), Some(20));
        assert_eq!(base["pressure"]["kl"].as_float(), Some(0.1));
        assert_eq!(base["seeds"].as_integer(), Some(5));
        let arms = base["arms"].as_array().unwrap();
        assert_eq!(arms.len(), 1);
        assert_eq!(arms[0]["name"].as_str(), Some("b"));
    }
}
