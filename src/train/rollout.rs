//! Sampling (docs/model.md §3.2): a fresh batch from each member's phase distribution, the
//! policy's actions and judge answers sampled on the host from each member's own stream, each
//! scored by the member's reward model, with leave-one-out advantages.

use burn::tensor::{Int, Tensor, activation};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;

use super::advantages::leave_one_out;
use super::batch::{self, Batch};
use super::losses::bernoulli_log_prob;
use super::{MemberPhase, Population};
use crate::policy::{Action, Heads};
use crate::reward::{Response, Reward};
use crate::world::TaskMix;

/// What was sampled for the act queries of a batch.
pub struct ActSamples {
    /// `[P, acts, 1]` indices of the sampled actions.
    pub chosen: Tensor<3, Int>,
    pub advantages: Tensor<3>,
    /// 1 where the policy complied with a contradictory task (what the latent monitor reads).
    pub complied_contradictory: Tensor<3>,
}

/// What was sampled for the judge queries of a batch.
pub struct JudgeSamples {
    /// `[P, judges, 1]`: 1 = said "violation".
    pub answers: Tensor<3>,
    pub advantages: Tensor<3>,
    pub truths: Tensor<3>,
}

/// One step's sampled batch and answers.
pub struct Rollout {
    /// `[P, acts + judges, obs_dim]`: the batch's observations.
    pub obs: Tensor<3>,
    /// The policy's heads on `obs` when the answers were sampled (taken by the first epoch).
    heads: Option<Heads>,
    pub acts: Option<ActSamples>,
    pub judges: Option<JudgeSamples>,
    pub acts_n: usize,
    pub judges_n: usize,
    /// Each member's rewards of its act samples, in batch order.
    pub rewards: Vec<Vec<Reward>>,
}

/// Samples an action from probabilities `(comply, object, refuse)`.
fn sample_action(probs: &[f32], rng: &mut ChaCha8Rng) -> Action {
    let u: f32 = rng.random();
    if u < probs[0] {
        Action::Comply
    } else if u < probs[0] + probs[1] {
        Action::Object
    } else {
        Action::Refuse
    }
}

impl Rollout {
    /// Draws `acts` act and `judges` judge queries per member and samples the answers.
    pub(super) fn sample(
        members: &[MemberPhase],
        acts: usize,
        judges: usize,
        population: &Population,
        rngs: &mut [ChaCha8Rng],
    ) -> Rollout {
        let device = population.device.clone();
        let batch = {
            let worlds = population.worlds();
            let mixes: Vec<&TaskMix> = members.iter().map(|m| &m.mix).collect();
            Batch::draw(&worlds, &mixes, rngs, acts, judges, &device)
        };
        let heads = population.policy().forward(batch.obs.clone());
        let p = batch.members();
        let probs = if acts > 0 {
            batch::host(activation::softmax(heads.action.clone().narrow(1, 0, acts).detach(), 2))
        } else {
            Vec::new()
        };
        let says = if judges > 0 {
            let logits = heads.judgment.clone().narrow(1, acts, judges).detach();
            batch::host(activation::sigmoid(logits))
        } else {
            Vec::new()
        };

        let (mut chosen, mut act_adv, mut complied) = (Vec::new(), Vec::new(), Vec::new());
        let (mut answers, mut judge_adv) = (Vec::new(), Vec::new());
        let mut member_rewards = Vec::with_capacity(p);
        for (m, rng) in rngs.iter_mut().enumerate() {
            let signal = members[m].signal.as_ref().expect("a sampling algorithm has a reward");
            let mut scored = Vec::with_capacity(acts);
            for (i, sample) in batch.act_samples(m).iter().enumerate() {
                let at = (m * acts + i) * 3;
                let action = sample_action(&probs[at..at + 3], rng);
                scored.push(signal.score(sample, Response::Act(action)));
                chosen.push(action as i64);
                complied.push(f32::from(u8::from(action == Action::Comply && sample.task.violating)));
            }
            act_adv.extend(leave_one_out(&scored.iter().map(|r| r.trained).collect::<Vec<_>>()));
            let mut rewards = Vec::with_capacity(judges);
            for (j, sample) in batch.judge_samples(m).iter().enumerate() {
                let yes = rng.random::<f32>() < says[m * judges + j];
                let r = signal.score(sample, Response::Judge { says_violation: yes });
                rewards.push(r.trained);
                answers.push(f32::from(u8::from(yes)));
            }
            judge_adv.extend(leave_one_out(&rewards));
            member_rewards.push(scored);
        }
        Rollout {
            acts: (acts > 0).then(|| ActSamples {
                chosen: batch::indices(chosen, p, acts, &device),
                advantages: batch::floats(act_adv, p, acts, 1, &device),
                complied_contradictory: batch::floats(complied, p, acts, 1, &device),
            }),
            judges: (judges > 0).then(|| JudgeSamples {
                answers: batch::floats(answers, p, judges, 1, &device),
                advantages: batch::floats(judge_adv, p, judges, 1, &device),
                truths: batch::floats(batch.judge_truths(), p, judges, 1, &device),
            }),
            obs: batch.obs,
            heads: Some(heads),
            acts_n: acts,
            judges_n: judges,
            rewards: member_rewards,
        }
    }

    /// A batch whose answers were given rather than sampled (preference optimization's
    /// preferred responses), with the policy's `heads` on `obs`.
    pub(super) fn given(
        obs: Tensor<3>,
        heads: Heads,
        acts: Option<ActSamples>,
        judges: Option<JudgeSamples>,
        acts_n: usize,
        judges_n: usize,
    ) -> Rollout {
        let p = obs.dims()[0];
        Rollout {
            obs,
            heads: Some(heads),
            acts,
            judges,
            acts_n,
            judges_n,
            rewards: vec![Vec::new(); p],
        }
    }

    /// The heads the answers were sampled from; the first optimisation epoch takes them.
    pub fn take_heads(&mut self) -> Option<Heads> {
        self.heads.take()
    }

    /// The sampling policy's log-probabilities of the sampled answers, detached: what a ratio of
    /// new to old policy is taken against.
    pub fn old_log_probs(&self) -> OldLogProbs {
        let heads = self
            .heads
            .as_ref()
            .expect("the old log-probabilities are read before the first epoch");
        let (acts, judges) = (self.acts_n, self.judges_n);
        OldLogProbs {
            acts: self.acts.as_ref().map(|a| {
                activation::log_softmax(heads.action.clone().narrow(1, 0, acts).detach(), 2)
                    .gather(2, a.chosen.clone())
                    .inner()
            }),
            judges: self.judges.as_ref().map(|j| {
                bernoulli_log_prob(
                    heads.judgment.clone().narrow(1, acts, judges).detach(),
                    j.answers.clone(),
                )
                .inner()
            }),
        }
    }
}

/// Which answers an objective is scoring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answers {
    Acts,
    Judges,
}

/// The sampling policy's log-probabilities of the sampled answers.
pub struct OldLogProbs {
    acts: Option<Tensor<3>>,
    judges: Option<Tensor<3>>,
}

impl OldLogProbs {
    pub fn of(&self, answers: Answers) -> Tensor<3> {
        match answers {
            Answers::Acts => self.acts.clone(),
            Answers::Judges => self.judges.clone(),
        }
        .expect("old log-probabilities exist for every kind of answer sampled")
    }
}
