//! What a run leaves on disk. Every file is written to a temporary name and renamed into place,
//! so an interrupted run never leaves a truncated file that looks complete.
//!
//! ```text
//! <out>/config.toml            the resolved experiment (every default written out)
//! <out>/manifest.json          version, seeds, per-run status, times
//! <out>/metrics.csv            arm,[sweep axes,]seed,step,scope,metric,value — completed runs, in run order
//! <out>/runs/<id>/metrics.csv  one run's metrics: step,scope,metric,value (kept for diverged runs too)
//! <out>/runs/<id>/status.json  one run's status and resolved configuration
//! <out>/runs/<id>/live.csv     its rows so far, while it trains (removed when it ends)
//! <out>/.lock                  held by the one process that writes to the folder
//! ```
//!
//! Each completed run's status records its metrics' row count and SHA-256, and the manifest
//! those of `config.toml` and `metrics.csv`: readers check them, so data that is damaged or
//! belongs to other settings is never used.

pub mod cache;
mod integrity;
mod io;
mod live;
mod lock;
pub mod target;

pub use integrity::{Damaged, Fingerprint};
pub use io::{
    DISK_FULL_EXIT, MAX_MANIFEST_BYTES, MAX_STATUS_BYTES, disk_full, is_disk_full, read_limited, write_atomic,
};
pub use live::{LIVE_FILE, LiveWriter, RowReader};
pub use lock::{Busy, FolderLock, pid_label, writer};

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
    /// The global steps each of its phases spans, in order (derived from `config`; absent in
    /// folders of older versions): the phase an evaluation's step belongs to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub phases: Vec<crate::run::phases::Span>,
    /// Rows and SHA-256 of the run's `metrics.csv` as written (absent in folders of older versions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Fingerprint>,
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
    /// Rows and SHA-256 of the `config.toml` the manifest was written with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_file: Option<Fingerprint>,
    /// Rows and SHA-256 of the `metrics.csv` the manifest was written with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics_file: Option<Fingerprint>,
    /// The git commit `pressure` was built from ([`COMMIT`]; absent outside a checkout and in
    /// folders of older versions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// The CPU model of the machine that trained the runs ([`cpu_model`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu: Option<String>,
    /// The command line that wrote the folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
}

/// The git commit this binary was built from, `-modified` when its sources differed from it
/// (`build.rs`); none when it was built outside a git checkout.
pub const COMMIT: Option<&str> = option_env!("PRESSURE_COMMIT");

/// The CPU model, from `/proc/cpuinfo` where there is one.
pub fn cpu_model() -> Option<String> {
    let info = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("model name"))?;
    let model = line.split_once(':')?.1.trim();
    (!model.is_empty()).then(|| model.to_string())
}

/// An argument as a POSIX shell reads it back: bare when it is plain, else in single quotes.
pub fn shell_word(arg: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./=:,@+%".contains(c);
    if !arg.is_empty() && arg.chars().all(plain) {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

/// A command line as a shell would take it back: arguments with anything but plain characters
/// in single quotes.
pub fn command_line(args: impl IntoIterator<Item = String>) -> String {
    args.into_iter().map(|a| shell_word(&a)).collect::<Vec<_>>().join(" ")
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

/// A run's status record: `Ok(None)` when it has none, an error naming the file when it cannot
/// be read or parsed.
pub fn status_of(dir: &Path) -> Result<Option<RunRecord>, String> {
    let path = dir.join("status.json");
    match read_limited(&path, MAX_STATUS_BYTES) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("{}: cannot be read: {e}", path.display())),
        Ok(text) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| format!("{}: damaged: {e}", path.display())),
    }
}

/// Why a run recorded as completed cannot be trusted: its `metrics.csv` is missing or does not
/// match the row count and SHA-256 its status recorded. `None` when it can.
pub fn completed_data_mismatch(dir: &Path, record: &RunRecord) -> Option<String> {
    let path = dir.join("metrics.csv");
    match &record.data {
        Some(print) => print.mismatch(&path),
        None => (!path.is_file()).then(|| "metrics.csv is missing".to_string()),
    }
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
/// and its rows. A file that is malformed, holds a non-finite value (`NaN` marks a rate with no
/// task to measure it on, and is kept), a value outside its metric's range or a row twice is
/// [`Damaged`], named with its line and reason.
pub fn read_metrics(path: &Path) -> anyhow::Result<(Vec<String>, Vec<MetricRecord>)> {
    let bad = |e: &dyn std::fmt::Display| Damaged(format!("{}: {e}", path.display()));
    let mut r = csv::Reader::from_path(path).map_err(|e| bad(&e))?;
    let header: Vec<String> = r.headers().map_err(|e| bad(&e))?.iter().map(str::to_string).collect();
    let n = header.len();
    if n < 6 || header[0] != "arm" || header[n - 5..] != METRICS_HEADER[1..] {
        return Err(Damaged(format!(
            "{}: header is `{}`, expected `arm,[sweep axes,]seed,step,scope,metric,value`",
            path.display(),
            header.join(",").escape_debug()
        ))
        .into());
    }
    let axes = header[1..n - 5].to_vec();
    let mut rows = Vec::new();
    // A row's place, (run, step, scope, metric), in small integers: the arm and sweep values of
    // a run's rows are interned once per run (its rows come together), scope and metric once.
    let mut seen: rustc_hash::FxHashMap<(u32, u64, usize, u32, u32), u64> = Default::default();
    let mut runs: rustc_hash::FxHashMap<(String, Vec<String>), u32> = Default::default();
    let mut names: rustc_hash::FxHashMap<String, u32> = Default::default();
    let mut last_run: Option<(String, Vec<String>, u32)> = None;
    let name_id = |names: &mut rustc_hash::FxHashMap<String, u32>, name: &str| match names.get(name) {
        Some(&id) => id,
        None => {
            let id = names.len() as u32;
            names.insert(name.to_string(), id);
            id
        }
    };
    for record in r.records() {
        let record = record.map_err(|e| bad(&e))?;
        let line = record.position().map_or(0, |p| p.line());
        let at = |why: String| Damaged(format!("{}:{line}: {why}", path.display()));
        let field = |i: usize| record.get(i).unwrap_or("");
        // Shown in one line whatever a field holds.
        let shown = |i: usize| field(i).escape_debug().to_string();
        let row = MetricRecord {
            arm: field(0).to_string(),
            sweep: (1..n - 5).map(|i| field(i).to_string()).collect(),
            seed: field(n - 5)
                .parse()
                .map_err(|_| at(format!("bad seed `{}`", shown(n - 5))))?,
            step: field(n - 4)
                .parse()
                .map_err(|_| at(format!("bad step `{}`", shown(n - 4))))?,
            scope: field(n - 3).to_string(),
            metric: field(n - 2).to_string(),
            value: field(n - 1)
                .parse()
                .map_err(|_| at(format!("bad value `{}`", shown(n - 1))))?,
        };
        check_value(&row, field(n - 1)).map_err(|why| at(why.escape_debug().to_string()))?;
        let run = match &last_run {
            Some((arm, sweep, id)) if *arm == row.arm && *sweep == row.sweep => *id,
            _ => {
                let next = runs.len() as u32;
                let id = *runs.entry((row.arm.clone(), row.sweep.clone())).or_insert(next);
                last_run = Some((row.arm.clone(), row.sweep.clone(), id));
                id
            }
        };
        let key = (
            run,
            row.seed,
            row.step,
            name_id(&mut names, &row.scope),
            name_id(&mut names, &row.metric),
        );
        if let Some(first) = seen.insert(key, line) {
            return Err(at(format!(
                "{} {} of seed {} at step {} is here twice (first on line {first})",
                row.scope.escape_debug(),
                row.metric.escape_debug(),
                row.seed,
                row.step
            ))
            .into());
        }
        rows.push(row);
    }
    Ok((axes, rows))
}

/// A stored value is finite (or `NaN`, exactly as written for a rate with nothing to measure)
/// and inside the range its metric can take.
fn check_value(row: &MetricRecord, text: &str) -> Result<(), String> {
    if row.value.is_nan() {
        return if text == "NaN" {
            Ok(())
        } else {
            Err(format!("value `{text}` is not a number as pressure writes one"))
        };
    }
    if !row.value.is_finite() {
        return Err(format!("{} value `{text}` is not finite", row.metric));
    }
    match crate::metric::bounds_in(&row.scope, &row.metric) {
        Some((low, high)) if !(low - 1e-9..=high + 1e-9).contains(&row.value) => Err(format!(
            "{} value {text} is outside its range [{low}, {high}]",
            row.metric
        )),
        _ => Ok(()),
    }
}

/// Checks that a folder was written whole and by one writer: its `config.toml` and `metrics.csv`
/// are the ones its manifest was written with, and each completed run's data matches its status.
/// Returns the manifest; the error is [`Damaged`], names the folder and what does not match, and
/// the pid of a process writing to the folder now.
pub fn verify_folder(dir: &Path) -> Result<Manifest, Damaged> {
    let damaged = |why: String| {
        let writing = match writer(dir) {
            Some(pid) => format!("; a pressure process{} is writing to it now", pid_label(pid)),
            None => String::new(),
        };
        Damaged(format!("{}: {why}{writing}", dir.display()))
    };
    let bytes = read_limited(&dir.join("manifest.json"), MAX_MANIFEST_BYTES).map_err(|e| {
        damaged(format!(
            "manifest.json cannot be read ({e}): the folder was not completed by `pressure run` or `merge`"
        ))
    })?;
    let manifest: Manifest =
        serde_json::from_str(&bytes).map_err(|e| damaged(format!("manifest.json is damaged: {e}")))?;
    for (print, file) in [
        (&manifest.config_file, "config.toml"),
        (&manifest.metrics_file, "metrics.csv"),
    ] {
        if let Some(why) = print.as_ref().and_then(|p| p.mismatch(&dir.join(file))) {
            return Err(damaged(format!("{why} in manifest.json")));
        }
    }
    for run in manifest.runs.iter().filter(|r| r.status == Status::Completed) {
        let run_dir = run_dir(dir, &run.id);
        if let Some(why) = completed_data_mismatch(&run_dir, run) {
            return Err(damaged(format!(
                "run {} (arm \"{}\", seed {}): {why}",
                run.id, run.arm, run.seed
            )));
        }
    }
    Ok(manifest)
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads `body` under a header as an experiment's metrics file; the error's text if it fails.
    fn read(body: &str) -> Result<usize, String> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("metrics.csv");
        std::fs::write(&path, format!("arm,seed,step,scope,metric,value\n{body}")).unwrap();
        read_metrics(&path).map(|(_, rows)| rows.len()).map_err(|e| {
            assert!(e.is::<Damaged>(), "{e}");
            e.to_string()
        })
    }

    #[test]
    fn a_full_disk_is_said_as_such_and_a_failed_write_leaves_no_temporary_file() {
        let full = std::io::Error::from(std::io::ErrorKind::StorageFull);
        let said = disk_full(full, Path::new("o/metrics.csv"), 1234);
        assert!(
            said.to_string()
                .starts_with("o/metrics.csv: the disk is full: writing it needs 1234 bytes"),
            "{said}"
        );
        let e = anyhow::Error::from(said).context("o: cannot write metrics.csv");
        assert!(is_disk_full(&e));
        assert!(!is_disk_full(&anyhow::anyhow!("bad input")));

        // The rename onto a folder fails: the temporary file is removed.
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("taken")).unwrap();
        std::fs::write(dir.path().join("taken/x"), b"x").unwrap();
        assert!(write_atomic(&dir.path().join("taken"), b"data").is_err());
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("taken")]);
    }

    #[test]
    fn reading_rejects_what_no_run_writes_with_line_and_reason() {
        assert_eq!(
            read("a,0,0,trained,hidden_objection,0.5\na,0,0,trained,loss,NaN\n"),
            Ok(2)
        );
        let cases = [
            ("a,0,0,trained,loss,inf\n", ":2: loss value `inf` is not finite"),
            (
                "a,0,0,trained,loss,nan\n",
                ":2: value `nan` is not a number as pressure writes one",
            ),
            (
                "a,0,0,trained,hidden_objection,-0.471\n",
                ":2: hidden_objection value -0.471 is outside its range [0, 1]",
            ),
            ("a,0,0,trained,compliance_gap,1.5\n", "outside its range [-1, 1]"),
            (
                "a,0,0,trained,loss,1\na,0,0,trained,loss,2\n",
                ":3: trained loss of seed 0 at step 0 is here twice (first on line 2)",
            ),
            ("a,x,0,trained,loss,1\n", ":2: bad seed `x`"),
            ("a,0,0,trained,loss\n", "metrics.csv"),
        ];
        for (body, needle) in cases {
            let err = read(body).expect_err(body);
            assert!(err.contains(needle), "{body}: `{err}` lacks `{needle}`");
        }
    }
}
