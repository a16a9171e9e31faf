//! The runner: trains the runs of an experiment (or of one shard of it) that are not already
//! completed in the output folder, in parallel populations, and writes each run's records as
//! soon as its population finishes, so `kill -9` loses at most the runs in flight. The
//! experiment's `metrics.csv` is assembled from the completed runs of the current run list only.

use std::collections::{HashMap, HashSet};
use std::io::IsTerminal;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use burn::tensor::Device;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::constitutions::{Constitutions, panic_message, train_and_keep};
use super::recorder::{PopulationRecorder, Watch};
use super::runs::{RunSpec, Shard, expand};
use super::schedule::{self, Kind};
use super::spec::Experiment;
use crate::records::{self, Fingerprint, FolderLock, Manifest, RunColumns, RunRecord, Status};
use crate::run::{self, Constitution, RunConfig};

/// How to run an experiment.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Threads training populations in parallel.
    pub jobs: usize,
    /// Members per population (default: chosen from the run list and `jobs`).
    pub population: Option<usize>,
    pub out: PathBuf,
    /// Draw a progress bar on stderr (only when it is a terminal).
    pub progress: bool,
    /// Run only this slice of the run list.
    pub shard: Option<Shard>,
    /// Told of each run's measurements as they are taken (a live view).
    pub watch: Option<Arc<dyn Watch>>,
    /// Constitutions kept between calls: used instead of training them, and given the ones
    /// trained here.
    pub constitutions: Option<Arc<Constitutions>>,
    /// The command line, recorded in the manifest.
    pub command: Option<String>,
}

/// What a call of the runner did, and what it found in the output folder.
#[derive(Debug)]
pub struct RunReport {
    pub manifest: Manifest,
    /// Runs of this run list found completed in the folder and not trained again.
    pub reused: usize,
    /// Run folders in the output folder that belong to other settings (left in place).
    pub foreign: usize,
    /// Whether the folder held the results of different settings (its old `metrics.csv` and
    /// `manifest.json` were replaced; their runs stay under `runs/`).
    pub settings_changed: bool,
    /// The version of `pressure` that wrote the folder's manifest, if it is not this one: its
    /// run ids differ from this version's, so none of its runs is reused.
    pub older_version: Option<String>,
    /// Runs of this run list whose stored record or data was damaged: trained again, with why.
    pub damaged: Vec<(String, String)>,
}

/// RL steps of a run (for progress; constitution steps are counted once per shared model).
fn rl_steps(c: &RunConfig) -> u64 {
    c.total_steps() as u64
}

/// Whether a run is completed in `out` (its status says so; it is written after its metrics).
pub fn is_completed(out: &Path, run: &RunSpec) -> bool {
    stored_state(out, run) == Ok(true)
}

/// Whether a run is completed in `out`: its status says so and its `metrics.csv` matches the
/// rows and SHA-256 the status recorded. An error says why a stored run cannot be trusted
/// (damaged status, or data that does not match it); such a run is trained again.
pub fn stored_state(out: &Path, run: &RunSpec) -> Result<bool, String> {
    Ok(trusted_record(out, run)?.is_some_and(|s| s.status == Status::Completed))
}

/// A run's stored record, checked before it is believed: it is this run's (id, arm,
/// seed and configuration, [`RunSpec::identity_mismatch`]), and a completed run's data matches
/// the rows and SHA-256 it recorded. `Ok(None)` when there is none; an error says why it cannot
/// be trusted.
pub fn trusted_record(out: &Path, run: &RunSpec) -> Result<Option<RunRecord>, String> {
    let dir = records::run_dir(out, &run.id);
    let Some(s) = records::status_of(&dir)? else {
        return Ok(None);
    };
    if let Some(why) = run.identity_mismatch(&s) {
        return Err(why);
    }
    if s.status == Status::Completed
        && let Some(why) = records::completed_data_mismatch(&dir, &s)
    {
        return Err(why);
    }
    Ok(Some(run.adopt(s)))
}

/// The runs of the current list (or shard) and whether each is already completed in `out`.
pub fn run_list(experiment: &Experiment, out: &Path, shard: Option<Shard>) -> Vec<(RunSpec, bool)> {
    let runs = expand(experiment);
    let range = shard.map_or(0..runs.len(), |s| s.range(runs.len()));
    runs.into_iter()
        .skip(range.start)
        .take(range.len())
        .map(|r| {
            let done = is_completed(out, &r);
            (r, done)
        })
        .collect()
}

/// Trains one population from its members' constitutions and writes its runs' files; returns
/// their records.
fn train_population(
    runs: &[&RunSpec],
    constitutions: &[Result<&Constitution, String>],
    device: &Device,
    out: &Path,
    progress: &ProgressBar,
    watch: Option<&dyn Watch>,
) -> Vec<RunRecord> {
    let started = records::now();
    let clock = Instant::now();
    let mut recorder = PopulationRecorder {
        rows: vec![Vec::new(); runs.len()],
        diverged: vec![None; runs.len()],
        progress: progress.clone(),
        members: runs.len() as u64,
        watch,
        runs,
        live: runs
            .iter()
            .map(|r| records::LiveWriter::create(&records::run_dir(out, &r.id)).ok())
            .collect(),
        told: vec![0; runs.len()],
    };
    let failure = match constitutions.iter().find_map(|c| c.as_ref().err()) {
        Some(message) => Some(format!("the constitution phase failed: {message}")),
        None => {
            let trained: Vec<&Constitution> = constitutions.iter().filter_map(|c| c.as_ref().ok().copied()).collect();
            catch_unwind(AssertUnwindSafe(|| {
                let members = runs.iter().map(|r| run::member(r.seed, &r.config)).collect();
                let eval = &runs[0].config.eval;
                run::train_from_constitutions(members, &trained, eval, device.clone(), &mut recorder);
            }))
            .err()
            .map(panic_message)
        }
    };
    recorder.tell();
    let wall = clock.elapsed().as_secs_f64();
    let finished = records::now();

    let live = std::mem::take(&mut recorder.live);
    runs.iter()
        .zip(live)
        .enumerate()
        .map(|(m, (run, live))| {
            let (status, step, message) = match (&failure, &recorder.diverged[m]) {
                (Some(msg), _) => (Status::Failed, None, Some(msg.clone())),
                // A diverged constitution stopped the run before its first RL step: its message
                // names the constitution's step, and the run has no RL step to report.
                (None, Some((_, msg))) if msg.starts_with(run::CONSTITUTION_DIVERGED) => {
                    (Status::Diverged, None, Some(msg.clone()))
                }
                (None, Some((step, msg))) => (Status::Diverged, Some(*step), Some(msg.clone())),
                (None, None) => (Status::Completed, None, None),
            };
            let record = RunRecord {
                id: run.id.clone(),
                arm: run.arm.clone(),
                sweep: run.sweep_label(),
                seed: run.seed,
                status,
                step,
                message,
                started: started.clone(),
                finished: finished.clone(),
                wall_seconds: wall,
                config: run.config.clone(),
                phases: crate::run::phases::spans(&run.config),
                data: None,
            };
            // Metrics first, status last: a status that says completed vouches for the metrics,
            // and records their rows and SHA-256 so that damage is found on resume and on reading.
            let dir = records::run_dir(out, &run.id);
            let csv = records::run_metrics_csv(&recorder.rows[m]);
            let record = RunRecord {
                data: Some(Fingerprint::of(&csv)),
                ..record
            };
            let written = records::write_atomic(&dir.join("metrics.csv"), &csv).and_then(|_| {
                let json = serde_json::to_vec_pretty(&record).expect("a record serializes");
                records::write_atomic(&dir.join("status.json"), &json)
            });
            // Its rows are in metrics.csv now (or it is trained again on the next run).
            if let Some(live) = live {
                live.remove();
            }
            match written {
                Ok(()) => record,
                Err(e) => RunRecord {
                    status: Status::Failed,
                    message: Some(format!("could not write {}: {e}", dir.display())),
                    ..record
                },
            }
        })
        .collect()
}

/// The record of a run that has no trustworthy result here: failed, with why.
pub fn not_trained(run: &RunSpec, message: String) -> RunRecord {
    RunRecord {
        id: run.id.clone(),
        arm: run.arm.clone(),
        sweep: run.sweep_label(),
        seed: run.seed,
        status: Status::Failed,
        step: None,
        message: Some(message),
        started: String::new(),
        finished: String::new(),
        wall_seconds: 0.0,
        config: run.config.clone(),
        phases: crate::run::phases::spans(&run.config),
        data: None,
    }
}

/// Writes the experiment's `metrics.csv` from the completed runs among `runs`, in order; returns
/// its fingerprint for the manifest.
pub fn write_metrics(
    out: &Path,
    experiment: &Experiment,
    runs: &[RunSpec],
    records: &[RunRecord],
) -> anyhow::Result<Fingerprint> {
    let axes: Vec<String> = experiment.sweep.iter().map(|a| a.key.clone()).collect();
    let columns: Vec<RunColumns> = runs
        .iter()
        .zip(records)
        .filter(|(_, r)| r.status == Status::Completed)
        .map(|(run, _)| RunColumns {
            id: &run.id,
            arm: &run.arm,
            sweep: run.sweep_values(),
            seed: run.seed,
        })
        .collect();
    let metrics = records::assemble(out, &axes, &columns)
        .with_context(|| format!("{}: cannot assemble metrics.csv", out.display()))?;
    records::write_atomic(&out.join("metrics.csv"), &metrics)
        .with_context(|| format!("{}: cannot write metrics.csv", out.display()))?;
    Ok(Fingerprint::of(&metrics))
}

/// Run folders under `out/runs/` whose id is not in `ids`.
fn foreign_runs(out: &Path, ids: &HashSet<&str>) -> usize {
    std::fs::read_dir(out.join("runs")).map_or(0, |entries| {
        entries
            .filter_map(Result::ok)
            .filter(|e| !ids.contains(e.file_name().to_string_lossy().as_ref()))
            .count()
    })
}

/// Writes the experiment's `config.toml` into the folder, after noting what the folder held:
/// whether its settings were others (then its assembled files, which describe them, are removed;
/// their runs stay under `runs/`), and the version that wrote its manifest if not this one.
fn take_folder(out: &Path, config_text: &str) -> anyhow::Result<(bool, Option<String>)> {
    let config_path = out.join("config.toml");
    let settings_changed =
        records::read_limited(&config_path, super::spec::MAX_FILE_BYTES).is_ok_and(|old| old != config_text);
    let older_version = records::read_limited(&out.join("manifest.json"), records::MAX_MANIFEST_BYTES)
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .and_then(|m| m["version"].as_str().map(str::to_string))
        .filter(|v| v != env!("CARGO_PKG_VERSION"));
    if settings_changed {
        for stale in ["metrics.csv", "manifest.json"] {
            let _ = std::fs::remove_file(out.join(stale));
        }
    }
    records::write_atomic(&config_path, config_text.as_bytes())
        .with_context(|| format!("{}: cannot write config.toml", out.display()))?;
    Ok((settings_changed, older_version))
}

/// A progress bar over `total` seed-steps on stderr, when asked for and stderr is a terminal.
fn progress_bar(options: &RunOptions, name: &str, total: u64, runs: usize) -> ProgressBar {
    if !(options.progress && std::io::stderr().is_terminal()) {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template(
            "{msg} [{elapsed_precise}] {wide_bar} {human_pos}/{human_len} seed-steps, ETA {eta}",
        )
        .expect("a valid progress template"),
    );
    bar.set_message(format!("{name}: {runs} runs"));
    bar
}

/// Runs the experiment's runs (or one shard of them) that are not completed in the output
/// folder; the manifest says how each run ended. Runs that diverge or fail do not stop the others.
pub fn run_experiment(experiment: &Experiment, options: &RunOptions) -> anyhow::Result<RunReport> {
    let out = &options.out;
    // One writer per folder, for the whole run: a second one stops here, naming this one.
    let _lock = FolderLock::acquire(out)?;
    let config_text = experiment.to_toml();
    let (settings_changed, older_version) = take_folder(out, &config_text)?;
    let device = experiment.backend.device()?;

    let all = expand(experiment);
    let foreign = foreign_runs(out, &all.iter().map(|r| r.id.as_str()).collect());
    let range = options.shard.map_or(0..all.len(), |s| s.range(all.len()));
    let (list, damaged) = stored_states(out, &all[range]);
    let runs: Vec<RunSpec> = list.iter().map(|(r, _)| r.clone()).collect();
    let todo: Vec<&RunSpec> = list.iter().filter(|(_, done)| !done).map(|(r, _)| r).collect();
    // Rows an interrupted run left: they would show as live until the run starts again.
    for r in &todo {
        let _ = std::fs::remove_file(records::run_dir(out, &r.id).join(records::LIVE_FILE));
    }
    let reused = list.len() - todo.len();

    let started = records::now();
    let clock = Instant::now();
    let trained = train(experiment, options, &todo, &device);
    let run_records: Vec<RunRecord> = runs
        .iter()
        .map(|run| {
            let found = trained
                .iter()
                .find(|r| r.id == run.id)
                .cloned()
                .or_else(|| trusted_record(out, run).ok().flatten());
            // A reused run whose files changed under us while the others trained.
            found.unwrap_or_else(|| {
                not_trained(
                    run,
                    "its stored status or data vanished or changed during this run; run again".into(),
                )
            })
        })
        .collect();
    let metrics_file = write_metrics(out, experiment, &runs, &run_records)?;

    let manifest = Manifest {
        experiment: experiment.name.clone(),
        description: experiment.description.clone(),
        version: env!("CARGO_PKG_VERSION").to_string(),
        backend: experiment.backend.name().to_string(),
        jobs: options.jobs,
        seeds: experiment.seeds.clone(),
        sweep: experiment.sweep.iter().map(|a| a.key.clone()).collect(),
        shard: options.shard.map(|s| s.label()),
        started,
        finished: records::now(),
        wall_seconds: clock.elapsed().as_secs_f64(),
        peak_memory_mib: records::peak_memory_mib(),
        runs: run_records,
        config_file: Some(Fingerprint::of(config_text.as_bytes())),
        metrics_file: Some(metrics_file),
        commit: records::COMMIT.map(str::to_string),
        cpu: records::cpu_model(),
        command: options.command.clone(),
    };
    records::write_atomic(
        &out.join("manifest.json"),
        &serde_json::to_vec_pretty(&manifest).expect("a manifest serializes"),
    )
    .with_context(|| format!("{}: cannot write manifest.json", out.display()))?;
    Ok(RunReport {
        manifest,
        reused,
        foreign,
        settings_changed,
        older_version,
        damaged,
    })
}

/// Each run with whether it is completed in its folder.
type Stored = Vec<(RunSpec, bool)>;

/// Each run with whether it is completed in `out`, and the runs whose stored files are
/// damaged (trained again), with why.
fn stored_states(out: &Path, runs: &[RunSpec]) -> (Stored, Vec<(String, String)>) {
    let mut damaged = Vec::new();
    let list = runs
        .iter()
        .map(|r| match stored_state(out, r) {
            Ok(done) => (r.clone(), done),
            Err(why) => {
                damaged.push((r.id.clone(), why));
                (r.clone(), false)
            }
        })
        .collect();
    (list, damaged)
}

/// Trains the runs to do as the schedule plans them: constitutions (each once per key, unless
/// kept from an earlier call or in the cache), then populations as soon as theirs exist.
fn train(experiment: &Experiment, options: &RunOptions, todo: &[&RunSpec], device: &Device) -> Vec<RunRecord> {
    let mut kept: HashMap<String, Result<Constitution, String>> = HashMap::new();
    for r in todo {
        let key = run::constitution_key(r.seed, &r.config);
        if !kept.contains_key(&key)
            && let Some(c) = options
                .constitutions
                .as_ref()
                .and_then(|c| c.get(experiment.backend, r.seed, &r.config))
        {
            kept.insert(key, Ok(c));
        }
    }
    let key = |i: usize| run::constitution_key(todo[i].seed, &todo[i].config);
    let plan = schedule::plan(todo, options.jobs, options.population, |i| kept.contains_key(&key(i)));

    let total: u64 = plan
        .tasks
        .iter()
        .filter(|t| t.kind == Kind::Constitution)
        .flat_map(|t| &t.members)
        .map(|&i| todo[i].config.constitution.steps as u64)
        .sum::<u64>()
        + todo.iter().map(|r| rl_steps(&r.config)).sum::<u64>();
    let progress = progress_bar(options, &experiment.name, total, todo.len());

    // No more threads than there are tasks.
    let threads = options.jobs.min(plan.tasks.len()).max(1);
    // With one population per thread, the largest sets the wall time: threads with smaller
    // ones give way to it when something else (a browser, say) wants a core.
    let sizes: Vec<usize> = plan
        .tasks
        .iter()
        .filter(|t| t.kind == Kind::Pressure)
        .map(|t| t.members.len())
        .collect();
    let largest = sizes.iter().copied().max().unwrap_or(0);
    let one_each = sizes.len() <= threads;
    let constitutions = std::sync::Mutex::new(kept);
    let store = options.constitutions.as_deref().map(|s| (s, experiment.backend));
    let trained = schedule::execute(&plan, threads, |t| {
        let task = &plan.tasks[t];
        let specs: Vec<&RunSpec> = task.members.iter().map(|&i| todo[i]).collect();
        match task.kind {
            Kind::Constitution => {
                let trained = train_and_keep(&specs, device, &progress, store);
                constitutions.lock().unwrap_or_else(|e| e.into_inner()).extend(trained);
                Vec::new()
            }
            Kind::Pressure => {
                if one_each && specs.len() < largest {
                    schedule::give_way();
                }
                let theirs: Vec<Result<Constitution, String>> = {
                    let map = constitutions.lock().unwrap_or_else(|e| e.into_inner());
                    specs
                        .iter()
                        .map(|r| map[&run::constitution_key(r.seed, &r.config)].clone())
                        .collect()
                };
                let refs: Vec<Result<&Constitution, String>> =
                    theirs.iter().map(|c| c.as_ref().map_err(Clone::clone)).collect();
                train_population(&specs, &refs, device, &options.out, &progress, options.watch.as_deref())
            }
        }
    })
    .into_iter()
    .flatten()
    .collect();
    progress.finish_and_clear();
    trained
}
