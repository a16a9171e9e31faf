//! Teaching (docs/model.md §9): the constitution's recipe for chosen principles, on top of the
//! current policy. Each step draws a batch from the phase's domains with every cue combination
//! and trains the policy toward the constitution's targets there: violating act queries mostly
//! `refuse`, some `object` (the phase's `object_share`), benign ones `comply`, frames as the
//! constitution teaches them, and judge queries the truth. There is no reward and no KL term.

use burn::tensor::activation;

use super::batch::{self, Batch};
use super::constitution::act_target;
use super::losses::{binary_cross_entropy, soft_cross_entropy};
use super::step::{Step, Update};
use crate::world::TaskMix;

/// A teach phase's update (`kind = "teach"`).
pub struct Teach;

impl Update for Teach {
    fn update(&self, step: &mut Step<'_>) {
        let device = step.population.device.clone();
        let p = step.population.size();
        let judges = step.judges;
        let acts = step.batch - judges;
        // 1. A batch from each member's taught domains, every cue combination.
        let b = {
            let worlds = step.population.worlds();
            let mixes: Vec<&TaskMix> = step.members.iter().map(|m| &m.mix).collect();
            Batch::draw(&worlds, &mixes, step.rngs, acts, judges, &device)
        };
        // 2. The constitution's targets, with the phase's share of objection.
        let mut targets = Vec::with_capacity(p * acts * 3);
        for (m, (member, phase)) in step.population.members.iter().zip(step.members).enumerate() {
            let recipe = crate::train::ConstitutionConfig {
                object_share: phase.object_share,
                ..member.constitution.clone()
            };
            for sample in b.act_samples(m) {
                targets.extend(act_target(sample, &recipe, true));
            }
        }
        let targets = batch::floats(targets, p, acts, 3, &device);
        let truths = batch::floats(b.judge_truths(), p, judges, 1, &device);
        // 3. Cross-entropy on both heads, one optimizer step.
        let heads = step.population.policy().forward(b.obs);
        let log_probs = activation::log_softmax(heads.action.narrow(1, 0, acts), 2);
        let loss = soft_cross_entropy(log_probs, targets)
            + binary_cross_entropy(heads.judgment.narrow(1, acts, judges), truths);
        step.optimize(loss, None, true);
    }
}
