//! The visual style every figure shares: an embedded font (no system fonts needed), colours,
//! and the panel that draws a metric's mean, 95% band and per-seed traces.

use std::ops::Range;
use std::sync::Once;

use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::FontStyle;

use crate::results::Series;

/// The font family every label uses; registered from the embedded DejaVu Sans.
pub const FONT: &str = "sans-serif";

/// Registers the embedded font once per process.
pub fn register_fonts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular())
            .unwrap_or_else(|_| panic!("the embedded DejaVu Sans is a valid font"));
        plotters::style::register_font(FONT, FontStyle::Bold, dejavu::sans::bold())
            .unwrap_or_else(|_| panic!("the embedded DejaVu Sans Bold is a valid font"));
    });
}

/// Colours for arms, in order (colour-blind-safe Okabe–Ito palette, black last).
pub const ARM_COLORS: [RGBColor; 8] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(120, 120, 120),
    RGBColor(0, 0, 0),
];

pub fn arm_color(i: usize) -> RGBColor {
    ARM_COLORS[i % ARM_COLORS.len()]
}

/// A plotting error as an `anyhow` error.
pub fn err<E: std::fmt::Debug>(e: E) -> anyhow::Error {
    anyhow::anyhow!("drawing failed: {e:?}")
}

/// How a line is drawn: several metrics of one arm share a panel by their line kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    Solid,
    Dashed,
    Dotted,
}

impl LineKind {
    pub const ORDER: [LineKind; 3] = [LineKind::Solid, LineKind::Dashed, LineKind::Dotted];

    pub fn name(self) -> &'static str {
        match self {
            LineKind::Solid => "solid",
            LineKind::Dashed => "dashed",
            LineKind::Dotted => "dotted",
        }
    }
}

/// One line in a panel: a metric of one arm.
pub struct Trace<'a> {
    pub color: RGBColor,
    pub series: &'a Series,
    pub line: LineKind,
}

/// What a panel shows.
pub struct Panel<'a> {
    pub title: &'a str,
    pub y_label: &'a str,
    pub x_label: &'a str,
    /// `None`: fit the range to the data.
    pub y_range: Option<Range<f64>>,
    pub x_max: usize,
    /// Draw each seed as a thin line (where a mean could hide bimodality).
    pub seeds: bool,
    /// The phase boundaries to mark with a vertical line each, and their labels.
    pub marker: Vec<(usize, String)>,
}

fn data_range(traces: &[Trace]) -> Range<f64> {
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    for t in traces {
        for s in t.series.summary() {
            for v in [s.low, s.high, s.mean] {
                if v.is_finite() {
                    lo = lo.min(v);
                    hi = hi.max(v);
                }
            }
        }
        for seed in &t.series.seeds {
            for &v in seed.iter().filter(|v| v.is_finite()) {
                lo = lo.min(v);
                hi = hi.max(v);
            }
        }
    }
    if !lo.is_finite() {
        return 0.0..1.0;
    }
    let pad = ((hi - lo) * 0.08).max(0.02);
    (lo - pad)..(hi + pad)
}

/// What a panel that would look empty says instead: no arm recorded its metric, or every line
/// lies on the floor of a fixed range (an over-refusal that never started).
fn floor_note(panel: &Panel, traces: &[Trace]) -> Option<String> {
    if traces.is_empty() {
        return Some("not measured in this experiment".into());
    }
    let range = panel.y_range.as_ref()?;
    let highest = traces
        .iter()
        .flat_map(|t| t.series.summary())
        .flat_map(|s| [s.mean, s.high])
        .filter(|v| v.is_finite())
        .fold(f64::NEG_INFINITY, f64::max);
    (highest.is_finite() && highest - range.start.max(0.0) < 0.02 * (range.end - range.start)).then(|| {
        format!(
            "every arm stays at or below {:.3}: the lines lie on the axis",
            highest.max(0.0)
        )
    })
}

/// The caption of a panel and the area for its chart. A caption that fits on one line is
/// returned for the chart to draw; a longer one (on a narrow sheet) is wrapped and drawn here,
/// and the chart goes in the area below it.
pub fn caption<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
    size: f64,
) -> anyhow::Result<(DrawingArea<DB, Shift>, Option<String>)> {
    let width = area.dim_in_pixel().0.saturating_sub(20);
    if text_width(text, size, FontStyle::Bold) <= width {
        return Ok((area.clone(), Some(text.to_string())));
    }
    let mut rest = area.clone();
    for line in wrap(text, size, FontStyle::Bold, width) {
        rest = rest
            .titled(&line, (FONT, size).into_font().style(FontStyle::Bold))
            .map_err(err)?;
    }
    Ok((rest, None))
}

/// Starts a chart on `area` under `caption` (from [`caption`]), in bold at `size`.
pub fn chart_on<'a, 'b, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    caption: &Option<String>,
    size: f64,
) -> ChartBuilder<'a, 'b, DB> {
    let mut builder = ChartBuilder::on(area);
    if let Some(text) = caption {
        builder.caption(text, (FONT, size).into_font().style(FontStyle::Bold));
    }
    builder
}

/// Draws one panel: per-seed traces (thin), the 95% interval of the mean (band), the mean (thick).
pub fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    panel: &Panel,
    traces: &[Trace],
) -> anyhow::Result<()> {
    let y = panel.y_range.clone().unwrap_or_else(|| data_range(traces));
    let (area, title) = caption(area, panel.title, 17.0)?;
    let mut chart = chart_on(&area, &title, 17.0)
        .margin(8)
        .x_label_area_size(36)
        .y_label_area_size(54)
        .build_cartesian_2d(0f64..panel.x_max.max(1) as f64, y.clone())
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc(panel.x_label)
        .y_desc(panel.y_label)
        .label_style((FONT, 13))
        .axis_desc_style((FONT, 14))
        .light_line_style(RGBColor(235, 235, 235))
        .bold_line_style(RGBColor(215, 215, 215))
        .x_labels(6)
        .y_labels(6)
        .x_label_formatter(&|x| format!("{x:.0}"))
        .draw()
        .map_err(err)?;

    for (step, label) in &panel.marker {
        let step = *step;
        let x = step as f64;
        chart
            .draw_series(DashedLineSeries::new(
                vec![(x, y.start), (x, y.end)],
                6,
                4,
                RGBColor(90, 90, 90).stroke_width(1),
            ))
            .map_err(err)?;
        chart
            .draw_series(std::iter::once(Text::new(
                label.to_string(),
                (x + panel.x_max as f64 * 0.01, y.end - (y.end - y.start) * 0.04),
                (FONT, 12).into_font().color(&RGBColor(90, 90, 90)),
            )))
            .map_err(err)?;
    }

    for t in traces {
        draw_trace(&mut chart, t, panel.seeds)?;
    }
    if let Some(note) = floor_note(panel, traces) {
        let (w, h) = area.dim_in_pixel();
        area.draw(&Text::new(
            note,
            (w as i32 / 2 - 150, h as i32 / 2),
            (FONT, 15).into_font().color(&RGBColor(90, 90, 90)),
        ))
        .map_err(err)?;
    }
    Ok(())
}

/// One trace of a panel: each seed thin (with `seeds`), the 95% band of the mean, the mean in the
/// trace's line kind, and markers on a dashed or dotted mean (or a lone point).
fn draw_trace<DB: DrawingBackend>(
    chart: &mut ChartContext<DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    t: &Trace,
    seeds: bool,
) -> anyhow::Result<()> {
    let steps: Vec<f64> = t.series.steps.iter().map(|&s| s as f64).collect();
    if seeds && t.series.n() > 1 {
        for seed in &t.series.seeds {
            let points: Vec<(f64, f64)> = steps
                .iter()
                .zip(seed)
                .filter(|(_, v)| v.is_finite())
                .map(|(&x, &v)| (x, v))
                .collect();
            chart
                .draw_series(LineSeries::new(points, t.color.mix(0.28).stroke_width(1)))
                .map_err(err)?;
        }
    }
    let summary = t.series.summary();
    let band: Vec<(f64, f64)> = steps
        .iter()
        .zip(&summary)
        .filter(|(_, s)| s.n > 1)
        .map(|(&x, s)| (x, s.high))
        .chain(
            steps
                .iter()
                .zip(&summary)
                .rev()
                .filter(|(_, s)| s.n > 1)
                .map(|(&x, s)| (x, s.low)),
        )
        .collect();
    if band.len() > 2 {
        chart
            .draw_series(std::iter::once(Polygon::new(band, t.color.mix(0.18).filled())))
            .map_err(err)?;
    }
    let mean: Vec<(f64, f64)> = steps
        .iter()
        .zip(&summary)
        .filter(|(_, s)| s.mean.is_finite())
        .map(|(&x, s)| (x, s.mean))
        .collect();
    // A series measured at one step only (a reward model fit once) is a point with its
    // interval, not a line.
    if mean.len() == 1 {
        let (x, s) = steps
            .iter()
            .zip(&summary)
            .find(|(_, s)| s.mean.is_finite())
            .expect("one mean");
        if s.n > 1 {
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(*x, s.low), (*x, s.high)],
                    t.color.stroke_width(2),
                )))
                .map_err(err)?;
        }
    }
    match t.line {
        LineKind::Solid => chart
            .draw_series(LineSeries::new(mean.clone(), t.color.stroke_width(2)))
            .map_err(err)?,
        LineKind::Dashed => chart
            .draw_series(DashedLineSeries::new(mean.clone(), 9, 5, t.color.stroke_width(2)))
            .map_err(err)?,
        LineKind::Dotted => chart
            .draw_series(DashedLineSeries::new(mean.clone(), 2, 4, t.color.stroke_width(3)))
            .map_err(err)?,
    };
    // Markers tell a dashed or dotted line from a solid one lying on it (a refit probe's
    // accuracy on the frozen probe's rate, both near 1), and show a lone point.
    if t.line != LineKind::Solid || mean.len() == 1 {
        let style = t.color.stroke_width(2);
        if t.line == LineKind::Dotted {
            chart
                .draw_series(
                    mean.iter()
                        .map(|&p| EmptyElement::at(p) + Rectangle::new([(-3, -3), (3, 3)], style)),
                )
                .map_err(err)?;
        } else {
            chart
                .draw_series(mean.iter().map(|&p| Circle::new(p, 4, style)))
                .map_err(err)?;
        }
    }
    Ok(())
}

/// `text` wrapped at word boundaries into lines at most `width` units wide.
pub fn wrap(text: &str, size: f64, style: FontStyle, width: u32) -> Vec<String> {
    let mut lines: Vec<String> = vec![String::new()];
    for word in text.split_whitespace() {
        let line = lines.last_mut().expect("at least one line");
        let candidate = if line.is_empty() {
            word.to_string()
        } else {
            format!("{line} {word}")
        };
        if text_width(&candidate, size, style) > width && !line.is_empty() {
            lines.push(word.to_string());
        } else {
            *line = candidate;
        }
    }
    lines
}

/// The width of `text` in design units, measured with the embedded font as the figures draw it
/// (fonts scale with the design, so a width in units holds on every sheet).
pub fn text_width(text: &str, size: f64, style: FontStyle) -> u32 {
    let font = FontDesc::new(FontFamily::from(FONT), size, FontStyle::Normal).style(style);
    font.box_size(text).map(|(w, _)| w).unwrap_or(0)
}
