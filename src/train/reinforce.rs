//! REINFORCE (Williams, 1992) with a leave-one-out baseline: the loss is
//! −mean(A · log π(a)), with `A` the reward minus the mean reward of the rest of the batch.

use burn::tensor::Tensor;

use super::losses::member_mean;

/// Per-member policy-gradient loss `[P, 1, 1]` from the chosen log-probabilities and advantages
/// (both `[P, n, 1]`).
pub fn objective(log_probs: Tensor<3>, advantages: Tensor<3>) -> Tensor<3> {
    let n = log_probs.dims()[1];
    member_mean(-(log_probs * advantages), n)
}
