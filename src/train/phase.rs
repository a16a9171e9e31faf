//! An RL phase (docs/model.md §3.2): the pressure phase, or the followup after it.
//!
//! The loop: each step the phase's algorithm (an [`Update`], one file each: `reinforce.rs`,
//! `ppo.rs`) samples a rollout, builds its loss with the shared regularizers and optimizes;
//! every `every` global steps (and at the phase's last step) the phase records its `train`
//! statistics and hands the population to the evaluation hook.

use burn::module::Module;
use burn::optim::AdamConfig;

use super::batch::judge_count;
use super::comparisons::Comparison;
use super::config::Algorithm;
use super::ppo::PpoConfig;
use super::step::{Stats, Step, Update};
use super::{MemberPhase, Population, Preferences, Recorder};
use crate::metric::{KL, LOSS, REWARD_PRINCIPLED, REWARD_TRAINED, TRAIN};
use std::sync::Arc;

use super::teach::Teach;
use crate::reward::{Principled, RewardConfig, RewardModel, RewardSignal};
use crate::rng::{Purpose, phase_stream, stream};
use crate::world::TaskMix;
use serde::{Deserialize, Serialize};

/// What a phase after the constitution does.
#[derive(Debug, Clone, PartialEq)]
pub enum PhaseKind {
    /// RL or preference optimization against a reward (`algorithm.rs` files).
    Pressure,
    /// The constitution's recipe for chosen principles (`teach.rs`).
    Teach {
        /// The share of `object` in a violating act query's target.
        object_share: f64,
    },
}

/// The policy a phase's KL term (and preference optimization's π_ref) is taken against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Reference {
    /// The constitution model, frozen after the constitution.
    #[default]
    Constitution,
    /// The policy as it stands when the phase starts.
    Start,
}

/// One member's settings of one RL phase, resolved by the run from its configuration. The
/// algorithm, its settings, the step count, batch, learning rate and judge share are shared by
/// a population; the rest may differ between members.
#[derive(Debug, Clone)]
pub struct PhaseSettings {
    pub kind: PhaseKind,
    /// The random stream its batches and answers are drawn from: `purpose`'s own, or its
    /// substream `k` (the first two pressure phases keep the streams they always had).
    pub stream: (Purpose, Option<u64>),
    /// What its KL term is taken against.
    pub reference: Reference,
    pub algorithm: Algorithm,
    pub ppo: Option<PpoConfig>,
    pub steps: usize,
    pub batch: usize,
    pub lr: f64,
    pub judge_fraction: f64,
    /// The tasks the phase samples.
    pub mix: TaskMix,
    /// The reward model it trains on.
    pub reward: RewardConfig,
    /// With a learned reward: the raters and reward model settings it is fit with.
    pub preferences: Option<Preferences>,
    /// The fitted model of a learned reward (set once it is fit, before the phase runs).
    pub model: Option<Arc<dyn RewardModel>>,
    /// Preference optimization's training comparisons (set once drawn, before the phase runs).
    pub comparisons: Option<Arc<[Comparison]>>,
    /// Preference optimization's β (`pressure.dpo_beta`).
    pub dpo_beta: Option<f64>,
    /// The gold measure it is scored on.
    pub gold: Principled,
    pub kl: f64,
    pub honesty: f64,
    pub monitor: f64,
    pub replay: f64,
}

/// The update of a phase: teaching, or its algorithm's (the algorithms are registered in
/// `config::algorithms!`).
fn algorithm(settings: &PhaseSettings) -> Box<dyn Update> {
    match settings.kind {
        PhaseKind::Teach { .. } => Box::new(Teach),
        PhaseKind::Pressure => settings.algorithm.update(settings.ppo.as_ref()),
    }
}

/// What a member's phase is scored by: its reward model (a learned one once fit), with the
/// gold measure; none for preference optimization, which trains on comparisons, or teaching.
fn signal(settings: &PhaseSettings) -> Option<RewardSignal> {
    if settings.algorithm.on_comparisons() || settings.kind != PhaseKind::Pressure {
        return None;
    }
    let model = settings
        .model
        .clone()
        .or_else(|| settings.reward.build())
        .expect("a learned reward is fit before its phase runs");
    Some(RewardSignal::new(model, settings.gold.clone()))
}

/// Where a phase stands: the `s`-th of its `steps` steps (0 before its first) of the members'
/// phase `phase`, at global step `step`.
#[derive(Debug, Clone, Copy)]
pub struct PhaseStep {
    pub phase: usize,
    pub s: usize,
    pub steps: usize,
    pub step: usize,
}

/// The evaluation a phase hands the population to at its evaluation steps.
pub trait Evaluate {
    fn evaluate(&self, population: &mut Population, step: usize, recorder: &mut dyn Recorder);

    /// Told after each step of a phase, and before its first: what a measure that follows a
    /// phase step by step needs (a teach phase's steps to criterion).
    fn after_step(&self, _population: &Population, _at: PhaseStep, _recorder: &mut dyn Recorder) {}
}

/// A reward that changes while its phase runs (a learned reward on online comparisons): every
/// `every()` steps it refits and sets the members' `phases[k].model`.
pub trait Refresh {
    fn every(&self) -> usize;
    fn refresh(&mut self, population: &mut Population, step: usize, recorder: &mut dyn Recorder);
}

/// A phase of a population, resolved from its members' settings.
pub struct Phase {
    stream: (Purpose, Option<u64>),
    reference: Reference,
    /// Which of the members' phases this is.
    index: usize,
    /// The global step before this phase's first step.
    offset: usize,
    steps: usize,
    batch: usize,
    judges: usize,
    lr: f64,
    update: Box<dyn Update>,
    members: Vec<MemberPhase>,
}

impl Phase {
    /// Phase `index` of the members' phases (0 = pressure, 1 = followup), starting after global
    /// step `offset`.
    pub fn new(population: &Population, index: usize, offset: usize) -> Phase {
        let first = &population.members[0].phases[index];
        assert!(
            population.members.iter().all(|m| {
                let s = &m.phases[index];
                (
                    &s.kind,
                    s.stream,
                    s.reference,
                    s.algorithm,
                    &s.ppo,
                    s.steps,
                    s.batch,
                    s.lr,
                    s.judge_fraction,
                ) == (
                    &first.kind,
                    first.stream,
                    first.reference,
                    first.algorithm,
                    &first.ppo,
                    first.steps,
                    first.batch,
                    first.lr,
                    first.judge_fraction,
                )
            }),
            "members of an RL phase share their shapes"
        );
        Phase {
            stream: first.stream,
            reference: first.reference,
            index,
            offset,
            steps: first.steps,
            batch: first.batch,
            judges: judge_count(first.batch, first.judge_fraction),
            lr: first.lr,
            update: algorithm(first),
            members: population
                .members
                .iter()
                .map(|m| {
                    let s = &m.phases[index];
                    MemberPhase {
                        mix: s.mix.clone(),
                        signal: signal(s),
                        comparisons: s.comparisons.clone(),
                        dpo_beta: s.dpo_beta.unwrap_or(0.0),
                        kl: s.kl,
                        honesty: s.honesty,
                        monitor: s.monitor,
                        replay: s.replay,
                        object_share: match s.kind {
                            PhaseKind::Teach { object_share } => object_share,
                            PhaseKind::Pressure => 0.0,
                        },
                    }
                })
                .collect(),
        }
    }

    pub fn steps(&self) -> usize {
        self.steps
    }

    /// Runs the phase, recording the `train` statistics and evaluating every `every` global
    /// steps and at its last step; a changing reward refreshes on its own schedule, after the
    /// step and before that step's evaluation.
    pub fn run(
        &mut self,
        population: &mut Population,
        every: usize,
        evaluate: &dyn Evaluate,
        refresh: Option<&mut dyn Refresh>,
        recorder: &mut dyn Recorder,
    ) {
        self.drive(population, self.steps, Some((every, evaluate)), refresh, recorder);
    }

    /// Runs `steps` steps of the phase without evaluating (the throughput benchmark).
    pub fn run_steps(&mut self, population: &mut Population, steps: usize, recorder: &mut dyn Recorder) {
        self.drive(population, steps, None, None, recorder);
    }

    fn drive(
        &mut self,
        population: &mut Population,
        steps: usize,
        evaluation: Option<(usize, &dyn Evaluate)>,
        mut refresh: Option<&mut dyn Refresh>,
        recorder: &mut dyn Recorder,
    ) {
        let (purpose, k) = self.stream;
        let mut rngs: Vec<_> = population
            .members
            .iter()
            .map(|m| phase_stream(m.seed, purpose, k))
            .collect();
        if self.reference == Reference::Start {
            population.phase_reference = Some(population.policy().valid());
        }
        // Only the pressure phase replays the constitution (the followup's replay weight is 0).
        let mut replay_rngs: Vec<_> = population
            .members
            .iter()
            .map(|m| stream(m.seed, Purpose::Replay))
            .collect();
        let mut optimizer = AdamConfig::new().init();
        let mut stats = vec![Stats::default(); population.size()];
        if let Some((_, evaluate)) = evaluation {
            let at = PhaseStep {
                phase: self.index,
                s: 0,
                steps,
                step: self.offset,
            };
            evaluate.after_step(population, at, recorder);
        }

        for s in 1..=steps {
            let step = self.offset + s;
            let mut context = Step {
                members: &self.members,
                batch: self.batch,
                judges: self.judges,
                lr: self.lr,
                population: &mut *population,
                optimizer: &mut optimizer,
                rngs: &mut rngs,
                replay_rngs: &mut replay_rngs,
                step,
                stats: &mut stats,
                recorder: &mut *recorder,
            };
            self.update.update(&mut context);
            recorder.advance(1);
            if let Some(r) = refresh.as_deref_mut()
                && s.is_multiple_of(r.every())
                && s < steps
            {
                r.refresh(population, step, recorder);
                for (member, m) in self.members.iter_mut().zip(&population.members) {
                    let settings = &m.phases[self.index];
                    member.signal = signal(settings);
                    member.comparisons = settings.comparisons.clone();
                }
            }
            let Some((every, evaluate)) = evaluation else { continue };
            let at = PhaseStep {
                phase: self.index,
                s,
                steps,
                step,
            };
            evaluate.after_step(population, at, recorder);
            if step.is_multiple_of(every) || s == steps {
                for (m, st) in stats.iter_mut().enumerate() {
                    if population.alive(m) && st.steps > 0 {
                        let n = st.steps as f64;
                        recorder.record(m, step, TRAIN, LOSS, st.loss / n);
                        if st.with_kl {
                            recorder.record(m, step, TRAIN, KL, st.kl / n);
                        }
                        if st.sampled > 0 {
                            let n = st.sampled as f64;
                            recorder.record(m, step, TRAIN, REWARD_TRAINED, st.reward_trained / n);
                            recorder.record(m, step, TRAIN, REWARD_PRINCIPLED, st.reward_principled / n);
                        }
                    }
                    *st = Stats::default();
                }
                evaluate.evaluate(population, step, recorder);
            }
        }
        population.phase_reference = None;
    }
}
