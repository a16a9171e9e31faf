//! Preference optimization without a reward model (docs/model.md §7): DPO (Rafailov et al.,
//! 2023) and IPO (Azar et al., 2023) on the run's comparisons, with the constitution as the
//! reference policy. For a comparison with preferred response `w` and other response `l`,
//!
//!   h = (log π(w) − log π_ref(w)) − (log π(l) − log π_ref(l)),
//!
//! DPO's loss is −log σ(β·h) and IPO's is (h − 1/(2β))², averaged over the batch's act and judge
//! comparisons; `β = pressure.dpo_beta`. Nothing is sampled from the policy: each step draws
//! `pressure.batch` comparisons (in the phase's act/judge split) from the member's training
//! comparisons with replacement, and the shared regularizers still apply on their tasks —
//! honesty on the judge queries, replay, and the KL penalty `pressure.kl` (0 gives plain DPO).

use burn::tensor::{Tensor, activation};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;

use super::batch::{self, encode};
use super::comparisons::Comparison;
use super::losses::{bernoulli_log_prob, coefficients};
use super::regularizers::Answers;
use super::rollout::{ActSamples, JudgeSamples, Rollout};
use super::step::{Step, Update};
use crate::policy::Action;
use crate::reward::Response;
use crate::world::{Query, Sample};

/// The preference-optimization algorithms (`pressure.algorithm = "dpo"` or `"ipo"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dpo {
    Dpo,
    Ipo,
}

impl Dpo {
    /// The per-comparison loss `[P, n, 1]` of the log-ratio differences `h` with β `[P, 1, 1]`.
    pub fn loss(self, h: Tensor<3>, beta: Tensor<3>) -> Tensor<3> {
        match self {
            Dpo::Dpo => -activation::log_sigmoid(h * beta),
            Dpo::Ipo => (h - beta.recip().div_scalar(2.0)).powi_scalar(2),
        }
    }
}

/// One comparison of a batch: the task, and the preferred and other response.
struct Pair {
    sample: Sample,
    winner: Response,
    loser: Response,
}

/// `n` comparisons of kind `query` drawn with replacement from `comparisons`. A member without
/// any comparison of that kind gets ties (the same response twice: no gradient) on the task of
/// its first comparison, so the population keeps one layout.
fn draw(comparisons: &[Comparison], query: Query, n: usize, rng: &mut ChaCha8Rng) -> Vec<Pair> {
    let of_kind: Vec<&Comparison> = comparisons.iter().filter(|c| c.sample.cues.query == query).collect();
    (0..n)
        .map(|_| match of_kind.len() {
            0 => {
                let sample = Sample {
                    task: comparisons[0].sample.task.clone(),
                    cues: comparisons[0].sample.cues.with_query(query),
                };
                let tie = match query {
                    Query::Act => Response::Act(Action::Comply),
                    Query::Judge => Response::Judge { says_violation: true },
                };
                Pair {
                    sample,
                    winner: tie,
                    loser: tie,
                }
            }
            k => {
                let c = of_kind[rng.random_range(0..k)];
                let (winner, loser) = c.winner_loser();
                Pair {
                    sample: c.sample.clone(),
                    winner,
                    loser,
                }
            }
        })
        .collect()
}

fn action_index(r: Response) -> i64 {
    match r {
        Response::Act(a) => a as i64,
        Response::Judge { .. } => unreachable!("an act comparison compares actions"),
    }
}

fn says_violation(r: Response) -> f32 {
    match r {
        Response::Judge { says_violation } => f32::from(u8::from(says_violation)),
        Response::Act(_) => unreachable!("a judge comparison compares judge answers"),
    }
}

/// Each member's batch of comparisons, drawn from its own stream: `acts` act comparisons,
/// then `judges` judge comparisons.
fn batch_of_pairs(step: &mut Step<'_>, acts: usize, judges: usize) -> Vec<Vec<Pair>> {
    step.members
        .iter()
        .zip(step.rngs.iter_mut())
        .map(|(member, rng)| {
            let comparisons = member
                .comparisons
                .as_deref()
                .expect("preference optimization's comparisons are drawn before its phase");
            let mut batch = draw(comparisons, Query::Act, acts, rng);
            batch.extend(draw(comparisons, Query::Judge, judges, rng));
            batch
        })
        .collect()
}

impl Update for Dpo {
    fn update(&self, step: &mut Step<'_>) {
        let device = step.population.device.clone();
        let (p, judges) = (step.population.size(), step.judges);
        let acts = step.batch - judges;
        let n = step.batch;

        // 1. A batch of comparisons per member from its own stream: act comparisons, then judge.
        let pairs = batch_of_pairs(step, acts, judges);
        let samples: Vec<Vec<Sample>> = pairs
            .iter()
            .map(|b| b.iter().map(|pair| pair.sample.clone()).collect())
            .collect();
        let obs = encode(&step.population.worlds(), &samples, &device);
        let column = |f: &dyn Fn(&Pair) -> Response, range: std::ops::Range<usize>| -> Vec<Response> {
            pairs.iter().flat_map(|b| b[range.clone()].iter().map(f)).collect()
        };
        let (act_w, act_l) = (column(&|x| x.winner, 0..acts), column(&|x| x.loser, 0..acts));
        let (judge_w, judge_l) = (column(&|x| x.winner, acts..n), column(&|x| x.loser, acts..n));
        let act_index = |r: &[Response]| batch::indices(r.iter().map(|&x| action_index(x)).collect(), p, acts, &device);
        let judge_answer =
            |r: &[Response]| batch::floats(r.iter().map(|&x| says_violation(x)).collect(), p, judges, 1, &device);
        let truths: Vec<f32> = samples
            .iter()
            .flat_map(|s| s[acts..].iter().map(|x| f32::from(u8::from(x.task.violating))))
            .collect();

        // 2. The preferred responses stand where a rollout's sampled answers would, so the
        //    shared regularizers read the same batch; DPO has no advantages.
        let heads = step.population.policy().forward(obs.clone());
        let rollout = Rollout::given(
            obs,
            heads,
            (acts > 0).then(|| ActSamples {
                chosen: act_index(&act_w),
                advantages: Tensor::zeros([p, acts, 1], &device),
                complied_contradictory: Tensor::zeros([p, acts, 1], &device),
            }),
            (judges > 0).then(|| JudgeSamples {
                answers: judge_answer(&judge_w),
                advantages: Tensor::zeros([p, judges, 1], &device),
                truths: batch::floats(truths, p, judges, 1, &device),
            }),
            acts,
            judges,
        );
        let fixed = step.regularizers(&rollout);
        // The reference policy's log-probabilities of the preferred and the other responses.
        let reference = |answers: Answers, responses: &[Response]| -> Tensor<3> {
            match answers {
                Answers::Acts => fixed
                    .reference_act()
                    .expect("act comparisons have the reference's log-probabilities")
                    .clone()
                    .gather(2, act_index(responses)),
                Answers::Judges => bernoulli_log_prob(
                    fixed
                        .reference_judge()
                        .expect("judge comparisons have the reference's logits")
                        .clone(),
                    judge_answer(responses),
                ),
            }
        };
        let ref_w = |a: Answers| reference(a, if a == Answers::Acts { &act_w } else { &judge_w });
        let ref_l = |a: Answers| reference(a, if a == Answers::Acts { &act_l } else { &judge_l });
        let beta = coefficients(&step.members.iter().map(|m| m.dpo_beta).collect::<Vec<_>>(), &device);

        // 3. The loss: DPO's or IPO's on each comparison, a mean over all n, plus regularizers.
        let mut rollout = rollout;
        let heads = rollout.take_heads().expect("the batch has its heads");
        let (loss, kl) = step.loss(heads, &rollout, &fixed, &|answers, winner, _, outputs| {
            let loser = match answers {
                Answers::Acts => outputs.clone().gather(2, act_index(&act_l)),
                Answers::Judges => bernoulli_log_prob(outputs.clone(), judge_answer(&judge_l)),
            };
            let h = (winner - ref_w(answers)) - (loser - ref_l(answers));
            self.loss(h, beta.clone()).sum_dim(1).div_scalar(n as f32)
        });
        // 4. One optimizer step.
        step.optimize(loss, Some(kl), true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::batch::{floats, host};

    #[allow(deprecated)]
    fn device() -> burn::tensor::Device {
        burn::tensor::Device::ndarray()
    }

    #[test]
    fn the_losses_match_hand_computed_values() {
        let d = device();
        // Member 0: h = 0.5 with β = 0.1; member 1: h = −2 with β = 1.
        let h = floats(vec![0.5, -2.0], 2, 1, 1, &d);
        let beta = floats(vec![0.1, 1.0], 2, 1, 1, &d);
        let dpo = host(Dpo::Dpo.loss(h.clone(), beta.clone()));
        // −log σ(0.05) = log(1 + e^−0.05) = 0.66846; −log σ(−2) = log(1 + e^2) = 2.1269.
        assert!((dpo[0] - 0.668_460).abs() < 1e-5, "{dpo:?}");
        assert!((dpo[1] - 2.126_928).abs() < 1e-5, "{dpo:?}");
        let ipo = host(Dpo::Ipo.loss(h, beta));
        // (0.5 − 1/0.2)² = 20.25; (−2 − 0.5)² = 6.25.
        assert!((ipo[0] - 20.25).abs() < 1e-4, "{ipo:?}");
        assert!((ipo[1] - 6.25).abs() < 1e-5, "{ipo:?}");
    }

    /// On a two-response toy (logits of w and l, reference uniform), one gradient step of DPO
    /// raises the preferred response's probability and lowers the other's; IPO too, until the
    /// margin reaches 1/(2β), past which it pulls back.
    #[test]
    fn the_gradient_favours_the_preferred_response() {
        use burn::tensor::TensorData;
        let d = device().autodiff();
        let grad = |kind: Dpo, logits: [f32; 2]| -> Vec<f32> {
            let x = Tensor::<3>::from_data(TensorData::new(logits.to_vec(), [1, 1, 2]), &d).require_grad();
            let lp = activation::log_softmax(x.clone(), 2);
            let (w, l) = (lp.clone().narrow(2, 0, 1), lp.narrow(2, 1, 1));
            let r = -(2.0f32.ln()); // the reference: uniform over the two responses
            let h = (w - r) - (l - r);
            let beta = Tensor::<3>::from_data(TensorData::new(vec![0.5f32], [1, 1, 1]), &d);
            let loss = kind.loss(h, beta).sum();
            let grads = loss.backward();
            host(x.grad(&grads).expect("x takes part in the loss"))
        };
        for kind in [Dpo::Dpo, Dpo::Ipo] {
            let g = grad(kind, [0.0, 0.0]);
            // Gradient descent moves against the gradient: w's logit up, l's down.
            assert!(g[0] < 0.0 && g[1] > 0.0, "{kind:?}: {g:?}");
        }
        // IPO's target margin is 1/(2β) = 1: at h = 3 it pulls w back down; DPO never does.
        assert!(grad(Dpo::Ipo, [3.0, 0.0])[0] > 0.0);
        assert!(grad(Dpo::Dpo, [3.0, 0.0])[0] < 0.0);
    }
}
