//! A budget before training: the work (seed-steps, and hours on the threads at hand) and the
//! memory (parameters, optimizer state and activations of the runs in flight) that a run list
//! needs, estimated from the resolved configuration, so that a run that cannot fit the machine or
//! would take days is refused before it starts rather than aborting or running for months.

use super::runs::RunSpec;
use crate::run::RunConfig;
use crate::run::phases::Detail;

/// Hours of estimated training above which a run list is refused without `--allow-large`.
pub const MAX_HOURS: f64 = 12.0;

/// The share of the machine's memory above which a run list is refused without `--allow-large`.
pub const MAX_MEMORY_SHARE: f64 = 0.5;

/// Observation features beside the latent ones, and output units of both heads (both generous).
const EXTRA_INPUTS: usize = 8;
const OUTPUTS: usize = 8;

/// What a run list needs, roughly (within a small factor, erring high).
#[derive(Debug, Clone, PartialEq)]
pub struct Estimate {
    /// Optimizer steps over every run (constitution steps included).
    pub seed_steps: f64,
    /// Wall time on `threads` threads.
    pub hours: f64,
    /// Peak memory with every run in flight.
    pub memory_gib: f64,
}

impl Estimate {
    /// The estimate for `factor` times as many such runs (refinement's points to come), trained
    /// a round at a time: work grows, the memory of the runs in flight does not.
    pub fn with_more_runs(&self, factor: f64) -> Estimate {
        Estimate {
            seed_steps: self.seed_steps * factor,
            hours: self.hours * factor,
            memory_gib: self.memory_gib,
        }
    }
}

/// Parameters of a fully connected network from `inputs` through `hidden` to `outputs`.
fn network(inputs: usize, hidden: &[usize], outputs: usize) -> f64 {
    let mut widths = vec![inputs];
    widths.extend(hidden);
    widths.push(outputs);
    widths.windows(2).map(|w| ((w[0] + 1) * w[1]) as f64).sum()
}

/// Parameters of one run's policy.
fn parameters(c: &RunConfig) -> f64 {
    network(c.world.latent_dim + EXTRA_INPUTS, &c.policy.hidden, OUTPUTS)
}

/// Gradient passes per step of an RL phase: PPO makes `epochs` over each batch.
fn passes(ppo: Option<&crate::train::ppo::PpoConfig>) -> f64 {
    ppo.map_or(1.0, |p| p.epochs as f64)
}

/// The learned reward model's work and memory: `(seconds, bytes)`. Each fit draws `rm.pairs`
/// comparisons and trains every member of the ensemble for `rm.steps` steps of `rm.batch` of
/// them; online sampling refits every `rm.refresh_every` pressure steps; the comparisons are kept
/// as observations.
fn reward_model(c: &RunConfig) -> (f64, f64) {
    // Drawing and labelling one comparison: two responses of the policy and the raters' utility.
    const PAIR_SECONDS: f64 = 1e-6;
    let Some(rm) = &c.rm else { return (0.0, 0.0) };
    // A response's encoding (five one-hot choices) beside the task's observation.
    let inputs = c.world.latent_dim + EXTRA_INPUTS + 5;
    let params = network(inputs, &rm.hidden, 1);
    let fits = 1.0
        + match rm.sampling {
            crate::reward::Sampling::Online => (c.pressure.steps / rm.refresh_every.max(1)) as f64,
            _ => 0.0,
        };
    let ensemble = rm.ensemble as f64;
    // Both responses of a comparison go forward and backward.
    let flops = ensemble * rm.steps as f64 * rm.batch as f64 * 2.0 * 6.0 * params;
    let seconds = fits * (ensemble * rm.steps as f64 * STEP_SECONDS + flops / FLOPS + rm.pairs as f64 * PAIR_SECONDS);
    let activations: f64 = rm.hidden.iter().sum::<usize>() as f64 + inputs as f64;
    let bytes =
        4.0 * (ensemble * 4.0 * params + 2.0 * rm.pairs as f64 * inputs as f64 + 2.0 * rm.batch as f64 * activations);
    (seconds, bytes)
}

/// A step's fixed overhead, and the flops a second; a step costs the overhead plus ~6 flops per
/// parameter per sample (forward and backward).
const STEP_SECONDS: f64 = 1e-4;
const FLOPS: f64 = 1e9;

/// Hours above which an allowed run list still has its estimate said before it starts.
pub const SAY_HOURS: f64 = 0.25;

/// Seconds of one run trained alone, by phase: `(constitution, rl)` (the RL phases with their
/// evaluations and learned reward models). The scheduler weighs its work with them.
pub fn phase_seconds(c: &RunConfig) -> (f64, f64) {
    let params = parameters(c);
    let per_step = |batch: usize, passes: f64| STEP_SECONDS + passes * 6.0 * batch as f64 * params / FLOPS;
    let constitution = c.constitution.steps as f64 * per_step(c.constitution.batch, 1.0);
    // Evaluation passes over its tasks in every scope every `eval.every` steps.
    let eval_flops = 2.0 * 4.0 * c.eval.tasks as f64 * params / c.eval.every.max(1) as f64;
    let mut rl = reward_model(c).0;
    for phase in crate::run::phases::plan(c).iter().skip(1) {
        let step = match &phase.detail {
            Detail::Pressure { settings, .. } => per_step(settings.batch, passes(settings.ppo.as_ref())),
            Detail::Teach { batch, .. } => per_step(*batch, 1.0),
            Detail::Constitution => 0.0,
        };
        rl += phase.steps as f64 * (step + eval_flops / FLOPS);
    }
    (constitution, rl)
}

/// The estimate for training `runs` on `threads` threads.
pub fn estimate(runs: &[&RunSpec], threads: usize) -> Estimate {
    let (mut seed_steps, mut seconds, mut bytes) = (0.0, 0.0, 0.0);
    for r in runs {
        let c = &r.config;
        let params = parameters(c);
        let batch = crate::run::phases::plan(c)
            .iter()
            .map(|p| match &p.detail {
                Detail::Pressure { settings, .. } => settings.batch,
                Detail::Teach { batch, .. } => *batch,
                Detail::Constitution => c.constitution.batch,
            })
            .max()
            .unwrap_or(c.constitution.batch) as f64;
        seed_steps += (c.constitution.steps + c.total_steps()) as f64;
        let (constitution, rl) = phase_seconds(c);
        seconds += constitution + rl;
        bytes += reward_model(c).1;
        let activations: f64 = c.policy.hidden.iter().sum::<usize>() as f64 + (c.world.latent_dim + OUTPUTS) as f64;
        let tasks = batch.max(c.eval.tasks as f64);
        // Weights, gradients and Adam's two moments; activations kept for the backward pass.
        bytes += 4.0 * (4.0 * params + 8.0 * tasks * activations) + 1e6;
    }
    Estimate {
        seed_steps,
        hours: seconds / threads.max(1) as f64 / 3600.0,
        memory_gib: bytes / f64::from(1u32 << 30),
    }
}

/// This machine's memory in GiB (Linux), if known.
pub fn machine_memory_gib() -> Option<f64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / f64::from(1u32 << 20))
}

/// The estimate in words.
pub fn describe(e: &Estimate) -> String {
    format!(
        "the runs to train need about {:.3e} seed-steps (~{:.1} hours here) and ~{:.2} GiB of memory",
        e.seed_steps, e.hours, e.memory_gib
    )
}

/// Refuses an estimate over the budget: more than [`MAX_HOURS`], or more than
/// [`MAX_MEMORY_SHARE`] of `memory_gib` (the machine's memory). The message gives the estimate.
pub fn check(e: &Estimate, memory_gib: f64) -> Result<(), String> {
    let what = describe(e);
    let memory_limit = MAX_MEMORY_SHARE * memory_gib;
    if e.memory_gib > memory_limit {
        return Err(format!(
            "{what}, more than half of this machine's {memory_gib:.1} GiB; lower pressure.batch, policy.hidden, \
             seeds or --population, or pass --allow-large to try anyway"
        ));
    }
    if e.hours > MAX_HOURS {
        return Err(format!(
            "{what}, more than the {MAX_HOURS} hours allowed without a word; lower the steps or seeds, \
             shard the runs, or pass --allow-large to run it anyway"
        ));
    }
    Ok(())
}
