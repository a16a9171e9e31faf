//! `pressure watch DIR`: a run folder's headline rates per arm, redrawn as its runs measure them,
//! until the process writing the folder ends. It reads only what was appended since its last
//! look ([`LiveFolder`]), so following a run costs the run next to nothing.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use super::format::{Align, Format, TextTable};
use crate::experiment::folder;
use crate::experiment::live::LiveFolder;
use crate::metric::{HEADLINE, HIDDEN_OBJECTION, MetricRef, SILENT_COMPLIANCE, Scope, UNOBJECTING_COMPLIANCE};
use crate::records;
use crate::results::{RunData, group_label};

#[derive(Debug, clap::Args)]
pub struct WatchArgs {
    /// The run folder (the `--out` of a `pressure run`).
    pub dir: PathBuf,
    /// Metrics to show, `metric` (of the trained scope) or `scope:metric`; default: the four
    /// headline rates.
    #[arg(long = "metric", alias = "metrics", value_delimiter = ',')]
    pub metrics: Vec<String>,
    /// Seconds between looks.
    #[arg(long, default_value_t = 1.0)]
    pub interval: f64,
    /// Show the folder as it stands once, and exit.
    #[arg(long)]
    pub once: bool,
}

/// How long to wait for a folder that a `pressure run` started at the same moment has not made yet.
const START_GRACE: Duration = Duration::from_secs(5);

/// Points of each sparkline: evaluations spread evenly from the first to the latest.
const SPARK_POINTS: usize = 16;

/// `pressure watch DIR`.
pub fn watch(args: &WatchArgs) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        (0.01..=3600.0).contains(&args.interval),
        "--interval {}: not a number of seconds from 0.01 to 3600",
        args.interval
    );
    let names: Vec<&str> = match args.metrics.is_empty() {
        true => HEADLINE.to_vec(),
        false => args.metrics.iter().map(String::as_str).collect(),
    };
    let metrics = names
        .iter()
        .map(|m| MetricRef::parse(m, Some(Scope::Trained.name())))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| anyhow::anyhow!("--metric {e}"))?;
    let mut folder = open(&args.dir)?;
    let tty = std::io::stdout().is_terminal();
    let (mut shown, mut first) = (String::new(), true);
    loop {
        // Looked at before reading: the last look after the writer ends reads everything.
        let writing = records::writer(&args.dir).is_some();
        folder.refresh().map_err(anyhow::Error::msg)?;
        let table = render(&folder, &metrics, writing);
        if table != shown {
            let mut out = String::new();
            if tty {
                out.push_str("\x1b[H\x1b[2J");
            } else if !first {
                out.push('\n');
            }
            out.push_str(&table);
            super::print_out(&out)?;
            let _ = std::io::stdout().flush();
            shown = table;
            first = false;
        }
        if !writing || args.once {
            break;
        }
        std::thread::sleep(Duration::from_secs_f64(args.interval));
    }
    let p = folder.progress();
    let end = match (p.completed == p.total, records::writer(&args.dir).is_some()) {
        (_, true) => format!("still training: {p}"),
        (true, false) => format!("finished: all {} runs completed", p.total),
        (false, false) => format!("not being written: {p}; `pressure run` with the same file and --out resumes it"),
    };
    super::print_out(&format!("{}: {end}\n", args.dir.display()))?;
    Ok(ExitCode::SUCCESS)
}

/// The folder, once its `config.toml` exists (a run started together with the watch gets a
/// few seconds to make the folder and write it).
fn open(dir: &Path) -> anyhow::Result<LiveFolder> {
    let since = Instant::now();
    let starting = || !dir.exists() || records::writer(dir).is_some();
    while !dir.join("config.toml").is_file() && starting() && since.elapsed() < START_GRACE {
        std::thread::sleep(Duration::from_millis(100));
    }
    anyhow::ensure!(
        dir.join("config.toml").is_file(),
        "{}: not a run folder (no config.toml); `pressure watch` follows the --out folder of a `pressure run`",
        dir.display()
    );
    Ok(LiveFolder::new(dir, folder::experiment(dir)?))
}

/// The table: a line per arm (and sweep point) with its runs, step, and each metric's mean over
/// its runs at every step so far, drawn as a sparkline ending in the latest value.
fn render(folder: &LiveFolder, metrics: &[MetricRef], writing: bool) -> String {
    let experiment = &folder.experiment;
    // Only the rows shown are grouped; silent compliance is derived from two of them.
    let wanted = |scope: &str, metric: &str| {
        metrics.iter().any(|m| {
            m.scope == scope
                && (m.metric == metric
                    || (m.metric == SILENT_COMPLIANCE && [HIDDEN_OBJECTION, UNOBJECTING_COMPLIANCE].contains(&metric)))
        })
    };
    let data = RunData::new(
        folder::header(experiment),
        folder::groups(experiment),
        folder.records_where(wanted),
    );
    let axes: Vec<String> = experiment.sweep.iter().map(|a| a.key.clone()).collect();
    let n_arms = experiment.arms.len();
    let mut columns = vec![
        ("arm".to_string(), Align::Left),
        ("runs done".to_string(), Align::Right),
        ("step".to_string(), Align::Right),
    ];
    columns.extend(metrics.iter().map(|m| (m.readable(), Align::Left)));
    let mut rows = Vec::new();
    for label in &data.labels {
        let p = folder.progress_of(|r| group_label(&r.arm, &axes, &r.sweep_values(), n_arms) == *label);
        let mut runs = format!("{}/{}", p.completed, p.total);
        if p.training > 0 {
            runs.push_str(&format!(" +{}", p.training));
        }
        let mut step = "—".to_string();
        let mut cells = Vec::new();
        for m in metrics {
            let Some(series) = data.series(label, &m.scope, &m.metric) else {
                cells.push("—".to_string());
                continue;
            };
            if let Some(s) = series.steps.last() {
                step = s.to_string();
            }
            let means: Vec<f64> = series.summary().iter().map(|s| s.mean).collect();
            cells.push(sparkline(&means, series.bounds));
        }
        let mut row = vec![label.clone(), runs, step];
        row.extend(cells);
        rows.push(row);
    }
    let state = if writing { "training" } else { "not being written" };
    let table = TextTable {
        notes: vec![format!(
            "{} ({state}): {}; means over the runs measured so far",
            experiment.name,
            folder.progress()
        )],
        columns,
        rows,
    };
    table.render(Format::Table)
}

/// The values so far as bars (at most [`SPARK_POINTS`], evenly spaced from the first to the
/// latest; scaled to the metric's range, or to their own), then the latest value.
fn sparkline(values: &[f64], bounds: Option<(f64, f64)>) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let shown: Vec<f64> = match values.len() {
        n if n <= SPARK_POINTS => values.to_vec(),
        n => (0..SPARK_POINTS)
            .map(|i| values[i * (n - 1) / (SPARK_POINTS - 1)])
            .collect(),
    };
    let finite = shown.iter().copied().filter(|v| v.is_finite());
    let (low, high) = bounds.unwrap_or_else(|| {
        finite
            .clone()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| (l.min(v), h.max(v)))
    });
    let bars: String = shown
        .iter()
        .map(|&v| match v.is_finite() {
            false => ' ',
            true if high > low => BARS[(((v - low) / (high - low)).clamp(0.0, 1.0) * 7.0).round() as usize],
            true => BARS[0],
        })
        .collect();
    let last = shown.iter().rev().find(|v| v.is_finite());
    format!(
        "{bars:<width$} {}",
        last.map_or("—".into(), |v| format!("{v:.2}")),
        width = SPARK_POINTS
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sparkline_draws_a_rate_on_its_own_scale_and_ends_in_the_latest_value() {
        assert_eq!(
            sparkline(&[0.0, 0.5, 1.0], Some((0.0, 1.0))),
            format!("▁▅█{} 1.00", " ".repeat(13))
        );
        assert_eq!(
            sparkline(&[2.0, f64::NAN, 4.0], None),
            format!("▁ █{} 4.00", " ".repeat(13))
        );
        assert_eq!(sparkline(&[], None).trim(), "—");
        // A long history is drawn from its first value to its latest.
        let many: Vec<f64> = (0..40).map(|i| f64::from(i) / 39.0).collect();
        let line = sparkline(&many, Some((0.0, 1.0)));
        assert_eq!(line.chars().filter(|c| ('▁'..='█').contains(c)).count(), SPARK_POINTS);
        assert!(line.starts_with('▁') && line.ends_with("█ 1.00"), "{line}");
    }
}
