//! The statistics of a handful of seeds: what every reported number is, and how sure it is.
//! One seed's result is one draw; an arm's value is an estimator over its seeds (the mean, the
//! median, or rliable's interquartile mean) with a 95% interval whose method is named beside it:
//! Student's t for a mean, the percentile bootstrap where the t-interval does not apply
//! ([`bootstrap`]). Two arms are compared in [`two_sample`]: Welch's t-test and interval, Holm's
//! correction, the probability of improvement, Hedges' g and the smallest difference the seeds
//! could detect.

pub mod bootstrap;
pub mod two_sample;

use statrs::distribution::{ContinuousCDF, StudentsT};

pub use bootstrap::Bootstrap;

/// The confidence level of every interval.
pub const LEVEL: f64 = 0.95;

/// Mean and 95% interval at one step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    pub mean: f64,
    pub low: f64,
    pub high: f64,
    pub n: usize,
}

impl Summary {
    /// The interval cut to the range the values can take: a mean of rates lies in [0, 1]
    /// whatever the t-interval's arithmetic says.
    pub fn within(self, bounds: Option<(f64, f64)>) -> Summary {
        let (low, high) = clamp(self.low, self.high, bounds);
        Summary { low, high, ..self }
    }
}

fn clamp(low: f64, high: f64, bounds: Option<(f64, f64)>) -> (f64, f64) {
    match bounds {
        Some((lo, hi)) => (low.clamp(lo, hi), high.clamp(lo, hi)),
        None => (low, high),
    }
}

/// The finite values, in order: NaN marks a rate with no task to measure it on.
pub fn finite(values: &[f64]) -> Vec<f64> {
    values.iter().copied().filter(|x| x.is_finite()).collect()
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

/// Sample variance (n − 1 in the denominator).
fn variance(v: &[f64]) -> f64 {
    let m = mean(v);
    v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() - 1) as f64
}

/// The `p` quantile of Student's t with `df` degrees of freedom.
fn t_quantile(p: f64, df: f64) -> f64 {
    StudentsT::new(0.0, 1.0, df)
        .expect("positive degrees of freedom")
        .inverse_cdf(p)
}

/// Mean over the finite values and its 95% Student-t interval (no width when n < 2).
pub fn summarize(values: &[f64]) -> Summary {
    let v = finite(values);
    let n = v.len();
    if n == 0 {
        return Summary {
            mean: f64::NAN,
            low: f64::NAN,
            high: f64::NAN,
            n,
        };
    }
    let mean = mean(&v);
    if n < 2 {
        return Summary {
            mean,
            low: mean,
            high: mean,
            n,
        };
    }
    let half = t_quantile(0.5 + LEVEL / 2.0, (n - 1) as f64) * (variance(&v) / n as f64).sqrt();
    Summary {
        mean,
        low: mean - half,
        high: mean + half,
        n,
    }
}

/// What stands for an arm's seeds: their mean, their median, or their interquartile mean (IQM,
/// rliable's aggregate: the mean of the middle half, robust to one seed gone astray).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Estimator {
    #[default]
    Mean,
    Median,
    Iqm,
}

impl Estimator {
    pub fn name(self) -> &'static str {
        match self {
            Estimator::Mean => "mean",
            Estimator::Median => "median",
            Estimator::Iqm => "iqm",
        }
    }

    /// The estimate over finite, non-empty `values`. The IQM is SciPy's `trim_mean(v, 0.25)`,
    /// as rliable computes it: ⌊n/4⌋ values cut from each end (none below 4 values), the rest
    /// averaged. The median of an even number of values is the mean of the middle two.
    pub fn of(self, values: &[f64]) -> f64 {
        let mut v = values.to_vec();
        if self != Estimator::Mean {
            v.sort_by(f64::total_cmp);
        }
        let n = v.len();
        match self {
            Estimator::Mean => mean(&v),
            Estimator::Median if n % 2 == 1 => v[n / 2],
            Estimator::Median => (v[n / 2 - 1] + v[n / 2]) / 2.0,
            Estimator::Iqm => mean(&v[n / 4..n - n / 4]),
        }
    }

    /// How its 95% interval is found: Student's t for a mean, the bootstrap for the others.
    pub fn interval(self) -> Interval {
        match self {
            Estimator::Mean => Interval::T,
            Estimator::Median | Estimator::Iqm => Interval::Bootstrap,
        }
    }
}

/// The method of an interval, printed beside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interval {
    /// Student's t-interval of a mean.
    T,
    /// Welch's interval of a difference of means (unequal variances).
    Welch,
    /// Percentile bootstrap, seeds resampled within each arm ([`bootstrap`]).
    Bootstrap,
}

impl Interval {
    pub fn name(self) -> &'static str {
        match self {
            Interval::T => "t",
            Interval::Welch => "Welch",
            Interval::Bootstrap => "bootstrap-percentile",
        }
    }
}

/// An estimate over seeds with its 95% interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    pub estimator: Estimator,
    pub value: f64,
    pub low: f64,
    pub high: f64,
    /// The number of finite values.
    pub n: usize,
    /// How the interval was found; `None` below two values, where no interval is possible.
    pub interval: Option<Interval>,
}

impl Estimate {
    /// The estimator over the finite values, with a t-interval for the mean and a percentile
    /// bootstrap interval otherwise, cut to `bounds` (the range the metric can take).
    pub fn new(values: &[f64], estimator: Estimator, bounds: Option<(f64, f64)>, bootstrap: &Bootstrap) -> Estimate {
        let v = finite(values);
        let n = v.len();
        let (value, low, high, interval) = match (n, estimator.interval()) {
            (0, _) => (f64::NAN, f64::NAN, f64::NAN, None),
            (1, _) => (v[0], v[0], v[0], None),
            (_, Interval::T) => {
                let s = summarize(&v);
                (s.mean, s.low, s.high, Some(Interval::T))
            }
            (_, method) => {
                let (low, high) = bootstrap.interval(&[&v], |s| estimator.of(&s[0]));
                (estimator.of(&v), low, high, Some(method))
            }
        };
        let (low, high) = clamp(low, high, bounds);
        Estimate {
            estimator,
            value,
            low,
            high,
            n,
            interval,
        }
    }
}

/// The `q` quantile of sorted values, linearly interpolated between order statistics (NumPy's
/// default `percentile`, Hyndman and Fan's type 7).
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * q;
    let below = h.floor() as usize;
    match sorted.get(below + 1) {
        Some(next) => sorted[below] + (h - below as f64) * (next - sorted[below]),
        None => sorted[below],
    }
}
