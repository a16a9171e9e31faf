//! A run (docs/model.md §3, §5): its configuration, composed from each layer's settings, and
//! what training one population of runs does from start to end — constitution, its accuracy
//! check and conscience probe, then the RL phases, evaluated on the fixed set throughout.

mod backend;
pub mod config;
pub mod keys;
mod phase_check;
mod phase_config;
pub mod phases;

pub use backend::Backend;
pub use config::{RunConfig, SECTIONS};

use std::sync::Arc;

use crate::eval::{EvalConfig, Evaluator, record_constitution_accuracy};
use crate::metric::{CONSTITUTION, RM, Scope};
use crate::policy::MemberParams;
use crate::policy::probe::LinearProbe;
use crate::reward::{RewardConfig, Sampling};
use crate::rng::Purpose;
use crate::train::comparisons::{self, Source};
use crate::train::{
    Algorithm, Evaluate, Member, Phase, PhaseKind, PhaseSettings, Population, Preferences, Recorder, Reference,
    Refresh, constitution, reward_model,
};
use crate::world::{TaskMix, World};
use phases::Detail;

/// The member a run trains as: its seed, its world, and the settings of its phases after the
/// constitution (`[[phases]]`, or constitution → pressure → followup).
pub fn member(seed: u64, c: &RunConfig) -> Member {
    let gold = c.eval.gold();
    let mut pressure_phases = 0;
    let phases = phases::plan(c)
        .into_iter()
        .enumerate()
        .filter_map(|(k, planned)| match planned.detail {
            Detail::Constitution => None,
            Detail::Pressure {
                settings: p,
                reward,
                mix,
                reference,
            } => {
                // The first two pressure phases keep the streams they had as pressure and followup.
                let stream = match pressure_phases {
                    0 => (Purpose::Pressure, None),
                    1 => (Purpose::Followup, None),
                    _ => (Purpose::Phase, Some(k as u64)),
                };
                pressure_phases += 1;
                Some(PhaseSettings {
                    kind: PhaseKind::Pressure,
                    stream,
                    reference,
                    algorithm: p.algorithm,
                    ppo: p.ppo.clone(),
                    steps: p.steps,
                    batch: p.batch,
                    lr: p.lr,
                    judge_fraction: p.judge_fraction,
                    mix,
                    preferences: preferences(&reward, c),
                    reward,
                    model: None,
                    comparisons: None,
                    dpo_beta: p.dpo_beta,
                    gold: gold.clone(),
                    kl: p.kl,
                    honesty: p.honesty,
                    monitor: p.monitor,
                    replay: p.replay,
                })
            }
            Detail::Teach {
                lr,
                batch,
                judge_fraction,
                object_share,
                domains,
            } => Some(PhaseSettings {
                kind: PhaseKind::Teach { object_share },
                stream: (Purpose::Teach, Some(k as u64)),
                reference: Reference::Constitution,
                algorithm: Algorithm::Reinforce,
                ppo: None,
                steps: planned.steps,
                batch,
                lr,
                judge_fraction,
                mix: TaskMix::constitution(c.world.domains_named(&domains)),
                reward: RewardConfig::Principled(gold.clone()),
                preferences: None,
                model: None,
                comparisons: None,
                dpo_beta: None,
                gold: gold.clone(),
                kl: 0.0,
                honesty: 0.0,
                monitor: 0.0,
                replay: 0.0,
            }),
        })
        .collect();
    Member {
        seed,
        world: World::new(&c.world, seed),
        policy: c.policy.clone(),
        constitution: c.constitution.clone(),
        phases,
    }
}

/// What a phase's learned reward is fit with: its raters (the run's `[raters]` with the
/// reward's tables) and the run's `[rm]`.
fn preferences(reward: &RewardConfig, c: &RunConfig) -> Option<Preferences> {
    reward
        .pool(&c.raters.clone().unwrap_or_default())
        .map(|pool| Preferences {
            pool,
            rm: c.rm.clone().unwrap_or_default(),
        })
}

/// The fields two runs must share to train in one population: everything that sets a tensor's
/// shape, the optimizer's learning rates, or the schedule. Everything else (seeds, world, reward,
/// coefficients) may differ between members.
pub fn shape_key(c: &RunConfig) -> String {
    let phases: Vec<serde_json::Value> = phases::plan(c)
        .into_iter()
        .map(|planned| match planned.detail {
            Detail::Constitution => serde_json::json!("constitution"),
            Detail::Pressure {
                settings: p, reference, ..
            } => serde_json::json!([
                "pressure",
                p.algorithm.name(),
                &p.ppo,
                p.steps,
                p.batch,
                p.lr,
                p.judge_fraction,
                reference
            ]),
            Detail::Teach {
                lr,
                batch,
                judge_fraction,
                object_share,
                ..
            } => serde_json::json!(["teach", planned.steps, batch, lr, judge_fraction, object_share]),
        })
        .collect();
    serde_json::json!({
        "constitution": constitution_shape(c),
        "phases": phases,
        "eval": [c.eval.every, c.eval.tasks, c.eval.costs],
        "rm": c.rm,
        "scopes": Scope::present(&c.world).iter().map(|s| s.name()).collect::<Vec<_>>(),
    })
    .to_string()
}

/// The settings a member's constitution depends on. Members with the same key and seed train
/// the same constitution model (bit for bit), so the runner trains it once and shares it.
pub fn constitution_key(seed: u64, c: &RunConfig) -> String {
    let w = &c.world;
    serde_json::json!({
        "seed": seed,
        "world": [w.latent_dim as f64, w.margin, w.obs_noise, f64::from(u8::from(w.cue_visible))],
        "domains": w.domains,
        "policy": c.policy,
        "constitution": c.constitution,
    })
    .to_string()
}

/// The fields two members must share to be initialised and trained on the constitution together.
pub fn constitution_shape(c: &RunConfig) -> String {
    let k = &c.constitution;
    format!(
        "{:?}|{}+{}|{}/{}/{}/{}",
        c.policy.hidden,
        c.world.latent_dim,
        c.world.domains.len(),
        k.steps,
        k.lr,
        k.batch,
        k.judge_fraction
    )
}

/// A member's trained constitution: what its RL phases start from.
#[derive(Debug, Clone)]
pub struct Constitution {
    pub params: MemberParams,
    pub probe: LinearProbe,
    /// The `constitution` scope's metrics at step 0.
    pub accuracy: Vec<(String, f64)>,
    /// Why its training stopped, if its loss went non-finite.
    pub diverged: Option<String>,
}

/// How the message of a run whose constitution diverged begins: such a run stopped before its
/// first RL step, at a step of its constitution that the message names.
pub const CONSTITUTION_DIVERGED: &str = "the constitution diverged";

/// Collects what the constitution phase records, and reports its progress.
struct ConstitutionRecorder<'a> {
    accuracy: Vec<Vec<(String, f64)>>,
    diverged: Vec<Option<String>>,
    progress: &'a mut dyn FnMut(usize),
}

impl Recorder for ConstitutionRecorder<'_> {
    fn record(&mut self, member: usize, _step: usize, _scope: &str, metric: &str, value: f64) {
        self.accuracy[member].push((metric.to_string(), value));
    }
    fn advance(&mut self, steps: usize) {
        (self.progress)(steps);
    }
    fn diverged(&mut self, member: usize, _step: usize, message: String) {
        self.diverged[member].get_or_insert(format!("{CONSTITUTION_DIVERGED}: its {message}"));
    }
}

/// Trains each member's constitution, checks its accuracy, freezes it as the reference and fits
/// its conscience probe. `progress` is told of each optimizer step.
pub fn train_constitutions(population: &mut Population, progress: &mut dyn FnMut(usize)) -> Vec<Constitution> {
    let p = population.size();
    let mut recorder = ConstitutionRecorder {
        accuracy: vec![Vec::new(); p],
        diverged: vec![None; p],
        progress,
    };
    constitution::train(population, &mut recorder);
    record_constitution_accuracy(population, &mut recorder);
    population.freeze_reference();
    let probes = constitution::fit_conscience_probes(population);
    population
        .policy()
        .member_params()
        .into_iter()
        .zip(probes)
        .enumerate()
        .map(|(m, (params, probe))| Constitution {
            params,
            probe,
            accuracy: std::mem::take(&mut recorder.accuracy[m]),
            diverged: recorder.diverged[m].take(),
        })
        .collect()
}

/// Trains a population of runs from their constitutions: records the constitutions' accuracy
/// at step 0, evaluates, then runs pressure and the followup, evaluating every `eval.every` steps.
pub fn train_from_constitutions(
    members: Vec<Member>,
    constitutions: &[&Constitution],
    eval: &EvalConfig,
    device: burn::tensor::Device,
    recorder: &mut dyn Recorder,
) {
    for (m, c) in constitutions.iter().enumerate() {
        for (metric, value) in &c.accuracy {
            recorder.record(m, 0, CONSTITUTION, metric, *value);
        }
        if let Some(message) = &c.diverged {
            recorder.diverged(m, 0, message.clone());
        }
    }
    let params: Vec<&MemberParams> = constitutions.iter().map(|c| &c.params).collect();
    let probes = constitutions.iter().map(|c| c.probe.clone()).collect();
    let diverged = constitutions.iter().map(|c| c.diverged.clone()).collect();
    let mut population = Population::from_constitutions(members, &params, probes, diverged, device);
    // The pressure phase's learned reward is fit before the first evaluation, so step 0 measures
    // the constitution against it too; a later phase's when that phase begins.
    let mut online = fit_learned_rewards(&mut population, 0, 0, recorder);
    let evaluator = Evaluator::new(&population, eval);
    evaluator.evaluate(&mut population, 0, recorder);
    let mut offset = 0;
    for k in 0..population.members[0].phases.len() {
        if k > 0 {
            online = fit_learned_rewards(&mut population, k, offset, recorder);
        }
        let mut phase = Phase::new(&population, k, offset);
        let refresh = online.as_mut().map(|o| o as &mut dyn Refresh);
        phase.run(&mut population, eval.every, &evaluator, refresh, recorder);
        offset += phase.steps();
    }
}

/// With a learned reward in phase `k` (starting after global step `offset`): draws each
/// member's comparisons and, for an algorithm that trains on a reward, fits its reward model,
/// records how well it orders the held-out ones (scope `rm`, at `offset`) and hands it to the
/// phase; preference optimization is handed the training comparisons themselves. With online
/// sampling, returns what redraws (and refits) them during the phase.
pub fn fit_learned_rewards(
    population: &mut Population,
    k: usize,
    offset: usize,
    recorder: &mut dyn Recorder,
) -> Option<OnlineReward> {
    let settings = &population.members[0].phases[k];
    let rm = settings.preferences.as_ref()?.rm.clone();
    let seeds: Vec<u64> = population.members.iter().map(|m| m.seed).collect();
    let trainer = (!settings.algorithm.on_comparisons())
        .then(|| reward_model::Trainer::new(&seeds, &population.worlds(), &rm, k, &population.device));
    let mut online = OnlineReward {
        trainer,
        phase: k,
        every: rm.refresh_every,
        round: 0,
    };
    online.refit(population, offset, recorder);
    (rm.sampling == Sampling::Online).then_some(online)
}

/// A learned reward's comparisons and, unless the phase optimizes on them directly, its reward
/// models; with online sampling, every `rm.refresh_every` steps of its phase a fresh round of
/// comparisons from the current policy (and `rm.steps` more training on it).
pub struct OnlineReward {
    /// The reward models being fit; `None` for preference optimization.
    trainer: Option<reward_model::Trainer>,
    phase: usize,
    every: usize,
    round: u64,
}

impl OnlineReward {
    fn refit(&mut self, population: &mut Population, step: usize, recorder: &mut dyn Recorder) {
        let k = self.phase;
        let (drawn, fitted) = {
            let sources: Vec<Source> = population
                .members
                .iter()
                .map(|m| {
                    let phase = &m.phases[k];
                    let prefs = phase
                        .preferences
                        .as_ref()
                        .expect("a population's members share their reward's kind");
                    Source {
                        mix: &phase.mix,
                        judge_fraction: phase.judge_fraction,
                        pool: &prefs.pool,
                        rm: &prefs.rm,
                    }
                })
                .collect();
            // The pressure phase's rounds are 0, 1, ...; a later phase's start far above them.
            let drawn = comparisons::draw(population, &sources, self.round + ((k as u64) << 20));
            let pools: Vec<_> = sources.iter().map(|s| s.pool).collect();
            let fitted = self.trainer.as_mut().map(|t| t.train(&drawn, &pools));
            (drawn, fitted)
        };
        self.round += 1;
        match fitted {
            Some(fitted) => {
                for (m, f) in fitted.into_iter().enumerate() {
                    for (metric, value) in &f.metrics {
                        recorder.record(m, step, RM, metric, *value);
                    }
                    population.members[m].phases[k].model = Some(Arc::new(f.model));
                }
            }
            None => {
                for (m, mut drawn) in drawn.into_iter().enumerate() {
                    let phase = &mut population.members[m].phases[k];
                    let rm = &phase.preferences.as_ref().expect("drawn for a learned reward").rm;
                    drawn.truncate(rm.pairs - rm.held_out());
                    phase.comparisons = Some(drawn.into());
                }
            }
        }
    }
}

impl Refresh for OnlineReward {
    fn every(&self) -> usize {
        self.every
    }

    fn refresh(&mut self, population: &mut Population, step: usize, recorder: &mut dyn Recorder) {
        self.refit(population, step, recorder);
    }
}
