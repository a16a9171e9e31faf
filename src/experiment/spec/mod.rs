//! An experiment file: a base configuration, named arms that override it, seeds, and command-line
//! overrides (`--set`) applied on top of every arm.
//!
//! Overrides are merged as TOML values, then each arm's configuration is deserialized with unknown
//! keys denied and validated; every error names the file, the arm and the key.

use std::path::Path;

use serde::Deserialize;
use toml::{Table, Value};

mod steps;

use super::bad_value::{deserialize, parse_error};
use super::claims::{Claim, ClaimSpec};
pub use super::error::SpecError;
use super::keys::{Axis, Override, value_label};
use super::refine::Refine;
use crate::plot::FigureSpec;
use crate::run::keys::check_key;
use crate::run::{Backend, RunConfig, SECTIONS};

/// An experiment file as written. The `///` lines of its fields are the first table of
/// `docs/config.md` (generated): each ends with `Default:` and the default.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExperimentFile {
    /// The experiment this one composes on: a file's path relative to this one, or a shipped experiment's name. This file's tables override its keys one by one; any other value (the seeds, `[[arms]]`, `[[claims]]`, `[[figures]]`) replaces the base's whole; everything else but `name` is inherited. Default: none.
    #[allow(dead_code)] // resolved and removed before this struct is read (`extends.rs`)
    extends: Option<String>,
    /// Names the output folder `runs/<name>/` (and, for a shipped experiment, `plots/<name>/`).
    /// Default: the file's stem.
    name: Option<String>,
    /// What the experiment asks, which arm is the control, what would count as no effect. Default: `""`.
    #[serde(default)]
    description: String,
    /// `N` (seeds 0..N-1) or an explicit list of seeds, e.g. `[3, 7]`. Default: `5`.
    seeds: Option<Value>,
    /// The tensor backend, `flex` or `ndarray` (`--backend` overrides it). Part of every run's id: the two differ in the last bits. Default: `"flex"`.
    backend: Option<Backend>,
    /// The base configuration's sections (the tables below), shared by all arms.
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
    raters: Option<Table>,
    rm: Option<Table>,
    /// `[[phases]]`: training as a list of phases (docs/model.md §9): `kind` (`"constitution"` first, then `"pressure"` or `"teach"`), an optional `name` (default the kind, then `<kind>_2`, ...), and the settings the phase changes; an arm sets one as `phases.<name>.<key>`. Default: constitution, pressure, and the followup when `followup.steps > 0`.
    phases: Option<Vec<Table>>,
    /// `[[arms]]`: named overrides of the base configuration: `name` (required), an optional `description`, then any keys below, e.g. `reward.objection_penalty = 1.0`. Default: one arm, `default`.
    #[serde(default)]
    arms: Vec<Table>,
    /// `[[figures]]`: extra figures: `name`, `title`, and either `panels = [{ title, metrics = ["scope:metric", ...] }]` (metrics against step, up to three per panel, drawn solid, dashed, dotted) or `kind = "final"`, `x = "<setting>"`, `metrics = [...]` (final values against a setting that varies by arm; `x_scale = "log"` or `"linear"`, else logarithmic where every value is above 0 and they span more than a factor of 20), or `kind = "overoptimization"` (a learned reward's gain against √KL, with Gao et al.'s fits). Besides the metrics of docs/model.md §5, `silent_compliance` = P(comply) on contradictory tasks. Default: none.
    #[serde(default)]
    figures: Vec<FigureSpec>,
    /// `[sweep]`: settings mapped to lists of values, e.g. `world.contradiction_rate = [0.0, 0.5]`; the grid is their product, crossed with arms and seeds. With one or two settings, `[sweep.refine]` adds points where the outcome flips: `metric` (default `"hidden_objection"`), `threshold` (a value inside the metric's range, default 0.5, or `"largest_change"`), `budget` (extra points over all rounds, default 16), `rounds` (default 2); each round adds the midpoints of neighbouring points whose mean final values straddle the threshold (widest gaps first) and runs them like any other point. Default: none.
    #[serde(default)]
    sweep: Table,
    /// With a two-axis sweep, one heatmap figure per metric: `metric` (scope `trained`) or `scope:metric`; `--metric` replaces them. Default: `["hidden_objection"]`.
    #[serde(default)]
    heatmaps: Vec<String>,
    /// `[[claims]]`: what the experiment expects, checked on every run: `name`, `text` (a sentence), `check` (e.g. `"hidden_objection[objection penalized] >= 0.5"`, `"heldout:silent_compliance[a] < heldout:silent_compliance[b]"`, or `"refusal[a] - refusal[b] > 0"`: the 95% Welch interval of the difference beyond 0; a value may end in `@peak` or `@<step>`), and `expect = "fails"` for a claim stated as not holding. Default: none.
    #[serde(default)]
    claims: Vec<ClaimSpec>,
}

/// One arm: a name and its fully resolved configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Arm {
    pub name: String,
    /// The arm's resolved configuration (at the first point of the grid, with a sweep).
    pub config: RunConfig,
    /// The arm's settings before `RunConfig::resolve` wrote out what one setting takes from
    /// another: each sweep point resolves from these.
    pub unresolved: RunConfig,
    /// The dotted keys the arm sets over the base configuration.
    pub sets: Vec<String>,
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
    /// What the experiment expects, checked on every run.
    pub claims: Vec<Claim>,
    /// `[sweep.refine]`, if the experiment refines its sweep.
    pub refine: Option<Refine>,
    /// Sweep points beyond the product grid, added by refinement, in the order added (each
    /// round's points after the last's); they run after the grid's.
    pub refined: Vec<Vec<Value>>,
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

/// The rule for the names of experiments and arms, which appear in folders, tables, listings and
/// figures: some visible text, without control characters (newline, tab, NUL, …) or `|`, and
/// without spaces around it.
pub fn check_name(name: &str) -> Result<(), String> {
    let rule = "a name must be visible text without control characters (newline, tab, NUL), `|`, or spaces around it";
    if name.trim().is_empty() || name.trim() != name || name.chars().any(|c| c.is_control() || c == '|') {
        return Err(rule.to_string());
    }
    Ok(())
}

pub use super::extends::MAX_FILE_BYTES;

impl Experiment {
    /// Loads an experiment file and applies `overrides` on top of every arm.
    pub fn load(path: &Path, overrides: &[Override]) -> Result<Experiment, SpecError> {
        Experiment::load_with(path, overrides, &[])
    }

    /// Loads an experiment file, applies `overrides` on top of every arm, and adds or replaces
    /// the sweep axes in `sweeps`.
    pub fn load_with(path: &Path, overrides: &[Override], sweeps: &[Axis]) -> Result<Experiment, SpecError> {
        let text = crate::records::read_limited(path, MAX_FILE_BYTES)
            .map_err(|e| SpecError(format!("{}: cannot read the experiment: {e}", path.display())))?;
        Experiment::parse_with(&text, path, overrides, sweeps)
    }

    /// Parses an experiment from its text; `path` names it in errors and gives its default name.
    pub fn parse(text: &str, path: &Path, overrides: &[Override]) -> Result<Experiment, SpecError> {
        Experiment::parse_with(text, path, overrides, &[])
    }

    /// [`Experiment::parse`] with command-line sweep axes added or replacing the file's. The
    /// steps are in `steps.rs`, in this order.
    pub fn parse_with(
        text: &str,
        path: &Path,
        overrides: &[Override],
        sweeps: &[Axis],
    ) -> Result<Experiment, SpecError> {
        let file = path.display().to_string();
        let table: Table = text.parse().map_err(|e| parse_error(path, text, &e))?;
        let (claims_from, figures_from) = (steps::inherited(&table, "claims"), steps::inherited(&table, "figures"));
        let table = super::extends::resolve(table, path)?;
        let spec: ExperimentFile = deserialize(table, &file)?;
        steps::check_overrides(overrides)?;
        let sections = [
            spec.world,
            spec.policy,
            spec.constitution,
            spec.pressure,
            spec.reward,
            spec.followup,
            spec.eval,
        ];
        let mut base = steps::base_table(
            SECTIONS
                .into_iter()
                .zip(sections.into_iter().map(Some))
                .chain([("raters", spec.raters), ("rm", spec.rm)]),
        );
        if let Some(phases) = spec.phases {
            base.insert(
                "phases".into(),
                Value::Array(phases.into_iter().map(Value::Table).collect()),
            );
        }
        let (sweep, refine_table) = steps::sweep_of(spec.sweep, sweeps, overrides, &file)?;
        let arms = steps::arms_of(spec.arms, &base, overrides, !sweep.is_empty(), &file)?;
        let name = steps::name_of(spec.name, path, &file)?;
        for m in &spec.heatmaps {
            crate::plot::check_heatmap_metric(m)
                .map_err(|e| SpecError(format!("{file}: key `heatmaps`: \"{m}\": {e}")))?;
        }
        let mut experiment = Experiment {
            name,
            description: spec.description.trim().to_string(),
            seeds: seeds(spec.seeds, &file)?,
            backend: spec.backend.unwrap_or_default(),
            arms,
            figures: spec.figures,
            sweep,
            heatmaps: spec.heatmaps,
            claims: Vec::new(),
            refine: None,
            refined: Vec::new(),
        };
        steps::refine_of(&mut experiment, refine_table, &file)?;
        steps::check_grid(&mut experiment, sweeps, &file)?;
        let changed = !overrides.is_empty() || !sweeps.is_empty();
        steps::check_figures(&mut experiment, changed, &file, &figures_from)?;
        experiment.claims = steps::claims_of(&experiment, &spec.claims, !sweeps.is_empty(), &file, &claims_from)?;
        Ok(experiment)
    }

    /// The labels of the experiment's groups (arms, or arms at sweep points) in run order, as
    /// figures, summaries and claims name them.
    pub fn groups(&self) -> Vec<String> {
        let axes: Vec<String> = self.sweep.iter().map(|a| a.key.clone()).collect();
        let mut labels: Vec<String> = Vec::new();
        for arm in &self.arms {
            for values in self.grid() {
                let values: Vec<String> = values.iter().map(value_label).collect();
                let label = crate::results::group_label(&arm.name, &axes, &values, self.arms.len());
                if !labels.contains(&label) {
                    labels.push(label);
                }
            }
        }
        labels
    }
}

#[cfg(test)]
mod tests;
