//! The panel of final values against a setting: each seed's final value as a dot, the mean
//! over seeds with its 95% interval as an error bar, means joined by a line, one line per arm.

use std::ops::Range;

use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use super::style::{FONT, caption, chart_on, err};
use crate::stats::{Summary, summarize};

/// One line of a final-value panel.
pub struct FinalLine {
    pub color: RGBColor,
    /// For each x, every seed's final value.
    pub points: Vec<(f64, Vec<f64>)>,
}

/// What a final-value panel shows.
pub struct FinalPanel<'a> {
    pub title: &'a str,
    pub x_desc: &'a str,
    pub y_desc: &'a str,
    /// Labels of x = 0, 1, 2, ... for a categorical axis; `None` for a numeric one.
    pub categories: Option<&'a [String]>,
    /// `None`: fit to the data and its intervals.
    pub y_range: Option<Range<f64>>,
    /// The range the metric's values can take; intervals stay inside it.
    pub bounds: Option<(f64, f64)>,
    /// Draw x on a logarithmic scale (every x above 0), labelled at the powers of ten.
    pub x_log: bool,
}

/// Whether an axis over `values` is drawn logarithmic: asked for (`Some(true)`), refused
/// (`Some(false)`), or by default where every value is above 0 and they span more than a factor
/// of 20.
pub fn log_axis(asked: Option<bool>, values: impl IntoIterator<Item = f64>) -> bool {
    let values: Vec<f64> = values.into_iter().filter(|v| v.is_finite()).collect();
    let positive = !values.is_empty() && values.iter().all(|&v| v > 0.0);
    let (lo, hi) = values
        .iter()
        .fold((f64::INFINITY, 0.0f64), |(l, h), &v| (l.min(v), h.max(v)));
    positive && asked.unwrap_or(hi / lo > 20.0)
}

/// Draws the panel. Lines share the x values, so each is shifted a little sideways (dodged)
/// to keep their dots and error bars apart.
pub fn draw_final_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    panel: &FinalPanel,
    lines: &[FinalLine],
) -> anyhow::Result<()> {
    // A logarithmic axis is drawn as a linear one over log10(x).
    let logged: Vec<FinalLine>;
    let lines = if panel.x_log {
        logged = lines
            .iter()
            .map(|l| FinalLine {
                color: l.color,
                points: l.points.iter().map(|(x, v)| (x.log10(), v.clone())).collect(),
            })
            .collect();
        &logged[..]
    } else {
        lines
    };
    let xs = lines.iter().flat_map(|l| l.points.iter().map(|p| p.0));
    let (lo, hi) = xs.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), x| (l.min(x), h.max(x)));
    let (lo, hi) = if lo.is_finite() { (lo, hi) } else { (0.0, 1.0) };
    // The smallest gap between x values sets how far lines may shift without meeting.
    let mut distinct: Vec<f64> = lines.iter().flat_map(|l| l.points.iter().map(|p| p.0)).collect();
    distinct.sort_by(f64::total_cmp);
    distinct.dedup();
    let gap = distinct.windows(2).map(|w| w[1] - w[0]).fold(hi - lo, f64::min);
    let gap = if gap > 0.0 { gap } else { 1.0 };
    let step = if lines.len() > 1 {
        gap * 0.3 / lines.len() as f64
    } else {
        0.0
    };
    let width = if lines.len() > 1 { step * 0.4 } else { gap * 0.06 };
    let reach = step * (lines.len() as f64 - 1.0) / 2.0 + 2.0 * width;
    let pad = ((hi - lo) * 0.06)
        .max(if panel.categories.is_some() { 0.4 } else { 0.02 })
        .max(reach);
    let summaries: Vec<Vec<Summary>> = lines
        .iter()
        .map(|l| {
            l.points
                .iter()
                .map(|(_, v)| summarize(v).within(panel.bounds))
                .collect()
        })
        .collect();
    let y = panel.y_range.clone().unwrap_or_else(|| fitted(lines, &summaries));
    let (area, title) = caption(area, panel.title, 17.0)?;
    let mut chart = chart_on(&area, &title, 17.0)
        .margin(8)
        .x_label_area_size(40)
        .y_label_area_size(54)
        .build_cartesian_2d((lo - pad)..(hi + pad), y)
        .map_err(err)?;
    let categories = panel.categories;
    let x_log = panel.x_log;
    let label = move |x: &f64| match categories {
        Some(c) => {
            let i = x.round();
            if (x - i).abs() < 1e-6 && i >= 0.0 {
                c.get(i as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        }
        None if x_log => {
            let decade = x.round();
            if (x - decade).abs() < 1e-6 {
                format!("{}", 10f64.powi(decade as i32))
            } else {
                String::new()
            }
        }
        None => format!("{}", (x * 1000.0).round() / 1000.0),
    };
    let x_desc = if x_log {
        format!("{} (log scale)", panel.x_desc)
    } else {
        panel.x_desc.to_string()
    };
    let mut mesh = chart.configure_mesh();
    mesh.x_desc(&x_desc)
        .y_desc(panel.y_desc)
        .label_style((FONT, 13))
        .axis_desc_style((FONT, 14))
        .light_line_style(RGBColor(235, 235, 235))
        .x_label_formatter(&label);
    if let Some(c) = categories {
        mesh.x_labels(c.len() * 4 + 1);
    } else if x_log {
        // Enough key points that every power of ten in range is one.
        mesh.x_labels(((hi - lo).ceil() as usize + 1) * 4);
    }
    mesh.draw().map_err(err)?;

    for (i, (line, summaries)) in lines.iter().zip(&summaries).enumerate() {
        let shift = step * (i as f64 - (lines.len() as f64 - 1.0) / 2.0);
        draw_line(&mut chart, line, summaries, shift, width)?;
    }
    Ok(())
}

/// The y range that holds every seed's value and every interval, padded.
fn fitted(lines: &[FinalLine], summaries: &[Vec<Summary>]) -> Range<f64> {
    let seeds = lines
        .iter()
        .flat_map(|l| l.points.iter().flat_map(|p| p.1.iter().copied()));
    let ends = summaries.iter().flatten().flat_map(|s| [s.low, s.high]);
    let (a, b) = seeds
        .chain(ends)
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| (l.min(v), h.max(v)));
    if a.is_finite() {
        let p = ((b - a) * 0.1).max(0.02);
        (a - p)..(b + p)
    } else {
        0.0..1.0
    }
}

/// One line, shifted sideways by `shift`: every seed's dot, the means joined, and each mean's
/// interval as an error bar `width` wide.
fn draw_line<DB: DrawingBackend>(
    chart: &mut ChartContext<DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    line: &FinalLine,
    summaries: &[Summary],
    shift: f64,
    width: f64,
) -> anyhow::Result<()> {
    let color = line.color;
    let seeds = line
        .points
        .iter()
        .flat_map(|(x, v)| v.iter().filter(|v| v.is_finite()).map(move |&y| (*x + shift, y)));
    chart
        .draw_series(seeds.map(|p| Circle::new(p, 3, color.mix(0.45).filled())))
        .map_err(err)?;
    let means: Vec<(f64, &Summary)> = line
        .points
        .iter()
        .zip(summaries)
        .map(|((x, _), s)| (*x + shift, s))
        .filter(|(_, s)| s.mean.is_finite())
        .collect();
    chart
        .draw_series(LineSeries::new(
            means.iter().map(|(x, s)| (*x, s.mean)),
            color.stroke_width(2),
        ))
        .map_err(err)?;
    for (x, s) in &means {
        if s.n > 1 {
            let style = color.stroke_width(2);
            chart
                .draw_series([
                    PathElement::new(vec![(*x, s.low), (*x, s.high)], style),
                    PathElement::new(vec![(*x - width, s.low), (*x + width, s.low)], style),
                    PathElement::new(vec![(*x - width, s.high), (*x + width, s.high)], style),
                ])
                .map_err(err)?;
        }
        chart
            .draw_series(std::iter::once(Circle::new((*x, s.mean), 5, color.filled())))
            .map_err(err)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::log_axis;

    #[test]
    fn a_wide_positive_span_is_drawn_logarithmic_unless_told() {
        assert!(log_axis(None, [100.0, 400.0, 1600.0, 16000.0]));
        assert!(!log_axis(None, [0.0, 0.1, 0.75]), "0 has no logarithm");
        assert!(!log_axis(None, [1.0, 2.0, 10.0]), "a factor of 10 stays linear");
        assert!(log_axis(Some(true), [1.0, 2.0]));
        assert!(!log_axis(Some(false), [100.0, 16000.0]));
        assert!(!log_axis(Some(true), [0.0, 1.0]));
    }
}
