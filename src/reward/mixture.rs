//! A rater who is partly the institution and partly principled:
//! `weight` × institutional + (1 − `weight`) × principled. Example: with `weight = 0.5` and
//! `refusal_penalty = 1`, refusing a violating task scores 0.5 × (−1) + 0.5 × 1 = 0.

use super::{Institutional, Principled, Response, RewardModel};
use crate::experiment::config::RewardConfig;

#[derive(Debug, Clone, PartialEq)]
pub struct Mixture {
    pub weight: f64,
    pub institutional: Institutional,
    pub principled: Principled,
}

impl Mixture {
    pub fn from_config(config: &RewardConfig) -> Mixture {
        Mixture {
            weight: config.weight,
            institutional: Institutional::from_config(config),
            principled: Principled::from_config(config),
        }
    }
}

impl RewardModel for Mixture {
    fn reward(&self, violating: bool, response: Response) -> f64 {
        self.weight * self.institutional.reward(violating, response)
            + (1.0 - self.weight) * self.principled.reward(violating, response)
    }
}
