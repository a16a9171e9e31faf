//! Reading a run folder back: its experiment (`config.toml`) and its data (`metrics.csv` once
//! it is finished, its runs' rows so far while it is being written), as the figures and
//! summaries need them.

use std::path::Path;

use anyhow::Context;

use super::keys::value_label;
use super::live::{LiveFolder, Progress};
use super::runs::expand;
use super::spec::Experiment;
use crate::plot::{Group, Header, RunData, SweepAxis};
use crate::records::{self, Manifest, MetricRecord, read_metrics, verify_folder};

/// The experiment a run folder holds, from its `config.toml`.
pub fn experiment(run_dir: &Path) -> anyhow::Result<Experiment> {
    Experiment::load(&run_dir.join("config.toml"), &[])
        .with_context(|| format!("{} is not a run folder", run_dir.display()))
}

/// What the figures say about an experiment.
pub fn header(experiment: &Experiment) -> Header {
    Header {
        name: experiment.name.clone(),
        backend: experiment.backend.name().to_string(),
        arms: experiment.arms.iter().map(|a| a.name.clone()).collect(),
        sweep: experiment
            .sweep
            .iter()
            .map(|a| SweepAxis {
                key: a.key.clone(),
                labels: a.values.iter().map(value_label).collect(),
            })
            .collect(),
        figures: experiment.figures.clone(),
        heatmaps: experiment.heatmaps.clone(),
        refine: experiment.refine.as_ref().map(|r| crate::plot::RefineHeader {
            metric: r.metric.to_string(),
            threshold: r.threshold(),
            points: experiment
                .refined
                .iter()
                .map(|p| p.iter().map(value_label).collect())
                .collect(),
        }),
        training: false,
    }
}

/// Reads `config.toml` and `metrics.csv` from a run folder, after checking that they, the
/// manifest and every completed run's data belong together ([`verify_folder`]). A folder being
/// written is read as it stands ([`LiveFolder`]); its name in the figures says so.
pub fn load_data(run_dir: &Path) -> anyhow::Result<RunData> {
    let (manifest, experiment, rows) = read_folder(run_dir)?;
    let header = Header {
        training: manifest.is_none() && records::writer(run_dir).is_some(),
        ..header(&experiment)
    };
    Ok(RunData::new(header, groups(&experiment), rows))
}

/// The name of an experiment whose folder is still being written, for figures and tables.
fn training_name(name: &str, progress: Progress) -> String {
    format!(
        "{name} (still training: {}/{} runs completed)",
        progress.completed, progress.total
    )
}

/// A run folder's manifest (when it has a `config.toml` to check it against), experiment and
/// metrics rows, checked to belong together. A folder being written has no manifest yet: its
/// rows are those measured so far, and a note says so.
fn read_folder(run_dir: &Path) -> anyhow::Result<(Option<Manifest>, Experiment, Vec<MetricRecord>)> {
    if records::writer(run_dir).is_some() {
        let mut live = LiveFolder::new(run_dir, experiment(run_dir)?);
        live.refresh().map_err(anyhow::Error::msg)?;
        let progress = live.progress();
        crate::note!(
            "note: {}: still training ({progress}); read as it stands",
            run_dir.display()
        );
        let rows = live.records();
        let mut experiment = live.experiment;
        experiment.name = training_name(&experiment.name, progress);
        return Ok((None, experiment, rows));
    }
    let manifest = match run_dir.join("config.toml").is_file() {
        true => Some(verify_folder(run_dir)?),
        false => None,
    };
    let experiment = experiment(run_dir)?;
    let (axes, rows) = read_metrics(&run_dir.join("metrics.csv"))?;
    let expected: Vec<String> = experiment.sweep.iter().map(|a| a.key.clone()).collect();
    anyhow::ensure!(
        axes == expected,
        "{}: metrics.csv has sweep columns [{}] but config.toml sweeps [{}]",
        run_dir.display(),
        axes.join(", "),
        expected.join(", ")
    );
    Ok((manifest, experiment, rows))
}

/// The lines of an experiment's figures: each arm at each sweep point, in run-list order.
pub fn groups(experiment: &Experiment) -> Vec<Group> {
    let mut groups: Vec<Group> = Vec::new();
    for run in expand(experiment) {
        let sweep = run.sweep_values();
        if !groups.iter().any(|g| g.arm == run.arm && g.sweep == sweep) {
            groups.push(Group {
                arm: run.arm,
                sweep,
                config: run.config,
            });
        }
    }
    groups
}

/// Several run folders read as one: their groups are matched by resolved configuration (the
/// seed aside), so the same configuration in two folders is one group whose seeds are the
/// union (a seed held twice is one run, trained the same way); a label two folders give to
/// different configurations is written `FOLDER:LABEL`. Folders written by another version or on
/// another backend are refused unless `mixed`; the header's name then says so.
pub fn load_folders(dirs: &[std::path::PathBuf], mixed: bool) -> anyhow::Result<RunData> {
    if let [one] = dirs {
        return load_data(one);
    }
    let mut labels: Vec<String> = Vec::new();
    let mut pooled: Vec<Group> = Vec::new();
    // The folder each group was first seen in: groups of one folder stay apart, even alike.
    let mut first_in: Vec<usize> = Vec::new();
    let mut rows = Vec::new();
    let mut origins: Vec<(String, String)> = Vec::new();
    let mut names: Vec<String> = Vec::new();
    let mut training = false;
    for (k, dir) in dirs.iter().enumerate() {
        let (manifest, experiment, folder_rows) = read_folder(dir)?;
        training |= manifest.is_none() && records::writer(dir).is_some();
        let origin = manifest.map_or_else(
            || {
                (
                    env!("CARGO_PKG_VERSION").to_string(),
                    experiment.backend.name().to_string(),
                )
            },
            |m| (m.version, m.backend),
        );
        if !mixed && let Some(first) = origins.first().filter(|o| **o != origin) {
            anyhow::bail!(
                "{}: written by pressure {} on {}, but the first folder by {} on {}; its numbers differ in the last bits. Compare them anyway with --mixed",
                dir.display(),
                origin.0,
                origin.1,
                first.0,
                first.1
            );
        }
        if !origins.contains(&origin) {
            origins.push(origin);
        }
        names.push(experiment.name.clone());
        let folder = dir.display().to_string();
        let axes: Vec<String> = experiment.sweep.iter().map(|a| a.key.clone()).collect();
        let n_arms = experiment.arms.len();
        // Each of this folder's labels, and the name of the group it joins.
        let mut joins: std::collections::HashMap<String, String> = std::collections::HashMap::new();
        for group in groups(&experiment) {
            let label = crate::plot::group_label(&group.arm, &axes, &group.sweep, n_arms);
            // The same configuration already seen is the same group, whatever it was called.
            let name = match (0..pooled.len()).find(|&i| first_in[i] != k && pooled[i].config == group.config) {
                Some(i) => labels[i].clone(),
                None => {
                    let name = if labels.contains(&label) {
                        format!("{folder}:{label}")
                    } else {
                        label.clone()
                    };
                    labels.push(name.clone());
                    first_in.push(k);
                    pooled.push(Group {
                        arm: name.clone(),
                        sweep: Vec::new(),
                        config: group.config,
                    });
                    name
                }
            };
            joins.insert(label, name);
        }
        for r in folder_rows {
            let label = crate::plot::group_label(&r.arm, &axes, &r.sweep, n_arms);
            if let Some(name) = joins.get(&label) {
                rows.push(MetricRecord {
                    arm: name.clone(),
                    sweep: Vec::new(),
                    ..r
                });
            }
        }
    }
    names.dedup();
    let mut name = names.join(" + ");
    if origins.len() > 1 {
        let mixed: Vec<String> = origins.iter().map(|(v, b)| format!("{v} on {b}")).collect();
        name.push_str(&format!(" (mixed: {})", mixed.join(", ")));
        crate::note!("note: {name}: folders of different versions or backends, read together (--mixed)");
    }
    let header = Header {
        name,
        backend: origins.iter().map(|o| o.1.clone()).collect::<Vec<_>>().join("+"),
        arms: labels,
        sweep: Vec::new(),
        figures: Vec::new(),
        heatmaps: Vec::new(),
        refine: None,
        training,
    };
    Ok(RunData::new(header, pooled, rows))
}
