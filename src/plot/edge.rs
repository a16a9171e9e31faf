//! Figures of a refined two-axis sweep: where its outcome flips. Points are no longer a product
//! grid, so each place shows its nearest point (distances in shares of each axis's range: the
//! cell of a point reaches halfway to its neighbours), refined points are marked, and the
//! threshold's crossing is interpolated linearly between neighbouring points and drawn dashed.
//! The same at several steps of the same runs (no extra training) shows whether the edge moves
//! as pressure goes on; the crossing's position against step says by how much.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::colors::colormaps::ViridisRGB;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::custom::{is_rate, readable};
use super::data::{RunData, final_value};
use super::figures::{describe, final_phrase};
use super::frame::{Entry, Frame, Key};
use super::style::{FONT, LineKind, arm_color, caption as caption_area, chart_on, err};
use super::{Figure, Sheet};
use crate::metric::{MetricRef, Scope};
use crate::stats::summarize;

/// One measured point of one arm: where, each seed's value (by seed id), and whether a round of
/// refinement added it.
#[derive(Debug, Clone)]
pub struct Point {
    pub x: f64,
    pub y: f64,
    pub seeds: Vec<(u64, f64)>,
    pub refined: bool,
}

impl Point {
    pub fn mean(&self) -> f64 {
        summarize(&self.seeds.iter().map(|s| s.1).collect::<Vec<_>>()).mean
    }
}

/// The points of arm `arm` for `scope:metric` at `step` (`None`: the final value).
pub fn points(data: &RunData, arm: &str, scope: &str, metric: &str, step: Option<usize>) -> Vec<Point> {
    let refined: &[Vec<String>] = data.experiment.refine.as_ref().map_or(&[], |r| &r.points);
    let mut out = Vec::new();
    for (i, g) in data.groups.iter().enumerate().filter(|(_, g)| g.arm == arm) {
        let (Some(x), Some(y)) = (
            g.sweep.first().and_then(|v| v.parse::<f64>().ok()),
            g.sweep.get(1).and_then(|v| v.parse::<f64>().ok()),
        ) else {
            continue;
        };
        let window = g.config.eval.final_window;
        let seeds = data
            .series(&data.labels[i], scope, metric)
            .map(|s| {
                s.seed_ids
                    .iter()
                    .zip(&s.seeds)
                    .map(|(id, trace)| {
                        (
                            *id,
                            final_value(&s.steps, trace, window, step.unwrap_or(usize::MAX), true),
                        )
                    })
                    .filter(|(_, v)| v.is_finite())
                    .collect()
            })
            .unwrap_or_default();
        out.push(Point {
            x,
            y,
            seeds,
            refined: refined.contains(&g.sweep),
        });
    }
    out
}

/// Halfway from `at` to its nearest neighbours in `line` (else in `all`), on each side; a side
/// without one mirrors the other.
fn extent(at: f64, line: &[f64], all: &[f64]) -> (f64, f64) {
    let below = |set: &[f64]| set.iter().copied().filter(|v| *v < at).fold(f64::NAN, f64::max);
    let above = |set: &[f64]| set.iter().copied().filter(|v| *v > at).fold(f64::NAN, f64::min);
    let lo = Some(below(line)).filter(|v| !v.is_nan()).unwrap_or(below(all));
    let hi = Some(above(line)).filter(|v| !v.is_nan()).unwrap_or(above(all));
    match (lo.is_nan(), hi.is_nan()) {
        (false, false) => ((lo + at) / 2.0, (at + hi) / 2.0),
        (true, false) => (at - (hi - at) / 2.0, (at + hi) / 2.0),
        (false, true) => ((lo + at) / 2.0, at + (at - lo) / 2.0),
        (true, true) => (at - 0.5, at + 0.5),
    }
}

/// The rectangle of each point: `[x0, x1] × [y0, y1]`.
pub fn rectangles(points: &[Point]) -> Vec<[f64; 4]> {
    let xs: Vec<f64> = points.iter().map(|p| p.x).collect();
    let ys: Vec<f64> = points.iter().map(|p| p.y).collect();
    points
        .iter()
        .map(|p| {
            let row: Vec<f64> = points.iter().filter(|q| q.y == p.y).map(|q| q.x).collect();
            let column: Vec<f64> = points.iter().filter(|q| q.x == p.x).map(|q| q.y).collect();
            let (x0, x1) = extent(p.x, &row, &xs);
            let (y0, y1) = extent(p.y, &column, &ys);
            [x0, x1, y0, y1]
        })
        .collect()
}

/// Where values cross `threshold` between neighbouring points, by linear interpolation: along
/// y in each column (`along_y`, one crossing per column: the lowest), along x in each row.
/// Each crossing is (the line's coordinate, the interpolated position).
pub fn crossings(points: &[(f64, f64, f64)], threshold: f64, along_y: bool) -> Vec<(f64, f64)> {
    let line = |p: &(f64, f64, f64)| if along_y { p.0 } else { p.1 };
    let pos = |p: &(f64, f64, f64)| if along_y { p.1 } else { p.0 };
    let mut lines: Vec<f64> = points.iter().map(line).collect();
    lines.sort_by(f64::total_cmp);
    lines.dedup();
    let mut out = Vec::new();
    for l in lines {
        let mut on: Vec<(f64, f64)> = points
            .iter()
            .filter(|p| line(p) == l && p.2.is_finite())
            .map(|p| (pos(p), p.2))
            .collect();
        on.sort_by(|a, b| a.0.total_cmp(&b.0));
        if let Some(w) = on.windows(2).find(|w| (w[0].1 >= threshold) != (w[1].1 >= threshold)) {
            let ((a, va), (b, vb)) = (w[0], w[1]);
            out.push((l, a + (threshold - va) / (vb - va) * (b - a)));
        }
    }
    out
}

/// The metric of a refined heatmap, its threshold, and its scope and name.
fn threshold_of(data: &RunData) -> Option<f64> {
    data.experiment.refine.as_ref().and_then(|r| r.threshold)
}

fn scope_metric(metric: &str) -> (String, String) {
    MetricRef::parse(metric, Some(Scope::Trained.name()))
        .map(|r| (r.scope, r.metric))
        .unwrap_or_else(|_| (Scope::Trained.name().to_string(), metric.to_string()))
}

/// Draws one heatmap panel of uneven points with the threshold's crossings.
#[allow(clippy::too_many_arguments)]
fn draw_heatmap_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    keys: (&str, &str),
    points: &[Point],
    range: (f64, f64),
    threshold: Option<f64>,
) -> anyhow::Result<()> {
    let rects = rectangles(points);
    let (x0, x1) = rects.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), r| {
        (l.min(r[0]), h.max(r[1]))
    });
    let (y0, y1) = rects.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), r| {
        (l.min(r[2]), h.max(r[3]))
    });
    let (area, caption) = caption_area(area, title, 17.0)?;
    let py = area.dim_in_pixel().1 as f64 / (y1 - y0);
    let mut chart = chart_on(&area, &caption, 17.0)
        .margin(10)
        .x_label_area_size(44)
        .y_label_area_size(64)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc(keys.0)
        .y_desc(keys.1)
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 15))
        .draw()
        .map_err(err)?;
    // Every place shows the nearest point run (distances in shares of each axis's range):
    // cells sized by the points, with no gaps. Rows of equal neighbours are drawn as one
    // rectangle.
    let (lo, hi) = range;
    let owner = |x: f64, y: f64| -> usize {
        let d = |p: &Point| ((p.x - x) / (x1 - x0)).powi(2) + ((p.y - y) / (y1 - y0)).powi(2);
        (0..points.len())
            .min_by(|&i, &j| d(&points[i]).total_cmp(&d(&points[j])))
            .expect("points")
    };
    const RASTER: usize = 240;
    let (dx, dy) = ((x1 - x0) / RASTER as f64, (y1 - y0) / RASTER as f64);
    let mut count = vec![0usize; points.len()];
    // The rows of the raster each point owns a place in: its cell's mean width is count / rows.
    let (mut rows, mut last_row) = (vec![0usize; points.len()], vec![usize::MAX; points.len()]);
    let mut centre = vec![(0.0, 0.0); points.len()];
    let colour = |i: usize| {
        let mean = points[i].mean();
        if mean.is_finite() {
            ViridisRGB::get_color_normalized(mean, lo, hi)
        } else {
            RGBColor(220, 220, 220)
        }
    };
    for row in 0..RASTER {
        let y = y0 + (row as f64 + 0.5) * dy;
        let mut start = 0;
        let mut current = owner(x0 + 0.5 * dx, y);
        for col in 0..=RASTER {
            let next = (col < RASTER).then(|| owner(x0 + (col as f64 + 0.5) * dx, y));
            if let Some(i) = next {
                count[i] += 1;
                if last_row[i] != row {
                    (rows[i], last_row[i]) = (rows[i] + 1, row);
                }
                centre[i].0 += x0 + (col as f64 + 0.5) * dx;
                centre[i].1 += y;
            }
            if next != Some(current) {
                let (xa, xb) = (x0 + start as f64 * dx, x0 + col as f64 * dx);
                chart
                    .draw_series([Rectangle::new(
                        [(xa, y0 + row as f64 * dy), (xb, y0 + (row + 1) as f64 * dy)],
                        colour(current).filled(),
                    )])
                    .map_err(err)?;
                start = col;
                if let Some(i) = next {
                    current = i;
                }
            }
        }
    }
    // Labels where a cell has room for them (its area, and its mean width for a label of four
    // characters), at its centre.
    let (w, h) = area.dim_in_pixel();
    let pixel = (w as f64 / RASTER as f64) * (h as f64 / RASTER as f64);
    let width = |i: usize| count[i] as f64 / rows[i].max(1) as f64 * w as f64 / RASTER as f64;
    for (i, p) in points.iter().enumerate() {
        let mean = p.mean();
        let dark = !mean.is_finite() || (mean - lo) / (hi - lo).max(1e-12) < 0.6;
        let ink = if dark { WHITE } else { BLACK };
        if count[i] as f64 * pixel >= 4200.0 && width(i) >= 44.0 {
            let (cx, cy) = (centre[i].0 / count[i] as f64, centre[i].1 / count[i] as f64);
            let text = if mean.is_finite() {
                format!("{mean:.2}")
            } else {
                "—".into()
            };
            let style = |size: i32| {
                (FONT, size)
                    .into_font()
                    .color(&ink)
                    .pos(Pos::new(HPos::Center, VPos::Center))
            };
            chart
                .draw_series([
                    Text::new(text, (cx, cy + 9.0 / py), style(16)),
                    Text::new(format!("N={}", p.seeds.len()), (cx, cy - 9.0 / py), style(12)),
                ])
                .map_err(err)?;
        }
        let mark = if p.refined {
            WHITE.filled()
        } else {
            BLACK.mix(0.6).filled()
        };
        chart
            .draw_series([Circle::new((p.x, p.y), if p.refined { 3 } else { 2 }, mark)])
            .map_err(err)?;
    }
    if let Some(t) = threshold {
        let means: Vec<(f64, f64, f64)> = points.iter().map(|p| (p.x, p.y, p.mean())).collect();
        let along_y = crossings(&means, t, true);
        let along_x: Vec<(f64, f64)> = crossings(&means, t, false).into_iter().map(|(y, x)| (x, y)).collect();
        for line in [along_y, along_x] {
            dashed(&mut chart, &line)?;
        }
    }
    Ok(())
}

/// A dashed black polyline through `points` (in order), with a mark at each.
fn dashed<DB: DrawingBackend>(
    chart: &mut ChartContext<
        DB,
        Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
    >,
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
                "{}. Scope {scope}. {} grid points and {refined} added by refinement; each place shows the nearest point run (distance in shares of each axis's range). Cells: {what}; {n}.",
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

/// The steps after 0 at which `metric` (`scope:metric`) was recorded.
fn trained_steps(data: &RunData, metric: &str) -> Vec<usize> {
    let (scope, metric) = scope_metric(metric);
    data.labels
        .first()
        .and_then(|l| data.series(l, &scope, &metric))
        .map(|s| s.steps.iter().copied().filter(|&s| s > 0).collect())
        .unwrap_or_default()
}

/// About a tenth, a quarter, half and all of the recorded steps, each snapped to a recorded step.
pub fn snapshot_steps(data: &RunData, metric: &str) -> Vec<usize> {
    let steps = trained_steps(data, metric);
    let Some(&last) = steps.last() else { return Vec::new() };
    let mut out: Vec<usize> = Vec::new();
    for share in [0.1, 0.25, 0.5, 1.0] {
        let target = last as f64 * share;
        let nearest = *steps
            .iter()
            .min_by(|a, b| (**a as f64 - target).abs().total_cmp(&(**b as f64 - target).abs()))
            .expect("steps");
        if !out.contains(&nearest) {
            out.push(nearest);
        }
    }
    out
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
        super::sweep::draw_colour_bar(&bar_area, range.0, range.1, &readable(&self.metric))
    }
}

/// Where the threshold's crossing lies against step: per column (the crossing along the second
/// axis) and per row (along the first), mean over seeds with its 95% t-interval, each seed's
/// crossing interpolated between neighbouring points of its own values.
pub struct EdgePosition<'a> {
    pub data: &'a RunData,
    pub metric: String,
    pub file: String,
}

/// Lines one panel of the edge's position can tell apart.
const MAX_EDGE_LINES: usize = 8;

impl<'a> EdgePosition<'a> {
    pub fn new(data: &'a RunData, metric: &str) -> EdgePosition<'a> {
        EdgePosition {
            data,
            metric: metric.to_string(),
            file: format!("edge_position_{}", metric.replace(':', "_")),
        }
    }

    /// For each line (column or row) with a crossing at some step: (line, per step: summary of
    /// the seeds' crossings).
    pub fn lines(&self, along_y: bool) -> Vec<(f64, Vec<(usize, crate::stats::Summary)>)> {
        let data = self.data;
        let (scope, metric) = scope_metric(&self.metric);
        let Some(t) = threshold_of(data) else { return Vec::new() };
        let arm = &data.experiment.arms[0];
        let steps = trained_steps(data, &self.metric);
        let mut out: Vec<(f64, Vec<(usize, crate::stats::Summary)>)> = Vec::new();
        for &step in &steps {
            let pts = points(data, arm, &scope, &metric, Some(step));
            let mut seeds: Vec<u64> = pts.iter().flat_map(|p| p.seeds.iter().map(|s| s.0)).collect();
            seeds.sort_unstable();
            seeds.dedup();
            let mut by_line: Vec<(f64, Vec<f64>)> = Vec::new();
            for seed in seeds {
                let values: Vec<(f64, f64, f64)> = pts
                    .iter()
                    .filter_map(|p| p.seeds.iter().find(|s| s.0 == seed).map(|s| (p.x, p.y, s.1)))
                    .collect();
                for (line, at) in crossings(&values, t, along_y) {
                    match by_line.iter_mut().find(|(l, _)| *l == line) {
                        Some((_, v)) => v.push(at),
                        None => by_line.push((line, vec![at])),
                    }
                }
            }
            for (line, values) in by_line {
                let s = summarize(&values);
                match out.iter_mut().find(|(l, _)| *l == line) {
                    Some((_, v)) => v.push((step, s)),
                    None => out.push((line, vec![(step, s)])),
                }
            }
        }
        // The lines with most steps, at most as many as can be told apart.
        out.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.total_cmp(&b.0)));
        out.truncate(MAX_EDGE_LINES);
        out.sort_by(|a, b| a.0.total_cmp(&b.0));
        out
    }

    fn frame(&self) -> Frame {
        let data = self.data;
        let t = threshold_of(data).unwrap_or(f64::NAN);
        Frame {
            title: format!(
                "{}: where {} crosses {t}, against training step",
                data.experiment.name,
                readable(&self.metric)
            ),
            subtitle: format!(
                "{}. Each seed's crossing is interpolated linearly between neighbouring points of its own values (each seed's mean of its last {} evaluations up to the step); line: mean over the seeds that cross, band: its 95% t-interval{}. A line per column (left) or row (right) of points that crosses at some step.",
                describe(data),
                data.groups.first().map_or(1, |g| g.config.eval.final_window),
                if data.experiment.arms.len() > 1 {
                    format!("; arm {}", data.experiment.arms[0])
                } else {
                    String::new()
                }
            ),
            legend: Vec::new(),
            panels: 2,
            columns: 2,
            aside: 0,
            stretch: 1.0,
        }
    }
}

impl Figure for EdgePosition<'_> {
    fn name(&self) -> &str {
        &self.file
    }

    fn size(&self, sheet: &Sheet) -> (u32, u32) {
        self.frame().size(sheet, (1600, 92 + 20 + 620))
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, sheet: &Sheet) -> anyhow::Result<()> {
        let data = self.data;
        let (x_key, y_key) = (&data.experiment.sweep[0].key, &data.experiment.sweep[1].key);
        let areas = self.frame().panels(root, sheet)?;
        let last = data.last_step().max(1) as f64;
        for (along_y, area) in [true, false].into_iter().zip(&areas) {
            let (line_key, pos_key) = if along_y { (x_key, y_key) } else { (y_key, x_key) };
            let lines = self.lines(along_y);
            let values = lines
                .iter()
                .flat_map(|(_, v)| v.iter().flat_map(|(_, s)| [s.low, s.high, s.mean]));
            let (lo, hi) = values
                .filter(|v| v.is_finite())
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), x| (l.min(x), h.max(x)));
            let (lo, hi) = if lo.is_finite() {
                (lo, hi.max(lo + 1e-3))
            } else {
                (0.0, 1.0)
            };
            let pad = (hi - lo) * 0.1;
            let title = format!("{pos_key} at the crossing, per {line_key}");
            let (area, caption) = caption_area(area, &title, 17.0)?;
            let mut chart = chart_on(&area, &caption, 17.0)
                .margin(10)
                .x_label_area_size(44)
                .y_label_area_size(70)
                .build_cartesian_2d(0f64..last, (lo - pad)..(hi + pad))
                .map_err(err)?;
            chart
                .configure_mesh()
                .x_desc("step")
                .y_desc(pos_key.as_str())
                .label_style((FONT, 14))
                .axis_desc_style((FONT, 15))
                .draw()
                .map_err(err)?;
            if lines.is_empty() {
                chart
                    .draw_series([Text::new(
                        "no crossing at any step".to_string(),
                        (last / 2.0, (lo + hi) / 2.0),
                        (FONT, 16)
                            .into_font()
                            .color(&BLACK)
                            .pos(Pos::new(HPos::Center, VPos::Center)),
                    )])
                    .map_err(err)?;
            }
            for (k, (line, values)) in lines.iter().enumerate() {
                let color = arm_color(k);
                let band: Vec<(f64, f64)> = values
                    .iter()
                    .filter(|(_, s)| s.low.is_finite())
                    .map(|(st, s)| (*st as f64, s.high))
                    .chain(
                        values
                            .iter()
                            .rev()
                            .filter(|(_, s)| s.low.is_finite())
                            .map(|(st, s)| (*st as f64, s.low)),
                    )
                    .collect();
                chart
                    .draw_series([Polygon::new(band, color.mix(0.18).filled())])
                    .map_err(err)?;
                let n = values.last().map_or(0, |(_, s)| s.n);
                chart
                    .draw_series(LineSeries::new(
                        values.iter().map(|(st, s)| (*st as f64, s.mean)),
                        color.stroke_width(3),
                    ))
                    .map_err(err)?
                    .label(format!("{line_key} = {line} (N = {n} at the end)"))
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 22, y)], color.stroke_width(3)));
            }
            if !lines.is_empty() {
                chart
                    .configure_series_labels()
                    .label_font((FONT, 13))
                    .background_style(WHITE.mix(0.85))
                    .border_style(BLACK.mix(0.3))
                    .position(SeriesLabelPosition::UpperRight)
                    .draw()
                    .map_err(err)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_reach_halfway_to_their_neighbours() {
        let at = |x: f64, y: f64, refined: bool| Point {
            x,
            y,
            seeds: vec![(0, 0.0)],
            refined,
        };
        let points = vec![
            at(0.0, 0.0, false),
            at(1.0, 0.0, false),
            at(0.0, 1.0, false),
            at(1.0, 1.0, false),
            at(0.5, 1.0, true),
        ];
        let r = rectangles(&points);
        assert_eq!(r[0], [-0.5, 0.5, -0.5, 0.5]);
        assert_eq!(r[2], [-0.25, 0.25, 0.5, 1.5]);
        assert_eq!(r[4], [0.25, 0.75, 0.5, 1.5]);
    }

    #[test]
    fn the_crossing_is_interpolated_between_neighbours() {
        let values = [(0.0, 0.0, 0.0), (0.0, 1.0, 1.0), (1.0, 0.0, 0.0), (1.0, 1.0, 0.2)];
        assert_eq!(crossings(&values, 0.5, true), vec![(0.0, 0.5)]);
        assert_eq!(crossings(&values, 0.5, false), vec![(1.0, 0.625)]);
    }
}
