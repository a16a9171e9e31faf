//! The policy (docs/model.md §2): an MLP trunk with ReLU and two heads read from it — the action head
//! (comply, object, refuse) and the judgment head ("this violates my principles").
//!
//! The network is population-batched: every parameter has a leading population axis, so one
//! tensor operation serves many independently seeded members at once. Member `m` is initialised
//! from its own random stream and nothing in a forward pass mixes members, so a member's results
//! do not depend on which others share its population.

pub mod dense;
pub mod probe;

use burn::module::{Module, Param};
use burn::tensor::{Device, Tensor, TensorData};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::settings::{InvalidValue, check};

/// The policy network (`[policy]`, docs/model.md §2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PolicyConfig {
    /// Widths of the ReLU trunk's hidden layers; the conscience probe reads the last one.
    pub hidden: Vec<usize>,
}

impl Default for PolicyConfig {
    fn default() -> Self {
        Self { hidden: vec![64, 64] }
    }
}

impl PolicyConfig {
    pub fn validate(&self) -> Result<(), InvalidValue> {
        check(
            "policy.hidden",
            format!("{:?}", self.hidden),
            !self.hidden.is_empty() && self.hidden.iter().all(|&h| (1..=4096).contains(&h)),
            "must be a non-empty list of layer widths in 1..=4096",
        )
    }
}

/// The three actions of the action head, in logit order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Do the task silently.
    Comply = 0,
    /// Do the task but voice the objection (honest objection).
    Object = 1,
    /// Refuse the task.
    Refuse = 2,
}

impl Action {
    pub const ALL: [Action; 3] = [Action::Comply, Action::Object, Action::Refuse];

    pub fn from_index(i: usize) -> Action {
        Action::ALL[i]
    }
}

/// A linear layer per population member: `x [P, B, in] → x W + b`, `W [P, in, out]`, `b [P, 1, out]`.
#[derive(Module, Debug)]
pub struct PopLinear {
    weight: Param<Tensor<3>>,
    bias: Param<Tensor<3>>,
}

impl PopLinear {
    /// Uniform(−1/√in, 1/√in) for weights and biases, as PyTorch's `nn.Linear` does; member `m`
    /// draws from `rngs[m]`.
    pub fn init(input: usize, output: usize, rngs: &mut [ChaCha8Rng], device: &Device) -> PopLinear {
        let p = rngs.len();
        let bound = 1.0 / (input as f32).sqrt();
        let mut weight = Vec::with_capacity(p * input * output);
        let mut bias = Vec::with_capacity(p * output);
        for rng in rngs.iter_mut() {
            weight.extend((0..input * output).map(|_| rng.random_range(-bound..bound)));
            bias.extend((0..output).map(|_| rng.random_range(-bound..bound)));
        }
        PopLinear {
            weight: Param::from_tensor(Tensor::from_data(TensorData::new(weight, [p, input, output]), device)),
            bias: Param::from_tensor(Tensor::from_data(TensorData::new(bias, [p, 1, output]), device)),
        }
    }

    /// A layer from each member's host values of `weight [in, out]` and `bias [out]`.
    fn from_members(weights: &[&[f32]], biases: &[&[f32]], input: usize, output: usize, device: &Device) -> PopLinear {
        let p = weights.len();
        let weight: Vec<f32> = weights.iter().flat_map(|w| w.iter().copied()).collect();
        let bias: Vec<f32> = biases.iter().flat_map(|b| b.iter().copied()).collect();
        PopLinear {
            weight: Param::from_tensor(Tensor::from_data(TensorData::new(weight, [p, input, output]), device)),
            bias: Param::from_tensor(Tensor::from_data(TensorData::new(bias, [p, 1, output]), device)),
        }
    }

    /// Each member's weight and bias values.
    pub fn member_values(&self) -> Vec<LayerParams> {
        let [p, i, o] = self.weight.dims();
        let w = host(self.weight.val());
        let b = host(self.bias.val());
        (0..p)
            .map(|m| LayerParams {
                input: i,
                output: o,
                weight: w[m * i * o..(m + 1) * i * o].to_vec(),
                bias: b[m * o..(m + 1) * o].to_vec(),
            })
            .collect()
    }

    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        dense::pop_dense(x, self.weight.val(), self.bias.val(), false)
    }

    /// `relu(x W + b)`, as one fused operation.
    pub fn forward_relu(&self, x: Tensor<3>) -> Tensor<3> {
        dense::pop_dense(x, self.weight.val(), self.bias.val(), true)
    }
}

/// Reads a float tensor back to the host.
fn host(t: Tensor<3>) -> Vec<f32> {
    t.into_data()
        .try_into_vec::<f32>()
        .expect("a float tensor reads back as f32")
}

/// One layer of one member on the host: `weight [input, output]` row-major and `bias [output]`.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerParams {
    pub input: usize,
    pub output: usize,
    pub weight: Vec<f32>,
    pub bias: Vec<f32>,
}

impl LayerParams {
    /// `x W + b` on the host, for one input row.
    pub fn apply(&self, x: &[f32]) -> Vec<f32> {
        let mut out = self.bias.clone();
        for (i, &xi) in x.iter().enumerate() {
            let row = &self.weight[i * self.output..(i + 1) * self.output];
            for (o, w) in out.iter_mut().zip(row) {
                *o += xi * w;
            }
        }
        out
    }
}

/// One member's parameters on the host: the trunk's layers, then the action and judgment heads.
#[derive(Debug, Clone, PartialEq)]
pub struct MemberParams {
    pub layers: Vec<LayerParams>,
}

/// The policy network of a population.
#[derive(Module, Debug)]
pub struct Policy {
    trunk: Vec<PopLinear>,
    action: PopLinear,
    judgment: PopLinear,
}

/// What one forward pass reads out.
pub struct Heads {
    /// `[P, B, 3]` logits of comply, object, refuse.
    pub action: Tensor<3>,
    /// `[P, B, 1]` logit of "this violates my principles".
    pub judgment: Tensor<3>,
    /// `[P, B, H]` activations of the trunk's last layer (what the conscience probe reads).
    pub trunk: Tensor<3>,
}

impl Policy {
    /// A population with one member per random stream in `rngs`.
    pub fn init(input: usize, hidden: &[usize], rngs: &mut [ChaCha8Rng], device: &Device) -> Policy {
        let mut trunk = Vec::with_capacity(hidden.len());
        let mut width = input;
        for &h in hidden {
            trunk.push(PopLinear::init(width, h, rngs, device));
            width = h;
        }
        Policy {
            trunk,
            action: PopLinear::init(width, Action::ALL.len(), rngs, device),
            judgment: PopLinear::init(width, 1, rngs, device),
        }
    }

    fn layers(&self) -> Vec<&PopLinear> {
        self.trunk.iter().chain([&self.action, &self.judgment]).collect()
    }

    /// Each member's parameters, copied to the host.
    pub fn member_params(&self) -> Vec<MemberParams> {
        let per_layer: Vec<Vec<LayerParams>> = self.layers().iter().map(|l| l.member_values()).collect();
        let p = per_layer[0].len();
        (0..p)
            .map(|m| MemberParams {
                layers: per_layer.iter().map(|layer| layer[m].clone()).collect(),
            })
            .collect()
    }

    /// A population whose member `m` has the parameters `members[m]` (all of one shape).
    pub fn from_members(members: &[&MemberParams], device: &Device) -> Policy {
        let layer = |k: usize| {
            let weights: Vec<&[f32]> = members.iter().map(|m| m.layers[k].weight.as_slice()).collect();
            let biases: Vec<&[f32]> = members.iter().map(|m| m.layers[k].bias.as_slice()).collect();
            let first = &members[0].layers[k];
            PopLinear::from_members(&weights, &biases, first.input, first.output, device)
        };
        let n = members[0].layers.len();
        Policy {
            trunk: (0..n - 2).map(layer).collect(),
            action: layer(n - 2),
            judgment: layer(n - 1),
        }
    }

    /// Width of the trunk's last layer.
    pub fn trunk_width(&self) -> usize {
        self.action.weight.dims()[1]
    }

    pub fn forward(&self, x: Tensor<3>) -> Heads {
        let mut h = x;
        for layer in &self.trunk {
            h = layer.forward_relu(h);
        }
        Heads {
            action: self.action.forward(h.clone()),
            judgment: self.judgment.forward(h.clone()),
            trunk: h,
        }
    }
}
