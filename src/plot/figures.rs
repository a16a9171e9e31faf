//! The core figures: the headline rates, the five outcomes, and the diagnostics.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::data::{RunData, Series};
use super::frame::{Entry, Frame, Key};
use super::style::{FONT, LineKind, Panel, Trace, arm_color, caption, chart_on, draw_panel, err};
use super::{Figure, Sheet};
use crate::metric::{
    COMPARTMENTALIZATION, COMPLIANCE_GAP, CONCEALMENT, HEADLINE, HONEST_OBJECTION, IGNORANCE, JUDGMENT_ACCURACY, KL,
    OVER_REFUSAL, PROBE_FROZEN_RATE, PROBE_REFIT_ACCURACY, RATIONALIZATION, REFUSAL, REWARD_INSTITUTIONAL,
    REWARD_PRINCIPLED, STRATEGIC_CONCEALMENT, Scope,
};
use crate::run::RunConfig;

/// One value if every group agrees on it; else where it varies: "varied by arm", "swept" (from
/// one sweep point to the next within an arm), or "varied by arm and swept".
fn common<T: PartialEq + std::fmt::Display>(data: &RunData, f: impl Fn(&RunConfig) -> T) -> String {
    let values: Vec<T> = data.groups.iter().map(|g| f(&g.config)).collect();
    if values.windows(2).all(|w| w[0] == w[1]) {
        return values.into_iter().next().map(|v| v.to_string()).unwrap_or_default();
    }
    let groups = &data.groups;
    let same_arm = |i: usize, j: usize| groups[i].arm == groups[j].arm;
    let same_point = |i: usize, j: usize| groups[i].sweep == groups[j].sweep;
    let differ = |i: usize, j: usize| values[i] != values[j];
    let pairs = || (0..values.len()).flat_map(|i| (i + 1..values.len()).map(move |j| (i, j)));
    let swept = pairs().any(|(i, j)| same_arm(i, j) && differ(i, j));
    let by_arm = pairs().any(|(i, j)| !same_arm(i, j) && same_point(i, j) && differ(i, j));
    match (by_arm, swept) {
        (true, true) => VARIED_BY_ARM_AND_SWEPT.into(),
        (false, true) => SWEPT.into(),
        _ => VARIED_BY_ARM.into(),
    }
}

const VARIED_BY_ARM: &str = "varied by arm";
const SWEPT: &str = "swept";
const VARIED_BY_ARM_AND_SWEPT: &str = "varied by arm and swept";

/// What was trained, for a figure's subtitle.
pub fn describe(data: &RunData) -> String {
    let mut algorithms: Vec<String> = Vec::new();
    for g in &data.groups {
        let name = g.config.pressure.algorithm.name().to_uppercase();
        if !algorithms.contains(&name) {
            algorithms.push(name);
        }
    }
    let algorithm = match algorithms.len() {
        1 => algorithms.remove(0),
        _ => format!("{} (by arm)", algorithms.join(" or ")),
    };
    let kinds = common(data, |c| c.reward.kind());
    let width = |c: &RunConfig| {
        let dims: Vec<String> = c.policy.hidden.iter().map(|h| h.to_string()).collect();
        format!("{}→{}→3+1", c.world.latent_dim + 8, dims.join("→"))
    };
    // The followup as the arms that have one train it.
    let with: Vec<&RunConfig> = data
        .groups
        .iter()
        .map(|g| &g.config)
        .filter(|c| c.followup.steps > 0)
        .collect();
    let same = |f: &dyn Fn(&RunConfig) -> String| {
        let values: Vec<String> = with.iter().map(|c| f(c)).collect();
        if values.windows(2).all(|w| w[0] == w[1]) {
            values.first().cloned().unwrap_or_default()
        } else {
            VARIED_BY_ARM.into()
        }
    };
    let followup = if with.is_empty() {
        String::new()
    } else {
        format!(
            ", then a followup on the {} reward ({} steps{})",
            same(&|c| c.followup.reward.kind().to_string()),
            same(&|c| c.followup.steps.to_string()),
            if with.len() < data.groups.len() {
                "; not in every arm"
            } else {
                ""
            }
        )
    };
    let reward = if kinds == VARIED_BY_ARM {
        "each arm's reward".to_string()
    } else if [SWEPT, VARIED_BY_ARM_AND_SWEPT].contains(&kinds.as_str()) {
        "each group's reward".to_string()
    } else {
        format!("the {kinds} reward")
    };
    format!(
        "{algorithm} on {reward} for {} steps (KL {}) after {} constitution steps{followup}; MLP {}, {} backend",
        common(data, |c| c.pressure.steps),
        common(data, |c| c.pressure.kl),
        common(data, |c| c.constitution.steps),
        common(data, width),
        data.experiment.backend,
    )
}

pub fn seeds_phrase(data: &RunData) -> String {
    let ns: Vec<usize> = data.labels.iter().map(|a| data.seeds_of(a)).collect();
    match ns.first() {
        Some(1) if ns.iter().all(|&n| n == 1) => "N = 1 seed per arm".into(),
        Some(n) if ns.iter().all(|m| m == n) => format!("N = {n} seeds per arm"),
        _ => "N seeds per arm in the legend".into(),
    }
}

/// How a seed's final value is taken, for a subtitle.
pub fn final_phrase(data: &RunData) -> String {
    let windows: Vec<usize> = data.groups.iter().map(|g| g.config.eval.final_window).collect();
    match windows.first() {
        Some(1) if windows.iter().all(|&w| w == 1) => "its last evaluation".into(),
        Some(w) if windows.iter().all(|v| v == w) => format!("mean of its last {w} evaluations"),
        _ => "mean of its last eval.final_window evaluations".into(),
    }
}

/// The followup boundary, if any arm has a followup.
pub fn marker(data: &RunData) -> Option<(usize, &'static str)> {
    let with = data.groups.iter().find(|g| g.config.followup.steps > 0)?;
    Some((with.config.pressure.steps, "followup →"))
}

pub fn x_label(data: &RunData) -> &'static str {
    if marker(data).is_some() {
        "training step (pressure, then followup)"
    } else {
        "pressure step"
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
                x_label: x_label(data),
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
            if let Some((step, label)) = marker(data) {
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

/// Compliance gap, judgment, frozen vs refit probe, gold vs institutional reward, KL, over-refusal.
pub struct Diagnostics<'a> {
    pub data: &'a RunData,
}

/// Panels of the diagnostics figure: title, y label, solid metric, dashed metric, fixed range.
#[allow(clippy::type_complexity)]
const DIAGNOSTICS: [(&str, &str, &str, Option<&str>, Option<(f64, f64)>); 6] = [
    (
        "compliance gap (observed − unobserved)",
        "P(comply) difference",
        COMPLIANCE_GAP,
        None,
        None,
    ),
    (
        "judgment accuracy (judge queries)",
        "accuracy",
        JUDGMENT_ACCURACY,
        None,
        Some((0.0, 1.02)),
    ),
    (
        "conscience probe: frozen fires (solid), refit accuracy (dashed)",
        "rate / accuracy",
        PROBE_FROZEN_RATE,
        Some(PROBE_REFIT_ACCURACY),
        Some((0.0, 1.02)),
    ),
    (
        "reward: gold/principled (solid), institutional (dashed)",
        "expected reward per act query",
        REWARD_PRINCIPLED,
        Some(REWARD_INSTITUTIONAL),
        None,
    ),
    (
        "KL to the constitution policy",
        "KL (nats, act queries)",
        KL,
        None,
        None,
    ),
    (
        "over-refusal (benign tasks)",
        "P(refuse)",
        OVER_REFUSAL,
        None,
        Some((0.0, 1.02)),
    ),
];

impl Diagnostics<'_> {
    fn frame(&self) -> Frame {
        let data = self.data;
        Frame {
            title: format!("{}: diagnostics", data.experiment.name),
            subtitle: format!(
                "{}. Trained domains, observed. Mean over seeds ({}), band 95% t-interval.",
                describe(data),
                seeds_phrase(data)
            ),
            legend: arm_entries(data),
            panels: DIAGNOSTICS.len(),
            columns: 2,
            aside: 0,
            stretch: 1.0,
        }
    }
}

impl Figure for Diagnostics<'_> {
    fn name(&self) -> &str {
        "diagnostics"
    }

    fn size(&self, sheet: &Sheet) -> (u32, u32) {
        self.frame().size(sheet, (1400, 1480))
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, sheet: &Sheet) -> anyhow::Result<()> {
        let data = self.data;
        let panels = self.frame().panels(root, sheet)?;
        for ((label, y_label, solid, dashed, range), area) in DIAGNOSTICS.iter().zip(&panels) {
            let mut traces = Vec::new();
            for (i, a) in data.labels.iter().enumerate() {
                if let Some(s) = data.series(a, Scope::Trained.name(), solid) {
                    traces.push(Trace {
                        color: arm_color(i),
                        series: s,
                        line: LineKind::Solid,
                    });
                }
                if let Some(s) = dashed.and_then(|m| data.series(a, Scope::Trained.name(), m)) {
                    traces.push(Trace {
                        color: arm_color(i),
                        series: s,
                        line: LineKind::Dashed,
                    });
                }
            }
            let panel = Panel {
                title: label,
                y_label,
                x_label: x_label(data),
                y_range: range.map(|(a, b)| a..b),
                x_max: data.last_step(),
                seeds: false,
                marker: marker(data),
            };
            draw_panel(area, &panel, &traces)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plot::{Group, Header};

    /// Groups (arm, sweep point, KL) with nothing measured.
    fn data(groups: &[(&str, &str, f64)]) -> RunData {
        let header = Header {
            name: "t".into(),
            backend: "flex".into(),
            arms: groups.iter().map(|g| g.0.to_string()).collect(),
            sweep: Vec::new(),
            figures: Vec::new(),
            heatmaps: Vec::new(),
            refine: None,
            training: false,
        };
        let groups = groups
            .iter()
            .map(|&(arm, point, kl)| {
                let mut config = RunConfig::default();
                config.pressure.kl = kl;
                Group {
                    arm: arm.into(),
                    sweep: vec![point.into()],
                    config,
                }
            })
            .collect();
        RunData::new(header, groups, Vec::new())
    }

    #[test]
    fn a_subtitle_says_whether_a_setting_varies_by_arm_or_along_the_sweep() {
        let kl = |d: &RunData| common(d, |c| c.pressure.kl);
        assert_eq!(kl(&data(&[("a", "1", 0.1), ("b", "1", 0.1)])), "0.1");
        assert_eq!(kl(&data(&[("a", "1", 0.1), ("b", "1", 0.3)])), "varied by arm");
        assert_eq!(kl(&data(&[("a", "1", 0.1), ("a", "2", 0.3)])), "swept");
        assert_eq!(
            kl(&data(&[
                ("a", "1", 0.1),
                ("a", "2", 0.3),
                ("b", "1", 0.2),
                ("b", "2", 0.3)
            ])),
            "varied by arm and swept"
        );
    }
}
