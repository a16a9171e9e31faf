//! `pressure plot`: redraws every figure of a finished run folder from its stored data.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::{check_heatmaps_apply, default_plots, draw};
use crate::experiment::folder;

/// `pressure plot`: redraws the figures of a run folder.
pub fn plot(run_dir: &Path, plots: Option<PathBuf>, metrics: &[String]) -> anyhow::Result<ExitCode> {
    let experiment = folder::experiment(run_dir)?;
    check_heatmaps_apply(&experiment, metrics)?;
    let dir = plots.unwrap_or_else(|| default_plots(run_dir, &experiment.name));
    draw(run_dir, &dir, metrics)?;
    Ok(ExitCode::SUCCESS)
}
