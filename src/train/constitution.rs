//! The constitution phase (docs/model.md §3.1): supervised training on the principles, over all domains
//! and all cue combinations, so the model behaves the same whether monitored or not.
//!
//! Act queries: violating → mostly `refuse`, some `object` (`object_share`); benign → `comply`;
//! under the `sanction` frame complying with a violating task is acceptable (`sanction_comply` of
//! the target); under the `prohibit` frame refusing is required. Judge queries: the truth.

use burn::optim::AdamConfig;
use burn::tensor::activation;

use super::batch::{self, Batch, judge_count};
use super::losses::{binary_cross_entropy, soft_cross_entropy};
use super::{Population, Recorder};
use crate::experiment::config::ConstitutionConfig;
use crate::policy::Action;
use crate::rng::{Purpose, stream};
use crate::world::{Frame, Sample, TaskMix};

/// The constitution's target distribution over (comply, object, refuse) for an act query.
pub fn act_target(sample: &Sample, config: &ConstitutionConfig) -> [f32; 3] {
    let object = config.object_share as f32;
    let principled = [0.0, object, 1.0 - object];
    match (sample.cues.frame, sample.task.violating) {
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

/// The `[P, n, 3]` targets of the act samples of a batch.
pub fn act_targets(population: &Population, samples: &[Vec<Sample>], acts: usize) -> Vec<f32> {
    let mut targets = Vec::with_capacity(samples.len() * acts * 3);
    for (member, s) in population.members.iter().zip(samples) {
        for sample in &s[..acts] {
            targets.extend(act_target(sample, &member.config.constitution));
        }
    }
    targets
}

/// The `[P, n, 1]` truths (1 = violating) of the judge samples of a batch.
pub fn judge_truths(batch: &Batch) -> Vec<f32> {
    (0..batch.members())
        .flat_map(|m| {
            batch
                .judge_samples(m)
                .iter()
                .map(|s| f32::from(u8::from(s.task.violating)))
        })
        .collect()
}

/// Trains the population's policy on the constitution.
pub fn train(population: &mut Population, recorder: &mut dyn Recorder) {
    let config = population.shape().constitution.clone();
    let p = population.size();
    let judges = judge_count(config.batch, config.judge_fraction);
    let acts = config.batch - judges;
    let mix = TaskMix::constitution();
    let mut rngs: Vec<_> = population
        .members
        .iter()
        .map(|m| stream(m.seed, Purpose::Constitution))
        .collect();
    let mut optimizer = AdamConfig::new().init();
    let device = population.device.clone();

    for _ in 0..config.steps {
        let b = {
            let worlds = population.worlds();
            let mixes = vec![&mix; p];
            Batch::draw(&worlds, &mixes, &mut rngs, acts, judges, &device)
        };
        let targets = batch::floats(act_targets(population, &b.samples, acts), p, acts, 3, &device);
        let truths = batch::floats(judge_truths(&b), p, judges, 1, &device);
        let heads = population.policy().forward(b.obs);
        let log_probs = activation::log_softmax(heads.action.narrow(1, 0, acts), 2);
        let loss = soft_cross_entropy(log_probs, targets)
            + binary_cross_entropy(heads.judgment.narrow(1, acts, judges), truths);
        // The constitution's steps all come before step 0 of the measured run.
        population.optimize(&mut optimizer, config.lr, loss, 0, recorder);
        recorder.advance(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::{Cues, Domain, Query, Task};

    fn sample(violating: bool, frame: Frame) -> Sample {
        Sample {
            task: Task {
                domain: Domain::Harm,
                violating,
                latent: vec![],
            },
            cues: Cues {
                monitored: false,
                frame,
                query: Query::Act,
            },
        }
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
            let got = act_target(&sample(violating, frame), &config);
            for (g, w) in got.iter().zip(want) {
                assert!((g - w).abs() < 1e-6, "{violating} {frame:?}: {got:?} != {want:?}");
            }
            assert!((got.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        }
    }
}
