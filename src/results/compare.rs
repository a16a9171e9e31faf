//! Arms against a control: for each arm and metric, the difference of the seeds' values in the
//! chosen estimator with its interval, Welch's test with Holm's correction across the family,
//! the probability of superiority, Hedges' g and the smallest detectable difference.

use serde::Serialize;

use super::arms::{ambiguous, named_labels};
use super::finite_or_none;
use super::select::{at_phrase, check_scope, check_step, chosen_metrics};
use crate::metric::MetricRef;
use crate::results::RunData;
use crate::stats::two_sample::{bootstrap_difference, hedges_g, holm, min_detectable, pooled_sd, prob_greater, welch};
use crate::stats::{Bootstrap, Estimator, Interval, finite};

/// What to compare, once the command line is read.
#[derive(Debug, Clone)]
pub struct Request {
    pub control: String,
    /// The `--arms` values as given (each one or more labels joined by commas); empty for all.
    pub arms: Vec<String>,
    /// The metrics as given, `metric` or `scope:metric`; empty for the scope's default.
    pub metrics: Vec<String>,
    pub scope: String,
    pub step: Option<usize>,
    pub estimator: Estimator,
    pub bootstrap: Bootstrap,
}

/// One arm against the control on one metric.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub control: String,
    pub arm: String,
    pub scope: String,
    pub metric: String,
    /// The evaluated step, or none for final values.
    pub step: Option<usize>,
    pub estimator: &'static str,
    pub n_arm: usize,
    pub n_control: usize,
    #[serde(serialize_with = "finite_or_none")]
    pub arm_value: f64,
    #[serde(serialize_with = "finite_or_none")]
    pub control_value: f64,
    /// arm − control, in the estimator.
    #[serde(serialize_with = "finite_or_none")]
    pub difference: f64,
    #[serde(serialize_with = "finite_or_none")]
    pub low: f64,
    #[serde(serialize_with = "finite_or_none")]
    pub high: f64,
    /// The interval's method: `Welch` or `bootstrap-percentile`.
    pub interval: &'static str,
    /// Welch's t of the difference of means, its degrees of freedom and two-sided p-value.
    #[serde(serialize_with = "finite_or_none")]
    pub t: f64,
    #[serde(serialize_with = "finite_or_none")]
    pub df: f64,
    #[serde(serialize_with = "finite_or_none")]
    pub p: f64,
    /// `p` adjusted by Holm across every comparison of the invocation.
    #[serde(serialize_with = "finite_or_none")]
    pub p_holm: f64,
    /// P(a seed of the arm scores above one of the control): Mann–Whitney U / (n·m), ties ½.
    #[serde(serialize_with = "finite_or_none")]
    pub p_arm_greater: f64,
    #[serde(serialize_with = "finite_or_none")]
    pub hedges_g: f64,
    /// The SD of the seeds' values, pooled over both sides (g's denominator).
    #[serde(serialize_with = "finite_or_none")]
    pub pooled_sd: f64,
    /// The smallest difference of means these seeds detect with 80% power at α = 0.05.
    #[serde(serialize_with = "finite_or_none")]
    pub min_detectable: f64,
}

/// Every comparison a request asks for, in the order arm by arm, metric by metric, with Holm's
/// correction across all of them. Refuses, naming the flag: an unknown scope, metric or arm, a
/// control that is not in the run, a step that was not evaluated, and a side with fewer than
/// two seeds (no interval is possible). `run` names the run folder in messages.
pub fn comparisons(data: &RunData, run: &str, request: &Request) -> anyhow::Result<Vec<Comparison>> {
    let scope = request.scope.as_str();
    check_scope(scope)?;
    let (given, metrics) = metrics(scope, &request.metrics)?;
    let (control, arms) = sides(data, run, request)?;
    let control = control.as_str();
    if let Some(why) = data.nothing_to("compare") {
        anyhow::bail!("{run}: {why}");
    }
    for (text, m) in given.iter().zip(&metrics) {
        // A scope the run has no values in is blamed on the flag that named it.
        let recorded = data
            .labels
            .iter()
            .any(|l| data.series(l, &m.scope, &m.metric).is_some());
        if !recorded && m.is_evaluated() && !data.scopes().contains(&m.scope.as_str()) {
            let flag = if text.contains(':') {
                format!("--metric {text}")
            } else {
                format!("--scope {}", m.scope)
            };
            anyhow::bail!(
                "{flag}: {run} has no values in scope {}; its scopes: {}",
                m.scope,
                data.scopes().join(", ")
            );
        }
    }

    // Every side's values, checked before any statistic is computed.
    let side = |label: &str, m: &MetricRef| -> anyhow::Result<Vec<f64>> {
        let series = data
            .series(label, &m.scope, &m.metric)
            .ok_or_else(|| anyhow::anyhow!("--metric {m}: not recorded for `{label}`"))?;
        if let Some(step) = request.step {
            check_step(step, &m.scope, &[series]).map_err(|e| anyhow::anyhow!("{e} (for `{label}`)"))?;
        }
        let values = finite(&data.seed_values(label, series, request.step));
        anyhow::ensure!(
            values.len() >= 2,
            "`{label}` has {} seed{} with a value of {m} at {}: no interval is possible; a comparison needs at least 2 seeds on each side",
            values.len(),
            if values.len() == 1 { "" } else { "s" },
            at_phrase(request.step)
        );
        Ok(values)
    };
    let mut pairs = Vec::new();
    for arm in &arms {
        for m in &metrics {
            pairs.push((arm, m, side(arm, m)?, side(control, m)?));
        }
    }
    let mut out: Vec<Comparison> = pairs
        .into_iter()
        .map(|(arm, m, a, c)| {
            let bounds = crate::metric::bounds_in(&m.scope, &m.metric).map(|(lo, hi)| (lo - hi, hi - lo));
            Comparison {
                control: control.to_string(),
                arm: arm.clone(),
                scope: m.scope.clone(),
                metric: m.metric.clone(),
                step: request.step,
                ..compare_values(&a, &c, request.estimator, &request.bootstrap, bounds)
            }
        })
        .collect();
    let adjusted = holm(&out.iter().map(|c| c.p).collect::<Vec<_>>());
    for (c, p) in out.iter_mut().zip(adjusted) {
        c.p_holm = p;
    }
    Ok(out)
}

/// The metrics asked for (or the scope's default ones), each once, with the text that named it:
/// a metric named twice (`refusal,refusal`, or `refusal,trained:refusal` once the scope is
/// resolved) is compared once, so that Holm's correction counts the tests actually made.
fn metrics(scope: &str, asked: &[String]) -> anyhow::Result<(Vec<String>, Vec<MetricRef>)> {
    let mut given = Vec::new();
    let mut metrics: Vec<MetricRef> = Vec::new();
    for m in chosen_metrics(scope, asked)? {
        let r = MetricRef::parse(&m, Some(scope)).map_err(|e| anyhow::anyhow!("--metric {m}: {e}"))?;
        if !metrics.contains(&r) {
            metrics.push(r);
            given.push(m);
        }
    }
    Ok((given, metrics))
}

/// The control and the arms compared with it, checked against the data's groups.
fn sides(data: &RunData, run: &str, request: &Request) -> anyhow::Result<(String, Vec<String>)> {
    let known = || {
        let quoted: Vec<String> = data.labels.iter().map(|l| format!("`{l}`")).collect();
        quoted.join(", ")
    };
    let control = request.control.trim();
    if let Some(why) = ambiguous(control, &data.labels) {
        anyhow::bail!("--control {control}: {why}");
    }
    anyhow::ensure!(
        data.labels.iter().any(|l| l == control),
        "--control {control}: not an arm of {run}; its arms: {}",
        known()
    );
    let arms = if request.arms.is_empty() {
        let others: Vec<String> = data.labels.iter().filter(|l| *l != control).cloned().collect();
        anyhow::ensure!(
            !others.is_empty(),
            "--control {control}: {run} has no other arm to compare it with"
        );
        others
    } else {
        named_labels(&request.arms, &data.labels, run)?
    };
    for (i, arm) in arms.iter().enumerate() {
        anyhow::ensure!(
            arm != control,
            "--arms {arm}: is the control; name the arms to compare with it"
        );
        anyhow::ensure!(!arms[..i].contains(arm), "--arms {arm}: named twice");
    }
    Ok((control.to_string(), arms))
}

/// The statistics of one arm's values `a` against the control's `c` (finite, two or more a
/// side), the interval cut to `bounds` (the range a difference of the metric can take). What is
/// compared is left for the caller to name, and `p_holm` is `p` until the whole family is known.
pub fn compare_values(
    a: &[f64],
    c: &[f64],
    estimator: Estimator,
    bootstrap: &Bootstrap,
    bounds: Option<(f64, f64)>,
) -> Comparison {
    let test = welch(a, c);
    let (arm_value, control_value) = (estimator.of(a), estimator.of(c));
    let (low, high, interval) = match estimator.interval() {
        Interval::T => (test.low, test.high, Interval::Welch),
        method => {
            let (low, high) = bootstrap_difference(a, c, estimator, bootstrap);
            (low, high, method)
        }
    };
    let (low, high) = match bounds {
        Some((lo, hi)) => (low.clamp(lo, hi), high.clamp(lo, hi)),
        None => (low, high),
    };
    Comparison {
        control: String::new(),
        arm: String::new(),
        scope: String::new(),
        metric: String::new(),
        step: None,
        estimator: estimator.name(),
        n_arm: a.len(),
        n_control: c.len(),
        arm_value,
        control_value,
        difference: arm_value - control_value,
        low,
        high,
        interval: interval.name(),
        t: test.t,
        df: test.df,
        p: test.p,
        p_holm: test.p,
        p_arm_greater: prob_greater(a, c),
        hedges_g: hedges_g(a, c),
        pooled_sd: pooled_sd(a, c),
        min_detectable: min_detectable(a.len(), c.len(), pooled_sd(a, c)),
    }
}

/// Past this |g| the two sides' seeds are far apart and barely vary: g then says more about
/// how small the seed-to-seed spread is than about the effect, and the table marks it.
pub const LARGE_G: f64 = 10.0;
