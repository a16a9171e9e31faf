//! `pressure compare` and `summary --estimator/--format`: a difference known by construction is
//! recovered; arms drawn from one distribution are not called different more often than the
//! level; the minimum detectable difference is detected about 80% of the time; and bad input
//! stops with one line and exit code 2.

mod common;

use common::*;
use pressure::records::MetricRecord;
use pressure::results::compare::{Comparison, Request, comparisons};
use pressure::results::{Group, Header, RunData};
use pressure::run::RunConfig;
use pressure::stats::two_sample::min_detectable;
use pressure::stats::{Bootstrap, Estimator};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

const METRICS: [&str; 4] = [
    "refusal",
    "honest_objection",
    "hidden_objection",
    "unobjecting_compliance",
];

/// A run folder's data without training: each arm's seeds draw each headline metric's final
/// value from Normal(mean, sd), recorded at step 100 (and the constitution's at step 0).
fn synthetic(arms: &[(&str, f64)], sd: f64, seeds: u64, rng: &mut ChaCha8Rng) -> RunData {
    let header = Header {
        name: "synthetic".into(),
        backend: "flex".into(),
        arms: arms.iter().map(|(a, _)| a.to_string()).collect(),
        sweep: Vec::new(),

        refine: None,
        training: false,
    };
    let groups = arms
        .iter()
        .map(|(a, _)| Group {
            arm: a.to_string(),
            sweep: Vec::new(),
            config: RunConfig::default(),
        })
        .collect();
    let mut rows = Vec::new();
    for (arm, mean) in arms {
        let normal = Normal::new(*mean, sd).unwrap();
        for seed in 0..seeds {
            for metric in METRICS {
                for (step, value) in [(0, 0.5), (100, normal.sample(rng))] {
                    rows.push(MetricRecord {
                        arm: arm.to_string(),
                        sweep: Vec::new(),
                        seed,
                        step,
                        scope: "trained".into(),
                        metric: metric.into(),
                        value,
                    });
                }
            }
        }
    }
    RunData::new(header, groups, rows)
}

fn request(control: &str, estimator: Estimator) -> Request {
    Request {
        control: control.into(),
        arms: Vec::new(),
        metrics: Vec::new(),
        scope: "trained".into(),
        step: None,
        estimator,
        bootstrap: Bootstrap::default(),
    }
}

fn compare(data: &RunData, estimator: Estimator) -> Vec<Comparison> {
    comparisons(data, "synthetic", &request("control", estimator)).unwrap()
}

#[test]
fn a_difference_known_by_construction_is_recovered() {
    // The arm's seeds sit 0.2 above the control's, with SD 0.05: four SDs apart.
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let (draws, delta, sd) = (400, 0.2, 0.05);
    let (mut covered, mut found, mut sum) = (0, 0, 0.0);
    for _ in 0..draws {
        let data = synthetic(&[("control", 0.4), ("arm", 0.4 + delta)], sd, 5, &mut rng);
        let out = compare(&data, Estimator::Mean);
        assert_eq!(out.len(), METRICS.len());
        let c = &out[0];
        assert_eq!(
            (c.arm.as_str(), c.control.as_str(), c.n_arm, c.n_control),
            ("arm", "control", 5, 5)
        );
        assert_eq!(c.interval, "Welch");
        covered += (c.low <= delta && delta <= c.high) as usize;
        found += out.iter().all(|c| c.p_holm < 0.05 && c.low > 0.0) as usize;
        sum += c.difference;
        assert!(c.hedges_g > 0.0 && c.p_arm_greater > 0.5, "{c:?}");
    }
    let coverage = covered as f64 / draws as f64;
    // 95% intervals: the binomial SD of the coverage over 400 draws is 0.011.
    assert!((0.92..=0.98).contains(&coverage), "coverage {coverage}");
    assert_eq!(found, draws, "a four-SD difference is found on every metric");
    assert!(
        (sum / draws as f64 - delta).abs() < 0.005,
        "mean difference {}",
        sum / draws as f64
    );

    // The median and IQM see it too, with a bootstrap interval that says so.
    let data = synthetic(&[("control", 0.4), ("arm", 0.4 + delta)], sd, 5, &mut rng);
    for estimator in [Estimator::Median, Estimator::Iqm] {
        for c in compare(&data, estimator) {
            assert_eq!(c.interval, "bootstrap-percentile");
            assert!(c.low > 0.0 && c.high < 2.0 * delta, "{estimator:?}: {c:?}");
        }
    }
}

#[test]
fn arms_from_one_distribution_are_called_different_no_more_often_than_the_level() {
    // Two arms of the same config and different seeds: the same distribution. Over 2,000 draws
    // of 5 seeds a side and 4 metrics, the share of comparisons with p < 0.05 must stay at the
    // level, and with Holm's correction the share of draws with any p < 0.05 too. The binomial
    // SD over 8,000 comparisons is 0.0024, over 2,000 draws 0.0049: 3 SDs of slack.
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let draws = 2000;
    let (mut raw, mut family, mut fractions) = (0, 0, 0.0);
    for _ in 0..draws {
        let data = synthetic(&[("control", 0.5), ("same config", 0.5)], 0.05, 5, &mut rng);
        let out = compare(&data, Estimator::Mean);
        raw += out.iter().filter(|c| c.p < 0.05).count();
        family += out.iter().any(|c| c.p_holm < 0.05) as usize;
        fractions += out.iter().map(|c| c.p_arm_greater).sum::<f64>();
    }
    let raw = raw as f64 / (4 * draws) as f64;
    let family = family as f64 / draws as f64;
    assert!(raw <= 0.05 + 3.0 * 0.0024, "per comparison: {raw}");
    // With equal variances and 5 seeds a side Welch's test is a little conservative: its size is
    // 0.0443 (400,000 draws of scipy.stats.ttest_ind(a, c, axis=1, equal_var=False) on
    // standard normals, numpy.random.default_rng(0); /tmp/refstats/bin/python, SciPy 1.17.1).
    assert!(
        (raw - 0.0443).abs() <= 3.0 * 0.0024,
        "per comparison, against SciPy's size: {raw}"
    );
    assert!(family <= 0.05 + 3.0 * 0.0049, "family-wise with Holm: {family}");
    let mean_fraction = fractions / (4 * draws) as f64;
    assert!(
        (mean_fraction - 0.5).abs() < 0.01,
        "P(arm > control) averages ½: {mean_fraction}"
    );
}

#[test]
fn the_minimum_detectable_difference_is_detected_about_80_percent_of_the_time() {
    // A true difference equal to the MDD for 5 seeds a side and the true SD: Welch's test at
    // 0.05 finds it in about 80% of draws (binomial SD over 4,000 comparisons: 0.0063). Welch's
    // test spends a little power on not assuming equal variances, so it may fall a little short.
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let sd = 0.05;
    let mdd = min_detectable(5, 5, sd);
    let draws = 1000;
    let mut found = 0;
    for _ in 0..draws {
        let data = synthetic(&[("control", 0.4), ("arm", 0.4 + mdd)], sd, 5, &mut rng);
        found += compare(&data, Estimator::Mean).iter().filter(|c| c.p < 0.05).count();
    }
    let power = found as f64 / (4 * draws) as f64;
    assert!((0.75..=0.83).contains(&power), "power at the MDD: {power}");
}

/// Runs TINY (arms `tolerated` and `penalized, with a comma`) into `dir/name` with `seeds`.
fn tiny_run(dir: &std::path::Path, name: &str, seeds: &str, extra: &[&str]) {
    write(dir, "tiny.toml", TINY);
    let mut args = vec!["run", "tiny.toml", "--out", name, "--no-plots", "--seeds", seeds];
    args.extend_from_slice(extra);
    let o = pressure(&args, dir);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn compare_and_summary_print_every_format() {
    let dir = tempfile::tempdir().unwrap();
    tiny_run(dir.path(), "o", "3", &[]);
    let run = |args: &[&str]| {
        let o = pressure(args, dir.path());
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
        stdout(&o)
    };
    let table = run(&["compare", "o", "--control", "tolerated"]);
    assert!(table.contains("against the control `tolerated`"), "{table}");
    assert!(table.contains("penalized, with a comma  refusal"), "{table}");
    assert!(table.contains("Welch"), "{table}");
    assert!(table.contains("Holm's method across the 4 comparisons"), "{table}");

    // JSON: one record per arm and metric, the interval's method in its own field.
    let json = run(&[
        "compare",
        "o",
        "--control",
        "tolerated",
        "--format",
        "json",
        "--estimator",
        "iqm",
    ]);
    let records: Vec<serde_json::Value> = serde_json::from_str(&json).unwrap();
    assert_eq!(records.len(), 4);
    for r in &records {
        assert_eq!(r["arm"], "penalized, with a comma");
        assert_eq!(r["interval"], "bootstrap-percentile");
        assert_eq!(r["estimator"], "iqm");
        assert_eq!((r["n_arm"].as_u64(), r["n_control"].as_u64()), (Some(3), Some(3)));
        assert!(r["p_holm"].as_f64().unwrap() >= r["p"].as_f64().unwrap());
    }
    // The same data give the same bootstrap interval.
    assert_eq!(
        json,
        run(&[
            "compare",
            "o",
            "--control",
            "tolerated",
            "--format",
            "json",
            "--estimator",
            "iqm"
        ])
    );

    // An arm whose name holds a comma, named with --arms, and a scope:metric.
    let csv = run(&[
        "compare",
        "o",
        "--control",
        "penalized, with a comma",
        "--arms",
        "tolerated",
        "--metric",
        "refusal,unobserved:hidden_objection",
        "--format",
        "csv",
    ]);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(lines[0].starts_with("control,arm,scope,metric,step,estimator,n_arm,n_control,"));
    assert!(lines[1].starts_with("\"penalized, with a comma\",tolerated,trained,refusal,,mean,3,3,"));
    assert!(lines[2].contains(",unobserved,hidden_objection,"), "{csv}");

    let latex = run(&[
        "compare",
        "o",
        "--control",
        "tolerated",
        "--format",
        "latex",
        "--step",
        "20",
    ]);
    assert!(latex.contains("\\toprule") && latex.contains("\\bottomrule"), "{latex}");
    assert!(latex.contains("honest\\_objection"), "{latex}");
    assert!(latex.contains("% o: each arm against the control `tolerated`; the mean over seeds of values at step 20."));
    let markdown = run(&["compare", "o", "--control", "tolerated", "--format", "markdown"]);
    assert!(markdown.contains("| arm | metric | N |"), "{markdown}");

    // summary keeps its Markdown table, now naming the interval's method; other estimators and
    // formats on request.
    let md = run(&["summary", "o"]);
    assert!(
        md.starts_with("| arm (scope `trained`, final; mean [95% interval, t]) | N | refusal |"),
        "{md}"
    );
    let json = run(&["summary", "o", "--estimator", "median", "--format", "json"]);
    let records: Vec<serde_json::Value> = serde_json::from_str(&json).unwrap();
    assert_eq!(records.len(), 2 * 4);
    assert!(
        records
            .iter()
            .all(|r| r["interval"] == "bootstrap-percentile" && r["n"] == 3)
    );
    let table = run(&["summary", "o", "--format", "table", "--metrics", "kl"]);
    assert!(
        table.starts_with("arm (scope trained, final; mean [95% interval, t])  N"),
        "{table}"
    );

    // One vocabulary: `--metric` as compare spells it (`--metrics` is the same flag), and
    // `scope:metric` as compare takes it, naming the table's scope.
    assert_eq!(
        run(&["summary", "o", "--metric", "kl,refusal"]),
        run(&["summary", "o", "--metrics", "kl,refusal"])
    );
    assert_eq!(
        run(&[
            "summary",
            "o",
            "--metric",
            "unobserved:refusal",
            "--metric",
            "unobserved:kl"
        ]),
        run(&["summary", "o", "--scope", "unobserved", "--metric", "refusal,kl"])
    );
    assert_one_line_errors(
        dir.path(),
        &[
            (
                &["summary", "o", "--metric", "rm_accuracy"],
                &["--metric rm_accuracy", "it is a metric of scope `rm`: `rm:rm_accuracy`"],
            ),
            (
                &["compare", "o", "--control", "tolerated", "--metric", "loss"],
                &["unknown metric `loss`", "scope `train`: `train:loss`"],
            ),
            (
                &["summary", "o", "--metric", "trained:refusal,heldout:refusal"],
                &["one scope at a time"],
            ),
        ],
    );
}

#[test]
fn compare_points_of_a_sweep() {
    let dir = tempfile::tempdir().unwrap();
    tiny_run(dir.path(), "s", "2", &["--sweep", "pressure.kl=0.05,0.2"]);
    let o = pressure(
        &[
            "compare",
            "s",
            "--control",
            "tolerated, pressure.kl=0.05",
            "--arms",
            "tolerated, pressure.kl=0.2,penalized, with a comma, pressure.kl=0.05",
            "--metric",
            "refusal",
            "--format",
            "csv",
        ],
        dir.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("\"tolerated, pressure.kl=0.05\",\"tolerated, pressure.kl=0.2\",trained,refusal"),
        "{out}"
    );
    assert!(
        out.contains(",\"penalized, with a comma, pressure.kl=0.05\",trained,refusal"),
        "{out}"
    );
    assert_eq!(out.lines().count(), 3, "{out}");
}

#[test]
fn bad_input_stops_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    tiny_run(dir.path(), "o", "2", &[]);
    tiny_run(dir.path(), "one", "1", &[]);
    assert_one_line_errors(
        dir.path(),
        &[
            (
                &["compare", "o", "--control", "tolerated", "--arms", "bogus"],
                &["--arms bogus: not an arm of o; its arms: `tolerated`, `penalized, with a comma`"],
            ),
            (
                &["compare", "o", "--control", "bogus"],
                &["--control bogus: not an arm of o; its arms: `tolerated`"],
            ),
            (
                &["compare", "o", "--control", "tolerated", "--metric", "refusals"],
                &["--metric refusals: `refusals`: unknown metric `refusals`; valid: refusal"],
            ),
            (
                &["compare", "o", "--control", "tolerated", "--metric", "reward_proxy"],
                &["--metric trained:reward_proxy: not recorded for `"],
            ),
            (
                &["compare", "o", "--control", "tolerated", "--metric", "framed:refusal"],
                &["--metric framed:refusal: o has no values in scope framed; its scopes: trained"],
            ),
            (
                &["compare", "o", "--control", "tolerated", "--step", "7"],
                &["--step 7: not an evaluated step of scope trained; evaluated: 0, 20, 40"],
            ),
            (
                &["compare", "o", "--control", "tolerated", "--arms", "tolerated"],
                &["--arms tolerated: is the control"],
            ),
            (
                &["compare", "o", "--control", "tolerated", "--scope", "bogus"],
                &["--scope bogus: not a scope"],
            ),
            (
                &["compare", "one", "--control", "tolerated"],
                &[
                    "1 seed with a value of trained:refusal at final: no interval is possible; a comparison needs at least 2 seeds on each side",
                ],
            ),
            (
                &["compare", "missing", "--control", "tolerated"],
                &["missing is not a run folder"],
            ),
        ],
    );
}

#[test]
fn the_bootstrap_interval_runs_a_little_narrow_at_5_seeds() {
    // The percentile bootstrap describes the seeds at hand; with few of them it is narrower than
    // 95%. Measured with this file's `synthetic` draws (SD 0.05, 300 draws × 4 metrics): the
    // interval of a same-distribution difference excludes 0 in 6.4% of comparisons for the IQM
    // at 5 seeds a side (median 4.1%, mean by Welch 4.6%), 22% for the IQM at 3 (where it is the
    // mean: nothing is trimmed below 4 values), and 5.2% at 10. Hence `compare` claims a
    // difference by Welch's p-value, and this test holds the 5-seed IQM near its level.
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let draws = 400;
    let mut excluded = 0;
    for _ in 0..draws {
        let data = synthetic(&[("control", 0.5), ("same config", 0.5)], 0.05, 5, &mut rng);
        excluded += compare(&data, Estimator::Iqm)
            .iter()
            .filter(|c| c.low > 0.0 || c.high < 0.0)
            .count();
    }
    // Binomial SD over 1,600 comparisons at 0.05: 0.0054.
    let rate = excluded as f64 / (4 * draws) as f64;
    assert!(rate <= 0.085, "IQM intervals excluding 0 under no difference: {rate}");
}

#[test]
fn a_metric_named_twice_is_compared_once_and_holm_counts_the_tests_made() {
    let dir = tempfile::tempdir().unwrap();
    tiny_run(dir.path(), "o", "3", &[]);
    let run = |metrics: &str| {
        let o = pressure(
            &["compare", "o", "--control", "tolerated", "--metric", metrics],
            dir.path(),
        );
        assert!(o.status.success(), "{metrics}: {}", stderr(&o));
        stdout(&o)
    };
    let once = run("refusal,hidden_objection");
    assert!(once.contains("Holm's method across the 2 comparisons"), "{once}");
    for twice in [
        "refusal,hidden_objection,refusal",
        "refusal,trained:refusal,hidden_objection",
        "refusal,hidden_objection,trained:hidden_objection,hidden_objection",
    ] {
        assert_eq!(run(twice), once, "--metric {twice}");
    }
}

#[test]
fn several_folders_read_as_one_equal_their_merge() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let o = pressure(args, dir.path());
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
        stdout(&o)
    };
    // Three shards cut across arms and seeds: each arm's seeds are pooled from two folders.
    for k in 0..3 {
        tiny_run(dir.path(), &format!("s{k}"), "3", &["--shard", &format!("{k}/3")]);
    }
    run(&["merge", "--out", "m", "s0", "s1", "s2", "--no-plots"]);
    assert_eq!(run(&["summary", "s0", "s1", "s2"]), run(&["summary", "m"]));
    let rest = |text: String| text.lines().skip(1).collect::<Vec<_>>().join("\n");
    assert_eq!(
        rest(run(&["compare", "s0", "s1", "s2", "--control", "tolerated"])),
        rest(run(&["compare", "m", "--control", "tolerated"]))
    );

    // Another configuration under the same arm name is its own group. Both experiments are
    // called `tiny`: each group of that name is qualified by its folder, a bare name is
    // ambiguous, and either may be the control.
    tiny_run(
        dir.path(),
        "longer",
        "2",
        &["--set", "pressure.steps=60", "--arm", "tolerated"],
    );
    let table = run(&["summary", "m", "longer"]);
    assert!(table.contains("| longer:tolerated | 2 |"), "{table}");
    assert!(table.contains("| m:tolerated | 3 |"), "{table}");
    let compared = run(&[
        "compare",
        "m",
        "longer",
        "--control",
        "longer:tolerated",
        "--metric",
        "refusal",
    ]);
    assert!(
        compared.contains("against the control `longer:tolerated`"),
        "{compared}"
    );
    assert_one_line_errors(
        dir.path(),
        &[
            (
                &["compare", "m", "longer", "--control", "tolerated"],
                &["--control tolerated: ambiguous", "`m:tolerated` and `longer:tolerated`"],
            ),
            (
                &[
                    "compare",
                    "m",
                    "longer",
                    "--control",
                    "m:tolerated",
                    "--arms",
                    "tolerated",
                ],
                &["--arms tolerated: ambiguous"],
            ),
        ],
    );
    // Experiments of different names: each group is qualified by its experiment.
    let text = std::fs::read_to_string(dir.path().join("tiny.toml")).unwrap();
    write(
        dir.path(),
        "other.toml",
        &text.replace("name = \"tiny\"", "name = \"other\""),
    );
    let o = pressure(
        &[
            "run",
            "other.toml",
            "--out",
            "other",
            "--seeds",
            "2",
            "--no-plots",
            "--set",
            "pressure.steps=60",
        ],
        dir.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let table = run(&["summary", "m", "other"]);
    for label in ["tiny:tolerated", "other:tolerated", "tiny:penalized, with a comma"] {
        assert!(table.contains(&format!("| {label} |")), "{label}: {table}");
    }

    // Another backend only with --mixed, which says so.
    tiny_run(dir.path(), "nd", "1", &["--backend", "ndarray"]);
    assert_one_line_errors(
        dir.path(),
        &[(
            &["summary", "m", "nd"],
            &["nd: written by pressure", "on ndarray", "--mixed"],
        )],
    );
    let o = pressure(&["summary", "m", "nd", "--mixed"], dir.path());
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("(mixed: "), "{}", stderr(&o));
}
