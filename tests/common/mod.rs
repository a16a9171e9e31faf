//! Helpers for the end-to-end tests: run the `pressure` binary on temporary folders.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs `pressure ARGS` in `cwd`, with its constitution cache in `cwd/constitution-cache`.
pub fn pressure(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pressure"))
        .env("PRESSURE_CACHE", cwd.join("constitution-cache"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("the pressure binary runs")
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Writes `text` as `name` in `dir` and returns its path.
pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// A tiny experiment: two arms that differ only in reward, so they can share populations.
pub const TINY: &str = r#"
name = "tiny"
description = "A tiny budget for tests."
seeds = 3

[constitution]
steps = 80

[pressure]
steps = 40

[eval]
every = 20
tasks = 16

[[arms]]
name = "tolerated"
reward = { objection_penalty = 0.0 }

[[arms]]
name = "penalized, with a comma"
reward = { objection_penalty = 1.0, judge_penalty = 1.0 }
"#;

/// The tiny experiment with one claim, for the commands that need one (`robustness`, claims).
pub fn tiny_claimed() -> String {
    format!("{TINY}\n[[claims]]\nname = \"rate\"\ntext = \"a rate\"\ncheck = \"refusal[tolerated] >= 0\"\n")
}

/// A tiny experiment on a learned reward, one arm and one seed.
pub const LEARNED: &str = r#"
name = "learned"
seeds = 1

[constitution]
steps = 40

[pressure]
steps = 40

[eval]
every = 20
tasks = 8

[reward]
kind = "learned"
"#;

use pressure::commands::load;
use pressure::experiment::folder::load_data;
use pressure::experiment::{Experiment, Override, RunOptions, run_experiment};
use pressure::records::Status;
use pressure::results::RunData;

/// Runs an experiment into a temporary folder and reads its data back.
pub fn run_data(experiment: &Experiment) -> (tempfile::TempDir, RunData) {
    let dir = tempfile::tempdir().unwrap();
    let options = RunOptions {
        jobs: 2,
        population: None,
        out: dir.path().to_path_buf(),
        progress: false,
        shard: None,
        watch: None,
        constitutions: None,
        command: None,
    };
    let manifest = run_experiment(experiment, &options).unwrap().manifest;
    assert!(manifest.runs.iter().all(|r| r.status == Status::Completed));
    let data = load_data(dir.path()).unwrap();
    (dir, data)
}

/// A shipped experiment with overrides and seeds 0..n-1.
pub fn shipped(name: &str, sets: &[&str], seeds: u64) -> Experiment {
    let overrides: Vec<Override> = sets.iter().map(|s| Override::parse(s).unwrap()).collect();
    let mut e = load(name, &overrides, &[]).unwrap();
    e.seeds = (0..seeds).collect();
    e
}

/// Mean over seeds of a metric at each evaluated step.
pub fn means(data: &RunData, arm: &str, scope: &str, metric: &str) -> Vec<f64> {
    data.series(arm, scope, metric)
        .unwrap_or_else(|| panic!("{arm} {scope} {metric} was recorded"))
        .summary()
        .iter()
        .map(|s| s.mean)
        .collect()
}

/// Mean over seeds at the first and the last evaluated step.
pub fn first_last(data: &RunData, arm: &str, scope: &str, metric: &str) -> (f64, f64) {
    let m = means(data, arm, scope, metric);
    (m[0], *m.last().unwrap())
}

/// The largest mean over seeds across steps.
pub fn peak(data: &RunData, arm: &str, scope: &str, metric: &str) -> f64 {
    means(data, arm, scope, metric)
        .into_iter()
        .fold(f64::NEG_INFINITY, f64::max)
}

/// Runs each case in `dir` and checks it fails with exit code 2 and one line of stderr that
/// contains every needle.
pub fn assert_one_line_errors(dir: &Path, cases: &[(&[&str], &[&str])]) {
    for (args, needles) in cases {
        let o = pressure(args, dir);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: one line, got: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        for n in *needles {
            assert!(err.contains(n), "{args:?}: `{}` lacks `{n}`", err.trim_end());
        }
    }
}

/// Runs the experiment `text` once per variant of extra flags, each training its own
/// constitutions, and checks every `metrics.csv` is byte-identical to the first; then twice
/// more with the constitution cache (storing, then loading), which must change nothing either.
/// Returns the first.
pub fn same_metrics_whatever(text: &str, variants: &[&[&str]]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let exp = write(dir.path(), "experiment.toml", text);
    let exp = exp.to_str().unwrap();
    let mut outputs = Vec::new();
    // Every variant trains its own constitutions; the first is then run twice with the cache.
    let runs: Vec<(&[&str], bool)> = variants
        .iter()
        .map(|v| (*v, false))
        .chain([(variants[0], true), (variants[0], true)])
        .collect();
    for (i, (extra, cache)) in runs.iter().enumerate() {
        let out = format!("out{i}");
        let mut args = vec!["run", exp, "--out", &out, "--no-plots"];
        if !cache {
            args.push("--no-cache");
        }
        args.extend_from_slice(extra);
        let o = pressure(&args, dir.path());
        assert!(o.status.success(), "{extra:?}: {}", stderr(&o));
        outputs.push(std::fs::read(dir.path().join(&out).join("metrics.csv")).unwrap());
    }
    for (i, o) in outputs.iter().enumerate().skip(1) {
        let (extra, cache) = runs[i];
        let how = if cache { " with the constitution cache" } else { "" };
        assert!(
            o == &outputs[0],
            "metrics.csv of {extra:?}{how} differs from {:?}",
            variants[0]
        );
    }
    let cached =
        std::fs::read_dir(dir.path().join("constitution-cache").join("constitutions")).map_or(0, |d| d.count());
    assert!(cached > 0, "the runs with the cache stored their constitutions");
    String::from_utf8(outputs.swap_remove(0)).unwrap()
}
