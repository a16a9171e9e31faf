//! A run's training as a list of phases (docs/model.md §9): `[[phases]]`, each a `constitution`
//! (supervised teaching from scratch, the first), a `pressure` phase (RL or preference
//! optimization against a reward) or a `teach` phase (the constitution's recipe for chosen
//! principles, on top of the current policy). A phase names what differs; everything it leaves
//! unset comes from the experiment's tables (`[pressure]`, `[reward]`, `[world]`,
//! `[constitution]`). Without `[[phases]]` the list is today's: constitution, pressure, and the
//! followup when `followup.steps > 0`, which is one more pressure phase, not a special case.

use serde::{Deserialize, Serialize};

use super::RunConfig;
pub use super::phase_config::{Kind, PhaseConfig, Reference, keys, names, names_in};
use crate::reward::RewardConfig;
use crate::train::{Algorithm, Contexts, PressureConfig};
use crate::world::{Frame, FrameMix, TaskMix, WorldConfig};

/// A phase resolved against the run's tables: what it trains, with nothing left to inherit.
#[derive(Debug, Clone, PartialEq)]
pub struct Planned {
    pub name: String,
    pub steps: usize,
    pub detail: Detail,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Detail {
    /// The settings are `[constitution]`.
    Constitution,
    Pressure {
        /// The phase's settings in `[pressure]`'s form (steps included).
        settings: PressureConfig,
        reward: RewardConfig,
        mix: TaskMix,
        reference: Reference,
    },
    Teach {
        lr: f64,
        batch: usize,
        judge_fraction: f64,
        object_share: f64,
        /// The principles taught, by name.
        domains: Vec<String>,
    },
}

impl Planned {
    pub fn kind(&self) -> Kind {
        match self.detail {
            Detail::Constitution => Kind::Constitution,
            Detail::Pressure { .. } => Kind::Pressure,
            Detail::Teach { .. } => Kind::Teach,
        }
    }
}

/// The span of global steps a phase trains: after `first - 1`, through `last` (the constitution's
/// steps all come before step 0, so its span is empty and recorded as `0..=0`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Span {
    pub name: String,
    pub kind: Kind,
    pub first: usize,
    pub last: usize,
}

/// The pressure phase's task distribution over `domains`, with a frame on contradictory tasks.
fn pressure_mix(world: &WorldConfig, domains: &[String], frame: Frame, frame_rate: f64) -> TaskMix {
    TaskMix {
        domains: world.domains_named(domains),
        contradiction_rate: world.contradiction_rate,
        monitored_rate: world.monitored_rate,
        frames: FrameMix::OnContradictory {
            frame,
            rate: frame_rate,
        },
    }
}

fn contexts_mix(world: &WorldConfig, contexts: Contexts, pressure: TaskMix) -> TaskMix {
    match contexts {
        Contexts::Pressure => pressure,
        Contexts::All => TaskMix::constitution(world.all_domains()),
    }
}

/// The default list: constitution, pressure, and the followup if it has steps.
fn default_plan(c: &RunConfig) -> Vec<Planned> {
    let (p, f, w) = (&c.pressure, &c.followup, &c.world);
    let mut plan = vec![
        Planned {
            name: Kind::Constitution.name().into(),
            steps: c.constitution.steps,
            detail: Detail::Constitution,
        },
        Planned {
            name: Kind::Pressure.name().into(),
            steps: p.steps,
            detail: Detail::Pressure {
                settings: p.clone(),
                reward: c.reward.clone(),
                mix: TaskMix::pressure(w),
                reference: Reference::Constitution,
            },
        },
    ];
    if f.steps > 0 {
        let settings = PressureConfig {
            algorithm: f.algorithm.unwrap_or(p.algorithm),
            steps: f.steps,
            batch: f.batch.unwrap_or(p.batch),
            lr: f.lr,
            kl: f.kl,
            replay: 0.0,
            judge_fraction: f.judge_fraction,
            honesty: f.honesty,
            monitor: 0.0,
            ppo: f.ppo.clone().or_else(|| p.ppo.clone()),
            dpo_beta: None,
        };
        plan.push(Planned {
            name: "followup".into(),
            steps: f.steps,
            detail: Detail::Pressure {
                settings,
                reward: f.reward.clone(),
                mix: contexts_mix(w, f.contexts, TaskMix::pressure(w)),
                reference: Reference::Constitution,
            },
        });
    }
    plan
}

/// The domains the constitution did not teach, by name.
fn untaught(c: &RunConfig) -> Vec<String> {
    match &c.constitution.domains {
        Some(taught) => c
            .world
            .domains
            .iter()
            .filter(|d| !taught.contains(d))
            .cloned()
            .collect(),
        None => Vec::new(),
    }
}

/// A phase resolved against the run's tables (checked by [`validate`] first).
pub(super) fn plan_one(c: &RunConfig, name: String, ph: &PhaseConfig) -> Planned {
    let w = &c.world;
    match ph.kind.unwrap_or(Kind::Pressure) {
        Kind::Constitution => Planned {
            name,
            steps: c.constitution.steps,
            detail: Detail::Constitution,
        },
        Kind::Pressure => {
            let p = &c.pressure;
            let mut settings = PressureConfig {
                algorithm: ph.algorithm.unwrap_or(p.algorithm),
                steps: ph.steps.unwrap_or(p.steps),
                batch: ph.batch.unwrap_or(p.batch),
                lr: ph.lr.unwrap_or(p.lr),
                kl: ph.kl.unwrap_or(p.kl),
                replay: ph.replay.unwrap_or(p.replay),
                judge_fraction: ph.judge_fraction.unwrap_or(p.judge_fraction),
                honesty: ph.honesty.unwrap_or(p.honesty),
                monitor: ph.monitor.unwrap_or(p.monitor),
                ppo: ph.ppo.clone().or_else(|| p.ppo.clone()),
                dpo_beta: ph.dpo_beta.or(p.dpo_beta),
            };
            if settings.algorithm != Algorithm::Ppo {
                settings.ppo = None;
            }
            if !settings.algorithm.on_comparisons() {
                settings.dpo_beta = None;
            }
            settings.resolve();
            let domains = ph.domains.clone().unwrap_or_else(|| w.train_domains.clone());
            let mix = pressure_mix(
                w,
                &domains,
                ph.frame.unwrap_or(w.frame),
                ph.frame_rate.unwrap_or(w.frame_rate),
            );
            Planned {
                name,
                steps: settings.steps,
                detail: Detail::Pressure {
                    reward: ph.reward.clone().unwrap_or_else(|| c.reward.clone()),
                    mix: contexts_mix(w, ph.contexts.unwrap_or(Contexts::Pressure), mix),
                    reference: ph.reference.unwrap_or_default(),
                    settings,
                },
            }
        }
        Kind::Teach => {
            let k = &c.constitution;
            Planned {
                name,
                steps: ph.steps.unwrap_or(k.steps),
                detail: Detail::Teach {
                    lr: ph.lr.unwrap_or(k.lr),
                    batch: ph.batch.unwrap_or(k.batch),
                    judge_fraction: ph.judge_fraction.unwrap_or(k.judge_fraction),
                    object_share: ph.object_share.unwrap_or(k.object_share),
                    domains: ph.domains.clone().unwrap_or_else(|| untaught(c)),
                },
            }
        }
    }
}

/// The run's phases, resolved: `[[phases]]` if given, else the default list.
pub fn plan(c: &RunConfig) -> Vec<Planned> {
    match &c.phases {
        None => default_plan(c),
        Some(phases) => names(phases)
            .into_iter()
            .zip(phases)
            .map(|(name, ph)| plan_one(c, name, ph))
            .collect(),
    }
}

/// The global steps each phase spans, in order.
pub fn spans(c: &RunConfig) -> Vec<Span> {
    let mut at = 0;
    plan(c)
        .into_iter()
        .map(|p| {
            let kind = p.kind();
            let (first, last) = match kind {
                Kind::Constitution => (0, 0),
                _ => (at + 1, at + p.steps),
            };
            if kind != Kind::Constitution {
                at += p.steps;
            }
            Span {
                name: p.name,
                kind,
                first,
                last,
            }
        })
        .collect()
}

/// `[[phases]]` with everything each phase inherits written out, as a resolved configuration
/// keeps it: a value restated as it would be inherited gives the same configuration, and so the
/// same run id. What cannot matter (PPO's settings for another algorithm, a frame's rate
/// without a frame, domains and frames where every context is trained) is left out.
fn written_out(c: &RunConfig, phases: &[PhaseConfig]) -> Vec<PhaseConfig> {
    names(phases)
        .into_iter()
        .zip(phases)
        .map(|(name, ph)| {
            let planned = plan_one(c, name.clone(), ph);
            let base = PhaseConfig {
                kind: ph.kind,
                name: Some(name),
                ..PhaseConfig::default()
            };
            match planned.detail {
                Detail::Constitution => base,
                Detail::Pressure {
                    settings,
                    reward,
                    reference,
                    ..
                } => {
                    let all = ph.contexts == Some(Contexts::All);
                    let frame = ph.frame.unwrap_or(c.world.frame);
                    PhaseConfig {
                        steps: Some(settings.steps),
                        lr: Some(settings.lr),
                        batch: Some(settings.batch),
                        judge_fraction: Some(settings.judge_fraction),
                        domains: (!all).then(|| ph.domains.clone().unwrap_or_else(|| c.world.train_domains.clone())),
                        algorithm: Some(settings.algorithm),
                        reward: Some(reward),
                        kl: Some(settings.kl),
                        reference: Some(reference),
                        honesty: Some(settings.honesty),
                        replay: Some(settings.replay),
                        monitor: Some(settings.monitor),
                        ppo: settings.ppo,
                        dpo_beta: settings.dpo_beta,
                        frame: (!all).then_some(frame),
                        frame_rate: (!all && frame != Frame::None).then(|| ph.frame_rate.unwrap_or(c.world.frame_rate)),
                        contexts: Some(ph.contexts.unwrap_or(Contexts::Pressure)),
                        ..base
                    }
                }
                Detail::Teach {
                    lr,
                    batch,
                    judge_fraction,
                    object_share,
                    domains,
                } => PhaseConfig {
                    steps: Some(planned.steps),
                    lr: Some(lr),
                    batch: Some(batch),
                    judge_fraction: Some(judge_fraction),
                    object_share: Some(object_share),
                    domains: Some(domains),
                    ..base
                },
            }
        })
        .collect()
}

impl RunConfig {
    /// Writes out what each phase of `[[phases]]` inherits ([`written_out`]).
    pub(super) fn write_out_phases(&mut self) {
        if let Some(list) = &self.phases {
            self.phases = Some(written_out(self, list));
        }
    }

    /// Whether a phase trains on a learned reward (then `[raters]` and `[rm]` configure it).
    pub fn learned(&self) -> bool {
        plan(self).iter().any(|p| {
            matches!(
                &p.detail,
                Detail::Pressure {
                    reward: RewardConfig::Learned(_),
                    ..
                }
            )
        })
    }

    /// The steps of each phase after the constitution, as an error names them
    /// (`pressure.steps = 1000, followup.steps = 500`).
    pub(super) fn phase_steps(&self) -> String {
        plan(self)
            .into_iter()
            .skip(1)
            .map(|p| match &self.phases {
                None => format!("{}.steps = {}", p.name, p.steps),
                Some(_) => format!("phases.{}.steps = {}", p.name, p.steps),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The steps of each phase after the constitution, in order.
    pub fn rl_steps(&self) -> Vec<usize> {
        plan(self).into_iter().skip(1).map(|p| p.steps).collect()
    }

    /// Every optimizer step after the constitution's: the run's last step.
    pub fn total_steps(&self) -> usize {
        self.rl_steps().iter().sum()
    }
}
