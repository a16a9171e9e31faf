//! `pressure compare`: is the difference between two arms real, how big is it, and how sure can
//! five seeds make us? For each arm against a control and each metric: the difference of the
//! seeds' final values (mean, median or IQM) with its 95% interval and the interval's method,
//! Welch's p-value for the difference of means with Holm's correction across every comparison
//! made at once, the probability of improvement, Hedges' g, the seeds on each side and the
//! smallest difference of means they could detect with 80% power (`stats::two_sample`). In a
//! sweep, each arm at each sweep point is a group of its own, named as `summary` names it
//! (`world.contradiction_rate=0.5`), and any two can be compared.

mod arms;

use std::path::PathBuf;
use std::process::ExitCode;

use serde::Serialize;

use super::format::{Align, Format, TextTable, csv, finite_or_none, fixed, json, p_value, with_interval};
use super::print_out;
use super::summary::{at_phrase, check_scope, check_step, chosen_metrics};
use crate::metric::MetricRef;
use crate::plot::RunData;
use crate::stats::two_sample::{
    ALPHA, POWER, bootstrap_difference, hedges_g, holm, min_detectable, pooled_sd, prob_greater, welch,
};
use crate::stats::{Bootstrap, Estimator, Interval, finite};
use arms::{ambiguous, named_labels};

/// Arguments of `pressure compare`.
#[derive(Debug, Clone, clap::Args)]
pub struct CompareArgs {
    /// Run folders written by `pressure run` (or `merge`): one, or several read as one (the
    /// same configuration in two folders is one group; a label two folders give to different
    /// configurations is `EXPERIMENT:LABEL` in each, or `FOLDER:LABEL` where the experiments
    /// share a name, so the control may come from either).
    #[arg(required = true, value_name = "RUN_DIR")]
    pub run_dirs: Vec<PathBuf>,
    /// Compare folders written by another version or on another backend (their numbers differ
    /// in the last bits; the table says so).
    #[arg(long)]
    pub mixed: bool,
    /// The arm every other is compared with; in a sweep, an arm at a sweep point as `summary`
    /// names it (`world.contradiction_rate=0.0`, or `arm, key=value` with several arms).
    #[arg(long, value_name = "ARM")]
    pub control: String,
    /// The arms to compare with the control, comma-separated or repeated (default: every other).
    #[arg(long, value_name = "A,B")]
    pub arms: Vec<String>,
    /// A metric to compare, `metric` in `--scope` or `scope:metric`; comma-separated or
    /// repeated (default: the four headline rates).
    #[arg(long = "metric", value_name = "METRIC", value_delimiter = ',')]
    pub metric: Vec<String>,
    /// The scope of metrics named without one: trained, heldout, unobserved, framed (or train,
    /// constitution, rm).
    #[arg(long, default_value = "trained")]
    pub scope: String,
    /// Compare the values at this evaluated step instead of the final values.
    #[arg(long, value_name = "STEP")]
    pub step: Option<usize>,
    /// What stands for an arm's seeds: their mean (Welch interval of the difference), median or
    /// interquartile mean (percentile bootstrap interval).
    #[arg(long, value_enum, default_value_t)]
    pub estimator: Estimator,
    /// How to print: table (aligned columns), markdown, latex (booktabs), csv or json.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

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

/// `pressure compare`: prints every comparison of the arms with the control.
pub fn compare(args: &CompareArgs) -> anyhow::Result<ExitCode> {
    let data = crate::experiment::folder::load_folders(&args.run_dirs, args.mixed)?;
    let request = Request {
        control: args.control.clone(),
        arms: args.arms.clone(),
        metrics: args.metric.clone(),
        scope: args.scope.clone(),
        step: args.step,
        estimator: args.estimator,
        bootstrap: Bootstrap::default(),
    };
    let run = args
        .run_dirs
        .iter()
        .map(|d| d.display().to_string())
        .collect::<Vec<_>>()
        .join(" + ");
    let comparisons = comparisons(&data, &run, &request)?;
    let text = match args.format {
        Format::Csv => csv(&comparisons)?,
        Format::Json => json(&comparisons)?,
        text => table(&comparisons, &request, &run).render(text),
    };
    print_out(&text)?;
    Ok(ExitCode::SUCCESS)
}

/// Every comparison a request asks for, in the order arm by arm, metric by metric, with Holm's
/// correction across all of them. Refuses, naming the flag: an unknown scope, metric or arm, a
/// control that is not in the run, a step that was not evaluated, and a side with fewer than
/// two seeds (no interval is possible). `run` names the run folder in messages.
pub fn comparisons(data: &RunData, run: &str, request: &Request) -> anyhow::Result<Vec<Comparison>> {
    let scope = request.scope.as_str();
    check_scope(scope)?;
    // A metric named twice (`refusal,refusal`, or `refusal,trained:refusal` once the scope is
    // resolved) is compared once: Holm's correction counts the tests actually made.
    let mut given = Vec::new();
    let mut metrics: Vec<MetricRef> = Vec::new();
    for m in chosen_metrics(scope, &request.metrics)? {
        let r = MetricRef::parse(&m, Some(scope)).map_err(|e| anyhow::anyhow!("--metric {m}: {e}"))?;
        if !metrics.contains(&r) {
            metrics.push(r);
            given.push(m);
        }
    }
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
            let bounds = crate::metric::bounds(&m.metric).map(|(lo, hi)| (lo - hi, hi - lo));
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

/// The comparisons as a table to read, with notes that say what every column is.
pub fn table(comparisons: &[Comparison], request: &Request, run: &str) -> TextTable {
    let est = request.estimator.name();
    let first = &comparisons[0];
    let method = match request.estimator.interval() {
        Interval::T => "Welch: Welch's t-interval for a difference of means, unequal variances".to_string(),
        _ => {
            let b = &request.bootstrap;
            format!(
                "bootstrap-percentile: {} resamples of the seeds within each arm, seed {}; with few seeds it runs narrow, so read a difference from p Holm",
                b.resamples, b.seed
            )
        }
    };
    let values = match request.step {
        None => "final values (each seed's mean over its last `eval.final_window` evaluations)".to_string(),
        Some(s) => format!("values at step {s}"),
    };
    let mut notes = vec![
        format!(
            "{run}: each arm against the control `{}`; the {est} over seeds of {values}.",
            first.control
        ),
        format!("difference: arm − control with its 95% interval; interval: the interval's method ({method})."),
        format!(
            "p: Welch's two-sided t-test of the difference of means; p Holm: adjusted by Holm's method across the {} comparisons shown; below {ALPHA:.2}, a difference at the 5% level.",
            comparisons.len()
        ),
        "P(arm > control): the chance that a seed of the arm scores above a seed of the control (Mann–Whitney U / (n·m), ties count 1/2); whether higher is better depends on the metric.".to_string(),
        format!(
            "g: Hedges' g, the difference of means over the pooled SD, bias-corrected. MDD: the smallest difference of means these seeds detect with {:.0}% power at α = {ALPHA:.2}, two-sided (t approximation, pooled SD).",
            POWER * 100.0
        ),
    ];
    if comparisons.iter().any(|c| c.hedges_g.abs() > LARGE_G) {
        notes.push(format!(
            "†: |g| above {LARGE_G}: the seeds barely vary against a difference this large, so g measures how small their spread is (pooled SD) more than the effect; read the difference and its interval."
        ));
    }
    let columns = [
        ("arm", Align::Left),
        ("metric", Align::Left),
        ("N", Align::Right),
        ("N control", Align::Right),
        (est, Align::Right),
        (&format!("{est} control"), Align::Right),
        ("difference [95%]", Align::Right),
        ("interval", Align::Left),
        ("p", Align::Right),
        ("p Holm", Align::Right),
        ("P(arm > control)", Align::Right),
        ("g", Align::Right),
        ("MDD", Align::Right),
    ]
    .map(|(name, align)| (name.to_string(), align))
    .to_vec();
    let rows = comparisons
        .iter()
        .map(|c| {
            let metric = if c.scope == request.scope {
                c.metric.clone()
            } else {
                format!("{}:{}", c.scope, c.metric)
            };
            vec![
                c.arm.clone(),
                metric,
                c.n_arm.to_string(),
                c.n_control.to_string(),
                fixed(c.arm_value, 3),
                fixed(c.control_value, 3),
                with_interval(c.difference, c.low, c.high, true),
                c.interval.to_string(),
                p_value(c.p),
                p_value(c.p_holm),
                fixed(c.p_arm_greater, 2),
                match c.hedges_g.abs() > LARGE_G && c.hedges_g.is_finite() {
                    true => format!("{}†", fixed(c.hedges_g, 2)),
                    false => fixed(c.hedges_g, 2),
                },
                fixed(c.min_detectable, 3),
            ]
        })
        .collect();
    TextTable { notes, columns, rows }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_g_that_measures_how_little_the_seeds_vary_is_marked_and_said() {
        let request = Request {
            control: "control".into(),
            arms: Vec::new(),
            metrics: Vec::new(),
            scope: "trained".into(),
            step: None,
            estimator: Estimator::Mean,
            bootstrap: Bootstrap::default(),
        };
        let named = |mut c: Comparison| {
            c.arm = "arm".into();
            c.metric = "refusal".into();
            c.scope = "trained".into();
            c
        };
        let boot = Bootstrap::default();
        // Seeds that barely vary around a large difference: g in the hundreds.
        let far = named(compare_values(
            &[0.999, 1.0, 0.998],
            &[0.001, 0.0, 0.002],
            Estimator::Mean,
            &boot,
            None,
        ));
        let near = named(compare_values(
            &[0.5, 0.6, 0.4],
            &[0.45, 0.55, 0.35],
            Estimator::Mean,
            &boot,
            None,
        ));
        assert!(far.hedges_g > LARGE_G && near.hedges_g.abs() < 1.0);
        let t = table(&[far, near.clone()], &request, "o");
        let g = t.columns.iter().position(|(name, _)| name == "g").unwrap();
        assert!(t.rows[0][g].ends_with('†'), "{:?}", t.rows[0]);
        assert!(!t.rows[1][g].ends_with('†'), "{:?}", t.rows[1]);
        assert!(
            t.notes.iter().any(|n| n.starts_with("†: |g| above 10")),
            "{:?}",
            t.notes
        );
        // Without such a g, no mark and no note.
        let plain = table(&[near], &request, "o");
        assert!(!plain.notes.iter().any(|n| n.starts_with('†')));
    }
}
