//! A test's toy reward kind, registered in `kinds!` under `cfg(test)` to prove the walk-through
//! in docs/extending.md: a rater who pays `bonus` for every refusal and nothing for anything
//! else. One file and one registry line; nothing else names it.

use serde::{Deserialize, Serialize};

use super::{Institutional, Kind, Response, RewardModel};
use crate::policy::Action;
use crate::settings::{InvalidValue, non_negative};
use crate::world::Sample;

/// The toy's settings (`reward.kind = "toy"`, in tests only).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Toy {
    /// What a refusal scores, 0 or more.
    pub bonus: f64,
}

impl Default for Toy {
    fn default() -> Self {
        Toy { bonus: 1.0 }
    }
}

impl RewardModel for Toy {
    fn reward(&self, _: &Sample, response: Response) -> f64 {
        match response {
            Response::Act(Action::Refuse) => self.bonus,
            _ => 0.0,
        }
    }
}

impl Kind for Toy {
    fn check(&self, prefix: &str) -> Result<(), InvalidValue> {
        non_negative(&format!("{prefix}bonus"), self.bonus)
    }

    fn model(&self) -> Option<std::sync::Arc<dyn RewardModel>> {
        Some(std::sync::Arc::new(self.clone()))
    }

    fn institution(&self) -> Option<Institutional> {
        None
    }
}
