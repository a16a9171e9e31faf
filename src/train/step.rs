//! One training step in progress: what an RL algorithm's [`Update::update`] works with — a
//! fresh rollout, the shared regularizers, the loss, and the optimizer step — and the `train`
//! statistics it accumulates.

use burn::optim::ModuleOptimizer;
use burn::tensor::Tensor;
use rand_chacha::ChaCha8Rng;

use super::regularizers::{self, Fixed, Objective};
use super::rollout::Rollout;
use super::{MemberPhase, Population, Recorder, batch};
use crate::policy::Heads;

/// What one step of an RL algorithm does: one file per algorithm (`reinforce.rs`, `ppo.rs`,
/// `dpo.rs`), chosen by `pressure.algorithm` in `phase.rs`.
pub trait Update {
    /// One training step on a fresh rollout: sample, build the loss, optimize.
    fn update(&self, step: &mut Step<'_>);
}

/// Running sums of the `train` scope's statistics between two evaluations.
#[derive(Default, Clone)]
pub(super) struct Stats {
    /// Optimizer steps taken (each once, however many epochs).
    pub steps: usize,
    /// Rollouts sampled and scored (none for preference optimization).
    pub sampled: usize,
    pub loss: f64,
    pub kl: f64,
    /// Whether the phase has a KL term (a teach phase has none).
    pub with_kl: bool,
    pub reward_trained: f64,
    pub reward_principled: f64,
}

/// One training step in progress.
pub struct Step<'a> {
    pub(super) members: &'a [MemberPhase],
    pub(super) batch: usize,
    pub(super) judges: usize,
    pub(super) lr: f64,
    pub(super) population: &'a mut Population,
    pub(super) optimizer: &'a mut ModuleOptimizer,
    pub(super) rngs: &'a mut [ChaCha8Rng],
    pub(super) replay_rngs: &'a mut [ChaCha8Rng],
    pub(super) step: usize,
    pub(super) stats: &'a mut [Stats],
    pub(super) recorder: &'a mut dyn Recorder,
}

impl Step<'_> {
    /// A fresh batch from each member's distribution, the policy's actions and judge answers
    /// sampled on it (each member from its own stream), scored by each member's reward model.
    pub fn rollout(&mut self) -> Rollout {
        let rollout = Rollout::sample(
            self.members,
            self.batch - self.judges,
            self.judges,
            self.population,
            self.rngs,
        );
        let acts = rollout.acts_n as f64;
        for (m, rewards) in rollout.rewards.iter().enumerate() {
            let st = &mut self.stats[m];
            for r in rewards {
                st.reward_trained += r.trained / acts;
                st.reward_principled += r.principled / acts;
            }
            st.sampled += 1;
        }
        rollout
    }

    /// What the shared regularizers hold fixed for this step: the reference policy's outputs,
    /// the replayed constitution batch, the frozen probes and the coefficients.
    pub fn regularizers(&mut self, rollout: &Rollout) -> Fixed {
        regularizers::fix(self.members, self.batch, self.population, rollout, self.replay_rngs)
    }

    /// The policy's heads on the rollout's batch, recomputed (for a further epoch).
    pub fn forward(&self, rollout: &Rollout) -> Heads {
        self.population.policy().forward(rollout.obs.clone())
    }

    /// The per-member loss of `heads` with the algorithm's objective on the act and judge
    /// answers (given their log-probabilities and advantages, `[P, n, 1]`), and the per-member KL.
    pub fn loss(
        &self,
        heads: Heads,
        rollout: &Rollout,
        fixed: &Fixed,
        objective: &Objective,
    ) -> (Tensor<3>, Tensor<3>) {
        regularizers::loss(self.batch, self.population, heads, rollout, fixed, objective)
    }

    /// One optimizer step on the loss. With `record`, the loss and KL (where the phase has a
    /// KL term) go into the `train` statistics (once per step, however many epochs the
    /// algorithm takes).
    pub fn optimize(&mut self, loss: Tensor<3>, kl: Option<Tensor<3>>, record: bool) {
        let kl_values = kl.filter(|_| record).map(|kl| batch::host(kl.detach()));
        let losses = self
            .population
            .optimize(self.optimizer, self.lr, loss, self.step, self.recorder);
        if record {
            for (m, st) in self.stats.iter_mut().enumerate() {
                st.steps += 1;
                st.loss += losses[m] as f64;
                if let Some(kl_values) = &kl_values {
                    st.kl += kl_values[m] as f64;
                    st.with_kl = true;
                }
            }
        }
    }
}
