//! Every statistic that `summary` and `compare` report, checked against values computed
//! independently with SciPy 1.17.1, NumPy 2.4.6 and statsmodels 0.15.0. The literals come from
//!
//!     python3 -m venv /tmp/refstats && /tmp/refstats/bin/pip install scipy numpy statsmodels
//!     /tmp/refstats/bin/python tests/reference/stats.py
//!
//! and each test names the line of its output that it holds.

use pressure::stats::two_sample::{hedges_g, holm, min_detectable, pooled_sd, prob_greater, welch};
use pressure::stats::{Bootstrap, Estimate, Estimator, Interval, quantile, summarize};

const A: [f64; 5] = [0.42, 0.51, 0.47, 0.60, 0.47];
const C: [f64; 6] = [0.40, 0.47, 0.38, 0.44, 0.39, 0.45];
const WIDE: [f64; 7] = [1.2, 3.4, 0.7, 2.9, 5.1, 2.2, 3.0];
const NARROW: [f64; 4] = [0.5, 0.9, 0.4, 1.1];
const TEN: [f64; 10] = [3.1, 0.2, 5.5, 2.2, 9.9, 4.4, 1.0, 7.7, 6.1, 2.8];

/// `got` equals `want` to a relative tolerance `tol`.
fn close(got: f64, want: f64, tol: f64, what: &str) {
    assert!(
        (got - want).abs() <= tol * want.abs().max(1e-300),
        "{what}: got {got}, want {want}"
    );
}

#[test]
fn welch_t_its_degrees_of_freedom_p_and_interval_match_scipy() {
    // `welch A-C diff t df p low high` and `welch WIDE-NARROW ...`: scipy.stats.ttest_ind(a, c,
    // equal_var=False) and its confidence_interval(0.95).
    let cases: [(&[f64], &[f64], [f64; 6]); 2] = [
        (
            &A,
            &C,
            [
                0.0723333333333,
                2.15295153568,
                5.92251072453,
                0.0753967809859,
                -0.0101377075043,
                0.154804374171,
            ],
        ),
        (
            &WIDE,
            &NARROW,
            [
                1.91785714286,
                3.32142356905,
                7.00614983066,
                0.0127238671336,
                0.552718196525,
                3.28299608919,
            ],
        ),
    ];
    for (a, c, [diff, t, df, p, low, high]) in cases {
        let w = welch(a, c);
        close(w.difference, diff, 1e-10, "difference");
        close(w.t, t, 1e-10, "t");
        close(w.df, df, 1e-10, "df");
        close(w.p, p, 1e-9, "p");
        close(w.low, low, 1e-9, "low");
        close(w.high, high, 1e-9, "high");
    }
    // The other way round: the same test, mirrored.
    let back = welch(&C, &A);
    close(back.t, -2.15295153568, 1e-10, "t mirrored");
    close(back.p, 0.0753967809859, 1e-9, "p mirrored");
}

#[test]
fn welch_without_spread_follows_scipy() {
    // No variance on either side: distinct constants differ for certain, equal ones are no test.
    let w = welch(&[1.0, 1.0, 1.0], &[2.0, 2.0]);
    assert_eq!((w.t, w.p, w.low, w.high), (f64::NEG_INFINITY, 0.0, -1.0, -1.0));
    let w = welch(&[0.5, 0.5], &[0.5, 0.5, 0.5]);
    assert!(w.t.is_nan() && w.p.is_nan() && w.difference == 0.0);
}

#[test]
fn the_t_interval_of_a_mean_is_students() {
    // `student_t ppf 0.975 df=2`: t(0.975, 2) = 4.30265272975; sd = 1; half-width = t / √3.
    let s = summarize(&[1.0, 2.0, 3.0]);
    close(s.mean, 2.0, 1e-15, "mean");
    close(s.high - 2.0, 4.30265272975 / 3f64.sqrt(), 1e-10, "half-width");
    let one = summarize(&[0.4, f64::NAN]);
    assert_eq!((one.mean, one.low, one.high, one.n), (0.4, 0.4, 0.4, 1));
}

#[test]
fn intervals_of_rates_stay_in_0_1() {
    let s = summarize(&[0.9, 1.0, 1.0]);
    assert!(s.high > 1.0, "the raw t-interval passes 1: {s:?}");
    let rate = s.within(pressure::metric::bounds("hidden_objection"));
    assert_eq!((rate.mean, rate.high), (s.mean, 1.0));
    assert_eq!(rate.low, s.low);
    let gap = summarize(&[-0.9, -1.0, -1.0]).within(pressure::metric::bounds("compliance_gap"));
    assert_eq!(gap.low, -1.0);
    // An evaluation's KL is a divergence, never below 0; the train scope's `kl` is a sampled
    // estimate of the penalty, which may be.
    let near_zero = summarize(&[0.0, 0.01, 0.002]);
    assert!(near_zero.low < 0.0, "the raw t-interval passes 0: {near_zero:?}");
    let kl = near_zero.within(pressure::metric::bounds_in("trained", "kl"));
    assert_eq!((kl.low, kl.high), (0.0, near_zero.high));
    let estimate = summarize(&[-0.9, -1.0, -1.0]).within(pressure::metric::bounds_in("train", "kl"));
    assert!(estimate.low < -1.0, "the train scope's estimate has no bound");
}

#[test]
fn holm_matches_statsmodels() {
    // `holm`: statsmodels.stats.multitest.multipletests(P, method="holm")[1], with a tie.
    let p = [0.01, 0.04, 0.03, 0.005, 0.2, 0.04];
    let want = [0.05, 0.12, 0.12, 0.03, 0.2, 0.12];
    for (got, want) in holm(&p).iter().zip(want) {
        close(*got, want, 1e-12, "holm");
    }
    // A comparison with no test counts in the family and stays without a p-value.
    let with_none = holm(&[0.01, f64::NAN, 0.02]);
    close(with_none[0], 0.03, 1e-12, "smallest of three");
    close(with_none[2], 0.04, 1e-12, "second of three");
    assert!(with_none[1].is_nan());
    assert_eq!(holm(&[0.6, 0.7]), vec![1.0, 1.0], "capped at 1");
}

#[test]
fn the_probability_of_improvement_is_mann_whitney_u_over_n_m() {
    // `mannwhitney A-C U U/(n*m)` = 26 0.866666666667 and `mannwhitney C-A` = 4 0.133333333333:
    // scipy.stats.mannwhitneyu(a, c).statistic / (n·m); one pair is tied (0.47) and counts ½.
    close(prob_greater(&A, &C), 26.0 / 30.0, 1e-15, "A over C");
    close(prob_greater(&C, &A), 4.0 / 30.0, 1e-15, "C over A");
    assert_eq!(prob_greater(&[1.0, 1.0], &[1.0]), 0.5);
}

#[test]
fn hedges_g_and_the_pooled_sd_match_their_definitions() {
    // `hedges A-C pooled_sd cohen_d hedges_g`: NumPy, d·(1 − 3/(4(n+m) − 9)).
    close(pooled_sd(&A, &C), 0.0524969134895, 1e-10, "pooled sd");
    close(hedges_g(&A, &C), 1.25975660162, 1e-10, "g");
    close(hedges_g(&C, &A), -1.25975660162, 1e-10, "g mirrored");
}

#[test]
fn the_minimum_detectable_difference_is_the_t_approximation_and_near_the_exact_power() {
    // `mdd sd-units n= m= t-approx exact`: (t.975 + t.80, df n+m−2)·√(1/n+1/m) by SciPy, and the
    // exact answer from the noncentral t by statsmodels' TTestIndPower.solve_power.
    let cases = [
        (5, 5, 2.02062816508, 2.02444014566),
        (5, 6, 1.90473178871, 1.90719750021),
        (3, 3, 3.03525229561, 3.0708922696),
        (20, 20, 0.909337265541, 0.909129041094),
    ];
    for (n, m, approx, exact) in cases {
        let got = min_detectable(n, m, 1.0);
        close(got, approx, 1e-9, &format!("t approximation, {n} and {m} seeds"));
        let tol = if n >= 5 { 0.002 } else { 0.012 };
        close(got, exact, tol, &format!("exact power, {n} and {m} seeds"));
    }
    // `mdd A-C`: in the metric's units, with the pooled SD of A and C.
    close(
        min_detectable(5, 6, pooled_sd(&A, &C)),
        0.0999925399327,
        1e-9,
        "A and C",
    );
}

#[test]
fn iqm_and_median_match_scipy_and_numpy() {
    // `iqm first k of TEN`: scipy.stats.trim_mean(x, 0.25), as rliable computes the IQM;
    // `median first k of TEN`: numpy.median.
    let cases = [
        (2, 1.65, 1.65),
        (3, 2.93333333333, 3.1),
        (4, 2.65, 2.65),
        (5, 3.6, 3.1),
        (6, 3.8, 3.75),
        (7, 3.24, 3.1),
        (10, 4.01666666667, 3.75),
    ];
    for (k, iqm, median) in cases {
        close(Estimator::Iqm.of(&TEN[..k]), iqm, 1e-11, &format!("iqm of {k}"));
        close(
            Estimator::Median.of(&TEN[..k]),
            median,
            1e-15,
            &format!("median of {k}"),
        );
    }
    close(Estimator::Mean.of(&TEN[..5]), 4.18, 1e-15, "mean");
}

#[test]
fn quantiles_interpolate_as_numpy_percentile() {
    // `percentile linear q=0.025 0.5 0.975 of first 7 of TEN`: numpy.percentile, linear method.
    let mut x = TEN[..7].to_vec();
    x.sort_by(f64::total_cmp);
    for (q, want) in [(0.025, 0.32), (0.5, 3.1), (0.975, 9.24)] {
        close(quantile(&x, q), want, 1e-12, &format!("q = {q}"));
    }
}

#[test]
fn the_bootstrap_is_deterministic_for_a_seed() {
    let b = Bootstrap::default();
    let first = Estimate::new(&TEN, Estimator::Iqm, None, &b);
    let again = Estimate::new(&TEN, Estimator::Iqm, None, &b);
    assert_eq!(first, again);
    assert_eq!(first.interval, Some(Interval::Bootstrap));
    let other = Estimate::new(&TEN, Estimator::Iqm, None, &Bootstrap { seed: 1, ..b });
    assert_ne!(
        (first.low, first.high),
        (other.low, other.high),
        "another seed, other resamples"
    );
    // The interval of a mean is Student's, whatever the resampler.
    let mean = Estimate::new(&TEN, Estimator::Mean, None, &b);
    let t = summarize(&TEN);
    assert_eq!(
        (mean.value, mean.low, mean.high, mean.interval),
        (t.mean, t.low, t.high, Some(Interval::T))
    );
    // One value: no interval at all.
    let one = Estimate::new(&[0.3], Estimator::Median, None, &b);
    assert_eq!((one.value, one.n, one.interval), (0.3, 1, None));
}

#[test]
fn the_bootstrap_finds_the_ideal_bootstrap_percentiles() {
    // `ideal bootstrap ... 2.5% 97.5%`: the exact bootstrap distribution, every one of the 5⁵
    // resamples enumerated (itertools.product), then numpy.percentile. Our 10,000 random
    // resamples must land within 4 standard deviations of the spread that 10,000-resample
    // estimates show around it (`10k-resample spread (sd) ...`, 2,000 repetitions in NumPy).
    let b = Bootstrap::default();
    let x = &TEN[..5];
    let one = |e: Estimator| b.interval(&[x], |s| e.of(&s[0]));
    // The median of 5 values takes 5 values only; the tails hold 5.8% each, so both ends are exact.
    assert_eq!(one(Estimator::Median), (0.2, 9.9));
    let (lo, hi) = one(Estimator::Iqm);
    assert!((lo - 0.866666666667).abs() < 4.0 * 0.0231, "iqm low {lo}");
    assert!((hi - 8.43333333333).abs() < 4.0 * 0.0730, "iqm high {hi}");
    let (lo, hi) = one(Estimator::Mean);
    assert!((lo - 1.58).abs() < 4.0 * 0.00917, "mean low {lo}");
    assert!((hi - 7.26).abs() < 4.0 * 0.0679, "mean high {hi}");
    // Two arms resampled each within itself: iqm(A) − iqm(C[..5]), ideal [0.01, 0.16].
    let (lo, hi) = pressure::stats::two_sample::bootstrap_difference(&A, &C[..5], Estimator::Iqm, &b);
    assert!((lo - 0.01).abs() < 4.0 * 0.000661, "difference low {lo}");
    assert!((hi - 0.16).abs() < 4.0 * 0.00163, "difference high {hi}");
}
