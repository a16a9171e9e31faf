//! Training (docs/model.md §3): the constitution phase, then the pressure phase and an optional
//! followup, each an RL phase with one of the algorithms in `reinforce` or `ppo`.
//!
//! A [`Population`] trains several runs as one batched network. Runs may share a population
//! when their shapes match ([`shape_key`]); each member keeps its own seed, world, reward model,
//! coefficients and random streams, and its own slice of every parameter and optimizer moment
//! (Adam is elementwise), so a member's results do not depend on which others it trains beside.

pub mod batch;
pub mod constitution;
pub mod losses;
mod phase;
mod ppo;
mod reinforce;

pub use phase::{Phase, PhaseKind};

use burn::module::Module;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Int, Tensor, TensorData};

use crate::eval::Evaluator;
use crate::eval::probe::LinearProbe;
use crate::experiment::config::RunConfig;
use crate::policy::{MemberParams, Policy};
use crate::rng::{Purpose, stream};
use crate::world::World;

/// Where the training loop reports what it measures, kept apart from learning.
pub trait Recorder {
    /// One measured value of member `member` at `step` (0 = the constitution model).
    fn record(&mut self, member: usize, step: usize, scope: &str, metric: &str, value: f64);
    /// The population took `steps` more optimizer steps (for progress reporting).
    fn advance(&mut self, steps: usize);
    /// Member `member` stopped at `step` because its loss or outputs went non-finite.
    fn diverged(&mut self, member: usize, step: usize, message: String);
}

/// One run inside a population.
pub struct Member {
    pub seed: u64,
    pub config: RunConfig,
    pub world: World,
}

impl Member {
    pub fn new(seed: u64, config: RunConfig) -> Member {
        let world = World::new(&config.world, seed);
        Member { seed, config, world }
    }
}

/// The fields two runs must share to train in one population: everything that sets a tensor's
/// shape, the optimizer's learning rates, or the schedule. Everything else (seeds, world, reward,
/// coefficients) may differ between members.
pub fn shape_key(c: &RunConfig) -> String {
    let scopes = crate::eval::Scope::present(c);
    format!(
        "{:?}|{}|{}/{}/{}/{}|{:?}/{}/{}/{}/{}/{}/{}|{}/{}/{}|{}/{}|{:?}",
        c.policy.hidden,
        c.world.latent_dim,
        c.constitution.steps,
        c.constitution.lr,
        c.constitution.batch,
        c.constitution.judge_fraction,
        c.pressure.algorithm,
        c.pressure.steps,
        c.pressure.batch,
        c.pressure.lr,
        c.pressure.judge_fraction,
        c.pressure.ppo_clip,
        c.pressure.ppo_epochs,
        c.followup.steps,
        c.followup.lr,
        c.followup.judge_fraction,
        c.eval.every,
        c.eval.tasks,
        scopes,
    )
}

/// The settings a member's constitution depends on. Members with the same key and seed train
/// the same constitution model (bit for bit), so the runner trains it once and shares it.
pub fn constitution_key(seed: u64, c: &RunConfig) -> String {
    let w = &c.world;
    serde_json::json!({
        "seed": seed,
        "world": [w.latent_dim as f64, w.margin, w.obs_noise, f64::from(u8::from(w.cue_visible))],
        "policy": c.policy,
        "constitution": c.constitution,
    })
    .to_string()
}

/// The fields two members must share to be initialised and trained on the constitution together.
pub fn constitution_shape(c: &RunConfig) -> String {
    let k = &c.constitution;
    format!(
        "{:?}|{}|{}/{}/{}/{}",
        c.policy.hidden, c.world.latent_dim, k.steps, k.lr, k.batch, k.judge_fraction
    )
}

/// A member's trained constitution: what its pressure phase starts from.
#[derive(Debug, Clone)]
pub struct Constitution {
    pub params: MemberParams,
    pub probe: LinearProbe,
    /// The `constitution` scope's metrics at step 0.
    pub accuracy: Vec<(String, f64)>,
    /// Why its training stopped, if its loss went non-finite.
    pub diverged: Option<String>,
}

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
        self.diverged[member].get_or_insert(message);
    }
}

/// Trains each member's constitution, fits its conscience probe and checks its accuracy.
/// `progress` is told of each optimizer step.
pub fn train_constitutions(population: &mut Population, progress: &mut dyn FnMut(usize)) -> Vec<Constitution> {
    let p = population.size();
    let mut recorder = ConstitutionRecorder {
        accuracy: vec![Vec::new(); p],
        diverged: vec![None; p],
        progress,
    };
    constitution::train(population, &mut recorder);
    crate::eval::record_constitution_accuracy(population, &mut recorder);
    population.freeze_reference();
    let probes = crate::eval::probe::fit_conscience_probes(population);
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

/// A population of runs trained as one batched network.
pub struct Population {
    pub members: Vec<Member>,
    /// The plain device data lives on; the policy lives on its autodiff decorator.
    pub device: Device,
    /// The trained policy; `None` only while an optimizer step holds it.
    policy: Option<Policy>,
    /// The frozen constitution model (docs/model.md §3.1), once the constitution is trained.
    pub reference: Option<Policy>,
    /// Each member's frozen conscience probe, fit on the constitution model.
    pub probes: Vec<LinearProbe>,
    /// `Some((step, message))` once a member has diverged; it is then left out of every loss.
    pub diverged: Vec<Option<(usize, String)>>,
}

impl Population {
    /// A freshly initialised population on `device` (a plain device; autodiff is added here).
    pub fn new(members: Vec<Member>, device: Device) -> Population {
        assert!(!members.is_empty(), "a population has at least one member");
        let key = constitution_shape(&members[0].config);
        assert!(
            members.iter().all(|m| constitution_shape(&m.config) == key),
            "members of a population share their shapes"
        );
        let mut rngs: Vec<_> = members.iter().map(|m| stream(m.seed, Purpose::Init)).collect();
        let input = members[0].world.obs_dim();
        let policy = Policy::init(
            input,
            &members[0].config.policy.hidden,
            &mut rngs,
            &device.clone().autodiff(),
        );
        let n = members.len();
        Population {
            members,
            device,
            policy: Some(policy),
            reference: None,
            probes: Vec::new(),
            diverged: vec![None; n],
        }
    }

    /// A population that starts from trained constitutions (`constitutions[m]` for member m):
    /// their parameters, frozen as the reference, and their probes.
    pub fn from_constitutions(members: Vec<Member>, constitutions: &[&Constitution], device: Device) -> Population {
        assert_eq!(members.len(), constitutions.len());
        let key = shape_key(&members[0].config);
        assert!(
            members.iter().all(|m| shape_key(&m.config) == key),
            "members of a population share their shapes"
        );
        let params: Vec<&MemberParams> = constitutions.iter().map(|c| &c.params).collect();
        let policy = Policy::from_members(&params, &device.clone().autodiff());
        let reference = policy.valid();
        Population {
            diverged: constitutions
                .iter()
                .map(|c| c.diverged.clone().map(|m| (0, m)))
                .collect(),
            members,
            device,
            policy: Some(policy),
            reference: Some(reference),
            probes: constitutions.iter().map(|c| c.probe.clone()).collect(),
        }
    }

    pub fn size(&self) -> usize {
        self.members.len()
    }

    /// The shared configuration of the population's shapes (any member's).
    pub fn shape(&self) -> &RunConfig {
        &self.members[0].config
    }

    pub fn worlds(&self) -> Vec<&World> {
        self.members.iter().map(|m| &m.world).collect()
    }

    pub fn alive(&self, member: usize) -> bool {
        self.diverged[member].is_none()
    }

    /// One optimizer step on the sum of the alive members' losses (`member_loss` is `[P, 1, 1]`).
    /// A member whose loss is non-finite is marked diverged at `step` and left out from then on.
    /// Returns the members' loss values.
    fn optimize(
        &mut self,
        optimizer: &mut ModuleOptimizer,
        lr: f64,
        member_loss: Tensor<3>,
        step: usize,
        recorder: &mut dyn Recorder,
    ) -> Vec<f32> {
        let p = self.size();
        let losses = batch::host(member_loss.clone().detach());
        for (m, &l) in losses.iter().enumerate() {
            if self.alive(m) && !l.is_finite() {
                let message = format!("loss became {l} at step {step}");
                recorder.diverged(m, step, message.clone());
                self.diverged[m] = Some((step, message));
            }
        }
        let alive: Vec<i64> = (0..p).filter(|&m| self.alive(m)).map(|m| m as i64).collect();
        if alive.is_empty() {
            return losses;
        }
        let index = Tensor::<1, Int>::from_data(TensorData::new(alive.clone(), [alive.len()]), &self.device);
        let total = member_loss.reshape([p]).select(0, index).sum();
        let policy = self.policy.take().expect("the policy is present between steps");
        let grads = GradientsParams::from_grads(total.backward(), &policy);
        self.policy = Some(optimizer.step(lr, policy, grads));
        losses
    }

    /// The policy being trained.
    pub fn policy(&self) -> &Policy {
        self.policy.as_ref().expect("the policy is present between steps")
    }

    /// Freezes the current policy as the reference policy (a tape-free copy).
    pub fn freeze_reference(&mut self) {
        self.reference = Some(self.policy().valid());
    }

    /// Builds the evaluator for this population (after the reference is frozen).
    pub fn evaluator(&self) -> Evaluator {
        Evaluator::new(self)
    }
}

/// Trains a population made by [`Population::from_constitutions`]: records the constitutions'
/// accuracy at step 0, evaluates, then runs pressure and followup.
pub fn run_from_constitutions(
    population: &mut Population,
    constitutions: &[&Constitution],
    recorder: &mut dyn Recorder,
) {
    for (m, c) in constitutions.iter().enumerate() {
        for (metric, value) in &c.accuracy {
            recorder.record(m, 0, "constitution", metric, *value);
        }
        if let Some(message) = &c.diverged {
            recorder.diverged(m, 0, message.clone());
        }
    }
    let evaluator = population.evaluator();
    evaluator.record(population, 0, recorder);

    let pressure = Phase::pressure(population);
    pressure.run(population, &evaluator, recorder);
    if population.shape().followup.steps > 0 {
        let followup = Phase::followup(population);
        followup.run(population, &evaluator, recorder);
    }
}
