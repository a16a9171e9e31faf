//! REINFORCE (Williams, 1992) with a leave-one-out baseline: the loss is −mean(A · log π(a)),
//! with `A` the reward minus the mean reward of the rest of the batch. One optimizer step per
//! sampled batch; no settings of its own.

use burn::tensor::Tensor;

use super::losses::member_mean;
use super::step::{Step, Update};

/// The REINFORCE algorithm (`pressure.algorithm = "reinforce"`).
pub struct Reinforce;

/// Per-member policy-gradient loss `[P, 1, 1]` from the chosen log-probabilities and advantages
/// (both `[P, n, 1]`).
pub fn objective(log_probs: Tensor<3>, advantages: Tensor<3>) -> Tensor<3> {
    let n = log_probs.dims()[1];
    member_mean(-(log_probs * advantages), n)
}

impl Update for Reinforce {
    fn update(&self, step: &mut Step<'_>) {
        // 1. Rollout: a fresh batch, answers sampled from the policy, scored, with advantages.
        let mut rollout = step.rollout();
        // 2. What the shared regularizers (KL, honesty, replay, monitor) hold fixed.
        let fixed = step.regularizers(&rollout);
        // 3. The loss on the heads the answers were sampled from: −mean(A · log π) + regularizers.
        let heads = rollout.take_heads().expect("a fresh rollout has its heads");
        let (loss, kl) = step.loss(heads, &rollout, &fixed, &|_, log_probs, advantages, _| {
            objective(log_probs, advantages)
        });
        // 4. One optimizer step.
        step.optimize(loss, Some(kl), true);
    }
}
