//! A run folder read while it is being written: each run's rows from its live file while it
//! trains and from its `metrics.csv` once it has completed, in run-list order. Read again, it
//! reads only what was appended since, so a watcher can poll it every second.
//!
//! A reader looks for a run's live file first and its completed status second; the runner
//! writes `metrics.csv`, then `status.json`, then removes the live file. So between two reads a
//! run's rows only grow, and a completed run's rows are exactly its live rows.

use std::path::{Path, PathBuf};

use super::runner::trusted_record;
use super::runs::{RunSpec, expand};
use super::spec::Experiment;
use crate::records::{self, LIVE_FILE, MetricRecord, RowReader, Status};

/// Where one run is, as last read.
#[derive(Debug, Clone)]
enum RunState {
    /// Not started, or ended without completing (diverged or failed: none of its rows count).
    Waiting,
    /// Training: its live file, read so far.
    Training(RowReader),
    /// Completed: its `metrics.csv`, read whole (it does not change again).
    Completed(RowReader),
}

/// How far a folder's run list has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub completed: usize,
    pub training: usize,
    pub total: usize,
}

impl std::fmt::Display for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} of {} runs completed", self.completed, self.total)?;
        if self.training > 0 {
            write!(f, ", {} training", self.training)?;
        }
        Ok(())
    }
}

/// A run folder being followed.
#[derive(Debug)]
pub struct LiveFolder {
    pub dir: PathBuf,
    pub experiment: Experiment,
    runs: Vec<RunSpec>,
    states: Vec<RunState>,
}

impl LiveFolder {
    /// Follows the folder `dir` that holds `experiment` (its `config.toml`); nothing is read yet.
    pub fn new(dir: &Path, experiment: Experiment) -> LiveFolder {
        let runs = expand(&experiment);
        let states = vec![RunState::Waiting; runs.len()];
        LiveFolder {
            dir: dir.to_path_buf(),
            experiment,
            runs,
            states,
        }
    }

    /// Reads what each run not yet completed has added since the last call.
    pub fn refresh(&mut self) -> Result<(), String> {
        for (run, state) in self.runs.iter().zip(&mut self.states) {
            if matches!(state, RunState::Completed(_)) {
                continue;
            }
            let dir = records::run_dir(&self.dir, &run.id);
            let mut reader = match std::mem::replace(state, RunState::Waiting) {
                RunState::Training(r) => r,
                _ => RowReader::default(),
            };
            if reader.read(&dir.join(LIVE_FILE))? {
                *state = RunState::Training(reader);
                continue;
            }
            // No live file: not started, or ended since the last read.
            let completed = trusted_record(&self.dir, run)
                .ok()
                .flatten()
                .is_some_and(|r| r.status == Status::Completed);
            if completed {
                let mut whole = RowReader::default();
                whole.read(&dir.join("metrics.csv"))?;
                *state = RunState::Completed(whole);
            }
        }
        Ok(())
    }

    /// How far the whole run list has come.
    pub fn progress(&self) -> Progress {
        self.progress_of(|_| true)
    }

    /// How far the runs that `which` picks have come.
    pub fn progress_of(&self, which: impl Fn(&RunSpec) -> bool) -> Progress {
        let mut p = Progress {
            completed: 0,
            training: 0,
            total: 0,
        };
        for (_, state) in self.runs.iter().zip(&self.states).filter(|(r, _)| which(r)) {
            p.total += 1;
            match state {
                RunState::Completed(_) => p.completed += 1,
                RunState::Training(_) => p.training += 1,
                RunState::Waiting => {}
            }
        }
        p
    }

    /// Every row read so far, in run-list order, as the experiment's `metrics.csv` will hold them.
    pub fn records(&self) -> Vec<MetricRecord> {
        self.records_where(|_, _| true)
    }

    /// The rows read so far that `keep` takes (given scope and metric), in run-list order.
    pub fn records_where(&self, keep: impl Fn(&str, &str) -> bool) -> Vec<MetricRecord> {
        let mut out = Vec::new();
        for (run, state) in self.runs.iter().zip(&self.states) {
            let (RunState::Training(r) | RunState::Completed(r)) = state else {
                continue;
            };
            let sweep = run.sweep_values();
            out.extend(
                r.rows
                    .iter()
                    .filter(|row| keep(&row.scope, &row.metric))
                    .map(|row| MetricRecord {
                        arm: run.arm.clone(),
                        sweep: sweep.clone(),
                        seed: run.seed,
                        step: row.step,
                        scope: row.scope.clone(),
                        metric: row.metric.clone(),
                        value: row.value,
                    }),
            );
        }
        out
    }
}
