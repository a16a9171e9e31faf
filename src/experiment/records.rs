//! What a run leaves on disk. Every file is written to a temporary name and renamed into place,
//! so an interrupted run never leaves a truncated file that looks complete.
//!
//! ```text
//! <out>/config.toml            the resolved experiment (every default written out)
//! <out>/manifest.json          version, seeds, per-run status, times
//! <out>/metrics.csv            arm,seed,step,scope,metric,value — the completed runs, in run order
//! <out>/runs/<id>/metrics.csv  one run's metrics (also kept for runs that diverged)
//! <out>/runs/<id>/status.json  one run's status
//! ```

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The header of every metrics file.
pub const METRICS_HEADER: [&str; 6] = ["arm", "seed", "step", "scope", "metric", "value"];

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
    pub seed: u64,
    pub status: Status,
    /// The step a diverged run stopped at.
    pub step: Option<usize>,
    pub message: Option<String>,
    pub started: String,
    pub finished: String,
    pub wall_seconds: f64,
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
    pub started: String,
    pub finished: String,
    pub wall_seconds: f64,
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
pub fn metrics_csv(arm: &str, seed: u64, rows: &[Row]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(METRICS_HEADER).expect("writing to memory");
    for r in rows {
        w.write_record([
            arm,
            &seed.to_string(),
            &r.step.to_string(),
            &r.scope,
            &r.metric,
            &r.value.to_string(),
        ])
        .expect("writing to memory");
    }
    w.into_inner().expect("writing to memory")
}

/// The folder of a run inside an experiment's output folder.
pub fn run_dir(out: &Path, id: &str) -> PathBuf {
    out.join("runs").join(id)
}

/// Concatenates the per-run metrics files of `ids` (in that order) under one header.
pub fn assemble(out: &Path, ids: &[&str]) -> std::io::Result<Vec<u8>> {
    let mut joined = Vec::new();
    let mut w = csv::Writer::from_writer(&mut joined);
    w.write_record(METRICS_HEADER)?;
    drop(w);
    for id in ids {
        let text = std::fs::read(run_dir(out, id).join("metrics.csv"))?;
        let body = text
            .iter()
            .position(|&b| b == b'\n')
            .map_or(&text[..0], |i| &text[i + 1..]);
        joined.extend_from_slice(body);
    }
    Ok(joined)
}

/// A metrics row as read back from a `metrics.csv`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct MetricRecord {
    pub arm: String,
    pub seed: u64,
    pub step: usize,
    pub scope: String,
    pub metric: String,
    pub value: f64,
}

/// Reads an experiment's `metrics.csv`.
pub fn read_metrics(path: &Path) -> anyhow::Result<Vec<MetricRecord>> {
    let mut r = csv::Reader::from_path(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let header: Vec<String> = r.headers()?.iter().map(str::to_string).collect();
    if header != METRICS_HEADER {
        anyhow::bail!(
            "{}: header is `{}`, expected `{}`",
            path.display(),
            header.join(","),
            METRICS_HEADER.join(",")
        );
    }
    r.deserialize()
        .map(|row| row.map_err(|e| anyhow::anyhow!("{}: {e}", path.display())))
        .collect()
}

/// The current time as RFC 3339.
pub fn now() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}
