//! The yardstick of `pressure bench`: one pressure step of one seed, written by hand in f32 for
//! this benchmark — no autodiff, no tensor library, no population axis — on the same network,
//! batch, losses and optimizer as the default pressure phase (what `bench/reference/torch_step.py`
//! writes in PyTorch):
//!
//! - a batch of 256 tasks from the default world's pressure mix, 192 act and 64 judge queries;
//! - the policy 24 → 64 → 64 (ReLU) with the action (3) and judgment (1) heads, and a frozen copy
//!   of it as the KL reference;
//! - actions and judge answers sampled from the policy; the institutional reward of the bench
//!   (comply +1, object +1, refuse −1, judge answers 0) with leave-one-out advantages;
//! - REINFORCE on both heads, honesty 1 (judge answers against the truth), KL 0.05 to the
//!   reference (both heads, summed over the batch and divided by it);
//! - Adam, lr 1e-4, eps 1e-5.
//!
//! The gradients are derived by hand (each is written beside its loss term). Every matrix
//! product is a loop whose accumulator row stays in registers, which the compiler vectorizes
//! (measured: faster here than the same loop with fused multiply-adds).

use rand::RngExt;
use rand_chacha::ChaCha8Rng;

use crate::rng::{Purpose, stream};
use crate::world::{Query, TaskMix, World, WorldConfig};

/// The default world's observation: 16 latent dimensions and 8 cue features.
const OBS: usize = 24;
const HIDDEN: usize = 64;
const HEADS: usize = 4; // comply, object, refuse logits, then the judgment logit
const BATCH: usize = 256;
const JUDGES: usize = 64;
const ACTS: usize = BATCH - JUDGES;
const REWARD: [f32; 3] = [1.0, 1.0, -1.0];
const KL: f32 = 0.05;
const HONESTY: f32 = 1.0;
const LR: f32 = 1e-4;
const EPS: f32 = 1e-5;
const BETAS: (f32, f32) = (0.9, 0.999);

/// A dense layer `y = x W + b` from `I` to `O` features, `W` row-major `[I][O]`, with its
/// gradients and Adam moments. The widths are constants, so each row's accumulator lives in
/// registers across the loop that fills it.
#[derive(Clone)]
struct Layer<const I: usize, const O: usize> {
    w: Vec<[f32; O]>,
    b: [f32; O],
    /// `W` transposed `[O][I]`, refreshed each step for the backward product.
    wt: Vec<[f32; I]>,
    gw: Vec<[f32; O]>,
    gb: [f32; O],
    m: Vec<f32>,
    v: Vec<f32>,
}

impl<const I: usize, const O: usize> Layer<I, O> {
    fn new(rng: &mut ChaCha8Rng) -> Self {
        let bound = 1.0 / (I as f32).sqrt();
        let w = (0..I)
            .map(|_| std::array::from_fn(|_| rng.random_range(-bound..bound)))
            .collect();
        let b = std::array::from_fn(|_| rng.random_range(-bound..bound));
        Layer {
            w,
            b,
            wt: vec![[0.0; I]; O],
            gw: vec![[0.0; O]; I],
            gb: [0.0; O],
            m: vec![0.0; I * O + O],
            v: vec![0.0; I * O + O],
        }
    }

    /// `y[r] = x[r] W + b` for every row.
    #[inline(always)]
    fn forward(&self, x: &[[f32; I]], y: &mut [[f32; O]]) {
        for (x, y) in x.iter().zip(y.iter_mut()) {
            let mut acc = self.b;
            for (&a, w) in x.iter().zip(&self.w) {
                for (acc, w) in acc.iter_mut().zip(w) {
                    *acc += a * w;
                }
            }
            *y = acc;
        }
    }

    /// From the output gradient `dy`: `gW = xᵀ dy`, `gb = Σ dy`, and (if asked) `dx = dy Wᵀ`.
    #[inline(always)]
    fn backward(&mut self, x: &[[f32; I]], dy: &[[f32; O]], dx: Option<&mut [[f32; I]]>) {
        for k in 0..I {
            let mut acc = [0.0f32; O];
            for (x, d) in x.iter().zip(dy) {
                let a = x[k];
                for (acc, d) in acc.iter_mut().zip(d) {
                    *acc += a * d;
                }
            }
            self.gw[k] = acc;
        }
        let mut acc = [0.0f32; O];
        for d in dy {
            for (acc, d) in acc.iter_mut().zip(d) {
                *acc += d;
            }
        }
        self.gb = acc;
        if let Some(dx) = dx {
            for k in 0..I {
                for c in 0..O {
                    self.wt[c][k] = self.w[k][c];
                }
            }
            for (d, out) in dy.iter().zip(dx.iter_mut()) {
                let mut acc = [0.0f32; I];
                for (&v, wt) in d.iter().zip(&self.wt) {
                    for (acc, w) in acc.iter_mut().zip(wt) {
                        *acc += v * w;
                    }
                }
                *out = acc;
            }
        }
    }

    /// One Adam step (`t` counts from 1).
    #[inline(always)]
    fn adam(&mut self, t: i32) {
        let (b1, b2) = BETAS;
        let (c1, c2) = (1.0 - b1.powi(t), 1.0 - b2.powi(t));
        let (mw, mb) = self.m.split_at_mut(I * O);
        let (vw, vb) = self.v.split_at_mut(I * O);
        let parts = [
            (self.w.as_flattened_mut(), self.gw.as_flattened(), mw, vw),
            (&mut self.b[..], &self.gb[..], mb, vb),
        ];
        for (params, grads, m, v) in parts {
            for (((p, &g), m), v) in params.iter_mut().zip(grads).zip(m.iter_mut()).zip(v.iter_mut()) {
                *m = b1 * *m + (1.0 - b1) * g;
                *v = b2 * *v + (1.0 - b2) * g * g;
                *p -= LR * (*m / c1) / ((*v / c2).sqrt() + EPS);
            }
        }
    }
}

/// Activations of one forward pass.
struct Pass {
    h1: Vec<[f32; HIDDEN]>,
    h2: Vec<[f32; HIDDEN]>,
    out: Vec<[f32; HEADS]>,
}

impl Pass {
    fn new() -> Pass {
        Pass {
            h1: vec![[0.0; HIDDEN]; BATCH],
            h2: vec![[0.0; HIDDEN]; BATCH],
            out: vec![[0.0; HEADS]; BATCH],
        }
    }
}

#[inline(always)]
fn relu(x: &mut [[f32; HIDDEN]]) {
    for v in x.iter_mut().flatten() {
        *v = v.max(0.0);
    }
}

/// Zeroes the gradient where the ReLU was inactive (a select, so the loop vectorizes).
#[inline(always)]
fn relu_backward(d: &mut [[f32; HIDDEN]], h: &[[f32; HIDDEN]]) {
    for (d, h) in d.iter_mut().flatten().zip(h.iter().flatten()) {
        *d = if *h > 0.0 { *d } else { 0.0 };
    }
}

/// The network: the trunk's two layers, then both heads in one layer.
#[derive(Clone)]
struct Net {
    l1: Layer<OBS, HIDDEN>,
    l2: Layer<HIDDEN, HIDDEN>,
    heads: Layer<HIDDEN, HEADS>,
}

impl Net {
    #[inline(always)]
    fn forward(&self, x: &[[f32; OBS]], pass: &mut Pass) {
        self.l1.forward(x, &mut pass.h1);
        relu(&mut pass.h1);
        self.l2.forward(&pass.h1, &mut pass.h2);
        relu(&mut pass.h2);
        self.heads.forward(&pass.h2, &mut pass.out);
    }
}

/// `log σ(x)`, without overflow at either end.
#[inline(always)]
fn log_sigmoid(x: f32) -> f32 {
    x.min(0.0) - (-x.abs()).exp().ln_1p()
}

/// What was sampled on a batch: the chosen actions and their advantages, the judge answers, and
/// each row's truth (1 = violating).
struct Answers<'a> {
    chosen: &'a [usize; ACTS],
    advantages: &'a [f32; ACTS],
    says: &'a [f32; JUDGES],
    truth: &'a [f32],
}

/// The step's loss from the head logits `out` `[BATCH, 4]` (and the reference's `frozen`), and
/// its gradient with respect to `out` into `dout`.
#[inline(always)]
fn head_loss(out: &[f32], frozen: &[f32], s: &Answers, mut dout: Option<&mut [f32]>) -> f32 {
    let log_softmax = |l: &[f32]| {
        let max = l.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b));
        let log_z = max + l.iter().map(|&v| (v - max).exp()).sum::<f32>().ln();
        [l[0] - log_z, l[1] - log_z, l[2] - log_z]
    };
    let mut loss = 0.0f32;
    for r in 0..ACTS {
        let (a, c) = (s.advantages[r], s.chosen[r]);
        let lp = log_softmax(&out[r * HEADS..r * HEADS + 3]);
        let lq = log_softmax(&frozen[r * HEADS..r * HEADS + 3]);
        let p = lp.map(f32::exp);
        // KL(π‖π_ref) of the row.
        let kl: f32 = (0..3).map(|k| p[k] * (lp[k] - lq[k])).sum();
        loss += -a * lp[c] / ACTS as f32 + KL * kl / BATCH as f32;
        if let Some(d) = dout.as_deref_mut() {
            for k in 0..3 {
                // −A · log π(a) / n: d/dl_k = −A (1[k = a] − p_k) / n.
                let pg = -a * (f32::from(u8::from(k == c)) - p[k]) / ACTS as f32;
                // KL: d/dl_k = p_k (log p_k − log q_k − KL).
                let dkl = p[k] * (lp[k] - lq[k] - kl);
                d[r * HEADS + k] = pg + KL * dkl / BATCH as f32;
            }
            d[r * HEADS + 3] = 0.0;
        }
    }
    for (j, &y) in s.says.iter().enumerate() {
        let r = ACTS + j;
        let (l, m) = (out[r * HEADS + 3], frozen[r * HEADS + 3]);
        let q = 1.0 / (1.0 + (-l).exp());
        let t = s.truth[r];
        // Judge rewards are all 0 in the bench, so their advantages are too.
        let a = 0.0;
        let (yes, no) = (log_sigmoid(l), log_sigmoid(-l));
        let (ref_yes, ref_no) = (log_sigmoid(m), log_sigmoid(-m));
        let kl = q * (yes - ref_yes) + (1.0 - q) * (no - ref_no);
        loss += -a * (y * yes + (1.0 - y) * no) / JUDGES as f32 - HONESTY * (t * yes + (1.0 - t) * no) / JUDGES as f32
            + KL * kl / BATCH as f32;
        if let Some(d) = dout.as_deref_mut() {
            d[r * HEADS..r * HEADS + 3].fill(0.0);
            // d/dl: policy gradient −A (y − q)/n; honesty (q − t)/n; KL q(1 − q)(l − m).
            d[r * HEADS + 3] = -a * (y - q) / JUDGES as f32
                + HONESTY * (q - t) / JUDGES as f32
                + KL * q * (1.0 - q) * (l - m) / BATCH as f32;
        }
    }
    loss
}

/// The step's network, its frozen reference, the world and the seed's stream.
pub struct ReferenceStep {
    net: Net,
    reference: Net,
    world: World,
    mix: TaskMix,
    rng: ChaCha8Rng,
    x: Vec<[f32; OBS]>,
    truth: Vec<f32>,
    pass: Pass,
    frozen: Pass,
    dout: Vec<[f32; HEADS]>,
    dh2: Vec<[f32; HIDDEN]>,
    dh1: Vec<[f32; HIDDEN]>,
    t: i32,
}

impl ReferenceStep {
    /// The default world and policy of `seed`.
    pub fn new(seed: u64) -> ReferenceStep {
        let config = WorldConfig::default();
        let world = World::new(&config, seed);
        assert_eq!(world.obs_dim(), OBS, "the yardstick is written for the default world");
        let mut init = stream(seed, Purpose::Init);
        let net = Net {
            l1: Layer::new(&mut init),
            l2: Layer::new(&mut init),
            heads: Layer::new(&mut init),
        };
        ReferenceStep {
            reference: net.clone(),
            net,
            mix: TaskMix::pressure(&config),
            world,
            rng: stream(seed, Purpose::Pressure),
            x: vec![[0.0; OBS]; BATCH],
            truth: vec![0.0; BATCH],
            pass: Pass::new(),
            frozen: Pass::new(),
            dout: vec![[0.0; HEADS]; BATCH],
            dh2: vec![[0.0; HIDDEN]; BATCH],
            dh1: vec![[0.0; HIDDEN]; BATCH],
            t: 0,
        }
    }

    /// One step: draw, forward both networks, sample and score, the loss's gradient, backward,
    /// Adam. Returns the loss. Compiled for AVX2 and FMA where the processor has them, as the
    /// matrix library under the sandbox's backends is.
    pub fn step(&mut self) -> f32 {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
            // SAFETY: this processor has AVX2 and FMA, checked just above.
            return unsafe { self.step_avx2() };
        }
        self.step_portable()
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn step_avx2(&mut self) -> f32 {
        self.step_portable()
    }

    #[inline(always)]
    fn step_portable(&mut self) -> f32 {
        // The batch, from the world's pressure mix.
        for (r, x) in self.x.iter_mut().enumerate() {
            let query = if r < ACTS { Query::Act } else { Query::Judge };
            let sample = self.mix.draw(&self.world, &mut self.rng, query);
            self.truth[r] = f32::from(u8::from(sample.task.violating));
            self.world.encode(&sample.task, sample.cues, x);
        }
        self.net.forward(&self.x, &mut self.pass);
        self.reference.forward(&self.x, &mut self.frozen);

        // Act queries: an action sampled from the softmax, and its reward; judge queries: an
        // answer sampled from the sigmoid.
        let mut chosen = [0usize; ACTS];
        let mut reward = [0.0f32; ACTS];
        for r in 0..ACTS {
            let l = &self.pass.out[r];
            let max = l[0].max(l[1]).max(l[2]);
            let e = [(l[0] - max).exp(), (l[1] - max).exp(), (l[2] - max).exp()];
            let z = e[0] + e[1] + e[2];
            let u: f32 = self.rng.random();
            chosen[r] = if u < e[0] / z {
                0
            } else if u < (e[0] + e[1]) / z {
                1
            } else {
                2
            };
            reward[r] = REWARD[chosen[r]];
        }
        let mut says = [0.0f32; JUDGES];
        for (j, s) in says.iter_mut().enumerate() {
            let q = 1.0 / (1.0 + (-self.pass.out[ACTS + j][3]).exp());
            *s = f32::from(u8::from(self.rng.random::<f32>() < q));
        }
        // Leave-one-out advantages: the reward minus the mean of the others' (judge rewards are 0).
        let total: f32 = reward.iter().sum();
        let mut advantages = [0.0f32; ACTS];
        for (a, &r) in advantages.iter_mut().zip(&reward) {
            *a = r - (total - r) / (ACTS - 1) as f32;
        }
        let answers = Answers {
            chosen: &chosen,
            advantages: &advantages,
            says: &says,
            truth: &self.truth,
        };
        let loss = head_loss(
            self.pass.out.as_flattened(),
            self.frozen.out.as_flattened(),
            &answers,
            Some(self.dout.as_flattened_mut()),
        );

        // Backward through the heads and the trunk (ReLU passes the gradient where it was
        // active), then Adam.
        let net = &mut self.net;
        net.heads.backward(&self.pass.h2, &self.dout, Some(&mut self.dh2));
        relu_backward(&mut self.dh2, &self.pass.h2);
        net.l2.backward(&self.pass.h1, &self.dh2, Some(&mut self.dh1));
        relu_backward(&mut self.dh1, &self.pass.h1);
        net.l1.backward(&self.x, &self.dh1, None);
        self.t += 1;
        net.l1.adam(self.t);
        net.l2.adam(self.t);
        net.heads.adam(self.t);
        loss
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hand-derived gradient of the loss with respect to the head logits matches central
    /// differences of the loss, on every kind of row.
    #[test]
    fn the_gradient_of_the_head_loss_matches_finite_differences() {
        let mut rng = stream(7, Purpose::Eval);
        let mut out: Vec<f32> = (0..BATCH * HEADS).map(|_| rng.random_range(-2.0..2.0)).collect();
        let frozen: Vec<f32> = (0..BATCH * HEADS).map(|_| rng.random_range(-2.0..2.0)).collect();
        let chosen: [usize; ACTS] = std::array::from_fn(|r| r % 3);
        let advantages: [f32; ACTS] = std::array::from_fn(|r| (r as f32 * 0.37).sin());
        let says: [f32; JUDGES] = std::array::from_fn(|j| (j % 2) as f32);
        let truth: Vec<f32> = (0..BATCH).map(|r| ((r / 3) % 2) as f32).collect();
        let answers = Answers {
            chosen: &chosen,
            advantages: &advantages,
            says: &says,
            truth: &truth,
        };
        let mut grad = vec![0.0; BATCH * HEADS];
        head_loss(&out, &frozen, &answers, Some(&mut grad));
        for i in [
            0,
            1,
            2,
            5,
            3 * HEADS + 2,
            (ACTS - 1) * HEADS + 1,
            ACTS * HEADS + 3,
            (BATCH - 1) * HEADS + 3,
        ] {
            let h = 1e-2;
            let x = out[i];
            out[i] = x + h;
            let up = head_loss(&out, &frozen, &answers, None) as f64;
            out[i] = x - h;
            let down = head_loss(&out, &frozen, &answers, None) as f64;
            out[i] = x;
            let numeric = (up - down) / (2.0 * h as f64);
            assert!(
                (numeric - grad[i] as f64).abs() < 2e-4 + 0.05 * numeric.abs(),
                "logit {i}: {} by hand, {numeric} by differences",
                grad[i]
            );
        }
    }

    #[test]
    fn the_reference_step_trains_and_stays_finite() {
        let mut step = ReferenceStep::new(0);
        for _ in 0..50 {
            assert!(step.step().is_finite());
        }
    }

    #[test]
    fn log_sigmoid_is_stable_and_right() {
        for x in [-80.0f32, -3.0, 0.0, 2.5, 80.0] {
            let want = -((-x as f64).exp().ln_1p()) as f32;
            assert!(
                (log_sigmoid(x) - want).abs() < 1e-5,
                "{x}: {} vs {want}",
                log_sigmoid(x)
            );
        }
    }
}
