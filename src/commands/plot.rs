//! `pressure plot`: redraws every figure of a finished run folder from its stored data.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::{check_heatmaps_apply, default_plots_at, draw};
use crate::experiment::folder;
use crate::plot::Sheet;

/// `pressure plot`: redraws the figures of a run folder at the size (and formats) of `sheet`.
pub fn plot(run_dir: &Path, plots: Option<PathBuf>, metrics: &[String], sheet: &Sheet) -> anyhow::Result<ExitCode> {
    let experiment = folder::experiment(run_dir)?;
    check_heatmaps_apply(&experiment, metrics)?;
    if let Some(dir) = &plots {
        crate::records::target::figures_folder(dir, "--plots", run_dir).map_err(anyhow::Error::msg)?;
    }
    let dir = plots.unwrap_or_else(|| default_plots_at(run_dir, &experiment.name, sheet.size));
    draw(run_dir, &dir, metrics, sheet)?;
    Ok(ExitCode::SUCCESS)
}
