//! The visual style every figure shares: an embedded font (no system fonts needed), colours,
//! and the panel that draws a metric's mean, 95% band and per-seed traces.

use std::ops::Range;
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;

use super::data::Series;
use super::sheet::{FigureSize, Sheet, text_width};

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
    /// A phase boundary to mark with a vertical line, and its label.
    pub marker: Option<(usize, &'a str)>,
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

    if let Some((step, label)) = panel.marker {
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
        let steps: Vec<f64> = t.series.steps.iter().map(|&s| s as f64).collect();
        if panel.seeds && t.series.n() > 1 {
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
        match t.line {
            LineKind::Solid => chart
                .draw_series(LineSeries::new(mean, t.color.stroke_width(2)))
                .map_err(err)?,
            LineKind::Dashed => chart
                .draw_series(DashedLineSeries::new(mean, 9, 5, t.color.stroke_width(2)))
                .map_err(err)?,
            LineKind::Dotted => chart
                .draw_series(DashedLineSeries::new(mean, 2, 4, t.color.stroke_width(3)))
                .map_err(err)?,
        };
    }
    Ok(())
}

/// A legend entry: a label, its colour, and how its line is drawn.
pub struct Entry {
    pub label: String,
    pub color: RGBColor,
    pub key: Key,
}

/// How a legend entry shows what it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Line(LineKind),
    /// A filled swatch (stacked areas).
    Swatch,
    /// A dot (one seed's value).
    Dot,
}

/// The size of legend text.
const LEGEND_FONT: f64 = 14.0;

/// Where each legend entry goes in an area `width` units wide: its x and its line.
fn legend_places(entries: &[Entry], width: u32) -> Vec<(i32, i32)> {
    let (mut x, mut line) = (20i32, 0i32);
    entries
        .iter()
        .map(|e| {
            let item = 34 + text_width(&e.label, LEGEND_FONT, FontStyle::Normal) as i32 + 24;
            if x + item > width as i32 && x > 20 {
                x = 20;
                line += 1;
            }
            let at = (x, line);
            x += item;
            at
        })
        .collect()
}

/// The height of a legend `width` units wide: room for two lines at least, more if it wraps
/// further; none without entries.
pub fn legend_height(entries: &[Entry], width: u32) -> u32 {
    let lines = legend_places(entries, width).last().map_or(0, |p| p.1 + 1) as u32;
    if lines == 0 { 0 } else { 12 + 22 * lines.max(2) }
}

/// Draws legend entries in a row (wrapping) across `area`.
pub fn draw_legend<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, entries: &[Entry]) -> anyhow::Result<()> {
    let (width, _) = area.dim_in_pixel();
    let style: TextStyle = (FONT, LEGEND_FONT).into_font().into();
    for (e, (x, line)) in entries.iter().zip(legend_places(entries, width)) {
        let y = 10 + 22 * line;
        match e.key {
            Key::Swatch => area
                .draw(&Rectangle::new([(x, y + 2), (x + 26, y + 14)], e.color.filled()))
                .map_err(err)?,
            Key::Dot => area
                .draw(&Circle::new((x + 13, y + 8), 4, e.color.filled()))
                .map_err(err)?,
            Key::Line(LineKind::Solid) => area
                .draw(&PathElement::new(
                    vec![(x, y + 8), (x + 26, y + 8)],
                    e.color.stroke_width(3),
                ))
                .map_err(err)?,
            Key::Line(line) => {
                let (dash, gap) = if line == LineKind::Dashed { (6, 4) } else { (2, 4) };
                let mut x0 = x;
                while x0 < x + 26 {
                    area.draw(&PathElement::new(
                        vec![(x0, y + 8), (x0 + dash, y + 8)],
                        e.color.stroke_width(3),
                    ))
                    .map_err(err)?;
                    x0 += dash + gap;
                }
            }
        }
        area.draw(&Text::new(e.label.clone(), (x + 34, y), style.clone()))
            .map_err(err)?;
    }
    Ok(())
}

/// The sizes of a title and its subtitle.
const TITLE_FONT: f64 = 23.0;
const SUBTITLE_FONT: f64 = 15.0;

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

/// The title and subtitle of a figure `width` units wide, as lines.
fn title_lines(title: &str, subtitle: &str, width: u32) -> (Vec<String>, Vec<String>) {
    let inner = width.saturating_sub(40);
    (
        wrap(title, TITLE_FONT, FontStyle::Bold, inner),
        wrap(subtitle, SUBTITLE_FONT, FontStyle::Normal, inner),
    )
}

/// The height of the title area of a figure `width` units wide: the title, and the subtitle
/// in two lines or as many more as it needs.
pub fn title_height(title: &str, subtitle: &str, width: u32) -> u32 {
    let (t, s) = title_lines(title, subtitle, width);
    10 + 32 * t.len() as u32 + 22 * (s.len() as u32).max(2) + 6
}

/// Draws a figure title and a smaller subtitle, each wrapped at word boundaries.
pub fn draw_title<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    subtitle: &str,
) -> anyhow::Result<()> {
    let (titles, lines) = title_lines(title, subtitle, area.dim_in_pixel().0);
    let bold = (FONT, TITLE_FONT).into_font().style(FontStyle::Bold);
    for (i, line) in titles.iter().enumerate() {
        area.draw(&Text::new(line.clone(), (20, 10 + 32 * i as i32), bold.clone()))
            .map_err(err)?;
    }
    let top = 10 + 32 * titles.len() as i32;
    let style: TextStyle = (FONT, SUBTITLE_FONT).into_font().color(&RGBColor(70, 70, 70));
    for (i, line) in lines.iter().enumerate() {
        area.draw(&Text::new(line.clone(), (20, top + 22 * i as i32), style.clone()))
            .map_err(err)?;
    }
    Ok(())
}

/// What a figure shows above its panels, and how many panels it has: the layout every figure
/// with a grid of panels shares.
pub struct Frame {
    pub title: String,
    pub subtitle: String,
    /// Empty: no legend.
    pub legend: Vec<Entry>,
    pub panels: usize,
    /// Panels side by side on the screen.
    pub columns: usize,
    /// Units on the right of the grid kept for something else (a colour bar).
    pub aside: u32,
    /// Plot height over width off the screen, relative to the sheet's usual aspect.
    pub stretch: f64,
}

/// The title and legend heights every screen figure was laid out with.
const SCREEN_TOP: u32 = 92 + 56;

impl Frame {
    /// Panels side by side, and their rows, on a sheet.
    pub fn grid(&self, sheet: &Sheet) -> (usize, usize) {
        let cols = sheet.columns(self.panels, self.columns);
        (self.panels.max(1).div_ceil(cols), cols)
    }

    /// The height of the title and legend in a figure `width` units wide.
    pub fn top(&self, width: u32) -> u32 {
        title_height(&self.title, &self.subtitle, width) + legend_height(&self.legend, width)
    }

    /// The figure's size in design units. On the screen, `screen` as the figure has always
    /// been drawn, taller by what a longer title or legend needs; elsewhere the sheet's width
    /// and a height that gives every panel the sheet's aspect.
    pub fn size(&self, sheet: &Sheet, screen: (u32, u32)) -> (u32, u32) {
        let width = sheet.width(screen.0);
        let top = self.top(width);
        if sheet.size == FigureSize::Screen {
            let nominal = if self.legend.is_empty() { 92 } else { SCREEN_TOP };
            return (screen.0, screen.1 + top.saturating_sub(nominal));
        }
        let (rows, cols) = self.grid(sheet);
        let panel = (width.saturating_sub(self.aside + 24)) as f64 / cols as f64;
        (width, sheet.height(top, rows, panel, self.stretch))
    }

    /// Draws the title and legend; returns the area of the panels (with `aside` on its right).
    pub fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> anyhow::Result<DrawingArea<DB, Shift>> {
        let width = root.dim_in_pixel().0;
        let (title, rest) = root.split_vertically(title_height(&self.title, &self.subtitle, width));
        draw_title(&title, &self.title, &self.subtitle)?;
        if self.legend.is_empty() {
            return Ok(rest);
        }
        let (legend, grid) = rest.split_vertically(legend_height(&self.legend, width));
        draw_legend(&legend, &self.legend)?;
        Ok(grid)
    }

    /// Draws the title and legend and splits the rest into the panels, in rows.
    pub fn panels<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        sheet: &Sheet,
    ) -> anyhow::Result<Vec<DrawingArea<DB, Shift>>> {
        let grid = self.draw(root)?;
        Ok(grid.margin(4, 12, 12, 12).split_evenly(self.grid(sheet)))
    }
}
