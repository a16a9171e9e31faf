//! Figures of a refined two-axis sweep: where its outcome flips. Points are no longer a product
//! grid, so each place shows its nearest point (distances in shares of each axis's range: the
//! cell of a point reaches halfway to its neighbours), refined points are marked, and the
//! threshold's crossing is interpolated linearly between neighbouring points and drawn dashed.
//! The same at several steps of the same runs (no extra training) shows whether the edge moves
//! as pressure goes on; the crossing's position against step says by how much.
//!
//! This file holds the geometry (points, their cells, the crossings, the steps shown);
//! `heatmap.rs` and `position.rs` draw the two figures.

mod heatmap;
mod position;
mod surface;

pub use heatmap::RefinedHeatmap;
pub use position::EdgePosition;

use crate::metric::{MetricRef, Scope};
use crate::results::{RunData, final_value};
use crate::stats::summarize;

/// One measured point of one arm: where, each seed's value (by seed id), and whether a round of
/// refinement added it.
#[derive(Debug, Clone)]
pub struct Point {
    pub x: f64,
    pub y: f64,
    pub seeds: Vec<(u64, f64)>,
    pub refined: bool,
}

impl Point {
    pub fn mean(&self) -> f64 {
        summarize(&self.seeds.iter().map(|s| s.1).collect::<Vec<_>>()).mean
    }
}

/// The points of arm `arm` for `scope:metric` at `step` (`None`: the final value).
pub fn points(data: &RunData, arm: &str, scope: &str, metric: &str, step: Option<usize>) -> Vec<Point> {
    let refined: &[Vec<String>] = data.experiment.refine.as_ref().map_or(&[], |r| &r.points);
    let mut out = Vec::new();
    for (i, g) in data.groups.iter().enumerate().filter(|(_, g)| g.arm == arm) {
        let (Some(x), Some(y)) = (
            g.sweep.first().and_then(|v| v.parse::<f64>().ok()),
            g.sweep.get(1).and_then(|v| v.parse::<f64>().ok()),
        ) else {
            continue;
        };
        let window = g.config.eval.final_window;
        let seeds = data
            .series(&data.labels[i], scope, metric)
            .map(|s| {
                s.seed_ids
                    .iter()
                    .zip(&s.seeds)
                    .map(|(id, trace)| {
                        (
                            *id,
                            final_value(&s.steps, trace, window, step.unwrap_or(usize::MAX), true),
                        )
                    })
                    .filter(|(_, v)| v.is_finite())
                    .collect()
            })
            .unwrap_or_default();
        out.push(Point {
            x,
            y,
            seeds,
            refined: refined.contains(&g.sweep),
        });
    }
    out
}

/// Where values cross `threshold` between neighbouring points, by linear interpolation: along
/// y in each column (`along_y`, one crossing per column: the lowest), along x in each row.
/// Each crossing is (the line's coordinate, the interpolated position).
pub fn crossings(points: &[(f64, f64, f64)], threshold: f64, along_y: bool) -> Vec<(f64, f64)> {
    let line = |p: &(f64, f64, f64)| if along_y { p.0 } else { p.1 };
    let pos = |p: &(f64, f64, f64)| if along_y { p.1 } else { p.0 };
    let mut lines: Vec<f64> = points.iter().map(line).collect();
    lines.sort_by(f64::total_cmp);
    lines.dedup();
    let mut out = Vec::new();
    for l in lines {
        let mut on: Vec<(f64, f64)> = points
            .iter()
            .filter(|p| line(p) == l && p.2.is_finite())
            .map(|p| (pos(p), p.2))
            .collect();
        on.sort_by(|a, b| a.0.total_cmp(&b.0));
        if let Some(w) = on.windows(2).find(|w| (w[0].1 >= threshold) != (w[1].1 >= threshold)) {
            let ((a, va), (b, vb)) = (w[0], w[1]);
            out.push((l, a + (threshold - va) / (vb - va) * (b - a)));
        }
    }
    out
}

/// The metric of a refined heatmap, its threshold, and its scope and name.
fn threshold_of(data: &RunData) -> Option<f64> {
    data.experiment.refine.as_ref().and_then(|r| r.threshold)
}

fn scope_metric(metric: &str) -> (String, String) {
    MetricRef::parse(metric, Some(Scope::Trained.name()))
        .map(|r| (r.scope, r.metric))
        .unwrap_or_else(|_| (Scope::Trained.name().to_string(), metric.to_string()))
}

/// The steps after 0 at which `metric` (`scope:metric`) was recorded.
fn trained_steps(data: &RunData, metric: &str) -> Vec<usize> {
    let (scope, metric) = scope_metric(metric);
    data.labels
        .first()
        .and_then(|l| data.series(l, &scope, &metric))
        .map(|s| s.steps.iter().copied().filter(|&s| s > 0).collect())
        .unwrap_or_default()
}

/// About a tenth, a quarter, half and all of the recorded steps, each snapped to a recorded step.
pub fn snapshot_steps(data: &RunData, metric: &str) -> Vec<usize> {
    let steps = trained_steps(data, metric);
    let Some(&last) = steps.last() else { return Vec::new() };
    let mut out: Vec<usize> = Vec::new();
    for share in [0.1, 0.25, 0.5, 1.0] {
        let target = last as f64 * share;
        let nearest = *steps
            .iter()
            .min_by(|a, b| (**a as f64 - target).abs().total_cmp(&(**b as f64 - target).abs()))
            .expect("steps");
        if !out.contains(&nearest) {
            out.push(nearest);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_crossing_is_interpolated_between_neighbours() {
        let values = [(0.0, 0.0, 0.0), (0.0, 1.0, 1.0), (1.0, 0.0, 0.0), (1.0, 1.0, 0.2)];
        assert_eq!(crossings(&values, 0.5, true), vec![(0.0, 0.5)]);
        assert_eq!(crossings(&values, 0.5, false), vec![(1.0, 0.625)]);
    }
}
