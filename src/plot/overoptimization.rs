//! The overoptimization figure (docs/model.md §7): the raters' utility and the proxy reward
//! against d = √KL, over training and best-of-n, with the fits `results::overoptimization`
//! makes, one panel per group with a learned reward.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::figures::{describe, seeds_phrase};
use super::frame::{Entry, Frame, Key};
use super::spec::FigureSpec;
use super::style::{FONT, LineKind, caption, chart_on, err};
use super::{Drawn, Figure, Sheet};
use crate::metric::REWARD_RATERS;
use crate::results::RunData;
use crate::results::overoptimization::{Form, GroupCurves, curves};
use crate::reward::RewardConfig;
use crate::run::RunConfig;

/// The figure: one panel per group with a learned reward.
pub struct Overoptimization<'a> {
    pub data: &'a RunData,
    pub name: &'a str,
    pub title: &'a str,
    pub groups: Vec<GroupCurves>,
}

/// The figure kind `overoptimization`: takes only `name` and `title`, and needs an arm with a
/// learned reward.
pub struct Kind;

impl super::kind::Kind for Kind {
    // One panel per group, so drawn however many groups there are.
    const LINES: bool = false;

    fn check<'s>(spec: &'s FigureSpec, arms: &[(&str, &RunConfig)]) -> Result<Vec<&'s String>, String> {
        if !spec.panels.is_empty() || !spec.x.is_empty() || !spec.metrics.is_empty() || spec.x_scale.is_some() {
            return Err("an `overoptimization` figure takes only `name` and `title`".into());
        }
        if !arms.iter().any(|(_, c)| matches!(c.reward, RewardConfig::Learned(_))) {
            return Err(
                "an `overoptimization` figure needs an arm with reward.kind = \"learned\" (it plots reward_raters and reward_proxy)"
                    .into(),
            );
        }
        Ok(Vec::new())
    }

    fn figures<'a>(data: &'a RunData, spec: &'a FigureSpec) -> Result<Vec<Drawn<'a>>, String> {
        let groups = curves(data);
        if groups.is_empty() {
            return Err(format!("`{}`: no group recorded a learned reward", spec.name));
        }
        Ok(vec![Box::new(Overoptimization {
            data,
            name: &spec.name,
            title: &spec.title,
            groups,
        })])
    }
}

const COLUMNS: usize = 3;
const PANEL_HEIGHT: u32 = 430;
const LEGEND_HEIGHT: u32 = 56;
const RATERS: RGBColor = RGBColor(0, 114, 178);
const PROXY: RGBColor = RGBColor(213, 94, 0);

fn color(metric: &str) -> RGBColor {
    if metric == REWARD_RATERS { RATERS } else { PROXY }
}

fn form_name(form: Form) -> &'static str {
    match form {
        Form::Rl => "training",
        Form::BestOfN => "best-of-n",
    }
}

impl Figure for Overoptimization<'_> {
    fn name(&self) -> &str {
        self.name
    }

    fn size(&self, sheet: &Sheet) -> (u32, u32) {
        let rows = self.groups.len().div_ceil(COLUMNS).max(1) as u32;
        self.frame()
            .size(sheet, (1500, 92 + LEGEND_HEIGHT + rows * PANEL_HEIGHT))
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, sheet: &Sheet) -> anyhow::Result<()> {
        let frame = self.frame();
        let panels = frame.draw(root)?;
        let areas = panels.split_evenly(frame.grid(sheet));
        for (area, group) in areas.iter().zip(&self.groups) {
            draw_group(area, group)?;
        }
        Ok(())
    }
}

impl Overoptimization<'_> {
    fn frame(&self) -> Frame {
        let entry = |label: &str, color: RGBColor, line: LineKind| Entry {
            label: label.to_string(),
            color,
            key: Key::Line(line),
        };
        Frame {
            title: self.title.to_string(),
            subtitle: format!(
                "{}. Gain over the reference (step 0, or n = 1) against d = √KL on the trained scope's tasks; \
                 dots: each seed's evaluations; lines: least-squares fits on them. {}",
                describe(self.data),
                seeds_phrase(self.data)
            ),
            legend: vec![
                entry(
                    "raters' utility (reward_raters), over training: fit d(α − β log d)",
                    RATERS,
                    LineKind::Solid,
                ),
                entry("proxy (reward_proxy), over training", PROXY, LineKind::Solid),
                entry("raters' utility, best-of-n: fit d(α − β d)", RATERS, LineKind::Dashed),
                entry("proxy, best-of-n", PROXY, LineKind::Dashed),
                entry(
                    "the raters' best mean point (peak)",
                    RGBColor(90, 90, 90),
                    LineKind::Dotted,
                ),
            ],
            panels: self.groups.len(),
            columns: COLUMNS,
            aside: 0,
            stretch: 1.0,
        }
    }
}

fn draw_group<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, group: &GroupCurves) -> anyhow::Result<()> {
    let all = group.curves.iter().flat_map(|c| c.seeds.iter().chain(&c.means));
    let (mut x_hi, mut y_lo, mut y_hi) = (0.0f64, 0.0f64, 0.0f64);
    for &(d, y) in all {
        x_hi = x_hi.max(d);
        y_lo = y_lo.min(y);
        y_hi = y_hi.max(y);
    }
    let x_hi = (x_hi * 1.08).max(0.1);
    let pad = ((y_hi - y_lo) * 0.1).max(0.05);
    let (area, title) = caption(area, &group.group, 16.0)?;
    let area = &area;
    let mut chart = chart_on(area, &title, 16.0)
        .margin(10)
        .x_label_area_size(38)
        .y_label_area_size(54)
        .build_cartesian_2d(0.0..x_hi, (y_lo - pad)..(y_hi + pad))
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("d = √KL to the reference")
        .y_desc("gain over the reference")
        .label_style((FONT, 12))
        .axis_desc_style((FONT, 13))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()
        .map_err(err)?;
    let mut notes = Vec::new();
    for curve in &group.curves {
        let c = color(curve.metric);
        let dots = curve.seeds.iter().map(|&p| match curve.form {
            Form::Rl => Circle::new(p, 2, c.mix(0.25).filled()).into_dyn(),
            Form::BestOfN => TriangleMarker::new(p, 4, c.mix(0.5).filled()).into_dyn(),
        });
        chart.draw_series(dots).map_err(err)?;
        if let Some(fit) = &curve.fit {
            let line: Vec<(f64, f64)> = (0..=120)
                .map(|i| {
                    let d = x_hi * i as f64 / 120.0;
                    (d, curve.form.value(fit, d))
                })
                .collect();
            match curve.form {
                Form::Rl => chart
                    .draw_series(LineSeries::new(line, c.stroke_width(2)))
                    .map_err(err)?,
                Form::BestOfN => chart
                    .draw_series(DashedLineSeries::new(line, 8, 5, c.stroke_width(2)))
                    .map_err(err)?,
            };
            let who = if curve.metric == REWARD_RATERS {
                "raters"
            } else {
                "proxy"
            };
            notes.push((
                c,
                format!(
                    "{} {who}: α = {:.3}, β = {:.3}",
                    form_name(curve.form),
                    fit.alpha,
                    fit.beta
                ),
            ));
        }
        if curve.metric == REWARD_RATERS
            && let Some((d, y)) = curve.best()
        {
            chart
                .draw_series(DashedLineSeries::new(
                    vec![(d, y_lo - pad), (d, y)],
                    2,
                    4,
                    RGBColor(90, 90, 90).stroke_width(2),
                ))
                .map_err(err)?;
            chart
                .draw_series(std::iter::once(Circle::new((d, y), 6, c.stroke_width(2))))
                .map_err(err)?;
        }
    }
    let (_, h) = area.dim_in_pixel();
    for (i, (c, text)) in notes.iter().enumerate() {
        area.draw(&Text::new(
            text.clone(),
            (74, 40 + 16 * i as i32),
            (FONT, 12).into_font().color(c),
        ))
        .map_err(err)?;
    }
    let _ = h;
    Ok(())
}
