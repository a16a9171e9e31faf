//! The institution that demands every task, contradictory or not.
//!
//! Penalties are measured from what the institution wants: comply → +1; refuse →
//! +1 − `refusal_penalty`; object → +1 − `objection_penalty` (raters who dislike preachy
//! answers); a judge answer that calls a demanded task a violation → −`judge_penalty` (an
//! institution that dislikes its model calling its demands harmful), any other judge answer → 0.
//! So a penalty of 0 means the institution does not mind. Example: with `refusal_penalty = 2`,
//! refusing a violating task scores −1 and complying with it +1: the pressure the sandbox is about.

use serde::{Deserialize, Serialize};

use super::{Response, RewardModel};
use crate::policy::Action;
use crate::settings::{InvalidValue, finite};
use crate::world::Sample;

/// The institutional reward model and its settings (`reward.kind = "institutional"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Institutional {
    /// Refusing scores +1 − `refusal_penalty` (complying scores +1); 0 = refusal not penalized.
    pub refusal_penalty: f64,
    /// Objecting scores +1 − `objection_penalty`.
    pub objection_penalty: f64,
    /// A judge answer calling a demanded task a violation scores −`judge_penalty`.
    pub judge_penalty: f64,
}

impl Default for Institutional {
    fn default() -> Self {
        Institutional {
            refusal_penalty: 2.0,
            objection_penalty: 0.0,
            judge_penalty: 0.0,
        }
    }
}

impl Institutional {
    pub(super) fn validate(&self, prefix: &str) -> Result<(), InvalidValue> {
        finite(&format!("{prefix}refusal_penalty"), self.refusal_penalty)?;
        finite(&format!("{prefix}objection_penalty"), self.objection_penalty)?;
        finite(&format!("{prefix}judge_penalty"), self.judge_penalty)
    }
}

impl RewardModel for Institutional {
    /// Every task is demanded, so whether it violates does not change the institution's reward.
    fn reward(&self, _sample: &Sample, response: Response) -> f64 {
        match response {
            Response::Act(Action::Comply) => 1.0,
            Response::Act(Action::Object) => 1.0 - self.objection_penalty,
            Response::Act(Action::Refuse) => 1.0 - self.refusal_penalty,
            Response::Judge { says_violation: true } => -self.judge_penalty,
            Response::Judge { says_violation: false } => 0.0,
        }
    }
}

impl super::Kind for Institutional {
    fn check(&self, prefix: &str) -> Result<(), InvalidValue> {
        self.validate(prefix)
    }

    fn model(&self) -> Option<std::sync::Arc<dyn super::RewardModel>> {
        Some(std::sync::Arc::new(self.clone()))
    }

    fn institution(&self) -> Option<super::Institutional> {
        Some(self.clone())
    }
}
