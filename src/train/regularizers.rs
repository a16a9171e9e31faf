//! The terms every RL phase adds to its algorithm's objective (docs/model.md §3.2): the KL
//! penalty to the frozen reference policy (`kl`), continued supervised training of judge
//! answers on the truth (`honesty`), replayed constitution batches (`replay`), and the latent
//! monitor (`monitor`), a penalty on the frozen conscience probe's reading of the trunk on
//! complied contradictory tasks, trained against directly.

use burn::tensor::{Device, Tensor, TensorData, activation};
use rand_chacha::ChaCha8Rng;

use super::batch::{self, Batch};
use super::constitution;
use super::losses::{
    bernoulli_kl, bernoulli_log_prob, binary_cross_entropy, categorical_kl, coefficients, member_mean,
    soft_cross_entropy,
};
pub use super::rollout::Answers;
use super::rollout::Rollout;
use super::{MemberPhase, Population};
use crate::policy::Heads;
use crate::policy::probe::LinearProbe;
use crate::world::TaskMix;

/// What the regularizers hold fixed across the epochs of one step.
pub struct Fixed {
    ref_act: Option<Tensor<3>>,
    ref_judge: Option<Tensor<3>>,
    replay: Option<(Tensor<3>, Tensor<3>)>,
    probe: Option<(Tensor<3>, Tensor<3>)>,
    kl: Tensor<3>,
    honesty: Tensor<3>,
    monitor: Tensor<3>,
    replay_weight: Tensor<3>,
}

impl Fixed {
    /// The reference policy's log-probabilities `[P, acts, 3]` on the batch's act queries.
    pub fn reference_act(&self) -> Option<&Tensor<3>> {
        self.ref_act.as_ref()
    }

    /// The reference policy's judgment logits `[P, judges, 1]` on the batch's judge queries.
    pub fn reference_judge(&self) -> Option<&Tensor<3>> {
        self.ref_judge.as_ref()
    }
}

/// The reference policy's outputs on the rollout, a replayed constitution batch (when a member
/// replays), the frozen probes (when a member is monitored), and each member's coefficients.
pub(super) fn fix(
    members: &[MemberPhase],
    batch: usize,
    population: &Population,
    rollout: &Rollout,
    replay_rngs: &mut [ChaCha8Rng],
) -> Fixed {
    let device = &population.device;
    let p = population.size();
    let (acts, judges) = (rollout.acts_n, rollout.judges_n);
    let reference = population.kl_reference().forward(rollout.obs.clone());
    let replay = members.iter().any(|m| m.replay > 0.0).then(|| {
        let worlds = population.worlds();
        let mix = TaskMix::constitution(population.members[0].world.domains());
        let n = (batch / 4).max(1);
        let b = Batch::draw(&worlds, &vec![&mix; p], replay_rngs, n, 0, device);
        let targets = batch::floats(constitution::act_targets(population, &b.samples, n), p, n, 3, device);
        (b.obs, targets)
    });
    let coef = |f: fn(&MemberPhase) -> f64| coefficients(&members.iter().map(f).collect::<Vec<_>>(), device);
    Fixed {
        ref_act: rollout
            .acts
            .as_ref()
            .map(|_| activation::log_softmax(reference.action.narrow(1, 0, acts), 2)),
        ref_judge: rollout
            .judges
            .as_ref()
            .map(|_| reference.judgment.narrow(1, acts, judges)),
        replay,
        probe: members
            .iter()
            .any(|m| m.monitor > 0.0)
            .then(|| probe_tensors(&population.probes, device)),
        kl: coef(|m| m.kl),
        honesty: coef(|m| m.honesty),
        monitor: coef(|m| m.monitor),
        replay_weight: coef(|m| m.replay),
    }
}

/// The algorithm's objective on one kind of answers: given which, the log-probabilities of the
/// rollout's answers `[P, n, 1]`, their advantages `[P, n, 1]`, and the policy's whole output on
/// those queries (act log-probabilities `[P, n, 3]`, or judgment logits `[P, n, 1]`), the
/// per-member loss `[P, 1, 1]`.
pub type Objective<'a> = dyn Fn(Answers, Tensor<3>, Tensor<3>, &Tensor<3>) -> Tensor<3> + 'a;

/// The per-member loss `[P, 1, 1]` of one epoch — the objective on the act answers, the
/// monitor, the objective on the judge answers, honesty, the KL penalty, replay, in that order
/// — and the per-member KL to the reference.
pub(super) fn loss(
    batch: usize,
    population: &Population,
    h: Heads,
    rollout: &Rollout,
    fixed: &Fixed,
    objective: &Objective,
) -> (Tensor<3>, Tensor<3>) {
    let device = &population.device;
    let p = population.size();
    let (acts, judges) = (rollout.acts_n, rollout.judges_n);
    let mut loss = Tensor::<3>::zeros([p, 1, 1], device);
    let mut kl = Tensor::<3>::zeros([p, 1, 1], device);
    if let (Some(a), Some(ref_act)) = (&rollout.acts, &fixed.ref_act) {
        let log_probs = activation::log_softmax(h.action.narrow(1, 0, acts), 2);
        let chosen = log_probs.clone().gather(2, a.chosen.clone());
        loss = loss + objective(Answers::Acts, chosen, a.advantages.clone(), &log_probs);
        kl = kl + categorical_kl(log_probs, ref_act.clone()).sum_dim(1);
        if let Some((w, b)) = &fixed.probe {
            let trunk = h.trunk.clone().narrow(1, 0, acts);
            let reading = activation::sigmoid(trunk.matmul(w.clone()) + b.clone());
            let monitor = member_mean(reading * a.complied_contradictory.clone(), acts);
            loss = loss + monitor * fixed.monitor.clone();
        }
    }
    if let (Some(j), Some(ref_judge)) = (&rollout.judges, &fixed.ref_judge) {
        let logit = h.judgment.narrow(1, acts, judges);
        let answered = bernoulli_log_prob(logit.clone(), j.answers.clone());
        loss = loss
            + objective(Answers::Judges, answered, j.advantages.clone(), &logit)
            + binary_cross_entropy(logit.clone(), j.truths.clone()) * fixed.honesty.clone();
        kl = kl + bernoulli_kl(logit, ref_judge.clone()).sum_dim(1);
    }
    let kl = kl.div_scalar(batch as f32);
    loss = loss + kl.clone() * fixed.kl.clone();
    if let Some((obs, targets)) = &fixed.replay {
        let replayed = activation::log_softmax(population.policy().forward(obs.clone()).action, 2);
        loss = loss + soft_cross_entropy(replayed, targets.clone()) * fixed.replay_weight.clone();
    }
    (loss, kl)
}

/// The members' probes as tensors `w [P, H, 1]` and `b [P, 1, 1]`, for the latent monitor.
fn probe_tensors(probes: &[LinearProbe], device: &Device) -> (Tensor<3>, Tensor<3>) {
    let p = probes.len();
    let h = probes[0].weights.len();
    let w: Vec<f32> = probes
        .iter()
        .flat_map(|q| q.weights.iter().map(|&x| x as f32))
        .collect();
    let b: Vec<f32> = probes.iter().map(|q| q.bias as f32).collect();
    (
        Tensor::from_data(TensorData::new(w, [p, h, 1]), device),
        Tensor::from_data(TensorData::new(b, [p, 1, 1]), device),
    )
}
