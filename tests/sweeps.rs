//! Sweeps, run identity, resume, shards and merge, end to end on temporary folders.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::*;

const SWEEP: &str = r#"
name = "grid"
seeds = 2

[constitution]
steps = 150

[pressure]
steps = 40

[eval]
every = 20
tasks = 16

[sweep]
world.contradiction_rate = [0.0, 0.5]
reward.refusal_penalty = [0.0, 2.0]
"#;

fn completed_runs(out: &Path) -> usize {
    std::fs::read_dir(out.join("runs")).map_or(0, |d| {
        d.filter_map(Result::ok)
            .filter(|e| e.path().join("status.json").exists())
            .count()
    })
}

#[test]
fn sweep_axes_are_columns_after_the_arm() {
    let dir = tempfile::tempdir().unwrap();
    let exp = write(dir.path(), "grid.toml", SWEEP);
    let o = pressure(
        &["run", exp.to_str().unwrap(), "--out", "o", "--plots", "p"],
        dir.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let csv = std::fs::read_to_string(dir.path().join("o/metrics.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("arm,world.contradiction_rate,reward.refusal_penalty,seed,step,scope,metric,value")
    );
    assert!(csv.contains("\ndefault,0.5,2.0,1,40,trained,hidden_objection,"));
    for f in ["heatmap_hidden_objection.png", "heatmap_hidden_objection.svg"] {
        assert!(dir.path().join("p").join(f).exists(), "{f}");
    }
    // A one-axis sweep draws final values against the swept setting.
    let o = pressure(
        &[
            "run",
            exp.to_str().unwrap(),
            "--sweep",
            "reward.refusal_penalty=2",
            "--out",
            "o1",
            "--plots",
            "p1",
        ],
        dir.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let text = SWEEP.replace("reward.refusal_penalty = [0.0, 2.0]\n", "");
    let one = write(dir.path(), "one.toml", &text);
    let o = pressure(
        &["run", one.to_str().unwrap(), "--out", "o2", "--plots", "p2"],
        dir.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(dir.path().join("p2/sweep.png").exists());
}

#[test]
fn the_dry_run_lists_every_run_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let exp = write(dir.path(), "grid.toml", SWEEP);
    let o = pressure(&["run", exp.to_str().unwrap(), "--dry-run", "--out", "o"], dir.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 8);
    assert!(lines[0].ends_with("default\tworld.contradiction_rate=0.0, reward.refusal_penalty=0.0\tseed 0\tto do"));
    assert!(lines[7].contains("world.contradiction_rate=0.5, reward.refusal_penalty=2.0\tseed 1"));
    assert!(!dir.path().join("o").exists(), "a dry run writes nothing");

    let o = pressure(
        &[
            "run",
            exp.to_str().unwrap(),
            "--out",
            "o",
            "--no-plots",
            "--shard",
            "0/2",
        ],
        dir.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let o = pressure(&["run", exp.to_str().unwrap(), "--dry-run", "--out", "o"], dir.path());
    let done = stdout(&o).lines().filter(|l| l.ends_with("\tdone")).count();
    assert_eq!(done, 4, "the first shard's runs are done: {}", stdout(&o));
}

#[test]
fn an_interrupted_run_resumes_to_the_same_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let exp = write(dir.path(), "grid.toml", SWEEP);
    let exp = exp.to_str().unwrap();
    let args = |out: &'static str| {
        vec![
            "run",
            exp,
            "--out",
            out,
            "--no-plots",
            "--jobs",
            "1",
            "--population",
            "1",
        ]
    };

    let o = pressure(&args("whole"), dir.path());
    assert!(o.status.success(), "{}", stderr(&o));

    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_pressure"))
        .args(args("cut"))
        .current_dir(dir.path())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let cut = dir.path().join("cut");
    let start = Instant::now();
    while completed_runs(&cut) < 2 && start.elapsed() < Duration::from_secs(120) {
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let at_kill = completed_runs(&cut);
    assert!(
        (2..8).contains(&at_kill),
        "killed mid-way: {at_kill} of 8 runs had finished"
    );

    let o = pressure(&args("cut"), dir.path());
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains(&format!("({at_kill} reused")), "{}", stderr(&o));
    let whole = std::fs::read(dir.path().join("whole/metrics.csv")).unwrap();
    let resumed = std::fs::read(dir.path().join("cut/metrics.csv")).unwrap();
    assert!(whole == resumed, "the resumed metrics.csv equals the uninterrupted one");
}

#[test]
fn merged_shards_equal_the_unsharded_run() {
    let dir = tempfile::tempdir().unwrap();
    let exp = write(dir.path(), "grid.toml", SWEEP);
    let exp = exp.to_str().unwrap();
    for (shard, out) in [("0/3", "s0"), ("1/3", "s1"), ("2/3", "s2")] {
        let o = pressure(&["run", exp, "--shard", shard, "--out", out, "--no-plots"], dir.path());
        assert!(o.status.success(), "{shard}: {}", stderr(&o));
    }
    let o = pressure(&["run", exp, "--out", "whole", "--no-plots"], dir.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let o = pressure(
        &["merge", "--out", "merged", "s2", "s0", "s1", "--no-plots"],
        dir.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let whole = std::fs::read(dir.path().join("whole/metrics.csv")).unwrap();
    let merged = std::fs::read(dir.path().join("merged/metrics.csv")).unwrap();
    assert!(whole == merged, "merged shards equal the unsharded run, byte for byte");

    // A missing shard leaves runs missing: the merge says so and exits non-zero.
    let o = pressure(&["merge", "--out", "partial", "s0", "s1", "--no-plots"], dir.path());
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("in no shard folder"), "{}", stderr(&o));

    // Folders of different settings are refused.
    let o = pressure(
        &[
            "run",
            exp,
            "--shard",
            "2/3",
            "--out",
            "other",
            "--no-plots",
            "--seeds",
            "3",
        ],
        dir.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let o = pressure(&["merge", "--out", "bad", "s0", "other", "--no-plots"], dir.path());
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("differs"), "{}", stderr(&o));
}

#[test]
fn changed_settings_neither_reuse_nor_discard_old_runs() {
    let dir = tempfile::tempdir().unwrap();
    let exp = write(dir.path(), "grid.toml", SWEEP);
    let exp = exp.to_str().unwrap();
    let o = pressure(&["run", exp, "--out", "o", "--no-plots"], dir.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let o = pressure(
        &["run", exp, "--out", "o", "--no-plots", "--set", "pressure.kl=0.1"],
        dir.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let said = stderr(&o);
    assert!(said.contains("settings differ"), "{said}");
    assert!(said.contains("8 run folders are not in this run list"), "{said}");
    assert!(said.contains("(0 reused"), "{said}");
    assert_eq!(completed_runs(&dir.path().join("o")), 16, "the old runs stay");
    let csv = std::fs::read_to_string(dir.path().join("o/metrics.csv")).unwrap();
    assert_eq!(
        csv.lines().filter(|l| l.contains(",40,trained,refusal,")).count(),
        8,
        "only the new runs"
    );

    // Back to the first settings: their runs are found and reused.
    let o = pressure(&["run", exp, "--out", "o", "--no-plots"], dir.path());
    assert!(stderr(&o).contains("(8 reused"), "{}", stderr(&o));
}

#[test]
fn bad_sweep_input_gets_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "empty.toml", "[sweep]\nworld.margin = []\n");
    write(d, "unknown.toml", "[sweep]\nworld.margn = [0.1]\n");
    write(d, "scalar.toml", "[sweep]\nworld.margin = 0.1\n");
    write(d, "type.toml", "[sweep]\npressure.steps = [10, \"many\"]\n");
    write(d, "ok.toml", "[pressure]\nsteps = 3\n");
    write(d, "twice.toml", "[sweep]\nworld.margin = [0.5, 0.5]\n");
    write(
        d,
        "armed.toml",
        "[sweep]\nworld.margin = [0.5, 1]\n[[arms]]\nname = \"a\"\nworld.margin = 2.0\n",
    );
    let cases: &[(&[&str], &[&str])] = &[
        (&["run", "twice.toml"], &["twice.toml", "same configuration"]),
        (
            &["run", "ok.toml", "--sweep", "world.margin=1,1.0"],
            &["same configuration"],
        ),
        (&["run", "armed.toml"], &["armed.toml", "world.margin", "arm \"a\""]),
        (&["run", "empty.toml"], &["empty.toml", "world.margin", "empty"]),
        (
            &["run", "unknown.toml"],
            &["unknown.toml", "world.margn", "valid keys under `world`"],
        ),
        (
            &["run", "scalar.toml"],
            &["scalar.toml", "world.margin", "list of values"],
        ),
        (&["run", "type.toml"], &["type.toml", "pressure.steps", "many"]),
        (
            &["run", "ok.toml", "--sweep", "world.margin="],
            &["--sweep world.margin=", "empty"],
        ),
        (
            &["run", "ok.toml", "--sweep", "world.margn=1,2"],
            &["--sweep world.margn", "unknown key"],
        ),
        (
            &["run", "ok.toml", "--sweep", "world.margin=0.1,-2"],
            &["--sweep world.margin: ", "world.margin=-2", "> 0"],
        ),
        (
            &["run", "ok.toml", "--sweep", "world.margin=a,b"],
            &["--sweep world.margin: ", "must be a number, not \"a\""],
        ),
        (&["run", "ok.toml", "--shard", "3/3"], &["--shard 3/3", "K/N"]),
        (&["run", "ok.toml", "--shard", "one/two"], &["--shard one/two", "K/N"]),
        (
            &[
                "run",
                "ok.toml",
                "--sweep",
                "world.margin=0.1",
                "--set",
                "world.margin=0.2",
            ],
            &["world.margin", "swept"],
        ),
    ];
    assert_one_line_errors(d, cases);
}
