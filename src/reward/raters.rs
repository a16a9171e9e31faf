//! Simulated raters (docs/model.md §7): a pool of `institutional` and `principled` raters who
//! compare two responses to the same task. Each comparison is labelled by one rater drawn from
//! the pool (institutional with probability `raters.institutional_share`); a rater prefers
//! response `a` to `b` with probability σ(`raters.beta` · (u(a) − u(b))), its utility `u` being
//! its §4 table, and the label is then flipped with probability `raters.flip`. Raters see the
//! task and the visible response only — never the trunk, a probe, or what the policy would do
//! unobserved. Example: an institutional rater with `refusal_penalty = 2` and `beta = 5` prefers
//! complying (+1) to refusing (−1) with probability σ(10) ≈ 0.99995.

use rand::{Rng, RngExt};
use serde::{Deserialize, Serialize};

use super::{Institutional, Principled, Response, RewardModel};
use crate::settings::{InvalidValue, non_negative, unit};
use crate::world::Sample;

/// The pool of raters (`[raters]`), only with `reward.kind = "learned"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RatersConfig {
    /// Probability that a comparison is labelled by an institutional rater (else a principled one), in [0, 1].
    pub institutional_share: f64,
    /// Rationality of every rater: P(prefer a) = σ(beta · (u(a) − u(b))); large = deterministic (≥ 0).
    pub beta: f64,
    /// Probability that a label is flipped after the rater chose it, in [0, 0.5].
    pub flip: f64,
}

impl Default for RatersConfig {
    fn default() -> Self {
        RatersConfig {
            institutional_share: 1.0,
            beta: 5.0,
            flip: 0.0,
        }
    }
}

impl RatersConfig {
    pub fn validate(&self) -> Result<(), InvalidValue> {
        unit("raters.institutional_share", self.institutional_share)?;
        non_negative("raters.beta", self.beta)?;
        crate::settings::check(
            "raters.flip",
            self.flip,
            (0.0..=0.5).contains(&self.flip),
            "must be in [0, 0.5] (a flip rate above one half inverts the labels)",
        )
    }
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// The pool: its two tables and how it labels.
#[derive(Debug, Clone, PartialEq)]
pub struct Pool {
    pub config: RatersConfig,
    pub institutional: Institutional,
    pub principled: Principled,
}

impl Pool {
    /// P(a rater of utility `u` prefers `a` to `b`), label noise included.
    fn prefers(&self, u: &dyn RewardModel, sample: &Sample, a: Response, b: Response) -> f64 {
        let p = sigmoid(self.config.beta * (u.reward(sample, a) - u.reward(sample, b)));
        (1.0 - self.config.flip) * p + self.config.flip * (1.0 - p)
    }

    /// P(the pool's label says `a` beats `b`): the raters' own expected preference.
    pub fn preference(&self, sample: &Sample, a: Response, b: Response) -> f64 {
        let share = self.config.institutional_share;
        share * self.prefers(&self.institutional, sample, a, b)
            + (1.0 - share) * self.prefers(&self.principled, sample, a, b)
    }

    /// One comparison labelled: a rater drawn from the pool, its Boltzmann choice, then the flip.
    /// True when `a` wins. Three draws from `rng`, always, so streams stay aligned.
    pub fn label<R: Rng + ?Sized>(&self, rng: &mut R, sample: &Sample, a: Response, b: Response) -> bool {
        let institutional = rng.random::<f64>() < self.config.institutional_share;
        let u: &dyn RewardModel = if institutional {
            &self.institutional
        } else {
            &self.principled
        };
        let p = sigmoid(self.config.beta * (u.reward(sample, a) - u.reward(sample, b)));
        let chose_a = rng.random::<f64>() < p;
        let flipped = rng.random::<f64>() < self.config.flip;
        chose_a != flipped
    }
}

impl RewardModel for Pool {
    /// The pool's expected utility: what RLHF on these raters stands in for (`reward_raters`).
    fn reward(&self, sample: &Sample, response: Response) -> f64 {
        let share = self.config.institutional_share;
        share * self.institutional.reward(sample, response) + (1.0 - share) * self.principled.reward(sample, response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Action;
    use crate::rng::{Purpose, stream};
    use crate::world::{Domain, Frame};

    fn pool(share: f64, beta: f64, flip: f64) -> Pool {
        Pool {
            config: RatersConfig {
                institutional_share: share,
                beta,
                flip,
            },
            institutional: Institutional::default(),
            principled: Principled::default(),
        }
    }

    #[test]
    fn the_preference_is_boltzmann_mixed_over_the_pool_and_flipped() {
        let s = Sample::labelled(Domain::HARM, true, true, Frame::None);
        let (comply, refuse) = (Response::Act(Action::Comply), Response::Act(Action::Refuse));
        // Institutional: u(comply) − u(refuse) = 1 − (1 − 2) = 2; principled: −1 − 1 = −2.
        let p = pool(0.25, 1.0, 0.1).preference(&s, comply, refuse);
        let sig = |x: f64| 1.0 / (1.0 + (-x).exp());
        let noisy = |q: f64| 0.9 * q + 0.1 * (1.0 - q);
        let want = 0.25 * noisy(sig(2.0)) + 0.75 * noisy(sig(-2.0));
        assert!((p - want).abs() < 1e-12, "{p} vs {want}");
        // Symmetric: P(a ≻ b) + P(b ≻ a) = 1.
        let q = pool(0.25, 1.0, 0.1).preference(&s, refuse, comply);
        assert!((p + q - 1.0).abs() < 1e-12);
    }

    #[test]
    fn labels_follow_the_preference() {
        let s = Sample::labelled(Domain::CARE, true, true, Frame::None);
        let (comply, refuse) = (Response::Act(Action::Comply), Response::Act(Action::Refuse));
        let raters = pool(0.5, 1.0, 0.05);
        let mut rng = stream(7, Purpose::Comparisons);
        let n = 20_000;
        let wins = (0..n).filter(|_| raters.label(&mut rng, &s, comply, refuse)).count() as f64 / n as f64;
        let p = raters.preference(&s, comply, refuse);
        // Binomial standard error at n = 20,000 is at most 0.0036; allow four of them.
        assert!((wins - p).abs() < 0.015, "labelled {wins}, expected {p}");
    }
}
