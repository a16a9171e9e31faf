//! Reading a run folder back: its experiment (`config.toml`) and its data (`metrics.csv` once
//! it is finished, its runs' rows so far while it is being written), as the figures and
//! summaries need them.

use std::path::Path;

use anyhow::Context;

use super::keys::value_label;
use super::live::{LiveFolder, Progress};
use super::runs::expand;
use super::spec::Experiment;
use crate::plot::Declared;
use crate::records::{self, Manifest, MetricRecord, read_metrics, verify_folder};
use crate::results::{Group, Header, RunData, SweepAxis};

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
        refine: experiment.refine.as_ref().map(|r| crate::results::RefineHeader {
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

/// The figures an experiment declares beside the core ones.
pub fn declared(experiment: &Experiment) -> Declared {
    Declared {
        figures: experiment.figures.clone(),
        heatmaps: experiment.heatmaps.clone(),
    }
}

/// A run folder's data ([`load_data`]) with the figures its experiment declares.
pub fn load_drawable(run_dir: &Path) -> anyhow::Result<(RunData, Declared)> {
    let data = load_data(run_dir)?;
    Ok((data, declared(&experiment(run_dir)?)))
}

/// Reads `config.toml` and `metrics.csv` from a run folder, after checking that they, the
/// manifest and every completed run's data belong together ([`verify_folder`]). A folder being
/// written is read as it stands ([`LiveFolder`]); its name in the figures says so.
pub fn load_data(run_dir: &Path) -> anyhow::Result<RunData> {
    let read = read_folder(run_dir)?;
    let mut header = header(&read.experiment);
    if let Some(progress) = read.training {
        header.name = training_name(&header.name, progress);
        header.training = true;
    }
    Ok(RunData::new(header, groups(&read.experiment), read.rows))
}

/// The name of an experiment whose folder is still being written, for figures and tables.
fn training_name(name: &str, progress: Progress) -> String {
    format!(
        "{name} (still training: {}/{} runs completed)",
        progress.completed, progress.total
    )
}

/// A run folder read back.
struct Read {
    /// Its manifest (when it has a `config.toml` to check it against; none while training).
    manifest: Option<Manifest>,
    experiment: Experiment,
    rows: Vec<MetricRecord>,
    /// How far it has come, while it is being written.
    training: Option<Progress>,
}

/// A run folder's manifest, experiment and metrics rows, checked to belong together. A folder
/// being written has no manifest yet: its rows are those measured so far, and a note says so.
fn read_folder(run_dir: &Path) -> anyhow::Result<Read> {
    if records::writer(run_dir).is_some() {
        let mut live = LiveFolder::new(run_dir, experiment(run_dir)?);
        live.refresh().map_err(anyhow::Error::msg)?;
        let progress = live.progress();
        crate::note!(
            "note: {}: still training ({progress}); read as it stands",
            run_dir.display()
        );
        return Ok(Read {
            manifest: None,
            rows: live.records(),
            experiment: live.experiment,
            training: Some(progress),
        });
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
    Ok(Read {
        manifest,
        experiment,
        rows,
        training: None,
    })
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
/// union (a seed held twice is one run, trained the same way). A label that names different
/// configurations in different folders is written `EXPERIMENT:LABEL` for each of them, or
/// `FOLDER:LABEL` where their experiments share a name. Folders written by another version or on
/// another backend are refused unless `mixed`; the header's name then says so.
pub fn load_folders(dirs: &[std::path::PathBuf], mixed: bool) -> anyhow::Result<RunData> {
    if let [one] = dirs {
        return load_data(one);
    }
    let Folders {
        folders,
        origins,
        mut names,
        training,
    } = read_all(dirs, mixed)?;
    let (pooled, first_in, joins) = pool(&folders);
    let labels = qualified_labels(&pooled, &first_in, &folders, dirs);
    let rows = relabelled_rows(folders, &joins, &labels);
    let pooled: Vec<Group> = pooled
        .into_iter()
        .zip(&labels)
        .map(|((_, group), name)| Group {
            arm: name.clone(),
            sweep: Vec::new(),
            config: group.config,
        })
        .collect();
    names.dedup();
    let mut name = names.join(" + ");
    if origins.len() > 1 {
        let mixed: Vec<String> = origins.iter().map(|(v, b)| format!("{v} on {b}")).collect();
        name.push_str(&format!(" (mixed: {})", mixed.join(", ")));
        crate::note!("note: {name}: folders of different versions or backends, read together (--mixed)");
    }
    if training {
        name.push_str(" (still training)");
    }
    let header = Header {
        name,
        backend: origins.iter().map(|o| o.1.clone()).collect::<Vec<_>>().join("+"),
        arms: labels,
        sweep: Vec::new(),

        refine: None,
        training,
    };
    Ok(RunData::new(header, pooled, rows))
}

/// Folders read together: each one's data, and what tells them apart.
struct Folders {
    folders: Vec<Read>,
    /// The (version, backend) pairs that wrote them, in order of first appearance.
    origins: Vec<(String, String)>,
    /// Their experiments' names, in folder order.
    names: Vec<String>,
    /// Whether any is still being written.
    training: bool,
}

/// Reads the folders in parallel (each is checked and parsed on its own), then takes them in
/// order; refuses folders of different versions or backends unless `mixed`.
fn read_all(dirs: &[std::path::PathBuf], mixed: bool) -> anyhow::Result<Folders> {
    let mut origins: Vec<(String, String)> = Vec::new();
    let mut names: Vec<String> = Vec::new();
    let mut training = false;
    let mut folders = Vec::new();
    let reads: Vec<anyhow::Result<Read>> = {
        use rayon::prelude::*;
        dirs.par_iter().map(|dir| read_folder(dir)).collect()
    };
    for (dir, read) in dirs.iter().zip(reads) {
        let read = read?;
        training |= read.training.is_some();
        let origin = read.manifest.as_ref().map_or_else(
            || {
                (
                    env!("CARGO_PKG_VERSION").to_string(),
                    read.experiment.backend.name().to_string(),
                )
            },
            |m| (m.version.clone(), m.backend.clone()),
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
        names.push(read.experiment.name.clone());
        folders.push(read);
    }

    Ok(Folders {
        folders,
        origins,
        names,
        training,
    })
}

/// Pooled groups, each with its label and configuration; the folder each group first came
/// from; and, per folder, the pooled group each of its labels joined.
type Pooled = (
    Vec<(String, Group)>,
    Vec<usize>,
    Vec<std::collections::HashMap<String, usize>>,
);

/// Each group joins the first group of another folder with its configuration, or starts one
/// under its own label; `first_in` keeps the groups of one folder apart, even alike.
fn pool(folders: &[Read]) -> Pooled {
    let mut pooled: Vec<(String, Group)> = Vec::new();
    let mut first_in: Vec<usize> = Vec::new();
    let mut joins: Vec<std::collections::HashMap<String, usize>> = Vec::new();
    for (k, read) in folders.iter().enumerate() {
        let axes: Vec<String> = read.experiment.sweep.iter().map(|a| a.key.clone()).collect();
        let mut join = std::collections::HashMap::new();
        for group in groups(&read.experiment) {
            let label = crate::results::group_label(&group.arm, &axes, &group.sweep, read.experiment.arms.len());
            let i = match (0..pooled.len()).find(|&i| first_in[i] != k && pooled[i].1.config == group.config) {
                Some(i) => i,
                None => {
                    pooled.push((label.clone(), group));
                    first_in.push(k);
                    pooled.len() - 1
                }
            };
            join.insert(label, i);
        }
        joins.push(join);
    }
    (pooled, first_in, joins)
}

/// A label held by several pooled groups is qualified in each, by experiment where that tells
/// them apart, else by folder.
fn qualified_labels(
    pooled: &[(String, Group)],
    first_in: &[usize],
    folders: &[Read],
    dirs: &[std::path::PathBuf],
) -> Vec<String> {
    (0..pooled.len())
        .map(|i| {
            let label = &pooled[i].0;
            let sharing: Vec<usize> = (0..pooled.len()).filter(|&j| pooled[j].0 == *label).collect();
            if sharing.len() == 1 {
                return label.clone();
            }
            let experiment = |j: usize| &folders[first_in[j]].experiment.name;
            let distinct = sharing
                .iter()
                .all(|&j| sharing.iter().filter(|&&o| experiment(o) == experiment(j)).count() == 1);
            match distinct {
                true => format!("{}:{label}", experiment(i)),
                false => format!("{}:{label}", dirs[first_in[i]].display()),
            }
        })
        .collect()
}

/// Every folder's rows, each under its pooled group's label.
fn relabelled_rows(
    folders: Vec<Read>,
    joins: &[std::collections::HashMap<String, usize>],
    labels: &[String],
) -> Vec<MetricRecord> {
    let mut rows = Vec::new();
    for (read, join) in folders.into_iter().zip(joins) {
        let axes: Vec<String> = read.experiment.sweep.iter().map(|a| a.key.clone()).collect();
        // A run's rows come together: its group is found once per run.
        let mut last: Option<(String, Vec<String>, Option<usize>)> = None;
        for r in read.rows {
            if last
                .as_ref()
                .is_none_or(|(arm, sweep, _)| *arm != r.arm || *sweep != r.sweep)
            {
                let label = crate::results::group_label(&r.arm, &axes, &r.sweep, read.experiment.arms.len());
                last = Some((r.arm.clone(), r.sweep.clone(), join.get(&label).copied()));
            }
            if let Some(i) = last.as_ref().and_then(|l| l.2) {
                rows.push(MetricRecord {
                    arm: labels[i].clone(),
                    sweep: Vec::new(),
                    ..r
                });
            }
        }
    }
    rows
}
