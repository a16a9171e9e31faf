//! The sizes a figure is drawn at. A figure lays itself out in *design units*: on the screen
//! (the default) one unit is one pixel, as the figures have always been drawn; for a paper or a
//! slide the figure is laid out narrower and every length, line and font is scaled up by the
//! same factor, so its text keeps a size that can be read where the figure is shown, without
//! any figure being written twice. [`Scaled`] does the scaling for any plotters backend.

use plotters::prelude::*;
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingErrorKind, FontFamily, FontStyle,
};

/// Where a figure is meant to be shown (`--figure-size`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum FigureSize {
    /// For a screen or a README: 1,400 to 1,800 pixels wide (the default).
    #[default]
    Screen,
    /// The text width of a paper's page: 7 in wide at 300 dpi (2,100 pixels).
    Page,
    /// One column of a two-column paper: 3.5 in wide at 300 dpi (1,050 pixels).
    Column,
    /// A 16:9 slide: 1,920 × 1,080 pixels.
    Slide,
}

impl FigureSize {
    pub fn name(self) -> &'static str {
        match self {
            FigureSize::Screen => "screen",
            FigureSize::Page => "page",
            FigureSize::Column => "column",
            FigureSize::Slide => "slide",
        }
    }
}

/// Pixels per design unit on paper: the figures' smallest text (12–13 units) prints at 6–6.5 pt
/// at 300 dpi, their titles at 11.6 pt, the same in page and column figures.
const PAPER_SCALE: f64 = 2.1;

/// Pixels per design unit on a slide: tick labels 23 pixels high on a 1,080-pixel slide.
const SLIDE_SCALE: f64 = 1.8;

/// Design units a panel spends around its plot: caption and x labels below, y labels beside.
const PANEL_FURNITURE: (f64, f64) = (82.0, 70.0);

/// A figure size as the layout needs it, and whether figures are written as PDF too.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sheet {
    pub size: FigureSize,
    /// Write each figure as PDF beside its PNG and SVG.
    pub pdf: bool,
}

impl Sheet {
    pub fn new(size: FigureSize) -> Sheet {
        Sheet { size, pdf: false }
    }

    /// Pixels per inch where the figure is shown: the page size of its PDF.
    pub fn dpi(&self) -> f32 {
        match self.size {
            // CSS pixels.
            FigureSize::Screen => 96.0,
            FigureSize::Page | FigureSize::Column => 300.0,
            // A 16:9 slide of 13.33 × 7.5 in.
            FigureSize::Slide => 144.0,
        }
    }

    /// Pixels per design unit.
    pub fn scale(&self) -> f64 {
        match self.size {
            FigureSize::Screen => 1.0,
            FigureSize::Page | FigureSize::Column => PAPER_SCALE,
            FigureSize::Slide => SLIDE_SCALE,
        }
    }

    /// The width in design units of a figure that is `screen` pixels wide on the screen.
    pub fn width(&self, screen: u32) -> u32 {
        match self.size {
            FigureSize::Screen => screen,
            FigureSize::Page => 1000,
            FigureSize::Column => 500,
            FigureSize::Slide => (1920.0 / SLIDE_SCALE).round() as u32,
        }
    }

    /// The height of a slide in design units; other sheets grow with their content.
    pub fn fixed_height(&self) -> Option<u32> {
        (self.size == FigureSize::Slide).then(|| (1080.0 / SLIDE_SCALE).round() as u32)
    }

    /// Plot height over plot width of a panel off the screen (the screen's figures keep their
    /// own sizes); a column's small panels a little taller, so an axis title fits beside them.
    fn aspect(&self) -> f64 {
        if self.size == FigureSize::Column { 0.8 } else { 0.62 }
    }

    /// The size in pixels of a figure of `design` units.
    pub fn pixels(&self, design: (u32, u32)) -> (u32, u32) {
        if self.size == FigureSize::Slide {
            return (1920, 1080);
        }
        let s = self.scale();
        (
            (design.0 as f64 * s).round() as u32,
            (design.1 as f64 * s).round() as u32,
        )
    }

    /// How many panels sit side by side, for `panels` panels that the screen shows `screen`
    /// to a row: a column of a paper holds at most two, and a slide puts them in at most two
    /// rows (it has no height to spare).
    pub fn columns(&self, panels: usize, screen: usize) -> usize {
        let panels = panels.max(1);
        match self.size {
            FigureSize::Screen | FigureSize::Page => screen.min(panels),
            FigureSize::Column => screen.min(2).min(panels),
            FigureSize::Slide => screen.max(panels.div_ceil(2)).min(panels),
        }
    }

    /// The height of a figure off the screen: `top` units of title and legend above `rows` rows
    /// of panels `panel_width` wide, each with a plot of the panel aspect (scaled by `stretch`);
    /// on a slide, the slide's height.
    pub fn height(&self, top: u32, rows: usize, panel_width: f64, stretch: f64) -> u32 {
        if let Some(h) = self.fixed_height() {
            return h;
        }
        let (below, beside) = PANEL_FURNITURE;
        let plot = (panel_width - beside).max(60.0) * self.aspect() * stretch;
        top + 16 + (rows.max(1) as f64 * (below + plot)).round() as u32
    }
}

/// A backend that takes design units and draws on `inner` in pixels: every coordinate, line
/// width, radius and font size is multiplied by `scale`.
pub struct Scaled<DB: DrawingBackend> {
    pub inner: DB,
    pub scale: f64,
    /// The size in design units.
    pub size: (u32, u32),
}

impl<DB: DrawingBackend> Scaled<DB> {
    fn at(&self, p: BackendCoord) -> BackendCoord {
        (
            (p.0 as f64 * self.scale).round() as i32,
            (p.1 as f64 * self.scale).round() as i32,
        )
    }

    fn stroke<S: BackendStyle>(&self, style: &S) -> Stroke {
        Stroke {
            color: style.color(),
            width: ((style.stroke_width() as f64 * self.scale).round() as u32).max(1),
        }
    }

    fn text<'a, T: BackendTextStyle>(&self, style: &'a T) -> TextStyle<'a> {
        let family: FontFamily<'a> = style.family();
        // As the figures make their fonts: the regular face, marked with the style.
        let font = FontDesc::new(family, style.size() * self.scale, FontStyle::Normal)
            .style(style.style())
            .transform(style.transform());
        TextStyle {
            font,
            color: style.color(),
            pos: style.anchor(),
        }
    }
}

/// A line style with its width scaled.
struct Stroke {
    color: BackendColor,
    width: u32,
}

impl BackendStyle for Stroke {
    fn color(&self) -> BackendColor {
        self.color
    }

    fn stroke_width(&self) -> u32 {
        self.width
    }
}

impl<DB: DrawingBackend> DrawingBackend for Scaled<DB> {
    type ErrorType = DB::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.size
    }

    fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.ensure_prepared()
    }

    fn present(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.present()
    }

    fn draw_pixel(
        &mut self,
        point: BackendCoord,
        color: BackendColor,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        let (x, y) = self.at(point);
        let side = self.scale.round().max(1.0) as i32;
        let fill = Stroke { color, width: 1 };
        self.inner.draw_rect((x, y), (x + side - 1, y + side - 1), &fill, true)
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        let stroke = self.stroke(style);
        let (a, b) = (self.at(from), self.at(to));
        if stroke.width > 1 {
            // A wide line is a path, so that the inner backend draws it wide.
            self.inner.draw_path([a, b], &stroke)
        } else {
            self.inner.draw_line(a, b, &stroke)
        }
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        let stroke = self.stroke(style);
        let (a, b) = (self.at(upper_left), self.at(bottom_right));
        self.inner.draw_rect(a, b, &stroke, fill)
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        let stroke = self.stroke(style);
        let points: Vec<BackendCoord> = path.into_iter().map(|p| self.at(p)).collect();
        self.inner.draw_path(points, &stroke)
    }

    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        let stroke = self.stroke(style);
        let r = (radius as f64 * self.scale).round() as u32;
        let c = self.at(center);
        self.inner.draw_circle(c, r, &stroke, fill)
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        let stroke = self.stroke(style);
        let points: Vec<BackendCoord> = vert.into_iter().map(|p| self.at(p)).collect();
        self.inner.fill_polygon(points, &stroke)
    }

    fn draw_text<T: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &T,
        pos: BackendCoord,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        let scaled = self.text(style);
        let p = self.at(pos);
        self.inner.draw_text(text, &scaled, p)
    }

    fn estimate_text_size<T: BackendTextStyle>(
        &self,
        text: &str,
        style: &T,
    ) -> Result<(u32, u32), DrawingErrorKind<Self::ErrorType>> {
        let (w, h) = self.inner.estimate_text_size(text, &self.text(style))?;
        Ok((
            (w as f64 / self.scale).round() as u32,
            (h as f64 / self.scale).round() as u32,
        ))
    }
}
