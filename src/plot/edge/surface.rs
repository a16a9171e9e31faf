//! The refined heatmap's surface: the points run, triangulated (Delaunay, by Bowyer and Watson's
//! insertion) in axes scaled to their ranges, and every place inside coloured by linear
//! interpolation over its triangle's corners. Between the points it says only what a straight
//! line between neighbours says; outside their hull it says nothing.
//!
//! The axes' ticks are the grid's values. An axis whose positive values span more than a factor of 20 (a contradiction rate refined
//! down to 0.006 beside 0.75) is drawn on a square-root scale, so the points near 0 get room.

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};

use super::Point;

/// How an axis maps its values to the drawing: linear, or the square root.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scale {
    pub sqrt: bool,
}

impl Scale {
    /// The scale for an axis with these values: square root when they are all at least 0 and
    /// the positive ones span more than a factor of 20.
    pub fn for_values(values: impl IntoIterator<Item = f64>) -> Scale {
        let values: Vec<f64> = values.into_iter().collect();
        let positive = values.iter().copied().filter(|&v| v > 0.0);
        let (lo, hi) = positive.fold((f64::INFINITY, 0.0f64), |(l, h), v| (l.min(v), h.max(v)));
        Scale {
            sqrt: values.iter().all(|&v| v >= 0.0) && lo.is_finite() && hi / lo > 20.0,
        }
    }

    pub fn to(self, v: f64) -> f64 {
        if self.sqrt { v.max(0.0).sqrt() } else { v }
    }

    pub fn from(self, t: f64) -> f64 {
        if self.sqrt { t * t } else { t }
    }
}

/// A triangle by the indices of its corners.
type Triangle = [usize; 3];

/// The Delaunay triangulation of `points` (distinct, in any order); the same points in the same
/// order give the same triangles.
pub fn triangulate(points: &[(f64, f64)]) -> Vec<Triangle> {
    if points.len() < 3 {
        return Vec::new();
    }
    let (mut x0, mut x1, mut y0, mut y1) = (f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY, f64::NEG_INFINITY);
    for &(x, y) in points {
        (x0, x1, y0, y1) = (x0.min(x), x1.max(x), y0.min(y), y1.max(y));
    }
    let span = (x1 - x0).max(y1 - y0).max(1e-12);
    let (cx, cy) = ((x0 + x1) / 2.0, (y0 + y1) / 2.0);
    // A super-triangle around everything, its corners after the points.
    let mut all = points.to_vec();
    let n = all.len();
    all.extend([
        (cx - 20.0 * span, cy - 10.0 * span),
        (cx + 20.0 * span, cy - 10.0 * span),
        (cx, cy + 20.0 * span),
    ]);
    let mut triangles: Vec<Triangle> = vec![[n, n + 1, n + 2]];
    for p in 0..n {
        let (bad, good): (Vec<Triangle>, Vec<Triangle>) =
            triangles.into_iter().partition(|t| in_circumcircle(&all, *t, all[p]));
        // The hole's boundary: edges of exactly one bad triangle.
        let mut edges: Vec<(usize, usize)> = Vec::new();
        for t in &bad {
            for (a, b) in [(t[0], t[1]), (t[1], t[2]), (t[2], t[0])] {
                let shared = bad.iter().filter(|u| *u != t).any(|u| u.contains(&a) && u.contains(&b));
                if !shared {
                    edges.push((a, b));
                }
            }
        }
        triangles = good;
        triangles.extend(edges.into_iter().map(|(a, b)| [a, b, p]));
    }
    triangles.retain(|t| t.iter().all(|&i| i < n));
    triangles
}

/// Whether `p` lies strictly inside the circle through the triangle's corners.
fn in_circumcircle(all: &[(f64, f64)], t: Triangle, p: (f64, f64)) -> bool {
    let [a, b, c] = t.map(|i| (all[i].0 - p.0, all[i].1 - p.1));
    let det = (a.0 * a.0 + a.1 * a.1) * (b.0 * c.1 - c.0 * b.1) - (b.0 * b.0 + b.1 * b.1) * (a.0 * c.1 - c.0 * a.1)
        + (c.0 * c.0 + c.1 * c.1) * (a.0 * b.1 - b.0 * a.1);
    // The sign depends on the corners' orientation.
    let orientation = (all[t[1]].0 - all[t[0]].0) * (all[t[2]].1 - all[t[0]].1)
        - (all[t[2]].0 - all[t[0]].0) * (all[t[1]].1 - all[t[0]].1);
    det * orientation.signum() > 1e-12
}

/// The value at `p` interpolated linearly over the triangle that holds it (corners' values
/// `values`), or `None` outside every triangle or where a corner has no value.
pub fn interpolate(points: &[(f64, f64)], values: &[f64], triangles: &[Triangle], p: (f64, f64)) -> Option<f64> {
    for t in triangles {
        let [a, b, c] = t.map(|i| points[i]);
        let det = (b.1 - c.1) * (a.0 - c.0) + (c.0 - b.0) * (a.1 - c.1);
        if det.abs() < 1e-15 {
            continue;
        }
        let l1 = ((b.1 - c.1) * (p.0 - c.0) + (c.0 - b.0) * (p.1 - c.1)) / det;
        let l2 = ((c.1 - a.1) * (p.0 - c.0) + (a.0 - c.0) * (p.1 - c.1)) / det;
        let l3 = 1.0 - l1 - l2;
        const EDGE: f64 = -1e-9;
        if l1 >= EDGE && l2 >= EDGE && l3 >= EDGE {
            let v = l1 * values[t[0]] + l2 * values[t[1]] + l3 * values[t[2]];
            return v.is_finite().then_some(v);
        }
    }
    None
}

/// A linear axis whose ticks are the grid's values (on a square-root axis, where they are).
pub struct Ticked {
    pub range: std::ops::Range<f64>,
    pub ticks: Vec<f64>,
}

impl Ranged for Ticked {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        let share = (v - self.range.start) / (self.range.end - self.range.start);
        limit.0 + (share * f64::from(limit.1 - limit.0)).round() as i32
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.range.clone()
    }
}

/// A sweep value as a tick label: as short as it is exact to four places.
pub fn tick(v: f64) -> String {
    let text = format!("{v:.4}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The ticks of an axis: the grid's values, and on a square-root axis round values between them
/// where there is room (50 pixels from every other tick).
pub fn ticks(points: &[Point], value: fn(&Point) -> f64, scale: Scale, pixels: f64) -> Vec<f64> {
    let mut v: Vec<f64> = points.iter().filter(|p| !p.refined).map(value).collect();
    v.sort_by(f64::total_cmp);
    v.dedup();
    let mut t: Vec<f64> = v.iter().map(|&x| scale.to(x)).collect();
    if scale.sqrt {
        let (lo, hi) = (v[0], v[v.len() - 1]);
        for round in [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0] {
            let at = scale.to(round);
            if (lo..=hi).contains(&round) && t.iter().all(|&u| ((u - at) * pixels).abs() >= 50.0) {
                t.push(at);
            }
        }
        t.sort_by(f64::total_cmp);
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A plane is reproduced exactly; the triangles cover the points' hull without overlap.
    #[test]
    fn a_plane_is_interpolated_exactly_inside_the_hull() {
        let mut points = Vec::new();
        for i in 0..5 {
            for j in 0..4 {
                points.push((i as f64 * 0.25, j as f64 / 3.0));
            }
        }
        // Refined points between neighbours, as `[sweep.refine]` adds them.
        points.extend([(0.125, 0.5), (0.375, 1.0 / 6.0), (0.9, 0.8)]);
        let plane = |(x, y): (f64, f64)| 0.3 + 2.0 * x - 0.7 * y;
        let values: Vec<f64> = points.iter().map(|&p| plane(p)).collect();
        let triangles = triangulate(&points);
        let area: f64 = triangles
            .iter()
            .map(|t| {
                let [a, b, c] = t.map(|i| points[i]);
                ((b.0 - a.0) * (c.1 - a.1) - (c.0 - a.0) * (b.1 - a.1)).abs() / 2.0
            })
            .sum();
        assert!((area - 1.0).abs() < 1e-9, "the triangles tile the unit square: {area}");
        for k in 0..50 {
            let p = ((k * 37 % 50) as f64 / 49.0, (k * 11 % 50) as f64 / 49.0);
            let v = interpolate(&points, &values, &triangles, p).expect("inside the hull");
            assert!((v - plane(p)).abs() < 1e-9, "{p:?}: {v} vs {}", plane(p));
        }
        assert_eq!(interpolate(&points, &values, &triangles, (1.2, 0.5)), None);
    }

    #[test]
    fn every_triangle_is_delaunay() {
        let points: Vec<(f64, f64)> = (0..30)
            .map(|i| (((i * 7919) % 101) as f64 / 100.0, ((i * 104_729) % 97) as f64 / 96.0))
            .collect();
        let triangles = triangulate(&points);
        for t in &triangles {
            for (k, &p) in points.iter().enumerate() {
                if !t.contains(&k) {
                    assert!(!in_circumcircle(&points, *t, p), "{t:?} holds point {k}");
                }
            }
        }
    }

    #[test]
    fn a_wide_positive_span_gets_a_square_root_axis() {
        assert!(Scale::for_values([0.0, 0.00625, 0.1, 0.75]).sqrt);
        assert!(!Scale::for_values([0.0, 0.125, 0.5, 2.0]).sqrt);
        assert!(!Scale::for_values([-1.0, 0.001, 1.0]).sqrt);
        let s = Scale { sqrt: true };
        assert!((s.from(s.to(0.3)) - 0.3).abs() < 1e-12);
    }
}
