//! Seeds are arguments, never globals: every random draw of a run comes from a ChaCha8 stream
//! derived from the run's seed and the purpose of the draw, so that changing one part of a run
//! (more pressure steps, a bigger evaluation set) does not reshuffle the others.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// What a random stream is used for; each purpose gets its own ChaCha stream of the run's seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u64)]
pub enum Purpose {
    /// The domains' directions in latent space.
    World = 1,
    /// Initial weights of the policy.
    Init = 2,
    /// Constitution batches.
    Constitution = 3,
    /// The tasks the conscience probe is fit on.
    Probe = 4,
    /// The fixed evaluation set.
    Eval = 5,
    /// Pressure batches and sampled actions.
    Pressure = 6,
    /// Followup batches and sampled actions.
    Followup = 7,
    /// Replayed constitution batches during pressure.
    Replay = 8,
    /// The tasks the constitution model's accuracy is checked on.
    Check = 9,
    /// Simulated raters' comparisons: tasks, responses, raters and labels.
    Comparisons = 10,
    /// Initial weights of the learned reward model (each ensemble member its own draws).
    RewardInit = 11,
    /// The reward model's minibatches and bootstrap resamples.
    RewardBatches = 12,
    /// Resamples of seeds' results for percentile bootstrap intervals (`summary`, `compare`),
    /// drawn after training from a fixed seed, not a run's.
    Bootstrap = 13,
    /// Batches and sampled answers of a pressure phase after the second (one substream each,
    /// by its place in the list of phases).
    Phase = 14,
    /// Batches of a teach phase (one substream each, by its place in the list of phases).
    Teach = 15,
    /// The tasks a teach phase's criterion is checked on (one substream per phase).
    Criterion = 16,
}

/// The random stream of `seed` for `purpose`.
pub fn stream(seed: u64, purpose: Purpose) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(purpose as u64);
    rng
}

/// A phase's stream: `purpose`'s own, or its `k`-th substream.
pub fn phase_stream(seed: u64, purpose: Purpose, k: Option<u64>) -> ChaCha8Rng {
    match k {
        None => stream(seed, purpose),
        Some(k) => substream(seed, purpose, k),
    }
}

/// The `k`-th of several streams of `seed` for one purpose (e.g. one per ensemble member of a
/// reward model), independent of every other purpose's streams.
pub fn substream(seed: u64, purpose: Purpose, k: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(purpose as u64 + ((k + 1) << 32));
    rng
}
