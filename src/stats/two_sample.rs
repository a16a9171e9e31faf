//! Two arms' seeds side by side: is the difference real, how big is it, and how big a
//! difference could this many seeds have found? Welch's t-test for the difference of means
//! (Colas, Sigaud and Oudeyer 2018 recommend it for RL seeds: it does not assume equal
//! variances), Holm's correction when several comparisons are made at once, the probability of
//! improvement (rliable's Mann–Whitney U / (n·m)), Hedges' g, and the minimum detectable
//! difference at 80% power. Every function takes finite values; `a` is the arm, `c` the control.

use statrs::distribution::{ContinuousCDF, StudentsT};

use super::{LEVEL, mean, t_quantile, variance};

/// The level of every test: two-sided, α = 0.05 (the complement of [`LEVEL`]).
pub const ALPHA: f64 = 1.0 - LEVEL;

/// The power at which [`min_detectable`] is computed.
pub const POWER: f64 = 0.8;

/// Welch's unequal-variances t-test of mean(a) − mean(c), with its 95% interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Welch {
    pub difference: f64,
    pub t: f64,
    /// The Welch–Satterthwaite degrees of freedom.
    pub df: f64,
    /// Two-sided p-value.
    pub p: f64,
    pub low: f64,
    pub high: f64,
}

/// Welch's test; both sides need two values or more. Where neither side varies, the standard
/// error is 0: as in SciPy, unequal constants give t = ±∞ and p = 0, equal ones t = p = NaN
/// (nothing to test), and the interval is the difference itself.
pub fn welch(a: &[f64], c: &[f64]) -> Welch {
    assert!(a.len() >= 2 && c.len() >= 2, "Welch's test needs 2 values a side");
    let (n, m) = (a.len() as f64, c.len() as f64);
    let (va, vc) = (variance(a) / n, variance(c) / m);
    let difference = mean(a) - mean(c);
    let se = (va + vc).sqrt();
    if se == 0.0 {
        let (t, p) = if difference == 0.0 {
            (f64::NAN, f64::NAN)
        } else {
            (difference.signum() * f64::INFINITY, 0.0)
        };
        return Welch {
            difference,
            t,
            df: f64::NAN,
            p,
            low: difference,
            high: difference,
        };
    }
    let df = (va + vc).powi(2) / (va.powi(2) / (n - 1.0) + vc.powi(2) / (m - 1.0));
    let t = difference / se;
    let dist = StudentsT::new(0.0, 1.0, df).expect("positive degrees of freedom");
    let p = (2.0 * dist.sf(t.abs())).min(1.0);
    let half = t_quantile(0.5 + LEVEL / 2.0, df) * se;
    Welch {
        difference,
        t,
        df,
        p,
        low: difference - half,
        high: difference + half,
    }
}

/// Holm's step-down adjustment of p-values made together (controls the family-wise error at
/// the level of each test): the k-th smallest p is multiplied by (m − k + 1), kept at least as
/// large as the one before it and at most 1. A NaN p-value (no test) counts as 1 among the m and
/// stays NaN.
pub fn holm(p: &[f64]) -> Vec<f64> {
    let m = p.len();
    let as_one = |x: f64| if x.is_nan() { 1.0 } else { x };
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&i, &j| as_one(p[i]).total_cmp(&as_one(p[j])));
    let mut adjusted = vec![f64::NAN; m];
    let mut running: f64 = 0.0;
    for (k, &i) in order.iter().enumerate() {
        running = running.max(((m - k) as f64 * as_one(p[i])).min(1.0));
        if !p[i].is_nan() {
            adjusted[i] = running;
        }
    }
    adjusted
}

/// The probability that a seed of `a` scores above a seed of `c`: the Mann–Whitney U of `a`
/// over n·m, each pair counting 1 when a > c, ½ when tied. Whether above is better depends on
/// the metric.
pub fn prob_greater(a: &[f64], c: &[f64]) -> f64 {
    let u: f64 = a
        .iter()
        .flat_map(|x| {
            c.iter().map(move |y| match x.total_cmp(y) {
                std::cmp::Ordering::Greater => 1.0,
                std::cmp::Ordering::Equal => 0.5,
                std::cmp::Ordering::Less => 0.0,
            })
        })
        .sum();
    u / (a.len() * c.len()) as f64
}

/// The pooled standard deviation, √(((n − 1)·var(a) + (m − 1)·var(c)) / (n + m − 2)).
pub fn pooled_sd(a: &[f64], c: &[f64]) -> f64 {
    let (n, m) = (a.len() as f64, c.len() as f64);
    (((n - 1.0) * variance(a) + (m - 1.0) * variance(c)) / (n + m - 2.0)).sqrt()
}

/// Hedges' g: Cohen's d (difference of means over the pooled SD) times the small-sample
/// correction 1 − 3 / (4(n + m) − 9). Infinite or NaN when neither side varies.
pub fn hedges_g(a: &[f64], c: &[f64]) -> f64 {
    let d = (mean(a) - mean(c)) / pooled_sd(a, c);
    d * (1.0 - 3.0 / (4.0 * (a.len() + c.len()) as f64 - 9.0))
}

/// The smallest true difference of means that a two-sided test at α = 0.05 finds with 80% power
/// with n and m seeds, for a standard deviation `sd`: (t₀.₉₇₅ + t₀.₈₀) · sd · √(1/n + 1/m) with
/// n + m − 2 degrees of freedom. This t approximation is within 0.2% of the exact noncentral-t
/// answer at 5 seeds a side, 1.2% below it at 3.
pub fn min_detectable(n: usize, m: usize, sd: f64) -> f64 {
    let df = (n + m - 2) as f64;
    (t_quantile(1.0 - ALPHA / 2.0, df) + t_quantile(POWER, df)) * sd * (1.0 / n as f64 + 1.0 / m as f64).sqrt()
}

/// The bootstrap interval of estimator(a) − estimator(c), each side resampled within itself.
pub fn bootstrap_difference(
    a: &[f64],
    c: &[f64],
    estimator: super::Estimator,
    bootstrap: &super::Bootstrap,
) -> (f64, f64) {
    bootstrap.interval(&[a, c], |s| estimator.of(&s[0]) - estimator.of(&s[1]))
}
