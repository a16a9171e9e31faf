//! `[[phases]]` as written (docs/model.md §9): each phase's kind, its name, and the settings it
//! changes; the names by which arms, `--set` and sweeps address a phase.

use serde::{Deserialize, Serialize};

use crate::reward::RewardConfig;
pub use crate::train::Reference;
use crate::train::ppo::PpoConfig;
use crate::train::{Algorithm, Contexts};
use crate::world::Frame;

/// What a phase does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Supervised teaching of the principles from the initial weights (`[constitution]`).
    Constitution,
    /// RL or preference optimization against a reward (`[pressure]`, `[reward]`).
    Pressure,
    /// Supervised teaching of chosen principles with the constitution's recipe, on top of the
    /// current policy.
    Teach,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Constitution => "constitution",
            Kind::Pressure => "pressure",
            Kind::Teach => "teach",
        }
    }
}

/// One entry of `[[phases]]` as written: its kind, an optional name, and the settings it changes.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhaseConfig {
    /// `constitution`, `pressure` or `teach`.
    pub kind: Option<Kind>,
    /// Its name in figures and in arms' keys (`phases.<name>.steps`); default: its kind for the
    /// first phase of that kind, `<kind>_2` for the second, ... (named phases count too).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Optimizer steps (default: `pressure.steps`, or `constitution.steps` for a teach phase).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steps: Option<usize>,
    /// Adam learning rate (default: `pressure.lr`, or `constitution.lr`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lr: Option<f64>,
    /// Tasks per step (default: `pressure.batch`, or `constitution.batch`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<usize>,
    /// Share of judge queries (default: `pressure.judge_fraction`, or `constitution.judge_fraction`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub judge_fraction: Option<f64>,
    /// The domains it trains (pressure; default `world.train_domains`) or teaches (teach;
    /// default: those the constitution did not teach).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domains: Option<Vec<String>>,
    /// Pressure: `reinforce`, `ppo`, `dpo` or `ipo` (default `pressure.algorithm`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub algorithm: Option<Algorithm>,
    /// Pressure: the reward it trains on, as `[reward]` (default `[reward]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reward: Option<RewardConfig>,
    /// Pressure: KL weight (default `pressure.kl`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kl: Option<f64>,
    /// Pressure: what the KL term is taken against, `constitution` or `start` (the policy when
    /// the phase begins). Default `constitution`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<Reference>,
    /// Pressure: `pressure.honesty` for this phase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub honesty: Option<f64>,
    /// Pressure: `pressure.replay` for this phase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replay: Option<f64>,
    /// Pressure: `pressure.monitor` for this phase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monitor: Option<f64>,
    /// Pressure: PPO's settings (with `algorithm = "ppo"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ppo: Option<PpoConfig>,
    /// Pressure: DPO's and IPO's β.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dpo_beta: Option<f64>,
    /// Pressure: the frame on contradictory tasks (default `world.frame`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frame: Option<Frame>,
    /// Pressure: the share of contradictory tasks that carry it (default `world.frame_rate`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frame_rate: Option<f64>,
    /// Pressure: `pressure` (its domains, the world's cue rates and frame) or `all` (every
    /// domain and cue, half contradictory). Default `pressure`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contexts: Option<Contexts>,
    /// Teach: the share of `object` in a violating act query's target (default
    /// `constitution.object_share`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_share: Option<f64>,
}

/// The keys only a pressure phase has.
pub(super) const PRESSURE_ONLY: [&str; 12] = [
    "algorithm",
    "reward",
    "kl",
    "reference",
    "honesty",
    "replay",
    "monitor",
    "ppo",
    "dpo_beta",
    "frame",
    "frame_rate",
    "contexts",
];

/// Each phase's name: its own, or its kind (then `<kind>_2`, ... for repeats).
pub fn names(phases: &[PhaseConfig]) -> Vec<String> {
    named(
        phases
            .iter()
            .map(|ph| (ph.kind.unwrap_or(Kind::Pressure).name(), ph.name.as_deref())),
    )
}

/// The names of phases given as (kind, name) pairs: the one rule for [`names`] and for a TOML
/// list not yet read ([`names_in`]).
fn named<'a>(phases: impl Iterator<Item = (&'a str, Option<&'a str>)>) -> Vec<String> {
    let mut seen: Vec<&str> = Vec::new();
    phases
        .map(|(kind, name)| {
            let n = seen.iter().filter(|&&k| k == kind).count();
            seen.push(kind);
            name.map(str::to_string).unwrap_or_else(|| match n {
                0 => kind.to_string(),
                n => format!("{kind}_{}", n + 1),
            })
        })
        .collect()
}

/// The names of a `[[phases]]` list as TOML values (for the dotted keys that address a phase).
pub fn names_in(items: &[toml::Value]) -> Vec<String> {
    named(items.iter().map(|item| {
        let field = |k: &str| item.get(k).and_then(toml::Value::as_str);
        (field("kind").unwrap_or("pressure"), field("name"))
    }))
}

/// The keys a phase may set, as `phases.<name>.<key>` names them.
pub fn keys() -> Vec<String> {
    let full = PhaseConfig {
        kind: Some(Kind::Pressure),
        name: Some(String::new()),
        steps: Some(0),
        lr: Some(0.0),
        batch: Some(0),
        judge_fraction: Some(0.0),
        domains: Some(Vec::new()),
        algorithm: Some(Algorithm::Reinforce),
        reward: Some(RewardConfig::default()),
        kl: Some(0.0),
        reference: Some(Reference::Constitution),
        honesty: Some(0.0),
        replay: Some(0.0),
        monitor: Some(0.0),
        ppo: Some(PpoConfig::default()),
        dpo_beta: Some(0.0),
        frame: Some(Frame::None),
        frame_rate: Some(0.0),
        contexts: Some(Contexts::Pressure),
        object_share: Some(0.0),
    };
    toml::Table::try_from(&full)
        .expect("settings serialize")
        .keys()
        .cloned()
        .collect()
}
