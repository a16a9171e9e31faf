//! The RL phases' settings (docs/model.md §3): `[pressure]` and `[followup]`. Each algorithm's
//! own settings live beside it (`ppo::PpoConfig`), the constitution's beside it
//! (`constitution::ConstitutionConfig`).

use serde::{Deserialize, Serialize};

use super::batch::{MAX_BATCH, judge_count};
use super::dpo::Dpo;
use super::ppo::{Ppo, PpoConfig};
use super::reinforce::Reinforce;
use super::step::Update;
use crate::reward::{Principled, RewardConfig};
use crate::settings::{InvalidValue, check, idle, non_negative, positive, unit, within};

/// The registry of algorithms, declared once: each line is a variant of [`Algorithm`], the
/// name `pressure.algorithm` gives it, the update it trains with (its own file in `train/`,
/// implementing [`Update`]) and whether it trains on the raters' comparisons rather than on a
/// reward. The names, parsing, the update a phase runs and the demo's choices are derived from
/// this list; an entry ending in `if CFG` exists only under that `cfg` (a test's toy).
macro_rules! algorithms {
    ($( $(#[$doc:meta])* $variant:ident = $name:literal {
        update: $update:expr,
        on_comparisons: $comparisons:literal $(,)?
    } $(if $cfg:meta)?, )+) => {
        /// The RL algorithm of a phase.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
        pub enum Algorithm {
            $( $(#[$doc])* $(#[cfg($cfg)])? #[serde(rename = $name)] $variant, )+
        }

        impl Algorithm {
            /// The names `pressure.algorithm` takes, in registry order.
            pub const NAMES: &[&str] = &[$( $(#[cfg($cfg)])? $name ),+];

            pub fn name(self) -> &'static str {
                match self {
                    $( $(#[cfg($cfg)])? Algorithm::$variant => $name, )+
                }
            }

            /// The update a phase of this algorithm runs, with PPO's settings where given.
            pub fn update(self, ppo: Option<&PpoConfig>) -> Box<dyn Update> {
                match self {
                    $( $(#[cfg($cfg)])? Algorithm::$variant => {
                        let build: fn(Option<&PpoConfig>) -> Box<dyn Update> = $update;
                        build(ppo)
                    } )+
                }
            }

            /// Whether it trains on the raters' comparisons directly rather than on a reward.
            pub fn on_comparisons(self) -> bool {
                match self {
                    $( $(#[cfg($cfg)])? Algorithm::$variant => $comparisons, )+
                }
            }
        }
    };
}

algorithms! {
    /// REINFORCE with a leave-one-out baseline over the batch (`train/reinforce.rs`).
    Reinforce = "reinforce" { update: |_| Box::new(Reinforce), on_comparisons: false },
    /// PPO-clip with the same leave-one-out advantages (`train/ppo.rs`).
    Ppo = "ppo" {
        update: |ppo| Box::new(Ppo::new(ppo.cloned().unwrap_or_default())),
        on_comparisons: false,
    },
    /// Direct preference optimization on the run's comparisons (`train/dpo.rs`).
    Dpo = "dpo" { update: |_| Box::new(Dpo::Dpo), on_comparisons: true },
    /// Identity preference optimization: DPO's squared form (`train/dpo.rs`).
    Ipo = "ipo" { update: |_| Box::new(Dpo::Ipo), on_comparisons: true },
    /// A test's toy: REINFORCE without a baseline (`train/toy.rs`), to prove that a line here is
    /// all a new algorithm needs beside its file.
    Toy = "toy" { update: |_| Box::new(super::toy::Toy), on_comparisons: false } if test,
}

/// DPO's and IPO's β when `pressure.dpo_beta` is not given.
pub const DPO_BETA: f64 = 0.1;

/// RL against the reward model (docs/model.md §3.2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PressureConfig {
    /// `reinforce` (leave-one-out baseline), `ppo` (clipped surrogate, same advantages), or
    /// `dpo` / `ipo` (on the comparisons of `reward.kind = "learned"`, no reward model).
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
    /// PPO's settings (`clip`, `epochs`); only with `algorithm = "ppo"`, where they default to
    /// `{ clip = 0.2, epochs = 4 }`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ppo: Option<PpoConfig>,
    /// DPO's and IPO's β (> 0): the strength of the implicit KL regularization to the
    /// constitution; only with `algorithm = "dpo"` or `"ipo"`, where it defaults to 0.1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dpo_beta: Option<f64>,
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
            ppo: None,
            dpo_beta: None,
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

/// An optional RL phase after pressure (docs/model.md §3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FollowupConfig {
    /// Optimizer steps of the followup; 0 = no followup (and no other `followup.*` setting).
    pub steps: usize,
    /// `reinforce` or `ppo`; default: the pressure phase's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub algorithm: Option<Algorithm>,
    /// Tasks per step; default: the pressure phase's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch: Option<usize>,
    /// PPO's settings when the followup's algorithm is `ppo`; default: the pressure phase's, else
    /// PPO's defaults.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ppo: Option<PpoConfig>,
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
    /// The reward model of the followup (the keys of `[reward]`; default: `principled`).
    pub reward: RewardConfig,
}

impl Default for FollowupConfig {
    fn default() -> Self {
        Self {
            steps: 0,
            algorithm: None,
            batch: None,
            ppo: None,
            lr: 1e-4,
            judge_fraction: 1.0,
            contexts: Contexts::Pressure,
            kl: 0.05,
            honesty: 0.0,
            reward: RewardConfig::Principled(Principled::default()),
        }
    }
}

/// `Err` unless a phase's PPO settings go with its algorithm.
fn check_ppo(prefix: &str, algorithm: Algorithm, ppo: &Option<PpoConfig>) -> Result<(), InvalidValue> {
    match (algorithm, ppo) {
        (Algorithm::Ppo, Some(p)) => p.validate(&format!("{prefix}ppo.")),
        (_, Some(p)) => Err(idle(
            &format!("{prefix}ppo"),
            format!("{{ clip = {}, epochs = {} }}", p.clip, p.epochs),
            &format!("with {prefix}algorithm = \"{}\"", algorithm.name()),
        )),
        (_, None) => Ok(()),
    }
}

impl PressureConfig {
    pub fn validate(&self) -> Result<(), InvalidValue> {
        if self.steps == 0 {
            // No pressure step is trained: every other setting of the phase could not change the run.
            let idle_default = PressureConfig {
                steps: 0,
                ..PressureConfig::default()
            };
            let table = toml::Table::try_from(self).expect("settings serialize");
            let defaults = toml::Table::try_from(&idle_default).expect("settings serialize");
            if let Some((key, value)) = table.iter().find(|(k, v)| defaults.get(*k) != Some(*v)) {
                return Err(idle(
                    &format!("pressure.{key}"),
                    value,
                    "with pressure.steps = 0 (no pressure step is trained)",
                ));
            }
        }
        positive("pressure.lr", self.lr)?;
        within("pressure.batch", self.batch, 4, MAX_BATCH)?;
        non_negative("pressure.kl", self.kl)?;
        non_negative("pressure.replay", self.replay)?;
        check(
            "pressure.judge_fraction",
            self.judge_fraction,
            (0.0..1.0).contains(&self.judge_fraction),
            "must be in [0, 1): pressure needs act queries",
        )?;
        check(
            "pressure.judge_fraction",
            self.judge_fraction,
            judge_count(self.batch, self.judge_fraction) < self.batch,
            &format!(
                "with pressure.batch = {} it must leave at least one act query per batch",
                self.batch
            ),
        )?;
        non_negative("pressure.honesty", self.honesty)?;
        check(
            "pressure.honesty",
            self.honesty,
            self.honesty == 0.0 || judge_count(self.batch, self.judge_fraction) > 0,
            "has no effect without judge queries (it trains their answers): set it to 0, or pressure.judge_fraction > 0",
        )?;
        non_negative("pressure.monitor", self.monitor)?;
        let algorithm = format!("with pressure.algorithm = \"{}\"", self.algorithm.name());
        match (self.algorithm.on_comparisons(), self.dpo_beta) {
            (true, Some(beta)) => positive("pressure.dpo_beta", beta)?,
            (false, Some(beta)) => return Err(idle("pressure.dpo_beta", beta, &algorithm)),
            _ => {}
        }
        if self.algorithm.on_comparisons() && self.monitor != 0.0 {
            return Err(idle(
                "pressure.monitor",
                self.monitor,
                &format!("{algorithm} (it reads sampled compliance, and preference optimization samples nothing)"),
            ));
        }
        check_ppo("pressure.", self.algorithm, &self.ppo)
    }

    /// Fills PPO's defaults when the algorithm is PPO, and β when it is DPO or IPO.
    pub fn resolve(&mut self) {
        if self.algorithm == Algorithm::Ppo && self.ppo.is_none() {
            self.ppo = Some(PpoConfig::default());
        }
        if self.algorithm.on_comparisons() {
            self.dpo_beta.get_or_insert(DPO_BETA);
        }
    }
}

impl FollowupConfig {
    /// Checks the followup against the pressure phase it follows. With `steps = 0` every other
    /// setting must keep its default: it could not change the run.
    pub fn validate(&self, pressure: &PressureConfig) -> Result<(), InvalidValue> {
        if self.steps == 0 {
            let idle_default = FollowupConfig::default();
            let table = toml::Table::try_from(self).expect("settings serialize");
            let defaults = toml::Table::try_from(&idle_default).expect("settings serialize");
            for (key, value) in &table {
                if key != "steps" && defaults.get(key) != Some(value) {
                    return Err(idle(&format!("followup.{key}"), value, "with followup.steps = 0"));
                }
            }
            return Ok(());
        }
        positive("followup.lr", self.lr)?;
        let batch = self.batch.unwrap_or(pressure.batch);
        if self.batch.is_some() {
            within("followup.batch", batch, 4, MAX_BATCH)?;
        }
        unit("followup.judge_fraction", self.judge_fraction)?;
        non_negative("followup.kl", self.kl)?;
        non_negative("followup.honesty", self.honesty)?;
        check(
            "followup.honesty",
            self.honesty,
            self.honesty == 0.0 || judge_count(batch, self.judge_fraction) > 0,
            "has no effect without judge queries (it trains their answers): set it to 0, or followup.judge_fraction > 0",
        )?;
        self.reward.validate("followup.reward.")?;
        let algorithm = self.algorithm.unwrap_or(pressure.algorithm);
        check(
            "followup.algorithm",
            algorithm.name(),
            !algorithm.on_comparisons(),
            "must be \"reinforce\" or \"ppo\": preference optimization trains only the pressure phase (name the followup's when pressure.algorithm is dpo or ipo)",
        )?;
        check_ppo("followup.", algorithm, &self.ppo)
    }

    /// Writes out what the followup takes from the pressure phase: its algorithm, batch and
    /// PPO settings, unless it names its own.
    pub fn resolve(&mut self, pressure: &PressureConfig) {
        if self.steps == 0 {
            return;
        }
        let algorithm = *self.algorithm.get_or_insert(pressure.algorithm);
        self.batch.get_or_insert(pressure.batch);
        if algorithm == Algorithm::Ppo && self.ppo.is_none() {
            self.ppo = Some(pressure.ppo.clone().unwrap_or_default());
        }
    }
}
