//! Reading a finished run folder back: its experiment (`config.toml`) and its data
//! (`metrics.csv`), as the figures and summaries need them.

use std::path::Path;

use anyhow::Context;

use super::keys::value_label;
use super::runs::expand;
use super::spec::Experiment;
use crate::plot::{Group, Header, RunData, SweepAxis};
use crate::records::{read_metrics, verify_folder};

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
    }
}

/// Reads `config.toml` and `metrics.csv` from a run folder, after checking that they, the
/// manifest and every completed run's data belong together ([`verify_folder`]).
pub fn load_data(run_dir: &Path) -> anyhow::Result<RunData> {
    if run_dir.join("config.toml").is_file() {
        verify_folder(run_dir)?;
    }
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
    Ok(RunData::new(header(&experiment), groups(&experiment), rows))
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
