//! Figures, drawn from a run folder's stored data (never from memory of a training run), so
//! `pressure plot` redraws exactly what `pressure run` drew. Every figure is written as PNG and
//! SVG, with text from an embedded font.

mod custom;
mod data;
mod figures;
mod finals;
pub mod overoptimization;
pub mod sheet;
pub mod spec;
mod strip;
mod style;
mod sweep;

pub use crate::stats::{Summary, summarize};
pub use data::{Group, Header, RunData, Series, SweepAxis, group_label};
pub use sheet::{FigureSize, Sheet};
pub use spec::{FigureKind, FigureSpec};

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::metric::{HIDDEN_OBJECTION, MetricRef, Scope};
use crate::records::write_atomic;

/// A figure that can draw itself on any plotters backend, at any [`Sheet`].
pub trait Figure {
    /// File stem, e.g. `headline`.
    fn name(&self) -> &str;
    /// The size in the sheet's design units (on the screen, pixels).
    fn size(&self, sheet: &Sheet) -> (u32, u32);
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, sheet: &Sheet) -> anyhow::Result<()>;
}

/// Draws a figure on a backend of its size in pixels: directly on the screen, through
/// [`sheet::Scaled`] on other sheets.
fn draw_on<F: Figure, DB: DrawingBackend>(figure: &F, sheet: &Sheet, backend: DB) -> anyhow::Result<()> {
    fn finish<F: Figure, B: DrawingBackend>(
        figure: &F,
        sheet: &Sheet,
        root: DrawingArea<B, Shift>,
    ) -> anyhow::Result<()> {
        root.fill(&WHITE).map_err(style::err)?;
        figure.draw(&root, sheet)?;
        root.present()
            .map_err(|e| anyhow::anyhow!("cannot write the figure: {e}"))
    }
    if sheet.scale() == 1.0 {
        finish(figure, sheet, backend.into_drawing_area())
    } else {
        let scaled = sheet::Scaled {
            inner: backend,
            scale: sheet.scale(),
            size: figure.size(sheet),
        };
        finish(figure, sheet, scaled.into_drawing_area())
    }
}

/// A figure as SVG text.
pub fn svg<F: Figure>(figure: &F, sheet: &Sheet) -> anyhow::Result<String> {
    style::register_fonts();
    let mut text = String::new();
    {
        let size = sheet.pixels(figure.size(sheet));
        draw_on(figure, sheet, SVGBackend::with_string(&mut text, size))?;
    }
    Ok(text)
}

/// Renders a figure to `<dir>/<name>.png` and `.svg`, each through a temporary file.
pub fn render<F: Figure>(figure: &F, dir: &Path, sheet: &Sheet) -> anyhow::Result<Vec<PathBuf>> {
    style::register_fonts();
    std::fs::create_dir_all(dir)
        .map_err(|e| anyhow::anyhow!("{}: cannot create the figure folder: {e}", dir.display()))?;
    let size = sheet.pixels(figure.size(sheet));
    let png = dir.join(format!("{}.png", figure.name()));
    let tmp = dir.join(format!(".{}.tmp-{}.png", figure.name(), std::process::id()));
    let drawn = draw_on(figure, sheet, BitMapBackend::new(&tmp, size))
        .map_err(|e| anyhow::anyhow!("{}: {e}", png.display()))
        .and_then(|()| std::fs::rename(&tmp, &png).map_err(|e| anyhow::anyhow!("{}: {e}", png.display())));
    if drawn.is_err() {
        // No temporary file is left behind, whatever stopped the drawing.
        let _ = std::fs::remove_file(&tmp);
    }
    drawn?;

    let svg_path = dir.join(format!("{}.svg", figure.name()));
    let text = svg(figure, sheet)?;
    write_atomic(&svg_path, text.as_bytes()).map_err(|e| anyhow::anyhow!("{}: {e}", svg_path.display()))?;
    Ok(vec![png, svg_path])
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

/// Draws every figure of a run's data into `dir`, at the size `sheet`; returns the files written. `heatmaps` names
/// the metrics of a two-axis sweep's heatmaps (default: the experiment's `heatmaps`, else
/// hidden objection).
pub fn draw(data: &RunData, dir: &Path, heatmaps: &[String], sheet: &Sheet) -> anyhow::Result<Vec<PathBuf>> {
    for m in heatmaps {
        check_heatmap_metric(m).map_err(|e| anyhow::anyhow!("--metric {m}: {e}"))?;
    }
    anyhow::ensure!(
        data.labels.iter().any(|a| data.seeds_of(a) > 0),
        "no completed run to draw (see manifest.json)"
    );
    let mut written = Vec::new();
    let mut skipped = Vec::new();
    if data.labels.len() > MAX_LINES {
        skipped.push(format!(
            "{} arms × sweep points are too many lines (at most {MAX_LINES}) for the figures against step",
            data.labels.len()
        ));
    } else {
        written.extend(render(&figures::Headline { data }, dir, sheet)?);
        written.extend(render(&figures::Outcomes { data }, dir, sheet)?);
        written.extend(render(&figures::Diagnostics { data }, dir, sheet)?);
        for spec in data
            .experiment
            .figures
            .iter()
            .filter(|s| s.kind != FigureKind::Overoptimization)
        {
            written.extend(render(&custom::Custom { data, spec }, dir, sheet)?);
        }
    }
    if data.labels.len() > strip::MAX_GROUPS {
        skipped.push(format!(
            "{} arms × sweep points are too many rows (at most {}) for the final values of every seed",
            data.labels.len(),
            strip::MAX_GROUPS
        ));
    } else {
        written.extend(render(&strip::Finals { data }, dir, sheet)?);
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
            sheet,
        )?);
    }
    match data.experiment.sweep.len() {
        0 => {}
        1 => written.extend(render(&sweep::SweepLines { data }, dir, sheet)?),
        2 => {
            let default = [DEFAULT_HEATMAP_METRIC.to_string()];
            let metrics = [heatmaps, &data.experiment.heatmaps, &default]
                .into_iter()
                .find(|m| !m.is_empty())
                .unwrap_or_default();
            for m in metrics {
                written.extend(render(&sweep::Heatmap::new(data, m), dir, sheet)?);
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
