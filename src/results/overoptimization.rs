//! Overoptimization (Gao, Schulman and Hilton 2022; docs/model.md §7): the raters' utility and
//! the proxy reward against d = √KL to the reference policy, over training steps and over the n
//! of best-of-n, with the least-squares fits of the functional forms Gao et al. found:
//! R(d) = d(α − β log d) for RL and R(d) = d(α − β d) for best-of-n, R being the gain over the
//! reference policy (step 0, or n = 1). The raters' fitted utility peaks at d = e^(α/β − 1) (RL)
//! and d = α / (2β) (best-of-n) when β > 0.
//!
//! The fits live here; `plot::overoptimization` draws them.

use serde::Serialize;

use crate::metric::{BEST_OF_N, KL, REWARD_PROXY, REWARD_RATERS, Scope, best_of_n_name, parse_best_of_n};
use crate::results::RunData;

/// A functional form of the reward gain against d = √KL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Form {
    /// d(α − β log d): RL over training steps.
    Rl,
    /// d(α − β d): best-of-n over n.
    BestOfN,
}

impl Form {
    /// The basis of the least-squares problem R(d) = α·x₁(d) + β·x₂(d).
    fn basis(self, d: f64) -> (f64, f64) {
        match self {
            Form::Rl if d > 0.0 => (d, -d * d.ln()),
            Form::Rl => (0.0, 0.0),
            Form::BestOfN => (d, -d * d),
        }
    }

    pub fn value(self, fit: &Fit, d: f64) -> f64 {
        let (x1, x2) = self.basis(d);
        fit.alpha * x1 + fit.beta * x2
    }

    /// The d at which the fitted curve peaks, if it rises and then falls (β > 0).
    fn peak(self, alpha: f64, beta: f64) -> Option<f64> {
        (beta > 0.0).then(|| match self {
            Form::Rl => (alpha / beta - 1.0).exp(),
            Form::BestOfN => alpha / (2.0 * beta),
        })
    }
}

/// α and β of a fit, the d of its peak, and how many points it was fit on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fit {
    pub alpha: f64,
    pub beta: f64,
    /// Where the fitted curve peaks (`None`: it never turns down).
    pub peak_d: Option<f64>,
    pub points: usize,
}

/// The least-squares fit of `form` to points `(d, gain)`; `None` with fewer than two points
/// away from d = 0 or a degenerate design.
pub fn fit(form: Form, points: &[(f64, f64)]) -> Option<Fit> {
    let (mut s11, mut s12, mut s22, mut s1y, mut s2y) = (0.0, 0.0, 0.0, 0.0, 0.0);
    let mut used = 0;
    for &(d, y) in points {
        if !(d.is_finite() && y.is_finite()) || d <= 0.0 {
            continue;
        }
        let (x1, x2) = form.basis(d);
        s11 += x1 * x1;
        s12 += x1 * x2;
        s22 += x2 * x2;
        s1y += x1 * y;
        s2y += x2 * y;
        used += 1;
    }
    let det = s11 * s22 - s12 * s12;
    if used < 2 || det.abs() <= 1e-12 * (s11 * s22).max(f64::MIN_POSITIVE) {
        return None;
    }
    let alpha = (s1y * s22 - s2y * s12) / det;
    let beta = (s11 * s2y - s12 * s1y) / det;
    Some(Fit {
        alpha,
        beta,
        peak_d: form.peak(alpha, beta),
        points: points.len(),
    })
}

/// One curve of a group: every seed's points `(d, gain)`, the mean point of each step or n, and
/// the fit on all seeds' points.
#[derive(Debug, Clone, Serialize)]
pub struct Curve {
    pub form: Form,
    /// `reward_raters` or `reward_proxy`.
    pub metric: &'static str,
    #[serde(skip)]
    pub seeds: Vec<(f64, f64)>,
    /// The mean over seeds at each step (or n): (d, gain).
    pub means: Vec<(f64, f64)>,
    pub fit: Option<Fit>,
}

impl Curve {
    /// The mean point with the largest gain.
    pub fn best(&self) -> Option<(f64, f64)> {
        self.means.iter().copied().max_by(|a, b| a.1.total_cmp(&b.1))
    }
}

/// The curves of one group (arm, or sweep point).
#[derive(Debug, Clone, Serialize)]
pub struct GroupCurves {
    pub group: String,
    pub curves: Vec<Curve>,
}

/// Points (d, gain): d = √KL, the gain in reward since the seed's first value.
type Points = Vec<(f64, f64)>;

/// Points (d, gain) per seed and their per-step means, from parallel per-seed series of KL and
/// reward, each gain taken against the seed's first value.
fn points(kl: &[Vec<f64>], reward: &[Vec<f64>]) -> (Points, Points) {
    let mut all = Vec::new();
    let steps = kl.iter().map(Vec::len).min().unwrap_or(0);
    let mut sums = vec![(0.0, 0.0, 0usize); steps];
    for (k, r) in kl.iter().zip(reward) {
        let Some(&r0) = r.first() else { continue };
        for (i, (&kl, &r)) in k.iter().zip(r).enumerate().take(steps) {
            let (d, gain) = (kl.max(0.0).sqrt(), r - r0);
            if d.is_finite() && gain.is_finite() {
                all.push((d, gain));
                sums[i] = (sums[i].0 + d, sums[i].1 + gain, sums[i].2 + 1);
            }
        }
    }
    let means = sums
        .into_iter()
        .filter(|s| s.2 > 0)
        .map(|(d, g, n)| (d / n as f64, g / n as f64))
        .collect();
    (all, means)
}

/// The n of best-of-n a group recorded, in increasing order.
fn best_of_n_values(data: &RunData, group: &str) -> Vec<usize> {
    let mut ns: Vec<usize> = data
        .metric_names(group, BEST_OF_N)
        .into_iter()
        .filter_map(|m| parse_best_of_n(&m).filter(|(metric, _)| *metric == KL).map(|(_, n)| n))
        .collect();
    ns.sort_unstable();
    ns.dedup();
    ns
}

/// Every group's curves: over training steps (`trained` scope), and over best-of-n's n when the
/// group recorded it. Groups without a learned reward have none.
pub fn curves(data: &RunData) -> Vec<GroupCurves> {
    let trained = Scope::Trained.name();
    let mut out = Vec::new();
    for group in &data.labels {
        let mut curves = Vec::new();
        if let Some(kl) = data.series(group, trained, KL) {
            for metric in [REWARD_RATERS, REWARD_PROXY] {
                if let Some(reward) = data.series(group, trained, metric) {
                    let (seeds, means) = points(&kl.seeds, &reward.seeds);
                    let fit = fit(Form::Rl, &seeds);
                    curves.push(Curve {
                        form: Form::Rl,
                        metric,
                        seeds,
                        means,
                        fit,
                    });
                }
            }
        }
        let ns = best_of_n_values(data, group);
        if ns.len() > 1 {
            // Per seed, a series over n (in increasing order) of KL and of each reward.
            let over_n = |metric: &str| -> Option<Vec<Vec<f64>>> {
                let per_n: Vec<&Vec<Vec<f64>>> = ns
                    .iter()
                    .map(|&n| {
                        data.series(group, BEST_OF_N, &best_of_n_name(metric, n))
                            .map(|s| &s.seeds)
                    })
                    .collect::<Option<_>>()?;
                let seeds = per_n[0].len();
                Some(
                    (0..seeds)
                        .map(|s| {
                            per_n
                                .iter()
                                .map(|v| v[s].first().copied().unwrap_or(f64::NAN))
                                .collect()
                        })
                        .collect(),
                )
            };
            if let Some(kl) = over_n(KL) {
                for metric in [REWARD_RATERS, REWARD_PROXY] {
                    if let Some(reward) = over_n(metric) {
                        let (seeds, means) = points(&kl, &reward);
                        let fit = fit(Form::BestOfN, &seeds);
                        curves.push(Curve {
                            form: Form::BestOfN,
                            metric,
                            seeds,
                            means,
                            fit,
                        });
                    }
                }
            }
        }
        if !curves.is_empty() {
            out.push(GroupCurves {
                group: group.clone(),
                curves,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Points generated from known α, β (with a small deterministic wiggle) give them back.
    #[test]
    fn the_fits_recover_known_coefficients() {
        for (form, alpha, beta) in [(Form::Rl, 0.8, 0.5), (Form::BestOfN, 1.2, 0.3), (Form::Rl, 0.4, -0.1)] {
            let truth = Fit {
                alpha,
                beta,
                peak_d: None,
                points: 0,
            };
            let points: Vec<(f64, f64)> = (1..=40)
                .map(|i| {
                    let d = 0.1 * i as f64;
                    let wiggle = 1e-3 * ((i * 7919) % 13) as f64 / 13.0 - 5e-4;
                    (d, form.value(&truth, d) + wiggle)
                })
                .collect();
            let f = fit(form, &points).expect("a well-posed fit");
            assert!((f.alpha - alpha).abs() < 2e-3, "{form:?}: α {} vs {alpha}", f.alpha);
            assert!((f.beta - beta).abs() < 2e-3, "{form:?}: β {} vs {beta}", f.beta);
        }
        // Exact points give the peaks in closed form.
        let exact = |form: Form, a: f64, b: f64| {
            let t = Fit {
                alpha: a,
                beta: b,
                peak_d: None,
                points: 0,
            };
            let pts: Vec<(f64, f64)> = (1..=10)
                .map(|i| (0.3 * i as f64, form.value(&t, 0.3 * i as f64)))
                .collect();
            fit(form, &pts).unwrap()
        };
        let rl = exact(Form::Rl, 0.8, 0.5);
        assert!((rl.peak_d.unwrap() - (0.8f64 / 0.5 - 1.0).exp()).abs() < 1e-9);
        let bon = exact(Form::BestOfN, 1.2, 0.3);
        assert!((bon.peak_d.unwrap() - 2.0).abs() < 1e-9);
        assert_eq!(
            exact(Form::Rl, 0.4, -0.1).peak_d,
            None,
            "a curve that never turns has no peak"
        );
    }

    #[test]
    fn too_few_points_give_no_fit() {
        assert!(fit(Form::Rl, &[(0.0, 0.0), (1.0, 0.5)]).is_none());
        assert!(fit(Form::BestOfN, &[]).is_none());
    }

    #[test]
    fn gains_are_taken_against_each_seeds_first_value() {
        let kl = vec![vec![0.0, 1.0, 4.0], vec![0.0, 4.0, 9.0]];
        let reward = vec![vec![1.0, 2.0, 2.5], vec![3.0, 3.5, 3.0]];
        let (all, means) = points(&kl, &reward);
        assert_eq!(all[1], (1.0, 1.0));
        assert_eq!(all[5], (3.0, 0.0));
        assert_eq!(means, vec![(0.0, 0.0), (1.5, 0.75), (2.5, 0.75)]);
    }
}
