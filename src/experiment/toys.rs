//! The walk-through in docs/extending.md, done: a toy reward kind (`reward/toy.rs`), a toy
//! algorithm (`train/toy.rs`) and a toy figure kind (`plot/toy.rs`), each one file and one line
//! in its registry under `cfg(test)`, are named in an experiment file, checked, trained and
//! drawn, with nothing else in the code knowing of them.

use std::path::Path;

use super::folder::load_drawable;
use super::runner::{RunOptions, run_experiment};
use super::spec::Experiment;
use crate::metric::{REFUSAL, Scope};
use crate::plot::kinds;
use crate::plot::{FigureSize, Sheet};
use crate::reward::RewardConfig;
use crate::train::Algorithm;

const TOYS: &str = r#"
name = "toys"
description = "A toy reward, a toy algorithm and a toy figure, from the registries alone."
seeds = 2

[constitution]
steps = 80

[pressure]
algorithm = "toy"
steps = 60
lr = 0.01

[reward]
kind = "toy"
bonus = 1.0

[eval]
every = 30
tasks = 64

[[arms]]
name = "paid to refuse"

[[figures]]
name = "refusals"
title = "Refusal under a toy reward"
kind = "toy"
metrics = ["trained:refusal"]
"#;

fn parse(text: &str) -> Result<Experiment, String> {
    Experiment::parse(text, Path::new("toys.toml"), &[]).map_err(|e| e.to_string())
}

#[test]
fn the_registries_list_the_toys_and_name_them_in_errors() {
    assert!(RewardConfig::KINDS.contains(&"toy"));
    assert!(Algorithm::NAMES.contains(&"toy"));
    assert!(kinds::NAMES.contains(&"toy"));
    // An unknown name is refused with the known ones, the toy among them.
    let e = parse(&TOYS.replace("kind = \"toy\"\nbonus", "kind = \"toys\"\nbonus")).unwrap_err();
    assert!(
        e.contains("toys") && e.contains("institutional") && e.contains("toy"),
        "{e}"
    );
    let e = parse(&TOYS.replace("algorithm = \"toy\"", "algorithm = \"toys\"")).unwrap_err();
    assert!(e.contains("reinforce") && e.contains("`toy`"), "{e}");
    let e = parse(&TOYS.replace("kind = \"toy\"\nmetrics", "kind = \"toys\"\nmetrics")).unwrap_err();
    assert!(
        e.contains("not a figure kind") && e.contains("final") && e.contains("toy"),
        "{e}"
    );
    // Each toy's own checks run where the registry says.
    let e = parse(&TOYS.replace("bonus = 1.0", "bonus = -1.0")).unwrap_err();
    assert!(e.contains("reward.bonus"), "{e}");
    let e = parse(&TOYS.replace("metrics = [\"trained:refusal\"]", "metrics = []")).unwrap_err();
    assert!(e.contains("a `toy` figure needs exactly one"), "{e}");
}

#[test]
fn a_toy_reward_algorithm_and_figure_train_and_draw() {
    let experiment = parse(TOYS).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let options = RunOptions {
        jobs: 1,
        population: None,
        out: dir.path().to_path_buf(),
        progress: false,
        shard: None,
        watch: None,
        constitutions: None,
        command: None,
    };
    run_experiment(&experiment, &options).unwrap();
    let (data, declared) = load_drawable(dir.path()).unwrap();
    // A reward that pays only refusals, followed by the toy update, raises refusal on the
    // trained scope's tasks above the constitution's (0.71 and 0.74 here, refusing what
    // violates a principle) by at least 0.15 in 60 steps, in each seed (both reach 0.99).
    let series = data
        .series("paid to refuse", Scope::Trained.name(), REFUSAL)
        .expect("refusal recorded");
    for (seed, trace) in series.seed_ids.iter().zip(&series.seeds) {
        let (first, last) = (trace[0], *trace.last().unwrap());
        assert!(last > first + 0.15, "seed {seed}: refusal {first} → {last}");
    }
    let plots = dir.path().join("plots");
    crate::plot::draw(&data, &declared, &plots, &[], &Sheet::new(FigureSize::Screen)).unwrap();
    let png = std::fs::metadata(plots.join("refusals.png")).unwrap();
    assert!(png.len() > 1000, "the toy figure was drawn");
}
