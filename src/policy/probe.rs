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

        let mut w = vec![0.0f64; dim + 1]; // last entry: bias
        let mut m1 = vec![0.0f64; dim + 1];
        let mut m2 = vec![0.0f64; dim + 1];
        let mut grad = vec![0.0f64; dim + 1];
        let (beta1, beta2, eps) = (0.9f64, 0.999f64, 1e-8);
        for t in 1..=ITERATIONS {
            grad.iter_mut().for_each(|g| *g = 0.0);
            for (row, &y) in z.chunks_exact(dim).zip(labels) {
                let logit = w[dim] + row.iter().zip(&w[..dim]).map(|(a, b)| a * b).sum::<f64>();
                let err = sigmoid(logit) - f64::from(u8::from(y));
                for (g, x) in grad[..dim].iter_mut().zip(row) {
                    *g += err * x;
                }
                grad[dim] += err;
            }
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

pub fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Purpose, stream};

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
