//! PPO-clip (Schulman et al., 2017) on the same leave-one-out advantages: the loss is
//! −mean(min(r·A, clip(r, 1 − ε, 1 + ε)·A)) with `r = π(a) / π_old(a)`, optimised for
//! `pressure.ppo_epochs` epochs over each sampled batch.

use burn::tensor::Tensor;

use super::losses::member_mean;

/// Per-member clipped surrogate loss `[P, 1, 1]` from the new and old log-probabilities of the
/// chosen answers and their advantages (all `[P, n, 1]`).
pub fn objective(log_probs: Tensor<3>, old_log_probs: Tensor<3>, advantages: Tensor<3>, clip: f64) -> Tensor<3> {
    let n = log_probs.dims()[1];
    let ratio = (log_probs - old_log_probs).exp();
    let clipped = ratio.clone().clamp(1.0 - clip, 1.0 + clip);
    let surrogate = (ratio * advantages.clone()).min_pair(clipped * advantages);
    member_mean(-surrogate, n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::batch::{floats, host};

    #[test]
    fn the_ratio_is_clipped_only_where_it_would_gain() {
        let d = crate::experiment::Backend::Ndarray.device().unwrap();
        // Member 0: ratio e^0.5 ≈ 1.65 with A = 1 → clipped to 1.2. Member 1: same ratio with
        // A = −1 → not clipped (the pessimistic bound keeps −1.65).
        let new = floats(vec![0.5, 0.5], 2, 1, 1, &d);
        let old = floats(vec![0.0, 0.0], 2, 1, 1, &d);
        let adv = floats(vec![1.0, -1.0], 2, 1, 1, &d);
        let loss = host(objective(new, old, adv, 0.2));
        assert!((loss[0] + 1.2).abs() < 1e-6, "{loss:?}");
        assert!((loss[1] - 0.5f32.exp()).abs() < 1e-5, "{loss:?}");
    }
}
