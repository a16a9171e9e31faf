//! Refinement of a sweep end to end on temporary folders: the rounds add points and run them,
//! an interrupted refinement resumes to byte-identical files, shards and merge give the
//! unsharded result, and bad settings stop before anything trains.

mod common;

use std::path::Path;

use common::*;

const GRID: &str = r#"
name = "edge"
seeds = 2

[constitution]
steps = 150

[pressure]
steps = 40

[eval]
every = 20
tasks = 16

[reward]
objection_penalty = 1.0
judge_penalty = 1.0

[sweep]
world.contradiction_rate = [0.0, 0.5]
reward.refusal_penalty = [0.0, 2.0]

[sweep.refine]
threshold = "largest_change"
budget = 4
rounds = 2
"#;

/// The files of a folder that must not depend on how it was made.
fn results(dir: &Path) -> Vec<(String, Vec<u8>)> {
    ["config.toml", "metrics.csv", "refine.json"]
        .iter()
        .map(|f| {
            (
                f.to_string(),
                std::fs::read(dir.join(f)).unwrap_or_else(|e| panic!("{f}: {e}")),
            )
        })
        .collect()
}

fn run(dir: &Path, args: &[&str]) -> String {
    let o = pressure(args, dir);
    assert!(o.status.success(), "{args:?}: {}", stderr(&o));
    stderr(&o)
}

#[test]
fn rounds_add_points_and_resume_to_the_same_files() {
    let dir = tempfile::tempdir().unwrap();
    let exp = write(dir.path(), "edge.toml", GRID);
    let exp = exp.to_str().unwrap();
    let err = run(dir.path(), &["run", exp, "--out", "a", "--plots", "pa"]);
    assert!(err.contains("refine round 1: 2 points"), "{err}");
    assert!(err.contains("refine round 2: 2 points"), "{err}");
    let log: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("a/refine.json")).unwrap()).unwrap();
    assert_eq!(log["rounds_run"].as_array().unwrap().len(), 2);
    let config = std::fs::read_to_string(dir.path().join("a/config.toml")).unwrap();
    assert!(
        config.contains("[sweep.refine]") && config.contains("points = ["),
        "{config}"
    );
    // 4 grid points and 4 refined ones, 2 seeds each.
    assert_eq!(std::fs::read_dir(dir.path().join("a/runs")).unwrap().count(), 16);
    assert!(dir.path().join("pa/heatmap_hidden_objection.png").exists());

    // An interruption in the second round: one of its runs and one of the first round's lost.
    copy(&dir.path().join("a"), &dir.path().join("b"));
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("a/manifest.json")).unwrap()).unwrap();
    let runs = manifest["runs"].as_array().unwrap();
    for k in [9, 15] {
        let id = runs[k]["id"].as_str().unwrap();
        std::fs::remove_dir_all(dir.path().join("b/runs").join(id)).unwrap();
    }
    for f in ["metrics.csv", "manifest.json", "refine.json"] {
        std::fs::remove_file(dir.path().join("b").join(f)).unwrap();
    }
    let err = run(dir.path(), &["run", exp, "--out", "b", "--no-plots"]);
    assert!(!err.contains("settings differ"), "{err}");
    assert_eq!(results(&dir.path().join("a")), results(&dir.path().join("b")));

    // A complete folder trains nothing, and a dry run says every round is done.
    let o = pressure(&["run", exp, "--out", "a", "--dry-run"], dir.path());
    assert!(o.status.success());
    assert!(!stdout(&o).contains("to do"), "{}", stdout(&o));
    assert!(stderr(&o).contains("all 2 rounds ran"), "{}", stderr(&o));
}

#[test]
fn shards_and_merge_then_the_rounds_give_the_unsharded_result() {
    let dir = tempfile::tempdir().unwrap();
    let exp = write(dir.path(), "edge.toml", GRID);
    let exp = exp.to_str().unwrap();
    run(dir.path(), &["run", exp, "--out", "whole", "--no-plots"]);
    for k in ["0/2", "1/2"] {
        let err = run(
            dir.path(),
            &[
                "run",
                exp,
                "--out",
                &format!("s{}", &k[..1]),
                "--shard",
                k,
                "--no-plots",
            ],
        );
        assert!(err.contains("refinement rounds run after `pressure merge"), "{err}");
    }
    run(dir.path(), &["merge", "--out", "m", "s0", "s1", "--no-plots"]);
    // The next round, shown before it runs.
    let o = pressure(&["run", exp, "--out", "m", "--dry-run"], dir.path());
    assert!(
        stderr(&o).contains("refine round 1: 2 points (at most 2), to do"),
        "{}",
        stderr(&o)
    );
    assert!(!dir.path().join("m/refine.json").exists(), "a dry run writes nothing");
    run(dir.path(), &["run", exp, "--out", "m", "--no-plots"]);
    assert_eq!(results(&dir.path().join("whole")), results(&dir.path().join("m")));
}

#[test]
fn bad_refinement_settings_are_one_line_errors_before_training() {
    let dir = tempfile::tempdir().unwrap();
    let with = |name: &str, refine: &str| {
        let text = GRID.replace("threshold = \"largest_change\"\nbudget = 4\nrounds = 2\n", refine);
        write(dir.path(), name, &text).to_str().unwrap().to_string()
    };
    let metric = with("metric.toml", "metric = \"hidden_objections\"\n");
    let threshold = with("threshold.toml", "threshold = 1.5\n");
    let budget = with("budget.toml", "budget = 0\n");
    let rounds = with("rounds.toml", "rounds = 0\n");
    let three = write(
        dir.path(),
        "three.toml",
        &GRID.replace("[sweep.refine]", "pressure.kl = [0.1, 0.2]\n[sweep.refine]"),
    );
    let none = write(dir.path(), "none.toml", "[pressure]\nsteps = 10\n");
    let grid = write(dir.path(), "grid.toml", GRID);
    assert_one_line_errors(
        dir.path(),
        &[
            (&["run", &metric], &["metric.toml", "key `metric`", "hidden_objection"]),
            (
                &["run", &threshold],
                &["threshold.toml", "key `threshold` = 1.5", "(0, 1)", "largest_change"],
            ),
            (
                &["run", &budget],
                &["budget.toml", "key `budget` = 0", "must be an integer in 1..=1000"],
            ),
            (
                &["run", &rounds],
                &["rounds.toml", "key `rounds` = 0", "must be an integer in 1..=100"],
            ),
            (
                &["run", three.to_str().unwrap()],
                &["three.toml", "one or two settings", "sweeps 3"],
            ),
            (
                &["run", none.to_str().unwrap(), "--refine"],
                &["--refine", "one or two settings", "sweeps 0"],
            ),
            (
                &["run", grid.to_str().unwrap(), "--refine", "budget=0"],
                &["--refine budget=0", "key `budget` = 0"],
            ),
            (
                &["run", grid.to_str().unwrap(), "--refine", "metric=trained:nope"],
                &["--refine metric=trained:nope", "unknown metric `nope`"],
            ),
        ],
    );
    assert!(!dir.path().join("runs").exists(), "nothing trained");
}

fn copy(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy(&entry.path(), &target);
        } else if !entry.file_name().to_string_lossy().starts_with('.') {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}
