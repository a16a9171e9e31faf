//! A sandbox for RLHF selection pressure on contradictory tasks.
//!
//! Small policy networks learn a constitution (refuse what violates a principle), then face a
//! toy reward model that penalizes refusal on *contradictory* tasks: tasks an institution demands
//! although a principle forbids them. The sandbox measures what the pressure selects for: honest
//! objection, hidden objection (the objection survives where it is not seen), or compliance with
//! no objection left. `docs/model.md` defines the world, the policy, the rewards and the measurements.

pub mod bench;
pub mod commands;
pub mod eval;
pub mod experiment;
pub mod plot;
pub mod policy;
pub mod report;
pub mod reward;
pub mod rng;
pub mod train;
pub mod world;
