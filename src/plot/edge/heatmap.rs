//! The refined heatmap: a surface interpolated over the points run (`surface.rs`), the points
//! marked, the threshold's crossing dashed on top; of the final values, or at several steps of
//! the same runs.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::colors::colormaps::ViridisRGB;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::surface::{Scale, Ticked, interpolate, tick, ticks, triangulate};
use super::{Point, crossings, points, scope_metric, snapshot_steps, threshold_of};
use crate::plot::custom::{is_rate, readable};
use crate::plot::figures::{describe, final_phrase};
use crate::plot::frame::{Entry, Frame, Key};
use crate::plot::style::{FONT, LineKind, caption as caption_area, chart_on, err};
use crate::plot::{Figure, Sheet};
use crate::results::RunData;

/// Colour bands of the surface: a filled contour every twentieth of the colour range.
const BANDS: usize = 20;

/// Cells of the raster the surface is drawn on, along each axis.
const RASTER: usize = 200;

/// The panel's two axis scales, from the points' values.
pub fn scales(points: &[Point]) -> (Scale, Scale) {
    (
        Scale::for_values(points.iter().map(|p| p.x)),
        Scale::for_values(points.iter().map(|p| p.y)),
    )
}

/// Where a panel's points lie once its axes are scaled: the points, their extent, the
/// padding past it and the pixels a unit takes.
struct Layout {
    scales: (Scale, Scale),
    at: Vec<(f64, f64)>,
    x: (f64, f64),
    y: (f64, f64),
    pad: (f64, f64),
    pixels: (f64, f64),
}

impl Layout {
    fn new(points: &[Point], (w, h): (u32, u32)) -> Layout {
        let scales = scales(points);
        let at: Vec<(f64, f64)> = points.iter().map(|p| (scales.0.to(p.x), scales.1.to(p.y))).collect();
        let extent = |f: fn(&(f64, f64)) -> f64| {
            at.iter()
                .map(f)
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| (l.min(v), h.max(v)))
        };
        let (x, y) = (extent(|p| p.0), extent(|p| p.1));
        // The axes reach a little past the outermost points, so their labels fit inside.
        let pad = (0.05 * Layout::width(x), 0.05 * Layout::width(y));
        let pixels = (
            f64::from(w.saturating_sub(84)) / (Layout::width(x) + 2.0 * pad.0),
            f64::from(h.saturating_sub(74)) / (Layout::width(y) + 2.0 * pad.1),
        );
        Layout {
            scales,
            at,
            x,
            y,
            pad,
            pixels,
        }
    }

    fn width((lo, hi): (f64, f64)) -> f64 {
        (hi - lo).max(1e-12)
    }

    /// A point's place in the unit square of the points' extent.
    fn unit(&self, (x, y): (f64, f64)) -> (f64, f64) {
        (
            (x - self.x.0) / Layout::width(self.x),
            (y - self.y.0) / Layout::width(self.y),
        )
    }
}

/// The chart of a panel, its axes drawn.
type Chart<'a, DB> = ChartContext<'a, DB, Cartesian2d<Ticked, Ticked>>;

/// Draws one heatmap panel of uneven points: the interpolated surface, the points run, their
/// values where a label fits, and the threshold's crossings on top.
fn draw_heatmap_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    keys: (&str, &str),
    points: &[Point],
    range: (f64, f64),
    threshold: Option<f64>,
) -> anyhow::Result<()> {
    let (area, caption) = caption_area(area, title, 17.0)?;
    let l = Layout::new(points, area.dim_in_pixel());
    let (sx, sy) = l.scales;
    let mut chart = chart_on(&area, &caption, 17.0)
        .margin(10)
        .x_label_area_size(44)
        .y_label_area_size(64)
        .build_cartesian_2d(
            Ticked {
                range: (l.x.0 - l.pad.0)..(l.x.1 + l.pad.0),
                ticks: ticks(points, |p| p.x, sx, l.pixels.0),
            },
            Ticked {
                range: (l.y.0 - l.pad.1)..(l.y.1 + l.pad.1),
                ticks: ticks(points, |p| p.y, sy, l.pixels.1),
            },
        )
        .map_err(err)?;
    let axis = |key: &str, scale: Scale| {
        if scale.sqrt {
            format!("{key} (square-root scale)")
        } else {
            key.to_string()
        }
    };
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc(axis(keys.0, sx))
        .y_desc(axis(keys.1, sy))
        .x_label_formatter(&|t| tick(sx.from(*t)))
        .y_label_formatter(&|t| tick(sy.from(*t)))
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 15))
        .draw()
        .map_err(err)?;
    draw_surface(&mut chart, &l, points, range)?;
    draw_points(&mut chart, &l, points, range)?;
    if let Some(t) = threshold {
        let means: Vec<(f64, f64, f64)> = points.iter().map(|p| (p.x, p.y, p.mean())).collect();
        let along_y = crossings(&means, t, true);
        let along_x: Vec<(f64, f64)> = crossings(&means, t, false).into_iter().map(|(y, x)| (x, y)).collect();
        for line in [along_y, along_x] {
            let line: Vec<(f64, f64)> = line.into_iter().map(|(x, y)| (sx.to(x), sy.to(y))).collect();
            dashed(&mut chart, &line)?;
        }
    }
    Ok(())
}

/// The surface, in bands: triangulated with each axis scaled to its range (so no axis's units
/// decide the shapes), interpolated on a raster, each row's runs of one band drawn as one
/// rectangle.
fn draw_surface<DB: DrawingBackend>(
    chart: &mut Chart<DB>,
    l: &Layout,
    points: &[Point],
    (lo, hi): (f64, f64),
) -> anyhow::Result<()> {
    let unit: Vec<(f64, f64)> = l.at.iter().map(|&p| l.unit(p)).collect();
    let triangles = triangulate(&unit);
    let means: Vec<f64> = points.iter().map(Point::mean).collect();
    let band =
        |v: f64| (((v - lo) / (hi - lo).max(1e-12) * BANDS as f64).floor() as isize).clamp(0, BANDS as isize - 1);
    let colour = |b: isize| ViridisRGB::get_color_normalized((b as f64 + 0.5) / BANDS as f64, 0.0, 1.0);
    let (dx, dy) = (Layout::width(l.x) / RASTER as f64, Layout::width(l.y) / RASTER as f64);
    for row in 0..RASTER {
        let y = (row as f64 + 0.5) / RASTER as f64;
        let cells: Vec<Option<isize>> = (0..RASTER)
            .map(|col| interpolate(&unit, &means, &triangles, ((col as f64 + 0.5) / RASTER as f64, y)).map(band))
            .collect();
        let mut start = 0;
        for col in 1..=RASTER {
            if col < RASTER && cells[col] == cells[start] {
                continue;
            }
            if let Some(b) = cells[start] {
                chart
                    .draw_series([Rectangle::new(
                        [
                            (l.x.0 + start as f64 * dx, l.y.0 + row as f64 * dy),
                            (l.x.0 + col as f64 * dx, l.y.0 + (row + 1) as f64 * dy),
                        ],
                        colour(b).filled(),
                    )])
                    .map_err(err)?;
            }
            start = col;
        }
    }
    Ok(())
}

/// The points run; the grid's labelled with their value where the label clears the others,
/// above the point (below it on the top row), kept on the surface so its ink reads there.
fn draw_points<DB: DrawingBackend>(
    chart: &mut Chart<DB>,
    l: &Layout,
    points: &[Point],
    (lo, hi): (f64, f64),
) -> anyhow::Result<()> {
    let (px, py) = l.pixels;
    let mut placed: Vec<(f64, f64)> = Vec::new();
    for (p, &(x, y)) in points.iter().zip(&l.at) {
        let mean = p.mean();
        if !p.refined && mean.is_finite() {
            let lx = x.clamp(l.x.0 + 24.0 / px, l.x.1 - 24.0 / px);
            let ly = if y + 24.0 / py > l.y.1 {
                y - 14.0 / py
            } else {
                y + 14.0 / py
            };
            let clear = placed
                .iter()
                .all(|&(qx, qy)| ((qx - lx) * px).abs() > 44.0 || ((qy - ly) * py).abs() > 18.0);
            if clear {
                placed.push((lx, ly));
                let dark = (mean - lo) / (hi - lo).max(1e-12) < 0.6;
                let ink = if dark { WHITE } else { BLACK };
                let style = (FONT, 15)
                    .into_font()
                    .color(&ink)
                    .pos(Pos::new(HPos::Center, VPos::Center));
                chart
                    .draw_series([Text::new(format!("{mean:.2}"), (lx, ly), style)])
                    .map_err(err)?;
            }
        }
        let mark = if p.refined {
            WHITE.filled()
        } else {
            BLACK.mix(0.6).filled()
        };
        chart
            .draw_series([Circle::new((x, y), if p.refined { 3 } else { 2 }, mark)])
            .map_err(err)?;
    }
    Ok(())
}

/// A dashed red polyline through `points` (in order), with a mark at each.
fn dashed<DB: DrawingBackend, X: Ranged<ValueType = f64>, Y: Ranged<ValueType = f64>>(
    chart: &mut ChartContext<DB, Cartesian2d<X, Y>>,
    points: &[(f64, f64)],
) -> anyhow::Result<()> {
    for w in points.windows(2) {
        let (a, b) = (w[0], w[1]);
        for k in (0..12).step_by(2) {
            let t0 = k as f64 / 12.0;
            let t1 = (k + 1) as f64 / 12.0;
            let at = |t: f64| (a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t);
            chart
                .draw_series([PathElement::new(vec![at(t0), at(t1)], RED.stroke_width(3))])
                .map_err(err)?;
        }
    }
    chart
        .draw_series(points.iter().map(|p| Cross::new(*p, 5, RED.stroke_width(2))))
        .map_err(err)?;
    Ok(())
}

/// The legend of the refined heatmaps.
fn legend(data: &RunData, metric: &str) -> Vec<Entry> {
    let mut entries = vec![Entry {
        label: "point added by refinement (white dot; grey dots: the grid)".into(),
        color: RGBColor(150, 150, 150),
        key: Key::Dot,
    }];
    if let Some(t) = threshold_of(data) {
        entries.push(Entry {
            label: format!(
                "where {} crosses {t}, interpolated linearly between neighbouring points",
                readable(metric)
            ),
            color: RED,
            key: Key::Line(LineKind::Dashed),
        });
    }
    entries
}

/// Units right of the panels for the colour bar.
const BAR: u32 = 190;

/// The colour range of a metric over points.
fn colour_range(metric: &str, points: &[Point]) -> (f64, f64) {
    if is_rate(metric) {
        return (0.0, 1.0);
    }
    let (a, b) = points
        .iter()
        .map(Point::mean)
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), x| (l.min(x), h.max(x)));
    if a.is_finite() && b > a { (a, b) } else { (0.0, 1.0) }
}

/// A refined sweep's heatmap: one panel per arm, or one per step (the edge over training time).
pub struct RefinedHeatmap<'a> {
    pub data: &'a RunData,
    pub metric: String,
    /// Empty: the final values, one panel per arm; else one panel per step, of the first arm.
    pub steps: Vec<usize>,
    pub file: String,
}

impl<'a> RefinedHeatmap<'a> {
    pub fn finals(data: &'a RunData, metric: &str) -> RefinedHeatmap<'a> {
        RefinedHeatmap {
            data,
            metric: metric.to_string(),
            steps: Vec::new(),
            file: format!("heatmap_{}", metric.replace(':', "_")),
        }
    }

    /// Small multiples at about a tenth, a quarter, half and all of training.
    pub fn over_steps(data: &'a RunData, metric: &str) -> RefinedHeatmap<'a> {
        RefinedHeatmap {
            data,
            metric: metric.to_string(),
            steps: snapshot_steps(data, metric),
            file: format!("edge_steps_{}", metric.replace(':', "_")),
        }
    }

    fn frame(&self) -> Frame {
        let data = self.data;
        let (scope, _) = scope_metric(&self.metric);
        let (x_key, y_key) = (&data.experiment.sweep[0].key, &data.experiment.sweep[1].key);
        let refined = data.experiment.refine.as_ref().map_or(0, |r| r.points.len());
        let (title, what) = if self.steps.is_empty() {
            (
                format!(
                    "{}: final {} over {x_key} × {y_key}, refined",
                    data.experiment.name,
                    readable(&self.metric)
                ),
                format!("mean over seeds of each seed's final value ({})", final_phrase(data)),
            )
        } else {
            (
                format!(
                    "{}: {} over {x_key} × {y_key} as training goes on",
                    data.experiment.name,
                    readable(&self.metric)
                ),
                format!(
                    "the same runs at several steps (no extra training): each seed's mean of its last {} evaluations up to the step, mean over seeds{}",
                    data.groups.first().map_or(1, |g| g.config.eval.final_window),
                    if data.experiment.arms.len() > 1 {
                        format!("; arm {}", data.experiment.arms[0])
                    } else {
                        String::new()
                    }
                ),
            )
        };
        let n = {
            let ns: Vec<usize> = points(
                data,
                &data.experiment.arms[0],
                &scope,
                &scope_metric(&self.metric).1,
                None,
            )
            .iter()
            .map(|p| p.seeds.len())
            .collect();
            match ns.first() {
                Some(k) if ns.iter().all(|m| m == k) => format!("N = {k} seeds at every point"),
                _ => "N per cell where it fits".into(),
            }
        };
        Frame {
            title,
            subtitle: format!(
                "{}. Scope {scope}. {} grid points and {refined} added by refinement (dots); the colour between them is interpolated linearly over a Delaunay triangulation of the points, in {BANDS} bands. Values: {what}; {n}.",
                describe(data),
                data.groups.len().saturating_sub(refined) / data.experiment.arms.len().max(1),
            ),
            legend: legend(data, &self.metric),
            panels: if self.steps.is_empty() {
                data.experiment.arms.len()
            } else {
                self.steps.len()
            },
            columns: 2,
            aside: BAR,
            stretch: 1.3,
        }
    }
}

impl Figure for RefinedHeatmap<'_> {
    fn name(&self) -> &str {
        &self.file
    }

    fn size(&self, sheet: &Sheet) -> (u32, u32) {
        let frame = self.frame();
        let rows = frame.panels.div_ceil(2) as u32;
        let width = if frame.panels == 1 { 1100 } else { 1800 };
        frame.size(sheet, (width, 92 + 56 + 20 + 640 * rows))
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, sheet: &Sheet) -> anyhow::Result<()> {
        let data = self.data;
        let (scope, metric) = scope_metric(&self.metric);
        let keys = (
            data.experiment.sweep[0].key.as_str(),
            data.experiment.sweep[1].key.as_str(),
        );
        let panels: Vec<(String, Vec<Point>)> = if self.steps.is_empty() {
            data.experiment
                .arms
                .iter()
                .map(|a| {
                    let title = if data.experiment.arms.len() == 1 {
                        readable(&self.metric)
                    } else {
                        a.clone()
                    };
                    (title, points(data, a, &scope, &metric, None))
                })
                .collect()
        } else {
            let arm = &data.experiment.arms[0];
            self.steps
                .iter()
                .map(|&s| (format!("step {s}"), points(data, arm, &scope, &metric, Some(s))))
                .collect()
        };
        let all: Vec<Point> = panels.iter().flat_map(|(_, p)| p.clone()).collect();
        let range = colour_range(&metric, &all);
        let frame = self.frame();
        let grid = frame.draw(root)?;
        let (panels_area, bar_area) = grid.split_horizontally(grid.dim_in_pixel().0 - BAR);
        let areas = panels_area.margin(4, 12, 12, 12).split_evenly(frame.grid(sheet));
        for ((title, points), area) in panels.iter().zip(&areas) {
            if points.is_empty() {
                continue;
            }
            draw_heatmap_panel(area, title, keys, points, range, threshold_of(data))?;
        }
        crate::plot::sweep::draw_colour_bar(&bar_area, range.0, range.1, &readable(&self.metric))
    }
}
