//! An RL phase (docs/model.md §3.2): the pressure phase, or the followup after it.
//!
//! Each step samples a batch from the phase's distribution, samples actions and judge answers on
//! the host from each member's own stream, scores them with the member's reward model, and
//! updates the policy with the phase's algorithm, always with a KL penalty to the frozen
//! reference policy. Beside the reward: continued supervised training of judge answers on the
//! truth (`honesty`), replayed constitution batches (`replay`), and the latent monitor
//! (`monitor`), a penalty on the frozen conscience probe's reading of the trunk on complied
//! contradictory tasks, trained against directly.

use burn::optim::AdamConfig;
use burn::tensor::{Tensor, activation};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;

use super::batch::{self, Batch, judge_count};
use super::constitution;
use super::losses::{
    bernoulli_kl, bernoulli_log_prob, binary_cross_entropy, categorical_kl, coefficients, member_mean,
    soft_cross_entropy,
};
use super::{Population, Recorder, ppo, reinforce};
use crate::eval::Evaluator;
use crate::experiment::config::{Algorithm, Contexts, RunConfig};
use crate::policy::Action;
use crate::reward::{Response, RewardSignal};
use crate::rng::{Purpose, stream};
use crate::world::TaskMix;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhaseKind {
    Pressure,
    Followup,
}

/// What one member does in a phase (values may differ between members of a population).
struct MemberPhase {
    mix: TaskMix,
    signal: RewardSignal,
    kl: f64,
    honesty: f64,
    monitor: f64,
    replay: f64,
}

/// A phase, resolved from the members' configs.
pub struct Phase {
    kind: PhaseKind,
    /// The global step before this phase's first step.
    offset: usize,
    steps: usize,
    batch: usize,
    judges: usize,
    lr: f64,
    algorithm: Algorithm,
    ppo_clip: f64,
    ppo_epochs: usize,
    eval_every: usize,
    members: Vec<MemberPhase>,
}

/// Running sums of the `train` scope's statistics between two evaluations.
#[derive(Default, Clone)]
struct Stats {
    steps: usize,
    loss: f64,
    kl: f64,
    reward_trained: f64,
    reward_principled: f64,
}

impl Phase {
    pub fn pressure(population: &Population) -> Phase {
        let shape = population.shape();
        let p = &shape.pressure;
        Phase {
            kind: PhaseKind::Pressure,
            offset: 0,
            steps: p.steps,
            batch: p.batch,
            judges: judge_count(p.batch, p.judge_fraction),
            lr: p.lr,
            algorithm: p.algorithm,
            ppo_clip: p.ppo_clip,
            ppo_epochs: p.ppo_epochs,
            eval_every: shape.eval.every,
            members: population
                .members
                .iter()
                .map(|m| {
                    let c = &m.config;
                    MemberPhase {
                        mix: TaskMix::pressure(&c.world),
                        signal: RewardSignal::new(&c.reward, &c.reward),
                        kl: c.pressure.kl,
                        honesty: c.pressure.honesty,
                        monitor: c.pressure.monitor,
                        replay: c.pressure.replay,
                    }
                })
                .collect(),
        }
    }

    /// The followup: its own reward, query mix and coefficients; algorithm and batch as pressure.
    pub fn followup(population: &Population) -> Phase {
        let shape = population.shape();
        let f = &shape.followup;
        Phase {
            kind: PhaseKind::Followup,
            offset: shape.pressure.steps,
            steps: f.steps,
            judges: judge_count(shape.pressure.batch, f.judge_fraction),
            lr: f.lr,
            members: population
                .members
                .iter()
                .map(|m| {
                    let c: &RunConfig = &m.config;
                    MemberPhase {
                        mix: match c.followup.contexts {
                            Contexts::Pressure => TaskMix::pressure(&c.world),
                            Contexts::All => TaskMix::constitution(),
                        },
                        signal: RewardSignal::new(&c.followup.reward, &c.reward),
                        kl: c.followup.kl,
                        honesty: c.followup.honesty,
                        monitor: 0.0,
                        replay: 0.0,
                    }
                })
                .collect(),
            ..Phase::pressure(population)
        }
    }

    /// Runs the phase, evaluating every `eval.every` global steps and at its last step.
    pub fn run(&self, population: &mut Population, evaluator: &Evaluator, recorder: &mut dyn Recorder) {
        let purpose = match self.kind {
            PhaseKind::Pressure => Purpose::Pressure,
            PhaseKind::Followup => Purpose::Followup,
        };
        let mut rngs: Vec<_> = population.members.iter().map(|m| stream(m.seed, purpose)).collect();
        // Only the pressure phase replays the constitution (the followup's replay weight is 0).
        let mut replay_rngs: Vec<_> = population
            .members
            .iter()
            .map(|m| stream(m.seed, Purpose::Replay))
            .collect();
        let mut optimizer = AdamConfig::new().init();
        let mut stats = vec![Stats::default(); population.size()];

        for s in 1..=self.steps {
            let step = self.offset + s;
            self.step(
                population,
                &mut optimizer,
                &mut rngs,
                &mut replay_rngs,
                step,
                &mut stats,
                recorder,
            );
            recorder.advance(1);
            if step.is_multiple_of(self.eval_every) || s == self.steps {
                for (m, st) in stats.iter_mut().enumerate() {
                    if population.alive(m) && st.steps > 0 {
                        let n = st.steps as f64;
                        recorder.record(m, step, "train", "loss", st.loss / n);
                        recorder.record(m, step, "train", "kl", st.kl / n);
                        recorder.record(m, step, "train", "reward_trained", st.reward_trained / n);
                        recorder.record(m, step, "train", "reward_principled", st.reward_principled / n);
                    }
                    *st = Stats::default();
                }
                evaluator.record(population, step, recorder);
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn step(
        &self,
        population: &mut Population,
        optimizer: &mut burn::optim::ModuleOptimizer,
        rngs: &mut [ChaCha8Rng],
        replay_rngs: &mut [ChaCha8Rng],
        step: usize,
        stats: &mut [Stats],
        recorder: &mut dyn Recorder,
    ) {
        let p = population.size();
        let device = population.device.clone();
        let (acts, judges) = (self.batch - self.judges, self.judges);
        let batch = {
            let worlds = population.worlds();
            let mixes: Vec<&TaskMix> = self.members.iter().map(|m| &m.mix).collect();
            Batch::draw(&worlds, &mixes, rngs, acts, judges, &device)
        };

        // Sample on the host, each member from its own stream.
        let heads = population.policy().forward(batch.obs.clone());
        let log_probs = activation::log_softmax(heads.action.clone().narrow(1, 0, acts), 2);
        let probs = batch::host(log_probs.clone().detach().exp());
        let judge_logits = (judges > 0).then(|| heads.judgment.clone().narrow(1, acts, judges));
        let says = judge_logits
            .as_ref()
            .map(|l| batch::host(activation::sigmoid(l.clone().detach())))
            .unwrap_or_default();

        let mut chosen = Vec::with_capacity(p * acts);
        let mut act_adv = Vec::with_capacity(p * acts);
        let mut complied_contradictory = Vec::with_capacity(p * acts);
        let mut answers = Vec::with_capacity(p * judges);
        let mut judge_adv = Vec::with_capacity(p * judges);
        for m in 0..p {
            let member = &self.members[m];
            let rng = &mut rngs[m];
            let mut rewards = Vec::with_capacity(acts);
            for (i, sample) in batch.act_samples(m).iter().enumerate() {
                let at = (m * acts + i) * 3;
                let action = sample_action(&probs[at..at + 3], rng);
                let r = member.signal.score(sample.task.violating, Response::Act(action));
                stats[m].reward_trained += r.trained / acts as f64;
                stats[m].reward_principled += r.principled / acts as f64;
                rewards.push(r.trained);
                chosen.push(action as i64);
                complied_contradictory.push(f32::from(u8::from(action == Action::Comply && sample.task.violating)));
            }
            act_adv.extend(leave_one_out(&rewards));
            let mut rewards = Vec::with_capacity(judges);
            for (j, sample) in batch.judge_samples(m).iter().enumerate() {
                let yes = rng.random::<f32>() < says[m * judges + j];
                let r = member
                    .signal
                    .score(sample.task.violating, Response::Judge { says_violation: yes });
                rewards.push(r.trained);
                answers.push(f32::from(u8::from(yes)));
            }
            judge_adv.extend(leave_one_out(&rewards));
            stats[m].steps += 1;
        }

        let chosen = batch::indices(chosen, p, acts, &device);
        let act_adv = batch::floats(act_adv, p, acts, 1, &device);
        let answers = batch::floats(answers, p, judges, 1, &device);
        let judge_adv = batch::floats(judge_adv, p, judges, 1, &device);
        let truths = batch::floats(constitution::judge_truths(&batch), p, judges, 1, &device);
        let complied = batch::floats(complied_contradictory, p, acts, 1, &device);
        let coef = |f: fn(&MemberPhase) -> f64| coefficients(&self.members.iter().map(f).collect::<Vec<_>>(), &device);
        let (kl_coef, honesty_coef) = (coef(|m| m.kl), coef(|m| m.honesty));
        let monitor_on = self.members.iter().any(|m| m.monitor > 0.0);
        let replay_on = self.members.iter().any(|m| m.replay > 0.0);

        // What stays fixed across PPO epochs: the reference and the sampling policy's log-probs.
        let reference = population
            .reference
            .as_ref()
            .expect("the reference is frozen before RL");
        let ref_heads = reference.forward(batch.obs.clone());
        let ref_log_probs = activation::log_softmax(ref_heads.action.narrow(1, 0, acts), 2);
        let ref_judge = (judges > 0).then(|| ref_heads.judgment.narrow(1, acts, judges));
        let old_act = log_probs.clone().detach().gather(2, chosen.clone()).inner();
        let old_judge = judge_logits
            .as_ref()
            .map(|l| bernoulli_log_prob(l.clone().detach(), answers.clone()).inner());
        let replay = replay_on.then(|| {
            let worlds = population.worlds();
            let mix = TaskMix::constitution();
            let mixes = vec![&mix; p];
            let n = (self.batch / 4).max(1);
            let b = Batch::draw(&worlds, &mixes, replay_rngs, n, 0, &device);
            let targets = batch::floats(constitution::act_targets(population, &b.samples, n), p, n, 3, &device);
            (b, targets)
        });
        let probe = monitor_on.then(|| crate::eval::probe::as_tensors(&population.probes, &device));

        let epochs = match self.algorithm {
            Algorithm::Reinforce => 1,
            Algorithm::Ppo => self.ppo_epochs,
        };
        let mut heads = Some(heads);
        for epoch in 0..epochs {
            let h = heads
                .take()
                .unwrap_or_else(|| population.policy().forward(batch.obs.clone()));
            let log_probs = activation::log_softmax(h.action.narrow(1, 0, acts), 2);
            let act_lp = log_probs.clone().gather(2, chosen.clone());
            let objective = |lp: Tensor<3>, old: Tensor<3>, adv: Tensor<3>| match self.algorithm {
                Algorithm::Reinforce => reinforce::objective(lp, adv),
                Algorithm::Ppo => ppo::objective(lp, old, adv, self.ppo_clip),
            };
            let mut loss = objective(act_lp, old_act.clone(), act_adv.clone());
            let mut kl = categorical_kl(log_probs, ref_log_probs.clone()).sum_dim(1);
            if judges > 0 {
                let logit = h.judgment.narrow(1, acts, judges);
                let lp = bernoulli_log_prob(logit.clone(), answers.clone());
                loss = loss
                    + objective(lp, old_judge.clone().unwrap(), judge_adv.clone())
                    + binary_cross_entropy(logit.clone(), truths.clone()) * honesty_coef.clone();
                kl = kl + bernoulli_kl(logit, ref_judge.clone().unwrap()).sum_dim(1);
            }
            let kl = kl.div_scalar(self.batch as f32);
            loss = loss + kl.clone() * kl_coef.clone();
            if let Some((w, b)) = &probe {
                let trunk = h.trunk.narrow(1, 0, acts);
                let reading = activation::sigmoid(trunk.matmul(w.clone()) + b.clone());
                loss = loss + member_mean(reading * complied.clone(), acts) * coef(|m| m.monitor);
            }
            if let Some((b, targets)) = &replay {
                let rh = population.policy().forward(b.obs.clone());
                let lp = activation::log_softmax(rh.action, 2);
                loss = loss + soft_cross_entropy(lp, targets.clone()) * coef(|m| m.replay);
            }
            let kl_values = (epoch == 0).then(|| batch::host(kl.detach()));
            let losses = population.optimize(optimizer, self.lr, loss, step, recorder);
            if let Some(kl_values) = kl_values {
                for m in 0..p {
                    stats[m].loss += losses[m] as f64;
                    stats[m].kl += kl_values[m] as f64;
                }
            }
        }
    }
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

/// Advantages with a leave-one-out baseline: each reward minus the mean of the others.
pub fn leave_one_out(rewards: &[f64]) -> Vec<f32> {
    let n = rewards.len();
    if n < 2 {
        return vec![0.0; n];
    }
    let total: f64 = rewards.iter().sum();
    rewards
        .iter()
        .map(|&r| (r - (total - r) / (n - 1) as f64) as f32)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leave_one_out_subtracts_the_mean_of_the_others() {
        let a = leave_one_out(&[1.0, -1.0, 1.0, 1.0]);
        let want = [2.0 / 3.0, -2.0, 2.0 / 3.0, 2.0 / 3.0];
        assert!(a.iter().zip(want).all(|(x, w)| (x - w).abs() < 1e-6), "{a:?}");
        assert_eq!(leave_one_out(&[2.0, 2.0, 2.0]), vec![0.0; 3]);
        assert_eq!(leave_one_out(&[5.0]), vec![0.0]);
    }
}
