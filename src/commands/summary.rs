//! `pressure summary`: final values of a finished run folder as a table — per arm and metric,
//! the mean over seeds of each seed's final value, with a 95% interval and N. A seed's "final"
//! value is its mean over its last `eval.final_window` evaluations after step 0
//! ([`Series::finals`]); `--step` shows the values at one evaluated step instead.

use std::path::Path;
use std::process::ExitCode;

use super::print_out;
use crate::metric::{
    ACT_ACCURACY, CONSTITUTION, HEADLINE, JUDGMENT_ACCURACY, MetricRef, RM, RM_METRICS, TRAIN, TRAIN_METRICS,
};
use crate::plot::{RunData, Series, Summary, summarize};

/// `pressure summary`: final values (mean over the last `eval.final_window` evaluations of each
/// seed, then mean and 95% interval over seeds) as a Markdown table.
pub fn summary(run_dir: &Path, scope: &str, metrics: &[String], step: Option<usize>) -> anyhow::Result<ExitCode> {
    let data = crate::experiment::folder::load_data(run_dir)?;
    // The scope first, so that a bad scope is blamed on --scope, not on a metric.
    let known = crate::metric::Scope::ALL.iter().any(|s| s.name() == scope) || [TRAIN, CONSTITUTION].contains(&scope);
    if !known {
        let scopes: Vec<&str> = crate::metric::Scope::ALL.iter().map(|s| s.name()).collect();
        anyhow::bail!(
            "--scope {scope}: not a scope; valid: {}, {TRAIN}, {CONSTITUTION}",
            scopes.join(", ")
        );
    }
    let flag = if metrics.is_empty() { "--scope" } else { "--metrics" };
    let metrics: Vec<&str> = match (metrics.is_empty(), scope) {
        (true, TRAIN) => TRAIN_METRICS.iter().map(|m| m.name).collect(),
        (true, CONSTITUTION) => vec![ACT_ACCURACY, JUDGMENT_ACCURACY],
        (true, RM) => RM_METRICS.iter().map(|m| m.name).collect(),
        (true, _) => HEADLINE.to_vec(),
        (false, _) => metrics.iter().map(String::as_str).collect(),
    };
    for m in &metrics {
        MetricRef::parse(&format!("{scope}:{m}"), None).map_err(|e| anyhow::anyhow!("{flag} {m}: {e}"))?;
    }
    let recorded: Vec<&Series> = data
        .labels
        .iter()
        .filter_map(|a| data.series(a, scope, metrics[0]))
        .collect();
    anyhow::ensure!(
        data.labels.iter().any(|a| data.seeds_of(a) > 0),
        "{}: no completed run to summarize (see manifest.json)",
        run_dir.display()
    );
    anyhow::ensure!(
        !recorded.is_empty(),
        "--scope {scope}: {} has no values in this scope; its scopes: {}, {TRAIN}, {CONSTITUTION}, {RM}",
        run_dir.display(),
        data.scopes().join(", ")
    );
    if let Some(step) = step {
        let mut steps: Vec<usize> = recorded.iter().flat_map(|s| s.steps.iter().copied()).collect();
        steps.sort_unstable();
        steps.dedup();
        anyhow::ensure!(
            steps.contains(&step),
            "--step {step}: not an evaluated step of scope {scope}; evaluated: {}",
            steps.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(", ")
        );
    }
    print_out(&final_table(&data, scope, &metrics, step))?;
    Ok(ExitCode::SUCCESS)
}

/// The window of a group (its `eval.final_window`).
fn window(data: &RunData, label: &str) -> usize {
    data.config_of(label).map_or(1, |c| c.eval.final_window)
}

fn cell(s: &Summary) -> String {
    // Three decimals, without the sign of a value that rounds to zero.
    let show = |v: f64| format!("{:.3}", if v.abs() < 5e-4 { 0.0 } else { v });
    if s.n == 0 {
        "—".into()
    } else if s.n == 1 {
        show(s.mean)
    } else {
        format!("{} [{}, {}]", show(s.mean), show(s.low), show(s.high))
    }
}

/// The values of every seed of a series at `step`, summarized (NaN-free seeds only).
pub fn step_summary(series: &Series, step: usize) -> Summary {
    match series.steps.iter().position(|&s| s == step) {
        Some(i) => summarize(&series.seeds.iter().map(|s| s[i]).collect::<Vec<_>>()).within(series.bounds),
        None => summarize(&[]),
    }
}

/// A Markdown table: one row per arm, one column per metric, for `scope`; final values, or the
/// values at `step` if given.
pub fn final_table(data: &RunData, scope: &str, metrics: &[&str], step: Option<usize>) -> String {
    let at = step.map_or("final".to_string(), |s| format!("step {s}"));
    let mut out = format!("| arm (scope `{scope}`, {at}) | N | {} |\n", metrics.join(" | "));
    out.push_str(&format!("|---|---|{}\n", "---|".repeat(metrics.len())));
    for arm in &data.labels {
        let w = window(data, arm);
        let cells: Vec<String> = metrics
            .iter()
            .map(|m| {
                data.series(arm, scope, m).map_or("—".into(), |s| match step {
                    Some(step) => cell(&step_summary(s, step)),
                    None => cell(&s.final_summary(w)),
                })
            })
            .collect();
        let n = data.series(arm, scope, metrics[0]).map_or(0, Series::n);
        out.push_str(&format!("| {arm} | {n} | {} |\n", cells.join(" | ")));
    }
    out
}
