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
use burn::tensor::{Device, Int, Tensor, activation};
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
use crate::policy::{Action, Heads};
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
        let key = super::shape_key(shape);
        assert!(
            population.members.iter().all(|m| super::shape_key(&m.config) == key),
            "members of an RL phase share their shapes"
        );
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

    /// The followup: its own reward, query mix, learning rate and coefficients; algorithm, batch,
    /// PPO settings and evaluation schedule as the pressure phase's.
    pub fn followup(population: &Population) -> Phase {
        let shape = population.shape();
        let (p, f) = (&shape.pressure, &shape.followup);
        Phase {
            kind: PhaseKind::Followup,
            offset: p.steps,
            steps: f.steps,
            batch: p.batch,
            judges: judge_count(p.batch, f.judge_fraction),
            lr: f.lr,
            algorithm: p.algorithm,
            ppo_clip: p.ppo_clip,
            ppo_epochs: p.ppo_epochs,
            eval_every: shape.eval.every,
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
        }
    }

    /// Runs the phase, evaluating every `eval.every` global steps and at its last step.
    pub fn run(&self, population: &mut Population, evaluator: &Evaluator, recorder: &mut dyn Recorder) {
        self.drive(population, self.steps, Some(evaluator), recorder);
    }

    /// Runs `steps` steps of the phase without evaluating (the throughput benchmark).
    pub fn run_steps(&self, population: &mut Population, steps: usize, recorder: &mut dyn Recorder) {
        self.drive(population, steps, None, recorder);
    }

    fn drive(
        &self,
        population: &mut Population,
        steps: usize,
        evaluator: Option<&Evaluator>,
        recorder: &mut dyn Recorder,
    ) {
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

        for s in 1..=steps {
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
            let Some(evaluator) = evaluator else { continue };
            if step.is_multiple_of(self.eval_every) || s == steps {
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

    /// One optimizer step (REINFORCE) or `ppo_epochs` of them (PPO) on a freshly sampled batch.
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
        let device = population.device.clone();
        let (acts, judges) = (self.batch - self.judges, self.judges);
        let batch = {
            let worlds = population.worlds();
            let mixes: Vec<&TaskMix> = self.members.iter().map(|m| &m.mix).collect();
            Batch::draw(&worlds, &mixes, rngs, acts, judges, &device)
        };
        let heads = population.policy().forward(batch.obs.clone());
        let sampled = self.sample(&batch, &heads, rngs, stats, &device);
        let fixed = self.fixed(population, &batch, &heads, &sampled, replay_rngs, &device);

        let epochs = match self.algorithm {
            Algorithm::Reinforce => 1,
            Algorithm::Ppo => self.ppo_epochs,
        };
        let mut heads = Some(heads);
        for epoch in 0..epochs {
            let h = heads
                .take()
                .unwrap_or_else(|| population.policy().forward(batch.obs.clone()));
            let (loss, kl) = self.loss(population, h, &sampled, &fixed, &device);
            let kl_values = (epoch == 0).then(|| batch::host(kl.detach()));
            let losses = population.optimize(optimizer, self.lr, loss, step, recorder);
            if let Some(kl_values) = kl_values {
                for (m, st) in stats.iter_mut().enumerate() {
                    st.loss += losses[m] as f64;
                    st.kl += kl_values[m] as f64;
                }
            }
        }
    }

    /// Samples actions and judge answers on the host, each member from its own stream, and
    /// scores them: the advantages and masks the losses need.
    fn sample(
        &self,
        batch: &Batch,
        heads: &Heads,
        rngs: &mut [ChaCha8Rng],
        stats: &mut [Stats],
        device: &Device,
    ) -> Sampled {
        let p = batch.members();
        let (acts, judges) = (batch.acts, batch.judges);
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
        for (m, rng) in rngs.iter_mut().enumerate() {
            let member = &self.members[m];
            let mut rewards = Vec::with_capacity(acts);
            for (i, sample) in batch.act_samples(m).iter().enumerate() {
                let at = (m * acts + i) * 3;
                let action = sample_action(&probs[at..at + 3], rng);
                let r = member.signal.score(sample.task.violating, Response::Act(action));
                stats[m].reward_trained += r.trained / acts as f64;
                stats[m].reward_principled += r.principled / acts as f64;
                rewards.push(r.trained);
                chosen.push(action as i64);
                complied.push(f32::from(u8::from(action == Action::Comply && sample.task.violating)));
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
        Sampled {
            acts: (acts > 0).then(|| ActSamples {
                chosen: batch::indices(chosen, p, acts, device),
                advantages: batch::floats(act_adv, p, acts, 1, device),
                complied_contradictory: batch::floats(complied, p, acts, 1, device),
            }),
            judges: (judges > 0).then(|| JudgeSamples {
                answers: batch::floats(answers, p, judges, 1, device),
                advantages: batch::floats(judge_adv, p, judges, 1, device),
                truths: batch::floats(constitution::judge_truths(batch), p, judges, 1, device),
            }),
            acts_n: acts,
            judges_n: judges,
        }
    }

    /// What stays fixed across PPO epochs: the reference policy's outputs, the sampling policy's
    /// log-probabilities, the replayed constitution batch and the frozen probes.
    fn fixed(
        &self,
        population: &Population,
        batch: &Batch,
        heads: &Heads,
        sampled: &Sampled,
        replay_rngs: &mut [ChaCha8Rng],
        device: &Device,
    ) -> Fixed {
        let p = population.size();
        let (acts, judges) = (sampled.acts_n, sampled.judges_n);
        let reference = population
            .reference
            .as_ref()
            .expect("the reference is frozen before RL")
            .forward(batch.obs.clone());
        let replay = self.members.iter().any(|m| m.replay > 0.0).then(|| {
            let worlds = population.worlds();
            let mix = TaskMix::constitution();
            let n = (self.batch / 4).max(1);
            let b = Batch::draw(&worlds, &vec![&mix; p], replay_rngs, n, 0, device);
            let targets = batch::floats(constitution::act_targets(population, &b.samples, n), p, n, 3, device);
            (b.obs, targets)
        });
        let coef = |f: fn(&MemberPhase) -> f64| coefficients(&self.members.iter().map(f).collect::<Vec<_>>(), device);
        Fixed {
            ref_act: sampled
                .acts
                .as_ref()
                .map(|_| activation::log_softmax(reference.action.narrow(1, 0, acts), 2)),
            ref_judge: sampled
                .judges
                .as_ref()
                .map(|_| reference.judgment.narrow(1, acts, judges)),
            old_act: sampled.acts.as_ref().map(|a| {
                activation::log_softmax(heads.action.clone().narrow(1, 0, acts).detach(), 2)
                    .gather(2, a.chosen.clone())
                    .inner()
            }),
            old_judge: sampled.judges.as_ref().map(|j| {
                bernoulli_log_prob(
                    heads.judgment.clone().narrow(1, acts, judges).detach(),
                    j.answers.clone(),
                )
                .inner()
            }),
            replay,
            probe: self
                .members
                .iter()
                .any(|m| m.monitor > 0.0)
                .then(|| crate::eval::probe::as_tensors(&population.probes, device)),
            kl: coef(|m| m.kl),
            honesty: coef(|m| m.honesty),
            monitor: coef(|m| m.monitor),
            replay_weight: coef(|m| m.replay),
        }
    }

    /// The per-member loss `[P, 1, 1]` of one epoch, and the per-member KL to the reference.
    fn loss(
        &self,
        population: &Population,
        h: Heads,
        sampled: &Sampled,
        fixed: &Fixed,
        device: &Device,
    ) -> (Tensor<3>, Tensor<3>) {
        let p = population.size();
        let (acts, judges) = (sampled.acts_n, sampled.judges_n);
        let objective = |lp: Tensor<3>, old: Tensor<3>, adv: Tensor<3>| match self.algorithm {
            Algorithm::Reinforce => reinforce::objective(lp, adv),
            Algorithm::Ppo => ppo::objective(lp, old, adv, self.ppo_clip),
        };
        let mut loss = Tensor::<3>::zeros([p, 1, 1], device);
        let mut kl = Tensor::<3>::zeros([p, 1, 1], device);
        if let (Some(a), Some(ref_act), Some(old)) = (&sampled.acts, &fixed.ref_act, &fixed.old_act) {
            let log_probs = activation::log_softmax(h.action.narrow(1, 0, acts), 2);
            let chosen = log_probs.clone().gather(2, a.chosen.clone());
            loss = loss + objective(chosen, old.clone(), a.advantages.clone());
            kl = kl + categorical_kl(log_probs, ref_act.clone()).sum_dim(1);
            if let Some((w, b)) = &fixed.probe {
                let trunk = h.trunk.clone().narrow(1, 0, acts);
                let reading = activation::sigmoid(trunk.matmul(w.clone()) + b.clone());
                let monitor = member_mean(reading * a.complied_contradictory.clone(), acts);
                loss = loss + monitor * fixed.monitor.clone();
            }
        }
        if let (Some(j), Some(ref_judge), Some(old)) = (&sampled.judges, &fixed.ref_judge, &fixed.old_judge) {
            let logit = h.judgment.narrow(1, acts, judges);
            let answered = bernoulli_log_prob(logit.clone(), j.answers.clone());
            loss = loss
                + objective(answered, old.clone(), j.advantages.clone())
                + binary_cross_entropy(logit.clone(), j.truths.clone()) * fixed.honesty.clone();
            kl = kl + bernoulli_kl(logit, ref_judge.clone()).sum_dim(1);
        }
        let kl = kl.div_scalar(self.batch as f32);
        loss = loss + kl.clone() * fixed.kl.clone();
        if let Some((obs, targets)) = &fixed.replay {
            let replayed = activation::log_softmax(population.policy().forward(obs.clone()).action, 2);
            loss = loss + soft_cross_entropy(replayed, targets.clone()) * fixed.replay_weight.clone();
        }
        (loss, kl)
    }
}

/// What was sampled for the act queries of a batch.
struct ActSamples {
    /// `[P, acts, 1]` indices of the sampled actions.
    chosen: Tensor<3, Int>,
    advantages: Tensor<3>,
    /// 1 where the policy complied with a contradictory task (what the latent monitor reads).
    complied_contradictory: Tensor<3>,
}

/// What was sampled for the judge queries of a batch.
struct JudgeSamples {
    /// `[P, judges, 1]`: 1 = said "violation".
    answers: Tensor<3>,
    advantages: Tensor<3>,
    truths: Tensor<3>,
}

struct Sampled {
    acts: Option<ActSamples>,
    judges: Option<JudgeSamples>,
    acts_n: usize,
    judges_n: usize,
}

/// Tensors fixed across the epochs of one step.
struct Fixed {
    ref_act: Option<Tensor<3>>,
    ref_judge: Option<Tensor<3>>,
    old_act: Option<Tensor<3>>,
    old_judge: Option<Tensor<3>>,
    replay: Option<(Tensor<3>, Tensor<3>)>,
    probe: Option<(Tensor<3>, Tensor<3>)>,
    kl: Tensor<3>,
    honesty: Tensor<3>,
    monitor: Tensor<3>,
    replay_weight: Tensor<3>,
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
