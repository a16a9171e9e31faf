//! Bounded resources: threads capped at what can be used, work and memory estimated and refused
//! before training when over budget, experiment files read up to a limit.

mod common;

use common::*;
use pressure::experiment::budget::{check, estimate};
use pressure::experiment::expand;
use pressure::experiment::shipped::SHIPPED;

#[test]
fn every_shipped_experiment_is_within_the_budget() {
    for (name, _) in SHIPPED {
        let e = pressure::commands::load(name, &[], &[]).unwrap();
        let runs = expand(&e);
        let estimate = estimate(&runs.iter().collect::<Vec<_>>(), 1);
        // On one thread and a machine of 4 GiB, still far inside the budget.
        assert!(check(&estimate, 4.0).is_ok(), "{name}: {estimate:?}");
        assert!(
            estimate.hours < 1.0 && estimate.memory_gib < 1.0,
            "{name}: {estimate:?}"
        );
    }
}

#[test]
fn what_cannot_fit_is_refused_before_training_with_the_estimate() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "tiny.toml", TINY);
    assert_one_line_errors(
        dir.path(),
        &[
            (
                &["run", "tiny.toml", "--out", "o", "--set", "pressure.steps=10000000000"],
                &[
                    "tiny: the runs to train need about",
                    "seed-steps",
                    "hours",
                    "--allow-large",
                ],
            ),
            (
                &[
                    "run",
                    "tiny.toml",
                    "--out",
                    "o",
                    "--set",
                    "policy.hidden=[4096,4096,4096]",
                    "--set",
                    "pressure.batch=65536",
                ],
                &["GiB of memory, more than half of this machine's", "--allow-large"],
            ),
            (
                &["run", "/dev/zero"],
                &["/dev/zero: cannot read the experiment", "larger than the limit"],
            ),
        ],
    );
    assert!(!dir.path().join("o").exists(), "nothing was written");
}

#[test]
fn threads_are_capped_at_the_cores_and_said_so() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "tiny.toml", TINY);
    let o = pressure(
        &[
            "run",
            "tiny.toml",
            "--out",
            "o",
            "--no-plots",
            "--seeds",
            "1",
            "--jobs",
            "100000",
        ],
        dir.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("--jobs 100000: capped at "), "{}", stderr(&o));
}

#[test]
fn one_budget_covers_every_phase_the_reward_model_refinement_and_robustness() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "tiny.toml", TINY);
    write(dir.path(), "learned.toml", LEARNED);
    write(dir.path(), "claimed.toml", &tiny_claimed());
    write(
        dir.path(),
        "ppo.toml",
        &TINY.replace(
            "[pressure]\nsteps = 40",
            "[pressure]\nsteps = 40\nalgorithm = \"ppo\"\nppo = { epochs = 100000000 }",
        ),
    );
    write(
        dir.path(),
        "followup_ppo.toml",
        &TINY.replace(
            "[eval]",
            "[followup]\nsteps = 40\nalgorithm = \"ppo\"\nppo = { epochs = 100000000 }\n\n[eval]",
        ),
    );
    write(
        dir.path(),
        "edge.toml",
        &format!("{TINY}\n[sweep]\nworld.contradiction_rate = [0.25, 0.75]\n"),
    );
    let budget = ["the runs to train need about", "hours", "--allow-large"];
    assert_one_line_errors(
        dir.path(),
        &[
            (&["run", "ppo.toml", "--out", "o"], &budget),
            (&["run", "followup_ppo.toml", "--out", "o"], &budget),
            (
                &[
                    "run",
                    "tiny.toml",
                    "--out",
                    "o",
                    "--set",
                    "pressure.algorithm=\"ppo\"",
                    "--set",
                    "pressure.ppo.epochs=100000000",
                ],
                &budget,
            ),
            (
                &["run", "learned.toml", "--out", "o", "--set", "rm.steps=1000000000"],
                &budget,
            ),
            // Written as a float, a count is refused for its type.
            (
                &["run", "learned.toml", "--out", "o", "--set", "rm.steps=1e9"],
                &["--set rm.steps=1000000000.0", "must be a whole number, 0 or more"],
            ),
            (
                &[
                    "run",
                    "learned.toml",
                    "--out",
                    "o",
                    "--set",
                    "rm.sampling=\"online\"",
                    "--set",
                    "rm.refresh_every=1",
                    "--set",
                    "rm.pairs=1000000",
                    "--set",
                    "pressure.steps=100000",
                ],
                &budget,
            ),
            (
                &[
                    "run",
                    "learned.toml",
                    "--out",
                    "o",
                    "--set",
                    "rm.ensemble=32",
                    "--set",
                    "rm.hidden=[1024, 1024, 1024]",
                    "--set",
                    "rm.steps=100000",
                ],
                &budget,
            ),
            (
                &[
                    "run",
                    "edge.toml",
                    "--out",
                    "o",
                    "--refine",
                    "threshold=largest_change,budget=1e9,rounds=1e9",
                ],
                &["--refine", "must be a whole number, 0 or more"],
            ),
            (
                &[
                    "run",
                    "edge.toml",
                    "--out",
                    "o",
                    "--refine",
                    "threshold=largest_change,budget=1000000000,rounds=1000000000",
                ],
                &["--refine", "key `budget` = 1000000000: must be an integer in 1..=1000"],
            ),
            (
                &[
                    "run",
                    "edge.toml",
                    "--out",
                    "o",
                    "--refine",
                    "threshold=largest_change,budget=1000,rounds=10",
                    "--set",
                    "pressure.steps=100000",
                ],
                &budget,
            ),
            (
                &["robustness", "claimed.toml", "--perturb", "/dev/zero"],
                &["/dev/zero: cannot read", "larger than the limit"],
            ),
        ],
    );
    assert!(!dir.path().join("o").exists(), "nothing was written");
}
