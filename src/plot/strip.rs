//! The final value of every seed, group by group: each seed a dot, and beside the dots the
//! mean over seeds with its 95% t-interval, one panel per headline rate. A mean and its
//! interval can hide that seeds fall into two camps (bimodality); the dots show it.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;

use super::figures::{describe, final_phrase, seeds_phrase};
use super::frame::{Entry, Frame, Key};
use super::style::{FONT, LineKind, arm_color, caption, chart_on, err, text_width};
use super::{Figure, Sheet};
use crate::metric::{HEADLINE, Scope, bounds};
use crate::results::RunData;
use crate::stats::summarize;

/// Groups (arms × sweep points) the strip plot shows at most; beyond, a row each is too thin.
pub const MAX_GROUPS: usize = 30;

/// Units of a panel that are not its rows: caption, x labels, margins.
const PANEL_FURNITURE: u32 = 96;

/// Units per group in a panel.
const ROW: u32 = 34;

/// The tick labels' size.
const LABEL_FONT: f64 = 13.0;

/// Final values of the headline rates, a row per group, seeds as dots beside their mean.
pub struct Finals<'a> {
    pub data: &'a RunData,
}

impl Finals<'_> {
    fn frame(&self) -> Frame {
        let data = self.data;
        Frame {
            title: format!("{}: final headline rates, every seed", data.experiment.name),
            subtitle: format!(
                "{}. Trained domains, observed. Dots: each seed's final value ({}); beside them the \
                 mean over seeds ({}) with its 95% t-interval.",
                describe(data),
                final_phrase(data),
                seeds_phrase(data)
            ),
            legend: vec![
                Entry {
                    label: "one seed".into(),
                    color: RGBColor(128, 128, 128),
                    key: Key::Dot,
                },
                Entry {
                    label: "mean over seeds, 95% t-interval".into(),
                    color: RGBColor(40, 40, 40),
                    key: Key::Line(LineKind::Solid),
                },
            ],
            panels: HEADLINE.len(),
            columns: 2,
            aside: 0,
            stretch: 1.0,
        }
    }

    /// The width of the group labels beside the first panel of a row.
    fn label_width(&self) -> u32 {
        let widest = self
            .data
            .labels
            .iter()
            .map(|l| text_width(&self.label(l), LABEL_FONT, FontStyle::Normal))
            .max()
            .unwrap_or(0);
        widest + 14
    }

    fn label(&self, group: &str) -> String {
        format!("{group} (N={})", self.data.seeds_of(group))
    }

    /// Panels side by side: two, unless the labels leave two panels too narrow to read.
    fn columns(&self, width: u32) -> usize {
        let room = width.saturating_sub(24 + self.label_width()) / 2;
        if room >= 120 { 2 } else { 1 }
    }

    fn panel_height(&self) -> u32 {
        PANEL_FURNITURE + ROW * self.data.labels.len().max(1) as u32
    }
}

impl Figure for Finals<'_> {
    fn name(&self) -> &str {
        "finals"
    }

    fn size(&self, sheet: &Sheet) -> (u32, u32) {
        let width = sheet.width(1400);
        let rows = HEADLINE.len().div_ceil(self.columns(width)) as u32;
        let height = sheet
            .fixed_height()
            .unwrap_or_else(|| self.frame().top(width) + 16 + rows * self.panel_height());
        (width, height)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, _sheet: &Sheet) -> anyhow::Result<()> {
        let data = self.data;
        let grid = self.frame().draw(root)?.margin(4, 12, 12, 12);
        let (width, _) = grid.dim_in_pixel();
        let cols = self.columns(width + 24);
        let rows = HEADLINE.len().div_ceil(cols);
        let labels = self.label_width();
        let panel = width.saturating_sub(labels) / cols as u32;
        let mut areas = Vec::new();
        for row in grid.split_evenly((rows, 1)) {
            let (first, mut rest) = row.split_horizontally(labels + panel);
            areas.push((first, true));
            for _ in 1..cols {
                let (next, after) = rest.split_horizontally(panel);
                areas.push((next, false));
                rest = after;
            }
        }
        let colors: Vec<RGBColor> = data
            .groups
            .iter()
            .map(|g| arm_color(data.experiment.arms.iter().position(|a| *a == g.arm).unwrap_or(0)))
            .collect();
        for (metric, (area, labelled)) in HEADLINE.iter().zip(&areas) {
            self.draw_panel(area, metric, if *labelled { labels } else { 8 }, &colors)?;
        }
        Ok(())
    }
}

impl Finals<'_> {
    fn draw_panel<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        metric: &str,
        label_area: u32,
        colors: &[RGBColor],
    ) -> anyhow::Result<()> {
        let data = self.data;
        let n = data.labels.len();
        let names: Vec<String> = data.labels.iter().map(|l| self.label(l)).collect();
        let labelled = label_area > 8;
        let (area, title) = caption(area, &format!("final {}", metric.replace('_', " ")), 17.0)?;
        let mut chart = chart_on(&area, &title, 17.0)
            .margin(8)
            .x_label_area_size(40)
            .y_label_area_size(label_area)
            .build_cartesian_2d(-0.02f64..1.02f64, -0.5f64..n as f64 - 0.5)
            .map_err(err)?;
        // Group i sits at y = n − 1 − i, so the first group is on top.
        let y_label = |y: &f64| {
            let i = n as f64 - 1.0 - y;
            if labelled && (i - i.round()).abs() < 1e-6 && i >= 0.0 {
                names.get(i.round() as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        };
        chart
            .configure_mesh()
            .x_desc("share of contradictory tasks")
            .label_style((FONT, LABEL_FONT))
            .axis_desc_style((FONT, 14))
            .light_line_style(WHITE)
            .bold_line_style(RGBColor(222, 222, 222))
            .disable_y_mesh()
            .x_labels(6)
            .y_labels(2 * n + 1)
            .y_label_formatter(&y_label)
            .draw()
            .map_err(err)?;
        for (i, label) in data.labels.iter().enumerate() {
            let Some(series) = data.series(label, Scope::Trained.name(), metric) else {
                continue;
            };
            let window = data.groups[i].config.eval.final_window;
            let finals = series.finals(window);
            let y = (n - 1 - i) as f64;
            let color = colors[i];
            // The seeds spread over a band above the row's centre, so equal values stay apart.
            let seeds: Vec<f64> = finals.iter().copied().filter(|v| v.is_finite()).collect();
            let spread = |k: usize| {
                if seeds.len() > 1 {
                    0.06 + 0.3 * k as f64 / (seeds.len() - 1) as f64
                } else {
                    0.2
                }
            };
            chart
                .draw_series(
                    seeds
                        .iter()
                        .enumerate()
                        .map(|(k, &v)| Circle::new((v, y + spread(k)), 4, color.mix(0.7).filled())),
                )
                .map_err(err)?;
            let s = summarize(&finals).within(bounds(metric));
            if !s.mean.is_finite() {
                continue;
            }
            let at = y - 0.22;
            let ink = color.stroke_width(2);
            if s.n > 1 {
                chart
                    .draw_series([
                        PathElement::new(vec![(s.low, at), (s.high, at)], ink),
                        PathElement::new(vec![(s.low, at - 0.1), (s.low, at + 0.1)], ink),
                        PathElement::new(vec![(s.high, at - 0.1), (s.high, at + 0.1)], ink),
                    ])
                    .map_err(err)?;
            }
            chart
                .draw_series(std::iter::once(Circle::new((s.mean, at), 5, color.filled())))
                .map_err(err)?;
        }
        Ok(())
    }
}
