//! What a run leaves on disk. Every file is written to a temporary name and renamed into place,
//! so an interrupted run never leaves a truncated file that looks complete.
//!
//! ```text
//! <out>/config.toml            the resolved experiment (every default written out)
//! <out>/manifest.json          version, seeds, per-run status, times
//! <out>/metrics.csv            arm,[sweep axes,]seed,step,scope,metric,value — completed runs, in run order
//! <out>/runs/<id>/metrics.csv  one run's metrics: step,scope,metric,value (kept for diverged runs too)
//! <out>/runs/<id>/status.json  one run's status and resolved configuration
//! ```

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The header of an experiment's metrics file without a sweep (sweep axes go after `arm`).
pub const METRICS_HEADER: [&str; 6] = ["arm", "seed", "step", "scope", "metric", "value"];

/// The header of one run's metrics file.
pub const RUN_METRICS_HEADER: [&str; 4] = ["step", "scope", "metric", "value"];

/// One measured value.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub step: usize,
    pub scope: String,
    pub metric: String,
    pub value: f64,
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Trained to its last step; its metrics are in the experiment's `metrics.csv`.
    Completed,
    /// Its loss or outputs went non-finite; it stopped at `step`.
    Diverged,
    /// It stopped on an error (`message`).
    Failed,
}

/// One run's record, in `runs/<id>/status.json` and in the manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub id: String,
    pub arm: String,
    /// The run's values of the sweep axes, `key=value` pairs (empty without a sweep).
    pub sweep: String,
    pub seed: u64,
    pub status: Status,
    /// The step a diverged run stopped at.
    pub step: Option<usize>,
    pub message: Option<String>,
    pub started: String,
    pub finished: String,
    pub wall_seconds: f64,
    /// The run's resolved configuration.
    pub config: crate::run::RunConfig,
}

/// The experiment's manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub experiment: String,
    pub description: String,
    /// Version of the `pressure` crate that produced the runs.
    pub version: String,
    pub backend: String,
    pub jobs: usize,
    pub seeds: Vec<u64>,
    /// The sweep's axes (dotted keys), in column order.
    pub sweep: Vec<String>,
    /// `K/N` when this folder holds one shard of the run list.
    pub shard: Option<String>,
    pub started: String,
    pub finished: String,
    pub wall_seconds: f64,
    /// Peak resident memory of the process that trained the runs (Linux), in MiB.
    pub peak_memory_mib: Option<f64>,
    pub runs: Vec<RunRecord>,
}

/// Writes `bytes` to `path` through a temporary file in the same folder and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    std::fs::create_dir_all(dir)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)
}

/// The rows of one run as CSV, with the header.
pub fn run_metrics_csv(rows: &[Row]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(RUN_METRICS_HEADER).expect("writing to memory");
    for r in rows {
        w.write_record([&r.step.to_string(), &r.scope, &r.metric, &r.value.to_string()])
            .expect("writing to memory");
    }
    w.into_inner().expect("writing to memory")
}

/// Reads a run's status record, if it has one.
pub fn read_status(dir: &Path) -> Option<RunRecord> {
    let bytes = std::fs::read(dir.join("status.json")).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// The folder of a run inside an experiment's output folder.
pub fn run_dir(out: &Path, id: &str) -> PathBuf {
    out.join("runs").join(id)
}

/// Where a run's rows go in the experiment's table: its arm, sweep values and seed.
pub struct RunColumns<'a> {
    pub id: &'a str,
    pub arm: &'a str,
    pub sweep: Vec<String>,
    pub seed: u64,
}

/// The experiment's `metrics.csv`: the per-run files of `runs` (in that order) under one header,
/// each row prefixed with its run's arm, sweep values and seed.
pub fn assemble(out: &Path, axes: &[String], runs: &[RunColumns]) -> std::io::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["arm".to_string()];
    header.extend(axes.iter().cloned());
    header.extend(METRICS_HEADER[1..].iter().map(|s| s.to_string()));
    w.write_record(&header)?;
    for run in runs {
        let path = run_dir(out, run.id).join("metrics.csv");
        let mut r = csv::Reader::from_path(&path).map_err(std::io::Error::other)?;
        let seed = run.seed.to_string();
        for row in r.records() {
            let row = row.map_err(std::io::Error::other)?;
            let mut fields: Vec<&str> = vec![run.arm];
            fields.extend(run.sweep.iter().map(String::as_str));
            fields.push(&seed);
            fields.extend(row.iter());
            w.write_record(&fields)?;
        }
    }
    w.into_inner().map_err(|e| std::io::Error::other(e.to_string()))
}

/// A metrics row as read back from an experiment's `metrics.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricRecord {
    pub arm: String,
    /// The values of the sweep axes, in column order.
    pub sweep: Vec<String>,
    pub seed: u64,
    pub step: usize,
    pub scope: String,
    pub metric: String,
    pub value: f64,
}

/// Reads an experiment's `metrics.csv`: its sweep axes (the columns between `arm` and `seed`)
/// and its rows.
pub fn read_metrics(path: &Path) -> anyhow::Result<(Vec<String>, Vec<MetricRecord>)> {
    let bad = |e: &dyn std::fmt::Display| anyhow::anyhow!("{}: {e}", path.display());
    let mut r = csv::Reader::from_path(path).map_err(|e| bad(&e))?;
    let header: Vec<String> = r.headers().map_err(|e| bad(&e))?.iter().map(str::to_string).collect();
    let n = header.len();
    if n < 6 || header[0] != "arm" || header[n - 5..] != METRICS_HEADER[1..] {
        anyhow::bail!(
            "{}: header is `{}`, expected `arm,[sweep axes,]seed,step,scope,metric,value`",
            path.display(),
            header.join(",")
        );
    }
    let axes = header[1..n - 5].to_vec();
    let mut rows = Vec::new();
    for (line, record) in r.records().enumerate() {
        let record = record.map_err(|e| bad(&e))?;
        let field = |i: usize| record.get(i).unwrap_or("");
        let parse_err = |what: &str| anyhow::anyhow!("{}: row {}: bad {what}", path.display(), line + 2);
        rows.push(MetricRecord {
            arm: field(0).to_string(),
            sweep: (1..n - 5).map(|i| field(i).to_string()).collect(),
            seed: field(n - 5).parse().map_err(|_| parse_err("seed"))?,
            step: field(n - 4).parse().map_err(|_| parse_err("step"))?,
            scope: field(n - 3).to_string(),
            metric: field(n - 2).to_string(),
            value: field(n - 1).parse().map_err(|_| parse_err("value"))?,
        });
    }
    Ok((axes, rows))
}

/// The current time as RFC 3339.
pub fn now() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

/// This process's peak resident memory in MiB (Linux), for the manifest.
pub fn peak_memory_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}
