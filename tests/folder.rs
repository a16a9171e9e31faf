//! Trusting the output folder: one writer at a time, and damaged data detected and never used —
//! end to end on temporary folders.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::*;

/// The runs folder of `out`, one entry per run id.
fn run_ids(out: &Path) -> Vec<String> {
    let mut ids: Vec<String> = std::fs::read_dir(out.join("runs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    ids.sort();
    ids
}

/// Keeps the first half of a file's bytes.
fn truncate(path: &Path) {
    let bytes = std::fs::read(path).unwrap();
    std::fs::write(path, &bytes[..bytes.len() / 2]).unwrap();
}

/// Runs a command and checks it exits with `code` and one line that contains every needle.
fn fails_with(dir: &Path, args: &[&str], code: i32, needles: &[&str]) {
    let o = pressure(args, dir);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(code), "{args:?}: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: one line, got: {err}");
    for n in needles {
        assert!(err.contains(n), "{args:?}: `{}` lacks `{n}`", err.trim_end());
    }
}

#[test]
fn a_second_writer_is_refused_and_readers_see_no_half_written_folder() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "tiny.toml", TINY);
    let mut first = std::process::Command::new(env!("CARGO_BIN_EXE_pressure"))
        .args([
            "run",
            "tiny.toml",
            "--out",
            "D",
            "--no-plots",
            "--set",
            "pressure.steps=400",
        ])
        .current_dir(dir.path())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let pid = first.id().to_string();
    let lock = dir.path().join("D/.lock");
    let start = Instant::now();
    // Wait until the first writer holds the lock and has written its new config.toml: the
    // folder is then mid-run (before that, a reader finds no run folder at all).
    let config = dir.path().join("D/config.toml");
    while (std::fs::read_to_string(&lock).unwrap_or_default() != pid || !config.is_file())
        && start.elapsed() < Duration::from_secs(60)
    {
        std::thread::sleep(Duration::from_millis(5));
    }
    let named = format!("pid {pid}");
    fails_with(
        dir.path(),
        &[
            "run",
            "tiny.toml",
            "--out",
            "D",
            "--no-plots",
            "--set",
            "pressure.steps=50",
        ],
        2,
        &["D: another pressure process", &named],
    );
    // Mid-run the folder has no manifest for its new config: readers refuse it and name the writer.
    fails_with(dir.path(), &["summary", "D"], 1, &["D: manifest.json", &named]);
    fails_with(
        dir.path(),
        &["plot", "D", "--plots", "p"],
        1,
        &["D: manifest.json", &named],
    );
    fails_with(
        dir.path(),
        &["merge", "--out", "M", "D", "--no-plots"],
        2,
        &["D: a pressure process", &named, "merge when it has finished"],
    );
    assert!(first.wait().unwrap().success());

    // The folder holds the first writer's settings only, and readers accept it.
    let config = std::fs::read_to_string(dir.path().join("D/config.toml")).unwrap();
    assert!(
        config.contains("steps = 400") && !config.contains("steps = 50\n"),
        "{config}"
    );
    let o = pressure(&["summary", "D"], dir.path());
    assert!(o.status.success(), "{}", stderr(&o));
    // A config that no longer matches the manifest is caught.
    std::fs::write(
        dir.path().join("D/config.toml"),
        config.replace("steps = 400", "steps = 50"),
    )
    .unwrap();
    fails_with(
        dir.path(),
        &["summary", "D"],
        1,
        &["config.toml has", "were recorded in manifest.json"],
    );
}

#[test]
fn every_stored_file_truncated_is_detected_and_never_used() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "tiny.toml", TINY);
    let run = |out: &str| {
        pressure(
            &["run", "tiny.toml", "--out", out, "--no-plots", "--seeds", "2"],
            dir.path(),
        )
    };
    let o = run("whole");
    assert!(o.status.success(), "{}", stderr(&o));
    let whole = std::fs::read(dir.path().join("whole/metrics.csv")).unwrap();

    // A run's metrics: readers name the run; resume trains it again, to the same bytes.
    let o = run("a");
    assert!(o.status.success(), "{}", stderr(&o));
    let a = dir.path().join("a");
    let id = run_ids(&a)[0].clone();
    truncate(&a.join("runs").join(&id).join("metrics.csv"));
    fails_with(
        dir.path(),
        &["summary", "a"],
        1,
        &[&format!("run {id}"), "metrics.csv has"],
    );
    fails_with(dir.path(), &["plot", "a", "--plots", "p"], 1, &[&format!("run {id}")]);
    let o = run("a");
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&format!("run {id} was recorded as completed but cannot be trusted")),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("(3 reused"), "{}", stderr(&o));
    assert_eq!(std::fs::read(a.join("metrics.csv")).unwrap(), whole);
    assert!(pressure(&["summary", "a"], dir.path()).status.success());

    // A run's status: not reused, not merged as "in no shard folder" but as damaged.
    let id = run_ids(&a)[1].clone();
    truncate(&a.join("runs").join(&id).join("status.json"));
    let o = pressure(&["merge", "--out", "m", "a", "--no-plots"], dir.path());
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&format!("run {id} is not merged: its records are damaged")),
        "{}",
        stderr(&o)
    );
    assert!(!stderr(&o).contains("in no shard folder"), "{}", stderr(&o));
    let o = run("a");
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("status.json: damaged"), "{}", stderr(&o));
    assert_eq!(std::fs::read(a.join("metrics.csv")).unwrap(), whole);

    // The experiment's metrics and manifest: readers stop with exit 1, naming the file.
    truncate(&a.join("metrics.csv"));
    fails_with(
        dir.path(),
        &["summary", "a"],
        1,
        &["metrics.csv has", "recorded in manifest.json"],
    );
    let o = run("a");
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(std::fs::read(a.join("metrics.csv")).unwrap(), whole);
    truncate(&a.join("manifest.json"));
    fails_with(dir.path(), &["summary", "a"], 1, &["manifest.json is damaged"]);
    fails_with(
        dir.path(),
        &["plot", "a", "--plots", "p"],
        1,
        &["manifest.json is damaged"],
    );
}
