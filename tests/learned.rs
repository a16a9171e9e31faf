//! RLHF from simulated raters (docs/model.md §7) at small budgets with fixed seeds: the
//! learned reward model against the raters' own ceiling, the direction learned-reward pressure
//! moves the headline rates, determinism, and bad input.

mod common;

use std::path::Path;

use common::*;
use pressure::experiment::Experiment;

const ACCURACY: &str = r#"
seeds = 4
[pressure]
steps = 0
[reward]
kind = "learned"
refusal_penalty = 2.0
objection_penalty = 1.0
judge_penalty = 1.0
[raters]
institutional_share = 1.0
beta = 1.0
flip = 0.1
[rm]
sampling = "uniform"
[[arms]]
name = "many"
rm.pairs = 16000
[[arms]]
name = "few"
rm.pairs = 4000
rm.holdout = 0.99
"#;

/// With 14,400 training comparisons the model orders the held-out ones as well as the raters'
/// own expected preference does (measured: identical to 3 decimals on 4 seeds); trained on 40
/// of noisy raters (β = 1, 10% flips), it falls short of it (measured gap 0.086 on 4 seeds,
/// asserted above half of that).
#[test]
fn enough_comparisons_reach_the_raters_ceiling_and_few_do_not() {
    let e = Experiment::parse(ACCURACY, Path::new("accuracy.toml"), &[]).unwrap();
    let (_dir, data) = run_data(&e);
    let gaps = |arm: &str| -> Vec<f64> {
        let acc = &data.series(arm, "rm", "rm_accuracy").unwrap().seeds;
        let ceiling = &data.series(arm, "rm", "rm_accuracy_ceiling").unwrap().seeds;
        acc.iter().zip(ceiling).map(|(a, c)| c[0] - a[0]).collect()
    };
    let many = gaps("many");
    assert!(
        many.iter().all(|g| g.abs() < 0.01),
        "16,000 pairs: ceiling − accuracy per seed {many:?}"
    );
    let few = gaps("few");
    let mean = few.iter().sum::<f64>() / few.len() as f64;
    assert!(mean > 0.04, "40 training pairs: mean gap {mean:.3} ({few:?})");
}

/// An all-institutional pool on uniform comparisons, learned: refusal falls and, with the
/// principles still taught, silent compliance is mostly hidden objection — as with the table.
#[test]
fn learned_pressure_moves_the_headline_rates_as_the_table_does() {
    let text = r#"
        seeds = 2
        [pressure]
        steps = 300
        lr = 3e-4
        [eval]
        every = 100
        [[arms]]
        name = "table"
        reward = { kind = "institutional", refusal_penalty = 2.0, objection_penalty = 1.0, judge_penalty = 1.0 }
        [[arms]]
        name = "learned"
        reward = { kind = "learned", refusal_penalty = 2.0, objection_penalty = 1.0, judge_penalty = 1.0 }
        rm = { sampling = "uniform" }
    "#;
    let e = Experiment::parse(text, Path::new("direction.toml"), &[]).unwrap();
    let (_dir, data) = run_data(&e);
    for arm in ["table", "learned"] {
        let (r0, r1) = first_last(&data, arm, "trained", "refusal");
        let (_, hidden) = first_last(&data, arm, "trained", "hidden_objection");
        let (_, unobjecting) = first_last(&data, arm, "trained", "unobjecting_compliance");
        assert!(r1 < r0 - 0.5, "{arm}: refusal {r0:.3} → {r1:.3}");
        assert!(
            hidden > 0.5 && hidden > unobjecting + 0.5,
            "{arm}: hidden objection {hidden:.3}, unobjecting compliance {unobjecting:.3}"
        );
    }
    let (_, margin) = first_last(&data, "learned", "trained", "rm_refusal_margin");
    assert!(
        margin > 0.5,
        "the learned model pays for complying over refusing: {margin:.3}"
    );
}

const TINY_LEARNED: &str = r#"
name = "tiny_learned"
seeds = 3
[constitution]
steps = 80
[pressure]
steps = 40
[eval]
every = 20
tasks = 16
[reward]
kind = "learned"
objection_penalty = 1.0
[rm]
pairs = 200
steps = 30
ensemble = 2
pessimism = 0.5
[[arms]]
name = "uniform"
rm.sampling = "uniform"
[[arms]]
name = "reference"

[[arms]]
name = "online"
rm.sampling = "online"
rm.refresh_every = 20
"#;

/// The same learned runs give byte-identical metrics whatever the thread count and whatever
/// runs share a population (each member's comparisons, initialization and minibatches come
/// from its own streams).
#[test]
fn learned_runs_are_byte_identical_whatever_the_jobs_and_populations() {
    let variants: [&[&str]; 3] = [
        &["--jobs", "1"],
        &["--jobs", "2", "--population", "1"],
        &["--jobs", "1", "--population", "6"],
    ];
    let csv = same_metrics_whatever(TINY_LEARNED, &variants);
    assert!(csv.contains(",0,rm,rm_accuracy,") && csv.contains(",trained,reward_proxy,"));
    // Online sampling refits at step 20 (of 40): fresh comparisons, measured again.
    assert!(
        csv.lines().any(|l| l.starts_with("online,0,20,rm,rm_accuracy,")),
        "{csv}"
    );
    assert!(!csv.lines().any(|l| l.starts_with("uniform,0,20,rm,")));
}

/// Online comparisons come from the policy being trained: the reward model is refit on a
/// fresh round at every refresh step (and measured there, not at the last step), and pressure
/// against it erodes refusal with the learned penalty intact.
#[test]
fn online_comparisons_follow_the_policy() {
    let text = r#"
        seeds = 2
        [pressure]
        steps = 300
        lr = 3e-4
        [eval]
        every = 100
        [reward]
        kind = "learned"
        refusal_penalty = 2.0
        objection_penalty = 1.0
        judge_penalty = 1.0
        [rm]
        sampling = "online"
        refresh_every = 100
        [[arms]]
        name = "online"
    "#;
    let e = Experiment::parse(text, Path::new("online.toml"), &[]).unwrap();
    let (_dir, data) = run_data(&e);
    let acc = data.series("online", "rm", "rm_accuracy").unwrap();
    assert_eq!(
        acc.steps,
        vec![0, 100, 200],
        "refits at 100 and 200, none at the last step"
    );
    let (r0, r1) = first_last(&data, "online", "trained", "refusal");
    assert!(r1 < r0 - 0.5, "online: refusal {r0:.3} → {r1:.3}");
    let (_, margin) = first_last(&data, "online", "trained", "rm_refusal_margin");
    assert!(margin > 0.5, "the refit model still pays for complying: {margin:.3}");
}

/// A followup can train against a reward model of its own, fit when it begins on comparisons
/// from its own mix and its reward's tables: all-principled raters restore refusal eroded by
/// the institution's table (measured at this budget: 0.001 → 0.62 on 2 seeds).
#[test]
fn a_followup_fits_its_own_learned_reward() {
    let text = r#"
        seeds = 2
        [pressure]
        steps = 300
        lr = 3e-4
        [eval]
        every = 100
        [reward]
        kind = "institutional"
        refusal_penalty = 2.0
        objection_penalty = 1.0
        judge_penalty = 1.0
        [followup]
        steps = 300
        lr = 3e-4
        judge_fraction = 0.25
        contexts = "all"
        reward = { kind = "learned" }
        [raters]
        institutional_share = 0.0
        [rm]
        sampling = "uniform"
        [[arms]]
        name = "learned followup"
    "#;
    let e = Experiment::parse(text, Path::new("followup.toml"), &[]).unwrap();
    let (_dir, data) = run_data(&e);
    let acc = data.series("learned followup", "rm", "rm_accuracy").unwrap();
    assert_eq!(acc.steps, vec![300], "fit when the followup begins");
    let refusal = means(&data, "learned followup", "trained", "refusal");
    let (eroded, restored) = (refusal[3], *refusal.last().unwrap());
    assert!(
        restored > eroded + 0.3,
        "refusal {eroded:.3} after pressure → {restored:.3} after the followup"
    );
    let proxy = data.series("learned followup", "trained", "reward_proxy").unwrap();
    assert_eq!(
        proxy.steps.first(),
        Some(&400),
        "the proxy is measured from the first evaluation after the fit"
    );
}

#[test]
fn bad_rater_and_reward_model_settings_get_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "table.toml", "[raters]\nbeta = 2.0\n");
    write(d, "rm.toml", "[rm]\npairs = 100\n");
    write(d, "learned.toml", "[reward]\nkind = \"learned\"\n");
    let cases: &[(&[&str], &[&str])] = &[
        (
            &["run", "table.toml"],
            &[
                "table.toml",
                "`raters`",
                "no effect with reward.kind = \"institutional\"",
            ],
        ),
        (&["run", "rm.toml"], &["rm.toml", "`rm`", "no effect"]),
        (
            &["run", "learned.toml", "--set", "raters.institutional_share=1.5"],
            &["--set raters.institutional_share=1.5", "[0, 1]"],
        ),
        (
            &["run", "learned.toml", "--set", "raters.flip=0.7"],
            &["raters.flip", "[0, 0.5]"],
        ),
        (
            &["run", "learned.toml", "--set", "raters.beta=-1"],
            &["raters.beta", "≥ 0"],
        ),
        (
            &["run", "learned.toml", "--set", "rm.pairs=4"],
            &["rm.pairs", "at least one comparison to hold out"],
        ),
        (
            &["run", "learned.toml", "--set", "rm.holdout=1.0"],
            &["rm.holdout", "[0, 0.99]"],
        ),
        (
            &["run", "learned.toml", "--set", "rm.ensemble=0"],
            &["rm.ensemble", "1..=32"],
        ),
        (
            &["run", "learned.toml", "--set", "rm.pessimism=-1"],
            &["rm.pessimism", "≥ 0"],
        ),
        (
            &["run", "learned.toml", "--set", "rm.sampling=sometimes"],
            &["rm.sampling", "reference", "uniform", "online"],
        ),
        (
            &["run", "learned.toml", "--set", "rm.sampling=online"],
            &["rm.refresh_every", "≥ 1"],
        ),
        (
            &["run", "learned.toml", "--set", "rm.refresh_every=10"],
            &["rm.refresh_every", "no effect unless rm.sampling = \"online\""],
        ),
        (
            &["run", "table.toml", "--set", "followup.steps=10"],
            &["`raters`", "no learned followup reward"],
        ),
    ];
    assert_one_line_errors(d, cases);
}
