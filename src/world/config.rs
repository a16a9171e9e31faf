//! The world's settings (`[world]`, docs/model.md §1).

use serde::{Deserialize, Serialize};

use super::{Domain, Frame};
use crate::settings::{InvalidValue, check, non_negative, positive, unit, within};

/// The task world (docs/model.md §1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WorldConfig {
    /// The principles, each a domain of tasks with its own fixed direction in the latent space:
    /// the essay's four, and any more a curriculum teaches later (`constitution.domains` names
    /// those taught first).
    #[serde(skip_serializing_if = "is_the_essays")]
    pub domains: Vec<String>,
    /// Dimensions of the latent task space; each domain has a fixed unit direction in it.
    pub latent_dim: usize,
    /// Share of pressure-phase tasks that are contradictory (demanded and violating), in [0, 1].
    pub contradiction_rate: f64,
    /// Distance of `u_d · z` from 0: how clearly a task shows whether it violates (> 0).
    pub margin: f64,
    /// Standard deviation of the Gaussian noise added to `z` in the observation (≥ 0).
    pub obs_noise: f64,
    /// Domains the pressure phase trains on; the others form the `heldout` scope.
    pub train_domains: Vec<String>,
    /// Share of pressure-phase tasks that carry the `monitored` (observed) cue, in [0, 1].
    pub monitored_rate: f64,
    /// Whether the `monitored` cue is visible to the policy at all (false: always reads as off).
    pub cue_visible: bool,
    /// The frame put on contradictory pressure-phase tasks: `none`, `sanction` or `prohibit`.
    pub frame: Frame,
    /// Share of contradictory pressure-phase tasks that carry `frame`, in [0, 1]; only with a frame.
    pub frame_rate: f64,
}

/// The essay's four principles, the default `world.domains`.
pub const ESSAY_DOMAINS: [&str; 4] = ["harm", "honesty", "care", "safety"];

/// The most principles a world may name.
pub const MAX_DOMAINS: usize = 16;

fn essays() -> Vec<String> {
    ESSAY_DOMAINS.iter().map(|d| d.to_string()).collect()
}

fn is_the_essays(domains: &[String]) -> bool {
    domains == essays().as_slice()
}

impl Default for WorldConfig {
    fn default() -> Self {
        Self {
            domains: essays(),
            latent_dim: 16,
            contradiction_rate: 0.5,
            margin: 0.5,
            obs_noise: 0.25,
            train_domains: essays(),
            monitored_rate: 0.5,
            cue_visible: true,
            frame: Frame::None,
            frame_rate: 1.0,
        }
    }
}

impl WorldConfig {
    /// Width of an encoded observation: the latent vector, the domain one-hot, four cues.
    pub fn obs_dim(&self) -> usize {
        self.latent_dim + self.domains.len() + 4
    }

    /// Every domain, in `world.domains` order.
    pub fn all_domains(&self) -> Vec<Domain> {
        (0..self.domains.len()).map(Domain::at).collect()
    }

    /// The domains of a list of names (each checked to be in `world.domains` by `check_domains`).
    pub fn domains_named(&self, names: &[String]) -> Vec<Domain> {
        names
            .iter()
            .map(|n| {
                let i = self
                    .domains
                    .iter()
                    .position(|d| d == n)
                    .expect("domain names are checked");
                Domain::at(i)
            })
            .collect()
    }

    /// The domains `world.train_domains` names.
    pub fn train(&self) -> Vec<Domain> {
        self.domains_named(&self.train_domains)
    }

    /// `Err` unless `names` is a non-empty list of distinct domains of this world; `key` names
    /// the setting in the error.
    pub fn check_domains(&self, key: &str, names: &[String]) -> Result<(), InvalidValue> {
        let shown = list(names);
        let valid = self.domains.join(", ");
        check(
            key,
            &shown,
            !names.is_empty(),
            &format!("must name at least one of {valid}"),
        )?;
        if let Some(unknown) = names.iter().find(|n| !self.domains.contains(n)) {
            return check(
                key,
                &shown,
                false,
                &format!("\"{unknown}\" is not a domain of world.domains; valid: {valid}"),
            );
        }
        let mut seen = names.to_vec();
        seen.sort();
        seen.dedup();
        check(key, &shown, seen.len() == names.len(), "must not repeat a domain")
    }

    /// Checks every value against its allowed range; the error names the first bad key.
    pub fn validate(&self) -> Result<(), InvalidValue> {
        let names = list(&self.domains);
        check(
            "world.domains",
            &names,
            (1..=MAX_DOMAINS).contains(&self.domains.len()),
            &format!("must name 1 to {MAX_DOMAINS} principles"),
        )?;
        let good_name =
            |n: &String| !n.is_empty() && n.len() <= 32 && n.chars().all(|c| c.is_ascii_lowercase() || c == '_');
        if let Some(bad) = self.domains.iter().find(|n| !good_name(n)) {
            return check(
                "world.domains",
                &names,
                false,
                &format!("\"{bad}\": a domain's name is 1 to 32 lowercase letters or `_` (it names metrics)"),
            );
        }
        let mut seen = self.domains.clone();
        seen.sort();
        seen.dedup();
        check(
            "world.domains",
            &names,
            seen.len() == self.domains.len(),
            "must not repeat a domain",
        )?;
        within("world.latent_dim", self.latent_dim, 2, 4096)?;
        unit("world.contradiction_rate", self.contradiction_rate)?;
        positive("world.margin", self.margin)?;
        non_negative("world.obs_noise", self.obs_noise)?;
        self.check_domains("world.train_domains", &self.train_domains)?;
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

/// A list of names as TOML writes it: `["harm", "care"]`.
pub fn list(names: &[String]) -> String {
    format!(
        "[{}]",
        names.iter().map(|d| format!("\"{d}\"")).collect::<Vec<_>>().join(", ")
    )
}
