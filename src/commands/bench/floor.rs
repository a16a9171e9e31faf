//! The floor under a pressure step: what two parts of it cost that no reorganisation of the step
//! removes, each timed alone at the bench's network and batch on one thread.
//!
//! - **The matrix products.** A seed's step multiplies through the network three times: the
//!   policy's forward, the frozen reference's forward (for the KL term), and the policy's
//!   backward (each layer's weight gradient, and the input gradient of every layer but the
//!   first). Here they run as bare `gemm` calls on buffers allocated once, with nothing between
//!   them: no bias, no activation, no framework.
//! - **The optimizer.** burn's Adam, the optimizer a step uses, on a population's policy with
//!   gradients prepared before the clock starts.
//!
//! Their sum bounds how fast any step of this network can go on this machine while it trains
//! with burn's optimizer; everything else a step does comes on top. The largest of the rest is
//! timed beside them: **the task draws**, a batch of tasks drawn and encoded as the sandbox
//! draws them (`Batch::draw`: each task's latent vector, its direction and its noise from the
//! member's ChaCha stream). A faster stream or sampler would lower that one, and change every
//! number the sandbox has produced.

use std::time::Instant;

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Device, Tensor, TensorData};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::policy::{Policy, dense};
use crate::train::batch::Batch;
use crate::world::{TaskMix, World, WorldConfig};

/// What the floor measured for one population size.
#[derive(Debug, Clone, Serialize)]
pub struct Floor {
    pub population: usize,
    /// Floating-point operations of one seed's products (multiply and add count as two).
    pub product_flop: f64,
    /// Microseconds of one seed's products.
    pub products_us: f64,
    /// Microseconds of burn's Adam step, per seed.
    pub adam_us: f64,
    /// Microseconds to draw and encode one seed's batch of tasks.
    pub draws_us: f64,
}

impl Floor {
    /// Seed-steps per second if a step did nothing but these two.
    pub fn ceiling(&self) -> f64 {
        1e6 / (self.products_us + self.adam_us)
    }
}

/// `dst [m×n] = lhs [m×k] · rhs [k×n]`; `lhs_t`/`rhs_t` read a row-major operand transposed.
#[allow(clippy::too_many_arguments)]
fn product(m: usize, n: usize, k: usize, dst: &mut [f32], lhs: &[f32], lhs_t: bool, rhs: &[f32], rhs_t: bool) {
    let lhs_strides = if lhs_t { (1, m) } else { (k, 1) };
    let rhs_strides = if rhs_t { (1, k) } else { (n, 1) };
    dense::product((m, n, k), dst, lhs, lhs_strides, rhs, rhs_strides);
}

/// Times a seed's products: `widths` from the observation through the trunk to the heads (4
/// outputs), `rows` the batch. Returns (FLOP per seed, microseconds per seed).
fn products(widths: &[usize], rows: usize, population: usize, steps: usize) -> (f64, f64) {
    let layers: Vec<(usize, usize)> = widths.windows(2).map(|w| (w[0], w[1])).collect();
    let fill = |n: usize| {
        (0..n)
            .map(|i| ((i * 7919) % 101) as f32 / 101.0 - 0.5)
            .collect::<Vec<f32>>()
    };
    // Per member: each layer's weights, input and output activations, and their gradients.
    let weights: Vec<Vec<f32>> = layers.iter().map(|&(i, o)| fill(i * o)).collect();
    let mut acts: Vec<Vec<f32>> = widths.iter().map(|&w| fill(rows * w)).collect();
    let mut grads: Vec<Vec<f32>> = widths.iter().map(|&w| fill(rows * w)).collect();
    let mut weight_grads: Vec<Vec<f32>> = layers.iter().map(|&(i, o)| fill(i * o)).collect();
    let flop: f64 = layers
        .iter()
        .enumerate()
        .map(|(l, &(i, o))| {
            let one = 2.0 * (rows * i * o) as f64;
            // two forwards, the weight gradient, and the input gradient past the first layer
            one * if l == 0 { 3.0 } else { 4.0 }
        })
        .sum();
    let mut pass = || {
        for _ in 0..2 {
            for (l, &(i, o)) in layers.iter().enumerate() {
                let (before, after) = acts.split_at_mut(l + 1);
                product(rows, o, i, &mut after[0], &before[l], false, &weights[l], false);
            }
        }
        for (l, &(i, o)) in layers.iter().enumerate().rev() {
            let (before, after) = grads.split_at_mut(l + 1);
            product(i, o, rows, &mut weight_grads[l], &acts[l], true, &after[0], false);
            if l > 0 {
                product(rows, i, o, &mut before[l], &after[0], false, &weights[l], true);
            }
        }
    };
    for _ in 0..steps / 10 + 1 {
        pass();
    }
    let clock = Instant::now();
    for _ in 0..steps * population {
        pass();
    }
    let us = clock.elapsed().as_secs_f64() * 1e6 / (steps * population) as f64;
    (flop, us)
}

/// Every parameter's id and shape.
struct Shapes(Vec<(burn::module::ParamId, [usize; 3])>);

impl ModuleVisitor for Shapes {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let dims = param.val().dims();
        let shape = [
            dims[0],
            dims.get(1).copied().unwrap_or(1),
            dims.get(2).copied().unwrap_or(1),
        ];
        self.0.push((param.id, shape));
    }
}

/// Times burn's Adam on a population of `population` policies; microseconds per seed.
fn adam(widths: &[usize], population: usize, steps: usize, device: &Device) -> f64 {
    let mut rngs: Vec<ChaCha8Rng> = (0..population as u64).map(ChaCha8Rng::seed_from_u64).collect();
    let hidden = &widths[1..widths.len() - 1];
    // The policy on the autodiff device, its gradients on the plain one, as a backward gives them.
    let mut policy = Policy::init(widths[0], hidden, &mut rngs, &device.clone().autodiff());
    let mut shapes = Shapes(Vec::new());
    policy.visit(&mut shapes);
    // Contiguous gradients, as a backward pass gives (a filled tensor may be a broadcast view,
    // which would time burn's strided kernels instead).
    let gradients = || {
        let mut g = GradientsParams::new();
        for (id, shape) in &shapes.0 {
            let n = shape.iter().product();
            let values: Vec<f32> = (0..n).map(|i| ((i * 7919) % 101) as f32 * 1e-5 - 5e-4).collect();
            g.register(*id, Tensor::<3>::from_data(TensorData::new(values, *shape), device));
        }
        g
    };
    let mut optimizer = AdamConfig::new().init();
    for _ in 0..steps / 10 + 1 {
        policy = optimizer.step(1e-4, policy, gradients());
    }
    let prepared: Vec<GradientsParams> = (0..steps).map(|_| gradients()).collect();
    let clock = Instant::now();
    for g in prepared {
        policy = optimizer.step(1e-4, policy, g);
    }
    std::hint::black_box(&policy);
    clock.elapsed().as_secs_f64() * 1e6 / (steps * population) as f64
}

/// Times drawing and encoding a batch of `acts` act and `judges` judge tasks of the default
/// world's pressure mix for each of `population` members; microseconds per seed.
fn draws(acts: usize, judges: usize, population: usize, steps: usize, device: &Device) -> f64 {
    let config = WorldConfig::default();
    let worlds: Vec<World> = (0..population as u64).map(|seed| World::new(&config, seed)).collect();
    let worlds: Vec<&World> = worlds.iter().collect();
    let mix = TaskMix::pressure(&config);
    let mixes = vec![&mix; population];
    let mut rngs: Vec<ChaCha8Rng> = (0..population as u64).map(ChaCha8Rng::seed_from_u64).collect();
    let clock = Instant::now();
    for _ in 0..steps {
        std::hint::black_box(Batch::draw(&worlds, &mixes, &mut rngs, acts, judges, device));
    }
    clock.elapsed().as_secs_f64() * 1e6 / (steps * population) as f64
}

/// The floor of a step of the network `widths` (observation, hidden layers, then the 4 head
/// outputs) on a batch of `rows`, for `population` members.
/// `judges` of the `rows` are judge queries.
pub fn measure(
    widths: &[usize],
    rows: usize,
    judges: usize,
    population: usize,
    steps: usize,
    device: &Device,
) -> Floor {
    let (product_flop, products_us) = products(widths, rows, population, steps);
    Floor {
        population,
        product_flop,
        products_us,
        adam_us: adam(widths, population, steps, device),
        draws_us: draws(rows - judges, judges, population, steps, device),
    }
}
