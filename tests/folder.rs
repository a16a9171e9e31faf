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
    // Removing the lock file lets no second writer in: the folder itself is locked.
    std::fs::remove_file(&lock).unwrap();
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
        &["D: another pressure process is writing to this folder"],
    );
    std::fs::write(&lock, &pid).unwrap();
    // Mid-run the folder has no manifest for its new config: readers read its runs' rows as
    // they stand (whole rows only), and say that it is still training.
    // Before the first evaluation there is nothing to read yet, and a reader says so.
    let mut o = pressure(&["summary", "D"], dir.path());
    while !o.status.success() {
        assert!(stderr(&o).contains("D: nothing to summarize yet"), "{}", stderr(&o));
        o = pressure(&["summary", "D"], dir.path());
    }
    for args in [&["summary", "D"][..], &["plot", "D", "--plots", "p"]] {
        let o = pressure(args, dir.path());
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains("D: still training ("), "{args:?}: {}", stderr(&o));
    }
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

/// Every file of a folder, with its bytes.
fn snapshot(dir: &Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                files.push((p.clone(), std::fs::read(&p).unwrap()));
            }
        }
    }
    files.sort();
    files
}

#[test]
fn outputs_never_land_on_a_run_folder_s_records_and_reads_never_write() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "tiny.toml", TINY);
    let o = pressure(
        &["run", "tiny.toml", "--out", "runs/r1", "--no-plots", "--seeds", "1"],
        dir.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let r1 = dir.path().join("runs/r1");
    // The one writer's lock file exists after the run (its OS lock is gone with the process).
    assert!(r1.join(".lock").is_file());
    let id = run_ids(&r1)[0].clone();
    let status = format!("runs/r1/runs/{id}/status.json");
    let before = snapshot(&r1);
    for target in [
        "runs/r1/metrics.csv",
        "runs/r1/config.toml",
        "runs/r1/manifest.json",
        status.as_str(),
        "runs/r1/.lock",
    ] {
        fails_with(
            dir.path(),
            &["report", "runs/r1", "--out", target],
            2,
            &["--out", "inside the run folder", "write it elsewhere"],
        );
    }
    fails_with(
        dir.path(),
        &["report", "runs/r1", "--out", "/dev/full"],
        2,
        &["--out /dev/full", "under /dev"],
    );
    assert!(
        std::fs::metadata("/dev/full").is_ok_and(|m| !m.is_file()),
        "/dev/full is still a device"
    );
    fails_with(
        dir.path(),
        &["bench", "--json", "runs/r1/metrics.csv"],
        2,
        &["--json", "inside the run folder"],
    );
    fails_with(
        dir.path(),
        &["run", "tiny.toml", "--out", "runs/r1/runs/nested", "--no-plots"],
        2,
        &["--out", "inside the run folder"],
    );
    fails_with(
        dir.path(),
        &["plot", "runs/r1", "--plots", "runs/r1/runs"],
        2,
        &["--plots", "which this command reads"],
    );
    assert_eq!(snapshot(&r1), before, "no refused command touched the folder");

    // A read command never writes: summary prints the claims and leaves the folder as it was.
    write(dir.path(), "claimed.toml", &tiny_claimed());
    let o = pressure(
        &["run", "claimed.toml", "--out", "c", "--no-plots", "--seeds", "1"],
        dir.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let c = dir.path().join("c");
    std::fs::remove_file(c.join("claims.json")).unwrap();
    let before = snapshot(&c);
    let o = pressure(&["summary", "c"], dir.path());
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("✓ rate"), "{}", stdout(&o));
    assert_eq!(snapshot(&c), before, "summary wrote into the folder it read");
    let o = pressure(&["summary", "c", "--claims-out", "verdicts.json"], dir.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let json = std::fs::read_to_string(dir.path().join("verdicts.json")).unwrap();
    assert!(json.contains("\"rate\""), "{json}");
    // The report's own output, beside the data, is allowed.
    let o = pressure(&["report", "runs/r1"], dir.path());
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(r1.join("report.html").is_file());
}

/// Edits one field of a run's status file.
fn edit_status(path: &Path, edit: impl Fn(&mut serde_json::Value)) {
    let mut json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    edit(&mut json);
    std::fs::write(path, serde_json::to_vec_pretty(&json).unwrap()).unwrap();
}

#[test]
fn a_status_edited_by_hand_is_named_and_retrained_never_reused_and_merge_refuses_its_shard() {
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
    let manifest = std::fs::read_to_string(dir.path().join("whole/manifest.json")).unwrap();

    type Edit = fn(&mut serde_json::Value);
    let edits: [(&str, Edit); 4] = [
        ("the id", |j| j["id"] = "000000000000".into()),
        ("the arm", |j| j["arm"] = "another arm".into()),
        ("the seed", |j| j["seed"] = 7.into()),
        ("another configuration", |j| j["config"]["pressure"]["steps"] = 5.into()),
    ];
    for (what, edit) in edits {
        let o = run("a");
        assert!(o.status.success(), "{}", stderr(&o));
        let a = dir.path().join("a");
        let id = run_ids(&a)[0].clone();
        let status = a.join("runs").join(&id).join("status.json");
        edit_status(&status, edit);

        // merge refuses the shard before writing anything.
        fails_with(
            dir.path(),
            &[
                "merge",
                "--out",
                &format!("m-{}", what.replace(' ', "-")),
                "a",
                "--no-plots",
            ],
            2,
            &[&format!("run {id}"), what, "cannot be merged"],
        );
        assert!(!dir.path().join(format!("m-{}", what.replace(' ', "-"))).exists());

        // run names it and trains it again, to the bytes of an untouched run.
        let o = run("a");
        let err = stderr(&o);
        assert!(o.status.success(), "{what}: {err}");
        assert!(
            err.contains(&format!("run {id} was recorded as completed but cannot be trusted")) && err.contains(what),
            "{what}: {err}"
        );
        assert!(err.contains("(3 reused"), "{what}: {err}");
        assert_eq!(std::fs::read(a.join("metrics.csv")).unwrap(), whole, "{what}");
        let m = std::fs::read_to_string(a.join("manifest.json")).unwrap();
        let runs =
            |m: &str| -> serde_json::Value { serde_json::from_str::<serde_json::Value>(m).unwrap()["runs"].clone() };
        let strip = |mut v: serde_json::Value| {
            for r in v.as_array_mut().unwrap() {
                for k in ["started", "finished", "wall_seconds"] {
                    r.as_object_mut().unwrap().remove(k);
                }
            }
            v
        };
        assert_eq!(
            strip(runs(&m)),
            strip(runs(&manifest)),
            "{what}: the manifest records each run as it is"
        );
        std::fs::remove_dir_all(&a).unwrap();
    }
}

#[test]
fn merge_never_writes_into_a_shard_it_reads() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "tiny.toml", TINY);
    let o = pressure(
        &[
            "run",
            "tiny.toml",
            "--out",
            "s1",
            "--no-plots",
            "--seeds",
            "1",
            "--shard",
            "1/2",
        ],
        dir.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let before = snapshot(&dir.path().join("s1"));
    for out in ["s1/merged", "s1", "./s1/../s1/runs"] {
        fails_with(
            dir.path(),
            &["merge", "--out", out, "s1", "--no-plots"],
            2,
            &["--out", "which this command reads"],
        );
    }
    assert_eq!(snapshot(&dir.path().join("s1")), before);
}

#[test]
fn a_sweep_value_written_another_way_reuses_the_runs_it_names() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "tiny.toml", TINY);
    let run = |values: &str, extra: &[&str]| {
        let sweep = format!("world.obs_noise={values}");
        let mut args = vec![
            "run",
            "tiny.toml",
            "--out",
            "o",
            "--no-plots",
            "--seeds",
            "1",
            "--sweep",
            &sweep,
        ];
        args.extend_from_slice(extra);
        pressure(&args, dir.path())
    };
    let o = run("0,1", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    // `0.0` is the point `0` names: the same ids, all done, none trained again.
    let o = run("0.0,1.0", &["--dry-run"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("4 done in o, 0 to do"), "{}", stderr(&o));
    let o = run("0.0,1.0", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!stderr(&o).contains("cannot be trusted"), "{}", stderr(&o));
}

#[test]
fn runs_lists_every_experiment_folder_with_its_state() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "tiny.toml", TINY);
    let run = |args: &[&str]| {
        let mut all = vec!["run", "tiny.toml", "--seeds", "2", "--no-plots"];
        all.extend_from_slice(args);
        let o = pressure(&all, dir.path());
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
    };
    run(&["--out", "runs/done"]);
    run(&["--out", "runs/half", "--shard", "0/2"]);
    run(&["--out", "runs/damaged"]);
    truncate(&dir.path().join("runs/damaged/metrics.csv"));
    // A folder the runs of another experiment fill partly: its list is longer than what is done.
    run(&["--out", "runs/partial", "--arm", "tolerated"]);
    write(
        dir.path(),
        "runs/partial/config.toml",
        &std::fs::read_to_string(dir.path().join("runs/done/config.toml")).unwrap(),
    );

    let o = pressure(&["runs"], dir.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let table = stdout(&o);
    let row = |folder: &str| {
        table
            .lines()
            .find(|l| l.starts_with(&format!("| runs/{folder} |")))
            .unwrap_or_else(|| panic!("no row for {folder}: {table}"))
            .to_string()
    };
    assert!(row("done").contains("| tiny | 4/4 | done |"), "{}", row("done"));
    assert!(
        row("half").contains("| 2/2 | shard 0/2: done |"),
        "a shard holds its slice: {}",
        row("half")
    );
    assert!(row("damaged").contains("| damaged: "), "{}", row("damaged"));
    assert!(row("partial").contains("| 2/4 |"), "{}", row("partial"));
    assert_eq!(
        table.lines().count(),
        2 + 4,
        "the runs/ inside each are not listed: {table}"
    );

    fails_with(dir.path(), &["runs", "nowhere"], 2, &["nowhere: no such folder"]);
}
