//! The runner: expands an experiment into runs (arms × seeds, one pure, stably ordered
//! function), groups runs whose shapes match into populations, trains the populations in
//! parallel, and writes each run's records as soon as its population finishes.

use std::io::IsTerminal;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use burn::tensor::Device;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;
use sha2::{Digest, Sha256};

use super::config::RunConfig;
use super::records::{self, Manifest, Row, RunRecord, Status};
use super::spec::Experiment;
use crate::train::{self, Member, Population, Recorder, shape_key};

/// One run: an arm, a seed, its resolved configuration and its identity.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSpec {
    /// Position in the run list.
    pub index: usize,
    pub arm: String,
    pub seed: u64,
    pub config: RunConfig,
    /// Content hash of the resolved configuration and the seed.
    pub id: String,
}

/// A run's identity: the first 12 hex digits of SHA-256 over its canonical JSON form (arm name,
/// configuration fields in declaration order, seed). Stable across machines and Rust releases;
/// any change to the configuration gives a new id, and two arms never share one.
pub fn run_id(arm: &str, config: &RunConfig, seed: u64) -> String {
    let canonical = serde_json::json!({ "arm": arm, "config": config, "seed": seed });
    let digest = Sha256::digest(canonical.to_string().as_bytes());
    digest.iter().take(6).map(|b| format!("{b:02x}")).collect()
}

/// Every run of an experiment, arms in file order, then seeds in the order given.
pub fn expand(experiment: &Experiment) -> Vec<RunSpec> {
    let mut runs = Vec::new();
    for arm in &experiment.arms {
        for &seed in &experiment.seeds {
            runs.push(RunSpec {
                index: runs.len(),
                arm: arm.name.clone(),
                seed,
                config: arm.config.clone(),
                id: run_id(&arm.name, &arm.config, seed),
            });
        }
    }
    runs
}

/// Largest population the runner builds unless told otherwise: throughput per seed stops
/// improving beyond it on a CPU (the batched matmuls leave the caches).
pub const MAX_AUTO_POPULATION: usize = 8;

/// Groups runs into populations: runs with the same shapes (in run-list order) are split into
/// near-equal chunks of at most `size` (default: enough chunks to keep `jobs` threads busy,
/// at most [`MAX_AUTO_POPULATION`] members each). Returns indices into `runs`.
pub fn plan(runs: &[RunSpec], jobs: usize, size: Option<usize>) -> Vec<Vec<usize>> {
    let mut groups: Vec<(String, Vec<usize>)> = Vec::new();
    for r in runs {
        let key = shape_key(&r.config);
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, g)) => g.push(r.index),
            None => groups.push((key, vec![r.index])),
        }
    }
    let jobs = jobs.max(1);
    let mut populations = Vec::new();
    for (_, group) in groups {
        let n = group.len();
        let chunks = match size {
            Some(s) => n.div_ceil(s.max(1)),
            None => n.div_ceil(MAX_AUTO_POPULATION).div_ceil(jobs).max(1) * jobs,
        }
        .clamp(1, n);
        let (base, extra) = (n / chunks, n % chunks);
        let mut at = 0;
        for c in 0..chunks {
            let len = base + usize::from(c < extra);
            populations.push(group[at..at + len].to_vec());
            at += len;
        }
    }
    populations
}

/// The tensor backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Backend {
    /// burn's ndarray backend (the default).
    Ndarray,
    /// burn's flex backend (built with `--features flex`).
    Flex,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Ndarray => "ndarray",
            Backend::Flex => "flex",
        }
    }

    // burn marks ndarray deprecated in favour of flex; it stays the default here by request of
    // the users, with flex offered beside it.
    #[allow(deprecated)]
    pub fn device(self) -> anyhow::Result<Device> {
        match self {
            Backend::Ndarray => Ok(Device::ndarray()),
            #[cfg(feature = "flex")]
            Backend::Flex => Ok(Device::flex()),
            #[cfg(not(feature = "flex"))]
            Backend::Flex => anyhow::bail!(
                "--backend flex: this binary was built without the flex backend; rebuild with `--features flex`"
            ),
        }
    }
}

/// How to run an experiment.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Threads training populations in parallel.
    pub jobs: usize,
    /// Members per population (default: chosen from the run list and `jobs`).
    pub population: Option<usize>,
    pub out: PathBuf,
    pub backend: Backend,
    /// Draw a progress bar on stderr (only when it is a terminal).
    pub progress: bool,
}

/// Collects one population's measurements.
struct PopulationRecorder {
    rows: Vec<Vec<Row>>,
    diverged: Vec<Option<(usize, String)>>,
    progress: ProgressBar,
    members: u64,
}

impl Recorder for PopulationRecorder {
    fn record(&mut self, member: usize, step: usize, scope: &str, metric: &str, value: f64) {
        self.rows[member].push(Row {
            step,
            scope: scope.to_string(),
            metric: metric.to_string(),
            value,
        });
    }

    fn advance(&mut self, steps: usize) {
        self.progress.inc(steps as u64 * self.members);
    }

    fn diverged(&mut self, member: usize, step: usize, message: String) {
        if self.diverged[member].is_none() {
            self.diverged[member] = Some((step, message));
        }
    }
}

/// Total optimizer steps of a run (for progress).
fn run_steps(c: &RunConfig) -> u64 {
    (c.constitution.steps + c.pressure.steps + c.followup.steps) as u64
}

/// Trains one population and writes its runs' files; returns their records.
fn train_population(
    runs: &[&RunSpec],
    device: &Device,
    out: &std::path::Path,
    progress: &ProgressBar,
) -> Vec<RunRecord> {
    let started = records::now();
    let clock = Instant::now();
    let mut recorder = PopulationRecorder {
        rows: vec![Vec::new(); runs.len()],
        diverged: vec![None; runs.len()],
        progress: progress.clone(),
        members: runs.len() as u64,
    };
    let result = catch_unwind(AssertUnwindSafe(|| {
        let members = runs.iter().map(|r| Member::new(r.seed, r.config.clone())).collect();
        let mut population = Population::new(members, device.clone());
        train::run(&mut population, &mut recorder);
    }));
    let failure = result.err().map(|panic| {
        panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "training stopped on an unknown error".into())
    });
    let wall = clock.elapsed().as_secs_f64();
    let finished = records::now();

    runs.iter()
        .enumerate()
        .map(|(m, run)| {
            let (status, step, message) = match (&failure, &recorder.diverged[m]) {
                (Some(msg), _) => (Status::Failed, None, Some(msg.clone())),
                (None, Some((step, msg))) => (Status::Diverged, Some(*step), Some(msg.clone())),
                (None, None) => (Status::Completed, None, None),
            };
            let record = RunRecord {
                id: run.id.clone(),
                arm: run.arm.clone(),
                seed: run.seed,
                status,
                step,
                message,
                started: started.clone(),
                finished: finished.clone(),
                wall_seconds: wall,
            };
            let dir = records::run_dir(out, &run.id);
            let written = records::write_atomic(
                &dir.join("metrics.csv"),
                &records::metrics_csv(&run.arm, run.seed, &recorder.rows[m]),
            )
            .and_then(|_| {
                let json = serde_json::to_vec_pretty(&record).expect("a record serializes");
                records::write_atomic(&dir.join("status.json"), &json)
            });
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

/// Runs every arm × seed of an experiment and writes its records; the manifest says how each
/// run ended. Runs that diverge or fail do not stop the others.
pub fn run_experiment(experiment: &Experiment, options: &RunOptions) -> anyhow::Result<Manifest> {
    let out = &options.out;
    std::fs::create_dir_all(out).with_context(|| format!("{}: cannot create the output folder", out.display()))?;
    records::write_atomic(&out.join("config.toml"), experiment.to_toml().as_bytes())
        .with_context(|| format!("{}: cannot write config.toml", out.display()))?;
    let device = options.backend.device()?;
    let runs = expand(experiment);
    let populations = plan(&runs, options.jobs, options.population);

    let total: u64 = runs.iter().map(|r| run_steps(&r.config)).sum();
    let progress = if options.progress && std::io::stderr().is_terminal() {
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template(
                "{msg} [{elapsed_precise}] {wide_bar} {human_pos}/{human_len} seed-steps, ETA {eta}",
            )
            .expect("a valid progress template"),
        );
        bar.set_message(format!("{}: {} runs", experiment.name, runs.len()));
        bar
    } else {
        ProgressBar::hidden()
    };

    let started = records::now();
    let clock = Instant::now();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(options.jobs.max(1))
        .build()
        .context("cannot start the worker threads")?;
    let finished_runs: Vec<Vec<RunRecord>> = pool.install(|| {
        populations
            .par_iter()
            .map(|members| {
                let specs: Vec<&RunSpec> = members.iter().map(|&i| &runs[i]).collect();
                train_population(&specs, &device, out, &progress)
            })
            .collect()
    });
    progress.finish_and_clear();

    let mut by_index: Vec<Option<RunRecord>> = vec![None; runs.len()];
    for (members, records) in populations.iter().zip(finished_runs) {
        for (&i, r) in members.iter().zip(records) {
            by_index[i] = Some(r);
        }
    }
    let run_records: Vec<RunRecord> = by_index
        .into_iter()
        .map(|r| r.expect("every run is trained once"))
        .collect();
    let completed: Vec<&str> = run_records
        .iter()
        .filter(|r| r.status == Status::Completed)
        .map(|r| r.id.as_str())
        .collect();
    let metrics = records::assemble(out, &completed)
        .with_context(|| format!("{}: cannot assemble metrics.csv", out.display()))?;
    records::write_atomic(&out.join("metrics.csv"), &metrics)
        .with_context(|| format!("{}: cannot write metrics.csv", out.display()))?;

    let manifest = Manifest {
        experiment: experiment.name.clone(),
        description: experiment.description.clone(),
        version: env!("CARGO_PKG_VERSION").to_string(),
        backend: options.backend.name().to_string(),
        jobs: options.jobs,
        seeds: experiment.seeds.clone(),
        started,
        finished: records::now(),
        wall_seconds: clock.elapsed().as_secs_f64(),
        runs: run_records,
    };
    records::write_atomic(
        &out.join("manifest.json"),
        &serde_json::to_vec_pretty(&manifest).expect("a manifest serializes"),
    )
    .with_context(|| format!("{}: cannot write manifest.json", out.display()))?;
    Ok(manifest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::spec::Experiment;
    use std::path::Path;

    fn experiment() -> Experiment {
        let text = "seeds = 5\n[[arms]]\nname = \"a\"\n[[arms]]\nname = \"b\"\nreward.kind = \"principled\"\n[[arms]]\nname = \"c\"\npolicy.hidden = [8]\n";
        Experiment::parse(text, Path::new("t.toml"), &[]).unwrap()
    }

    #[test]
    fn runs_are_arms_then_seeds_with_distinct_stable_ids() {
        let runs = expand(&experiment());
        let order: Vec<(&str, u64)> = runs.iter().map(|r| (r.arm.as_str(), r.seed)).collect();
        assert_eq!(order[..6], [("a", 0), ("a", 1), ("a", 2), ("a", 3), ("a", 4), ("b", 0)]);
        let mut ids: Vec<&str> = runs.iter().map(|r| r.id.as_str()).collect();
        assert!(ids.iter().all(|id| id.len() == 12));
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), runs.len());
        assert_eq!(runs[0].id, expand(&experiment())[0].id);
    }

    #[test]
    fn populations_share_shapes_and_cover_every_run_once() {
        let runs = expand(&experiment());
        for jobs in [1, 2, 3] {
            let plan = plan(&runs, jobs, None);
            let mut seen: Vec<usize> = plan.iter().flatten().copied().collect();
            seen.sort();
            assert_eq!(seen, (0..runs.len()).collect::<Vec<_>>());
            for p in &plan {
                assert!(p.len() <= MAX_AUTO_POPULATION);
                let key = shape_key(&runs[p[0]].config);
                assert!(p.iter().all(|&i| shape_key(&runs[i].config) == key));
            }
        }
        // Arms a and b share shapes (only the reward differs); c does not.
        let p = plan(&runs, 1, Some(20));
        assert_eq!(p, vec![(0..10).collect::<Vec<_>>(), (10..15).collect()]);
    }
}
