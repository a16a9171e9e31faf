//! The check's figures: each claim's effect under each perturbation (a specification curve),
//! and the final outcome mix under each.

use std::path::Path;

use super::{Datas, RobustnessArgs, Rows};
use crate::experiment::Experiment;
use crate::experiment::claims::{Claim, Statement, Verdict};
use crate::experiment::robustness;
use crate::plot::robustness::{ClaimCurve, Mix, OutcomeMix, Point, SpecificationCurve};
use crate::plot::{FigureSize, OUTCOME_STACK, Sheet, render};
use crate::results::RunData;

/// The specification curve of the claims and the outcome mix under each perturbation.
pub(super) fn draw(
    args: &RobustnessArgs,
    base: &Experiment,
    rows: &Rows,
    datas: &Datas,
    out: &Path,
) -> anyhow::Result<()> {
    let home = Path::new("runs").join(format!("{}_robustness", base.name));
    let plots = args
        .plots
        .clone()
        .unwrap_or_else(|| crate::commands::default_plots_beside(out, &home, &base.name));
    let subtitle = format!(
        "`{}` at {} seeds per arm and perturbation; a perturbation changes the base configuration only, not what an arm or the sweep sets (robustness.md beside the data lists each)",
        base.name, args.seeds
    );
    let curves = SpecificationCurve {
        name: "robustness_claims",
        title: format!("{}: each claim's effect under each perturbation", base.name),
        subtitle: format!(
            "{subtitle}. Effect: the mean (threshold claims) or the difference of means (Welch), with its 95% interval."
        ),
        claims: rows.iter().map(|(c, v)| curve(c, v)).collect(),
    };
    let mut written = render(&curves, &plots, &Sheet::new(FigureSize::Screen))?;
    let mix = OutcomeMix {
        name: "robustness_outcomes",
        title: format!("{}: the final outcome mix under each perturbation", base.name),
        subtitle,
        groups: mix_groups(base, rows, datas),
    };
    written.extend(render(&mix, &plots, &Sheet::new(FigureSize::Screen))?);
    crate::note!(
        "figures: {}",
        written
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(())
}

fn curve(claim: &Claim, verdicts: &[(String, Verdict)]) -> ClaimCurve {
    let effect = match &claim.statement {
        Statement::Threshold { value, .. } => value.metric.readable().to_string(),
        Statement::Compare { left, right, .. } | Statement::Difference { left, right, .. } => {
            let at = |v: &crate::experiment::claims::ValueRef| match v.at {
                crate::experiment::claims::At::Final => String::new(),
                crate::experiment::claims::At::Peak => " (peak)".to_string(),
                crate::experiment::claims::At::Step(s) => format!(" (step {s})"),
            };
            if left.metric == right.metric {
                format!(
                    "{}: {}{} − {}{}",
                    left.metric.readable(),
                    left.arm,
                    at(left),
                    right.arm,
                    at(right)
                )
            } else {
                format!("{} − {}", left.metric.readable(), right.metric.readable())
            }
        }
    };
    ClaimCurve {
        title: format!("{}: {}", claim.spec.name, claim.spec.check),
        effect,
        against: verdicts
            .iter()
            .find_map(|(_, v)| v.effect.map(|e| e.against))
            .unwrap_or(0.0),
        points: verdicts
            .iter()
            .map(|(p, v)| {
                let e = v.effect;
                Point {
                    perturbation: p.clone(),
                    estimate: e.map_or(f64::NAN, |e| e.estimate),
                    low: e.map_or(f64::NAN, |e| e.low),
                    high: e.map_or(f64::NAN, |e| e.high),
                    holds: v.holds,
                }
            })
            .collect(),
    }
}

/// The groups the claims name (at most six), each with its final outcome shares under every
/// perturbation.
fn mix_groups(
    base: &Experiment,
    rows: &[(Claim, Vec<(String, Verdict)>)],
    datas: &[(Vec<String>, Experiment, RunData)],
) -> Vec<(String, Vec<Mix>)> {
    let mut named: Vec<String> = Vec::new();
    for (claim, _) in rows {
        for v in claim.statement.values() {
            if !named.contains(&v.arm) {
                named.push(v.arm.clone());
            }
        }
    }
    named.truncate(6);
    named
        .into_iter()
        .map(|group| {
            let mut mixes = Vec::new();
            for (names, perturbed, data) in datas {
                for p in names {
                    let label = robustness::group_under(base, &group, p, perturbed.arms.len());
                    let window = data.config_of(&label).map_or(1, |c| c.eval.final_window);
                    let shares = OUTCOME_STACK
                        .iter()
                        .map(|(metric, _, _)| {
                            data.series(&label, "trained", metric).map_or(f64::NAN, |s| {
                                let v = crate::stats::finite(&s.finals(window));
                                v.iter().sum::<f64>() / v.len().max(1) as f64
                            })
                        })
                        .collect();
                    mixes.push(Mix {
                        perturbation: p.clone(),
                        shares,
                    });
                }
            }
            (group, mixes)
        })
        .collect()
}
