//! The refined heatmap: each place coloured by its nearest point, refined points marked, the
//! threshold's crossing dashed; of the final values, or at several steps of the same runs.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::colors::colormaps::ViridisRGB;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{Point, crossings, points, rectangles, scope_metric, snapshot_steps, threshold_of};
use crate::plot::custom::{is_rate, readable};
use crate::plot::figures::{describe, final_phrase};
use crate::plot::frame::{Entry, Frame, Key};
use crate::plot::style::{FONT, LineKind, caption as caption_area, chart_on, err};
use crate::plot::{Figure, Sheet};
use crate::results::RunData;

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
