//! Experiments: the TOML configuration, the expansion into runs, the runner and its records.

pub mod config;
pub mod records;
pub mod runner;
pub mod shipped;
pub mod spec;

pub use runner::{Backend, RunOptions, RunSpec, expand, run_experiment};
pub use spec::{Experiment, Override, SpecError};
