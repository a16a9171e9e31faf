//! Figures of a sweep. One swept setting: the final value of each headline metric against the
//! swept value, one line per arm. Two: a heatmap of a chosen final metric per arm, each cell
//! annotated with its mean and N, with a labelled colour bar. "Final" is each seed's mean over
//! its last `eval.final_window` evaluations.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::colors::colormaps::ViridisRGB;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::custom::{final_legend, is_rate, readable};
use super::figures::{describe, final_phrase, seeds_phrase};
use super::finals::{FinalLine, FinalPanel, draw_final_panel, log_axis};
use super::frame::{Entry, Frame, Key};
use super::style::{FONT, LineKind, arm_color, caption as caption_area, chart_on, err};
use super::{Figure, Sheet};
use crate::metric::{HEADLINE, MetricRef, Scope, bounds};
use crate::results::RunData;
use crate::stats::summarize;

/// The values of one axis in sweep order, as labels, and as numbers if they all are.
struct AxisValues {
    labels: Vec<String>,
    numbers: Option<Vec<f64>>,
}

fn axis_values(data: &RunData, axis: usize) -> AxisValues {
    let labels: Vec<String> = data.experiment.sweep[axis].labels.clone();
    let numbers = labels.iter().map(|l| l.parse::<f64>().ok()).collect();
    AxisValues { labels, numbers }
}

/// Every seed's final value of a metric for a group, in the trained scope.
fn finals(data: &RunData, group: usize, scope: &str, metric: &str) -> Vec<f64> {
    let label = &data.labels[group];
    let window = data.groups[group].config.eval.final_window;
    data.series(label, scope, metric)
        .map(|s| s.finals(window))
        .unwrap_or_default()
}

/// Final headline metrics against a single swept setting, one line per arm.
pub struct SweepLines<'a> {
    pub data: &'a RunData,
}

impl SweepLines<'_> {
    fn frame(&self) -> Frame {
        let data = self.data;
        let key = &data.experiment.sweep[0].key;
        let arm_names: Vec<&str> = data.experiment.arms.iter().map(String::as_str).collect();
        let legend = if arm_names.len() == 1 {
            final_legend()
        } else {
            arm_names
                .iter()
                .enumerate()
                .map(|(i, a)| Entry {
                    label: a.to_string(),
                    color: arm_color(i),
                    key: Key::Line(LineKind::Solid),
                })
                .collect()
        };
        Frame {
            title: format!("{}: final behaviour against {key}", data.experiment.name),
            subtitle: format!(
                "{}. Trained domains, observed. Dots: each seed's final value ({}); \
                 line: mean over seeds ({}) with its 95% t-interval.",
                describe(data),
                final_phrase(data),
                seeds_phrase(data)
            ),
            legend,
            panels: HEADLINE.len(),
            columns: 2,
            aside: 0,
            stretch: 1.0,
        }
    }
}

impl Figure for SweepLines<'_> {
    fn name(&self) -> &str {
        "sweep"
    }

    fn size(&self, sheet: &Sheet) -> (u32, u32) {
        self.frame().size(sheet, (1400, 92 + 60 + 920))
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, sheet: &Sheet) -> anyhow::Result<()> {
        let data = self.data;
        let key = &data.experiment.sweep[0].key;
        let values = axis_values(data, 0);
        let arm_names: Vec<&str> = data.experiment.arms.iter().map(String::as_str).collect();
        let areas = self.frame().panels(root, sheet)?;
        for (metric, area) in HEADLINE.iter().zip(&areas) {
            let lines: Vec<FinalLine> = arm_names
                .iter()
                .enumerate()
                .map(|(a, arm)| FinalLine {
                    color: arm_color(a),
                    points: data
                        .groups
                        .iter()
                        .enumerate()
                        .filter(|(_, g)| g.arm == *arm)
                        .map(|(i, g)| {
                            // A refined point's value is not among the axis's own: numbers are placed by value.
                            let k = values.labels.iter().position(|l| *l == g.sweep[0]).unwrap_or(0);
                            let x = values
                                .numbers
                                .as_ref()
                                .map_or(k as f64, |_| g.sweep[0].parse().unwrap_or(f64::NAN));
                            (x, finals(data, i, Scope::Trained.name(), metric))
                        })
                        .collect(),
                })
                .collect();
            let title = format!("final {}", metric.replace('_', " "));
            let panel = FinalPanel {
                title: &title,
                x_desc: key,
                y_desc: "share of contradictory tasks",
                categories: values.numbers.is_none().then_some(values.labels.as_slice()),
                y_range: Some(-0.02..1.02),
                bounds: bounds(metric),
                x_log: values
                    .numbers
                    .as_ref()
                    .is_some_and(|n| log_axis(None, n.iter().copied())),
            };
            draw_final_panel(area, &panel, &lines)?;
        }
        Ok(())
    }
}

/// A heatmap of one final metric over two swept settings, one panel per arm.
pub struct Heatmap<'a> {
    pub data: &'a RunData,
    /// `scope:metric` or a metric of the trained scope.
    pub metric: String,
    /// File stem: `heatmap_<metric>`.
    pub file: String,
}

impl<'a> Heatmap<'a> {
    pub fn new(data: &'a RunData, metric: &str) -> Heatmap<'a> {
        Heatmap {
            data,
            metric: metric.to_string(),
            file: format!("heatmap_{}", metric.replace(':', "_")),
        }
    }
}

impl Heatmap<'_> {
    fn scope_metric(&self) -> (String, String) {
        MetricRef::parse(&self.metric, Some(Scope::Trained.name()))
            .map(|r| (r.scope, r.metric))
            .unwrap_or_else(|_| (Scope::Trained.name().to_string(), self.metric.clone()))
    }
}

/// Units right of a heatmap's panels for its colour bar.
const HEATMAP_BAR: u32 = 190;

impl Heatmap<'_> {
    fn frame(&self) -> Frame {
        let data = self.data;
        let (scope, _) = self.scope_metric();
        let (x_key, y_key) = (&data.experiment.sweep[0].key, &data.experiment.sweep[1].key);
        Frame {
            title: format!(
                "{}: final {} over {x_key} × {y_key}",
                data.experiment.name,
                readable(&self.metric)
            ),
            subtitle: format!(
                "{}. Scope {scope}. Each cell: mean over seeds of each seed's final value ({}), and N.",
                describe(data),
                final_phrase(data)
            ),
            legend: Vec::new(),
            panels: data.experiment.arms.len(),
            columns: 2,
            aside: HEATMAP_BAR,
            stretch: 1.3,
        }
    }
}

impl Figure for Heatmap<'_> {
    fn name(&self) -> &str {
        &self.file
    }

    fn size(&self, sheet: &Sheet) -> (u32, u32) {
        let arms = self.data.experiment.arms.len();
        let rows = arms.div_ceil(2) as u32;
        let width = if arms == 1 { 1100 } else { 1800 };
        self.frame().size(sheet, (width, 92 + 20 + 640 * rows))
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, sheet: &Sheet) -> anyhow::Result<()> {
        let data = self.data;
        let (scope, metric) = self.scope_metric();
        let (xs, ys) = (axis_values(data, 0), axis_values(data, 1));
        let (x_key, y_key) = (&data.experiment.sweep[0].key, &data.experiment.sweep[1].key);
        let arms: Vec<&str> = data.experiment.arms.iter().map(String::as_str).collect();

        // Mean final value and N per arm and cell.
        let mut cells: Vec<Vec<(usize, usize, f64, usize)>> = vec![Vec::new(); arms.len()];
        for (i, g) in data.groups.iter().enumerate() {
            let a = arms.iter().position(|n| *n == g.arm).unwrap_or(0);
            let cx = xs.labels.iter().position(|l| *l == g.sweep[0]).unwrap_or(0);
            let cy = ys.labels.iter().position(|l| *l == g.sweep[1]).unwrap_or(0);
            let s = summarize(&finals(data, i, &scope, &metric));
            cells[a].push((cx, cy, s.mean, s.n));
        }
        let (lo, hi) = if is_rate(&metric) {
            (0.0, 1.0)
        } else {
            let v = cells.iter().flatten().map(|c| c.2).filter(|v| v.is_finite());
            let (a, b) = v.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), x| (l.min(x), h.max(x)));
            if a.is_finite() && b > a { (a, b) } else { (0.0, 1.0) }
        };

        let frame = self.frame();
        let grid = frame.draw(root)?;
        let (panels_area, bar_area) = grid.split_horizontally(grid.dim_in_pixel().0 - HEATMAP_BAR);
        let panels = panels_area.margin(4, 12, 12, 12).split_evenly(frame.grid(sheet));
        for (a, area) in panels.iter().enumerate().take(arms.len()) {
            let caption = if arms.len() == 1 {
                readable(&self.metric)
            } else {
                arms[a].to_string()
            };
            let (area, title) = caption_area(area, &caption, 17.0)?;
            let mut chart = chart_on(&area, &title, 17.0)
                .margin(10)
                .x_label_area_size(44)
                .y_label_area_size(64)
                .build_cartesian_2d(0f64..xs.labels.len() as f64, 0f64..ys.labels.len() as f64)
                .map_err(err)?;
            let x_label = |v: &f64| label_at(&xs.labels, *v);
            let y_label = |v: &f64| label_at(&ys.labels, *v);
            chart
                .configure_mesh()
                .disable_mesh()
                .x_desc(x_key.as_str())
                .y_desc(y_key.as_str())
                .label_style((FONT, 14))
                .axis_desc_style((FONT, 15))
                .x_labels(xs.labels.len() * 2 + 1)
                .y_labels(ys.labels.len() * 2 + 1)
                .x_label_formatter(&x_label)
                .y_label_formatter(&y_label)
                .draw()
                .map_err(err)?;
            for &(cx, cy, mean, n) in &cells[a] {
                let (x0, y0) = (cx as f64, cy as f64);
                let fill = if mean.is_finite() {
                    ViridisRGB::get_color_normalized(mean, lo, hi)
                } else {
                    RGBColor(220, 220, 220)
                };
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [(x0, y0), (x0 + 1.0, y0 + 1.0)],
                        fill.filled(),
                    )))
                    .map_err(err)?;
                let dark = !mean.is_finite() || (mean - lo) / (hi - lo).max(1e-12) < 0.6;
                let ink = if dark { WHITE } else { BLACK };
                let text = if mean.is_finite() {
                    format!("{mean:.2}")
                } else {
                    "—".into()
                };
                chart
                    .draw_series([
                        Text::new(
                            text,
                            (x0 + 0.5, y0 + 0.56),
                            (FONT, 17)
                                .into_font()
                                .color(&ink)
                                .pos(Pos::new(HPos::Center, VPos::Center)),
                        ),
                        Text::new(
                            format!("N={n}"),
                            (x0 + 0.5, y0 + 0.32),
                            (FONT, 12)
                                .into_font()
                                .color(&ink)
                                .pos(Pos::new(HPos::Center, VPos::Center)),
                        ),
                    ])
                    .map_err(err)?;
            }
        }
        draw_colour_bar(&bar_area, lo, hi, &readable(&self.metric))
    }
}

/// The label of a categorical axis at `v` (labels sit at cell centres).
fn label_at(labels: &[String], v: f64) -> String {
    let i = v - 0.5;
    if (i - i.round()).abs() < 1e-6 && i >= 0.0 {
        labels.get(i.round() as usize).cloned().unwrap_or_default()
    } else {
        String::new()
    }
}

/// A vertical colour bar from `lo` (bottom) to `hi` (top) with tick labels and a title.
pub(super) fn draw_colour_bar<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    lo: f64,
    hi: f64,
    label: &str,
) -> anyhow::Result<()> {
    let (_, height) = area.dim_in_pixel();
    let (top, bottom) = (70i32, height as i32 - 80);
    let (left, right) = (16i32, 46i32);
    let steps = 100;
    for k in 0..steps {
        let y0 = bottom - (bottom - top) * k / steps;
        let y1 = bottom - (bottom - top) * (k + 1) / steps;
        let v = lo + (hi - lo) * (k as f64 + 0.5) / steps as f64;
        area.draw(&Rectangle::new(
            [(left, y1), (right, y0)],
            ViridisRGB::get_color_normalized(v, lo, hi).filled(),
        ))
        .map_err(err)?;
    }
    area.draw(&Rectangle::new([(left, top), (right, bottom)], BLACK.stroke_width(1)))
        .map_err(err)?;
    for t in 0..=5 {
        let v = lo + (hi - lo) * t as f64 / 5.0;
        let y = bottom - (bottom - top) * t / 5;
        area.draw(&PathElement::new(
            vec![(right, y), (right + 5, y)],
            BLACK.stroke_width(1),
        ))
        .map_err(err)?;
        area.draw(&Text::new(
            format!("{v:.2}"),
            (right + 9, y),
            (FONT, 13)
                .into_font()
                .color(&BLACK)
                .pos(Pos::new(HPos::Left, VPos::Center)),
        ))
        .map_err(err)?;
    }
    area.draw(&Text::new(
        label.to_string(),
        (left - 6, top - 28),
        (FONT, 14).into_font(),
    ))
    .map_err(err)?;
    Ok(())
}
