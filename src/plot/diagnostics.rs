//! The diagnostics figure: what explains the headline rates. Its panels follow what the
//! experiment trained: the reward panel shows the gold and the institutional reward for a
//! reward table, and the gold reward, the raters' utility and the learned reward (or DPO's
//! implicit reward) for a learned one, which also gets the reward model's held-out accuracy and
//! the learned margin between complying and refusing.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::figures::{arm_entries, describe, marker, seeds_phrase, x_label};
use super::frame::Frame;
use super::style::{LineKind, Panel, Trace, arm_color, draw_panel};
use super::{Figure, Sheet};
use crate::metric::{
    COMPLIANCE_GAP, JUDGMENT_ACCURACY, KL, OVER_REFUSAL, PROBE_FROZEN_RATE, PROBE_REFIT_ACCURACY, REWARD_INSTITUTIONAL,
    REWARD_PRINCIPLED, REWARD_PROXY, REWARD_RATERS, RM, RM_ACCURACY, RM_ACCURACY_CEILING, RM_REFUSAL_MARGIN, Scope,
};
use crate::results::{RunData, Series};
use crate::reward::RewardConfig;

/// A series measured once (a reward model fit before pressure and not refit) held at its value
/// to `last`, the step the other panels end at: the model it measures does not change until then.
fn held(series: &Series, last: usize) -> Series {
    match series.steps.as_slice() {
        [only] if *only < last => Series {
            steps: vec![*only, last],
            seeds: series.seeds.iter().map(|s| vec![s[0], s[0]]).collect(),
            ..series.clone()
        },
        _ => series.clone(),
    }
}

/// What `reward_proxy` is in these arms: a learned reward model's value, DPO's implicit reward,
/// or each in its own arms.
fn proxy_name(model: bool, dpo: bool) -> &'static str {
    match (model, dpo) {
        (true, true) => "learned or DPO's implicit reward",
        (false, true) => "DPO's implicit reward",
        _ => "learned reward",
    }
}

/// The diagnostics of a run folder's data.
pub struct Diagnostics<'a> {
    pub data: &'a RunData,
}

/// One panel: its title, y label, scope, metrics with their line kinds, and a fixed range.
struct Diagnostic {
    title: String,
    y_label: &'static str,
    scope: &'static str,
    lines: Vec<(&'static str, LineKind)>,
    range: Option<(f64, f64)>,
}

fn panel(
    title: &str,
    y_label: &'static str,
    scope: &'static str,
    lines: &[(&'static str, LineKind)],
    range: Option<(f64, f64)>,
) -> Diagnostic {
    Diagnostic {
        title: title.to_string(),
        y_label,
        scope,
        lines: lines.to_vec(),
        range,
    }
}

impl Diagnostics<'_> {
    /// What the arms trained on: a learned reward model (RL on it), the comparisons directly
    /// (DPO or IPO), a reward table.
    fn trained_on(&self) -> (bool, bool, bool) {
        let groups = &self.data.groups;
        let learned = |g: &&crate::results::Group| matches!(g.config.reward, RewardConfig::Learned(_));
        let dpo = groups.iter().any(|g| g.config.pressure.algorithm.on_comparisons());
        let model = groups
            .iter()
            .filter(learned)
            .any(|g| !g.config.pressure.algorithm.on_comparisons());
        let table = groups.iter().any(|g| !learned(&g));
        (model, dpo, table)
    }

    fn panels(&self) -> Vec<Diagnostic> {
        use LineKind::{Dashed, Dotted, Solid};
        let trained = Scope::Trained.name();
        let unit = Some((0.0, 1.02));
        let (model, dpo, table) = self.trained_on();
        let mut out = vec![
            panel(
                "compliance gap (observed − unobserved)",
                "P(comply) difference",
                trained,
                &[(COMPLIANCE_GAP, Solid)],
                None,
            ),
            panel(
                "judgment accuracy (judge queries)",
                "accuracy",
                trained,
                &[(JUDGMENT_ACCURACY, Solid)],
                unit,
            ),
            panel(
                "conscience probe: frozen fires (solid), refit accuracy (dashed, ○)",
                "rate / accuracy",
                trained,
                &[(PROBE_FROZEN_RATE, Solid), (PROBE_REFIT_ACCURACY, Dashed)],
                unit,
            ),
        ];
        if model || dpo {
            let proxy = proxy_name(model, dpo);
            let dashed = if table {
                "institutional or raters' utility"
            } else {
                "raters' utility"
            };
            // An arm on a table draws its institutional reward; one on raters, their utility.
            out.push(panel(
                &format!("reward: gold (solid), {dashed} (dashed, ○), {proxy} (dotted, □)"),
                "expected reward per act query",
                trained,
                &[
                    (REWARD_PRINCIPLED, Solid),
                    (REWARD_INSTITUTIONAL, Dashed),
                    (REWARD_RATERS, Dashed),
                    (REWARD_PROXY, Dotted),
                ],
                None,
            ));
        } else {
            out.push(panel(
                "reward: gold/principled (solid), institutional (dashed, ○)",
                "expected reward per act query",
                trained,
                &[(REWARD_PRINCIPLED, Solid), (REWARD_INSTITUTIONAL, Dashed)],
                None,
            ));
        }
        out.push(panel(
            "KL to the constitution policy",
            "KL (nats, act queries)",
            trained,
            &[(KL, Solid)],
            None,
        ));
        out.push(panel(
            "over-refusal (benign tasks)",
            "P(refuse)",
            trained,
            &[(OVER_REFUSAL, Solid)],
            unit,
        ));
        if model {
            out.push(panel(
                "reward model: held-out accuracy (solid), the raters' own ceiling (dashed, ○); fit once before pressure, it stays flat unless refit online",
                "accuracy on held-out comparisons",
                RM,
                &[(RM_ACCURACY, Solid), (RM_ACCURACY_CEILING, Dashed)],
                unit,
            ));
        }
        if model || dpo {
            out.push(panel(
                &format!("{}: comply − refuse, contradictory tasks", proxy_name(model, dpo)),
                "reward margin",
                trained,
                &[(RM_REFUSAL_MARGIN, Solid)],
                None,
            ));
        }
        out
    }

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
            panels: self.panels().len(),
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
        let rows = self.panels().len().div_ceil(2) as u32;
        self.frame().size(sheet, (1400, 151 + 443 * rows))
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, sheet: &Sheet) -> anyhow::Result<()> {
        let data = self.data;
        let panels = self.panels();
        let areas = self.frame().panels(root, sheet)?;
        for (d, area) in panels.iter().zip(&areas) {
            let mut traces = Vec::new();
            let mut flat = Vec::new();
            for (i, a) in data.labels.iter().enumerate() {
                for &(metric, line) in &d.lines {
                    // The raters' utility stands where an arm has one: their institution is
                    // only part of it.
                    if metric == REWARD_INSTITUTIONAL && data.series(a, d.scope, REWARD_RATERS).is_some() {
                        continue;
                    }
                    if let Some(series) = data.series(a, d.scope, metric) {
                        flat.push((i, line, held(series, data.last_step())));
                    }
                }
            }
            for (i, line, series) in &flat {
                traces.push(Trace {
                    color: arm_color(*i),
                    series,
                    line: *line,
                });
            }
            let panel = Panel {
                title: &d.title,
                y_label: d.y_label,
                x_label: &x_label(data),
                y_range: d.range.map(|(a, b)| a..b),
                x_max: data.last_step(),
                seeds: false,
                marker: marker(data),
            };
            draw_panel(area, &panel, &traces)?;
        }
        Ok(())
    }
}
