//! `pressure compare`: is the difference between two arms real, how big is it, and how sure can
//! five seeds make us? For each arm against a control and each metric: the difference of the
//! seeds' final values (mean, median or IQM) with its 95% interval and the interval's method,
//! Welch's p-value for the difference of means with Holm's correction across every comparison
//! made at once, the probability of improvement, Hedges' g, the seeds on each side and the
//! smallest difference of means they could detect with 80% power (`stats::two_sample`). In a
//! sweep, each arm at each sweep point is a group of its own, named as `summary` names it
//! (`world.contradiction_rate=0.5`), and any two can be compared.

use std::path::PathBuf;
use std::process::ExitCode;

use super::format::{Align, Format, TextTable, csv, fixed, json, p_value, with_interval};
use super::print_out;
use crate::results::compare::{Comparison, LARGE_G, Request, comparisons};
use crate::stats::two_sample::{ALPHA, POWER};
use crate::stats::{Bootstrap, Estimator, Interval};

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
    use crate::results::compare::compare_values;

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
