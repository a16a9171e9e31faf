//! The figures of a robustness check: a specification curve per claim (its effect with its 95%
//! interval under each perturbation, sorted, against the line the claim holds it to), and the
//! outcome mix of the arms the claims name under each perturbation.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;

use super::Figure;
use super::frame::{Entry, Frame, Key};
use super::sheet::Sheet;
use super::style::{FONT, LineKind, err, text_width};

/// One claim's effect under one perturbation.
#[derive(Debug, Clone)]
pub struct Point {
    pub perturbation: String,
    pub estimate: f64,
    pub low: f64,
    pub high: f64,
    /// Whether the claim holds there (`None`: it could not be checked).
    pub holds: Option<bool>,
}

/// A claim across perturbations.
#[derive(Debug, Clone)]
pub struct ClaimCurve {
    pub title: String,
    /// What the effect is, for the y axis.
    pub effect: String,
    /// The line the claim holds the effect to.
    pub against: f64,
    pub points: Vec<Point>,
}

const HOLDS: RGBColor = RGBColor(0, 114, 178);
const FAILS: RGBColor = RGBColor(213, 94, 0);
const COLUMNS: usize = 2;

/// The specification-curve figure.
pub struct SpecificationCurve<'a> {
    pub name: &'a str,
    pub title: String,
    pub subtitle: String,
    pub claims: Vec<ClaimCurve>,
}

impl Figure for SpecificationCurve<'_> {
    fn name(&self) -> &str {
        self.name
    }

    fn size(&self, sheet: &Sheet) -> (u32, u32) {
        let rows = self.claims.len().div_ceil(COLUMNS).max(1) as u32;
        self.frame().size(sheet, (1400, 92 + 40 + rows * 380))
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, sheet: &Sheet) -> anyhow::Result<()> {
        for (area, claim) in self.frame().panels(root, sheet)?.iter().zip(&self.claims) {
            draw_curve(area, claim)?;
        }
        Ok(())
    }
}

impl SpecificationCurve<'_> {
    fn frame(&self) -> Frame {
        Frame {
            title: self.title.clone(),
            subtitle: self.subtitle.clone(),
            legend: vec![
                Entry {
                    label: "claim holds (filled dot)".into(),
                    color: HOLDS,
                    key: Key::Dot,
                },
                Entry {
                    label: "claim does not hold (cross)".into(),
                    color: FAILS,
                    key: Key::Dot,
                },
                Entry {
                    label: "the claim's line (dashed)".into(),
                    color: RGBColor(90, 90, 90),
                    key: Key::Line(LineKind::Dashed),
                },
            ],
            panels: self.claims.len(),
            columns: COLUMNS,
            aside: 0,
            stretch: 1.0,
        }
    }
}

fn draw_curve<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, claim: &ClaimCurve) -> anyhow::Result<()> {
    // Sorted by the effect, largest at the top; perturbations on the y axis so names never collide.
    let mut points = claim.points.clone();
    points.sort_by(|a, b| a.estimate.total_cmp(&b.estimate));
    let values = points
        .iter()
        .flat_map(|p| [p.low, p.high, p.estimate])
        .chain([claim.against])
        .filter(|v| v.is_finite());
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| (l.min(v), h.max(v)));
    let (lo, hi) = if lo.is_finite() { (lo, hi) } else { (0.0, 1.0) };
    let pad = ((hi - lo) * 0.1).max(0.02);
    let n = points.len().max(1);
    let labels: Vec<String> = points.iter().map(|p| p.perturbation.clone()).collect();
    // A title wider than its panel keeps the claim's name above and moves its statement to
    // the axis below.
    let (title, effect) = match claim.title.split_once(": ") {
        Some((name, check)) if text_width(&claim.title, 14.0, FontStyle::Bold) + 20 > area.dim_in_pixel().0 => {
            let below = format!("{} ({check})", claim.effect);
            let fits = text_width(&below, 13.0, FontStyle::Normal) + 140 < area.dim_in_pixel().0;
            (name.to_string(), if fits { below } else { claim.effect.clone() })
        }
        _ => (claim.title.clone(), claim.effect.clone()),
    };
    let mut chart = ChartBuilder::on(area)
        .caption(&title, (FONT, 14).into_font().style(FontStyle::Bold))
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(110)
        .build_cartesian_2d((lo - pad)..(hi + pad), -0.6..(n as f64 - 0.4))
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc(&effect)
        .y_labels(n * 2 + 1)
        .y_label_formatter(&|y| {
            let i = y.round();
            if (y - i).abs() < 1e-6 && i >= 0.0 {
                labels.get(i as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .label_style((FONT, 12))
        .axis_desc_style((FONT, 13))
        .light_line_style(RGBColor(235, 235, 235))
        .disable_y_mesh()
        .draw()
        .map_err(err)?;
    chart
        .draw_series(DashedLineSeries::new(
            vec![(claim.against, -0.6), (claim.against, n as f64 - 0.4)],
            6,
            4,
            RGBColor(90, 90, 90).stroke_width(2),
        ))
        .map_err(err)?;
    for (i, p) in points.iter().enumerate() {
        let y = i as f64;
        let color = if p.holds == Some(true) { HOLDS } else { FAILS };
        if p.low.is_finite() && p.high.is_finite() {
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(p.low, y), (p.high, y)],
                    color.stroke_width(2),
                )))
                .map_err(err)?;
        }
        if p.estimate.is_finite() {
            match p.holds {
                Some(true) => chart
                    .draw_series(std::iter::once(Circle::new((p.estimate, y), 6, color.filled())))
                    .map_err(err)?,
                _ => chart
                    .draw_series(std::iter::once(Cross::new((p.estimate, y), 7, color.stroke_width(3))))
                    .map_err(err)?,
            };
        }
    }
    Ok(())
}

/// One group's final outcome shares under one perturbation.
#[derive(Debug, Clone)]
pub struct Mix {
    pub perturbation: String,
    /// Shares in the order of the outcome stack ([`super::OUTCOME_STACK`]).
    pub shares: Vec<f64>,
}

/// The outcome-mix figure: one panel per group, a stacked bar per perturbation.
pub struct OutcomeMix<'a> {
    pub name: &'a str,
    pub title: String,
    pub subtitle: String,
    pub groups: Vec<(String, Vec<Mix>)>,
}

impl Figure for OutcomeMix<'_> {
    fn name(&self) -> &str {
        self.name
    }

    fn size(&self, sheet: &Sheet) -> (u32, u32) {
        let rows = self.groups.len().div_ceil(COLUMNS).max(1) as u32;
        self.frame().size(sheet, (1600, 92 + 60 + rows * 400))
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, sheet: &Sheet) -> anyhow::Result<()> {
        let areas = self.frame().panels(root, sheet)?;
        for (area, (group, mixes)) in areas.iter().zip(&self.groups) {
            let n = mixes.len().max(1);
            let labels: Vec<String> = mixes.iter().map(|m| m.perturbation.clone()).collect();
            let mut chart = ChartBuilder::on(area)
                .caption(group, (FONT, 15).into_font().style(FontStyle::Bold))
                .margin(10)
                .x_label_area_size(70)
                .y_label_area_size(54)
                .build_cartesian_2d(-0.6..(n as f64 - 0.4), 0.0..1.0)
                .map_err(err)?;
            chart
                .configure_mesh()
                .y_desc("share of contradictory tasks (final)")
                .x_labels(n * 2 + 1)
                .x_label_formatter(&|x| {
                    let i = x.round();
                    if (x - i).abs() < 1e-6 && i >= 0.0 {
                        labels.get(i as usize).cloned().unwrap_or_default()
                    } else {
                        String::new()
                    }
                })
                .label_style((FONT, 11))
                .axis_desc_style((FONT, 13))
                .disable_x_mesh()
                .draw()
                .map_err(err)?;
            for (i, mix) in mixes.iter().enumerate() {
                let x = i as f64;
                let mut base = 0.0;
                for (share, (_, _, color)) in mix.shares.iter().zip(&super::OUTCOME_STACK) {
                    let top = base + share.max(0.0);
                    chart
                        .draw_series(std::iter::once(Rectangle::new(
                            [(x - 0.35, base), (x + 0.35, top.min(1.0))],
                            color.filled(),
                        )))
                        .map_err(err)?;
                    base = top;
                }
            }
        }
        Ok(())
    }
}

impl OutcomeMix<'_> {
    fn frame(&self) -> Frame {
        Frame {
            title: self.title.clone(),
            subtitle: self.subtitle.clone(),
            legend: super::figures::stack_legend(),
            panels: self.groups.len(),
            columns: COLUMNS,
            aside: 0,
            stretch: 1.0,
        }
    }
}
