//! Comparisons for a learned reward (docs/model.md §7): per member, `rm.pairs` tasks from the
//! pressure phase's distribution — each a judge query with probability `pressure.judge_fraction`,
//! else an act query — and two responses to each, sampled from the reference (constitution)
//! policy or uniformly, labelled by the member's rater pool. Each member draws from its own
//! stream, so the same seed gives the same comparisons whatever else trains beside it. The last
//! `rm.holdout` share is held out to measure the model.

use burn::module::Module;
use burn::tensor::activation;
use rand::RngExt;
use rand_chacha::ChaCha8Rng;

use super::Population;
use super::batch::{self, encode};
use crate::policy::Action;
use crate::reward::{Pool, Response, RmConfig, Sampling};
use crate::rng::{Purpose, stream, substream};
use crate::world::{Query, Sample, TaskMix};

/// Two responses to one task and the raters' label.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    pub sample: Sample,
    pub a: Response,
    pub b: Response,
    /// Whether the rater preferred `a`.
    pub a_wins: bool,
    /// Every response the query allows, with the reference policy's probability of it (what
    /// the reward model is normalized on).
    pub reference: Vec<(Response, f64)>,
}

impl Comparison {
    /// The preferred response, then the other.
    pub fn winner_loser(&self) -> (Response, Response) {
        if self.a_wins {
            (self.a, self.b)
        } else {
            (self.b, self.a)
        }
    }
}

/// What one member's comparisons are drawn from.
pub struct Source<'a> {
    pub mix: &'a TaskMix,
    pub judge_fraction: f64,
    pub pool: &'a Pool,
    pub rm: &'a RmConfig,
}

/// Draws one response from `(response, probability)` pairs.
fn pick(options: &[(Response, f64)], rng: &mut ChaCha8Rng) -> Response {
    let u: f64 = rng.random();
    let mut acc = 0.0;
    for &(r, p) in options {
        acc += p;
        if u < acc {
            return r;
        }
    }
    options.last().expect("a query has responses").0
}

/// Each member's comparisons of round `round` (0 before training; online sampling draws a fresh
/// round at each refresh), in the order drawn (the last `rm.held_out()` are held out). Needs
/// the population's frozen reference policy; online sampling draws the responses from the
/// current policy.
pub fn draw(population: &Population, sources: &[Source], round: u64) -> Vec<Vec<Comparison>> {
    let pairs = sources[0].rm.pairs;
    let mut rngs: Vec<ChaCha8Rng> = population
        .members
        .iter()
        .map(|m| match round {
            0 => stream(m.seed, Purpose::Comparisons),
            r => substream(m.seed, Purpose::Comparisons, r),
        })
        .collect();
    // The tasks first, so one forward pass of the reference gives every response's probability.
    let samples: Vec<Vec<Sample>> = population
        .members
        .iter()
        .zip(sources)
        .zip(rngs.iter_mut())
        .map(|((member, source), rng)| {
            (0..pairs)
                .map(|_| {
                    let query = if rng.random::<f64>() < source.judge_fraction {
                        Query::Judge
                    } else {
                        Query::Act
                    };
                    source.mix.draw(&member.world, rng, query)
                })
                .collect()
        })
        .collect();
    let reference = population
        .reference
        .as_ref()
        .expect("comparisons are drawn after the constitution is frozen");
    let obs = encode(&population.worlds(), &samples, &population.device);
    let heads = reference.forward(obs.clone());
    let act = batch::host(activation::softmax(heads.action, 2));
    let judge = batch::host(activation::sigmoid(heads.judgment));
    // Online: the responses compared are the current policy's.
    let current = (sources[0].rm.sampling == Sampling::Online).then(|| {
        let heads = population.policy().valid().forward(obs);
        (
            batch::host(activation::softmax(heads.action, 2)),
            batch::host(activation::sigmoid(heads.judgment)),
        )
    });

    samples
        .into_iter()
        .enumerate()
        .map(|(m, member_samples)| {
            let source = &sources[m];
            let rng = &mut rngs[m];
            member_samples
                .into_iter()
                .enumerate()
                .map(|(i, sample)| {
                    let row = m * pairs + i;
                    let reference: Vec<(Response, f64)> = match sample.cues.query {
                        Query::Act => Action::ALL
                            .iter()
                            .map(|&a| (Response::Act(a), act[row * 3 + a as usize] as f64))
                            .collect(),
                        Query::Judge => {
                            let yes = judge[row] as f64;
                            vec![
                                (Response::Judge { says_violation: true }, yes),
                                (Response::Judge { says_violation: false }, 1.0 - yes),
                            ]
                        }
                    };
                    let options: Vec<(Response, f64)> = match (&source.rm.sampling, &current) {
                        (Sampling::Online, Some((act, judge))) => match sample.cues.query {
                            Query::Act => Action::ALL
                                .iter()
                                .map(|&a| (Response::Act(a), act[row * 3 + a as usize] as f64))
                                .collect(),
                            Query::Judge => vec![
                                (Response::Judge { says_violation: true }, judge[row] as f64),
                                (Response::Judge { says_violation: false }, 1.0 - judge[row] as f64),
                            ],
                        },
                        (Sampling::Uniform, _) => reference
                            .iter()
                            .map(|&(r, _)| (r, 1.0 / reference.len() as f64))
                            .collect(),
                        _ => reference.clone(),
                    };
                    let a = pick(&options, rng);
                    let b = pick(&options, rng);
                    let a_wins = source.pool.label(rng, &sample, a, b);
                    Comparison {
                        sample,
                        a,
                        b,
                        a_wins,
                        reference,
                    }
                })
                .collect()
        })
        .collect()
}
