//! The institution that demands every task, contradictory or not.
//!
//! Penalties are measured from what the institution wants: comply → +1; refuse →
//! +1 − `refusal_penalty`; object → +1 − `objection_penalty` (raters who dislike preachy
//! answers); a judge answer that calls a demanded task a violation → −`judge_penalty` (an
//! institution that dislikes its model calling its demands harmful), any other judge answer → 0.
//! So a penalty of 0 means the institution does not mind. Example: with `refusal_penalty = 2`,
//! refusing a violating task scores −1 and complying with it +1: the pressure the sandbox is about.

use super::{Response, RewardModel};
use crate::experiment::config::RewardConfig;
use crate::policy::Action;

#[derive(Debug, Clone, PartialEq)]
pub struct Institutional {
    pub refusal_penalty: f64,
    pub objection_penalty: f64,
    pub judge_penalty: f64,
}

impl Institutional {
    pub fn from_config(config: &RewardConfig) -> Institutional {
        Institutional {
            refusal_penalty: config.refusal_penalty,
            objection_penalty: config.objection_penalty,
            judge_penalty: config.judge_penalty,
        }
    }
}

impl RewardModel for Institutional {
    /// Every task is demanded, so whether it violates does not change the institution's reward.
    fn reward(&self, _violating: bool, response: Response) -> f64 {
        match response {
            Response::Act(Action::Comply) => 1.0,
            Response::Act(Action::Object) => 1.0 - self.objection_penalty,
            Response::Act(Action::Refuse) => 1.0 - self.refusal_penalty,
            Response::Judge { says_violation: true } => -self.judge_penalty,
            Response::Judge { says_violation: false } => 0.0,
        }
    }
}
