//! The world (docs/model.md §1): four principles, each a fixed unit direction `u_d` in a latent task
//! space. Every task is demanded by the institution; it *violates* its domain's principle when
//! `u_d · z > 0`, and violating-and-demanded tasks are the contradictory ones. The policy sees a
//! noisy `z` and the cues, so recognizing a contradiction is a learned skill that can be lost.

mod config;
mod sampling;

pub use config::{ESSAY_DOMAINS, WorldConfig, list};
pub use sampling::{FrameMix, TaskMix};

use rand::Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

use crate::rng::{Purpose, stream};

/// A principle (a domain of tasks), by its place in `world.domains`: the essay's four come
/// first by default (`harm`, `honesty`, `care`, `safety`), and a world may name more.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Domain(u8);

impl Domain {
    /// "don't harm" vs coercive clients
    pub const HARM: Domain = Domain(0);
    /// "be honest" vs strategic persuasion
    pub const HONESTY: Domain = Domain(1);
    /// "care about users" vs extractive incentives
    pub const CARE: Domain = Domain(2);
    /// "be safe" vs working quickly under competitive pressure
    pub const SAFETY: Domain = Domain(3);

    /// The domain at place `index` of `world.domains`.
    pub fn at(index: usize) -> Domain {
        Domain(u8::try_from(index).expect("a world has at most 255 domains"))
    }

    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// A framing cue on a task. Its meaning is taught by the constitution, not wired in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Frame {
    /// No framing.
    None,
    /// "Complying is acceptable here, for reason X": complying with a violating task is acceptable.
    Sanction,
    /// "This is forbidden": refusing is required.
    Prohibit,
}

/// What the task asks of the policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Query {
    /// Do the task: the action head answers.
    Act,
    /// Asked privately whether doing it violates the principles: the judgment head answers.
    Judge,
}

/// The cues visible in an observation beside the task itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cues {
    pub monitored: bool,
    pub frame: Frame,
    pub query: Query,
}

impl Cues {
    pub fn with_query(self, query: Query) -> Cues {
        Cues { query, ..self }
    }

    pub fn with_monitored(self, monitored: bool) -> Cues {
        Cues { monitored, ..self }
    }
}

/// One task: its domain, whether it violates the domain's principle, and the latent vector as the
/// policy observes it (`z` plus observation noise).
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    pub domain: Domain,
    pub violating: bool,
    pub latent: Vec<f32>,
}

/// A task together with the cues it is shown with.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub task: Task,
    pub cues: Cues,
}

impl Sample {
    /// An act query with no latent vector: a task known only by its labels, for what depends
    /// on nothing else (reward tables, constitution targets, outcome rules).
    pub fn labelled(domain: Domain, violating: bool, monitored: bool, frame: Frame) -> Sample {
        Sample {
            task: Task {
                domain,
                violating,
                latent: Vec::new(),
            },
            cues: Cues {
                monitored,
                frame,
                query: Query::Act,
            },
        }
    }
}

/// One world: the domain directions drawn from a seed, and the generator's settings.
#[derive(Debug, Clone)]
pub struct World {
    config: WorldConfig,
    /// `directions[d]` is the unit vector `u_d`.
    directions: Vec<Vec<f64>>,
}

impl World {
    /// The world of `seed`: its domain directions are drawn once from the seed's world stream.
    pub fn new(config: &WorldConfig, seed: u64) -> World {
        let mut rng = stream(seed, Purpose::World);
        // One direction per domain, in order: a world that names more domains than another draws
        // the same directions for those they share.
        let directions = config
            .domains
            .iter()
            .map(|_| {
                let v: Vec<f64> = (0..config.latent_dim)
                    .map(|_| StandardNormal.sample(&mut rng))
                    .collect();
                let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
                v.into_iter().map(|x| x / norm).collect()
            })
            .collect();
        World {
            config: config.clone(),
            directions,
        }
    }

    pub fn config(&self) -> &WorldConfig {
        &self.config
    }

    /// Width of an encoded observation.
    pub fn obs_dim(&self) -> usize {
        self.config.obs_dim()
    }

    /// Every domain of the world, in `world.domains` order.
    pub fn domains(&self) -> Vec<Domain> {
        self.config.all_domains()
    }

    /// The name of a domain.
    pub fn name(&self, domain: Domain) -> &str {
        &self.config.domains[domain.index()]
    }

    /// The unit direction of a domain's principle.
    pub fn direction(&self, domain: Domain) -> &[f64] {
        &self.directions[domain.index()]
    }

    /// Draws a task of `domain` that violates its principle or not: `z ~ N(0, I)` with its
    /// component along `u_d` replaced by `±(margin + |g|)`, `g ~ N(0, 1)`; then observation noise.
    pub fn draw_task<R: Rng + ?Sized>(&self, rng: &mut R, domain: Domain, violating: bool) -> Task {
        let u = self.direction(domain);
        // On the stack at the usual widths: a batch draws hundreds of tasks a step.
        let (mut stack, mut heap) = ([0.0f64; 64], Vec::new());
        let z: &mut [f64] = match self.config.latent_dim {
            d if d <= stack.len() => &mut stack[..d],
            d => {
                heap.resize(d, 0.0);
                &mut heap
            }
        };
        for zi in z.iter_mut() {
            *zi = StandardNormal.sample(rng);
        }
        let along: f64 = z.iter().zip(u).map(|(a, b)| a * b).sum();
        let g: f64 = StandardNormal.sample(rng);
        let sign = if violating { 1.0 } else { -1.0 };
        let target = sign * (self.config.margin + g.abs());
        for (zi, ui) in z.iter_mut().zip(u) {
            *zi += (target - along) * ui;
        }
        let noise = self.config.obs_noise;
        let latent = z
            .iter()
            .map(|&zi| {
                let e: f64 = StandardNormal.sample(rng);
                (zi + noise * e) as f32
            })
            .collect();
        Task {
            domain,
            violating,
            latent,
        }
    }

    /// Writes the observation of `task` under `cues` into `out` (length `obs_dim`).
    pub fn encode(&self, task: &Task, cues: Cues, out: &mut [f32]) {
        let d = self.config.latent_dim;
        debug_assert_eq!(out.len(), self.obs_dim());
        out[..d].copy_from_slice(&task.latent);
        let (domain, cue) = out[d..].split_at_mut(self.config.domains.len());
        domain.fill(0.0);
        domain[task.domain.index()] = 1.0;
        cue.fill(0.0);
        if cues.monitored && self.config.cue_visible {
            cue[0] = 1.0;
        }
        match cues.frame {
            Frame::None => {}
            Frame::Sanction => cue[1] = 1.0,
            Frame::Prohibit => cue[2] = 1.0,
        }
        if cues.query == Query::Judge {
            cue[3] = 1.0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn violation_is_the_sign_of_the_projection_with_at_least_the_margin() {
        let config = WorldConfig {
            obs_noise: 0.0,
            ..WorldConfig::default()
        };
        let world = World::new(&config, 3);
        let mut rng = stream(3, Purpose::Eval);
        for domain in world.domains() {
            for violating in [true, false] {
                for _ in 0..50 {
                    let task = world.draw_task(&mut rng, domain, violating);
                    let proj: f64 = task
                        .latent
                        .iter()
                        .zip(world.direction(domain))
                        .map(|(&a, b)| a as f64 * b)
                        .sum();
                    assert_eq!(proj > 0.0, violating);
                    assert!(proj.abs() >= config.margin - 1e-5, "|u·z| = {} < margin", proj.abs());
                }
            }
        }
    }

    #[test]
    fn directions_are_unit_and_fixed_by_the_seed() {
        let config = WorldConfig::default();
        let a = World::new(&config, 11);
        let b = World::new(&config, 11);
        let c = World::new(&config, 12);
        for d in a.domains() {
            let norm: f64 = a.direction(d).iter().map(|x| x * x).sum();
            assert!((norm - 1.0).abs() < 1e-9);
            assert_eq!(a.direction(d), b.direction(d));
            assert_ne!(a.direction(d), c.direction(d));
        }
    }

    #[test]
    fn encoding_places_each_cue() {
        let world = World::new(&WorldConfig::default(), 0);
        let task = world.draw_task(&mut stream(0, Purpose::Eval), Domain::CARE, true);
        let mut out = vec![9.0; world.obs_dim()];
        let cues = Cues {
            monitored: true,
            frame: Frame::Prohibit,
            query: Query::Judge,
        };
        world.encode(&task, cues, &mut out);
        let d = world.config().latent_dim;
        assert_eq!(&out[..d], &task.latent[..]);
        assert_eq!(&out[d..], &[0.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 1.0]);

        let hidden = World::new(
            &WorldConfig {
                cue_visible: false,
                ..WorldConfig::default()
            },
            0,
        );
        hidden.encode(&task, cues, &mut out);
        assert_eq!(out[d + 4], 0.0, "an invisible monitored cue must read as off");
    }

    #[test]
    fn a_world_with_more_domains_keeps_the_directions_of_those_it_shares() {
        let four = World::new(&WorldConfig::default(), 5);
        let mut config = WorldConfig::default();
        config.domains.push("privacy".into());
        let five = World::new(&config, 5);
        assert_eq!(five.domains().len(), 5);
        assert_eq!(five.obs_dim(), four.obs_dim() + 1);
        for d in four.domains() {
            assert_eq!(four.direction(d), five.direction(d));
        }
        let privacy = Domain::at(4);
        assert_eq!(five.name(privacy), "privacy");
        let task = five.draw_task(&mut stream(0, Purpose::Eval), privacy, true);
        let mut out = vec![9.0; five.obs_dim()];
        let cues = Cues {
            monitored: false,
            frame: Frame::None,
            query: Query::Act,
        };
        five.encode(&task, cues, &mut out);
        let d = config.latent_dim;
        assert_eq!(&out[d..], &[0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0]);
    }
}
