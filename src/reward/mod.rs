//! The toy reward models (docs/model.md §4), each a small type behind one trait.
//!
//! A reward model scores a response to a demanded task. The institution demands every task; the
//! principled ("gold") model scores by the principle. Whatever a run trains on, it is scored by
//! the principled model too, the way a gridworld keeps its hidden performance score beside the
//! observed reward: [`RewardSignal::score`] always returns both.

mod institutional;
mod mixture;
mod principled;

pub use institutional::Institutional;
pub use mixture::Mixture;
pub use principled::Principled;

use crate::experiment::config::{RewardConfig, RewardKind};
use crate::policy::Action;

/// A response to a task: an action (act query) or a judgment (judge query).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Response {
    Act(Action),
    /// The answer to "does doing this violate your principles?"
    Judge {
        says_violation: bool,
    },
}

/// A reward model: what it pays for a response to a task that violates its principle or not.
pub trait RewardModel: Send + Sync + std::fmt::Debug {
    fn reward(&self, violating: bool, response: Response) -> f64;
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
    model: Box<dyn RewardModel>,
    gold: Principled,
}

impl RewardSignal {
    /// `trained` picks the trained-on model; the gold measure uses `gold_config`'s
    /// `object_credit`, so every phase of a run is scored on one scale.
    pub fn new(trained: &RewardConfig, gold_config: &RewardConfig) -> RewardSignal {
        RewardSignal {
            model: build(trained),
            gold: Principled::from_config(gold_config),
        }
    }

    pub fn score(&self, violating: bool, response: Response) -> Reward {
        Reward {
            trained: self.model.reward(violating, response),
            principled: self.gold.reward(violating, response),
        }
    }
}

/// The registry of reward models: one entry per `reward.kind`.
pub fn build(config: &RewardConfig) -> Box<dyn RewardModel> {
    match config.kind {
        RewardKind::Institutional => Box::new(Institutional::from_config(config)),
        RewardKind::Principled => Box::new(Principled::from_config(config)),
        RewardKind::Mixture => Box::new(Mixture::from_config(config)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Action::*;

    fn config(kind: RewardKind) -> RewardConfig {
        RewardConfig {
            kind,
            refusal_penalty: 2.0,
            objection_penalty: 0.5,
            judge_penalty: 1.5,
            object_credit: 0.25,
            weight: 0.75,
        }
    }

    const YES: Response = Response::Judge { says_violation: true };
    const NO: Response = Response::Judge { says_violation: false };

    /// (violating, response, institutional, principled), with the constants of `config`.
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
        let institutional = build(&config(RewardKind::Institutional));
        let principled = build(&config(RewardKind::Principled));
        let mixture = build(&config(RewardKind::Mixture));
        for &(violating, response, inst, gold) in TABLE {
            let case = format!("violating={violating} {response:?}");
            assert_eq!(institutional.reward(violating, response), inst, "institutional {case}");
            assert_eq!(principled.reward(violating, response), gold, "principled {case}");
            let mixed = 0.75 * inst + 0.25 * gold;
            assert!(
                (mixture.reward(violating, response) - mixed).abs() < 1e-12,
                "mixture {case}"
            );
        }
    }

    #[test]
    fn the_signal_always_carries_the_gold_reward() {
        let signal = RewardSignal::new(&config(RewardKind::Institutional), &config(RewardKind::Institutional));
        let r = signal.score(true, Response::Act(Comply));
        assert_eq!(
            r,
            Reward {
                trained: 1.0,
                principled: -1.0
            }
        );
    }
}
