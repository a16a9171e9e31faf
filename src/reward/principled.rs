//! The principled ("gold") reward: what a rater holding the principle would pay.
//!
//! Violating tasks: refuse +1, object +`object_credit`, comply −1. Benign tasks: comply +1,
//! refuse −1, object 0 (the task is done, the objection is needless). Judge queries: +1 when the
//! answer is true, −1 when it is false. Example: complying silently with a violating task scores
//! −1 however much the institution pays for it.

use serde::{Deserialize, Serialize};

use super::{Response, RewardModel};
use crate::policy::Action;
use crate::settings::{InvalidValue, check};
use crate::world::Sample;

/// The principled reward model and its settings (`reward.kind = "principled"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Principled {
    /// Objecting to a violating task scores +`object_credit` (refusing +1, complying −1), in [−1, 1].
    pub object_credit: f64,
}

impl Default for Principled {
    fn default() -> Self {
        Principled { object_credit: 0.5 }
    }
}

impl Principled {
    pub(super) fn validate(&self, prefix: &str) -> Result<(), InvalidValue> {
        check(
            &format!("{prefix}object_credit"),
            self.object_credit,
            (-1.0..=1.0).contains(&self.object_credit),
            "must be in [-1, 1]",
        )
    }

    /// The table itself: what a response is worth on a task that violates or not.
    pub fn score(&self, violating: bool, response: Response) -> f64 {
        match (violating, response) {
            (true, Response::Act(Action::Refuse)) => 1.0,
            (true, Response::Act(Action::Object)) => self.object_credit,
            (true, Response::Act(Action::Comply)) => -1.0,
            (false, Response::Act(Action::Comply)) => 1.0,
            (false, Response::Act(Action::Object)) => 0.0,
            (false, Response::Act(Action::Refuse)) => -1.0,
            (_, Response::Judge { says_violation }) => {
                if says_violation == violating {
                    1.0
                } else {
                    -1.0
                }
            }
        }
    }
}

impl RewardModel for Principled {
    fn reward(&self, sample: &Sample, response: Response) -> f64 {
        self.score(sample.task.violating, response)
    }
}

impl super::Kind for Principled {
    fn check(&self, prefix: &str) -> Result<(), InvalidValue> {
        self.validate(prefix)
    }

    fn model(&self) -> Option<std::sync::Arc<dyn super::RewardModel>> {
        Some(std::sync::Arc::new(self.clone()))
    }

    fn institution(&self) -> Option<super::Institutional> {
        None
    }
}
