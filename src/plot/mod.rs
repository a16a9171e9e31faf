//! Figures, drawn from a run folder's stored data (never from memory of a training run), so
//! `pressure plot` redraws exactly what `pressure run` drew. Every figure is written as PNG and
//! SVG, with text from an embedded font.

mod custom;
mod diagnostics;
mod edge;
mod figures;
mod finals;
mod frame;
mod kind;
pub mod kinds;
pub mod overoptimization;
mod pdf;
pub mod robustness;
pub mod sheet;
pub mod spec;
mod strip;
mod style;
mod subtitle;
mod sweep;
#[cfg(test)]
mod toy;

pub use crate::stats::{Summary, summarize};
pub use figures::STACK as OUTCOME_STACK;
pub use sheet::{FigureSize, Scaled, Sheet};
pub use spec::{Declared, FigureSpec};
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

/// A figure behind a pointer: [`Figure`] for the backends this layer writes to (PNG and SVG,
/// at the screen's size or scaled to another sheet), so figures of different types, and each
/// figure kind's own, travel in one list. Every [`Figure`] is one.
pub trait AnyFigure {
    fn name(&self) -> &str;
    fn size(&self, sheet: &Sheet) -> (u32, u32);
    fn on_png(&self, root: &DrawingArea<BitMapBackend<'_>, Shift>, sheet: &Sheet) -> anyhow::Result<()>;
    fn on_svg(&self, root: &DrawingArea<SVGBackend<'_>, Shift>, sheet: &Sheet) -> anyhow::Result<()>;
    fn on_scaled_png(&self, root: &DrawingArea<Scaled<BitMapBackend<'_>>, Shift>, sheet: &Sheet) -> anyhow::Result<()>;
    fn on_scaled_svg(&self, root: &DrawingArea<Scaled<SVGBackend<'_>>, Shift>, sheet: &Sheet) -> anyhow::Result<()>;
}

impl<F: Figure> AnyFigure for F {
    fn name(&self) -> &str {
        Figure::name(self)
    }
    fn size(&self, sheet: &Sheet) -> (u32, u32) {
        Figure::size(self, sheet)
    }
    fn on_png(&self, root: &DrawingArea<BitMapBackend<'_>, Shift>, sheet: &Sheet) -> anyhow::Result<()> {
        self.draw(root, sheet)
    }
    fn on_svg(&self, root: &DrawingArea<SVGBackend<'_>, Shift>, sheet: &Sheet) -> anyhow::Result<()> {
        self.draw(root, sheet)
    }
    fn on_scaled_png(&self, root: &DrawingArea<Scaled<BitMapBackend<'_>>, Shift>, sheet: &Sheet) -> anyhow::Result<()> {
        self.draw(root, sheet)
    }
    fn on_scaled_svg(&self, root: &DrawingArea<Scaled<SVGBackend<'_>>, Shift>, sheet: &Sheet) -> anyhow::Result<()> {
        self.draw(root, sheet)
    }
}

/// Any figure this layer draws.
pub type Drawn<'a> = Box<dyn AnyFigure + 'a>;

/// A backend [`AnyFigure`] can draw on.
trait Target: DrawingBackend + Sized {
    fn draw(figure: &dyn AnyFigure, root: &DrawingArea<Self, Shift>, sheet: &Sheet) -> anyhow::Result<()>;
}

impl Target for BitMapBackend<'_> {
    fn draw(figure: &dyn AnyFigure, root: &DrawingArea<Self, Shift>, sheet: &Sheet) -> anyhow::Result<()> {
        figure.on_png(root, sheet)
    }
}

impl Target for SVGBackend<'_> {
    fn draw(figure: &dyn AnyFigure, root: &DrawingArea<Self, Shift>, sheet: &Sheet) -> anyhow::Result<()> {
        figure.on_svg(root, sheet)
    }
}

impl Target for Scaled<BitMapBackend<'_>> {
    fn draw(figure: &dyn AnyFigure, root: &DrawingArea<Self, Shift>, sheet: &Sheet) -> anyhow::Result<()> {
        figure.on_scaled_png(root, sheet)
    }
}

impl Target for Scaled<SVGBackend<'_>> {
    fn draw(figure: &dyn AnyFigure, root: &DrawingArea<Self, Shift>, sheet: &Sheet) -> anyhow::Result<()> {
        figure.on_scaled_svg(root, sheet)
    }
}

/// Draws a figure on a backend of its size in pixels: directly on the screen, through
/// [`Scaled`] on other sheets.
fn draw_on<DB: Target>(figure: &dyn AnyFigure, sheet: &Sheet, backend: DB) -> anyhow::Result<()>
where
    Scaled<DB>: Target,
{
    fn finish<B: Target>(figure: &dyn AnyFigure, sheet: &Sheet, root: DrawingArea<B, Shift>) -> anyhow::Result<()> {
        root.fill(&WHITE).map_err(style::err)?;
        B::draw(figure, &root, sheet)?;
        root.present()
            .map_err(|e| anyhow::anyhow!("cannot write the figure: {e}"))
    }
    if sheet.scale() == 1.0 {
        finish(figure, sheet, backend.into_drawing_area())
    } else {
        let scaled = Scaled {
            inner: backend,
            scale: sheet.scale(),
            size: figure.size(sheet),
        };
        finish(figure, sheet, scaled.into_drawing_area())
    }
}

/// A figure as SVG text.
pub fn svg(figure: &dyn AnyFigure, sheet: &Sheet) -> anyhow::Result<String> {
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
pub fn render(figure: &dyn AnyFigure, dir: &Path, sheet: &Sheet) -> anyhow::Result<Vec<PathBuf>> {
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
    let mut drawn: Vec<Drawn<'a>> = Vec::new();
    let mut skipped = Vec::new();
    if data.labels.len() > MAX_LINES {
        skipped.push(format!(
            "{} arms × sweep points are too many lines (at most {MAX_LINES}) for the figures against step",
            data.labels.len()
        ));
    } else {
        drawn.push(Box::new(figures::Headline { data }));
        drawn.push(Box::new(figures::Outcomes { data }));
        drawn.push(Box::new(diagnostics::Diagnostics { data }));
    }
    if data.labels.len() > strip::MAX_GROUPS {
        skipped.push(format!(
            "{} arms × sweep points are too many rows (at most {}) for the final values of every seed",
            data.labels.len(),
            strip::MAX_GROUPS
        ));
    } else {
        drawn.push(Box::new(strip::Finals { data }));
    }
    // The experiment's own figures, each by its kind (`kinds.rs`).
    for spec in &declared.figures {
        if kinds::lines(&spec.kind) && data.labels.len() > MAX_LINES {
            continue; // said once above
        }
        match kinds::figures(&spec.kind, data, spec) {
            Ok(figures) => drawn.extend(figures),
            Err(why) => skipped.push(why),
        }
    }
    match data.experiment.sweep.len() {
        0 => {}
        1 => drawn.push(Box::new(sweep::SweepLines { data })),
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
                        drawn.push(Box::new(edge::RefinedHeatmap::finals(data, m)));
                    }
                    drawn.push(Box::new(edge::RefinedHeatmap::over_steps(data, &refine.metric)));
                    if refine.threshold.is_some() {
                        drawn.push(Box::new(edge::EdgePosition::new(data, &refine.metric)));
                    }
                }
                _ => {
                    for m in metrics {
                        drawn.push(Box::new(sweep::Heatmap::new(data, m)));
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
        written.extend(render(figure.as_ref(), dir, sheet)?);
    }
    if written.is_empty() {
        return Err(Undrawable(skipped.join("; ")).into());
    }
    for why in skipped {
        crate::note!("figures: {why}; drawing the others only");
    }
    Ok(written)
}
