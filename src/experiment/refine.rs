//! Adaptive refinement of a sweep: where a phase diagram's outcome flips between two grid points,
//! add the point between them, run it like any other, and look again. This file holds the rule
//! (a pure function of the points measured so far) and the `[sweep.refine]` settings; the rounds
//! that run the points are in `rounds.rs`.
//!
//! Two points are *neighbours along an axis* when their other coordinates are equal and no
//! measured point with those coordinates lies between them. A round proposes the midpoint of
//! every pair of neighbours whose values straddle the threshold (or, with `largest_change`, of
//! every pair whose values differ), ranks them, and keeps as many as the round may add. With
//! several arms, each arm's surface proposes its pairs and the union is ranked (a point is run
//! for every arm).

use serde::{Deserialize, Serialize};
use toml::Value;

use crate::metric::{MetricRef, Scope};

/// Decimals a new point's coordinates are rounded to, so that the written file and the run ids
/// are stable; a pair closer than this is not split again.
pub const DECIMALS: i32 = 6;

/// Which pairs of neighbours a round splits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Rule {
    /// Pairs whose values lie on either side of the threshold (one `<`, the other `≥`); the
    /// widest gaps first.
    Threshold(f64),
    /// Pairs whose values differ; the largest differences first.
    LargestChange,
}

/// One measured sweep point: its coordinates and the metric's value for each arm (NaN where an
/// arm has none).
#[derive(Debug, Clone, PartialEq)]
pub struct Measured {
    pub point: Vec<f64>,
    pub values: Vec<f64>,
}

/// A proposed point and why.
#[derive(Debug, Clone, PartialEq)]
struct Candidate {
    point: Vec<f64>,
    /// The gap it splits, as a share of its axis's range.
    gap: f64,
    /// The largest difference of the pair's values over arms.
    change: f64,
}

/// Rounds a coordinate to [`DECIMALS`].
pub fn round(x: f64) -> f64 {
    let scale = 10f64.powi(DECIMALS);
    (x * scale).round() / scale
}

/// The points a round adds, best first, at most `cap`: midpoints of neighbouring pairs that the
/// rule selects, never a point already measured. `integer[a]` rounds axis `a`'s midpoints to
/// whole numbers. The same input gives the same points in the same order.
pub fn next_points(measured: &[Measured], integer: &[bool], rule: Rule, cap: usize) -> Vec<Vec<f64>> {
    let dims = measured.first().map_or(0, |m| m.point.len());
    let mut candidates: Vec<Candidate> = Vec::new();
    for axis in 0..dims {
        let (lo, hi) = measured
            .iter()
            .map(|m| m.point[axis])
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), x| (l.min(x), h.max(x)));
        let range = (hi - lo).max(f64::MIN_POSITIVE);
        // Lines along the axis: the points that share every other coordinate, in axis order.
        let mut order: Vec<&Measured> = measured.iter().collect();
        let other = |m: &Measured| -> Vec<f64> {
            m.point
                .iter()
                .enumerate()
                .filter(|(a, _)| *a != axis)
                .map(|(_, x)| *x)
                .collect()
        };
        order.sort_by(|a, b| {
            other(a)
                .partial_cmp(&other(b))
                .expect("finite coordinates")
                .then(a.point[axis].total_cmp(&b.point[axis]))
        });
        for pair in order.windows(2) {
            let (p, q) = (pair[0], pair[1]);
            if other(p) != other(q) || p.point[axis] == q.point[axis] {
                continue;
            }
            let selected = p
                .values
                .iter()
                .zip(&q.values)
                .filter(|(a, b)| a.is_finite() && b.is_finite());
            let change = selected
                .clone()
                .filter(|(a, b)| match rule {
                    Rule::Threshold(t) => (**a >= t) != (**b >= t),
                    Rule::LargestChange => a != b,
                })
                .map(|(a, b)| (a - b).abs())
                .fold(f64::NAN, f64::max);
            if change.is_nan() {
                continue;
            }
            let mid = (p.point[axis] + q.point[axis]) / 2.0;
            let mid = if integer[axis] { mid.floor() } else { round(mid) };
            if mid <= p.point[axis] || mid >= q.point[axis] {
                continue; // the pair is as close as the rounding allows
            }
            let mut point = p.point.clone();
            point[axis] = mid;
            candidates.push(Candidate {
                point,
                gap: (q.point[axis] - p.point[axis]) / range,
                change,
            });
        }
    }
    let coords = |a: &Candidate, b: &Candidate| a.point.partial_cmp(&b.point).expect("finite coordinates");
    candidates.sort_by(|a, b| {
        match rule {
            Rule::Threshold(_) => b.gap.total_cmp(&a.gap).then(b.change.total_cmp(&a.change)),
            Rule::LargestChange => b.change.total_cmp(&a.change).then(b.gap.total_cmp(&a.gap)),
        }
        .then(coords(a, b))
    });
    let mut out: Vec<Vec<f64>> = Vec::new();
    for c in candidates {
        if out.len() == cap {
            break;
        }
        if !out.contains(&c.point) && !measured.iter().any(|m| m.point == c.point) {
            out.push(c.point);
        }
    }
    out
}

/// The points a round may add: the budget left, spread evenly over the rounds left.
pub fn round_cap(budget_left: usize, rounds_left: usize) -> usize {
    budget_left.div_ceil(rounds_left.max(1))
}

/// `[sweep.refine]` as written. The `///` lines are the experiment file's documentation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefineFile {
    /// The metric whose edge is sought: `metric` (scope `trained`) or `scope:metric`. Default: `"hidden_objection"`.
    #[serde(default = "default_metric")]
    pub metric: String,
    /// A value in the metric's range: split neighbours on either side of it; or `"largest_change"`: split the neighbours that differ most. Default: `0.5`.
    #[serde(default = "default_threshold")]
    pub threshold: Value,
    /// Extra sweep points over all rounds (≥ 1). Default: `16`.
    #[serde(default = "default_budget")]
    pub budget: usize,
    /// Rounds (≥ 1); each may add the budget left divided by the rounds left. Default: `2`.
    #[serde(default = "default_rounds")]
    pub rounds: usize,
    /// The points the rounds added, in order: written by `pressure run` into the run folder's `config.toml` and recomputed by every run. Default: none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub points: Vec<Vec<Value>>,
}

fn default_metric() -> String {
    crate::metric::HIDDEN_OBJECTION.to_string()
}
fn default_threshold() -> Value {
    Value::Float(0.5)
}
fn default_budget() -> usize {
    16
}
fn default_rounds() -> usize {
    2
}

impl Default for RefineFile {
    fn default() -> RefineFile {
        RefineFile {
            metric: default_metric(),
            threshold: default_threshold(),
            budget: default_budget(),
            rounds: default_rounds(),
            points: Vec::new(),
        }
    }
}

/// Checked refinement settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Refine {
    pub metric: MetricRef,
    pub rule: Rule,
    pub budget: usize,
    pub rounds: usize,
    /// As written, for the resolved file.
    pub file: RefineFile,
}

/// The most extra sweep points refinement may add: each is a point of every arm × seed, so this
/// already multiplies a run list by hundreds (the budget estimate covers the rest).
pub const MAX_BUDGET: usize = 1_000;

/// The most refinement rounds: each waits for the one before it.
pub const MAX_ROUNDS: usize = 100;

/// The word that asks for the largest-change rule.
pub const LARGEST_CHANGE: &str = "largest_change";

impl Refine {
    /// Checks `[sweep.refine]` against a sweep of `axes` axes; errors name the key and what it
    /// may be (the caller adds the file).
    pub fn check(file: RefineFile, axes: usize) -> Result<Refine, String> {
        if !(1..=2).contains(&axes) {
            return Err(format!(
                "[sweep.refine]: refines a sweep over one or two settings; this one sweeps {axes}"
            ));
        }
        let metric = MetricRef::parse(&file.metric, Some(Scope::Trained.name()))
            .map_err(|e| format!("[sweep.refine]: key `metric`: {e}"))?;
        let rule = match &file.threshold {
            Value::String(s) if s == LARGEST_CHANGE => Rule::LargestChange,
            v @ (Value::Float(_) | Value::Integer(_)) => {
                let t = v.as_float().or(v.as_integer().map(|i| i as f64)).expect("a number");
                if let Some((lo, hi)) = crate::metric::bounds_in(&metric.scope, &metric.metric)
                    && !(lo < t && t < hi)
                {
                    return Err(format!(
                        "[sweep.refine]: key `threshold` = {v}: must lie inside the range of {} ({lo}, {hi}), or be \"{LARGEST_CHANGE}\"",
                        metric.metric
                    ));
                }
                if !t.is_finite() {
                    return Err(format!(
                        "[sweep.refine]: key `threshold` = {v}: must be a finite number"
                    ));
                }
                Rule::Threshold(t)
            }
            v => {
                return Err(format!(
                    "[sweep.refine]: key `threshold` = {v}: must be a number in the metric's range or \"{LARGEST_CHANGE}\""
                ));
            }
        };
        for (key, n, max) in [("budget", file.budget, MAX_BUDGET), ("rounds", file.rounds, MAX_ROUNDS)] {
            if !(1..=max).contains(&n) {
                return Err(format!(
                    "[sweep.refine]: key `{key}` = {n}: must be an integer in 1..={max}"
                ));
            }
        }
        if file.rounds > file.budget {
            return Err(format!(
                "[sweep.refine]: key `rounds` = {}: must be at most `budget` = {} (a round adds at least one point)",
                file.rounds, file.budget
            ));
        }
        if let Some(p) = file.points.iter().find(|p| p.len() != axes) {
            return Err(format!(
                "[sweep.refine]: key `points`: the point {} has {} values; the sweep has {axes} axes",
                Value::Array(p.to_vec()),
                p.len()
            ));
        }
        Ok(Refine {
            metric,
            rule,
            budget: file.budget,
            rounds: file.rounds,
            file,
        })
    }

    /// The threshold, with the threshold rule.
    pub fn threshold(&self) -> Option<f64> {
        match self.rule {
            Rule::Threshold(t) => Some(t),
            Rule::LargestChange => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A surface with a known edge: 1 above the line y = 0.3 + 0.4 x, 0 below.
    fn edge(p: &[f64]) -> f64 {
        if p[1] >= 0.3 + 0.4 * p[0] { 1.0 } else { 0.0 }
    }

    fn distance_to_edge(p: &[f64]) -> f64 {
        (p[1] - 0.3 - 0.4 * p[0]).abs() / (1.0f64 + 0.16).sqrt()
    }

    fn grid(n: usize) -> Vec<Measured> {
        let mut out = Vec::new();
        for i in 0..n {
            for j in 0..n {
                let point = vec![i as f64 / (n - 1) as f64, j as f64 / (n - 1) as f64];
                out.push(Measured {
                    values: vec![edge(&point)],
                    point,
                });
            }
        }
        out
    }

    #[test]
    fn the_points_added_converge_on_a_known_edge() {
        let mut measured = grid(5);
        let mut worst = Vec::new();
        for _ in 0..6 {
            let new = next_points(&measured, &[false, false], Rule::Threshold(0.5), 1000);
            assert!(!new.is_empty());
            worst.push(new.iter().map(|p| distance_to_edge(p)).fold(0.0, f64::max));
            measured.extend(new.into_iter().map(|point| Measured {
                values: vec![edge(&point)],
                point,
            }));
        }
        // Each round halves the gaps it splits: the new points lie ever closer to the edge.
        for (round, w) in worst.iter().enumerate() {
            assert!(*w <= 0.25 / 2f64.powi(round as i32) + 1e-9, "round {round}: {worst:?}");
        }
        assert!(worst[5] < 0.01, "{worst:?}");
    }

    #[test]
    fn the_cap_keeps_the_widest_gaps_and_the_order_is_stable() {
        let measured = grid(5);
        let all = next_points(&measured, &[false, false], Rule::Threshold(0.5), 1000);
        let three = next_points(&measured, &[false, false], Rule::Threshold(0.5), 3);
        assert_eq!(three, all[..3]);
        // The same input in another order gives the same points.
        let mut shuffled = measured.clone();
        shuffled.reverse();
        assert_eq!(next_points(&shuffled, &[false, false], Rule::Threshold(0.5), 1000), all);
        assert!(next_points(&measured, &[false, false], Rule::Threshold(0.5), 0).is_empty());
    }

    #[test]
    fn largest_change_splits_the_steepest_pairs_first() {
        let measured: Vec<Measured> = [0.0, 0.25, 0.5, 0.75, 1.0]
            .iter()
            .map(|&x: &f64| Measured {
                point: vec![x],
                values: vec![x * x * x],
            })
            .collect();
        let new = next_points(&measured, &[false], Rule::LargestChange, 2);
        assert_eq!(new, vec![vec![0.875], vec![0.625]]);
    }

    #[test]
    fn several_arms_propose_the_union_and_nan_proposes_nothing() {
        let measured = vec![
            Measured {
                point: vec![0.0],
                values: vec![0.0, 0.0],
            },
            Measured {
                point: vec![1.0],
                values: vec![0.0, 1.0],
            },
            Measured {
                point: vec![2.0],
                values: vec![1.0, f64::NAN],
            },
        ];
        let new = next_points(&measured, &[false], Rule::Threshold(0.5), 10);
        assert_eq!(new, vec![vec![0.5], vec![1.5]]);
        // Integer axes stay whole, and a pair one apart is not split.
        assert_eq!(
            next_points(&measured, &[true], Rule::Threshold(0.5), 10),
            Vec::<Vec<f64>>::new()
        );
    }

    #[test]
    fn bad_settings_name_the_key() {
        let cases: &[(RefineFile, usize, &str)] = &[
            (RefineFile::default(), 0, "sweeps 0"),
            (RefineFile::default(), 3, "sweeps 3"),
            (
                RefineFile {
                    metric: "hidden_objections".into(),
                    ..RefineFile::default()
                },
                2,
                "key `metric`",
            ),
            (
                RefineFile {
                    threshold: Value::Float(1.5),
                    ..RefineFile::default()
                },
                2,
                "key `threshold` = 1.5: must lie inside the range",
            ),
            (
                RefineFile {
                    threshold: Value::String("steepest".into()),
                    ..RefineFile::default()
                },
                2,
                "largest_change",
            ),
            (
                RefineFile {
                    budget: 0,
                    ..RefineFile::default()
                },
                2,
                "key `budget` = 0",
            ),
            (
                RefineFile {
                    rounds: 0,
                    ..RefineFile::default()
                },
                1,
                "key `rounds` = 0",
            ),
            (
                RefineFile {
                    budget: 1_000_000_000,
                    rounds: 1_000_000_000,
                    ..RefineFile::default()
                },
                1,
                "key `budget` = 1000000000: must be an integer in 1..=1000",
            ),
            (
                RefineFile {
                    budget: 4,
                    rounds: 5,
                    ..RefineFile::default()
                },
                1,
                "key `rounds` = 5: must be at most `budget` = 4",
            ),
        ];
        for (file, axes, needle) in cases {
            let e = Refine::check(file.clone(), *axes).unwrap_err();
            assert!(e.contains(needle), "`{e}` lacks `{needle}`");
            assert!(!e.contains('\n'));
        }
        assert_eq!(round_cap(10, 3), 4);
        assert_eq!(round_cap(1, 2), 1);
    }
}
