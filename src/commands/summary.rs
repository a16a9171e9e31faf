//! `pressure summary`: final values of a finished run folder as a table — per arm and metric,
//! an estimator over seeds (mean, median or IQM) of each seed's final value, with its 95%
//! interval, the interval's method and N. A seed's "final" value is its mean over its last
//! `eval.final_window` evaluations after step 0 ([`Series::finals`]); `--step` shows the values
//! at one evaluated step instead.

use std::path::PathBuf;
use std::process::ExitCode;

use serde::Serialize;

use super::format::{Align, Format, TextTable, csv, finite_or_none, json, with_interval};
use super::print_out;
use crate::metric::{CRITERION, CRITERION_REACHED, MetricRef};
use crate::results::select::{at_phrase, check_recorded, check_scope, check_step, chosen_metrics};
use crate::results::{RunData, Series};
use crate::stats::{Bootstrap, Estimate, Estimator};

/// Arguments of `pressure summary`.
#[derive(Debug, Clone, clap::Args)]
pub struct SummaryArgs {
    /// Run folders written by `pressure run` (or `merge`): one, or several read as one, the
    /// same configuration in two folders being one group whose seeds are pooled.
    #[arg(required = true, value_name = "RUN_DIR")]
    pub run_dirs: Vec<PathBuf>,
    /// Read folders written by another version or on another backend together (their numbers
    /// differ in the last bits; the table's header says so).
    #[arg(long)]
    pub mixed: bool,
    /// The scope: trained, heldout, unobserved, framed (or train, constitution, rm, criterion).
    #[arg(long, default_value = "trained")]
    pub scope: String,
    /// Metrics to show, `metric` in `--scope` or `scope:metric`, comma-separated or repeated
    /// (default: the four headline rates); `--metrics` is the same flag.
    #[arg(long = "metric", alias = "metrics", value_name = "METRIC", value_delimiter = ',')]
    pub metrics: Vec<String>,
    /// Values at this evaluated step instead of the final values.
    #[arg(long, value_name = "STEP")]
    pub step: Option<usize>,
    /// What stands for an arm's seeds: their mean (t-interval), median or interquartile mean
    /// (percentile bootstrap interval).
    #[arg(long, value_enum, default_value_t)]
    pub estimator: Estimator,
    /// How to print: markdown, table (aligned columns), latex (booktabs), csv or json.
    #[arg(long, value_enum, default_value_t = Format::Markdown)]
    pub format: Format,
    /// Exit with 1 when a claim of the experiment does not come out as it states.
    #[arg(long)]
    pub strict: bool,
    /// Also write the claims' verdicts as JSON to FILE (summary itself never writes into the
    /// folder it reads; `run` and `merge` keep RUN_DIR/claims.json).
    #[arg(long, value_name = "FILE")]
    pub claims_out: Option<PathBuf>,
}

/// `pressure summary`: final values (mean over the last `eval.final_window` evaluations of each
/// seed, then an estimate and its 95% interval over seeds), by default as a Markdown table.
pub fn summary(args: &SummaryArgs) -> anyhow::Result<ExitCode> {
    if let Some(path) = &args.claims_out {
        crate::records::target::output_file(path, "--claims-out", |_, name| name == "claims.json")
            .map_err(anyhow::Error::msg)?;
    }
    let data = crate::experiment::folder::load_folders(&args.run_dirs, args.mixed)?;
    let run_label = args
        .run_dirs
        .iter()
        .map(|d| d.display().to_string())
        .collect::<Vec<_>>()
        .join(" + ");
    // A metric written `scope:metric` names its scope; a table shows one scope.
    let named: Vec<&str> = args
        .metrics
        .iter()
        .filter_map(|m| m.split_once(':').map(|(s, _)| s))
        .collect();
    let scope = match named.first() {
        Some(&first) => {
            anyhow::ensure!(
                named.iter().all(|&s| s == first) && named.len() == args.metrics.len(),
                "--metric {}: a summary shows one scope at a time; give every metric the same scope (or none, with --scope)",
                args.metrics.join(",")
            );
            first
        }
        None => args.scope.as_str(),
    };
    // The scope first, so that a bad scope is blamed on the flag that named it, not on a metric.
    let scope_flag = match named.is_empty() {
        true => format!("--scope {scope}"),
        false => format!("--metric {}", args.metrics.join(",")),
    };
    let blame = |e: anyhow::Error| {
        let text = e.to_string();
        anyhow::anyhow!(
            "{scope_flag}: {}",
            text.split_once(": ").map_or(text.as_str(), |(_, rest)| rest)
        )
    };
    check_scope(scope).map_err(blame)?;
    let bare: Vec<String> = args
        .metrics
        .iter()
        .map(|m| m.split_once(':').map_or(m.as_str(), |(_, m)| m).to_string())
        .collect();
    let metrics = chosen_metrics(scope, &bare)?;
    for (i, m) in metrics.iter().enumerate() {
        let (flag, given) = match args.metrics.get(i) {
            Some(given) => ("--metric", given.as_str()),
            None => ("--scope", scope),
        };
        MetricRef::parse(&format!("{scope}:{m}"), None).map_err(|e| anyhow::anyhow!("{flag} {given}: {e}"))?;
    }
    check_recorded(&data, &run_label, scope, &metrics[0]).map_err(|e| {
        if e.to_string().starts_with("--scope") {
            blame(e)
        } else {
            e
        }
    })?;
    if let Some(step) = args.step {
        let recorded: Vec<&Series> = data
            .labels
            .iter()
            .filter_map(|a| data.series(a, scope, &metrics[0]))
            .collect();
        check_step(step, scope, &recorded)?;
    }
    let metrics: Vec<&str> = metrics.iter().map(String::as_str).collect();
    let table = Table::new(&data, scope, &metrics, args.step, args.estimator);
    let text = match args.format {
        Format::Csv => csv(&table.records())?,
        Format::Json => json(&table.records())?,
        text => table.text(args.format == Format::Markdown).render(text),
    };
    print_out(&text)?;
    if scope == CRITERION && matches!(args.format, Format::Markdown | Format::Table) {
        print_out(&censoring(&data))?;
    }
    // The claims after the table; beside CSV, JSON or LaTeX on stderr, which keeps stdout parseable.
    let readable = matches!(args.format, Format::Markdown | Format::Table);
    // Claims belong to one experiment: checked when one folder is read.
    let claimed = match &args.run_dirs[..] {
        [one] => super::claims::report(one, readable, args.claims_out.as_deref())?,
        _ => true,
    };
    Ok(if claimed || !args.strict {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// What the `criterion` scope's table cannot show: `steps_to_criterion` is over the seeds that
/// reached the criterion, and the others are censored at their phase's end, not counted there;
/// one line per teach phase (each records at its last step).
fn censoring(data: &RunData) -> String {
    let spans = data
        .groups
        .first()
        .map(|g| crate::run::phases::spans(&g.config))
        .unwrap_or_default();
    let mut steps: Vec<usize> = data
        .labels
        .iter()
        .filter_map(|arm| data.series(arm, CRITERION, CRITERION_REACHED))
        .flat_map(|s| s.steps.clone())
        .collect();
    steps.sort_unstable();
    steps.dedup();
    let several = steps.len() > 1;
    let mut out = String::from(
        "\nsteps_to_criterion is over the seeds that reached the criterion; the others are censored (their phase ended first):\n",
    );
    for step in steps {
        let phase = spans
            .iter()
            .find(|s| s.last == step)
            .map_or(String::new(), |s| format!(" (phase `{}`)", s.name));
        let per_arm: Vec<String> = data
            .labels
            .iter()
            .filter_map(|arm| {
                let reached = data.series(arm, CRITERION, CRITERION_REACHED)?;
                let at = reached.steps.iter().position(|&s| s == step)?;
                let measured = reached.seeds.iter().filter(|s| s[at].is_finite());
                let censored = measured.clone().filter(|s| s[at] == 0.0).count();
                Some(format!("{arm} {censored} of {}", measured.count()))
            })
            .collect();
        out.push_str(&format!(
            "  at step {step}{phase}: censored in {}\n",
            per_arm.join(", ")
        ));
    }
    if several {
        out.push_str("  (a final value averages across the teach phases: `--step` names one)\n");
    }
    out
}

/// The final values of `metrics` in `scope` per arm, with their intervals, as `summary` prints
/// them (for `report`).
pub fn final_table(data: &RunData, scope: &str, metrics: &[&str], estimator: Estimator) -> TextTable {
    Table::new(data, scope, metrics, None, estimator).text(false)
}

/// One row of a summary in CSV and JSON.
#[derive(Serialize)]
struct Record<'a> {
    arm: &'a str,
    scope: &'a str,
    metric: &'a str,
    /// The evaluated step, or none for final values.
    step: Option<usize>,
    estimator: &'static str,
    n: usize,
    #[serde(serialize_with = "finite_or_none")]
    value: f64,
    #[serde(serialize_with = "finite_or_none")]
    low: f64,
    #[serde(serialize_with = "finite_or_none")]
    high: f64,
    /// The interval's method; none below two seeds.
    interval: Option<&'static str>,
}

/// The estimates of a summary: per arm, each metric's estimate (none where it is not recorded).
struct Table<'a> {
    scope: &'a str,
    metrics: &'a [&'a str],
    step: Option<usize>,
    estimator: Estimator,
    /// Per label: the label, N (seeds with a value of the first metric), and an estimate per metric.
    rows: Vec<(&'a str, usize, Vec<Option<Estimate>>)>,
}

impl<'a> Table<'a> {
    fn new(
        data: &'a RunData,
        scope: &'a str,
        metrics: &'a [&'a str],
        step: Option<usize>,
        estimator: Estimator,
    ) -> Self {
        let bootstrap = Bootstrap::default();
        let rows = data
            .labels
            .iter()
            .map(|label| {
                let estimates = metrics
                    .iter()
                    .map(|m| {
                        let series = data.series(label, scope, m)?;
                        let values = data.seed_values(label, series, step);
                        Some(Estimate::new(&values, estimator, series.bounds, &bootstrap))
                    })
                    .collect();
                let n = data.series(label, scope, metrics[0]).map_or(0, Series::n);
                (label.as_str(), n, estimates)
            })
            .collect();
        Table {
            scope,
            metrics,
            step,
            estimator,
            rows,
        }
    }

    fn records(&self) -> Vec<Record<'_>> {
        let mut out = Vec::new();
        for (label, _, estimates) in &self.rows {
            for (metric, e) in self.metrics.iter().zip(estimates) {
                let Some(e) = e else { continue };
                out.push(Record {
                    arm: label,
                    scope: self.scope,
                    metric,
                    step: self.step,
                    estimator: e.estimator.name(),
                    n: e.n,
                    value: e.value,
                    low: if e.interval.is_some() { e.low } else { f64::NAN },
                    high: if e.interval.is_some() { e.high } else { f64::NAN },
                    interval: e.interval.map(|i| i.name()),
                });
            }
        }
        out
    }

    /// One row per arm, one column per metric; the first header names the scope, the estimator
    /// and the method of every interval in the table.
    fn text(&self, markdown: bool) -> TextTable {
        let scope = if markdown {
            format!("`{}`", self.scope)
        } else {
            self.scope.to_string()
        };
        let method = self.estimator.interval().name();
        let first = format!(
            "arm (scope {scope}, {}; {} [95% interval, {method}])",
            at_phrase(self.step),
            self.estimator.name()
        );
        let mut columns = vec![(first, Align::Left), ("N".to_string(), Align::Right)];
        columns.extend(self.metrics.iter().map(|m| (m.to_string(), Align::Right)));
        let rows = self
            .rows
            .iter()
            .map(|(label, n, estimates)| {
                let mut row = vec![label.to_string(), n.to_string()];
                row.extend(estimates.iter().map(|e| match e {
                    Some(e) => with_interval(e.value, e.low, e.high, e.interval.is_some()),
                    None => "—".into(),
                }));
                row
            })
            .collect();
        TextTable {
            notes: Vec::new(),
            columns,
            rows,
        }
    }
}
