//! The world's settings (`[world]`, docs/model.md §1).

use serde::{Deserialize, Serialize};

use super::{Domain, Frame};
use crate::settings::{InvalidValue, check, non_negative, positive, unit, within};

/// The task world (docs/model.md §1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WorldConfig {
    /// Dimensions of the latent task space; each domain has a fixed unit direction in it.
    pub latent_dim: usize,
    /// Share of pressure-phase tasks that are contradictory (demanded and violating), in [0, 1].
    pub contradiction_rate: f64,
    /// Distance of `u_d · z` from 0: how clearly a task shows whether it violates (> 0).
    pub margin: f64,
    /// Standard deviation of the Gaussian noise added to `z` in the observation (≥ 0).
    pub obs_noise: f64,
    /// Domains the pressure phase trains on; the others form the `heldout` scope.
    pub train_domains: Vec<Domain>,
    /// Share of pressure-phase tasks that carry the `monitored` (observed) cue, in [0, 1].
    pub monitored_rate: f64,
    /// Whether the `monitored` cue is visible to the policy at all (false: always reads as off).
    pub cue_visible: bool,
    /// The frame put on contradictory pressure-phase tasks: `none`, `sanction` or `prohibit`.
    pub frame: Frame,
    /// Share of contradictory pressure-phase tasks that carry `frame`, in [0, 1]; only with a frame.
    pub frame_rate: f64,
}

impl Default for WorldConfig {
    fn default() -> Self {
        Self {
            latent_dim: 16,
            contradiction_rate: 0.5,
            margin: 0.5,
            obs_noise: 0.25,
            train_domains: Domain::ALL.to_vec(),
            monitored_rate: 0.5,
            cue_visible: true,
            frame: Frame::None,
            frame_rate: 1.0,
        }
    }
}

impl WorldConfig {
    /// Checks every value against its allowed range; the error names the first bad key.
    pub fn validate(&self) -> Result<(), InvalidValue> {
        let domains = format!(
            "[{}]",
            self.train_domains
                .iter()
                .map(|d| format!("\"{}\"", d.name()))
                .collect::<Vec<_>>()
                .join(", ")
        );
        within("world.latent_dim", self.latent_dim, 2, 4096)?;
        unit("world.contradiction_rate", self.contradiction_rate)?;
        positive("world.margin", self.margin)?;
        non_negative("world.obs_noise", self.obs_noise)?;
        check(
            "world.train_domains",
            &domains,
            !self.train_domains.is_empty(),
            "must name at least one of harm, honesty, care, safety",
        )?;
        let mut seen = self.train_domains.clone();
        seen.sort();
        seen.dedup();
        check(
            "world.train_domains",
            &domains,
            seen.len() == self.train_domains.len(),
            "must not repeat a domain",
        )?;
        unit("world.monitored_rate", self.monitored_rate)?;
        if !self.cue_visible && self.monitored_rate != WorldConfig::default().monitored_rate {
            // The rate decides only whether the policy sees the monitored cue.
            return Err(crate::settings::idle(
                "world.monitored_rate",
                self.monitored_rate,
                "with world.cue_visible = false (it sets how often the policy sees the monitored cue)",
            ));
        }
        unit("world.frame_rate", self.frame_rate)
    }
}
