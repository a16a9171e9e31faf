//! Robustness: an experiment's claims under settings it was not tuned on (a multiverse, or
//! specification curve, of the experiment). A perturbation changes the base configuration —
//! what every arm shares, never what an arm or the sweep sets itself — and may name another
//! backend. The perturbed experiments are one experiment: every arm under every perturbation
//! (`<arm> @ <perturbation>`, beside `@ baseline`), run by the normal runner, so it resumes,
//! shards and merges like any other; a backend perturbation is a second such experiment.

use std::path::Path;

use serde::Deserialize;
use toml::{Table, Value};

use super::claims::{Claim, Statement};
use super::error::SpecError;
use super::keys::{Override, dotted_keys, set_path, value_label};
use super::spec::{DEFAULT_ARM, Experiment, check_name};
use crate::run::Backend;

/// The perturbation that changes nothing.
pub const BASELINE: &str = "baseline";

/// A named change to an experiment's base configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Perturbation {
    pub name: String,
    pub set: Vec<Override>,
    /// Another backend to train on, instead of a change of settings.
    pub backend: Option<Backend>,
}

/// A perturbations file: `[[perturbations]]` with `name`, and `set = ["key=value", ...]` or
/// `backend = "ndarray"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PerturbationsFile {
    perturbations: Vec<PerturbationEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PerturbationEntry {
    name: String,
    #[serde(default)]
    set: Vec<String>,
    backend: Option<Backend>,
}

fn perturbation(name: &str, set: &[&str]) -> Perturbation {
    Perturbation {
        name: name.to_string(),
        set: set
            .iter()
            .map(|s| Override::parse(s).expect("a valid default perturbation"))
            .collect(),
        backend: None,
    }
}

/// The default perturbations: eight settings no experiment was tuned on, and the other backend.
pub fn defaults(backend: Backend) -> Vec<Perturbation> {
    let other = match backend {
        Backend::Flex => Backend::Ndarray,
        Backend::Ndarray => Backend::Flex,
    };
    vec![
        perturbation("PPO", &["pressure.algorithm=\"ppo\""]),
        perturbation("trunk 128x128", &["policy.hidden=[128, 128]"]),
        perturbation("trunk 32", &["policy.hidden=[32]"]),
        perturbation("KL 0.2", &["pressure.kl=0.2"]),
        perturbation("lr 3e-4", &["pressure.lr=3e-4"]),
        perturbation("noise 0.5", &["world.obs_noise=0.5"]),
        perturbation("latent 8", &["world.latent_dim=8"]),
        perturbation("contra. 0.2", &["world.contradiction_rate=0.2"]),
        Perturbation {
            name: other.name().to_string(),
            set: Vec::new(),
            backend: Some(other),
        },
    ]
}

/// Reads a perturbations file; every key is checked before anything trains.
pub fn load(path: &Path) -> Result<Vec<Perturbation>, SpecError> {
    let file = path.display().to_string();
    let text = crate::records::read_limited(path, super::spec::MAX_FILE_BYTES)
        .map_err(|e| SpecError(format!("{file}: cannot read: {e}")))?;
    let parsed: PerturbationsFile = toml::from_str(&text).map_err(|e| SpecError(format!("{file}: {}", e.message())))?;
    let mut out: Vec<Perturbation> = Vec::new();
    for (i, p) in parsed.perturbations.into_iter().enumerate() {
        let at = format!("{file}: perturbations[{i}] (\"{}\")", p.name);
        check_name(&p.name).map_err(|why| SpecError(format!("{at}: `name`: {why}")))?;
        if p.name == BASELINE || out.iter().any(|q| q.name == p.name) {
            return Err(SpecError(format!(
                "{at}: the name is taken (names differ, and `{BASELINE}` is the unperturbed run)"
            )));
        }
        if p.set.is_empty() == p.backend.is_none() {
            return Err(SpecError(format!(
                "{at}: give `set = [\"key=value\", ...]` or `backend`, one of the two"
            )));
        }
        let set: Vec<Override> = p
            .set
            .iter()
            .map(|s| Override::parse(s).map_err(|e| SpecError(format!("{at}: {}", e.0.replacen("--set ", "set ", 1)))))
            .collect::<Result<_, _>>()?;
        for o in &set {
            crate::run::keys::check_key(&o.key).map_err(|why| SpecError(format!("{at}: `set`: {why}")))?;
        }
        out.push(Perturbation {
            name: p.name,
            set,
            backend: p.backend,
        });
    }
    if out.is_empty() {
        return Err(SpecError(format!("{file}: `perturbations` is empty")));
    }
    Ok(out)
}

/// What to do about a perturbation that changes nothing.
pub const IDLE_ADVICE: &str = "remove it or choose a value the experiment does not have";

/// Whether a settings perturbation changes no run of the experiment `text` would train (its
/// values are the experiment's own, or every arm or the sweep sets its keys).
pub fn changes_nothing(text: &str, path: &Path, p: &Perturbation) -> Result<bool, SpecError> {
    match combined(text, path, std::slice::from_ref(p), BASELINE, "check", 1, Backend::Flex) {
        Ok(_) => Ok(false),
        Err(e) if e.0.contains(IDLE_ADVICE) => Ok(true),
        Err(e) => Err(e),
    }
}

/// The label of an arm under a perturbation.
pub fn arm_label(arm: &str, perturbation: &str) -> String {
    format!("{arm} @ {perturbation}")
}

/// Whether a dotted key is set in a table.
fn has_path(table: &Table, key: &str) -> bool {
    dotted_keys(table, "")
        .iter()
        .any(|k| k == key || k.starts_with(&format!("{key}.")))
}

/// The experiment file `text` with every arm unperturbed (labelled `@ <unperturbed>`) and under
/// each perturbation of settings, as one experiment named `name`, without figures or claims
/// (they name the unperturbed arms). Each perturbation is checked on its own first, so an
/// invalid one is named.
pub fn combined(
    text: &str,
    path: &Path,
    perturbations: &[Perturbation],
    unperturbed: &str,
    name: &str,
    seeds: u64,
    backend: Backend,
) -> Result<String, SpecError> {
    let file = path.display().to_string();
    let mut table: Table = text
        .parse()
        .map_err(|e: toml::de::Error| SpecError(format!("{file}: {}", e.message())))?;
    let arms: Vec<Table> = match table.remove("arms") {
        Some(Value::Array(items)) => items
            .into_iter()
            .map(|v| match v {
                Value::Table(t) => t,
                _ => Table::new(),
            })
            .collect(),
        _ => vec![Table::from_iter([(
            "name".to_string(),
            Value::String(DEFAULT_ARM.into()),
        )])],
    };
    // The checks run the grid the claims name; refinement rounds would multiply their cost.
    if let Some(Value::Table(sweep)) = table.get_mut("sweep") {
        sweep.remove("refine");
    }
    let swept: Vec<String> = match table.get("sweep") {
        Some(Value::Table(t)) => dotted_keys(t, ""),
        _ => Vec::new(),
    };
    for key in [
        "figures",
        "claims",
        "heatmaps",
        "name",
        "description",
        "seeds",
        "backend",
    ] {
        table.remove(key);
    }
    let mut all_arms = Vec::new();
    let mut unperturbed_configs: Option<Vec<crate::run::RunConfig>> = None;
    let baseline = Perturbation {
        name: unperturbed.into(),
        set: Vec::new(),
        backend: None,
    };
    for p in std::iter::once(&baseline).chain(perturbations.iter().filter(|p| p.backend.is_none())) {
        let perturbed: Vec<Table> = arms
            .iter()
            .map(|arm| {
                let mut arm = arm.clone();
                let original = arm
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or(DEFAULT_ARM)
                    .to_string();
                arm.insert("name".into(), Value::String(arm_label(&original, &p.name)));
                for o in &p.set {
                    // What an arm or the sweep sets itself stays as it is.
                    if !has_path(&arm, &o.key) && !swept.contains(&o.key) {
                        // An arm's own table holds no list of phases, so this only adds tables.
                        let _ = set_path(&mut arm, &o.key, o.value.clone());
                    }
                }
                arm
            })
            .collect();
        // Checked alone, so that an invalid perturbation is named.
        let mut alone = table.clone();
        alone.insert(
            "arms".into(),
            Value::Array(perturbed.iter().cloned().map(Value::Table).collect()),
        );
        let checked = Experiment::parse(&toml::to_string(&alone).expect("a table serializes"), path, &[])
            .map_err(|e| SpecError(format!("perturbation `{}`: {}", p.name, e.0)))?;
        // A perturbation that trains the very runs of the baseline would read as "robust".
        let configs: Vec<_> = super::runs::expand(&checked).into_iter().map(|r| r.config).collect();
        match &unperturbed_configs {
            None => unperturbed_configs = Some(configs),
            Some(same) if *same == configs => {
                return Err(SpecError(format!(
                    "perturbation `{}`: changes nothing in the runs it would train (each value is the one they have, or every arm or the sweep sets the key itself); {IDLE_ADVICE}",
                    p.name
                )));
            }
            Some(_) => {}
        }
        all_arms.extend(perturbed);
    }
    table.insert("name".into(), Value::String(name.into()));
    table.insert(
        "description".into(),
        Value::String(format!(
            "Robustness of `{}`: every arm under each perturbation of its base configuration ({}).",
            path.display(),
            perturbations
                .iter()
                .map(|p| p.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    );
    table.insert("seeds".into(), Value::Integer(seeds as i64));
    table.insert("backend".into(), Value::String(backend.name().into()));
    table.insert(
        "arms".into(),
        Value::Array(all_arms.into_iter().map(Value::Table).collect()),
    );
    Ok(toml::to_string(&table).expect("a table serializes"))
}

/// The label of a group of the unperturbed `experiment` under `perturbation`, in the
/// perturbed experiment (which has `perturbed_arms` arms).
pub fn group_under(experiment: &Experiment, group: &str, perturbation: &str, perturbed_arms: usize) -> String {
    let axes: Vec<String> = experiment.sweep.iter().map(|a| a.key.clone()).collect();
    for arm in &experiment.arms {
        for values in experiment.grid() {
            let values: Vec<String> = values.iter().map(value_label).collect();
            if crate::results::group_label(&arm.name, &axes, &values, experiment.arms.len()) == group {
                return crate::results::group_label(
                    &arm_label(&arm.name, perturbation),
                    &axes,
                    &values,
                    perturbed_arms,
                );
            }
        }
    }
    group.to_string()
}

/// A claim of the unperturbed `experiment`, renamed to read its groups under `perturbation`
/// in the `perturbed` experiment.
pub fn relabel(claim: &Claim, experiment: &Experiment, perturbation: &str, perturbed: &Experiment) -> Claim {
    let rename = |arm: &str| group_under(experiment, arm, perturbation, perturbed.arms.len());
    let mut statement = claim.statement.clone();
    match &mut statement {
        Statement::Threshold { value, .. } => value.arm = rename(&value.arm),
        Statement::Compare { left, right, .. } | Statement::Difference { left, right, .. } => {
            left.arm = rename(&left.arm);
            right.arm = rename(&right.arm);
        }
    }
    Claim {
        spec: claim.spec.clone(),
        statement,
    }
}
