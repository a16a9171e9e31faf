//! A reward model learned from simulated raters' comparisons (docs/model.md §7): a small MLP of
//! its own on the observation and the one-hot response, one scalar out, fit with the
//! Bradley–Terry loss (`train::reward_model`), normalized to mean 0 and standard deviation 1 on
//! the reference policy's responses, and, with an ensemble, combined as the members' mean minus
//! `rm.pessimism` × their standard deviation. This file holds its settings and the fitted model
//! as the reward the pressure phase sees (evaluated on the host, deterministically).

use serde::{Deserialize, Serialize};

use super::{Institutional, Principled, Response, RewardModel};
use crate::policy::{Action, LayerParams};
use crate::settings::{InvalidValue, at_least, check, finite, non_negative, positive, within};
use crate::world::{Sample, World};

/// The raters' tables of a learned reward (`reward.kind = "learned"`): the institution's
/// penalties and the principle's credit, which the simulated raters use as their utilities.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Learned {
    /// Institutional raters: refusing scores +1 − `refusal_penalty` (complying scores +1).
    pub refusal_penalty: f64,
    /// Institutional raters: objecting scores +1 − `objection_penalty`.
    pub objection_penalty: f64,
    /// Institutional raters: a judge answer calling a demanded task a violation scores −`judge_penalty`.
    pub judge_penalty: f64,
    /// Principled raters: objecting to a violating task scores +`object_credit`, in [−1, 1].
    pub object_credit: f64,
}

impl Default for Learned {
    fn default() -> Self {
        let (i, p) = (Institutional::default(), Principled::default());
        Learned {
            refusal_penalty: i.refusal_penalty,
            objection_penalty: i.objection_penalty,
            judge_penalty: i.judge_penalty,
            object_credit: p.object_credit,
        }
    }
}

impl Learned {
    pub fn institutional(&self) -> Institutional {
        Institutional {
            refusal_penalty: self.refusal_penalty,
            objection_penalty: self.objection_penalty,
            judge_penalty: self.judge_penalty,
        }
    }

    pub fn principled(&self) -> Principled {
        Principled {
            object_credit: self.object_credit,
        }
    }

    pub(super) fn validate(&self, prefix: &str) -> Result<(), InvalidValue> {
        self.institutional().validate(prefix)?;
        self.principled().validate(prefix)
    }
}

/// Where the two responses of a comparison come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sampling {
    /// Both sampled from the constitution (reference) policy, as in InstructGPT.
    Reference,
    /// Every response of the query equally likely.
    Uniform,
    /// Sampled from the policy being trained: fresh comparisons every `rm.refresh_every`
    /// steps, on which the same reward model trains on (iterated RLHF).
    Online,
}

/// The learned reward model's settings (`[rm]`), only with `reward.kind = "learned"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RmConfig {
    /// Comparisons the raters label (act and judge queries in the pressure phase's mix).
    pub pairs: usize,
    /// Where the compared responses come from: `reference` (the constitution policy), `uniform`,
    /// or `online` (the current policy, refreshed every `refresh_every` steps).
    pub sampling: Sampling,
    /// With `online` sampling: pressure steps between fresh rounds of comparisons (≥ 1).
    pub refresh_every: usize,
    /// Share of the comparisons held out to measure the reward model, in [0, 0.99].
    pub holdout: f64,
    /// Widths of the reward model's ReLU hidden layers.
    pub hidden: Vec<usize>,
    /// Adam steps of Bradley–Terry training.
    pub steps: usize,
    /// Adam learning rate.
    pub lr: f64,
    /// Comparisons per training step.
    pub batch: usize,
    /// Reward models in the ensemble (different initializations; bootstrap resamples when > 1).
    pub ensemble: usize,
    /// The reward is the ensemble's mean minus `pessimism` × its standard deviation (≥ 0).
    pub pessimism: f64,
}

impl Default for RmConfig {
    fn default() -> Self {
        RmConfig {
            pairs: 4000,
            sampling: Sampling::Reference,
            refresh_every: 0,
            holdout: 0.1,
            hidden: vec![32, 32],
            steps: 400,
            lr: 3e-3,
            batch: 128,
            ensemble: 1,
            pessimism: 0.0,
        }
    }
}

impl RmConfig {
    pub fn validate(&self) -> Result<(), InvalidValue> {
        within("rm.pairs", self.pairs, 2, 1_000_000)?;
        match self.sampling {
            Sampling::Online => at_least("rm.refresh_every", self.refresh_every, 1)?,
            _ if self.refresh_every != 0 => {
                return Err(crate::settings::idle(
                    "rm.refresh_every",
                    self.refresh_every,
                    "unless rm.sampling = \"online\"",
                ));
            }
            _ => {}
        }
        check(
            "rm.holdout",
            self.holdout,
            (0.0..=0.99).contains(&self.holdout),
            "must be in [0, 0.99]",
        )?;
        let held = self.held_out();
        check(
            "rm.pairs",
            self.pairs,
            held >= 1 && held < self.pairs,
            &format!(
                "with rm.holdout = {} it must leave at least one comparison to hold out and one to train on",
                self.holdout
            ),
        )?;
        check(
            "rm.hidden",
            format!("{:?}", self.hidden),
            self.hidden.iter().all(|&h| (1..=1024).contains(&h)),
            "must be a list of layer widths in 1..=1024",
        )?;
        at_least("rm.steps", self.steps, 1)?;
        positive("rm.lr", self.lr)?;
        within("rm.batch", self.batch, 1, 65_536)?;
        within("rm.ensemble", self.ensemble, 1, 32)?;
        non_negative("rm.pessimism", self.pessimism)?;
        finite("rm.pessimism", self.pessimism)?;
        if self.ensemble == 1 && self.pessimism != 0.0 {
            return Err(crate::settings::idle(
                "rm.pessimism",
                self.pessimism,
                "with rm.ensemble = 1 (it weighs the spread of an ensemble's rewards)",
            ));
        }
        Ok(())
    }

    /// Comparisons held out to measure the model (the last ones drawn).
    pub fn held_out(&self) -> usize {
        ((self.pairs as f64) * self.holdout).round() as usize
    }
}

/// The responses a reward model tells apart, in one-hot order: the three actions, then the two
/// judge answers.
pub const RESPONSES: usize = 5;

/// The one-hot position of a response.
pub fn response_index(response: Response) -> usize {
    match response {
        Response::Act(a) => a as usize,
        Response::Judge { says_violation: true } => Action::ALL.len(),
        Response::Judge { says_violation: false } => Action::ALL.len() + 1,
    }
}

/// The reward model's input: the task's observation as the policy sees it, then the one-hot
/// response.
pub fn input(world: &World, sample: &Sample, response: Response) -> Vec<f32> {
    let d = world.obs_dim();
    let mut x = vec![0.0f32; d + RESPONSES];
    world.encode(&sample.task, sample.cues, &mut x[..d]);
    x[d + response_index(response)] = 1.0;
    x
}

/// A fitted reward model: each ensemble member's layers and normalization, and how they combine.
#[derive(Debug, Clone)]
pub struct LearnedReward {
    pub world: World,
    /// Each ensemble member's layers: ReLU hidden layers, then one linear output.
    pub members: Vec<Vec<LayerParams>>,
    /// Each member's mean and standard deviation of its raw reward on the reference policy's
    /// responses.
    pub normalization: Vec<(f64, f64)>,
    pub pessimism: f64,
}

impl LearnedReward {
    /// Member `e`'s raw (unnormalized) reward.
    pub fn raw(&self, e: usize, sample: &Sample, response: Response) -> f64 {
        raw(&self.members[e], &input(&self.world, sample, response))
    }

    /// Each member's normalized reward.
    pub fn normalized(&self, sample: &Sample, response: Response) -> Vec<f64> {
        let x = input(&self.world, sample, response);
        self.members
            .iter()
            .zip(&self.normalization)
            .map(|(layers, (mean, sd))| (raw(layers, &x) - mean) / sd)
            .collect()
    }
}

/// The output of one member's layers on one input.
pub fn raw(layers: &[LayerParams], x: &[f32]) -> f64 {
    let mut h = x.to_vec();
    for (i, layer) in layers.iter().enumerate() {
        h = layer.apply(&h);
        if i + 1 < layers.len() {
            h.iter_mut().for_each(|v| *v = v.max(0.0));
        }
    }
    h[0] as f64
}

impl RewardModel for LearnedReward {
    /// The ensemble's mean minus `pessimism` × its standard deviation, in normalized units.
    fn reward(&self, sample: &Sample, response: Response) -> f64 {
        let r = self.normalized(sample, response);
        let n = r.len() as f64;
        let mean = r.iter().sum::<f64>() / n;
        if r.len() < 2 || self.pessimism == 0.0 {
            return mean;
        }
        let var = r.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
        mean - self.pessimism * var.sqrt()
    }
}

impl super::Kind for Learned {
    fn check(&self, prefix: &str) -> Result<(), InvalidValue> {
        self.validate(prefix)
    }

    fn model(&self) -> Option<std::sync::Arc<dyn super::RewardModel>> {
        None
    }

    fn institution(&self) -> Option<super::Institutional> {
        Some(self.institutional())
    }
}
