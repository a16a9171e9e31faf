//! What every figure has around its panels: a title and subtitle that wrap to the figure's
//! width, a legend that wraps too, and the grid of panels below them, sized for the sheet.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;

use super::sheet::{FigureSize, Sheet};
use super::style::{FONT, LineKind, err, text_width, wrap};

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
