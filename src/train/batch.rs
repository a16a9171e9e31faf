//! Batches of a population: every member draws its own tasks from its own stream, laid out the
//! same way (act queries first, then judge queries) so the population shares one tensor.

use burn::tensor::{Device, Int, Tensor, TensorData};
use rand_chacha::ChaCha8Rng;

use crate::world::{Query, Sample, TaskMix, World};

/// The largest batch a phase may draw (a guard against typos that would exhaust memory).
pub const MAX_BATCH: usize = 65_536;

/// Number of judge queries in a batch of `batch` with `judge_fraction` of them.
pub fn judge_count(batch: usize, judge_fraction: f64) -> usize {
    ((batch as f64) * judge_fraction).round() as usize
}

/// The samples of a population's batch and their encoded observations.
pub struct Batch {
    /// `samples[m]` are member m's samples: `acts` act queries, then `judges` judge queries.
    pub samples: Vec<Vec<Sample>>,
    pub acts: usize,
    pub judges: usize,
    /// `[P, acts + judges, obs_dim]`, on the plain (non-autodiff) device.
    pub obs: Tensor<3>,
}

impl Batch {
    /// Draws `acts` act queries and `judges` judge queries for each member from its own mix.
    pub fn draw(
        worlds: &[&World],
        mixes: &[&TaskMix],
        rngs: &mut [ChaCha8Rng],
        acts: usize,
        judges: usize,
        device: &Device,
    ) -> Batch {
        let samples: Vec<Vec<Sample>> = worlds
            .iter()
            .zip(mixes)
            .zip(rngs.iter_mut())
            .map(|((world, mix), rng)| {
                let mut s = Vec::with_capacity(acts + judges);
                s.extend((0..acts).map(|_| mix.draw(world, rng, Query::Act)));
                s.extend((0..judges).map(|_| mix.draw(world, rng, Query::Judge)));
                s
            })
            .collect();
        let obs = encode(worlds, &samples, device);
        Batch {
            samples,
            acts,
            judges,
            obs,
        }
    }

    pub fn members(&self) -> usize {
        self.samples.len()
    }

    pub fn act_samples(&self, member: usize) -> &[Sample] {
        &self.samples[member][..self.acts]
    }

    pub fn judge_samples(&self, member: usize) -> &[Sample] {
        &self.samples[member][self.acts..]
    }

    /// The `[P, judges, 1]` truths (1 = violating) of the judge samples, member-major.
    pub fn judge_truths(&self) -> Vec<f32> {
        (0..self.members())
            .flat_map(|m| {
                self.judge_samples(m)
                    .iter()
                    .map(|s| f32::from(u8::from(s.task.violating)))
            })
            .collect()
    }
}

/// Encodes each member's samples into one `[P, n, obs_dim]` tensor.
pub fn encode(worlds: &[&World], samples: &[Vec<Sample>], device: &Device) -> Tensor<3> {
    let p = samples.len();
    let n = samples[0].len();
    let d = worlds[0].obs_dim();
    let mut flat = vec![0.0f32; p * n * d];
    for (m, member) in samples.iter().enumerate() {
        assert_eq!(
            member.len(),
            n,
            "every member of a population has the same batch layout"
        );
        for (i, s) in member.iter().enumerate() {
            let at = (m * n + i) * d;
            worlds[m].encode(&s.task, s.cues, &mut flat[at..at + d]);
        }
    }
    Tensor::from_data(TensorData::new(flat, [p, n, d]), device)
}

/// A `[P, n, k]` float tensor from host values laid out member-major.
pub fn floats(values: Vec<f32>, p: usize, n: usize, k: usize, device: &Device) -> Tensor<3> {
    Tensor::from_data(TensorData::new(values, [p, n, k]), device)
}

/// A `[P, n, 1]` index tensor from host values laid out member-major.
pub fn indices(values: Vec<i64>, p: usize, n: usize, device: &Device) -> Tensor<3, Int> {
    Tensor::from_data(TensorData::new(values, [p, n, 1]), device)
}

/// Reads a float tensor back to the host.
pub fn host(t: Tensor<3>) -> Vec<f32> {
    t.into_data()
        .try_into_vec::<f32>()
        .expect("a float tensor reads back as f32")
}
