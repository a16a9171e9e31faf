//! Experiments: the TOML configuration, the run list, the runner, its records, and merging
//! the folders of sharded runs.

pub mod backend;
pub mod config;
pub mod figure_spec;
pub mod keys;
pub mod merge;
pub mod records;
pub mod runner;
pub mod runs;
pub mod shipped;
pub mod spec;

pub use backend::Backend;
pub use keys::{Axis, Override};
pub use runner::{Outcome, RunOptions, run_experiment};
pub use runs::{RunSpec, Shard, expand};
pub use spec::{Experiment, SpecError};
