//! Messages that point at the cause, and no input or file state that reaches a panic.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::*;

#[test]
fn each_message_blames_the_cause() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "tiny.toml", TINY);
    let o = pressure(
        &["run", "tiny.toml", "--out", "o", "--no-plots", "--seeds", "1"],
        dir.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_one_line_errors(
        dir.path(),
        &[
            (
                &["summary", "o", "--scope", "bogus"],
                &["--scope bogus: not a scope; valid: trained"],
            ),
            (
                &["watch", "o", "--metric", "rm_accuracy"],
                &["--metric `rm_accuracy`", "`rm:rm_accuracy`"],
            ),
            (
                &["watch", "o", "--interval", "0"],
                &["--interval 0: not a number of seconds"],
            ),
            (
                &["watch", "tiny.toml"],
                &["tiny.toml: not a run folder (no config.toml)"],
            ),
            (
                &["run", "pressure", "--set", "pressure.judge_fraction=0", "--dry-run"],
                &[
                    "error: --set pressure.judge_fraction=0: `pressure.honesty`",
                    "judge queries",
                ],
            ),
            (
                &["run", "tiny.toml", "--set", "pressure.lr=1e400", "--dry-run"],
                &["--set pressure.lr=1e400: not a number TOML can hold"],
            ),
        ],
    );

    // A diverged constitution is named as such, with its own step, and no RL step.
    let o = pressure(
        &[
            "run",
            "tiny.toml",
            "--out",
            "c",
            "--no-plots",
            "--seeds",
            "1",
            "--set",
            "constitution.lr=1e6",
        ],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("): the constitution diverged: its loss"), "{err}");
    for line in err.lines().filter(|l| l.contains("Diverged")) {
        let after_id = line.split_once("(run ").unwrap().1.split_once(')').unwrap().1;
        assert!(
            after_id.starts_with(": the constitution"),
            "no RL step is named: {line}"
        );
    }
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("c/manifest.json")).unwrap()).unwrap();
    assert!(manifest["runs"][0]["step"].is_null(), "{manifest}");
    assert_eq!(manifest["runs"][0]["status"], "diverged");

    // A loss that explodes while staying finite is a divergence, not a completed run.
    let o = pressure(
        &[
            "run",
            "tiny.toml",
            "--out",
            "l",
            "--no-plots",
            "--seeds",
            "1",
            "--set",
            "pressure.lr=1e6",
        ],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("Diverged: arm \"tolerated\""), "{}", stderr(&o));
    assert!(stderr(&o).contains("loss exploded to"), "{}", stderr(&o));
}

fn statuses(out: &Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(out.join("runs")).map_or(Vec::new(), |d| {
        d.filter_map(Result::ok)
            .map(|e| e.path().join("status.json"))
            .filter(|p| p.exists())
            .collect()
    })
}

#[test]
fn a_reused_run_whose_status_vanishes_mid_run_is_reported_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "tiny.toml", &TINY.replace("steps = 40", "steps = 300"));
    let args = |seeds: &'static str| {
        [
            "run",
            "tiny.toml",
            "--out",
            "o",
            "--no-plots",
            "--jobs",
            "1",
            "--population",
            "1",
            "--seeds",
            seeds,
        ]
    };
    let o = pressure(&args("1"), dir.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let reused = statuses(&dir.path().join("o"));
    assert_eq!(reused.len(), 2);
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_pressure"))
        .args(args("4"))
        .current_dir(dir.path())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Once a new run is written, the run list (with its reused runs) is settled: remove them.
    let start = Instant::now();
    while statuses(&dir.path().join("o")).len() < 3 && start.elapsed() < Duration::from_secs(120) {
        std::thread::sleep(Duration::from_millis(2));
    }
    for s in &reused {
        std::fs::remove_file(s).unwrap();
    }
    let o = child.wait_with_output().unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        err.contains("its stored status or data vanished or changed during this run"),
        "{err}"
    );
}

#[test]
fn figure_names_sweep_flags_scopes_and_closed_pipes_are_answered_plainly() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "tiny.toml", TINY);
    write(
        dir.path(),
        "finals.toml",
        &format!(
            "{TINY}\n[[figures]]\nname = \"finals\"\ntitle = \"mine\"\npanels = [{{ title = \"p\", metrics = [\"trained:refusal\"] }}]\n"
        ),
    );
    // A logarithmic axis over a value of 0, and a figure kind nobody registered.
    write(
        dir.path(),
        "log.toml",
        &format!(
            "{TINY}\n[[figures]]\nname = \"by_penalty\"\ntitle = \"t\"\nkind = \"final\"\nx = \"reward.objection_penalty\"\nmetrics = [\"trained:refusal\"]\nx_scale = \"log\"\n"
        ),
    );
    write(
        dir.path(),
        "kind.toml",
        &format!("{TINY}\n[[figures]]\nname = \"f\"\ntitle = \"t\"\nkind = \"scatter\"\n"),
    );
    let o = pressure(
        &["run", "tiny.toml", "--out", "o", "--no-plots", "--seeds", "1"],
        dir.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_one_line_errors(
        dir.path(),
        &[
            (
                &["run", "finals.toml", "--dry-run"],
                &["figures[0] (\"finals\")", "not a built-in figure's name", "finals"],
            ),
            (
                &["run", "log.toml", "--dry-run"],
                &[
                    "`x_scale` = \"log\"",
                    "is 0 in arm \"tolerated\"",
                    "x_scale = \"linear\"",
                ],
            ),
            (
                &["run", "kind.toml", "--dry-run"],
                &["`kind` = \"scatter\": not a figure kind; valid: steps, final, overoptimization"],
            ),
            (
                // TINY has no [sweep]: the flag that added the axis is blamed.
                &[
                    "run",
                    "tiny.toml",
                    "--sweep",
                    "reward.objection_penalty=0,1",
                    "--dry-run",
                ],
                &["--sweep reward.objection_penalty: is also set by arm \"tolerated\""],
            ),
            (
                &["summary", "o", "--scope", "rm"],
                &["--scope rm: o has no values in scope `rm`; its scopes: trained"],
            ),
        ],
    );
    let o = pressure(&["summary", "o", "--scope", "rm"], dir.path());
    let scopes = stderr(&o)
        .split("its scopes: ")
        .nth(1)
        .unwrap_or_default()
        .trim()
        .to_string();
    assert!(
        !scopes.split(", ").any(|s| s == "rm"),
        "a scope it has no values in is not listed: {scopes}"
    );

    // A reader that stops reading (`robustness --dry-run 2>&1 | head -1`) is no error, whatever
    // goes to the closed pipe, standard error included.
    write(dir.path(), "claimed.toml", &tiny_claimed());
    // A dry run prints the run lists and writes nothing.
    let o = pressure(&["robustness", "claimed.toml", "--dry-run"], dir.path());
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("to do"), "{}", stdout(&o));
    assert!(!dir.path().join("runs").exists(), "a dry run wrote its folder");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_pressure"))
        .args(["robustness", "claimed.toml", "--dry-run"])
        .current_dir(dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    drop(child.stderr.take());
    let status = child.wait().unwrap();
    assert!(status.success(), "a closed pipe is no error and no panic: {status:?}");
}
