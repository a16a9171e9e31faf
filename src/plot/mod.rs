//! Figures, drawn from a run folder's stored data (never from memory of a training run), so
//! `pressure plot` redraws exactly what `pressure run` drew. Every figure is written as PNG and
//! SVG, with text from an embedded font.

mod custom;
mod edge;
mod figures;
mod finals;
mod frame;
pub mod overoptimization;
mod pdf;
pub mod robustness;
pub mod sheet;
pub mod spec;
mod strip;
mod style;
mod subtitle;
mod sweep;

pub use crate::stats::{Summary, summarize};
pub use figures::STACK as OUTCOME_STACK;
pub use sheet::{FigureSize, Sheet};
pub use spec::{Declared, FigureKind, FigureSpec};
/// The figures' colour-blind-safe palette (Okabe–Ito), one colour per line.
pub use style::ARM_COLORS;

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::metric::{HIDDEN_OBJECTION, MetricRef, Scope};
use crate::records::write_atomic;
use crate::results::RunData;

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

/// Renders a figure to `<dir>/<name>.png` and `.svg` (and `.pdf` when the sheet asks), each
/// through a temporary file.
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
    let mut written = vec![png, svg_path];
    if sheet.pdf {
        let path = dir.join(format!("{}.pdf", figure.name()));
        let bytes = pdf::from_svg(&text, sheet.dpi()).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        write_atomic(&path, &bytes).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        written.push(path);
    }
    Ok(written)
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

/// Any figure this layer draws.
pub enum Drawn<'a> {
    Headline(figures::Headline<'a>),
    Outcomes(figures::Outcomes<'a>),
    Diagnostics(figures::Diagnostics<'a>),
    Custom(custom::Custom<'a>),
    Finals(strip::Finals<'a>),
    Overoptimization(overoptimization::Overoptimization<'a>),
    Sweep(sweep::SweepLines<'a>),
    Heatmap(sweep::Heatmap<'a>),
    Refined(edge::RefinedHeatmap<'a>),
    EdgePosition(edge::EdgePosition<'a>),
}

impl Figure for Drawn<'_> {
    fn name(&self) -> &str {
        match self {
            Drawn::Headline(f) => f.name(),
            Drawn::Outcomes(f) => f.name(),
            Drawn::Diagnostics(f) => f.name(),
            Drawn::Custom(f) => f.name(),
            Drawn::Finals(f) => f.name(),
            Drawn::Overoptimization(f) => f.name(),
            Drawn::Sweep(f) => f.name(),
            Drawn::Heatmap(f) => f.name(),
            Drawn::Refined(f) => f.name(),
            Drawn::EdgePosition(f) => f.name(),
        }
    }

    fn size(&self, sheet: &Sheet) -> (u32, u32) {
        match self {
            Drawn::Headline(f) => f.size(sheet),
            Drawn::Outcomes(f) => f.size(sheet),
            Drawn::Diagnostics(f) => f.size(sheet),
            Drawn::Custom(f) => f.size(sheet),
            Drawn::Finals(f) => f.size(sheet),
            Drawn::Overoptimization(f) => f.size(sheet),
            Drawn::Sweep(f) => f.size(sheet),
            Drawn::Heatmap(f) => f.size(sheet),
            Drawn::Refined(f) => f.size(sheet),
            Drawn::EdgePosition(f) => f.size(sheet),
        }
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, sheet: &Sheet) -> anyhow::Result<()> {
        match self {
            Drawn::Headline(f) => f.draw(root, sheet),
            Drawn::Outcomes(f) => f.draw(root, sheet),
            Drawn::Diagnostics(f) => f.draw(root, sheet),
            Drawn::Custom(f) => f.draw(root, sheet),
            Drawn::Finals(f) => f.draw(root, sheet),
            Drawn::Overoptimization(f) => f.draw(root, sheet),
            Drawn::Sweep(f) => f.draw(root, sheet),
            Drawn::Heatmap(f) => f.draw(root, sheet),
            Drawn::Refined(f) => f.draw(root, sheet),
            Drawn::EdgePosition(f) => f.draw(root, sheet),
        }
    }
}

/// Every figure of a run's data, in the order they are drawn, and why any were left out: the
/// core figures and those the experiment `declared`. `heatmaps` names the metrics of a two-axis
/// sweep's heatmaps (default: the declared ones, else hidden objection).
pub fn figures<'a>(
    data: &'a RunData,
    declared: &'a Declared,
    heatmaps: &[String],
) -> anyhow::Result<(Vec<Drawn<'a>>, Vec<String>)> {
    for m in heatmaps {
        check_heatmap_metric(m).map_err(|e| anyhow::anyhow!("--metric {m}: {e}"))?;
    }
    if let Some(why) = data.nothing_to("draw") {
        anyhow::bail!(why);
    }
    let mut drawn = Vec::new();
    let mut skipped = Vec::new();
    if data.labels.len() > MAX_LINES {
        skipped.push(format!(
            "{} arms × sweep points are too many lines (at most {MAX_LINES}) for the figures against step",
            data.labels.len()
        ));
    } else {
        drawn.push(Drawn::Headline(figures::Headline { data }));
        drawn.push(Drawn::Outcomes(figures::Outcomes { data }));
        drawn.push(Drawn::Diagnostics(figures::Diagnostics { data }));
        for spec in declared
            .figures
            .iter()
            .filter(|s| s.kind != FigureKind::Overoptimization)
        {
            drawn.push(Drawn::Custom(custom::Custom { data, spec }));
        }
    }
    if data.labels.len() > strip::MAX_GROUPS {
        skipped.push(format!(
            "{} arms × sweep points are too many rows (at most {}) for the final values of every seed",
            data.labels.len(),
            strip::MAX_GROUPS
        ));
    } else {
        drawn.push(Drawn::Finals(strip::Finals { data }));
    }
    // One panel per group, so drawn however many groups there are.
    for spec in declared
        .figures
        .iter()
        .filter(|s| s.kind == FigureKind::Overoptimization)
    {
        let groups = crate::results::overoptimization::curves(data);
        if groups.is_empty() {
            skipped.push(format!("`{}`: no group recorded a learned reward", spec.name));
            continue;
        }
        drawn.push(Drawn::Overoptimization(overoptimization::Overoptimization {
            data,
            name: &spec.name,
            title: &spec.title,
            groups,
        }));
    }
    match data.experiment.sweep.len() {
        0 => {}
        1 => drawn.push(Drawn::Sweep(sweep::SweepLines { data })),
        2 => {
            let default = [DEFAULT_HEATMAP_METRIC.to_string()];
            let metrics = [heatmaps, &declared.heatmaps, &default]
                .into_iter()
                .find(|m| !m.is_empty())
                .unwrap_or_default();
            match &data.experiment.refine {
                // Uneven points: cells sized by the points run, the edge drawn, and the edge
                // over training time for the refined metric.
                Some(refine)
                    if data
                        .groups
                        .iter()
                        .all(|g| g.sweep.iter().all(|v| v.parse::<f64>().is_ok())) =>
                {
                    for m in metrics {
                        drawn.push(Drawn::Refined(edge::RefinedHeatmap::finals(data, m)));
                    }
                    drawn.push(Drawn::Refined(edge::RefinedHeatmap::over_steps(data, &refine.metric)));
                    if refine.threshold.is_some() {
                        drawn.push(Drawn::EdgePosition(edge::EdgePosition::new(data, &refine.metric)));
                    }
                }
                _ => {
                    for m in metrics {
                        drawn.push(Drawn::Heatmap(sweep::Heatmap::new(data, m)));
                    }
                }
            }
        }
        n => skipped.push(format!(
            "a sweep over {n} settings has no sweep figure (one or two settings have one); run a slice of it"
        )),
    }
    Ok((drawn, skipped))
}

/// Draws every figure of a run's data into `dir`, at the size of `sheet`; returns the files
/// written. `declared` and `heatmaps` as for [`figures`].
pub fn draw(
    data: &RunData,
    declared: &Declared,
    dir: &Path,
    heatmaps: &[String],
    sheet: &Sheet,
) -> anyhow::Result<Vec<PathBuf>> {
    let (drawn, skipped) = figures(data, declared, heatmaps)?;
    let mut written = Vec::new();
    for figure in &drawn {
        written.extend(render(figure, dir, sheet)?);
    }
    if written.is_empty() {
        return Err(Undrawable(skipped.join("; ")).into());
    }
    for why in skipped {
        crate::note!("figures: {why}; drawing the others only");
    }
    Ok(written)
}
