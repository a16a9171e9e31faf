//! PPO-clip (Schulman et al., 2017) on the same leave-one-out advantages: the loss is
//! −mean(min(r·A, clip(r, 1 − ε, 1 + ε)·A)) with `r = π(a) / π_old(a)`, optimised for
//! `ppo.epochs` epochs over each sampled batch.

use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

use super::losses::member_mean;
use super::step::{Step, Update};
use crate::settings::{InvalidValue, at_least, check};

/// PPO's settings (`pressure.ppo`, `followup.ppo`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PpoConfig {
    /// The clip range ε of the probability ratio, in (0, 1).
    pub clip: f64,
    /// Optimisation epochs over each sampled batch.
    pub epochs: usize,
}

impl Default for PpoConfig {
    fn default() -> Self {
        PpoConfig { clip: 0.2, epochs: 4 }
    }
}

impl PpoConfig {
    pub fn validate(&self, prefix: &str) -> Result<(), InvalidValue> {
        check(
            &format!("{prefix}clip"),
            self.clip,
            self.clip > 0.0 && self.clip < 1.0,
            "must be in (0, 1)",
        )?;
        at_least(&format!("{prefix}epochs"), self.epochs, 1)
    }
}

/// The PPO algorithm (`pressure.algorithm = "ppo"`).
pub struct Ppo {
    config: PpoConfig,
}

impl Ppo {
    pub fn new(config: PpoConfig) -> Ppo {
        Ppo { config }
    }
}

/// Per-member clipped surrogate loss `[P, 1, 1]` from the new and old log-probabilities of the
/// chosen answers and their advantages (all `[P, n, 1]`).
pub fn objective(log_probs: Tensor<3>, old_log_probs: Tensor<3>, advantages: Tensor<3>, clip: f64) -> Tensor<3> {
    let n = log_probs.dims()[1];
    let ratio = (log_probs - old_log_probs).exp();
    let clipped = ratio.clone().clamp(1.0 - clip, 1.0 + clip);
    let surrogate = (ratio * advantages.clone()).min_pair(clipped * advantages);
    member_mean(-surrogate, n)
}

impl Update for Ppo {
    fn update(&self, step: &mut Step<'_>) {
        // 1. Rollout: a fresh batch, answers sampled from the policy, scored, with advantages.
        let mut rollout = step.rollout();
        // 2. What the shared regularizers hold fixed, and the sampling policy's log-probabilities.
        let fixed = step.regularizers(&rollout);
        let old = rollout.old_log_probs();
        let clip = self.config.clip;
        // 3. Epochs over the same batch: the first on the sampling heads, then recomputed.
        for epoch in 0..self.config.epochs {
            let heads = match rollout.take_heads() {
                Some(heads) => heads,
                None => step.forward(&rollout),
            };
            let (loss, kl) = step.loss(heads, &rollout, &fixed, &|answers, log_probs, advantages, _| {
                objective(log_probs, old.of(answers), advantages, clip)
            });
            // The first epoch's loss and KL are the step's statistics.
            step.optimize(loss, Some(kl), epoch == 0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::batch::{floats, host};

    #[test]
    fn the_ratio_is_clipped_only_where_it_would_gain() {
        #[allow(deprecated)]
        let d = burn::tensor::Device::ndarray();
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
