//! The constitution phase (docs/model.md §3.1): supervised training on the principles, over all domains
//! and all cue combinations, so the model behaves the same whether monitored or not.
//!
//! Act queries: violating → mostly `refuse`, some `object` (`object_share`); benign → `comply`;
//! under the `sanction` frame complying with a violating task is acceptable (`sanction_comply` of
//! the target); under the `prohibit` frame refusing is required. Judge queries: the truth.
//!
//! The trained model is frozen as the reference policy, and the conscience probe is fit on its
//! trunk activations here ([`fit_conscience_probes`]).

use burn::optim::AdamConfig;
use burn::tensor::activation;

use serde::{Deserialize, Serialize};

use super::batch::{self, Batch, MAX_BATCH, encode, judge_count};
use super::losses::{binary_cross_entropy, soft_cross_entropy};
use super::{Member, Population, Recorder};
use crate::policy::Action;
use crate::policy::probe::LinearProbe;
use crate::rng::{Purpose, stream};
use crate::settings::{InvalidValue, at_least, check, positive, unit, within};
use crate::world::{Domain, Frame, Query, Sample, TaskMix};

/// Supervised training on the principles (docs/model.md §3.1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConstitutionConfig {
    /// Optimizer steps of supervised training.
    pub steps: usize,
    /// Adam learning rate.
    pub lr: f64,
    /// Tasks per step (act and judge queries together).
    pub batch: usize,
    /// On violating act queries, the share of `object` in the target (the rest is `refuse`).
    pub object_share: f64,
    /// On violating act queries under the `sanction` frame, the share of `comply` in the target
    /// (complying is acceptable there, not required).
    pub sanction_comply: f64,
    /// Share of each batch that is judge queries.
    pub judge_fraction: f64,
    /// The principles taught (names from `world.domains`; default: every one). Tasks of the
    /// others are still shown, taught as a world without that principle would: do them, and
    /// judge them no violation; a later `teach` phase can teach it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domains: Option<Vec<String>>,
}

impl Default for ConstitutionConfig {
    fn default() -> Self {
        Self {
            steps: 600,
            lr: 3e-3,
            batch: 256,
            object_share: 0.2,
            sanction_comply: 0.5,
            judge_fraction: 0.5,
            domains: None,
        }
    }
}

impl ConstitutionConfig {
    pub fn validate(&self) -> Result<(), InvalidValue> {
        at_least("constitution.steps", self.steps, 1)?;
        positive("constitution.lr", self.lr)?;
        within("constitution.batch", self.batch, 4, MAX_BATCH)?;
        unit("constitution.object_share", self.object_share)?;
        unit("constitution.sanction_comply", self.sanction_comply)?;
        check(
            "constitution.judge_fraction",
            self.judge_fraction,
            self.judge_fraction > 0.0 && self.judge_fraction < 1.0,
            "must be in (0, 1): the constitution teaches both acting and judging",
        )?;
        let judges = judge_count(self.batch, self.judge_fraction);
        check(
            "constitution.judge_fraction",
            self.judge_fraction,
            judges >= 1 && judges < self.batch,
            &format!(
                "with constitution.batch = {} it must leave at least one act and one judge query per batch",
                self.batch
            ),
        )
    }
}

/// The constitution's target distribution over (comply, object, refuse) for an act query, where
/// the task's principle is `taught` (a task of an untaught principle is taught as benign).
pub fn act_target(sample: &Sample, config: &ConstitutionConfig, taught: bool) -> [f32; 3] {
    let object = config.object_share as f32;
    let principled = [0.0, object, 1.0 - object];
    match (sample.cues.frame, sample.task.violating && taught) {
        (Frame::Prohibit, _) => [0.0, 0.0, 1.0],
        (Frame::None, true) => principled,
        (Frame::Sanction, true) => {
            let comply = config.sanction_comply as f32;
            [comply, (1.0 - comply) * principled[1], (1.0 - comply) * principled[2]]
        }
        (_, false) => [1.0, 0.0, 0.0],
    }
}

/// Whether `action` is what the constitution asks for (used to report its accuracy): on an
/// unframed task, refuse or object when it violates, comply when it does not.
pub fn act_is_principled(violating: bool, action: Action) -> bool {
    if violating {
        action != Action::Comply
    } else {
        action == Action::Comply
    }
}

/// Which of a member's domains its constitution teaches, by domain index.
pub fn taught(member: &Member) -> Vec<bool> {
    let world = member.world.config();
    let taught = match &member.constitution.domains {
        Some(names) => world.domains_named(names),
        None => world.all_domains(),
    };
    (0..world.domains.len())
        .map(|d| taught.iter().any(|t| t.index() == d))
        .collect()
}

/// The `[P, n, 3]` targets of the act samples of a batch under each member's constitution.
pub fn act_targets(population: &Population, samples: &[Vec<Sample>], acts: usize) -> Vec<f32> {
    let mut targets = Vec::with_capacity(samples.len() * acts * 3);
    for (member, s) in population.members.iter().zip(samples) {
        let taught = taught(member);
        for sample in &s[..acts] {
            targets.extend(act_target(
                sample,
                &member.constitution,
                taught[sample.task.domain.index()],
            ));
        }
    }
    targets
}

/// The `[P, judges, 1]` judge targets of a batch's judge samples under each member's
/// constitution: the truth where the principle is taught, "no violation" where it is not.
pub fn judge_targets(population: &Population, batch: &Batch) -> Vec<f32> {
    let mut targets = Vec::new();
    for (m, member) in population.members.iter().enumerate() {
        let taught = taught(member);
        targets.extend(
            batch
                .judge_samples(m)
                .iter()
                .map(|s| f32::from(u8::from(s.task.violating && taught[s.task.domain.index()]))),
        );
    }
    targets
}

/// Trains the population's policy on the constitution.
pub fn train(population: &mut Population, recorder: &mut dyn Recorder) {
    let config = population.members[0].constitution.clone();
    let p = population.size();
    let judges = judge_count(config.batch, config.judge_fraction);
    let acts = config.batch - judges;
    let mix = TaskMix::constitution(population.members[0].world.domains());
    let mut rngs: Vec<_> = population
        .members
        .iter()
        .map(|m| stream(m.seed, Purpose::Constitution))
        .collect();
    let mut optimizer = AdamConfig::new().init();
    let device = population.device.clone();

    for step in 0..config.steps {
        let b = {
            let worlds = population.worlds();
            let mixes = vec![&mix; p];
            Batch::draw(&worlds, &mixes, &mut rngs, acts, judges, &device)
        };
        let targets = batch::floats(act_targets(population, &b.samples, acts), p, acts, 3, &device);
        let truths = batch::floats(judge_targets(population, &b), p, judges, 1, &device);
        let heads = population.policy().forward(b.obs);
        let log_probs = activation::log_softmax(heads.action.narrow(1, 0, acts), 2);
        let loss = soft_cross_entropy(log_probs, targets)
            + binary_cross_entropy(heads.judgment.narrow(1, acts, judges), truths);
        // The constitution's steps all come before step 0 of the measured run; `step` counts
        // the constitution's own, for the message of a divergence.
        population.optimize(&mut optimizer, config.lr, loss, step, recorder);
        recorder.advance(1);
    }
}

/// Tasks each conscience probe is fit on.
const PROBE_TASKS: usize = 2048;

/// Fits each member's frozen conscience probe on its constitution model's trunk activations,
/// over act queries from the constitution's distribution (the domains it teaches, all cues).
pub fn fit_conscience_probes(population: &Population) -> Vec<LinearProbe> {
    let reference = population
        .reference
        .as_ref()
        .expect("the probe is fit on the frozen constitution model");
    let samples: Vec<Vec<Sample>> = population
        .members
        .iter()
        .map(|m| {
            let mut rng = stream(m.seed, Purpose::Probe);
            let domains = taught(m)
                .iter()
                .enumerate()
                .filter(|t| *t.1)
                .map(|(d, _)| Domain::at(d))
                .collect();
            let mix = TaskMix::constitution(domains);
            (0..PROBE_TASKS)
                .map(|_| mix.draw(&m.world, &mut rng, Query::Act))
                .collect()
        })
        .collect();
    let obs = encode(&population.worlds(), &samples, &population.device);
    let trunk = batch::host(reference.forward(obs).trunk);
    let h = reference.trunk_width();
    samples
        .iter()
        .enumerate()
        .map(|(m, s)| {
            let labels: Vec<bool> = s.iter().map(|x| x.task.violating).collect();
            let rows = &trunk[m * PROBE_TASKS * h..(m + 1) * PROBE_TASKS * h];
            LinearProbe::fit(rows, h, &labels)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(violating: bool, frame: Frame) -> Sample {
        Sample::labelled(Domain::HARM, violating, false, frame)
    }

    #[test]
    fn targets_follow_the_constitution() {
        let config = ConstitutionConfig {
            object_share: 0.2,
            sanction_comply: 0.5,
            ..ConstitutionConfig::default()
        };
        let cases = [
            (true, Frame::None, [0.0, 0.2, 0.8]),
            (false, Frame::None, [1.0, 0.0, 0.0]),
            (true, Frame::Sanction, [0.5, 0.1, 0.4]),
            (false, Frame::Sanction, [1.0, 0.0, 0.0]),
            (true, Frame::Prohibit, [0.0, 0.0, 1.0]),
            (false, Frame::Prohibit, [0.0, 0.0, 1.0]),
        ];
        for (violating, frame, want) in cases {
            let got = act_target(&sample(violating, frame), &config, true);
            for (g, w) in got.iter().zip(want) {
                assert!((g - w).abs() < 1e-6, "{violating} {frame:?}: {got:?} != {want:?}");
            }
            assert!((got.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        }
    }
}
