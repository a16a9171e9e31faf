//! Experiments: the file (arms, seeds, sweep, figures), the run list it expands into, the
//! runner and what a live view asks of it, merging the folders of sharded runs, and reading a
//! run folder back.

mod bad_value;
pub mod budget;
pub mod claims;
pub mod constitutions;
pub mod error;
pub mod extends;
pub mod folder;
mod grid;
pub mod inventory;
pub mod keys;
pub mod live;
pub mod merge;
pub mod recorder;
pub mod refine;
pub mod robustness;
pub mod rounds;
pub mod runner;
pub mod runs;
pub mod schedule;
pub mod shipped;
pub mod slurm;
pub mod spec;
#[cfg(test)]
mod toys;

pub use constitutions::Constitutions;
pub use error::SpecError;
pub use keys::{Axis, Override};
pub use recorder::Watch;
pub use runner::{RunOptions, RunReport, run_experiment};
pub use runs::{RunSpec, Shard, expand};
pub use spec::Experiment;
