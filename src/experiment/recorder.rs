//! Where a population's measurements go while it trains: kept for its runs' files, appended to
//! each run's live file, counted for the progress bar, and handed to a [`Watch`] as they come.

use indicatif::ProgressBar;

use super::runs::RunSpec;
use crate::records::{LiveWriter, Row};
use crate::train::Recorder;

/// Told of every run's measurements while it trains, in the order its `metrics.csv` will hold
/// them. The rows of an evaluation arrive together, before the next training step.
pub trait Watch: Send + Sync {
    /// `rows` were measured for `run` since it was last told.
    fn measured(&self, run: &RunSpec, rows: &[Row]);
}

impl std::fmt::Debug for dyn Watch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Watch")
    }
}

/// Collects one population's measurements, and hands them to the watch as they come.
pub(super) struct PopulationRecorder<'a> {
    pub(super) rows: Vec<Vec<Row>>,
    pub(super) diverged: Vec<Option<(usize, String)>>,
    pub(super) progress: ProgressBar,
    pub(super) members: u64,
    pub(super) watch: Option<&'a dyn Watch>,
    pub(super) runs: &'a [&'a RunSpec],
    /// Each member's live file; `None` once it could not be written (its `metrics.csv` is still
    /// written when the run ends).
    pub(super) live: Vec<Option<LiveWriter>>,
    /// How many of each member's rows the watch and the live file have been given.
    pub(super) told: Vec<usize>,
}

impl PopulationRecorder<'_> {
    /// Gives the live files and the watch the rows measured since they were last told.
    pub(super) fn tell(&mut self) {
        for m in 0..self.rows.len() {
            let new = &self.rows[m][self.told[m]..];
            if new.is_empty() {
                continue;
            }
            if let Some(live) = &mut self.live[m]
                && live.append(new).is_err()
            {
                self.live[m] = None;
            }
            if let Some(watch) = self.watch {
                watch.measured(self.runs[m], new);
            }
            self.told[m] = self.rows[m].len();
        }
    }
}

impl Recorder for PopulationRecorder<'_> {
    fn record(&mut self, member: usize, step: usize, scope: &str, metric: &str, value: f64) {
        self.rows[member].push(Row {
            step,
            scope: scope.to_string(),
            metric: metric.to_string(),
            value,
        });
    }

    fn advance(&mut self, steps: usize) {
        // An evaluation's rows are all recorded before the next step is taken.
        self.tell();
        self.progress.inc(steps as u64 * self.members);
    }

    fn diverged(&mut self, member: usize, step: usize, message: String) {
        if self.diverged[member].is_none() {
            self.diverged[member] = Some((step, message));
        }
    }
}
