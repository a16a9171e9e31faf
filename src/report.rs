//! Final values of a finished run folder as a table: per arm and metric, the mean over seeds of
//! each seed's final value, with a 95% interval and N. A seed's "final" value is its mean over
//! its last `eval.final_window` evaluations after step 0 ([`Series::finals`]).

use crate::plot::{RunData, Series, Summary, summarize};

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
    for arm in &data.arms {
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
