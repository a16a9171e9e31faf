//! Training (docs/model.md §3): the constitution phase, then RL phases — pressure and an
//! optional followup — each driven by one of the algorithms (`reinforce`, `ppo`, or `dpo` for
//! DPO and IPO on comparisons) with the shared sampling (`rollout`), advantages and
//! regularizers.
//!
//! A [`Population`] trains several runs as one batched network. Runs may share a population
//! when their shapes match; each member keeps its own seed, world, reward model, coefficients
//! and random streams, and its own slice of every parameter and optimizer moment (Adam is
//! elementwise), so a member's results do not depend on which others it trains beside.

mod advantages;
pub mod batch;
pub mod comparisons;
pub mod config;
pub mod constitution;
pub mod dpo;
pub mod losses;
mod phase;
pub mod ppo;
mod regularizers;
mod reinforce;
pub mod reward_model;
mod rollout;
mod step;
mod teach;
#[cfg(test)]
mod toy;

pub use batch::judge_count;
pub use config::{Algorithm, Contexts, FollowupConfig, PressureConfig};
pub use constitution::ConstitutionConfig;
pub use phase::{Evaluate, Phase, PhaseKind, PhaseSettings, PhaseStep, Reference, Refresh};
pub use step::{Step, Update};

use burn::module::Module;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Int, Tensor, TensorData};

use std::sync::Arc;

use crate::policy::probe::LinearProbe;
use crate::policy::{MemberParams, Policy, PolicyConfig};
use crate::reward::{Pool, RewardSignal, RmConfig};
use crate::rng::{Purpose, stream};
use crate::world::{TaskMix, World};
use comparisons::Comparison;

/// A loss beyond this size has exploded (a healthy one is a few units): the member is stopped and
/// marked diverged, as for a non-finite loss, rather than reported completed.
pub const MAX_LOSS: f32 = 1e8;

/// Where the training loop reports what it measures, kept apart from learning.
pub trait Recorder {
    /// One measured value of member `member` at `step` (0 = the constitution model).
    fn record(&mut self, member: usize, step: usize, scope: &str, metric: &str, value: f64);
    /// The population took `steps` more optimizer steps (for progress reporting).
    fn advance(&mut self, steps: usize);
    /// Member `member` stopped at `step` because its loss or outputs went non-finite.
    fn diverged(&mut self, member: usize, step: usize, message: String);
}

/// One run inside a population: its seed, world, and the settings of its phases.
pub struct Member {
    pub seed: u64,
    pub world: World,
    pub policy: PolicyConfig,
    pub constitution: ConstitutionConfig,
    /// The RL phases in order: pressure, then the followup if there is one.
    pub phases: Vec<PhaseSettings>,
}

/// What a learned reward is fit with: the rater pool and the reward model's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Preferences {
    pub pool: Pool,
    pub rm: RmConfig,
}

/// What one member does in a running RL phase: the tasks it samples, the reward it is scored
/// by (or, for preference optimization, the comparisons it trains on and its β), and the weights
/// of its regularizers (values may differ between members).
pub struct MemberPhase {
    pub mix: TaskMix,
    pub signal: Option<RewardSignal>,
    pub comparisons: Option<Arc<[Comparison]>>,
    pub dpo_beta: f64,
    pub kl: f64,
    pub honesty: f64,
    pub monitor: f64,
    pub replay: f64,
    /// A teach phase's share of `object` in violating targets.
    pub object_share: f64,
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
    /// The policy at the start of the running phase, when its KL term is taken against that.
    pub phase_reference: Option<Policy>,
    /// Each member's frozen conscience probe, fit on the constitution model.
    pub probes: Vec<LinearProbe>,
    /// `Some((step, message))` once a member has diverged; it is then left out of every loss.
    pub diverged: Vec<Option<(usize, String)>>,
}

impl Population {
    /// A freshly initialised population on `device` (a plain device; autodiff is added here).
    pub fn new(members: Vec<Member>, device: Device) -> Population {
        assert!(!members.is_empty(), "a population has at least one member");
        let input = members[0].world.obs_dim();
        assert!(
            members
                .iter()
                .all(|m| m.world.obs_dim() == input && m.policy == members[0].policy),
            "members of a population share their shapes"
        );
        let mut rngs: Vec<_> = members.iter().map(|m| stream(m.seed, Purpose::Init)).collect();
        let policy = Policy::init(input, &members[0].policy.hidden, &mut rngs, &device.clone().autodiff());
        let n = members.len();
        Population {
            members,
            device,
            policy: Some(policy),
            reference: None,
            phase_reference: None,
            probes: Vec::new(),
            diverged: vec![None; n],
        }
    }

    /// A population that starts from trained constitution models (`params[m]` for member m),
    /// frozen as the reference, with their frozen conscience probes and the steps at which
    /// their constitution training diverged, if it did.
    pub fn from_constitutions(
        members: Vec<Member>,
        params: &[&MemberParams],
        probes: Vec<LinearProbe>,
        diverged: Vec<Option<String>>,
        device: Device,
    ) -> Population {
        assert_eq!(members.len(), params.len());
        let policy = Policy::from_members(params, &device.clone().autodiff());
        let reference = policy.valid();
        Population {
            diverged: diverged.into_iter().map(|d| d.map(|m| (0, m))).collect(),
            members,
            device,
            policy: Some(policy),
            reference: Some(reference),
            phase_reference: None,
            probes,
        }
    }

    pub fn size(&self) -> usize {
        self.members.len()
    }

    pub fn worlds(&self) -> Vec<&World> {
        self.members.iter().map(|m| &m.world).collect()
    }

    pub fn alive(&self, member: usize) -> bool {
        self.diverged[member].is_none()
    }

    /// One optimizer step on the sum of the alive members' losses (`member_loss` is `[P, 1, 1]`).
    /// A member whose loss is non-finite or beyond [`MAX_LOSS`] is marked diverged at `step` and
    /// left out from then on.
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
            if self.alive(m) && (l.is_nan() || l.abs() > MAX_LOSS) {
                let message = if l.is_finite() {
                    format!("loss exploded to {l:.3e} (beyond {MAX_LOSS:e}) at step {step}")
                } else {
                    format!("loss became {l} at step {step}")
                };
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

    /// The policy the running phase's KL term is taken against: the phase's start, or the
    /// constitution model.
    pub fn kl_reference(&self) -> &Policy {
        self.phase_reference
            .as_ref()
            .or(self.reference.as_ref())
            .expect("the reference is frozen before RL")
    }

    /// Freezes the current policy as the reference policy (a tape-free copy).
    pub fn freeze_reference(&mut self) {
        self.reference = Some(self.policy().valid());
    }
}
