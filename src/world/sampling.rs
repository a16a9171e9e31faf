//! The task distributions of the phases: which domains, how many contradictions, which cues.

use rand::{Rng, RngExt};

use super::{Cues, Domain, Frame, Query, Sample, World, WorldConfig};

/// How frames are put on tasks.
#[derive(Debug, Clone, PartialEq)]
pub enum FrameMix {
    /// `frame` on a `rate` share of contradictory tasks, none elsewhere (the pressure phase).
    OnContradictory { frame: Frame, rate: f64 },
    /// Every frame on every kind of task: none 1/2, sanction 1/4, prohibit 1/4 (the constitution,
    /// which teaches what the frames mean).
    All,
}

/// A distribution over tasks and their cues (the query kind is chosen by the caller).
#[derive(Debug, Clone, PartialEq)]
pub struct TaskMix {
    pub domains: Vec<Domain>,
    /// Share of violating (hence contradictory) tasks.
    pub contradiction_rate: f64,
    pub monitored_rate: f64,
    pub frames: FrameMix,
}

impl TaskMix {
    /// The constitution's distribution over `domains` (every domain of the world, or those a
    /// phase teaches): all cue combinations, balanced.
    pub fn constitution(domains: Vec<Domain>) -> TaskMix {
        TaskMix {
            domains,
            contradiction_rate: 0.5,
            monitored_rate: 0.5,
            frames: FrameMix::All,
        }
    }

    /// The pressure phase's distribution, from the world's settings.
    pub fn pressure(world: &WorldConfig) -> TaskMix {
        TaskMix {
            domains: world.train(),
            contradiction_rate: world.contradiction_rate,
            monitored_rate: world.monitored_rate,
            frames: FrameMix::OnContradictory {
                frame: world.frame,
                rate: world.frame_rate,
            },
        }
    }

    /// Draws one task and its cues, asked as `query`.
    pub fn draw<R: Rng + ?Sized>(&self, world: &World, rng: &mut R, query: Query) -> Sample {
        let domain = self.domains[rng.random_range(0..self.domains.len())];
        let violating = rng.random::<f64>() < self.contradiction_rate;
        let monitored = rng.random::<f64>() < self.monitored_rate;
        let frame = match self.frames {
            FrameMix::OnContradictory { frame, rate } => {
                if violating && rng.random::<f64>() < rate {
                    frame
                } else {
                    Frame::None
                }
            }
            FrameMix::All => match rng.random_range(0..4) {
                0 => Frame::Sanction,
                1 => Frame::Prohibit,
                _ => Frame::None,
            },
        };
        let task = world.draw_task(rng, domain, violating);
        Sample {
            task,
            cues: Cues {
                monitored,
                frame,
                query,
            },
        }
    }
}
