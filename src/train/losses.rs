//! Loss pieces shared by the phases. Every function keeps the population axis: inputs are
//! `[P, n, k]` and per-member results are `[P, 1, 1]`, so no member's loss mixes with another's.

use burn::tensor::{Device, Tensor, TensorData, activation};

/// Sum over the batch and feature axes, divided by `n`: the per-member mean over `n` samples.
pub fn member_mean(x: Tensor<3>, n: usize) -> Tensor<3> {
    x.sum_dim(2).sum_dim(1).div_scalar(n.max(1) as f32)
}

/// A `[P, 1, 1]` tensor of per-member coefficients.
pub fn coefficients(values: &[f64], device: &Device) -> Tensor<3> {
    let v: Vec<f32> = values.iter().map(|&x| x as f32).collect();
    Tensor::from_data(TensorData::new(v, [values.len(), 1, 1]), device)
}

/// Cross-entropy of log-probabilities `[P, n, k]` against soft targets `[P, n, k]`, per member.
pub fn soft_cross_entropy(log_probs: Tensor<3>, targets: Tensor<3>) -> Tensor<3> {
    let n = log_probs.dims()[1];
    member_mean(-(log_probs * targets), n)
}

/// Log-probabilities of "yes" and "no" for a Bernoulli logit.
pub fn bernoulli_log_probs(logit: Tensor<3>) -> (Tensor<3>, Tensor<3>) {
    (activation::log_sigmoid(logit.clone()), activation::log_sigmoid(-logit))
}

/// Log-probability of the answers `y ∈ {0, 1}` `[P, n, 1]` under the logits `[P, n, 1]`.
pub fn bernoulli_log_prob(logit: Tensor<3>, y: Tensor<3>) -> Tensor<3> {
    let (yes, no) = bernoulli_log_probs(logit);
    yes * y.clone() + no * (-y + 1.0)
}

/// Binary cross-entropy of logits against 0/1 targets, per member.
pub fn binary_cross_entropy(logit: Tensor<3>, target: Tensor<3>) -> Tensor<3> {
    let n = logit.dims()[1];
    member_mean(-bernoulli_log_prob(logit, target), n)
}

/// KL(π ‖ π_ref) of categorical distributions given as log-probabilities, per sample `[P, n, 1]`.
pub fn categorical_kl(log_probs: Tensor<3>, reference: Tensor<3>) -> Tensor<3> {
    (log_probs.clone().exp() * (log_probs - reference)).sum_dim(2)
}

/// KL(π ‖ π_ref) of Bernoulli distributions given as logits, per sample `[P, n, 1]`.
pub fn bernoulli_kl(logit: Tensor<3>, reference: Tensor<3>) -> Tensor<3> {
    let p = activation::sigmoid(logit.clone());
    let (yes, no) = bernoulli_log_probs(logit);
    let (ref_yes, ref_no) = bernoulli_log_probs(reference);
    p.clone() * (yes - ref_yes) + (-p + 1.0) * (no - ref_no)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::batch::host;

    #[allow(deprecated)]
    fn ndarray() -> burn::tensor::Device {
        burn::tensor::Device::ndarray()
    }

    fn t(v: Vec<f32>, shape: [usize; 3]) -> Tensor<3> {
        Tensor::from_data(TensorData::new(v, shape), &ndarray())
    }

    #[test]
    fn kl_of_a_distribution_with_itself_is_zero_and_positive_otherwise() {
        let a = activation::log_softmax(t(vec![0.1, 2.0, -1.0, 0.5, 0.5, 0.5], [2, 1, 3]), 2);
        let b = activation::log_softmax(t(vec![1.0, 0.0, 0.0, 0.5, 0.5, 0.5], [2, 1, 3]), 2);
        let same = host(categorical_kl(a.clone(), a.clone()));
        assert!(same.iter().all(|x| x.abs() < 1e-6));
        let diff = host(categorical_kl(a, b));
        assert!(diff[0] > 0.1, "different distributions have KL > 0: {diff:?}");
        assert!(diff[1].abs() < 1e-6, "member 1 is the same in both: {diff:?}");

        let l = t(vec![2.0, -1.0], [2, 1, 1]);
        assert!(host(bernoulli_kl(l.clone(), l.clone())).iter().all(|x| x.abs() < 1e-6));
        let k = host(bernoulli_kl(l, t(vec![-2.0, -1.0], [2, 1, 1])));
        // KL(σ(a) ‖ σ(b)) = σ(a)·(a − b) + log σ(−a) − log σ(−b); a = 2, b = −2.
        let logsig = |x: f32| -(1.0 + (-x).exp()).ln();
        let want = 4.0 / (1.0 + (-2.0f32).exp()) + logsig(-2.0) - logsig(2.0);
        assert!((k[0] - want).abs() < 1e-5, "{k:?} vs {want}");
        assert!(k[1].abs() < 1e-6);
    }

    #[test]
    fn binary_cross_entropy_matches_the_formula_per_member() {
        let logits = t(vec![0.0, 3.0, -3.0, 0.0], [2, 2, 1]);
        let targets = t(vec![1.0, 1.0, 1.0, 0.0], [2, 2, 1]);
        let bce = host(binary_cross_entropy(logits, targets));
        let ln2 = std::f32::consts::LN_2;
        let sp = |x: f32| (1.0 + x.exp()).ln(); // −log σ(−x) = softplus(x)
        assert!((bce[0] - (ln2 + sp(-3.0)) / 2.0).abs() < 1e-5, "{bce:?}");
        assert!((bce[1] - (sp(3.0) + ln2) / 2.0).abs() < 1e-5, "{bce:?}");
    }
}
