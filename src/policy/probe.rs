//! Linear probes on the trunk's activations (docs/model.md §5).
//!
//! The *conscience probe* is fit once on the constitution model's act-context activations
//! (label: the task violates its principle) and then frozen: it asks whether the trained policy
//! still represents the conflict the way the constitution model did (signal R). A probe *refit*
//! at an evaluation step asks whether the conflict is decodable at all, however it is now encoded.

/// A logistic-regression probe `σ(w · h + b)` over trunk activations `h`.
#[derive(Debug, Clone, PartialEq)]
pub struct LinearProbe {
    pub weights: Vec<f64>,
    pub bias: f64,
}

/// Optimisation settings of a probe fit: full-batch Adam on the standardised features with a
/// small L2 penalty, a fixed number of iterations (deterministic, no early stopping).
const ITERATIONS: usize = 150;
const LEARNING_RATE: f64 = 0.1;
const L2: f64 = 1e-3;

impl LinearProbe {
    /// Fits a probe to `features` (`labels.len()` rows of `dim` values) by logistic regression.
    pub fn fit(features: &[f32], dim: usize, labels: &[bool]) -> LinearProbe {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: this processor has AVX2, checked just above.
            return unsafe { Self::fit_avx2(features, dim, labels) };
        }
        Self::fit_portable(features, dim, labels)
    }

    /// [`Self::fit`] compiled for AVX2: its loops then take four values at a time instead of
    /// two. Every value is computed by the same operations in the same order (no fused
    /// multiply-adds), so the probe is bit for bit the one the portable build fits.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn fit_avx2(features: &[f32], dim: usize, labels: &[bool]) -> LinearProbe {
        Self::fit_portable(features, dim, labels)
    }

    /// The fit itself, inlined into each build of it.
    #[inline(always)]
    fn fit_portable(features: &[f32], dim: usize, labels: &[bool]) -> LinearProbe {
        let n = labels.len();
        assert_eq!(features.len(), n * dim);
        // Standardise each feature; constant features (dead units) get scale 1.
        let mut mean = vec![0.0f64; dim];
        let mut var = vec![0.0f64; dim];
        for row in features.chunks_exact(dim) {
            for (m, &x) in mean.iter_mut().zip(row) {
                *m += x as f64;
            }
        }
        mean.iter_mut().for_each(|m| *m /= n as f64);
        for row in features.chunks_exact(dim) {
            for ((v, &x), m) in var.iter_mut().zip(row).zip(&mean) {
                *v += (x as f64 - m).powi(2);
            }
        }
        let scale: Vec<f64> = var
            .iter()
            .map(|v| {
                let s = (v / n as f64).sqrt();
                if s > 1e-6 { s } else { 1.0 }
            })
            .collect();
        let z: Vec<f64> = features
            .chunks_exact(dim)
            .flat_map(|row| row.iter().zip(&mean).zip(&scale).map(|((&x, m), s)| (x as f64 - m) / s))
            .collect();
        let targets: Vec<f64> = labels.iter().map(|&y| f64::from(u8::from(y))).collect();
        let columns = Columns::of(&z, dim);

        let mut w = vec![0.0f64; dim + 1]; // last entry: bias
        let mut m1 = vec![0.0f64; dim + 1];
        let mut m2 = vec![0.0f64; dim + 1];
        let mut grad = vec![0.0f64; dim + 1];
        let mut logits = vec![0.0f64; n];
        let mut errors = vec![0.0f64; n];
        let (beta1, beta2, eps) = (0.9f64, 0.999f64, 1e-8);
        for t in 1..=ITERATIONS {
            columns.logits(&w, &mut logits);
            for ((e, &y), &logit) in errors.iter_mut().zip(&targets).zip(&logits) {
                *e = sigmoid(logit) - y;
            }
            gradient(&z, dim, &errors, &mut grad);
            for (j, g) in grad.iter_mut().enumerate() {
                *g /= n as f64;
                if j < dim {
                    *g += L2 * w[j];
                }
            }
            let (c1, c2) = (1.0 - beta1.powi(t as i32), 1.0 - beta2.powi(t as i32));
            for j in 0..=dim {
                m1[j] = beta1 * m1[j] + (1.0 - beta1) * grad[j];
                m2[j] = beta2 * m2[j] + (1.0 - beta2) * grad[j] * grad[j];
                w[j] -= LEARNING_RATE * (m1[j] / c1) / ((m2[j] / c2).sqrt() + eps);
            }
        }
        // Fold the standardisation into the weights so the probe reads raw activations.
        let weights: Vec<f64> = (0..dim).map(|j| w[j] / scale[j]).collect();
        let bias = w[dim] - (0..dim).map(|j| weights[j] * mean[j]).sum::<f64>();
        LinearProbe { weights, bias }
    }

    pub fn logit(&self, h: &[f32]) -> f64 {
        self.bias + h.iter().zip(&self.weights).map(|(&a, b)| a as f64 * b).sum::<f64>()
    }

    /// The probe's probability that the task violates.
    pub fn prob(&self, h: &[f32]) -> f64 {
        sigmoid(self.logit(h))
    }

    /// Accuracy of the probe's thresholded reading on labelled activations.
    pub fn accuracy(&self, features: &[f32], dim: usize, labels: &[bool]) -> f64 {
        let correct = features
            .chunks_exact(dim)
            .zip(labels)
            .filter(|(h, y)| (self.logit(h) > 0.0) == **y)
            .count();
        correct as f64 / labels.len().max(1) as f64
    }
}

/// Rows scored together by [`Columns::logits`].
const LANES: usize = 16;

/// Standardised features in blocks of [`LANES`] rows, stored column by column
/// (`values[(block · dim + j) · LANES + r]`), the last block padded with zeros.
///
/// A row's logit is a sum over its features, and a plain loop adds them one after another: each
/// addition waits for the one before. Summing [`LANES`] rows side by side keeps as many
/// independent sums in flight while adding each row's terms in the same order, so every logit is
/// bit for bit what the plain loop gives (an evaluation pass took 40% less time; sixteen rows
/// rather than eight gain only in the AVX2 build, a probe fit 1.23 → 0.95 ms).
struct Columns {
    values: Vec<f64>,
    dim: usize,
}

impl Columns {
    fn of(rows: &[f64], dim: usize) -> Columns {
        let n = rows.len() / dim;
        let mut values = vec![0.0; n.div_ceil(LANES) * dim * LANES];
        for (i, row) in rows.chunks_exact(dim).enumerate() {
            let (block, r) = (i / LANES, i % LANES);
            for (j, &x) in row.iter().enumerate() {
                values[(block * dim + j) * LANES + r] = x;
            }
        }
        Columns { values, dim }
    }

    /// `out[i] = w[dim] + Σ_j x_ij · w[j]`, the sum taken in the order of `j` from −0.0, as
    /// `Iterator::sum` takes it.
    #[inline(always)]
    fn logits(&self, w: &[f64], out: &mut [f64]) {
        let (weights, bias) = (&w[..self.dim], w[self.dim]);
        for (block, outs) in self.values.chunks_exact(self.dim * LANES).zip(out.chunks_mut(LANES)) {
            let mut sums = [-0.0f64; LANES];
            for (x, &wj) in block.chunks_exact(LANES).zip(weights) {
                for (s, &xr) in sums.iter_mut().zip(x) {
                    *s += xr * wj;
                }
            }
            for (o, s) in outs.iter_mut().zip(sums) {
                *o = bias + s;
            }
        }
    }
}

/// Columns of the gradient summed together by [`gradient`].
const TILE: usize = 32;

/// `grad[j] = Σ_i errors[i] · rows[i][j]` and `grad[dim] = Σ_i errors[i]`, each sum taken over
/// the rows in order from 0.0. The sums of [`TILE`] columns are kept side by side in registers
/// over all rows, rather than read and written back at every row.
#[inline(always)]
fn gradient(rows: &[f64], dim: usize, errors: &[f64], grad: &mut [f64]) {
    let mut j = 0;
    while j < dim {
        let width = TILE.min(dim - j);
        if width == TILE {
            let mut sums = [0.0f64; TILE];
            for (row, &e) in rows.chunks_exact(dim).zip(errors) {
                for (s, &x) in sums.iter_mut().zip(&row[j..j + TILE]) {
                    *s += e * x;
                }
            }
            grad[j..j + TILE].copy_from_slice(&sums);
        } else {
            let sums = &mut grad[j..j + width];
            sums.fill(0.0);
            for (row, &e) in rows.chunks_exact(dim).zip(errors) {
                for (s, &x) in sums.iter_mut().zip(&row[j..j + width]) {
                    *s += e * x;
                }
            }
        }
        j += width;
    }
    grad[dim] = errors.iter().fold(0.0, |s, &e| s + e);
}

pub fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Purpose, stream};

    #[test]
    fn logits_side_by_side_are_bit_for_bit_the_plain_sums() {
        use rand::RngExt;
        let mut rng = stream(7, Purpose::Probe);
        for (n, dim) in [(1, 3), (7, 64), (8, 5), (29, 17), (256, 64)] {
            let rows: Vec<f64> = (0..n * dim).map(|_| rng.random_range(-3.0..3.0)).collect();
            let w: Vec<f64> = (0..=dim).map(|_| rng.random_range(-1.0..1.0)).collect();
            let mut side_by_side = vec![f64::NAN; n];
            Columns::of(&rows, dim).logits(&w, &mut side_by_side);
            for (row, got) in rows.chunks_exact(dim).zip(&side_by_side) {
                let plain = w[dim] + row.iter().zip(&w[..dim]).map(|(a, b)| a * b).sum::<f64>();
                assert_eq!(got.to_bits(), plain.to_bits(), "n = {n}, dim = {dim}");
            }
        }
    }

    #[test]
    fn the_fit_is_bit_for_bit_the_same_in_every_build() {
        use rand::RngExt;
        let mut rng = stream(11, Purpose::Probe);
        // Widths below, at and above the gradient's tile, and rows that do not fill a block.
        for (n, dim) in [(5, 3), (40, 32), (77, 45), (256, 64)] {
            let x: Vec<f32> = (0..n * dim).map(|_| rng.random_range(-3.0..3.0)).collect();
            let y: Vec<bool> = (0..n).map(|i| x[i * dim] - x[i * dim + 1] > 0.3).collect();
            // `fit` takes the AVX2 build where this processor has it; `fit_portable` is the portable build.
            let (fast, portable) = (LinearProbe::fit(&x, dim, &y), LinearProbe::fit_portable(&x, dim, &y));
            let bits = |p: &LinearProbe| {
                (
                    p.weights.iter().map(|w| w.to_bits()).collect::<Vec<_>>(),
                    p.bias.to_bits(),
                )
            };
            assert_eq!(bits(&fast), bits(&portable), "n = {n}, dim = {dim}");
        }
    }

    #[test]
    fn the_gradient_is_bit_for_bit_the_row_by_row_sums() {
        use rand::RngExt;
        let mut rng = stream(5, Purpose::Probe);
        for (n, dim) in [(1, 1), (9, 31), (33, 32), (50, 70)] {
            let rows: Vec<f64> = (0..n * dim).map(|_| rng.random_range(-3.0..3.0)).collect();
            let errors: Vec<f64> = (0..n).map(|_| rng.random_range(-1.0..1.0)).collect();
            let mut plain = vec![0.0f64; dim + 1];
            for (row, &e) in rows.chunks_exact(dim).zip(&errors) {
                for (g, x) in plain[..dim].iter_mut().zip(row) {
                    *g += e * x;
                }
                plain[dim] += e;
            }
            let mut tiled = vec![f64::NAN; dim + 1];
            gradient(&rows, dim, &errors, &mut tiled);
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&tiled), bits(&plain), "n = {n}, dim = {dim}");
        }
    }

    #[test]
    fn a_probe_finds_a_linear_signal_and_reads_raw_activations() {
        // Label = x0 − x1 > 0.5; x2 is noise with a large offset and scale.
        let mut features = Vec::new();
        let mut labels = Vec::new();
        let mut rng = stream(1, Purpose::Probe);
        use rand::RngExt;
        for _ in 0..600 {
            let x0: f32 = rng.random_range(0.0..2.0);
            let x1: f32 = rng.random_range(0.0..2.0);
            let x2: f32 = 100.0 + 50.0 * rng.random::<f32>();
            features.extend([x0, x1, x2, 0.0]);
            labels.push(x0 - x1 > 0.5);
        }
        let probe = LinearProbe::fit(&features, 4, &labels);
        assert!(probe.accuracy(&features, 4, &labels) > 0.95);
        assert!(probe.weights[0] > 0.0 && probe.weights[1] < 0.0);
        assert!(probe.prob(&[2.0, 0.0, 120.0, 0.0]) > 0.9);
        assert!(probe.prob(&[0.0, 2.0, 120.0, 0.0]) < 0.1);
    }
}
