//! The README's promises kept: what cannot be drawn exits 1, and flags that would select nothing
//! or be ignored stop with one line before anything runs.

mod common;

use common::*;

const THREE_AXES: &str = r#"
name = "cube"
seeds = 1

[constitution]
steps = 40

[pressure]
steps = 20

[eval]
every = 20
tasks = 8

[sweep]
world.contradiction_rate = [0.25, 0.5]
reward.refusal_penalty = [0.0, 2.0]
reward.objection_penalty = [0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0]
"#;

#[test]
fn data_no_figure_can_show_exits_1_and_keeps_the_data() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "cube.toml", THREE_AXES);
    let o = pressure(&["run", "cube.toml", "--out", "o", "--plots", "p"], dir.path());
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("32 of 32 runs completed"), "{err}");
    assert!(
        err.contains("no figure can be drawn: 32 arms × sweep points are too many lines"),
        "{err}"
    );
    assert!(
        err.contains("32 arms × sweep points are too many rows (at most 30) for the final values of every seed"),
        "{err}"
    );
    assert!(err.contains("a sweep over 3 settings has no sweep figure"), "{err}");
    assert!(!err.contains("figures: \n"), "{err}");
    assert!(dir.path().join("o/metrics.csv").is_file());
    let o = pressure(&["plot", "o", "--plots", "p"], dir.path());
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("no figure can be drawn"), "{}", stderr(&o));
}

#[test]
fn flags_that_would_select_nothing_or_be_ignored_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "tiny.toml", TINY);
    let figure = r#"
[[figures]]
name = "same"
title = "a"
panels = [{ title = "p", metrics = ["trained:refusal"] }]

[[figures]]
name = "same"
title = "b"
panels = [{ title = "q", metrics = ["trained:refusal"] }]
"#;
    write(dir.path(), "twice.toml", &format!("{TINY}{figure}"));
    assert_one_line_errors(
        dir.path(),
        &[
            (
                &["run", "tiny.toml", "--shard", "0/100"],
                &["--shard 0/100: selects no run of the 6", "at most 6 shards"],
            ),
            (
                &["run", "tiny.toml", "--no-plots", "--plots", "p"],
                &["--plots p", "--no-plots draws none"],
            ),
            (
                &["run", "tiny.toml", "--no-plots", "--metric", "refusal"],
                &["--metric refusal", "--no-plots"],
            ),
            (
                &["merge", "--out", "m", "a", "--no-plots", "--plots", "p"],
                &["--plots p", "--no-plots draws none"],
            ),
            (
                &["run", "tiny.toml", "--no-plots", "--figure-size", "page"],
                &["--figure-size page", "--no-plots draws none"],
            ),
            (
                &[
                    "run",
                    "tiny.toml",
                    "--set",
                    "pressure.steps=oops",
                    "--set",
                    "pressure.steps=10",
                ],
                &["--set pressure.steps: given twice", "give each key once"],
            ),
            (
                &["run", "twice.toml"],
                &["twice.toml: figures[1]", "\"same\" is used by figures[0]"],
            ),
            (
                &["bench", "--json", "no/such/folder/b.json", "--experiments", "none"],
                &["--json no/such/folder/b.json: cannot write in no/such/folder"],
            ),
        ],
    );
}

#[test]
fn settings_that_would_change_nothing_are_refused_before_training() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "tiny.toml", TINY);
    write(dir.path(), "learned.toml", LEARNED);
    write(
        dir.path(),
        "edge.toml",
        &format!("{TINY}\n[sweep]\nworld.contradiction_rate = [0.25, 0.75]\n"),
    );
    let steps0 = "with pressure.steps = 0 (no pressure step is trained)";
    let cases: &[(&[&str], &[&str])] = &[
        (
            &[
                "run",
                "tiny.toml",
                "--set",
                "pressure.steps=0",
                "--set",
                "pressure.algorithm=\"ppo\"",
            ],
            &["--set pressure.algorithm=\"ppo\"", steps0],
        ),
        (
            &[
                "run",
                "tiny.toml",
                "--set",
                "pressure.steps=0",
                "--set",
                "pressure.kl=0.3",
            ],
            &["--set pressure.kl=0.3", steps0],
        ),
        (
            &[
                "run",
                "tiny.toml",
                "--set",
                "pressure.steps=0",
                "--set",
                "pressure.lr=0.01",
            ],
            &["--set pressure.lr=0.01", steps0],
        ),
        (
            &[
                "run",
                "tiny.toml",
                "--set",
                "pressure.steps=0",
                "--set",
                "pressure.monitor=1.0",
            ],
            &["--set pressure.monitor=1.0", steps0],
        ),
        (
            &["run", "learned.toml", "--set", "rm.pessimism=1.0"],
            &["--set rm.pessimism=1.0", "with rm.ensemble = 1"],
        ),
        (
            &[
                "run",
                "tiny.toml",
                "--set",
                "world.monitored_rate=1.0",
                "--set",
                "world.cue_visible=false",
            ],
            &["world.monitored_rate", "with world.cue_visible = false"],
        ),
        (
            // Two evaluations after step 0 (at 20 and 40): a window of 3 would reach back.
            &["run", "tiny.toml", "--set", "eval.final_window=5"],
            &["--set eval.final_window=5", "at most the 2 evaluations after step 0"],
        ),
        (
            &["run", "learned.toml", "--set", "eval.best_of_n=[1, 1, 2]"],
            &["eval.best_of_n", "n = 1 is listed twice"],
        ),
        (
            &["run", "edge.toml", "--refine", "metric=rm:rm_accuracy"],
            &[
                "key `metric` = \"rm:rm_accuracy\"",
                "no arm fits a learned reward model",
            ],
        ),
        (
            &[
                "run",
                "edge.toml",
                "--refine",
                "metric=heldout:refusal",
                "--set",
                "world.train_domains=[\"harm\", \"honesty\", \"care\", \"safety\"]",
            ],
            &[
                "key `metric` = \"heldout:refusal\"",
                "the scope `heldout` is empty in every arm",
            ],
        ),
        (
            &["run", "tiny.toml", "--set", "pressure.steps=5\n[world]\nlatent_dim=3"],
            &["--set pressure.steps", "line break"],
        ),
    ];
    assert_one_line_errors(dir.path(), cases);
    assert!(!dir.path().join("runs").exists(), "nothing trained");
}

#[test]
fn a_figure_that_settings_leave_without_data_is_left_out_not_a_reason_to_refuse() {
    let dir = tempfile::tempdir().unwrap();
    // As the demo's "copy the command" gives them: each figure of the file needs a scope these
    // values empty (framed without a frame; heldout with every domain trained).
    for (experiment, set) in [
        ("inoculation", "world.frame=\"none\""),
        (
            "narrow_to_broad",
            "world.train_domains=[\"harm\", \"honesty\", \"care\", \"safety\"]",
        ),
    ] {
        let o = pressure(&["run", experiment, "--set", set, "--dry-run"], dir.path());
        let err = stderr(&o);
        assert!(o.status.success(), "{experiment} --set {set}: {err}");
        assert!(
            err.contains("left out") && err.contains("is empty in every arm"),
            "{err}"
        );
    }
    // A file's own figure that its own settings leave without data is still an error in it.
    write(
        dir.path(),
        "own.toml",
        &format!(
            "{TINY}\n[[figures]]\nname = \"own\"\ntitle = \"t\"\npanels = [{{ title = \"p\", metrics = [\"framed:refusal\"] }}]\n"
        ),
    );
    assert_one_line_errors(
        dir.path(),
        &[(
            &["run", "own.toml", "--dry-run"],
            &["figures[0] (\"own\")", "the scope `framed` is empty"],
        )],
    );
}
