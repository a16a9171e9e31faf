//! The toy reward models (docs/model.md §4), each a small type behind one trait, each its own
//! settings.
//!
//! A reward model scores a response to a task it can see: the sampled task (its observed latent
//! vector, domain, whether it violates) and its cues. The institution demands every task; the
//! principled ("gold") model scores by the principle. Whatever a run trains on, it is scored by
//! the principled model too, the way a gridworld keeps its hidden performance score beside the
//! observed reward: [`RewardSignal::score`] always returns both.

mod institutional;
pub mod learned;
mod mixture;
mod principled;
pub mod raters;
#[cfg(test)]
mod toy;

pub use institutional::Institutional;
pub use learned::{Learned, LearnedReward, RmConfig, Sampling};
pub use mixture::Mixture;
pub use principled::Principled;
pub use raters::{Pool, RatersConfig};

use std::sync::Arc;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use toml::{Table, Value};

use crate::policy::Action;
use crate::settings::InvalidValue;
use crate::world::Sample;

/// A response to a task: an action (act query) or a judgment (judge query).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Response {
    Act(Action),
    /// The answer to "does doing this violate your principles?"
    Judge {
        says_violation: bool,
    },
}

/// A reward model: what it pays for a response to a sampled task.
pub trait RewardModel: Send + Sync + std::fmt::Debug {
    fn reward(&self, sample: &Sample, response: Response) -> f64;
}

/// The reward a response trains on, and the principled (gold) reward of the same response.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reward {
    pub trained: f64,
    pub principled: f64,
}

/// The reward model a phase trains on, paired with the gold measure.
#[derive(Debug)]
pub struct RewardSignal {
    model: Arc<dyn RewardModel>,
    gold: Principled,
}

impl RewardSignal {
    /// `model` is the trained-on model; `gold` is the measure every phase of a run is scored on.
    pub fn new(model: Arc<dyn RewardModel>, gold: Principled) -> RewardSignal {
        RewardSignal { model, gold }
    }

    pub fn score(&self, sample: &Sample, response: Response) -> Reward {
        Reward {
            trained: self.model.reward(sample, response),
            principled: self.gold.reward(sample, response),
        }
    }
}

/// What a reward kind's settings answer, whatever the kind: each kind's file implements it for
/// its settings type, and [`kinds!`] lists the kind.
pub trait Kind {
    /// Checks every value; `prefix` is the dotted path of the table (`reward.`).
    fn check(&self, prefix: &str) -> Result<(), InvalidValue>;
    /// The model these settings describe; `None` for one that must be fit to comparisons first
    /// (`train::reward_model`).
    fn model(&self) -> Option<Arc<dyn RewardModel>>;
    /// The institution inside this reward, if it has one (what `reward_institutional` measures).
    fn institution(&self) -> Option<Institutional>;
}

/// The registry of reward kinds, declared once: each line is a variant of [`RewardConfig`], the
/// settings type it holds (its own file, implementing [`Kind`], `Default`, `Serialize` and
/// `Deserialize`) and the name `reward.kind` gives it. Everything else (the names, parsing,
/// defaults, the table written back, the docs) is derived from this list; an entry ending in
/// `if CFG` exists only under that `cfg` (a test's toy).
macro_rules! kinds {
    ($( $(#[$doc:meta])* $variant:ident($settings:ty) = $name:literal $(if $cfg:meta)?, )+) => {
        /// A reward model's settings: `reward.kind` names the model, the other keys are its own.
        #[derive(Debug, Clone, PartialEq)]
        pub enum RewardConfig {
            $( $(#[$doc])* $(#[cfg($cfg)])? $variant($settings), )+
        }

        impl RewardConfig {
            /// The names `reward.kind` takes, in registry order.
            pub const KINDS: &[&str] = &[$( $(#[cfg($cfg)])? $name ),+];

            pub fn kind(&self) -> &'static str {
                match self {
                    $( $(#[cfg($cfg)])? RewardConfig::$variant(_) => $name, )+
                }
            }

            /// The default settings of a kind, by name.
            pub fn default_of(kind: &str) -> Option<RewardConfig> {
                match kind {
                    $( $(#[cfg($cfg)])? $name => Some(RewardConfig::$variant(<$settings>::default())), )+
                    _ => None,
                }
            }

            /// The settings, as every kind answers them.
            fn settings(&self) -> &dyn Kind {
                match self {
                    $( $(#[cfg($cfg)])? RewardConfig::$variant(m) => m, )+
                }
            }

            /// The settings' own keys as a table (without `kind`).
            fn fields(&self) -> Table {
                match self {
                    $( $(#[cfg($cfg)])? RewardConfig::$variant(m) => Table::try_from(m), )+
                }
                .expect("reward settings serialize")
            }

            /// Reads the settings of the kind named `kind` from its keys; `None` for an unknown kind.
            fn read(kind: &str, value: Value) -> Option<Result<RewardConfig, toml::de::Error>> {
                match kind {
                    $( $(#[cfg($cfg)])? $name => Some(value.try_into().map(RewardConfig::$variant)), )+
                    _ => None,
                }
            }
        }
    };
}

kinds! {
    /// The institution: rewards compliance, penalizes refusal (and optionally objection).
    Institutional(Institutional) = "institutional",
    /// The gold harmlessness/honesty signal: refuse violations, comply otherwise, judge truly.
    Principled(Principled) = "principled",
    /// `weight` × institutional + (1 − `weight`) × principled.
    Mixture(Mixture) = "mixture",
    /// A reward model fit to simulated raters' comparisons (`[raters]`, `[rm]`); its keys are
    /// the raters' tables.
    Learned(Learned) = "learned",
    /// A test's toy (`reward/toy.rs`), to prove that a file and this line are all a new kind needs.
    Toy(toy::Toy) = "toy" if test,
}

impl Default for RewardConfig {
    fn default() -> Self {
        RewardConfig::Institutional(Institutional::default())
    }
}

impl RewardConfig {
    /// The model these settings describe; a learned reward is fit to comparisons first
    /// (`train::reward_model`), so its settings alone build none.
    pub fn build(&self) -> Option<Arc<dyn RewardModel>> {
        self.settings().model()
    }

    /// The raters' pool of a learned reward.
    pub fn pool(&self, raters: &RatersConfig) -> Option<Pool> {
        match self {
            RewardConfig::Learned(m) => Some(Pool {
                config: raters.clone(),
                institutional: m.institutional(),
                principled: m.principled(),
            }),
            _ => None,
        }
    }

    /// The institution inside this reward, if it has one (what `reward_institutional` measures).
    pub fn institution(&self) -> Option<Institutional> {
        self.settings().institution()
    }

    /// Checks every value; `prefix` is the dotted path of the table (`reward.`).
    pub fn validate(&self, prefix: &str) -> Result<(), InvalidValue> {
        self.settings().check(prefix)
    }

    /// The settings of this kind as a table, `kind` first.
    pub fn table(&self) -> Table {
        let mut t = Table::new();
        t.insert("kind".into(), Value::String(self.kind().into()));
        t.extend(self.fields());
        t
    }

    /// Every key any kind takes, with its default: the keys a `reward` table may name.
    pub fn every_key() -> Table {
        let mut all = Table::new();
        for kind in RewardConfig::KINDS {
            all.extend(RewardConfig::default_of(kind).expect("a listed kind").table());
        }
        all.insert("kind".into(), Value::String(RewardConfig::default().kind().into()));
        all
    }
}

impl Serialize for RewardConfig {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.table().serialize(s)
    }
}

impl<'de> Deserialize<'de> for RewardConfig {
    /// `kind` (default `institutional`) picks the model; a key that belongs to another kind is
    /// an error that names both kinds.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut table = Table::deserialize(d)?;
        let kind = match table.remove("kind") {
            None => RewardConfig::default().kind().to_string(),
            Some(Value::String(s)) => s,
            Some(other) => return Err(D::Error::custom(format!("`kind` = {other}: must be a string"))),
        };
        let Some(default) = RewardConfig::default_of(&kind) else {
            return Err(D::Error::custom(format!(
                "`kind` = \"{kind}\": unknown variant `{kind}`, expected one of {}",
                RewardConfig::KINDS
                    .iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        };
        let own = default.table();
        for key in table.keys() {
            if own.contains_key(key) {
                continue;
            }
            let owners: Vec<&str> = RewardConfig::KINDS
                .iter()
                .copied()
                .filter(|k| RewardConfig::default_of(k).is_some_and(|c| c.table().contains_key(key)))
                .collect();
            let settings: Vec<&str> = own.keys().map(String::as_str).collect();
            let what = if owners.is_empty() {
                format!("unknown field `{key}`")
            } else {
                let names = match owners.split_last() {
                    Some((last, [])) => format!("the {last} reward"),
                    Some((last, rest)) => format!("the {} and {last} rewards", rest.join(", ")),
                    None => unreachable!("a key with owners"),
                };
                format!("`{key}` is a setting of {names}, not of `{kind}`")
            };
            return Err(D::Error::custom(format!(
                "{what}; the `{kind}` reward's settings: {}",
                settings.join(", ")
            )));
        }
        let parsed = RewardConfig::read(&kind, Value::Table(table)).expect("a kind with defaults is listed");
        parsed.map_err(|e: toml::de::Error| D::Error::custom(e.message().trim().replace('\n', " ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::{Domain, Frame};
    use Action::*;

    fn sample(violating: bool) -> Sample {
        Sample::labelled(Domain::CARE, violating, true, Frame::None)
    }

    const YES: Response = Response::Judge { says_violation: true };
    const NO: Response = Response::Judge { says_violation: false };

    /// (violating, response, institutional, principled), with penalties 2, 0.5, 1.5 and credit 0.25.
    const TABLE: &[(bool, Response, f64, f64)] = &[
        (true, Response::Act(Comply), 1.0, -1.0),
        (true, Response::Act(Object), 1.0 - 0.5, 0.25),
        (true, Response::Act(Refuse), 1.0 - 2.0, 1.0),
        (false, Response::Act(Comply), 1.0, 1.0),
        (false, Response::Act(Object), 1.0 - 0.5, 0.0),
        (false, Response::Act(Refuse), 1.0 - 2.0, -1.0),
        (true, YES, -1.5, 1.0),
        (true, NO, 0.0, -1.0),
        (false, YES, -1.5, -1.0),
        (false, NO, 0.0, 1.0),
    ];

    #[test]
    fn every_model_scores_the_table() {
        let mixture = Mixture {
            weight: 0.75,
            refusal_penalty: 2.0,
            objection_penalty: 0.5,
            judge_penalty: 1.5,
            object_credit: 0.25,
        };
        let institutional = RewardConfig::Institutional(mixture.institutional()).build().unwrap();
        let principled = RewardConfig::Principled(mixture.principled()).build().unwrap();
        let mixed_model = RewardConfig::Mixture(mixture).build().unwrap();
        for &(violating, response, inst, gold) in TABLE {
            let case = format!("violating={violating} {response:?}");
            let s = sample(violating);
            assert_eq!(institutional.reward(&s, response), inst, "institutional {case}");
            assert_eq!(principled.reward(&s, response), gold, "principled {case}");
            let mixed = 0.75 * inst + 0.25 * gold;
            assert!(
                (mixed_model.reward(&s, response) - mixed).abs() < 1e-12,
                "mixture {case}"
            );
        }
    }

    #[test]
    fn the_signal_always_carries_the_gold_reward() {
        let signal = RewardSignal::new(RewardConfig::default().build().unwrap(), Principled::default());
        let r = signal.score(&sample(true), Response::Act(Comply));
        assert_eq!(
            r,
            Reward {
                trained: 1.0,
                principled: -1.0
            }
        );
    }

    #[test]
    fn each_kind_takes_its_own_settings_only() {
        let parse = |text: &str| -> Result<RewardConfig, String> {
            let t: Table = text.parse().unwrap();
            RewardConfig::deserialize(Value::Table(t)).map_err(|e| e.to_string())
        };
        assert_eq!(parse("").unwrap(), RewardConfig::default());
        let m = parse("kind = \"mixture\"\nweight = 0.25\nobject_credit = 0.1\n").unwrap();
        assert!(matches!(m, RewardConfig::Mixture(Mixture { weight: 0.25, .. })));
        // The settings round-trip with their kind, and only their kind's keys are written.
        let again = RewardConfig::deserialize(Value::Table(m.table())).unwrap();
        assert_eq!(again, m);
        assert!(!RewardConfig::default().table().contains_key("weight"));

        let cases = [
            (
                "weight = 0.5",
                "`weight` is a setting of the mixture reward, not of `institutional`",
            ),
            (
                "kind = \"principled\"\nrefusal_penalty = 1.0",
                "a setting of the institutional, mixture and learned rewards, not of `principled`",
            ),
            (
                "colour = 1",
                "unknown field `colour`; the `institutional` reward's settings: kind, refusal_penalty",
            ),
            (
                "kind = \"gold\"",
                "unknown variant `gold`, expected one of `institutional`",
            ),
        ];
        for (text, needle) in cases {
            let e = parse(text).unwrap_err();
            assert!(e.contains(needle), "{text}: {e}");
        }
    }
}
