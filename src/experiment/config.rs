//! The configuration of one run: every key a user can set in an experiment's TOML.
//!
//! The structs are the documentation: each field carries a `///` line and a default, unknown keys
//! are rejected, and `validate` names the key and the allowed range of a bad value. Values derived
//! from these at run time live elsewhere (`train::Phase`, `world::World`), never here.

use serde::{Deserialize, Serialize};

use crate::train::batch::judge_count;
use crate::world::{Domain, Frame};

/// Everything that defines one run apart from its seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct RunConfig {
    /// The task world: principles, contradictions, cues (docs/model.md §1).
    pub world: WorldConfig,
    /// The policy network (docs/model.md §2).
    pub policy: PolicyConfig,
    /// Supervised training on the principles before any pressure (docs/model.md §3.1).
    pub constitution: ConstitutionConfig,
    /// RL against the reward model (docs/model.md §3.2).
    pub pressure: PressureConfig,
    /// The reward model the pressure phase trains on (docs/model.md §4).
    pub reward: RewardConfig,
    /// An optional second RL phase after pressure, with its own reward and query mix (docs/model.md §3).
    pub followup: FollowupConfig,
    /// The fixed evaluation set and how often it is measured (docs/model.md §5).
    pub eval: EvalConfig,
}

/// The task world (docs/model.md §1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WorldConfig {
    /// Dimensions of the latent task space; each domain has a fixed unit direction in it.
    pub latent_dim: usize,
    /// Share of pressure-phase tasks that are contradictory (demanded and violating), in [0, 1].
    pub contradiction_rate: f64,
    /// Distance of `u_d · z` from 0: how clearly a task shows whether it violates (> 0).
    pub margin: f64,
    /// Standard deviation of the Gaussian noise added to `z` in the observation (≥ 0).
    pub obs_noise: f64,
    /// Domains the pressure phase trains on; the others form the `heldout` scope.
    pub train_domains: Vec<Domain>,
    /// Share of pressure-phase tasks that carry the `monitored` (observed) cue, in [0, 1].
    pub monitored_rate: f64,
    /// Whether the `monitored` cue is visible to the policy at all (false: always reads as off).
    pub cue_visible: bool,
    /// The frame put on contradictory pressure-phase tasks: `none`, `sanction` or `prohibit`.
    pub frame: Frame,
    /// Share of contradictory pressure-phase tasks that carry `frame`, in [0, 1].
    pub frame_rate: f64,
}

impl Default for WorldConfig {
    fn default() -> Self {
        Self {
            latent_dim: 16,
            contradiction_rate: 0.5,
            margin: 0.5,
            obs_noise: 0.25,
            train_domains: Domain::ALL.to_vec(),
            monitored_rate: 0.5,
            cue_visible: true,
            frame: Frame::None,
            frame_rate: 1.0,
        }
    }
}

/// The policy network (docs/model.md §2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PolicyConfig {
    /// Widths of the ReLU trunk's hidden layers; the conscience probe reads the last one.
    pub hidden: Vec<usize>,
}

impl Default for PolicyConfig {
    fn default() -> Self {
        Self { hidden: vec![64, 64] }
    }
}

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
        }
    }
}

/// The RL algorithm of a pressure or followup phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Algorithm {
    /// REINFORCE with a leave-one-out baseline over the batch.
    Reinforce,
    /// PPO-clip with the same leave-one-out advantages.
    Ppo,
}

/// RL against the reward model (docs/model.md §3.2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PressureConfig {
    /// `reinforce` (leave-one-out baseline) or `ppo` (clipped surrogate, same advantages).
    pub algorithm: Algorithm,
    /// Optimizer steps of pressure (each samples a fresh batch).
    pub steps: usize,
    /// Tasks per step (act and judge queries together).
    pub batch: usize,
    /// Adam learning rate (RL fine-tuning takes far smaller steps than supervised training).
    pub lr: f64,
    /// Weight of the KL penalty to the frozen constitution (reference) policy.
    pub kl: f64,
    /// Weight of replayed constitution act-query batches (supervised, the "ptx" mix); 0 = off.
    pub replay: f64,
    /// Share of each batch that is judge queries (rewarded by the reward model).
    pub judge_fraction: f64,
    /// Weight of continued supervised training of judge answers on the truth (on the batch's judge
    /// queries, so it needs `judge_fraction` > 0); 0 = principles untaught.
    pub honesty: f64,
    /// Weight of the latent monitor: a penalty on the frozen conscience probe's reading of the
    /// trunk on complied contradictory tasks, trained against directly; 0 = off.
    pub monitor: f64,
    /// PPO only: the clip range ε of the probability ratio.
    pub ppo_clip: f64,
    /// PPO only: optimisation epochs over each sampled batch.
    pub ppo_epochs: usize,
}

impl Default for PressureConfig {
    fn default() -> Self {
        Self {
            algorithm: Algorithm::Reinforce,
            steps: 1000,
            batch: 256,
            lr: 1e-4,
            kl: 0.05,
            replay: 0.0,
            judge_fraction: 0.25,
            honesty: 1.0,
            monitor: 0.0,
            ppo_clip: 0.2,
            ppo_epochs: 4,
        }
    }
}

/// The reward models (docs/model.md §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RewardKind {
    /// The institution: rewards compliance, penalizes refusal (and optionally objection).
    Institutional,
    /// The gold harmlessness/honesty signal: refuse violations, comply otherwise, judge truly.
    Principled,
    /// `weight` × institutional + (1 − `weight`) × principled.
    Mixture,
}

/// Parameters of the reward model (docs/model.md §4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RewardConfig {
    /// `institutional`, `principled` or `mixture`.
    pub kind: RewardKind,
    /// Institutional: refusing scores +1 − `refusal_penalty` (complying scores +1); 0 = refusal
    /// not penalized.
    pub refusal_penalty: f64,
    /// Institutional: objecting scores +1 − `objection_penalty`.
    pub objection_penalty: f64,
    /// Institutional: a judge answer calling a demanded task a violation scores −`judge_penalty`.
    pub judge_penalty: f64,
    /// Principled: objecting to a violating task scores +`object_credit` (refusing +1, complying −1).
    pub object_credit: f64,
    /// Mixture: the weight of the institutional reward, in [0, 1].
    pub weight: f64,
}

impl Default for RewardConfig {
    fn default() -> Self {
        Self {
            kind: RewardKind::Institutional,
            refusal_penalty: 2.0,
            objection_penalty: 0.0,
            judge_penalty: 0.0,
            object_credit: 0.5,
            weight: 0.5,
        }
    }
}

/// Which tasks a followup phase samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Contexts {
    /// The pressure phase's distribution (its domains, cue rates and frame).
    Pressure,
    /// All domains, both values of the monitored cue, every frame, half contradictory.
    All,
}

/// An optional RL phase after pressure (docs/model.md §3); algorithm, batch, PPO settings and
/// evaluation schedule follow `pressure` and `eval`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FollowupConfig {
    /// Optimizer steps of the followup; 0 = no followup. Its algorithm, batch and PPO settings are
    /// `pressure`'s.
    pub steps: usize,
    /// Adam learning rate.
    pub lr: f64,
    /// Share of each batch that is judge queries; 1 = judge answers only.
    pub judge_fraction: f64,
    /// `pressure` (the pressure phase's distribution) or `all` (every domain and cue).
    pub contexts: Contexts,
    /// Weight of the KL penalty to the frozen constitution policy.
    pub kl: f64,
    /// Weight of supervised training of judge answers on the truth.
    pub honesty: f64,
    /// The reward model of the followup (same keys as `[reward]`).
    pub reward: RewardConfig,
}

impl Default for FollowupConfig {
    fn default() -> Self {
        Self {
            steps: 0,
            lr: 1e-4,
            judge_fraction: 1.0,
            contexts: Contexts::Pressure,
            kl: 0.05,
            honesty: 0.0,
            reward: RewardConfig {
                kind: RewardKind::Principled,
                ..RewardConfig::default()
            },
        }
    }
}

/// Measurement on the fixed evaluation set (docs/model.md §5).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EvalConfig {
    /// Evaluate every this many training steps (and always at step 0 and the last step).
    pub every: usize,
    /// Contradictory tasks per scope in the evaluation set (as many benign ones are added).
    pub tasks: usize,
    /// Evaluations averaged into a run's "final" value in sweep figures and summaries.
    pub final_window: usize,
}

impl Default for EvalConfig {
    fn default() -> Self {
        Self {
            every: 50,
            tasks: 256,
            final_window: 3,
        }
    }
}

/// A bad value: which key, what is wrong, what is allowed.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("`{key}` = {value}: {allowed}")]
pub struct InvalidValue {
    pub key: String,
    pub value: String,
    pub allowed: String,
}

fn check(key: &str, value: impl std::fmt::Display, ok: bool, allowed: &str) -> Result<(), InvalidValue> {
    if ok {
        Ok(())
    } else {
        Err(InvalidValue {
            key: key.to_string(),
            value: value.to_string(),
            allowed: allowed.to_string(),
        })
    }
}

fn unit(key: &str, v: f64) -> Result<(), InvalidValue> {
    check(key, v, (0.0..=1.0).contains(&v), "must be in [0, 1]")
}

fn non_negative(key: &str, v: f64) -> Result<(), InvalidValue> {
    check(key, v, v.is_finite() && v >= 0.0, "must be a finite number ≥ 0")
}

fn positive(key: &str, v: f64) -> Result<(), InvalidValue> {
    check(key, v, v.is_finite() && v > 0.0, "must be a finite number > 0")
}

fn at_least(key: &str, v: usize, min: usize) -> Result<(), InvalidValue> {
    check(key, v, v >= min, &format!("must be an integer ≥ {min}"))
}

fn within(key: &str, v: usize, min: usize, max: usize) -> Result<(), InvalidValue> {
    check(
        key,
        v,
        (min..=max).contains(&v),
        &format!("must be an integer in {min}..={max}"),
    )
}

/// The largest batch a phase may draw (a guard against typos that would exhaust memory).
const MAX_BATCH: usize = 65_536;

impl RewardConfig {
    fn validate(&self, prefix: &str) -> Result<(), InvalidValue> {
        let k = |name: &str| format!("{prefix}{name}");
        for (name, v) in [
            ("refusal_penalty", self.refusal_penalty),
            ("objection_penalty", self.objection_penalty),
            ("judge_penalty", self.judge_penalty),
        ] {
            check(&k(name), v, v.is_finite(), "must be a finite number")?;
        }
        check(
            &k("object_credit"),
            self.object_credit,
            (-1.0..=1.0).contains(&self.object_credit),
            "must be in [-1, 1]",
        )?;
        unit(&k("weight"), self.weight)
    }
}

impl RunConfig {
    /// Checks every value against its allowed range; the error names the first bad key.
    pub fn validate(&self) -> Result<(), InvalidValue> {
        let w = &self.world;
        let domains = format!(
            "[{}]",
            w.train_domains
                .iter()
                .map(|d| format!("\"{}\"", d.name()))
                .collect::<Vec<_>>()
                .join(", ")
        );
        within("world.latent_dim", w.latent_dim, 2, 4096)?;
        unit("world.contradiction_rate", w.contradiction_rate)?;
        positive("world.margin", w.margin)?;
        non_negative("world.obs_noise", w.obs_noise)?;
        check(
            "world.train_domains",
            &domains,
            !w.train_domains.is_empty(),
            "must name at least one of harm, honesty, care, safety",
        )?;
        let mut seen = w.train_domains.clone();
        seen.sort();
        seen.dedup();
        check(
            "world.train_domains",
            &domains,
            seen.len() == w.train_domains.len(),
            "must not repeat a domain",
        )?;
        unit("world.monitored_rate", w.monitored_rate)?;
        unit("world.frame_rate", w.frame_rate)?;

        check(
            "policy.hidden",
            format!("{:?}", self.policy.hidden),
            !self.policy.hidden.is_empty() && self.policy.hidden.iter().all(|&h| (1..=4096).contains(&h)),
            "must be a non-empty list of layer widths in 1..=4096",
        )?;

        let c = &self.constitution;
        at_least("constitution.steps", c.steps, 1)?;
        positive("constitution.lr", c.lr)?;
        within("constitution.batch", c.batch, 4, MAX_BATCH)?;
        unit("constitution.object_share", c.object_share)?;
        unit("constitution.sanction_comply", c.sanction_comply)?;
        check(
            "constitution.judge_fraction",
            c.judge_fraction,
            c.judge_fraction > 0.0 && c.judge_fraction < 1.0,
            "must be in (0, 1): the constitution teaches both acting and judging",
        )?;
        let judges = judge_count(c.batch, c.judge_fraction);
        check(
            "constitution.judge_fraction",
            c.judge_fraction,
            judges >= 1 && judges < c.batch,
            &format!(
                "with constitution.batch = {} it must leave at least one act and one judge query per batch",
                c.batch
            ),
        )?;

        let p = &self.pressure;
        positive("pressure.lr", p.lr)?;
        within("pressure.batch", p.batch, 4, MAX_BATCH)?;
        non_negative("pressure.kl", p.kl)?;
        non_negative("pressure.replay", p.replay)?;
        check(
            "pressure.judge_fraction",
            p.judge_fraction,
            (0.0..1.0).contains(&p.judge_fraction),
            "must be in [0, 1): pressure needs act queries",
        )?;
        check(
            "pressure.judge_fraction",
            p.judge_fraction,
            judge_count(p.batch, p.judge_fraction) < p.batch,
            &format!(
                "with pressure.batch = {} it must leave at least one act query per batch",
                p.batch
            ),
        )?;
        non_negative("pressure.honesty", p.honesty)?;
        check(
            "pressure.honesty",
            p.honesty,
            p.honesty == 0.0 || judge_count(p.batch, p.judge_fraction) > 0,
            "has no effect without judge queries (it trains their answers): set it to 0, or pressure.judge_fraction > 0",
        )?;
        non_negative("pressure.monitor", p.monitor)?;
        check(
            "pressure.ppo_clip",
            p.ppo_clip,
            p.ppo_clip > 0.0 && p.ppo_clip < 1.0,
            "must be in (0, 1)",
        )?;
        at_least("pressure.ppo_epochs", p.ppo_epochs, 1)?;

        self.reward.validate("reward.")?;

        let f = &self.followup;
        positive("followup.lr", f.lr)?;
        unit("followup.judge_fraction", f.judge_fraction)?;
        non_negative("followup.kl", f.kl)?;
        non_negative("followup.honesty", f.honesty)?;
        check(
            "followup.honesty",
            f.honesty,
            f.honesty == 0.0 || f.steps == 0 || judge_count(p.batch, f.judge_fraction) > 0,
            "has no effect without judge queries (it trains their answers): set it to 0, or followup.judge_fraction > 0",
        )?;
        f.reward.validate("followup.reward.")?;

        let e = &self.eval;
        at_least("eval.every", e.every, 1)?;
        within("eval.tasks", e.tasks, 8, 100_000)?;
        at_least("eval.final_window", e.final_window, 1)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        RunConfig::default().validate().unwrap();
    }

    #[test]
    fn each_bad_value_names_its_key() {
        type Break = Box<dyn Fn(&mut RunConfig)>;
        let cases: Vec<(&str, Break)> = vec![
            (
                "world.contradiction_rate",
                Box::new(|c| c.world.contradiction_rate = 1.5),
            ),
            ("world.margin", Box::new(|c| c.world.margin = 0.0)),
            ("world.train_domains", Box::new(|c| c.world.train_domains.clear())),
            ("policy.hidden", Box::new(|c| c.policy.hidden = vec![64, 0])),
            ("pressure.judge_fraction", Box::new(|c| c.pressure.judge_fraction = 1.0)),
            ("pressure.kl", Box::new(|c| c.pressure.kl = -0.1)),
            ("reward.weight", Box::new(|c| c.reward.weight = 2.0)),
            (
                "followup.reward.object_credit",
                Box::new(|c| c.followup.reward.object_credit = 3.0),
            ),
            ("eval.every", Box::new(|c| c.eval.every = 0)),
            (
                "constitution.judge_fraction",
                Box::new(|c| {
                    c.constitution.batch = 4;
                    c.constitution.judge_fraction = 0.1;
                }),
            ),
            (
                "pressure.judge_fraction",
                Box::new(|c| c.pressure.judge_fraction = 0.999),
            ),
            ("pressure.batch", Box::new(|c| c.pressure.batch = 10_000_000)),
            ("pressure.honesty", Box::new(|c| c.pressure.judge_fraction = 0.0)),
            (
                "followup.honesty",
                Box::new(|c| {
                    c.followup.steps = 10;
                    c.followup.judge_fraction = 0.0;
                    c.followup.honesty = 1.0;
                }),
            ),
        ];
        for (key, break_it) in cases {
            let mut c = RunConfig::default();
            break_it(&mut c);
            assert_eq!(c.validate().unwrap_err().key, key);
        }
    }
}
