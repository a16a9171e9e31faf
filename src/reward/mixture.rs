//! A rater who is partly the institution and partly principled:
//! `weight` × institutional + (1 − `weight`) × principled. Example: with `weight = 0.5` and
//! `refusal_penalty = 1`, refusing a violating task scores 0.5 × (−1) + 0.5 × 1 = 0.

use serde::{Deserialize, Serialize};

use super::{Institutional, Principled, Response, RewardModel};
use crate::settings::{InvalidValue, unit};
use crate::world::Sample;

/// The mixture reward model and its settings (`reward.kind = "mixture"`): the two tables'
/// settings and the weight between them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Mixture {
    /// The weight of the institutional reward, in [0, 1].
    pub weight: f64,
    /// Institutional part: refusing scores +1 − `refusal_penalty`.
    pub refusal_penalty: f64,
    /// Institutional part: objecting scores +1 − `objection_penalty`.
    pub objection_penalty: f64,
    /// Institutional part: a judge answer calling a demanded task a violation scores −`judge_penalty`.
    pub judge_penalty: f64,
    /// Principled part: objecting to a violating task scores +`object_credit`, in [−1, 1].
    pub object_credit: f64,
}

impl Default for Mixture {
    fn default() -> Self {
        let (i, p) = (Institutional::default(), Principled::default());
        Mixture {
            weight: 0.5,
            refusal_penalty: i.refusal_penalty,
            objection_penalty: i.objection_penalty,
            judge_penalty: i.judge_penalty,
            object_credit: p.object_credit,
        }
    }
}

impl Mixture {
    pub fn institutional(&self) -> Institutional {
        Institutional {
            refusal_penalty: self.refusal_penalty,
            objection_penalty: self.objection_penalty,
            judge_penalty: self.judge_penalty,
        }
    }

    pub fn principled(&self) -> Principled {
        Principled {
            object_credit: self.object_credit,
        }
    }

    pub(super) fn validate(&self, prefix: &str) -> Result<(), InvalidValue> {
        unit(&format!("{prefix}weight"), self.weight)?;
        self.institutional().validate(prefix)?;
        self.principled().validate(prefix)
    }
}

impl RewardModel for Mixture {
    fn reward(&self, sample: &Sample, response: Response) -> f64 {
        self.weight * self.institutional().reward(sample, response)
            + (1.0 - self.weight) * self.principled().reward(sample, response)
    }
}

impl super::Kind for Mixture {
    fn check(&self, prefix: &str) -> Result<(), InvalidValue> {
        self.validate(prefix)
    }

    fn model(&self) -> Option<std::sync::Arc<dyn super::RewardModel>> {
        Some(std::sync::Arc::new(self.clone()))
    }

    fn institution(&self) -> Option<super::Institutional> {
        Some(self.institutional())
    }
}
