//! The steps of reading an experiment file, in the order [`Experiment::parse_with`] takes them:
//! the overrides, the base tables, the sweep, the arms, the name, the refinement, every point of
//! the grid, the figures, and the claims. Each step's error names the file, the key and what it
//! allows.

use std::path::Path;

use toml::{Table, Value};

use super::{Arm, DEFAULT_ARM, Experiment, SpecError, check_name, sweep_axes};
use crate::experiment::bad_value::{BadValue, deserialize, deserialize_at, run_config};
use crate::experiment::claims::{self, Claim, ClaimSpec};
use crate::experiment::keys::{Axis, Override, dotted_keys, merge, set_path, value_label};
use crate::experiment::refine::RefineFile;
use crate::run::RunConfig;

/// What a composed file inherits may name what it replaced: says where it came from.
pub(super) fn inherited(table: &Table, what: &str) -> String {
    match table.get("extends") {
        Some(base) if !table.contains_key(what) => {
            format!(" ({what} inherited through extends = {base}; give `{what} = []` or your own)")
        }
        _ => String::new(),
    }
}

/// Each `--set` key is known and given once.
pub(super) fn check_overrides(overrides: &[Override]) -> Result<(), SpecError> {
    for (i, o) in overrides.iter().enumerate() {
        o.check_key()?;
        if let Some(first) = overrides[..i].iter().find(|f| f.key == o.key) {
            return Err(SpecError(format!(
                "--set {}: given twice ({}={} and {}={}); give each key once",
                o.key, first.key, first.value, o.key, o.value
            )));
        }
    }
    Ok(())
}

/// The file's sections as one table, under their names. Sections that exist only for some
/// choices (`raters`, `rm`) are written only when given.
pub(super) fn base_table(sections: impl IntoIterator<Item = (&'static str, Option<Table>)>) -> Table {
    let mut base = Table::new();
    for (name, section) in sections {
        if let Some(section) = section {
            base.insert(name.to_string(), Value::Table(section));
        }
    }
    base
}

/// The sweep's axes (the file's, with `--sweep` axes added or replacing them) and its
/// `[sweep.refine]` table. The sweep comes first: with one, an arm is checked at every point of
/// the grid, not alone.
pub(super) fn sweep_of(
    mut sweep_table: Table,
    sweeps: &[Axis],
    overrides: &[Override],
    file: &str,
) -> Result<(Vec<Axis>, Option<Value>), SpecError> {
    let refine_table = sweep_table.remove("refine");
    let mut sweep = Vec::new();
    sweep_axes(&sweep_table, "", file, &mut sweep)?;
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
    Ok((sweep, refine_table))
}

/// The arms (one named `default` when the file has none), each the base table with its own
/// keys merged and the `--set` overrides on top; resolved here without a sweep, at the grid's
/// first point ([`check_grid`]) with one.
pub(super) fn arms_of(
    mut arm_tables: Vec<Table>,
    base: &Table,
    overrides: &[Override],
    swept: bool,
    file: &str,
) -> Result<Vec<Arm>, SpecError> {
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
        merge(&mut table, &over).map_err(|why| SpecError(format!("{context}: {why}")))?;
        for o in overrides {
            set_path(&mut table, &o.key, o.value.clone()).map_err(|why| SpecError(format!("--set: {why}")))?;
        }
        // A bad key the arm inherits from the file's own tables is blamed there, not on the arm.
        let blame = |bad: BadValue| {
            let context = match from_base(&bad, base, &over, overrides) {
                true => file.to_string(),
                false => context.clone(),
            };
            bad.blame(&context, overrides)
        };
        let unresolved: RunConfig = deserialize_at(table.clone()).map_err(blame)?;
        let config = if swept {
            unresolved.clone() // resolved at the grid's first point
        } else {
            run_config(table).map_err(blame)?
        };
        arms.push(Arm {
            name,
            config,
            unresolved,
            sets: dotted_keys(&over, ""),
        });
    }
    Ok(arms)
}

/// Whether a bad value comes from the file's base tables: the key it names (with the unknown
/// field, when that is the complaint) is set there, and neither by the arm nor by a `--set`.
fn from_base(bad: &BadValue, base: &Table, arm: &Table, overrides: &[Override]) -> bool {
    let Some(key) = &bad.key else { return false };
    let field = bad
        .bare
        .split_once("unknown field `")
        .and_then(|(_, rest)| rest.split_once('`'))
        .map(|(field, _)| field);
    let full = match field {
        Some(f) if !key.ends_with(&format!(".{f}")) => format!("{key}.{f}"),
        _ => key.clone(),
    };
    let set_in = |table: &Table| {
        let mut at: Option<&Value> = None;
        for (i, part) in full.split('.').enumerate() {
            at = match (i, at) {
                (0, _) => table.get(part),
                (_, Some(Value::Table(t))) => t.get(part),
                _ => None,
            };
        }
        at.is_some()
    };
    set_in(base) && !set_in(arm) && !overrides.iter().any(|o| o.key == full)
}

/// The experiment's name: the file's `name`, else its stem; a plain name, since it names the
/// output folders.
pub(super) fn name_of(name: Option<String>, path: &Path, file: &str) -> Result<String, SpecError> {
    let name = name.unwrap_or_else(|| {
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
    Ok(name)
}

/// `[sweep.refine]`, when given.
pub(super) fn refine_of(experiment: &mut Experiment, table: Option<Value>, file: &str) -> Result<(), SpecError> {
    let Some(table) = table else { return Ok(()) };
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
        .map_err(|e| SpecError(format!("{file}: {e}")))
}

/// Where an axis was given, to blame it: `--sweep KEY`, or the file's `[sweep]`.
fn axis_source(sweeps: &[Axis], file: &str, key: &str) -> String {
    if sweeps.iter().any(|a| a.key == key) {
        format!("--sweep {key}")
    } else {
        format!("{file}: [sweep]: key `{key}`")
    }
}

/// No arm sets a swept key; every arm at every point of the grid is a valid configuration, no
/// two points the same one; each arm's configuration becomes the one of the grid's first point.
pub(super) fn check_grid(experiment: &mut Experiment, sweeps: &[Axis], file: &str) -> Result<(), SpecError> {
    for arm in &experiment.arms {
        if let Some(key) = arm.sets.iter().find(|k| experiment.sweep.iter().any(|a| &a.key == *k)) {
            return Err(SpecError(format!(
                "{}: is also set by arm \"{}\" in {file}; sweep it or set it per arm, not both",
                axis_source(sweeps, file, key),
                arm.name
            )));
        }
    }
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
                    axis_source(sweeps, file, &axis),
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
    Ok(())
}

/// The figures: names differ, and each fits the arms. A figure the file declares is checked
/// against the file; one that a `--set` or `--sweep` leaves without data (world.frame = "none"
/// under a figure of the framed scope) is left out, and said so, rather than refusing settings
/// the user may well mean.
pub(super) fn check_figures(
    experiment: &mut Experiment,
    changed: bool,
    file: &str,
    inherited: &str,
) -> Result<(), SpecError> {
    if changed {
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
            .map_err(|e| SpecError(format!("{file}: figures[{i}] (\"{}\"): {e}{inherited}", f.name)))?;
    }
    Ok(())
}

/// The claims. A claim names groups of the file's own grid: one of a grid a `--sweep` replaced
/// is set aside (it can be checked only where its groups ran), otherwise an unknown group is an
/// error before anything trains.
pub(super) fn claims_of(
    experiment: &Experiment,
    specs: &[ClaimSpec],
    swept_from_command: bool,
    file: &str,
    inherited: &str,
) -> Result<Vec<Claim>, SpecError> {
    let groups = experiment.groups();
    let strict = (!swept_from_command).then_some(&groups[..]);
    Ok(claims::parse_all(specs, strict)
        .map_err(|e| SpecError(format!("{file}: {e}{inherited}")))?
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
        .collect())
}
