//! An experiment file: a base configuration, named arms that override it, seeds, and command-line
//! overrides (`--set`) applied on top of every arm.
//!
//! Overrides are merged as TOML values, then each arm's configuration is deserialized with unknown
//! keys denied and validated; every error names the file, the arm and the key.

use std::path::Path;

use serde::{Deserialize, Serialize};
use toml::{Table, Value};

use super::backend::Backend;
use super::config::RunConfig;

/// A bad experiment: one line that names the file, the key and what is allowed.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SpecError(pub String);

/// The sections of a run's configuration, as they appear at the top of an experiment file.
pub const SECTIONS: [&str; 7] = [
    "world",
    "policy",
    "constitution",
    "pressure",
    "reward",
    "followup",
    "eval",
];

/// An experiment file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExperimentFile {
    /// The experiment's name (default: the file's stem); outputs go to `runs/<name>/`.
    name: Option<String>,
    /// What the experiment asks, which arm is the control, what would count as no effect.
    #[serde(default)]
    description: String,
    /// `N` (seeds 0..N-1) or an explicit list of seeds.
    seeds: Option<Value>,
    /// The tensor backend (`flex` or `ndarray`); `--backend` overrides it.
    backend: Option<Backend>,
    #[serde(default)]
    world: Table,
    #[serde(default)]
    policy: Table,
    #[serde(default)]
    constitution: Table,
    #[serde(default)]
    pressure: Table,
    #[serde(default)]
    reward: Table,
    #[serde(default)]
    followup: Table,
    #[serde(default)]
    eval: Table,
    /// Named overrides of the base configuration.
    #[serde(default)]
    arms: Vec<Table>,
    /// Figures drawn beside the core three.
    #[serde(default)]
    figures: Vec<FigureSpec>,
    /// Swept settings: dotted keys mapped to lists of values; the grid is their product.
    #[serde(default)]
    sweep: Table,
    /// Metrics of a two-axis sweep's heatmaps, `metric` (trained scope) or `scope:metric`
    /// (default: hidden_objection); `--metric` replaces them.
    #[serde(default)]
    heatmaps: Vec<String>,
}

/// How a figure shows its metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FigureKind {
    /// Metrics against training step: mean, 95% band and seeds per arm, one panel per entry.
    #[default]
    Steps,
    /// Final values against the per-arm value of the setting `x`, one panel per metric.
    Final,
}

/// An extra figure of an experiment, drawn by `pressure run` and `pressure plot`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FigureSpec {
    /// File stem of the figure (`<plots>/<name>.png` and `.svg`).
    pub name: String,
    /// The figure's title.
    pub title: String,
    /// `steps` (default) or `final`.
    #[serde(default)]
    pub kind: FigureKind,
    /// `steps` figures: the panels, each with metrics named `scope:metric`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub panels: Vec<PanelSpec>,
    /// `final` figures: the setting whose value in each arm is the x axis.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub x: String,
    /// `final` figures: one panel per `scope:metric`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metrics: Vec<String>,
}

/// A panel of a `steps` figure: up to three metrics of every arm, drawn solid, dashed, dotted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PanelSpec {
    pub title: String,
    /// Up to three `scope:metric` names.
    pub metrics: Vec<String>,
}

/// Metrics a figure may name beside the per-scope metrics: `silent_compliance` is
/// P(comply) on contradictory tasks (= hidden objection + unobjecting compliance).
pub const DERIVED_METRICS: [&str; 1] = ["silent_compliance"];

/// The metrics of the `train` scope: means over the steps since the previous evaluation.
pub const TRAIN_METRICS: [&str; 4] = ["loss", "kl", "reward_trained", "reward_principled"];

/// The metrics of the `constitution` scope (step 0): overall and per domain.
pub fn constitution_metrics() -> Vec<String> {
    let mut out = vec!["act_accuracy".to_string(), "judgment_accuracy".to_string()];
    for d in crate::world::Domain::ALL {
        out.push(format!("act_accuracy_{}", d.name()));
        out.push(format!("judgment_accuracy_{}", d.name()));
    }
    out
}

/// Splits `scope:metric` and checks both names.
pub fn parse_metric_ref(text: &str) -> Result<(String, String), String> {
    let (scope, metric) = text
        .split_once(':')
        .ok_or_else(|| format!("`{text}` must be `scope:metric`, e.g. `trained:refusal`"))?;
    let scopes: Vec<&str> = crate::eval::Scope::ALL.iter().map(|s| s.name()).collect();
    let special = match scope {
        "train" => Some(TRAIN_METRICS.iter().map(|m| m.to_string()).collect::<Vec<_>>()),
        "constitution" => Some(constitution_metrics()),
        _ => None,
    };
    if let Some(valid) = special {
        if !valid.iter().any(|m| m == metric) {
            return Err(format!(
                "`{text}`: unknown metric `{metric}` in scope `{scope}`; valid: {}",
                valid.join(", ")
            ));
        }
        return Ok((scope.into(), metric.into()));
    }
    if !scopes.contains(&scope) {
        return Err(format!(
            "`{text}`: unknown scope `{scope}`; valid: {}, train, constitution",
            scopes.join(", ")
        ));
    }
    let known = crate::eval::metrics::METRICS;
    if !known.contains(&metric) && !DERIVED_METRICS.contains(&metric) {
        return Err(format!(
            "`{text}`: unknown metric `{metric}`; valid: {}, {}",
            known.join(", "),
            DERIVED_METRICS.join(", ")
        ));
    }
    Ok((scope.into(), metric.into()))
}

/// The number a dotted setting has in a configuration, if it is numeric.
pub fn setting_value(config: &RunConfig, key: &str) -> Option<f64> {
    let table = Table::try_from(config).ok()?;
    let mut value = &Value::Table(table);
    for part in key.split('.') {
        value = value.as_table()?.get(part)?;
    }
    value.as_float().or_else(|| value.as_integer().map(|i| i as f64))
}

impl FigureSpec {
    fn validate(&self, arms: &[Arm]) -> Result<(), String> {
        let name_ok = !self.name.is_empty()
            && self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            && !["headline", "outcomes", "diagnostics", "sweep"].contains(&self.name.as_str())
            && !self.name.starts_with("heatmap_");
        if !name_ok {
            return Err(format!(
                "`name` = \"{}\": must be letters, digits, `_` or `-`, and not a built-in figure's name \
                 (headline, outcomes, diagnostics, sweep, heatmap_*)",
                self.name
            ));
        }
        let refs: Vec<&String> = match self.kind {
            FigureKind::Steps => {
                if self.panels.is_empty() {
                    return Err("a `steps` figure needs `panels`".into());
                }
                for p in &self.panels {
                    if p.metrics.is_empty() || p.metrics.len() > 3 {
                        return Err(format!(
                            "panel \"{}\": `metrics` must name 1 to 3 `scope:metric`",
                            p.title
                        ));
                    }
                }
                self.panels.iter().flat_map(|p| &p.metrics).collect()
            }
            FigureKind::Final => {
                if self.metrics.is_empty() {
                    return Err("a `final` figure needs `metrics`".into());
                }
                check_key(&self.x).map_err(|e| format!("`x`: {e}"))?;
                for a in arms {
                    if setting_value(&a.config, &self.x).is_none() {
                        return Err(format!("`x` = \"{}\" is not a number in arm \"{}\"", self.x, a.name));
                    }
                }
                self.metrics.iter().collect()
            }
        };
        for r in refs {
            let (scope, _) = parse_metric_ref(r)?;
            let present = arms.iter().any(|a| {
                scope == "train"
                    || scope == "constitution"
                    || crate::eval::Scope::present(&a.config).iter().any(|s| s.name() == scope)
            });
            if !present {
                return Err(format!("`{r}`: the scope `{scope}` is empty in every arm"));
            }
        }
        Ok(())
    }
}

/// One arm: a name and its fully resolved configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Arm {
    pub name: String,
    pub config: RunConfig,
    /// The dotted keys the arm sets over the base configuration.
    pub sets: Vec<String>,
}

/// The dotted keys of every value in a table.
fn dotted_keys(table: &Table, prefix: &str) -> Vec<String> {
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

/// A loaded, resolved and validated experiment.
#[derive(Debug, Clone, PartialEq)]
pub struct Experiment {
    pub name: String,
    pub description: String,
    pub seeds: Vec<u64>,
    /// The tensor backend every run trains on.
    pub backend: Backend,
    pub arms: Vec<Arm>,
    /// Figures beside the core three.
    pub figures: Vec<FigureSpec>,
    /// The sweep's axes, in order (the last varies fastest); empty without a sweep.
    pub sweep: Vec<Axis>,
    /// Metrics of a two-axis sweep's heatmaps; empty for the default.
    pub heatmaps: Vec<String>,
}

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

/// Flattens a `[sweep]` table into axes: nested tables and dotted keys both name settings.
fn sweep_axes(table: &Table, prefix: &str, file: &str, out: &mut Vec<Axis>) -> Result<(), SpecError> {
    for (k, v) in table {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            Value::Table(t) => sweep_axes(t, &key, file, out)?,
            Value::Array(values) => {
                check_key(&key).map_err(|why| SpecError(format!("{file}: [sweep]: {why}")))?;
                if values.is_empty() {
                    return Err(SpecError(format!(
                        "{file}: [sweep]: key `{key}`: the list of values is empty"
                    )));
                }
                out.push(Axis {
                    key,
                    values: values.clone(),
                });
            }
            other => {
                return Err(SpecError(format!(
                    "{file}: [sweep]: key `{key}` = {other}: must be a list of values, e.g. [0.1, 0.5]"
                )));
            }
        }
    }
    Ok(())
}

/// Seeds when a file names none.
pub const DEFAULT_SEEDS: u64 = 5;

/// Name of the only arm of an experiment that lists no arms.
pub const DEFAULT_ARM: &str = "default";

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
        let value = format!("v = {raw}")
            .parse::<Table>()
            .ok()
            .and_then(|mut t| t.remove("v"))
            .unwrap_or_else(|| Value::String(raw.to_string()));
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

/// Whether a dotted key names a setting; if not, why not, with the valid keys at that level.
pub fn check_key(key: &str) -> Result<(), String> {
    let defaults = Table::try_from(RunConfig::default()).expect("the default configuration serializes");
    let mut level = &defaults;
    let parts: Vec<&str> = key.split('.').collect();
    for (i, part) in parts.iter().enumerate() {
        let at = parts[..i].join(".");
        let valid = || {
            let keys: Vec<&str> = level.keys().map(String::as_str).collect();
            if at.is_empty() {
                format!("valid sections: {}", keys.join(", "))
            } else {
                format!("valid keys under `{at}`: {}", keys.join(", "))
            }
        };
        match level.get(*part) {
            None => return Err(format!("unknown key `{key}`; {}", valid())),
            Some(Value::Table(t)) if i + 1 < parts.len() => level = t,
            Some(Value::Table(_)) => {
                return Err(format!(
                    "`{key}` is a section; name one of its keys, e.g. `{key}.{}`",
                    first_key(level, part)
                ));
            }
            Some(_) if i + 1 < parts.len() => {
                return Err(format!(
                    "unknown key `{key}`: `{}` is not a section",
                    parts[..=i].join(".")
                ));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

fn first_key(level: &Table, section: &str) -> String {
    match level.get(section) {
        Some(Value::Table(t)) => t.keys().next().cloned().unwrap_or_default(),
        _ => String::new(),
    }
}

/// Sets a dotted key in a table, creating intermediate tables.
pub fn set_path(table: &mut Table, key: &str, value: Value) {
    let mut parts = key.split('.').peekable();
    let mut level = table;
    while let Some(part) = parts.next() {
        if parts.peek().is_none() {
            level.insert(part.to_string(), value);
            return;
        }
        let entry = level
            .entry(part.to_string())
            .or_insert_with(|| Value::Table(Table::new()));
        if !entry.is_table() {
            *entry = Value::Table(Table::new());
        }
        level = entry.as_table_mut().expect("just made a table");
    }
}

/// Removes a dotted key from a table, if present.
fn remove_path(table: &mut Table, key: &str) {
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

/// Merges `over` into `base`: tables merge key by key, anything else replaces.
pub fn merge(base: &mut Table, over: &Table) {
    for (k, v) in over {
        match (base.get_mut(k), v) {
            (Some(Value::Table(b)), Value::Table(o)) => merge(b, o),
            _ => {
                base.insert(k.clone(), v.clone());
            }
        }
    }
}

/// Reads a one-line message from a TOML parse error, with its line and column.
fn parse_error(path: &Path, text: &str, e: &toml::de::Error) -> SpecError {
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
struct BadValue {
    key: Option<String>,
    message: String,
    /// The message without the key, for an error that names the key already.
    bare: String,
}

impl BadValue {
    /// Whether it failed at `key` or inside it (`policy.hidden` holds `policy.hidden[1]`).
    fn is_at(&self, key: &str) -> bool {
        self.key.as_deref().is_some_and(|k| {
            k.strip_prefix(key)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with(['[', '.']))
        })
    }

    /// The error, blamed on the `--set` that wrote the bad value, else on `context`.
    fn blame(self, context: &str, overrides: &[Override]) -> SpecError {
        match overrides.iter().find(|o| self.is_at(&o.key)) {
            Some(o) => SpecError(format!("--set {}={}: {}", o.key, o.value, self.beside(&o.key))),
            None => SpecError(format!("{context}: {}", self.message)),
        }
    }

    /// The message after an error that already names `key`.
    fn beside(&self, key: &str) -> &str {
        if self.key.as_deref() == Some(key) {
            &self.bare
        } else {
            &self.message
        }
    }
}

/// Deserializes `T` from a TOML table.
fn deserialize_at<T: serde::de::DeserializeOwned>(table: Table) -> Result<T, BadValue> {
    serde_path_to_error::deserialize(Value::Table(table)).map_err(|e| {
        let path = e.path().to_string();
        let message = e.inner().message().trim().replace('\n', " ");
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

/// Deserializes `T` from a TOML table; an error names the context and the dotted key.
fn deserialize<T: serde::de::DeserializeOwned>(table: Table, context: &str) -> Result<T, SpecError> {
    deserialize_at(table).map_err(|bad| bad.blame(context, &[]))
}

/// A run's configuration from its table, deserialized and checked against every range.
fn run_config(table: Table) -> Result<RunConfig, BadValue> {
    let config: RunConfig = deserialize_at(table)?;
    config.validate().map_err(|e| BadValue {
        message: e.to_string(),
        bare: e.allowed,
        key: Some(e.key),
    })?;
    Ok(config)
}

/// The most seeds an experiment may name (a guard against typos that would exhaust memory).
pub const MAX_SEEDS: u64 = 100_000;

fn seeds(value: Option<Value>, context: &str) -> Result<Vec<u64>, SpecError> {
    let bad = |v: &Value| {
        SpecError(format!(
            "{context}: key `seeds` = {v}: must be a count in 1..={MAX_SEEDS} or a non-empty list of distinct seeds ≥ 0"
        ))
    };
    match value {
        None => Ok((0..DEFAULT_SEEDS).collect()),
        Some(Value::Integer(n)) if (1..=MAX_SEEDS as i64).contains(&n) => Ok((0..n as u64).collect()),
        Some(Value::Array(items)) if !items.is_empty() && items.len() as u64 <= MAX_SEEDS => {
            let list: Vec<u64> = items
                .iter()
                .map(|v| v.as_integer().filter(|&i| i >= 0).map(|i| i as u64))
                .collect::<Option<_>>()
                .ok_or_else(|| bad(&Value::Array(items.clone())))?;
            let mut distinct = list.clone();
            distinct.sort_unstable();
            distinct.dedup();
            if distinct.len() != list.len() {
                return Err(bad(&Value::Array(items)));
            }
            Ok(list)
        }
        Some(v) => Err(bad(&v)),
    }
}

impl Experiment {
    /// Loads an experiment file and applies `overrides` on top of every arm.
    pub fn load(path: &Path, overrides: &[Override]) -> Result<Experiment, SpecError> {
        Experiment::load_with(path, overrides, &[])
    }

    /// Loads an experiment file, applies `overrides` on top of every arm, and adds or replaces
    /// the sweep axes in `sweeps`.
    pub fn load_with(path: &Path, overrides: &[Override], sweeps: &[Axis]) -> Result<Experiment, SpecError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| SpecError(format!("{}: cannot read the experiment: {e}", path.display())))?;
        Experiment::parse_with(&text, path, overrides, sweeps)
    }

    /// Parses an experiment from its text; `path` names it in errors and gives its default name.
    pub fn parse(text: &str, path: &Path, overrides: &[Override]) -> Result<Experiment, SpecError> {
        Experiment::parse_with(text, path, overrides, &[])
    }

    /// [`Experiment::parse`] with command-line sweep axes added or replacing the file's.
    pub fn parse_with(
        text: &str,
        path: &Path,
        overrides: &[Override],
        sweeps: &[Axis],
    ) -> Result<Experiment, SpecError> {
        let file = path.display().to_string();
        let table: Table = text.parse().map_err(|e| parse_error(path, text, &e))?;
        let spec: ExperimentFile = deserialize(table, &file)?;
        for o in overrides {
            o.check_key()?;
        }

        let mut base = Table::new();
        for (name, section) in SECTIONS.into_iter().zip([
            spec.world,
            spec.policy,
            spec.constitution,
            spec.pressure,
            spec.reward,
            spec.followup,
            spec.eval,
        ]) {
            base.insert(name.to_string(), Value::Table(section));
        }

        let mut arm_tables = spec.arms;
        if arm_tables.is_empty() {
            let mut t = Table::new();
            t.insert("name".into(), Value::String(DEFAULT_ARM.into()));
            arm_tables.push(t);
        }
        let mut arms: Vec<Arm> = Vec::new();
        for (i, mut over) in arm_tables.into_iter().enumerate() {
            let name = match over.remove("name") {
                Some(Value::String(s)) if !s.trim().is_empty() => s,
                Some(v) => {
                    return Err(SpecError(format!(
                        "{file}: arms[{i}]: key `name` = {v}: must be a non-empty string"
                    )));
                }
                None => return Err(SpecError(format!("{file}: arms[{i}]: every arm needs a `name`"))),
            };
            if arms.iter().any(|a| a.name == name) {
                return Err(SpecError(format!(
                    "{file}: arms[{i}]: the arm name \"{name}\" is used twice"
                )));
            }
            over.remove("description");
            let context = format!("{file}: arm \"{name}\"");
            let mut table = base.clone();
            merge(&mut table, &over);
            for o in overrides {
                set_path(&mut table, &o.key, o.value.clone());
            }
            let config = run_config(table).map_err(|bad| bad.blame(&context, overrides))?;
            arms.push(Arm {
                name,
                config,
                sets: dotted_keys(&over, ""),
            });
        }

        let name = spec.name.unwrap_or_else(|| {
            path.file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "experiment".into())
        });
        if name.is_empty() || name.contains(['/', '\\']) || name.starts_with('.') {
            return Err(SpecError(format!(
                "{file}: key `name` = \"{name}\": must be a plain non-empty name (it names the output folders)"
            )));
        }
        for (i, f) in spec.figures.iter().enumerate() {
            f.validate(&arms)
                .map_err(|e| SpecError(format!("{file}: figures[{i}] (\"{}\"): {e}", f.name)))?;
        }

        for m in &spec.heatmaps {
            crate::plot::check_heatmap_metric(m)
                .map_err(|e| SpecError(format!("{file}: key `heatmaps`: \"{m}\": {e}")))?;
        }
        let mut sweep = Vec::new();
        sweep_axes(&spec.sweep, "", &file, &mut sweep)?;
        for axis in sweeps {
            match sweep.iter_mut().find(|a| a.key == axis.key) {
                Some(a) => a.values = axis.values.clone(),
                None => sweep.push(axis.clone()),
            }
        }
        if let Some(o) = overrides.iter().find(|o| sweep.iter().any(|a| a.key == o.key)) {
            return Err(SpecError(format!(
                "--set {}: the key is also swept; set it in the sweep's values instead",
                o.key
            )));
        }
        let experiment = Experiment {
            name,
            description: spec.description.trim().to_string(),
            seeds: seeds(spec.seeds, &file)?,
            backend: spec.backend.unwrap_or_default(),
            arms,
            figures: spec.figures,
            sweep,
            heatmaps: spec.heatmaps,
        };
        for arm in &experiment.arms {
            if let Some(key) = arm.sets.iter().find(|k| experiment.sweep.iter().any(|a| &a.key == *k)) {
                return Err(SpecError(format!(
                    "{file}: [sweep]: key `{key}` is also set by arm \"{}\"; sweep it or set it per arm, not both",
                    arm.name
                )));
            }
        }
        // Every arm at every point must be a valid configuration, and no two points the same one.
        for arm in &experiment.arms {
            let mut seen: Vec<(RunConfig, Vec<Value>)> = Vec::new();
            for point in experiment.points() {
                let config = experiment.resolve_at(arm, &point).map_err(|bad| {
                    let context = experiment.point_context(arm, &point);
                    match sweeps.iter().find(|a| bad.is_at(&a.key)) {
                        Some(a) => SpecError(format!("--sweep {}: {context}: {}", a.key, bad.beside(&a.key))),
                        None => SpecError(format!("{file}: {context}: {}", bad.message)),
                    }
                })?;
                if let Some((_, other)) = seen.iter().find(|(c, _)| *c == config) {
                    let show = |p: &[Value]| p.iter().map(value_label).collect::<Vec<_>>().join(", ");
                    return Err(SpecError(format!(
                        "{file}: [sweep]: the points ({}) and ({}) give the same configuration; sweep values must differ",
                        show(other),
                        show(&point)
                    )));
                }
                seen.push((config, point));
            }
        }
        Ok(experiment)
    }

    /// Every point of the sweep grid, the last axis varying fastest; one empty point without a
    /// sweep.
    pub fn points(&self) -> Vec<Vec<Value>> {
        self.sweep.iter().fold(vec![Vec::new()], |points, axis| {
            points
                .iter()
                .flat_map(|p| {
                    axis.values.iter().map(move |v| {
                        let mut q = p.clone();
                        q.push(v.clone());
                        q
                    })
                })
                .collect()
        })
    }

    /// The configuration of `arm` at a sweep point.
    pub fn resolve(&self, arm: &Arm, point: &[Value]) -> Result<RunConfig, SpecError> {
        self.resolve_at(arm, point)
            .map_err(|bad| bad.blame(&self.point_context(arm, point), &[]))
    }

    fn resolve_at(&self, arm: &Arm, point: &[Value]) -> Result<RunConfig, BadValue> {
        if point.is_empty() {
            return Ok(arm.config.clone());
        }
        let mut table = Table::try_from(&arm.config).expect("a configuration serializes");
        for (axis, value) in self.sweep.iter().zip(point) {
            set_path(&mut table, &axis.key, value.clone());
        }
        run_config(table)
    }

    /// How errors name an arm at a sweep point.
    fn point_context(&self, arm: &Arm, point: &[Value]) -> String {
        let label: Vec<String> = self
            .sweep
            .iter()
            .zip(point)
            .map(|(a, v)| format!("{}={}", a.key, value_label(v)))
            .collect();
        format!("arm \"{}\" at sweep point {}", arm.name, label.join(", "))
    }

    /// The fully resolved experiment as TOML: every arm with every default written out, so the
    /// file alone reproduces the runs.
    pub fn to_toml(&self) -> String {
        let mut t = Table::new();
        t.insert("name".into(), Value::String(self.name.clone()));
        t.insert("description".into(), Value::String(self.description.clone()));
        t.insert(
            "seeds".into(),
            Value::Array(self.seeds.iter().map(|&s| Value::Integer(s as i64)).collect()),
        );
        t.insert("backend".into(), Value::String(self.backend.name().into()));
        let arms = self
            .arms
            .iter()
            .map(|a| {
                let mut at = Table::new();
                at.insert("name".into(), Value::String(a.name.clone()));
                let mut config = Table::try_from(&a.config).expect("a configuration serializes");
                // Swept keys are set by the sweep, not by the arm.
                for axis in &self.sweep {
                    remove_path(&mut config, &axis.key);
                }
                at.extend(config);
                Value::Table(at)
            })
            .collect();
        t.insert("arms".into(), Value::Array(arms));
        if !self.sweep.is_empty() {
            let sweep: Table = self
                .sweep
                .iter()
                .map(|a| (a.key.clone(), Value::Array(a.values.clone())))
                .collect();
            t.insert("sweep".into(), Value::Table(sweep));
        }
        if !self.heatmaps.is_empty() {
            let heatmaps = self.heatmaps.iter().map(|m| Value::String(m.clone())).collect();
            t.insert("heatmaps".into(), Value::Array(heatmaps));
        }
        if !self.figures.is_empty() {
            let figures = self
                .figures
                .iter()
                .map(|f| Value::Table(Table::try_from(f).expect("a figure spec serializes")))
                .collect();
            t.insert("figures".into(), Value::Array(figures));
        }
        toml::to_string(&t).expect("a TOML table serializes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::expand;

    fn parse(text: &str, overrides: &[&str]) -> Result<Experiment, String> {
        let overrides: Vec<Override> = overrides.iter().map(|o| Override::parse(o).unwrap()).collect();
        Experiment::parse(text, Path::new("x.toml"), &overrides).map_err(|e| e.0)
    }

    #[test]
    fn arms_override_the_base_and_set_overrides_every_arm() {
        let e = parse(
            r#"
            seeds = 2
            [pressure]
            steps = 30
            [[arms]]
            name = "a"
            [[arms]]
            name = "b"
            pressure.kl = 0.5
            reward = { kind = "mixture", weight = 0.25 }
            "#,
            &["pressure.steps=40", "policy.hidden=[8, 8]"],
        )
        .unwrap();
        assert_eq!(e.name, "x");
        assert_eq!(e.seeds, vec![0, 1]);
        assert_eq!(e.arms.len(), 2);
        let (a, b) = (&e.arms[0].config, &e.arms[1].config);
        assert_eq!((a.pressure.steps, b.pressure.steps), (40, 40));
        assert_eq!(a.pressure.kl, RunConfig::default().pressure.kl);
        assert_eq!(b.pressure.kl, 0.5);
        assert_eq!(b.reward.weight, 0.25);
        assert_eq!(a.policy.hidden, vec![8, 8]);
    }

    #[test]
    fn the_resolved_file_reproduces_the_experiment() {
        let e = parse(
            "seeds = [3, 1]\n[[arms]]\nname = \"a\"\nworld.frame = \"sanction\"\n",
            &[],
        )
        .unwrap();
        let again = Experiment::parse(&e.to_toml(), Path::new("x.toml"), &[]).unwrap();
        assert_eq!(
            (&e.name, &e.seeds, e.backend, &e.figures),
            (&again.name, &again.seeds, again.backend, &again.figures)
        );
        assert_eq!(expand(&e), expand(&again));
    }

    #[test]
    fn bad_input_names_file_key_and_choices() {
        let cases: &[(&str, &[&str], &[&str])] = &[
            (
                "[pressure]\nstepz = 3\n",
                &[],
                &["x.toml", "pressure.stepz", "unknown field", "steps"],
            ),
            (
                "[reward]\nkind = \"gold\"\n",
                &[],
                &["x.toml", "reward.kind", "institutional", "principled", "mixture"],
            ),
            (
                "[pressure]\nalgorithm = \"sac\"\n",
                &[],
                &["pressure.algorithm", "reinforce", "ppo"],
            ),
            (
                "[world]\ncontradiction_rate = 1.5\n",
                &[],
                &["x.toml", "world.contradiction_rate", "[0, 1]"],
            ),
            (
                "[pressure]\nsteps = \"many\"\n",
                &[],
                &["pressure.steps", "invalid type"],
            ),
            ("[pressure\n", &[], &["x.toml:1:", "malformed TOML"]),
            ("colour = 1\n", &[], &["x.toml", "unknown field `colour`", "arms"]),
            ("seeds = 0\n", &[], &["seeds", "count in 1..="]),
            ("seeds = 1000000000000\n", &[], &["seeds", "count in 1..="]),
            (
                "[[arms]]\nname = \"a\"\npressure.kl = -1\n",
                &[],
                &["arm \"a\"", "pressure.kl", "≥ 0"],
            ),
            ("[[arms]]\nlabel = \"a\"\n", &[], &["arms[0]", "name"]),
            (
                "",
                &["pressure.stepz=3"],
                &[
                    "--set pressure.stepz",
                    "unknown key",
                    "valid keys under `pressure`",
                    "steps",
                ],
            ),
            (
                "",
                &["pressur.steps=3"],
                &["unknown key `pressur.steps`", "valid sections", "pressure"],
            ),
            (
                "",
                &["reward.kind=gold"],
                &["--set reward.kind=\"gold\"", "unknown variant `gold`", "mixture"],
            ),
            (
                "[[arms]]\nname = \"a\"\n",
                &["pressure.steps=abc"],
                &["--set pressure.steps=\"abc\": invalid type: string \"abc\", expected usize"],
            ),
            (
                "",
                &["world.contradiction_rate=1.5"],
                &["--set world.contradiction_rate=1.5: must be in [0, 1]"],
            ),
            (
                "",
                &["policy.hidden=[32,-1]"],
                &["--set policy.hidden=[32, -1]: key `policy.hidden[1]`"],
            ),
        ];
        for (text, overrides, needles) in cases {
            let err = parse(text, overrides).expect_err(text);
            assert!(!err.contains('\n'), "one line: {err}");
            assert_eq!(err, err.trim_end(), "no trailing space");
            assert!(err.matches("pressure.steps").count() <= 1, "the key once: {err}");
            assert!(
                overrides.is_empty() || !err.contains("x.toml"),
                "blames the --set: {err}"
            );
            for n in *needles {
                assert!(err.contains(n), "{text:?} {overrides:?}: `{err}` lacks `{n}`");
            }
        }
    }

    #[test]
    fn set_values_are_toml_or_bare_strings() {
        let o = Override::parse("policy.hidden=[32,32]").unwrap();
        assert_eq!(o.value, Value::Array(vec![Value::Integer(32), Value::Integer(32)]));
        let o = Override::parse("reward.kind=mixture").unwrap();
        assert_eq!(o.value, Value::String("mixture".into()));
        assert!(Override::parse("pressure.steps").is_err());
    }
}
