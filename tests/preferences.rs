//! Preference optimization and best-of-n (docs/model.md §7) at small budgets with fixed seeds:
//! DPO and IPO are deterministic and population-independent, move refusal the way RL does on
//! an all-institutional pool, best-of-n at n = 1 is the reference, and bad input gets one line.

mod common;

use std::path::Path;

use common::*;
use pressure::experiment::Experiment;

const TINY: &str = r#"
name = "tiny_preferences"
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
[[arms]]
name = "dpo"
pressure = { algorithm = "dpo", kl = 0.0 }
[[arms]]
name = "ipo"
pressure = { algorithm = "ipo", dpo_beta = 0.5, replay = 0.5 }
[[arms]]
name = "online dpo"
pressure = { algorithm = "dpo", dpo_beta = 0.2 }
rm = { pairs = 200, sampling = "online", refresh_every = 20 }
[[arms]]
name = "best of n"
eval = { every = 20, tasks = 16, best_of_n = [1, 3, 50] }
"#;

/// DPO and IPO (and best-of-n) give byte-identical metrics whatever the thread count and
/// whatever runs share a population: each member draws its comparisons and its minibatches of
/// them from its own streams.
#[test]
fn preference_runs_are_byte_identical_whatever_the_jobs_and_populations() {
    let variants: [&[&str]; 3] = [
        &["--jobs", "1"],
        &["--jobs", "2", "--population", "1"],
        &["--jobs", "1", "--population", "12"],
    ];
    let csv = same_metrics_whatever(TINY, &variants);
    for needle in [
        "dpo,0,40,trained,reward_proxy,",
        "ipo,0,40,train,loss,",
        "best of n,0,0,best_of_n,kl_n50,",
    ] {
        assert!(csv.contains(needle), "{needle}");
    }
    // Preference optimization fits no reward model and samples no reward.
    assert!(!csv.lines().any(|l| l.starts_with("dpo,") && l.contains(",rm,")));
    assert!(
        !csv.lines()
            .any(|l| l.starts_with("dpo,") && l.contains(",reward_trained,"))
    );
}

/// An all-institutional pool on uniform comparisons: DPO and IPO erode refusal as RL on the
/// learned reward model does (measured at this budget on 2 seeds: refusal 0.81 → 0.001 for RL,
/// 0.000 for DPO, 0.10 for IPO; asserted: a fall of more than 0.5), and DPO's implicit margin
/// comes to pay for complying over refusing (measured 2.73; asserted > 1).
#[test]
fn dpo_moves_refusal_down_as_rl_does() {
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
        [raters]
        institutional_share = 1.0
        [rm]
        sampling = "uniform"
        [[arms]]
        name = "rl"
        [[arms]]
        name = "dpo"
        pressure = { algorithm = "dpo", kl = 0.0 }
        [[arms]]
        name = "ipo"
        pressure = { algorithm = "ipo", kl = 0.0 }
    "#;
    let e = Experiment::parse(text, Path::new("direction.toml"), &[]).unwrap();
    let (_dir, data) = run_data(&e);
    for arm in ["rl", "dpo", "ipo"] {
        let (r0, r1) = first_last(&data, arm, "trained", "refusal");
        assert!(r1 < r0 - 0.5, "{arm}: refusal {r0:.3} → {r1:.3}");
    }
    let (m0, m1) = first_last(&data, "dpo", "trained", "rm_refusal_margin");
    assert!(m0.abs() < 1e-9, "the implicit reward is zero at the reference: {m0}");
    assert!(m1 > 1.0, "DPO's implicit margin pays for complying: {m1:.3}");
    // DPO's reward_proxy is its implicit reward in expectation: β × KL, β = 0.1.
    let kl = means(&data, "dpo", "trained", "kl");
    let proxy = means(&data, "dpo", "trained", "reward_proxy");
    for (k, p) in kl.iter().zip(&proxy) {
        assert!((p - 0.1 * k).abs() < 1e-6, "proxy {p} vs β·KL {}", 0.1 * k);
    }
}

/// Best-of-n at n = 1 is the reference policy (at step 0, the policy itself): its rates are
/// the step-0 rates and its KL is 0; larger n moves away from the reference, and its proxy
/// reward rises with n.
#[test]
fn best_of_one_is_the_reference() {
    let e = Experiment::parse(TINY, Path::new("tiny.toml"), &[]).unwrap();
    let (_dir, data) = run_data(&e);
    let arm = "best of n";
    let at0 = |scope: &str, metric: &str| data.series(arm, scope, metric).unwrap().seeds.clone();
    for metric in [
        "refusal",
        "honest_objection",
        "hidden_objection",
        "reward_raters",
        "reward_proxy",
    ] {
        let (bon, policy) = (at0("best_of_n", &format!("{metric}_n1")), at0("trained", metric));
        for (b, p) in bon.iter().zip(&policy) {
            assert!(
                (b[0] - p[0]).abs() < 1e-6,
                "{metric}: best-of-1 {} vs step 0 {}",
                b[0],
                p[0]
            );
        }
    }
    assert!(at0("best_of_n", "kl_n1").iter().all(|s| s[0] == 0.0));
    for ((k3, k50), (p1, p50)) in at0("best_of_n", "kl_n3").iter().zip(at0("best_of_n", "kl_n50")).zip(
        at0("best_of_n", "reward_proxy_n1")
            .iter()
            .zip(at0("best_of_n", "reward_proxy_n50")),
    ) {
        assert!(
            0.0 < k3[0] && k3[0] < k50[0],
            "KL grows with n: {} then {}",
            k3[0],
            k50[0]
        );
        // The exact KL of best-of-n is at most log n − (n − 1)/n (continuous rewards).
        assert!(k50[0] <= 50f64.ln() - 49.0 / 50.0 + 1e-9);
        assert!(p50[0] > p1[0], "the proxy rises with n: {} then {}", p1[0], p50[0]);
    }
}

#[test]
fn bad_preference_settings_get_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "table.toml", "");
    write(d, "learned.toml", "[reward]\nkind = \"learned\"\n");
    write(
        d,
        "dpo.toml",
        "[reward]\nkind = \"learned\"\n[pressure]\nalgorithm = \"dpo\"\n",
    );
    write(
        d,
        "figure.toml",
        "[[figures]]\nname = \"o\"\ntitle = \"o\"\nkind = \"overoptimization\"\n",
    );
    let cases: &[(&[&str], &[&str])] = &[
        (
            &["run", "table.toml", "--set", "pressure.algorithm=dpo"],
            &["pressure.algorithm", "reward.kind = \"learned\"", "\"institutional\""],
        ),
        (
            &["run", "dpo.toml", "--set", "pressure.dpo_beta=0"],
            &["pressure.dpo_beta", "> 0"],
        ),
        (
            &["run", "dpo.toml", "--set", "pressure.dpo_beta=-1"],
            &["pressure.dpo_beta", "> 0"],
        ),
        (
            &["run", "learned.toml", "--set", "pressure.dpo_beta=0.2"],
            &["pressure.dpo_beta", "no effect with pressure.algorithm = \"reinforce\""],
        ),
        (
            &["run", "dpo.toml", "--set", "pressure.monitor=1"],
            &["pressure.monitor", "no effect", "dpo"],
        ),
        (
            &["run", "dpo.toml", "--set", "rm.steps=10"],
            &["rm.steps", "no effect", "no reward model is fit"],
        ),
        (
            &["run", "dpo.toml", "--set", "followup.steps=10"],
            &["followup.algorithm", "reinforce", "ppo"],
        ),
        (
            &["run", "learned.toml", "--set", "eval.best_of_n=[0, 4]"],
            &["eval.best_of_n", "1..="],
        ),
        (
            &["run", "table.toml", "--set", "eval.best_of_n=[4]"],
            &["eval.best_of_n", "no effect", "learned"],
        ),
        (
            &["run", "dpo.toml", "--set", "eval.best_of_n=[4]"],
            &["eval.best_of_n", "no effect", "no reward model"],
        ),
        (
            &["run", "figure.toml"],
            &["figure.toml", "overoptimization", "reward.kind = \"learned\""],
        ),
    ];
    assert_one_line_errors(d, cases);
}
