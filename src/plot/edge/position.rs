//! The edge's position against step: where the threshold's crossing lies in each row and
//! column of the sweep, as pressure goes on.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{crossings, points, scope_metric, threshold_of, trained_steps};
use crate::plot::custom::readable;
use crate::plot::figures::describe;
use crate::plot::frame::Frame;
use crate::plot::style::{FONT, arm_color, caption as caption_area, chart_on, err};
use crate::plot::{Figure, Sheet};
use crate::results::RunData;
use crate::stats::summarize;

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
