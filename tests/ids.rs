//! Run identity: a small sweep's run list — order, sweep values and ids — against the snapshot
//! in `tests/snapshots/run_ids.txt`. The ids are content hashes of the arm, the resolved
//! configuration, the seed, the backend and the crate version: they change exactly when one of
//! those does, and then old run folders are not reused. To accept such a change on purpose, run
//! `UPDATE_SNAPSHOTS=1 cargo test --release --test ids` and commit the new snapshot.

use std::path::Path;

use pressure::experiment::{Experiment, expand};

const SWEEP: &str = r#"
seeds = 2
backend = "ndarray"
[sweep]
"world.contradiction_rate" = [0.25, 0.5]
reward.refusal_penalty = [1.0, 2.0]
[[arms]]
name = "a"
"#;

#[test]
fn a_sweep_expands_in_a_stable_order_with_stable_ids() {
    let e = Experiment::parse(SWEEP, Path::new("t.toml"), &[]).unwrap();
    let runs = expand(&e);
    let listing: String = runs
        .iter()
        .map(|r| format!("{} {} {} {}\n", r.id, r.arm, r.sweep_label(), r.seed))
        .collect();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/snapshots/run_ids.txt");
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(path, &listing).unwrap();
    }
    let snapshot = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        listing == snapshot,
        "run ids changed:\n{listing}\nsnapshot:\n{snapshot}\nIf a setting's name, default or the crate version changed on purpose, \
         update it with `UPDATE_SNAPSHOTS=1 cargo test --release --test ids`"
    );
    assert_eq!(runs[2].config.world.contradiction_rate, 0.25);
    assert_eq!(runs[4].config.world.contradiction_rate, 0.5);
}
