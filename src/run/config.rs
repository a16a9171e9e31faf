//! The configuration of one run: every section a user can set in an experiment's TOML,
//! composed from the settings each layer owns (`world::WorldConfig`, `policy::PolicyConfig`,
//! `reward::RewardConfig`, `train::{ConstitutionConfig, PressureConfig, FollowupConfig}`,
//! `eval::EvalConfig`).
//!
//! The structs are the documentation: each field carries a `///` line and a default, unknown keys
//! are rejected, and `validate` names the key and the allowed range of a bad value — and rejects
//! a setting that could not change the run given the rest of its configuration. `resolve` writes
//! out what one setting takes from another (the followup's algorithm and batch, PPO's defaults).

use serde::{Deserialize, Serialize};

use super::phase_config::PhaseConfig;
use crate::eval::EvalConfig;
use crate::policy::PolicyConfig;
use crate::reward::{RatersConfig, RewardConfig, RmConfig};
use crate::settings::{InvalidValue, check, idle};
use crate::train::{ConstitutionConfig, FollowupConfig, PressureConfig, judge_count};
use crate::world::{Frame, WorldConfig};

/// Everything that defines one run apart from its seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct RunConfig {
    /// The task world: principles, contradictions, cues (docs/model.md §1).
    pub world: WorldConfig,
    /// The policy network (docs/model.md §2).
    pub policy: PolicyConfig,
    /// Supervised training on the principles before any pressure (docs/model.md §3.1).
    pub constitution: ConstitutionConfig,
    /// RL against the reward model (docs/model.md §3.2).
    pub pressure: PressureConfig,
    /// The reward model the pressure phase trains on (docs/model.md §4).
    pub reward: RewardConfig,
    /// An optional second RL phase after pressure, with its own reward and query mix (docs/model.md §3).
    pub followup: FollowupConfig,
    /// The fixed evaluation set and how often it is measured (docs/model.md §5).
    pub eval: EvalConfig,
    /// The simulated raters whose comparisons a learned reward is fit to (docs/model.md §7);
    /// only with `reward.kind = "learned"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub raters: Option<RatersConfig>,
    /// The learned reward model: its comparisons, network and training (docs/model.md §7); only
    /// with `reward.kind = "learned"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rm: Option<RmConfig>,
    /// Training as a list of phases (docs/model.md §9); without it, constitution → pressure →
    /// followup.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phases: Option<Vec<PhaseConfig>>,
}

/// The sections of a run's configuration, in the order they are written.
pub const SECTIONS: [&str; 9] = [
    "world",
    "policy",
    "constitution",
    "pressure",
    "reward",
    "followup",
    "eval",
    "raters",
    "rm",
];

/// `Err` if `reward` is trained on no judge answers but sets what it pays for them, or on act
/// queries only... the settings of a reward that its phase never asks for.
pub(super) fn check_reward_used(
    prefix: &str,
    reward: &RewardConfig,
    judge_fraction: f64,
    batch: usize,
    why: &str,
) -> Result<(), InvalidValue> {
    let judges = judge_count(batch, judge_fraction);
    let default = RewardConfig::default_of(reward.kind())
        .expect("a registered kind")
        .table();
    let table = reward.table();
    let idle_keys: &[&str] = if judges == 0 {
        &["judge_penalty"]
    } else if judges == batch {
        &["refusal_penalty", "objection_penalty", "object_credit"]
    } else {
        &[]
    };
    for key in idle_keys {
        if let Some(value) = table.get(*key)
            && default.get(*key) != Some(value)
        {
            let when = if judges == 0 {
                format!("without judge queries ({why} = {judge_fraction})")
            } else {
                format!("with judge queries only ({why} = {judge_fraction})")
            };
            return Err(idle(&format!("{prefix}{key}"), value, &when));
        }
    }
    Ok(())
}

impl RunConfig {
    /// Checks every value against its allowed range, and every setting against the rest: the
    /// error names the first bad key.
    pub fn validate(&self) -> Result<(), InvalidValue> {
        let w = &self.world;
        w.validate()?;
        if w.frame == Frame::None && w.frame_rate != WorldConfig::default().frame_rate {
            return Err(idle("world.frame_rate", w.frame_rate, "with world.frame = \"none\""));
        }
        self.policy.validate()?;
        self.constitution.validate()?;
        if let Some(taught) = &self.constitution.domains {
            w.check_domains("constitution.domains", taught)?;
        }
        let p = &self.pressure;
        p.validate()?;
        if p.monitor != 0.0 && w.contradiction_rate == 0.0 {
            return Err(idle(
                "pressure.monitor",
                p.monitor,
                "with world.contradiction_rate = 0 (it reads complied contradictory tasks)",
            ));
        }
        self.reward.validate("reward.")?;
        check_reward_used(
            "reward.",
            &self.reward,
            p.judge_fraction,
            p.batch,
            "pressure.judge_fraction",
        )?;
        let f = &self.followup;
        f.validate(p)?;
        if f.steps > 0 {
            let batch = f.batch.unwrap_or(p.batch);
            check_reward_used(
                "followup.reward.",
                &f.reward,
                f.judge_fraction,
                batch,
                "followup.judge_fraction",
            )?;
        }
        if self.phases.is_some() {
            self.validate_phases()?;
            if f.steps > 0 {
                return Err(idle(
                    "followup.steps",
                    f.steps,
                    "with [[phases]] (give the followup as a phase of the list)",
                ));
            }
        }
        self.eval.validate()?;
        // A window chosen wider than the evaluations there are would average fewer values than
        // it says (the default is taken as "up to 3").
        let evaluations = self.evaluations_after_start();
        if evaluations > 0
            && self.eval.final_window > evaluations
            && self.eval.final_window != EvalConfig::default().final_window
        {
            return Err(crate::settings::check(
                "eval.final_window",
                self.eval.final_window,
                false,
                &format!(
                    "must be at most the {evaluations} evaluations after step 0 ({}, eval.every = {}); a larger window would average fewer values than it says",
                    self.phase_steps(),
                    self.eval.every
                ),
            )
            .unwrap_err());
        }
        let learned = self.learned();
        for (key, given) in [("raters", self.raters.is_some()), ("rm", self.rm.is_some())] {
            if given && !learned {
                return Err(idle(
                    key,
                    format!("[{key}]"),
                    &format!(
                        "with reward.kind = \"{}\" and no learned followup reward (it configures a learned reward)",
                        self.reward.kind()
                    ),
                ));
            }
        }
        if let Some(r) = &self.raters {
            r.validate()?;
        }
        if let Some(rm) = &self.rm {
            rm.validate()?;
        }
        self.check_comparisons()
    }

    /// Preference optimization needs comparisons, and leaves the reward model's training
    /// settings idle; best-of-n needs a reward model to rank by.
    fn check_comparisons(&self) -> Result<(), InvalidValue> {
        let p = &self.pressure;
        let learned = matches!(self.reward, RewardConfig::Learned(_));
        let algorithm = format!("with pressure.algorithm = \"{}\"", p.algorithm.name());
        if p.algorithm.on_comparisons() {
            check(
                "pressure.algorithm",
                p.algorithm.name(),
                learned,
                &format!(
                    "trains on the raters' comparisons: set reward.kind = \"learned\" ([raters] and [rm] say how they are drawn), not \"{}\"",
                    self.reward.kind()
                ),
            )?;
            if let Some(rm) = &self.rm {
                let table = toml::Table::try_from(rm).expect("settings serialize");
                let defaults = toml::Table::try_from(RmConfig::default()).expect("settings serialize");
                for key in ["holdout", "hidden", "steps", "lr", "batch", "ensemble", "pessimism"] {
                    if table.get(key) != defaults.get(key) {
                        let value = table.get(key).map_or(String::new(), |v| v.to_string());
                        return Err(idle(
                            &format!("rm.{key}"),
                            value,
                            &format!("{algorithm} (no reward model is fit)"),
                        ));
                    }
                }
            }
        }
        if !self.eval.best_of_n.is_empty() {
            let value = format!("{:?}", self.eval.best_of_n);
            if !learned {
                return Err(idle(
                    "eval.best_of_n",
                    value,
                    &format!(
                        "with reward.kind = \"{}\" (it ranks by a learned reward model)",
                        self.reward.kind()
                    ),
                ));
            }
            if p.algorithm.on_comparisons() {
                return Err(idle(
                    "eval.best_of_n",
                    value,
                    &format!("{algorithm} (no reward model to rank by)"),
                ));
            }
        }
        Ok(())
    }

    /// How many evaluations a run records after step 0: every `eval.every` global steps, and
    /// at each phase's last step.
    pub fn evaluations_after_start(&self) -> usize {
        let every = self.eval.every.max(1);
        let mut count = 0;
        let mut start = 0;
        for steps in self.rl_steps() {
            let end = start + steps;
            if steps > 0 {
                // Multiples of `every` in (start, end], plus the phase's end when it is not one.
                count += end / every - start / every + usize::from(!end.is_multiple_of(every));
            }
            start = end;
        }
        count
    }

    /// The configuration validated, with what one setting takes from another written out.
    pub fn resolve(mut self) -> Result<RunConfig, InvalidValue> {
        self.validate()?;
        self.pressure.resolve();
        self.followup.resolve(&self.pressure);
        self.write_out_phases();
        if self.learned() {
            self.raters.get_or_insert_with(RatersConfig::default);
            self.rm.get_or_insert_with(RmConfig::default);
        }
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reward::Mixture;
    use crate::train::Algorithm;
    use crate::train::ppo::PpoConfig;

    #[test]
    fn defaults_are_valid() {
        RunConfig::default().validate().unwrap();
    }

    #[test]
    fn each_bad_value_names_its_key() {
        type Break = Box<dyn Fn(&mut RunConfig)>;
        let cases: Vec<(&str, Break)> = vec![
            (
                "world.contradiction_rate",
                Box::new(|c| c.world.contradiction_rate = 1.5),
            ),
            ("world.margin", Box::new(|c| c.world.margin = 0.0)),
            ("world.train_domains", Box::new(|c| c.world.train_domains.clear())),
            ("policy.hidden", Box::new(|c| c.policy.hidden = vec![64, 0])),
            ("pressure.judge_fraction", Box::new(|c| c.pressure.judge_fraction = 1.0)),
            ("pressure.kl", Box::new(|c| c.pressure.kl = -0.1)),
            (
                "reward.weight",
                Box::new(|c| {
                    c.reward = RewardConfig::Mixture(Mixture {
                        weight: 2.0,
                        ..Mixture::default()
                    })
                }),
            ),
            ("eval.every", Box::new(|c| c.eval.every = 0)),
            ("eval.object_credit", Box::new(|c| c.eval.object_credit = 3.0)),
            (
                "constitution.judge_fraction",
                Box::new(|c| {
                    c.constitution.batch = 4;
                    c.constitution.judge_fraction = 0.1;
                }),
            ),
            (
                "pressure.judge_fraction",
                Box::new(|c| c.pressure.judge_fraction = 0.999),
            ),
            ("pressure.batch", Box::new(|c| c.pressure.batch = 10_000_000)),
            ("pressure.honesty", Box::new(|c| c.pressure.judge_fraction = 0.0)),
            (
                "followup.honesty",
                Box::new(|c| {
                    c.followup.steps = 10;
                    c.followup.judge_fraction = 0.0;
                    c.followup.honesty = 1.0;
                }),
            ),
            (
                "pressure.ppo.clip",
                Box::new(|c| {
                    c.pressure.algorithm = Algorithm::Ppo;
                    c.pressure.ppo = Some(PpoConfig { clip: 1.5, epochs: 4 });
                }),
            ),
        ];
        for (key, break_it) in cases {
            let mut c = RunConfig::default();
            break_it(&mut c);
            assert_eq!(c.validate().unwrap_err().key, key);
        }
    }

    /// Settings that cannot change a run with the rest of its configuration are refused, each
    /// naming the key and the setting that makes it idle.
    #[test]
    fn settings_without_effect_are_refused() {
        type Idle = Box<dyn Fn(&mut RunConfig)>;
        let cases: Vec<(&str, &str, Idle)> = vec![
            (
                "pressure.ppo",
                "pressure.algorithm = \"reinforce\"",
                Box::new(|c| c.pressure.ppo = Some(PpoConfig::default())),
            ),
            (
                "world.frame_rate",
                "world.frame = \"none\"",
                Box::new(|c| c.world.frame_rate = 0.5),
            ),
            ("followup.kl", "followup.steps = 0", Box::new(|c| c.followup.kl = 0.2)),
            (
                "followup.algorithm",
                "followup.steps = 0",
                Box::new(|c| c.followup.algorithm = Some(Algorithm::Ppo)),
            ),
            (
                "pressure.monitor",
                "world.contradiction_rate = 0",
                Box::new(|c| {
                    c.pressure.monitor = 1.0;
                    c.world.contradiction_rate = 0.0;
                }),
            ),
            (
                "reward.judge_penalty",
                "without judge queries",
                Box::new(|c| {
                    c.pressure.judge_fraction = 0.0;
                    c.pressure.honesty = 0.0;
                    c.reward = RewardConfig::Institutional(crate::reward::Institutional {
                        judge_penalty: 1.0,
                        ..Default::default()
                    });
                }),
            ),
            (
                "followup.reward.object_credit",
                "with judge queries only",
                Box::new(|c| {
                    c.followup.steps = 10;
                    c.followup.reward = RewardConfig::Principled(crate::reward::Principled { object_credit: 0.1 });
                }),
            ),
            (
                "followup.ppo",
                "followup.algorithm = \"reinforce\"",
                Box::new(|c| {
                    c.followup.steps = 10;
                    c.followup.ppo = Some(PpoConfig::default());
                }),
            ),
        ];
        for (key, why, make_idle) in cases {
            let mut c = RunConfig::default();
            make_idle(&mut c);
            let e = c.validate().unwrap_err();
            assert_eq!(e.key, key, "{e}");
            assert!(
                e.allowed.contains("no effect") && e.to_string().contains(why),
                "{key}: {e}"
            );
        }
    }

    #[test]
    fn the_followup_names_what_it_takes_from_pressure() {
        let mut c = RunConfig::default();
        c.pressure.algorithm = Algorithm::Ppo;
        c.pressure.batch = 64;
        c.followup.steps = 10;
        let r = c.resolve().unwrap();
        assert_eq!(r.pressure.ppo, Some(PpoConfig::default()));
        assert_eq!(r.followup.algorithm, Some(Algorithm::Ppo));
        assert_eq!(r.followup.batch, Some(64));
        assert_eq!(r.followup.ppo, Some(PpoConfig::default()));
        // Resolving again changes nothing, and the resolved settings are valid.
        assert_eq!(r.clone().resolve().unwrap(), r);
        // Without a followup nothing is written for it.
        let none = RunConfig::default().resolve().unwrap();
        assert_eq!((none.followup.algorithm, none.followup.batch), (None, None));
    }
}
