//! An experiment file: a base configuration, named arms that override it, seeds, and command-line
//! overrides (`--set`) applied on top of every arm.
//!
//! Overrides are merged as TOML values, then each arm's configuration is deserialized with unknown
//! keys denied and validated; every error names the file, the arm and the key.

use std::path::Path;

use serde::Deserialize;
use toml::{Table, Value};

use super::bad_value::{deserialize, deserialize_at, parse_error, run_config};
use super::claims::{self, Claim, ClaimSpec};
pub use super::error::SpecError;
use super::keys::{Axis, Override, dotted_keys, merge, set_path, value_label};
use super::refine::{Refine, RefineFile};
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
    /// `[[arms]]`: named overrides of the base configuration: `name` (required), an optional `description`, then any keys below, e.g. `reward.objection_penalty = 1.0`. Default: one arm, `default`.
    #[serde(default)]
    arms: Vec<Table>,
    /// `[[figures]]`: extra figures: `name`, `title`, and either `panels = [{ title, metrics = ["scope:metric", ...] }]` (metrics against step, up to three per panel, drawn solid, dashed, dotted) or `kind = "final"`, `x = "<setting>"`, `metrics = [...]` (final values against a setting that varies by arm). Besides the metrics of docs/model.md §5, `silent_compliance` = P(comply) on contradictory tasks. Default: none.
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

    /// [`Experiment::parse`] with command-line sweep axes added or replacing the file's.
    pub fn parse_with(
        text: &str,
        path: &Path,
        overrides: &[Override],
        sweeps: &[Axis],
    ) -> Result<Experiment, SpecError> {
        let file = path.display().to_string();
        let table: Table = text.parse().map_err(|e| parse_error(path, text, &e))?;
        // What a composed file inherits may name what it replaced: say where it came from.
        let inherited = |what: &str| match table.get("extends") {
            Some(base) if !table.contains_key(what) => {
                format!(" ({what} inherited through extends = {base}; give `{what} = []` or your own)")
            }
            _ => String::new(),
        };
        let (claims_from, figures_from) = (inherited("claims"), inherited("figures"));
        let table = super::extends::resolve(table, path)?;
        let spec: ExperimentFile = deserialize(table, &file)?;
        for (i, o) in overrides.iter().enumerate() {
            o.check_key()?;
            if let Some(first) = overrides[..i].iter().find(|f| f.key == o.key) {
                return Err(SpecError(format!(
                    "--set {}: given twice ({}={} and {}={}); give each key once",
                    o.key, first.key, first.value, o.key, o.value
                )));
            }
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
        // Sections that exist only for some choices are written only when given.
        for (name, section) in [("raters", spec.raters), ("rm", spec.rm)] {
            if let Some(section) = section {
                base.insert(name.to_string(), Value::Table(section));
            }
        }

        // The sweep first: with a sweep, an arm is checked at every point of the grid, not alone.
        let mut sweep_table = spec.sweep;
        let refine_table = sweep_table.remove("refine");
        let mut sweep = Vec::new();
        sweep_axes(&sweep_table, "", &file, &mut sweep)?;
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

        let mut arm_tables = spec.arms;
        if arm_tables.is_empty() {
            let mut t = Table::new();
            t.insert("name".into(), Value::String(DEFAULT_ARM.into()));
            arm_tables.push(t);
        }
        let mut arms: Vec<Arm> = Vec::new();
        for (i, mut over) in arm_tables.into_iter().enumerate() {
            let name = match over.remove("name") {
                Some(Value::String(s)) => {
                    check_name(&s).map_err(|why| {
                        SpecError(format!(
                            "{file}: arms[{i}]: key `name` = {}: {why}",
                            Value::String(s.clone())
                        ))
                    })?;
                    s
                }
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
            let unresolved: RunConfig = deserialize_at(table.clone()).map_err(|bad| bad.blame(&context, overrides))?;
            let config = if sweep.is_empty() {
                run_config(table).map_err(|bad| bad.blame(&context, overrides))?
            } else {
                unresolved.clone() // resolved at the grid's first point below
            };
            arms.push(Arm {
                name,
                config,
                unresolved,
                sets: dotted_keys(&over, ""),
            });
        }

        let name = spec.name.unwrap_or_else(|| {
            path.file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "experiment".into())
        });
        if let Err(why) = check_name(&name) {
            return Err(SpecError(format!(
                "{file}: key `name` = {}: {why}",
                Value::String(name.clone())
            )));
        }
        if name.contains(['/', '\\']) || name.starts_with('.') {
            return Err(SpecError(format!(
                "{file}: key `name` = \"{name}\": must be a plain non-empty name (it names the output folders)"
            )));
        }
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
        if let Some(table) = refine_table {
            let table = match table {
                Value::Table(t) => t,
                other => {
                    return Err(SpecError(format!(
                        "{file}: [sweep]: key `refine` = {other}: must be a table of `metric`, `threshold`, `budget`, `rounds`"
                    )));
                }
            };
            let refine_file: RefineFile = deserialize(table, &format!("{file}: [sweep.refine]"))?;
            experiment
                .set_refine(refine_file)
                .map_err(|e| SpecError(format!("{file}: {e}")))?;
        }
        // An axis is blamed where it was given: `--sweep KEY`, or the file's `[sweep]`.
        let axis_source = |key: &str| {
            if sweeps.iter().any(|a| a.key == key) {
                format!("--sweep {key}")
            } else {
                format!("{file}: [sweep]: key `{key}`")
            }
        };
        for arm in &experiment.arms {
            if let Some(key) = arm.sets.iter().find(|k| experiment.sweep.iter().any(|a| &a.key == *k)) {
                return Err(SpecError(format!(
                    "{}: is also set by arm \"{}\" in {file}; sweep it or set it per arm, not both",
                    axis_source(key),
                    arm.name
                )));
            }
        }
        // Every arm at every point must be a valid configuration, and no two points the same one.
        let mut first_points = Vec::new();
        for arm in &experiment.arms {
            let mut seen: Vec<(RunConfig, Vec<Value>)> = Vec::new();
            for values in experiment.grid() {
                let config = experiment.resolve_at(arm, &values).map_err(|bad| {
                    let context = experiment.grid_context(arm, &values);
                    match sweeps.iter().find(|a| bad.is_at(&a.key)) {
                        Some(a) => SpecError(format!("--sweep {}: {context}: {}", a.key, bad.beside(&a.key))),
                        None => SpecError(format!("{file}: {context}: {}", bad.message)),
                    }
                })?;
                if let Some((_, other)) = seen.iter().find(|(c, _)| *c == config) {
                    let show = |p: &[Value]| p.iter().map(value_label).collect::<Vec<_>>().join(", ");
                    // The first axis whose values differ between the two points.
                    let axis = experiment
                        .sweep
                        .iter()
                        .zip(other.iter().zip(&values))
                        .find(|(_, (a, b))| a != b)
                        .map_or_else(String::new, |(a, _)| a.key.clone());
                    return Err(SpecError(format!(
                        "{}: the points ({}) and ({}) give the same configuration; sweep values must differ",
                        axis_source(&axis),
                        show(other),
                        show(&values)
                    )));
                }
                seen.push((config, values));
            }
            first_points.push(seen.swap_remove(0).0);
        }
        for (arm, config) in experiment.arms.iter_mut().zip(first_points) {
            arm.config = config;
        }
        // A figure the file declares is checked against the file; one that a `--set` or `--sweep`
        // leaves without data (world.frame = "none" under a figure of the framed scope) is left
        // out, and said so, rather than refusing settings the user may well mean.
        if !overrides.is_empty() || !sweeps.is_empty() {
            let arms: Vec<(&str, &RunConfig)> = experiment.arms.iter().map(|a| (a.name.as_str(), &a.config)).collect();
            let empty: Vec<(String, String)> = experiment
                .figures
                .iter()
                .filter_map(|f| f.empty_scope(&arms).map(|why| (f.name.clone(), why)))
                .collect();
            for (name, why) in &empty {
                crate::note!("figure \"{name}\": left out: {why} with these settings");
            }
            experiment
                .figures
                .retain(|f| !empty.iter().any(|(name, _)| *name == f.name));
        }
        let arms: Vec<(&str, &RunConfig)> = experiment.arms.iter().map(|a| (a.name.as_str(), &a.config)).collect();
        for (i, f) in experiment.figures.iter().enumerate() {
            if let Some(j) = experiment.figures[..i].iter().position(|g| g.name == f.name) {
                return Err(SpecError(format!(
                    "{file}: figures[{i}]: the name \"{}\" is used by figures[{j}] too; figure names must differ (they name the files)",
                    f.name
                )));
            }
            f.validate(&arms)
                .map_err(|e| SpecError(format!("{file}: figures[{i}] (\"{}\"): {e}{figures_from}", f.name)))?;
        }
        // A claim names groups of the file's own grid: one of a grid a `--sweep` replaced is set
        // aside (it can be checked only where its groups ran), otherwise an unknown group is an
        // error before anything trains.
        let groups = experiment.groups();
        let strict = sweeps.is_empty().then_some(&groups[..]);
        experiment.claims = claims::parse_all(&spec.claims, strict)
            .map_err(|e| SpecError(format!("{file}: {e}{claims_from}")))?
            .into_iter()
            .filter(|c| {
                let kept = c.statement.within(&groups);
                if !kept {
                    crate::note!(
                        "claim \"{}\": not checked: it names a group this sweep does not run",
                        c.spec.name
                    );
                }
                kept
            })
            .collect();
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
                let label = crate::plot::group_label(&arm.name, &axes, &values, self.arms.len());
                if !labels.contains(&label) {
                    labels.push(label);
                }
            }
        }
        labels
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
        assert!(matches!(&b.reward, crate::reward::RewardConfig::Mixture(m) if m.weight == 0.25));
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

    /// What a setting takes from a swept one is resolved at each point of the grid, and the
    /// written file resolves the same way.
    #[test]
    fn inherited_settings_follow_the_sweep() {
        let e = parse(
            "[followup]\nsteps = 10\n[sweep]\npressure.algorithm = [\"reinforce\", \"ppo\"]\n",
            &[],
        )
        .unwrap();
        let runs = expand(&e);
        let algorithms: Vec<_> = runs.iter().map(|r| r.config.followup.algorithm).collect();
        use crate::train::Algorithm::{Ppo, Reinforce};
        assert!(algorithms[..5].iter().all(|a| *a == Some(Reinforce)), "{algorithms:?}");
        assert!(algorithms[5..].iter().all(|a| *a == Some(Ppo)), "{algorithms:?}");
        assert!(runs[5].config.followup.ppo.is_some() && runs[0].config.followup.ppo.is_none());
        let again = Experiment::parse(&e.to_toml(), Path::new("x.toml"), &[]).unwrap();
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
                &[
                    "x.toml",
                    "`reward`",
                    "`kind` = \"gold\"",
                    "institutional",
                    "principled",
                    "mixture",
                ],
            ),
            (
                "[reward]\nweight = 0.5\n",
                &[],
                &[
                    "x.toml",
                    "`weight` is a setting of the mixture reward, not of `institutional`",
                ],
            ),
            (
                "[pressure]\nppo = { clip = 0.3 }\n",
                &[],
                &[
                    "x.toml",
                    "pressure.ppo",
                    "no effect with pressure.algorithm = \"reinforce\"",
                ],
            ),
            (
                "",
                &["reward.weight=0.5"],
                &["--set reward.weight=0.5", "a setting of the mixture reward"],
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
                "[[arms]]\nname = \"a\"\nfollowup.kl = 0.2\n",
                &[],
                &["arm \"a\"", "followup.kl", "no effect with followup.steps = 0"],
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
}
