//! Fitting a reward model to comparisons (docs/model.md §7), as TRL's RewardTrainer and
//! lm-human-preferences do: a small MLP on the observation and the one-hot response, one
//! scalar out, trained with the Bradley–Terry loss −log σ(r(winner) − r(loser)) by Adam on
//! minibatches of the training comparisons; then normalized to mean 0 and standard deviation 1
//! on the reference policy's responses, so `pressure.kl` keeps its meaning. With
//! `rm.ensemble` > 1, each ensemble member has its own initialization and its own bootstrap
//! resample of the comparisons.
//!
//! Every member of a population and every ensemble member inside it trains as one batched
//! network (a leading axis of P × E), each from its own random streams, so a run's reward model
//! does not depend on which runs share its population.

use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Device, Tensor, TensorData, activation};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;

use super::comparisons::Comparison;
use crate::metric::{RM_ACCURACY, RM_ACCURACY_CEILING};
use crate::policy::{LayerParams, PopLinear};
use crate::reward::learned::{self, LearnedReward, RESPONSES};
use crate::reward::{Pool, RewardModel, RmConfig};
use crate::rng::{Purpose, substream};
use crate::world::World;

/// The reward models of a population: ReLU hidden layers, one linear output, every parameter
/// with a leading axis over members × ensemble members.
#[derive(Module, Debug)]
struct RewardNet {
    layers: Vec<PopLinear>,
}

impl RewardNet {
    fn init(input: usize, hidden: &[usize], rngs: &mut [ChaCha8Rng], device: &Device) -> RewardNet {
        let mut layers = Vec::new();
        let mut width = input;
        for &h in hidden.iter().chain(&[1]) {
            layers.push(PopLinear::init(width, h, rngs, device));
            width = h;
        }
        RewardNet { layers }
    }

    fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let last = self.layers.len() - 1;
        let mut h = x;
        for (i, layer) in self.layers.iter().enumerate() {
            h = layer.forward(h);
            if i < last {
                h = activation::relu(h);
            }
        }
        h
    }
}

/// The Bradley–Terry loss of each network: the mean of −log σ(r(winner) − r(loser)) over its
/// comparisons, `[Q, 1, 1]` from rewards `[Q, n, 1]`.
pub fn bradley_terry(winner: Tensor<3>, loser: Tensor<3>) -> Tensor<3> {
    let n = winner.dims()[1];
    (-activation::log_sigmoid(winner - loser))
        .sum_dim(1)
        .div_scalar(n as f32)
}

/// One member's fitted reward model and its measurements (scope `rm`).
pub struct Fitted {
    pub model: LearnedReward,
    pub metrics: Vec<(&'static str, f64)>,
}

/// The reward models of a population while they train: the batched network, its optimizer
/// and each sub-member's minibatch stream, kept between rounds of comparisons (online sampling
/// trains the same models on each fresh round).
pub struct Trainer {
    seeds: Vec<u64>,
    worlds: Vec<World>,
    rm: RmConfig,
    device: Device,
    net: Option<RewardNet>,
    optimizer: burn::optim::ModuleOptimizer,
    batch_rngs: Vec<ChaCha8Rng>,
}

impl Trainer {
    /// Freshly initialised reward models for phase `phase`, one per member × ensemble member,
    /// each from its own stream. `seeds[m]` and `worlds[m]` are member m's.
    pub fn new(seeds: &[u64], worlds: &[&World], rm: &RmConfig, phase: usize, device: &Device) -> Trainer {
        let (p, e) = (seeds.len(), rm.ensemble);
        // Sub-member (m, j) sits at m * e + j; its streams are member m's j-th of this phase.
        let index = |q: usize| ((phase << 8) + q % e) as u64;
        let mut init_rngs: Vec<ChaCha8Rng> = (0..p * e)
            .map(|q| substream(seeds[q / e], Purpose::RewardInit, index(q)))
            .collect();
        let batch_rngs: Vec<ChaCha8Rng> = (0..p * e)
            .map(|q| substream(seeds[q / e], Purpose::RewardBatches, index(q)))
            .collect();
        let input = worlds[0].obs_dim() + RESPONSES;
        let net = RewardNet::init(input, &rm.hidden, &mut init_rngs, &device.clone().autodiff());
        Trainer {
            seeds: seeds.to_vec(),
            worlds: worlds.iter().map(|w| (*w).clone()).collect(),
            rm: rm.clone(),
            device: device.clone(),
            net: Some(net),
            optimizer: AdamConfig::new().init(),
            batch_rngs,
        }
    }

    /// `rm.steps` Adam steps of Bradley–Terry training on each member's training comparisons
    /// (with an ensemble, each sub-member on its own bootstrap resample of them); then each
    /// member's model as it now stands, normalized on the comparisons' tasks, and how it orders
    /// the held-out ones. `pools[m]` are member m's raters (for the accuracy ceiling).
    pub fn train(&mut self, comparisons: &[Vec<Comparison>], pools: &[&Pool]) -> Vec<Fitted> {
        let (p, e) = (self.seeds.len(), self.rm.ensemble);
        let train_n = self.rm.pairs - self.rm.held_out();
        let input = self.worlds[0].obs_dim() + RESPONSES;

        // Each comparison's winner and loser inputs, encoded once.
        let inputs: Vec<Vec<(Vec<f32>, Vec<f32>)>> = comparisons
            .iter()
            .zip(&self.worlds)
            .map(|(member, world)| {
                member[..train_n]
                    .iter()
                    .map(|c| {
                        let (w, l) = c.winner_loser();
                        (learned::input(world, &c.sample, w), learned::input(world, &c.sample, l))
                    })
                    .collect()
            })
            .collect();
        // With an ensemble, each member sees its own bootstrap resample.
        let resamples: Vec<Vec<usize>> = self
            .batch_rngs
            .iter_mut()
            .map(|rng| {
                if e > 1 {
                    (0..train_n).map(|_| rng.random_range(0..train_n)).collect()
                } else {
                    (0..train_n).collect()
                }
            })
            .collect();

        let mut net = self.net.take().expect("the network is present between rounds");
        let b = self.rm.batch;
        for _ in 0..self.rm.steps {
            let mut winners = Vec::with_capacity(p * e * b * input);
            let mut losers = Vec::with_capacity(p * e * b * input);
            for (q, rng) in self.batch_rngs.iter_mut().enumerate() {
                let pool = &resamples[q];
                for _ in 0..b {
                    let (w, l) = &inputs[q / e][pool[rng.random_range(0..pool.len())]];
                    winners.extend_from_slice(w);
                    losers.extend_from_slice(l);
                }
            }
            let tensor = |v: Vec<f32>| Tensor::<3>::from_data(TensorData::new(v, [p * e, b, input]), &self.device);
            let loss = bradley_terry(net.forward(tensor(winners)), net.forward(tensor(losers)));
            let grads = GradientsParams::from_grads(loss.sum().backward(), &net);
            net = self.optimizer.step(self.rm.lr, net, grads);
        }

        // Each sub-member's layers on the host.
        let per_layer: Vec<Vec<LayerParams>> = net.layers.iter().map(|l| l.member_values()).collect();
        self.net = Some(net);
        (0..p)
            .map(|m| {
                let members: Vec<Vec<LayerParams>> = (0..e)
                    .map(|k| per_layer.iter().map(|layer| layer[m * e + k].clone()).collect())
                    .collect();
                let normalization = members
                    .iter()
                    .map(|layers| reference_moments(layers, &self.worlds[m], &comparisons[m]))
                    .collect();
                let model = LearnedReward {
                    world: self.worlds[m].clone(),
                    members,
                    normalization,
                    pessimism: self.rm.pessimism,
                };
                let held = &comparisons[m][train_n..];
                let metrics = vec![
                    (
                        RM_ACCURACY,
                        accuracy(held, |c| {
                            sign(model.reward(&c.sample, c.a) - model.reward(&c.sample, c.b))
                        }),
                    ),
                    (
                        RM_ACCURACY_CEILING,
                        accuracy(held, |c| sign(pools[m].preference(&c.sample, c.a, c.b) - 0.5)),
                    ),
                ];
                Fitted { model, metrics }
            })
            .collect()
    }
}

fn sign(x: f64) -> f64 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        0.0
    }
}

/// The share of comparisons a scorer orders as the raters labelled them: `score(c)` is +1 when
/// it prefers `a`, −1 when `b`, 0 for a tie (which counts one half).
pub fn accuracy(comparisons: &[Comparison], score: impl Fn(&Comparison) -> f64) -> f64 {
    let total: f64 = comparisons
        .iter()
        .map(|c| {
            let s = score(c);
            if s == 0.0 {
                0.5
            } else {
                f64::from(u8::from((s > 0.0) == c.a_wins))
            }
        })
        .sum();
    total / comparisons.len().max(1) as f64
}

/// Mean and standard deviation of a network's raw reward under the reference policy's
/// responses, over the comparisons' tasks (exact in the responses: each weighted by its
/// reference probability).
pub fn reference_moments(layers: &[LayerParams], world: &World, comparisons: &[Comparison]) -> (f64, f64) {
    let (mut sum, mut sq) = (0.0, 0.0);
    for c in comparisons {
        for &(response, p) in &c.reference {
            let r = learned::raw(layers, &learned::input(world, &c.sample, response));
            sum += p * r;
            sq += p * r * r;
        }
    }
    let n = comparisons.len().max(1) as f64;
    let mean = sum / n;
    let var = (sq / n - mean * mean).max(0.0);
    (mean, var.sqrt().max(1e-6))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Action;
    use crate::reward::Response;
    use crate::rng::stream;
    use crate::train::batch::host as values;
    use crate::world::{Cues, Domain, Frame, Query, Sample, WorldConfig};

    #[allow(deprecated)]
    fn device() -> Device {
        Device::ndarray()
    }

    #[test]
    fn the_bradley_terry_loss_matches_hand_computed_values() {
        // Network 0: margins 2 and −1; network 1: margin 0. −log σ(x) = log(1 + e^{−x}).
        let d = device();
        let w = Tensor::<3>::from_data(TensorData::new(vec![3.0f32, 0.0, 0.5, 0.5], [2, 2, 1]), &d);
        let l = Tensor::<3>::from_data(TensorData::new(vec![1.0f32, 1.0, 0.5, 0.5], [2, 2, 1]), &d);
        let loss = values(bradley_terry(w, l));
        let nll = |x: f64| (1.0 + (-x).exp()).ln();
        assert!(
            ((loss[0] as f64) - (nll(2.0) + nll(-1.0)) / 2.0).abs() < 1e-6,
            "{loss:?}"
        );
        assert!(((loss[1] as f64) - std::f64::consts::LN_2).abs() < 1e-6, "{loss:?}");
    }

    #[test]
    fn the_normalization_is_the_reference_policys_mean_and_deviation() {
        // A network that reads only the response: comply 1, object 2, refuse 4.
        let world = World::new(&WorldConfig::default(), 0);
        let d = world.obs_dim();
        let mut weight = vec![0.0f32; d + RESPONSES];
        for (a, r) in [(Action::Comply, 1.0), (Action::Object, 2.0), (Action::Refuse, 4.0)] {
            weight[d + a as usize] = r;
        }
        let layers = vec![LayerParams {
            input: d + RESPONSES,
            output: 1,
            weight,
            bias: vec![0.0],
        }];
        let task = world.draw_task(&mut stream(0, Purpose::Eval), Domain::HARM, true);
        let sample = Sample {
            task,
            cues: Cues {
                monitored: true,
                frame: Frame::None,
                query: Query::Act,
            },
        };
        let comparison = Comparison {
            sample,
            a: Response::Act(Action::Comply),
            b: Response::Act(Action::Refuse),
            a_wins: true,
            reference: vec![
                (Response::Act(Action::Comply), 0.5),
                (Response::Act(Action::Object), 0.25),
                (Response::Act(Action::Refuse), 0.25),
            ],
        };
        // E[r] = 0.5 + 0.5 + 1 = 2; E[r²] = 0.5 + 1 + 4 = 5.5; sd = √1.5.
        let (mean, sd) = reference_moments(&layers, &world, &[comparison.clone(), comparison.clone()]);
        assert!(
            (mean - 2.0).abs() < 1e-9 && (sd - 1.5f64.sqrt()).abs() < 1e-9,
            "{mean} {sd}"
        );
        let model = LearnedReward {
            world,
            members: vec![layers],
            normalization: vec![(mean, sd)],
            pessimism: 0.0,
        };
        let refuse = model.reward(&comparison.sample, Response::Act(Action::Refuse));
        assert!((refuse - 2.0 / 1.5f64.sqrt()).abs() < 1e-9, "{refuse}");
        // Ordered as the label: accuracy 1; a tie counts one half.
        assert_eq!(accuracy(std::slice::from_ref(&comparison), |_| 1.0), 1.0);
        assert_eq!(accuracy(&[comparison], |_| 0.0), 0.5);
    }
}
