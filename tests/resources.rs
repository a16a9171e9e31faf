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
