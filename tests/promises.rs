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
