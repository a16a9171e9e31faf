//! What a reader asks of a folder's data, checked against it: a scope, the metrics (or the
//! scope's default ones), and a step, each refused with the flag that named it.

use crate::metric::{
    ACT_ACCURACY, CONSTITUTION, CRITERION, CRITERION_METRICS, HEADLINE, JUDGMENT_ACCURACY, RM, RM_METRICS, Scope,
    TRAIN, TRAIN_METRICS,
};
use crate::results::{RunData, Series};

/// Refuses a name that is not a scope.
pub fn check_scope(scope: &str) -> anyhow::Result<()> {
    let known = Scope::ALL.iter().any(|s| s.name() == scope) || [TRAIN, CONSTITUTION, RM, CRITERION].contains(&scope);
    if !known {
        let scopes: Vec<&str> = Scope::ALL.iter().map(|s| s.name()).collect();
        anyhow::bail!(
            "--scope {scope}: not a scope; valid: {}, {TRAIN}, {CONSTITUTION}, {RM}, {CRITERION}",
            scopes.join(", ")
        );
    }
    Ok(())
}

/// The metrics asked for, or the scope's default ones: the four headline rates in an
/// evaluation scope.
pub fn chosen_metrics(scope: &str, metrics: &[String]) -> anyhow::Result<Vec<String>> {
    Ok(match (metrics.is_empty(), scope) {
        (false, _) => metrics.to_vec(),
        (true, TRAIN) => TRAIN_METRICS.iter().map(|m| m.name.to_string()).collect(),
        (true, CONSTITUTION) => vec![ACT_ACCURACY.to_string(), JUDGMENT_ACCURACY.to_string()],
        (true, RM) => RM_METRICS.iter().map(|m| m.name.to_string()).collect(),
        // Whether it was reached first: it is recorded even where every seed was censored.
        (true, CRITERION) => CRITERION_METRICS.iter().rev().map(|m| m.name.to_string()).collect(),
        (true, _) => HEADLINE.iter().map(|m| m.to_string()).collect(),
    })
}

/// Refuses a folder with no completed run, and a scope the folder has no values in.
pub fn check_recorded(data: &RunData, run: &str, scope: &str, metric: &str) -> anyhow::Result<()> {
    if let Some(why) = data.nothing_to("summarize") {
        anyhow::bail!("{run}: {why}");
    }
    let scopes = data.recorded_scopes();
    anyhow::ensure!(
        scopes.iter().any(|s| s == scope),
        "--scope {scope}: {run} has no values in scope `{scope}`; its scopes: {}",
        scopes.join(", ")
    );
    anyhow::ensure!(
        data.labels.iter().any(|a| data.series(a, scope, metric).is_some()),
        "--metric {metric}: {run} recorded no values of `{scope}:{metric}` (this experiment does not measure it)"
    );
    Ok(())
}

/// Refuses a step at which none of `series` was evaluated.
pub fn check_step(step: usize, scope: &str, series: &[&Series]) -> anyhow::Result<()> {
    let mut steps: Vec<usize> = series.iter().flat_map(|s| s.steps.iter().copied()).collect();
    steps.sort_unstable();
    steps.dedup();
    anyhow::ensure!(
        steps.contains(&step),
        "--step {step}: not an evaluated step of scope {scope}; evaluated: {}",
        steps.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(", ")
    );
    Ok(())
}

/// "final" or "step N".
pub fn at_phrase(step: Option<usize>) -> String {
    step.map_or("final".to_string(), |s| format!("step {s}"))
}
