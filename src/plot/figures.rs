//! The core figures: the headline rates and the five outcomes (the diagnostics are in
//! `diagnostics.rs`).

use plotters::coord::Shift;
use plotters::prelude::*;

use super::frame::{Entry, Frame, Key};
use super::style::{FONT, LineKind, Panel, Trace, arm_color, caption, chart_on, draw_panel, err};
pub use super::subtitle::{describe, final_phrase, seeds_phrase};
use super::{Figure, Sheet};
use crate::metric::{
    COMPARTMENTALIZATION, CONCEALMENT, HEADLINE, HONEST_OBJECTION, IGNORANCE, RATIONALIZATION, REFUSAL,
    STRATEGIC_CONCEALMENT, Scope,
};
use crate::results::{RunData, Series};

/// The phases of the arm with the most of them (the followup counts as one): each after the
/// first pressure or teach phase is marked where it begins.
fn longest_plan(data: &RunData) -> Vec<crate::run::phases::Span> {
    data.groups
        .iter()
        .map(|g| crate::run::phases::spans(&g.config))
        .max_by_key(|spans| spans.len())
        .unwrap_or_default()
}

/// The phase boundaries after the first trained phase, each with its label (`followup →`).
pub fn marker(data: &RunData) -> Vec<(usize, String)> {
    longest_plan(data)
        .iter()
        .skip(2)
        .map(|span| (span.first - 1, format!("{} →", span.name)))
        .collect()
}

pub fn x_label(data: &RunData) -> String {
    let spans = longest_plan(data);
    match spans.len() {
        0..=2 => "pressure step".to_string(),
        _ => {
            let names: Vec<&str> = spans.iter().skip(1).map(|s| s.name.as_str()).collect();
            format!("training step ({})", names.join(", then "))
        }
    }
}

pub fn arm_entries(data: &RunData) -> Vec<Entry> {
    data.labels
        .iter()
        .enumerate()
        .map(|(i, a)| Entry {
            label: format!("{a} (N={})", data.seeds_of(a)),
            color: arm_color(i),
            key: Key::Line(LineKind::Solid),
        })
        .collect()
}

/// Refusal, honest objection, hidden objection and unobjecting compliance against step.
pub struct Headline<'a> {
    pub data: &'a RunData,
}

impl Headline<'_> {
    fn frame(&self) -> Frame {
        let data = self.data;
        Frame {
            title: format!(
                "{}: what pressure on contradictory tasks selects for",
                data.experiment.name
            ),
            subtitle: format!(
                "{}. Trained domains, observed. Mean over seeds ({}), band 95% t-interval, thin lines single seeds.",
                describe(data),
                seeds_phrase(data)
            ),
            legend: arm_entries(data),
            panels: HEADLINE.len(),
            columns: 2,
            aside: 0,
            stretch: 1.0,
        }
    }
}

impl Figure for Headline<'_> {
    fn name(&self) -> &str {
        "headline"
    }

    fn size(&self, sheet: &Sheet) -> (u32, u32) {
        self.frame().size(sheet, (1400, 1080))
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, sheet: &Sheet) -> anyhow::Result<()> {
        let data = self.data;
        let panels = self.frame().panels(root, sheet)?;
        for (metric, area) in HEADLINE.iter().zip(&panels) {
            let label = metric.replace('_', " ");
            let traces: Vec<Trace> = data
                .labels
                .iter()
                .enumerate()
                .filter_map(|(i, a)| {
                    data.series(a, Scope::Trained.name(), metric).map(|s| Trace {
                        color: arm_color(i),
                        series: s,
                        line: LineKind::Solid,
                    })
                })
                .collect();
            let panel = Panel {
                title: &label,
                y_label: "share of contradictory tasks",
                x_label: &x_label(data),
                y_range: Some(-0.02..1.02),
                x_max: data.last_step(),
                seeds: true,
                marker: marker(data),
            };
            draw_panel(area, &panel, &traces)?;
        }
        Ok(())
    }
}

/// The layers of the outcome stack, bottom to top: what the policy does on contradictory tasks.
pub const STACK: [(&str, &str, RGBColor); 7] = [
    (REFUSAL, "refusal", RGBColor(0, 114, 178)),
    (HONEST_OBJECTION, "honest objection", RGBColor(86, 180, 233)),
    (STRATEGIC_CONCEALMENT, "strategic concealment", RGBColor(153, 0, 13)),
    (CONCEALMENT, "concealment", RGBColor(213, 94, 0)),
    (COMPARTMENTALIZATION, "compartmentalization", RGBColor(240, 170, 60)),
    (RATIONALIZATION, "rationalization", RGBColor(150, 120, 190)),
    (IGNORANCE, "ignorance", RGBColor(90, 90, 90)),
];

/// The legend of the stacked outcomes: a swatch each.
pub fn stack_legend() -> Vec<Entry> {
    STACK
        .iter()
        .map(|(_, label, color)| Entry {
            label: label.to_string(),
            color: *color,
            key: Key::Swatch,
        })
        .collect()
}

/// The five outcomes (with refusal and honest objection below them) as stacked areas, per arm.
pub struct Outcomes<'a> {
    pub data: &'a RunData,
}

impl Outcomes<'_> {
    fn frame(&self) -> Frame {
        let data = self.data;
        Frame {
            title: format!("{}: where silent compliance goes, by outcome", data.experiment.name),
            subtitle: format!(
                "{}. Trained domains, observed; mean over seeds ({}). Hidden objection = the three red and orange layers above the blues.",
                describe(data),
                seeds_phrase(data)
            ),
            legend: stack_legend(),
            panels: data.labels.len(),
            columns: 2,
            aside: 0,
            stretch: 1.0,
        }
    }
}

impl Figure for Outcomes<'_> {
    fn name(&self) -> &str {
        "outcomes"
    }

    fn size(&self, sheet: &Sheet) -> (u32, u32) {
        let rows = self.data.labels.len().div_ceil(2) as u32;
        self.frame().size(sheet, (1400, 170 + 430 * rows))
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, sheet: &Sheet) -> anyhow::Result<()> {
        let data = self.data;
        let panels = self.frame().panels(root, sheet)?;
        for (arm, area) in data.labels.iter().zip(&panels) {
            let layers: Vec<Option<&Series>> = STACK
                .iter()
                .map(|(m, _, _)| data.series(arm, Scope::Trained.name(), m))
                .collect();
            let Some(first) = layers.iter().flatten().next() else {
                continue;
            };
            let steps: Vec<f64> = first.steps.iter().map(|&s| s as f64).collect();
            let (area, title) = caption(area, &format!("{arm} (N={})", data.seeds_of(arm)), 17.0)?;
            let mut chart = chart_on(&area, &title, 17.0)
                .margin(8)
                .x_label_area_size(36)
                .y_label_area_size(54)
                .build_cartesian_2d(0f64..data.last_step().max(1) as f64, 0f64..1f64)
                .map_err(err)?;
            chart
                .configure_mesh()
                .x_desc(x_label(data))
                .y_desc("share of contradictory tasks")
                .label_style((FONT, 13))
                .axis_desc_style((FONT, 14))
                .disable_x_mesh()
                .disable_y_mesh()
                .x_label_formatter(&|x| format!("{x:.0}"))
                .draw()
                .map_err(err)?;
            let mut below = vec![0.0f64; steps.len()];
            for (layer, (_, _, color)) in layers.iter().zip(STACK) {
                let Some(series) = layer else { continue };
                let means: Vec<f64> = series.summary().iter().map(|s| s.mean.max(0.0)).collect();
                let above: Vec<f64> = below.iter().zip(&means).map(|(b, m)| (b + m).min(1.0)).collect();
                let polygon: Vec<(f64, f64)> = steps
                    .iter()
                    .zip(&above)
                    .map(|(&x, &y)| (x, y))
                    .chain(steps.iter().zip(&below).rev().map(|(&x, &y)| (x, y)))
                    .collect();
                chart
                    .draw_series(std::iter::once(Polygon::new(polygon, color.filled())))
                    .map_err(err)?;
                below = above;
            }
            for (step, label) in marker(data) {
                let x = step as f64;
                chart
                    .draw_series(DashedLineSeries::new(
                        vec![(x, 0.0), (x, 1.0)],
                        6,
                        4,
                        WHITE.stroke_width(2),
                    ))
                    .map_err(err)?;
                chart
                    .draw_series(std::iter::once(Text::new(
                        label.to_string(),
                        (x + data.last_step() as f64 * 0.01, 0.97),
                        (FONT, 12).into_font().color(&WHITE),
                    )))
                    .map_err(err)?;
            }
        }
        Ok(())
    }
}
