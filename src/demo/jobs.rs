//! Training for the demo: through the library's runner, at most `--jobs` trainings at once
//! (one by default) with a few more waiting their turn (`--queue`), into the
//! scene's folder under the demo's run cache. Two trainings never share a folder at once: a
//! request for a scene being trained waits for it.
//! Runs already completed there are read back from disk instead of being trained again; a
//! request whose runs are all there is answered at once, without waiting for a training, and
//! its answer is kept in memory for the next that asks (a few, most recently asked first).
//!
//! Every answer, stored or trained, takes one of `--jobs` + `--queue` places while it is sent;
//! with none free a request is refused (503). After each training, and whenever the last
//! answer being sent ends, the memory freed is returned to the system.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Instant;

use axum::http::StatusCode;
use serde_json::json;

use super::live::{Live, Message, Sender, Watcher, send};
use super::request::{Limits, Refusal};
use crate::experiment::constitutions::keep_constitutions;
use crate::experiment::runner::run_list;
use crate::experiment::schedule::spread;
use crate::experiment::{Constitutions, Experiment, RunOptions, RunSpec, run_experiment};
use crate::records::{Row, Status, run_dir};

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
    /// The folders being trained into (or, with nothing in them, constitutions trained ahead).
    training: Vec<PathBuf>,
}

impl Queue {
    /// The first waiting job someone still listens for whose folder is free; jobs nobody
    /// listens for any more are dropped (nothing to train for).
    fn next(&mut self) -> Option<Job> {
        self.waiting.retain(|j| !j.tx.is_closed());
        let i = self.waiting.iter().position(|j| !self.training.contains(&j.out))?;
        self.waiting.remove(i)
    }
}

/// The trainers of a demo server, and their queue.
pub struct Trainer {
    queue: Mutex<Queue>,
    wake: Condvar,
    /// Threads the runner trains each training on.
    jobs: usize,
    limits: Limits,
    constitutions: Arc<Constitutions>,
}

impl Trainer {
    /// `limits.trainings` trainer threads sharing `threads` threads among them; `warm`, if
    /// given, is the experiment whose constitutions the first trains before its first request
    /// (they are then shared by every request that needs them).
    pub fn start(
        threads: usize,
        limits: Limits,
        warm: Option<Experiment>,
        constitutions: Constitutions,
    ) -> Arc<Trainer> {
        let trainings = limits.trainings.max(1);
        let trainer = Arc::new(Trainer {
            queue: Mutex::new(Queue {
                training: if warm.is_some() {
                    vec![PathBuf::new()]
                } else {
                    Vec::new()
                },
                ..Queue::default()
            }),
            wake: Condvar::new(),
            jobs: (threads / trainings).max(1),
            limits,
            constitutions: Arc::new(constitutions),
        });
        let mut warm = warm;
        for i in 0..trainings {
            let worker = trainer.clone();
            let warm = warm.take();
            std::thread::Builder::new()
                .name(format!("demo-trainer-{i}"))
                .spawn(move || worker.work(warm))
                .expect("the trainer thread starts");
        }
        trainer
    }

    /// Queues a job; returns how many trainings are ahead of it, or refuses it if the queue is full.
    pub fn submit(&self, job: Job) -> Result<usize, Refusal> {
        let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        q.waiting.retain(|j| !j.tx.is_closed());
        let free = self.limits.trainings.saturating_sub(q.training.len());
        if q.waiting.len() >= self.limits.waiting + free {
            return Err(Refusal {
                status: StatusCode::SERVICE_UNAVAILABLE,
                key: None,
                message: format!(
                    "error: the demo is training and {} requests are waiting (--queue); try again when one finishes",
                    q.waiting.len()
                ),
            });
        }
        let ahead = q.waiting.len() + q.training.len();
        send(&job.tx, "queued", json!({ "ahead": ahead }));
        q.waiting.push_back(job);
        self.wake.notify_one();
        Ok(ahead)
    }

    /// Whether it trains (or trains constitutions ahead), how many wait, and its constitutions.
    pub fn status(&self) -> serde_json::Value {
        let q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        json!({
            "busy": !q.training.is_empty(),
            "training": q.training.len(),
            "waiting": q.waiting.len(),
            "constitutions": self.constitutions.len(),
            "constitutions_trained": self.constitutions.trained(),
            "constitutions_loaded": self.constitutions.loaded(),
        })
    }

    fn work(&self, warm: Option<Experiment>) {
        if let Some(experiment) = warm {
            if let Err(e) = keep_constitutions(&experiment, self.jobs, &self.constitutions) {
                crate::note!("pressure demo: the constitutions could not be trained ahead: {e:#}");
            }
            self.done(&PathBuf::new());
            return_memory();
        }
        loop {
            let job = {
                let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
                let job = loop {
                    match q.next() {
                        Some(job) => break job,
                        None => q = self.wake.wait(q).unwrap_or_else(|e| e.into_inner()),
                    }
                };
                q.training.push(job.out.clone());
                job
            };
            let out = job.out.clone();
            // A bug must not stop the demo's only trainer: the page is told, the next job runs.
            let tx = job.tx.clone();
            if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.train(job))).is_err() {
                send(
                    &tx,
                    "failed",
                    json!({ "message": "error: the training stopped on an internal error; see the server's terminal" }),
                );
            }
            self.done(&out);
            return_memory();
        }
    }

    /// A training into `out` has ended: its folder is free for the next that waits for it.
    fn done(&self, out: &Path) {
        let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(i) = q.training.iter().position(|p| p == out) {
            q.training.remove(i);
        }
        self.wake.notify_all();
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
            population: spread(stored.iter().filter(|(_, rows)| rows.is_none()).count(), self.jobs),
            out: job.out.clone(),
            progress: false,
            shard: None,
            watch: Some(watcher.clone()),
            constitutions: Some(self.constitutions.clone()),
            // The manifest records the command line that trains the same runs.
            command: Some(job.command.clone()),
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
        "steps": config.total_steps(),
        // Where each phase after the first trained one begins, and its name.
        "boundaries": crate::run::phases::spans(config)
            .iter()
            .skip(2)
            .map(|s| json!([s.first - 1, s.name]))
            .collect::<Vec<_>>(),
        "every": config.eval.every,
    })
}

/// A stored answer as it is sent: each message's name and its data as JSON text.
pub type Answer = Vec<(&'static str, String)>;

/// The answer to a job whose runs are all stored: every message a training of it would send,
/// at once. Its `done` says how long reading the runs took.
pub fn answer_stored(job: &Job, stored: Vec<(RunSpec, Option<Stored>)>) -> Answer {
    let clock = Instant::now();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    send(&tx, "start", start(job, &stored));
    let mut live = Live::new(&job.experiment, tx);
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
    drop(live);
    let mut answer = Answer::new();
    while let Ok(Message { name, data }) = rx.try_recv() {
        answer.push((name, data.to_string()));
    }
    answer
}

/// The `done` of a stored answer sent again, saying how long it took since `clock` (when the
/// request came).
pub fn done_again(answer: &Answer, clock: Instant) -> Option<String> {
    let (name, text) = answer.last()?;
    let mut done: serde_json::Value = serde_json::from_str(text).ok().filter(|_| *name == "done")?;
    done["seconds"] = json!(clock.elapsed().as_secs_f64());
    Some(done.to_string())
}

/// The most stored answers kept in memory: asked again, one is sent without reading its runs
/// back from disk. The least recently asked goes first.
pub const KEPT_ANSWERS: usize = 32;

/// The most bytes the stored answers kept in memory may hold together (their messages' text);
/// an answer larger than this is sent but not kept.
pub const KEPT_ANSWER_BYTES: usize = 16 << 20;

/// Stored answers kept in memory, most recently asked first, each under the command line that
/// trains it (it names the folder and every setting, hence the runs).
#[derive(Default)]
pub struct Answers {
    kept: Mutex<VecDeque<Kept>>,
}

struct Kept {
    command: String,
    answer: Arc<Answer>,
    bytes: usize,
}

impl Answers {
    /// The answer kept for a command line, now the most recently asked.
    pub fn get(&self, command: &str) -> Option<Arc<Answer>> {
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        let i = kept.iter().position(|k| k.command == command)?;
        let k = kept.remove(i)?;
        let answer = k.answer.clone();
        kept.push_front(k);
        Some(answer)
    }

    /// Keeps an answer, letting the least recently asked go until the limits hold.
    pub fn keep(&self, command: &str, answer: Arc<Answer>) {
        let bytes: usize = answer.iter().map(|(name, text)| name.len() + text.len()).sum();
        if bytes > KEPT_ANSWER_BYTES {
            return;
        }
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        kept.retain(|k| k.command != command);
        kept.push_front(Kept {
            command: command.to_string(),
            answer,
            bytes,
        });
        while kept.len() > KEPT_ANSWERS || kept.iter().map(|k| k.bytes).sum::<usize>() > KEPT_ANSWER_BYTES {
            kept.pop_back();
        }
    }

    /// How many answers are kept, and their bytes.
    pub fn size(&self) -> (usize, usize) {
        let kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        (kept.len(), kept.iter().map(|k| k.bytes).sum())
    }
}

/// The places of the answers being sent at once: `--jobs` + `--queue`, stored answers and
/// trainings alike.
pub struct Places {
    taken: AtomicUsize,
    limit: usize,
}

/// A place taken; given back when dropped, and when it was the last one taken, the memory the
/// answers freed is returned to the system.
pub struct Place(Arc<Places>);

impl Places {
    pub fn new(limits: &Limits) -> Arc<Places> {
        Arc::new(Places {
            taken: AtomicUsize::new(0),
            limit: limits.trainings + limits.waiting,
        })
    }

    /// A place, or the refusal of a request that finds none free.
    pub fn take(self: &Arc<Self>) -> Result<Place, Refusal> {
        self.taken
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < self.limit).then_some(n + 1)
            })
            .map(|_| Place(self.clone()))
            .map_err(|taken| Refusal {
                status: StatusCode::SERVICE_UNAVAILABLE,
                key: None,
                message: format!(
                    "error: the demo is answering {taken} requests, as many as it answers at once \
                     (--jobs and --queue); try again when one finishes"
                ),
            })
    }

    /// How many are taken.
    pub fn taken(&self) -> usize {
        self.taken.load(Ordering::SeqCst)
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        if self.0.taken.fetch_sub(1, Ordering::SeqCst) == 1 {
            match tokio::runtime::Handle::try_current() {
                Ok(runtime) => drop(runtime.spawn_blocking(return_memory)),
                Err(_) => return_memory(),
            }
        }
    }
}

/// Returns the memory freed on the heap to the system (glibc, Linux; elsewhere nothing). glibc
/// keeps what its threads free for them to use again, in an arena per thread that allocated at
/// once with another: bursts of requests left the server hundreds of MiB larger.
pub fn return_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free memory of the allocator's own arenas.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(bytes: usize) -> Arc<Answer> {
        Arc::new(vec![("rows", "x".repeat(bytes))])
    }

    #[test]
    fn stored_answers_are_kept_within_their_count_and_bytes_least_recently_asked_first_out() {
        let answers = Answers::default();
        for i in 0..KEPT_ANSWERS {
            answers.keep(&format!("run {i}"), answer(10));
        }
        assert!(answers.get("run 0").is_some());
        answers.keep("one more", answer(10));
        assert_eq!(answers.size().0, KEPT_ANSWERS);
        // run 1 was asked least recently; run 0 was asked again.
        assert!(answers.get("run 1").is_none());
        assert!(answers.get("run 0").is_some() && answers.get("one more").is_some());

        answers.keep("too large", answer(KEPT_ANSWER_BYTES));
        assert!(answers.get("too large").is_none());
        let half = KEPT_ANSWER_BYTES / 2;
        answers.keep("half", answer(half));
        answers.keep("another half", answer(half));
        let (count, bytes) = answers.size();
        assert!(bytes <= KEPT_ANSWER_BYTES, "{bytes}");
        assert!(answers.get("half").is_none() && answers.get("another half").is_some());
        assert!(count < KEPT_ANSWERS);
    }

    #[test]
    fn places_are_jobs_and_queue_and_given_back_when_dropped() {
        let places = Places::new(&Limits {
            trainings: 2,
            waiting: 1,
            ..Limits::default()
        });
        let taken: Vec<Place> = (0..3).map(|_| places.take().ok().unwrap()).collect();
        let refused = places.take().err().unwrap();
        assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(refused.message.contains("answering 3 requests"), "{}", refused.message);
        drop(taken);
        assert_eq!(places.taken(), 0);
        assert!(places.take().is_ok());
    }
}
