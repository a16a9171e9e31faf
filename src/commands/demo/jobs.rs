//! Training for the demo: through the library's runner, one training at a time with at most
//! [`WAITING`] more waiting their turn, into the scene's folder under the demo's run cache.
//! Runs already completed there are read back from disk instead of being trained again; a
//! request whose runs are all there is answered at once, without waiting in the queue.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Instant;

use axum::http::StatusCode;
use serde_json::json;

use super::live::{Live, Sender, Watcher, send};
use super::request::Refusal;
use crate::experiment::constitutions::keep_constitutions;
use crate::experiment::runner::run_list;
use crate::experiment::{Constitutions, Experiment, RunOptions, RunSpec, run_experiment};
use crate::records::{Row, Status, run_dir};

/// Requests that may wait while one trains; one more is refused (503) until a place frees.
pub const WAITING: usize = 3;

/// One training asked for: what to train, where, the command that trains it, and where its
/// messages go.
pub struct Job {
    pub experiment: Experiment,
    pub out: PathBuf,
    pub command: String,
    pub tx: Sender,
}

#[derive(Default)]
struct Queue {
    waiting: VecDeque<Job>,
    busy: bool,
}

/// The one trainer of a demo server, and its queue.
pub struct Trainer {
    queue: Mutex<Queue>,
    wake: Condvar,
    /// Threads the runner trains on.
    jobs: usize,
    constitutions: Arc<Constitutions>,
}

impl Trainer {
    /// A trainer on `jobs` threads; `warm`, if given, is the experiment whose constitutions it
    /// trains before its first request (they are then shared by every request that needs them).
    pub fn start(jobs: usize, warm: Option<Experiment>) -> Arc<Trainer> {
        let trainer = Arc::new(Trainer {
            queue: Mutex::new(Queue {
                busy: warm.is_some(),
                ..Queue::default()
            }),
            wake: Condvar::new(),
            jobs,
            constitutions: Arc::new(Constitutions::default()),
        });
        let worker = trainer.clone();
        std::thread::Builder::new()
            .name("demo-trainer".into())
            .spawn(move || worker.work(warm))
            .expect("the trainer thread starts");
        trainer
    }

    /// Queues a job; returns how many trainings are ahead of it, or refuses it when the queue
    /// is full.
    pub fn submit(&self, job: Job) -> Result<usize, Refusal> {
        let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        q.waiting.retain(|j| !j.tx.is_closed());
        if q.waiting.len() >= WAITING {
            return Err(Refusal {
                status: StatusCode::SERVICE_UNAVAILABLE,
                key: None,
                message: format!(
                    "error: the demo trains one run at a time and {WAITING} requests are waiting; try again when one finishes"
                ),
            });
        }
        let ahead = q.waiting.len() + usize::from(q.busy);
        send(&job.tx, "queued", json!({ "ahead": ahead }));
        q.waiting.push_back(job);
        self.wake.notify_one();
        Ok(ahead)
    }

    /// Whether it is training (or training constitutions ahead), how many wait, and how many
    /// constitutions it keeps.
    pub fn status(&self) -> serde_json::Value {
        let q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        json!({ "busy": q.busy, "waiting": q.waiting.len(), "constitutions": self.constitutions.len() })
    }

    fn work(&self, warm: Option<Experiment>) {
        if let Some(experiment) = warm {
            if let Err(e) = keep_constitutions(&experiment, self.jobs, &self.constitutions) {
                eprintln!("pressure demo: the constitutions could not be trained ahead: {e:#}");
            }
        }
        loop {
            let job = {
                let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
                q.busy = false;
                let job = loop {
                    match q.waiting.pop_front() {
                        // Nobody is listening any more: nothing to train for.
                        Some(job) if job.tx.is_closed() => continue,
                        Some(job) => break job,
                        None => q = self.wake.wait(q).unwrap_or_else(|e| e.into_inner()),
                    }
                };
                q.busy = true;
                job
            };
            // A bug must not stop the demo's only trainer: the page is told, the next job runs.
            let tx = job.tx.clone();
            if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.train(job))).is_err() {
                send(
                    &tx,
                    "failed",
                    json!({ "message": "error: the training stopped on an internal error; see the server's terminal" }),
                );
            }
        }
    }

    /// Trains a job's runs that are not on disk, streaming all of them.
    fn train(&self, job: Job) {
        let clock = Instant::now();
        let live = Live::new(&job.experiment, job.tx.clone());
        let stored = stored_runs(&job.experiment, &job.out);
        send(&job.tx, "start", start(&job, &stored));
        let watcher = Arc::new(Watcher(Mutex::new(live)));
        {
            let mut live = watcher.0.lock().unwrap_or_else(|e| e.into_inner());
            for (run, rows) in stored
                .iter()
                .filter_map(|(r, rows)| rows.as_ref().map(|rows| (r, rows)))
            {
                let (csv, rows) = rows;
                live.measured(run.index, csv, rows);
            }
        }
        let options = RunOptions {
            jobs: self.jobs,
            population: None,
            out: job.out.clone(),
            progress: false,
            shard: None,
            watch: Some(watcher.clone()),
            constitutions: Some(self.constitutions.clone()),
        };
        let report = run_experiment(&job.experiment, &options);
        let mut live = watcher.0.lock().unwrap_or_else(|e| e.into_inner());
        match report {
            Ok(report) => {
                let problems: Vec<String> = report
                    .manifest
                    .runs
                    .iter()
                    .filter(|r| r.status != Status::Completed)
                    .map(|r| {
                        format!(
                            "seed {}: {:?}{}: {}",
                            r.seed,
                            r.status,
                            r.step.map(|s| format!(" at step {s}")).unwrap_or_default(),
                            r.message.as_deref().unwrap_or("")
                        )
                    })
                    .collect();
                live.finish(json!({
                    "seconds": clock.elapsed().as_secs_f64(),
                    "stored": report.reused,
                    "trained": report.manifest.runs.len() - report.reused,
                    "problems": problems,
                }));
            }
            Err(e) => send(
                &job.tx,
                "failed",
                json!({ "message": format!("error: {}", crate::commands::one_line(&e)) }),
            ),
        }
    }
}

/// A run's rows as stored: its `metrics.csv` without the header, and the rows read from it.
pub type Stored = (String, Vec<Row>);

/// Every run of an experiment with its stored rows, where it is completed in `out`.
pub fn stored_runs(experiment: &Experiment, out: &Path) -> Vec<(RunSpec, Option<Stored>)> {
    run_list(experiment, out, None)
        .into_iter()
        .map(|(run, done)| {
            let rows = if done { read_rows(out, &run) } else { None };
            (run, rows)
        })
        .collect()
}

/// A completed run's rows, read back from its `metrics.csv`.
fn read_rows(out: &Path, run: &RunSpec) -> Option<Stored> {
    let text = std::fs::read_to_string(run_dir(out, &run.id).join("metrics.csv")).ok()?;
    let (_, body) = text.split_once('\n')?;
    let mut rows = Vec::new();
    for record in csv::ReaderBuilder::new().from_reader(text.as_bytes()).records() {
        let record = record.ok()?;
        rows.push(Row {
            step: record.get(0)?.parse().ok()?,
            scope: record.get(1)?.to_string(),
            metric: record.get(2)?.to_string(),
            value: record.get(3)?.parse().ok()?,
        });
    }
    Some((body.to_string(), rows))
}

/// The first message of a training: its runs, which are stored, and what it will measure.
fn start(job: &Job, stored: &[(RunSpec, Option<Stored>)]) -> serde_json::Value {
    let config = &stored[0].0.config;
    json!({
        "command": job.command,
        "runs": stored.iter().map(|(r, s)| json!({ "id": r.id, "seed": r.seed, "stored": s.is_some() })).collect::<Vec<_>>(),
        "steps": config.pressure.steps + config.followup.steps,
        "followup": config.followup.steps > 0,
        "pressure_steps": config.pressure.steps,
        "every": config.eval.every,
    })
}

/// Answers a job whose runs are all stored, without the queue: every message at once.
pub fn answer_stored(job: &Job, stored: Vec<(RunSpec, Option<Stored>)>) {
    let clock = Instant::now();
    send(&job.tx, "start", start(job, &stored));
    let mut live = Live::new(&job.experiment, job.tx.clone());
    for (run, rows) in &stored {
        if let Some((csv, rows)) = rows {
            live.measured(run.index, csv, rows);
        }
    }
    live.finish(json!({
        "seconds": clock.elapsed().as_secs_f64(),
        "stored": stored.len(),
        "trained": 0,
        "problems": Vec::<String>::new(),
    }));
}
