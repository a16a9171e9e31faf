//! Figures, drawn from a run folder's stored data (never from memory of a training run), so
//! `pressure plot` redraws exactly what `pressure run` drew. Every figure is written as PNG and
//! SVG, with text from an embedded font.

mod custom;
mod data;
mod figures;
mod finals;
pub mod overoptimization;
pub mod robustness;
pub mod spec;
mod style;
mod sweep;

pub use crate::stats::{Summary, summarize};
pub use data::{Group, Header, RunData, Series, SweepAxis, group_label};
pub use figures::STACK as OUTCOME_STACK;
pub use spec::{FigureKind, FigureSpec};

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::metric::{HIDDEN_OBJECTION, MetricRef, Scope};
use crate::records::write_atomic;

/// A figure that can draw itself on any plotters backend.
pub trait Figure {
    /// File stem, e.g. `headline`.
    fn name(&self) -> &str;
    fn size(&self) -> (u32, u32);
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> anyhow::Result<()>;
}

/// Renders a figure to `<dir>/<name>.png` and `.svg`, each through a temporary file.
pub fn render<F: Figure>(figure: &F, dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    style::register_fonts();
    std::fs::create_dir_all(dir)
        .map_err(|e| anyhow::anyhow!("{}: cannot create the figure folder: {e}", dir.display()))?;
    let size = figure.size();
    let png = dir.join(format!("{}.png", figure.name()));
    let tmp = dir.join(format!(".{}.tmp-{}.png", figure.name(), std::process::id()));
    let drawn = (|| {
        let root = BitMapBackend::new(&tmp, size).into_drawing_area();
        root.fill(&WHITE).map_err(style::err)?;
        figure.draw(&root)?;
        root.present()
            .map_err(|e| anyhow::anyhow!("{}: cannot write the figure: {e}", png.display()))?;
        drop(root);
        std::fs::rename(&tmp, &png).map_err(|e| anyhow::anyhow!("{}: {e}", png.display()))
    })();
    if drawn.is_err() {
        // No temporary file is left behind, whatever stopped the drawing.
        let _ = std::fs::remove_file(&tmp);
    }
    drawn?;

    let svg = dir.join(format!("{}.svg", figure.name()));
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, size).into_drawing_area();
        root.fill(&WHITE).map_err(style::err)?;
        figure.draw(&root)?;
        root.present().map_err(style::err)?;
    }
    write_atomic(&svg, text.as_bytes()).map_err(|e| anyhow::anyhow!("{}: {e}", svg.display()))?;
    Ok(vec![png, svg])
}

/// Data that no figure can show: the command exits with 1, saying why.
#[derive(Debug, thiserror::Error)]
#[error("no figure can be drawn: {0}")]
pub struct Undrawable(pub String);

/// Lines a figure against step can tell apart; a sweep with more groups gets only its sweep
/// figures.
const MAX_LINES: usize = 8;

/// The metric of sweep heatmaps unless told otherwise.
pub const DEFAULT_HEATMAP_METRIC: &str = HIDDEN_OBJECTION;

/// Checks a heatmap metric: `metric` (trained scope) or `scope:metric`.
pub fn check_heatmap_metric(metric: &str) -> Result<(), String> {
    MetricRef::parse(metric, Some(Scope::Trained.name())).map(|_| ())
}

/// Draws every figure of a run's data into `dir`; returns the files written. `heatmaps` names
/// the metrics of a two-axis sweep's heatmaps (default: the experiment's `heatmaps`, else
/// hidden objection).
pub fn draw(data: &RunData, dir: &Path, heatmaps: &[String]) -> anyhow::Result<Vec<PathBuf>> {
    for m in heatmaps {
        check_heatmap_metric(m).map_err(|e| anyhow::anyhow!("--metric {m}: {e}"))?;
    }
    anyhow::ensure!(
        data.labels.iter().any(|a| data.seeds_of(a) > 0),
        "no completed run to draw (see manifest.json)"
    );
    let data = data;
    let mut written = Vec::new();
    let mut skipped = Vec::new();
    if data.labels.len() > MAX_LINES {
        skipped.push(format!(
            "{} arms × sweep points are too many lines (at most {MAX_LINES}) for the figures against step",
            data.labels.len()
        ));
    } else {
        written.extend(render(&figures::Headline { data: &data }, dir)?);
        written.extend(render(&figures::Outcomes { data: &data }, dir)?);
        written.extend(render(&figures::Diagnostics { data: &data }, dir)?);
        for spec in data
            .experiment
            .figures
            .iter()
            .filter(|s| s.kind != FigureKind::Overoptimization)
        {
            written.extend(render(&custom::Custom { data: &data, spec }, dir)?);
        }
    }
    // One panel per group, so drawn however many groups there are.
    for spec in data
        .experiment
        .figures
        .iter()
        .filter(|s| s.kind == FigureKind::Overoptimization)
    {
        let groups = overoptimization::curves(data);
        if groups.is_empty() {
            skipped.push(format!("`{}`: no group recorded a learned reward", spec.name));
            continue;
        }
        written.extend(render(
            &overoptimization::Overoptimization {
                data,
                name: &spec.name,
                title: &spec.title,
                groups,
            },
            dir,
        )?);
    }
    match data.experiment.sweep.len() {
        0 => {}
        1 => written.extend(render(&sweep::SweepLines { data: &data }, dir)?),
        2 => {
            let default = [DEFAULT_HEATMAP_METRIC.to_string()];
            let metrics = [heatmaps, &data.experiment.heatmaps, &default]
                .into_iter()
                .find(|m| !m.is_empty())
                .unwrap_or_default();
            for m in metrics {
                written.extend(render(&sweep::Heatmap::new(&data, m), dir)?);
            }
        }
        n => skipped.push(format!(
            "a sweep over {n} settings has no sweep figure (one or two settings have one); run a slice of it"
        )),
    }
    if written.is_empty() {
        return Err(Undrawable(skipped.join("; ")).into());
    }
    for why in skipped {
        eprintln!("figures: {why}; drawing the others only");
    }
    Ok(written)
}
