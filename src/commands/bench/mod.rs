//! `pressure bench`: a benchmark to rerun after every change that might touch speed.
//!
//! It measures (1) pressure-phase throughput in seed-steps per second at the default policy and
//! batch, for populations of several sizes, on one thread; (2) the time of one evaluation pass
//! per population size; (3) the wall time and peak memory of shipped experiments at their
//! default budget, each run as its own process (without the constitution cache, so each trains
//! everything it needs). Every throughput is also given as a ratio to the yardstick measured in
//! the same run: a hand-written f32 step of the same network and batch, one seed, one thread
//! (`reference.rs`); an experiment's ratio is its RL seed-steps per second over that of as many
//! yardsticks as it had cores. It prints a table and can write JSON, to compare commits. It is a
//! benchmark, not a test: nothing here asserts a speed.

mod floor;
mod reference;
pub mod scaling;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::Context;
use serde::Serialize;

use super::print_out;
use crate::eval::Evaluator;
use crate::experiment::shipped::{self, SHIPPED};
use crate::records::Manifest;
use crate::run::{Backend, RunConfig};
use crate::train::{Evaluate, Phase, Population, Recorder, constitution};

/// A recorder that keeps nothing (the benchmark measures speed, not results).
struct Discard;

impl Recorder for Discard {
    fn record(&mut self, _: usize, _: usize, _: &str, _: &str, _: f64) {}
    fn advance(&mut self, _: usize) {}
    fn diverged(&mut self, _: usize, _: usize, _: String) {}
}

/// Throughput of the pressure phase for one population size.
#[derive(Debug, Clone, Serialize)]
pub struct Throughput {
    pub population: usize,
    pub steps: usize,
    pub seconds: f64,
    /// Optimizer steps of the whole population per second.
    pub steps_per_second: f64,
    /// Member-steps per second: `population × steps / seconds`.
    pub seed_steps_per_second: f64,
    /// Seconds of one evaluation pass over the population's evaluation set.
    pub eval_seconds: f64,
    /// `seed_steps_per_second` over the hand-written single-seed step's steps per second.
    pub ratio_to_reference: f64,
}

/// The hand-written f32 step of one seed (`reference.rs`), on one thread.
#[derive(Debug, Clone, Serialize)]
pub struct ReferenceThroughput {
    pub steps: usize,
    pub seconds: f64,
    pub steps_per_second: f64,
}

/// Times `steps` hand-written single-seed steps after `warmup` untimed ones.
pub fn reference_throughput(steps: usize, warmup: usize) -> ReferenceThroughput {
    let mut step = reference::ReferenceStep::new(0);
    for _ in 0..warmup {
        step.step();
    }
    let clock = Instant::now();
    let mut loss = 0.0;
    for _ in 0..steps {
        loss += step.step();
    }
    let seconds = clock.elapsed().as_secs_f64();
    std::hint::black_box(loss);
    ReferenceThroughput {
        steps,
        seconds,
        steps_per_second: steps as f64 / seconds,
    }
}

/// One shipped experiment at its default budget.
#[derive(Debug, Clone, Serialize)]
pub struct ExperimentTiming {
    pub experiment: String,
    pub runs: usize,
    pub wall_seconds: f64,
    pub peak_memory_mib: Option<f64>,
    pub jobs: usize,
    /// RL seed-steps of its runs (pressure and followup).
    pub rl_seed_steps: u64,
    /// `rl_seed_steps / wall_seconds` over `jobs` hand-written single-seed steps per second.
    pub ratio_to_reference: f64,
}

/// Everything one `pressure bench` measured.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub version: String,
    pub backend: String,
    pub cores: usize,
    pub policy: String,
    pub batch: usize,
    pub reference: ReferenceThroughput,
    pub throughput: Vec<Throughput>,
    /// Per population size: what the products and the optimizer alone cost (`floor.rs`).
    pub floor: Vec<floor::Floor>,
    pub reward_model: RewardModelCost,
    pub experiments: Vec<ExperimentTiming>,
}

/// What fitting a learned reward costs beside the pressure phase that trains against it.
#[derive(Debug, Clone, Serialize)]
pub struct RewardModelCost {
    /// Seconds to draw the comparisons and fit the reward model (default `[rm]`).
    pub fit_seconds: f64,
    /// Seconds of the pressure phase against it (default `pressure.steps`).
    pub pressure_seconds: f64,
    /// `fit / (fit + pressure)`.
    pub fit_share: f64,
}

/// Times fitting one run's learned reward (default settings, uniform and reference comparisons
/// alike) and the default pressure phase against it, on one thread.
pub fn reward_model_cost(backend: Backend) -> anyhow::Result<RewardModelCost> {
    let text = "[reward]\nkind = \"learned\"\nobjection_penalty = 1.0\njudge_penalty = 1.0\n";
    let table: toml::Table = text.parse().expect("a valid table");
    let config: RunConfig = toml::Value::Table(table)
        .try_into::<RunConfig>()
        .expect("a valid configuration")
        .resolve()
        .expect("a valid configuration");
    let mut population = Population::new(vec![crate::run::member(0, &config)], backend.device()?);
    population.freeze_reference();
    population.probes = constitution::fit_conscience_probes(&population);
    let clock = Instant::now();
    crate::run::fit_learned_rewards(&mut population, 0, 0, &mut Discard);
    let fit_seconds = clock.elapsed().as_secs_f64();
    let mut phase = Phase::new(&population, 0, 0);
    let steps = phase.steps();
    let clock = Instant::now();
    phase.run_steps(&mut population, steps, &mut Discard);
    let pressure_seconds = clock.elapsed().as_secs_f64();
    Ok(RewardModelCost {
        fit_seconds,
        pressure_seconds,
        fit_share: fit_seconds / (fit_seconds + pressure_seconds),
    })
}

/// Times `steps` pressure steps of a population of `size` default-config members on one thread,
/// after `warmup` untimed steps, and one evaluation pass.
pub fn throughput(
    size: usize,
    steps: usize,
    warmup: usize,
    backend: Backend,
    reference: &ReferenceThroughput,
) -> anyhow::Result<Throughput> {
    let device = backend.device()?;
    let mut config = RunConfig::default();
    config.pressure.steps = warmup + steps;
    let members = (0..size as u64).map(|seed| crate::run::member(seed, &config)).collect();
    let mut population = Population::new(members, device);
    population.freeze_reference();
    population.probes = constitution::fit_conscience_probes(&population);

    let mut phase = Phase::new(&population, 0, 0);
    phase.run_steps(&mut population, warmup, &mut Discard);
    let clock = Instant::now();
    phase.run_steps(&mut population, steps, &mut Discard);
    let seconds = clock.elapsed().as_secs_f64();

    let evaluator = Evaluator::new(&population, &config.eval);
    let clock = Instant::now();
    evaluator.evaluate(&mut population, 0, &mut Discard);
    let eval_seconds = clock.elapsed().as_secs_f64();
    Ok(Throughput {
        population: size,
        steps,
        seconds,
        steps_per_second: steps as f64 / seconds,
        seed_steps_per_second: (size * steps) as f64 / seconds,
        eval_seconds,
        ratio_to_reference: (size * steps) as f64 / seconds / reference.steps_per_second,
    })
}

/// Runs a shipped experiment at its default budget in a child process and reads its manifest.
pub fn time_experiment(
    name: &str,
    backend: Backend,
    scratch: &Path,
    reference: &ReferenceThroughput,
) -> anyhow::Result<ExperimentTiming> {
    let experiment = super::load(name, &[], &[])?;
    let rl_seed_steps: u64 = crate::experiment::expand(&experiment)
        .iter()
        .map(|r| (r.config.pressure.steps + r.config.followup.steps) as u64)
        .sum();
    let out = scratch.join(name);
    let _ = std::fs::remove_dir_all(&out);
    let exe = std::env::current_exe().context("cannot find the pressure binary")?;
    let clock = Instant::now();
    let status = Command::new(exe)
        .args([
            "run",
            name,
            "--no-plots",
            "--no-cache",
            "--backend",
            backend.name(),
            "--out",
        ])
        .arg(&out)
        .stderr(std::process::Stdio::null())
        .status()
        .with_context(|| format!("cannot run {name}"))?;
    let wall = clock.elapsed().as_secs_f64();
    anyhow::ensure!(status.success(), "{name}: the run failed ({status})");
    let manifest: Manifest = serde_json::from_slice(&std::fs::read(out.join("manifest.json"))?)?;
    Ok(ExperimentTiming {
        experiment: name.to_string(),
        runs: manifest.runs.len(),
        wall_seconds: wall,
        peak_memory_mib: manifest.peak_memory_mib,
        jobs: manifest.jobs,
        rl_seed_steps,
        ratio_to_reference: rl_seed_steps as f64 / wall / (manifest.jobs.max(1) as f64 * reference.steps_per_second),
    })
}

/// Options of `pressure bench`.
pub struct BenchOptions {
    pub populations: Vec<usize>,
    pub steps: usize,
    pub experiments: Vec<String>,
    pub backend: Backend,
    pub json: Option<PathBuf>,
}

/// Prints one line of the benchmark's table.
fn say(line: String) -> std::io::Result<()> {
    print_out(&(line + "\n"))
}

/// `--scaling`: times the scaling jobs on `threads` threads and prints their busy fractions.
fn run_scaling(threads: usize, json: Option<&Path>) -> anyhow::Result<()> {
    let scratch = std::env::temp_dir().join(format!("pressure-scaling-{}", std::process::id()));
    say(format!(
        "busy fraction of shipped jobs on {threads} threads (CPU ÷ (threads × wall)), no constitution cache:"
    ))?;
    say("| job | threads | wall (s) | CPU (s) | busy |".into())?;
    say("|---|---|---|---|---|".into())?;
    let mut all = Vec::new();
    for (n, (name, args)) in scaling::JOBS.iter().enumerate() {
        let t = scaling::time_job(name, args, threads, &scratch, n)?;
        say(format!(
            "| {} | {} | {:.1} | {:.1} | {:.2} |",
            t.job, t.threads, t.wall_seconds, t.cpu_seconds, t.busy
        ))?;
        all.push(t);
    }
    let _ = std::fs::remove_dir_all(&scratch);
    if let Some(path) = json {
        crate::records::write_atomic(path, &serde_json::to_vec_pretty(&all)?)
            .with_context(|| format!("{}: cannot write", path.display()))?;
        say(format!("\nwrote {}", path.display()))?;
    }
    Ok(())
}

/// Runs the benchmark, prints its table, and writes JSON if asked.
pub fn run(options: &BenchOptions) -> anyhow::Result<Report> {
    let config = RunConfig::default();
    let mut report = Report {
        version: env!("CARGO_PKG_VERSION").to_string(),
        backend: options.backend.name().to_string(),
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        policy: format!("{}→{:?}→3+1", config.world.latent_dim + 8, config.policy.hidden),
        batch: config.pressure.batch,
        reference: reference_throughput(options.steps.max(1), (options.steps / 10).max(5)),
        throughput: Vec::new(),
        floor: Vec::new(),
        reward_model: RewardModelCost {
            fit_seconds: 0.0,
            pressure_seconds: 0.0,
            fit_share: 0.0,
        },
        experiments: Vec::new(),
    };
    say(format!(
        "pressure-phase throughput, one thread, {} backend, policy {}, batch {}:",
        report.backend, report.policy, report.batch
    ))?;
    say(format!(
        "(yardstick: a hand-written f32 step of the same network and batch, one seed: {:.0} steps/s)",
        report.reference.steps_per_second
    ))?;
    say("| population | seed-steps/s | × yardstick | population steps/s | eval pass (s) |".into())?;
    say("|---|---|---|---|---|".into())?;
    for &p in &options.populations {
        let warmup = (options.steps / 10).max(5);
        let t = throughput(p, options.steps.max(1), warmup, options.backend, &report.reference)?;
        say(format!(
            "| {} | {:.0} | {:.2} | {:.0} | {:.3} |",
            t.population, t.seed_steps_per_second, t.ratio_to_reference, t.steps_per_second, t.eval_seconds
        ))?;
        report.throughput.push(t);
    }
    let widths: Vec<usize> = std::iter::once(config.world.obs_dim())
        .chain(config.policy.hidden.iter().copied())
        .chain([4])
        .collect();
    let device = options.backend.device()?;
    say(
        "\nthe floor: what a step's matrix products (bare gemm) and burn's Adam cost alone, one thread, per seed,"
            .into(),
    )?;
    say("and the most seed-steps/s they leave; beside them, drawing and encoding the batch's tasks as the sandbox does:".into())?;
    say("| population | products (µs) | product GFLOP/s | Adam (µs) | at most seed-steps/s | measured ÷ at most | task draws (µs) |".into())?;
    say("|---|---|---|---|---|---|---|".into())?;
    let judges = crate::train::judge_count(config.pressure.batch, config.pressure.judge_fraction);
    for t in &report.throughput {
        let f = floor::measure(
            &widths,
            config.pressure.batch,
            judges,
            t.population,
            options.steps.clamp(20, 400),
            &device,
        );
        say(format!(
            "| {} | {:.0} | {:.0} | {:.1} | {:.0} | {:.2} | {:.0} |",
            f.population,
            f.products_us,
            f.product_flop / f.products_us / 1e3,
            f.adam_us,
            f.ceiling(),
            t.seed_steps_per_second / f.ceiling(),
            f.draws_us
        ))?;
        report.floor.push(f);
    }
    report.reward_model = reward_model_cost(options.backend)?;
    let r = &report.reward_model;
    say(format!(
        "\nlearned reward, one run, one thread: fitting {:.2} s, pressure against it {:.2} s: fitting is {:.1}% of the two",
        r.fit_seconds,
        r.pressure_seconds,
        100.0 * r.fit_share
    ))?;
    if !options.experiments.is_empty() {
        let scratch = std::env::temp_dir().join(format!("pressure-bench-{}", std::process::id()));
        say("\nshipped experiments at their default budget, all cores, no constitution cache:".into())?;
        say("| experiment | runs | wall (s) | RL seed-steps/s | × yardsticks | peak memory (MiB) |".into())?;
        say("|---|---|---|---|---|---|".into())?;
        for name in &options.experiments {
            let t = time_experiment(name, options.backend, &scratch, &report.reference)?;
            say(format!(
                "| {} | {} | {:.1} | {:.0} | {:.2} of {} | {} |",
                t.experiment,
                t.runs,
                t.wall_seconds,
                t.rl_seed_steps as f64 / t.wall_seconds,
                t.ratio_to_reference,
                t.jobs,
                t.peak_memory_mib.map_or("—".into(), |m| format!("{m:.0}"))
            ))?;
            report.experiments.push(t);
        }
        let _ = std::fs::remove_dir_all(&scratch);
    }
    if let Some(path) = &options.json {
        crate::records::write_atomic(path, &serde_json::to_vec_pretty(&report)?)
            .with_context(|| format!("{}: cannot write", path.display()))?;
        say(format!("\nwrote {}", path.display()))?;
    }
    Ok(report)
}

/// Checks before measuring that the JSON can be written at `path`: its folder exists and takes
/// a file, and the path is not a folder.
fn check_writable(path: &Path) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    anyhow::ensure!(!path.is_dir(), "--json {}: is a folder; name a file", path.display());
    crate::records::target::output_file(path, "--json", |_, _| false).map_err(anyhow::Error::msg)?;
    let probe = dir.join(format!(".pressure-bench-probe-{}", std::process::id()));
    std::fs::write(&probe, b"")
        .map_err(|e| anyhow::anyhow!("--json {}: cannot write in {}: {e}", path.display(), dir.display()))?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// `pressure bench`: checks the arguments, then measures.
pub fn bench(
    populations: Vec<usize>,
    steps: usize,
    experiments: Vec<String>,
    json: Option<PathBuf>,
    backend: Backend,
    scaling: Option<usize>,
) -> anyhow::Result<std::process::ExitCode> {
    if let Some(threads) = scaling {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        anyhow::ensure!(threads >= 1, "--jobs {threads}: must be at least 1");
        // As `run` does: more threads than cores cannot be used.
        let threads = if threads > cores {
            crate::note!("--jobs {threads}: capped at {cores}, the cores of this machine");
            cores
        } else {
            threads
        };
        if let Some(path) = &json {
            check_writable(path)?;
        }
        run_scaling(threads, json.as_deref())?;
        return Ok(std::process::ExitCode::SUCCESS);
    }
    anyhow::ensure!(
        populations.iter().all(|&p| p >= 1),
        "--populations: every size must be at least 1"
    );
    anyhow::ensure!(steps >= 1, "--steps {steps}: must be at least 1");
    let experiments: Vec<String> = match experiments.as_slice() {
        [one] if one == "all" => SHIPPED.iter().map(|(n, _)| n.to_string()).collect(),
        [one] if one == "none" => Vec::new(),
        names => {
            for n in names {
                anyhow::ensure!(
                    shipped::find(n).is_some(),
                    "--experiments {n}: not a shipped experiment; valid: all, none, {}",
                    SHIPPED.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
                );
            }
            names.to_vec()
        }
    };
    if let Some(path) = &json {
        check_writable(path)?;
    }
    run(&BenchOptions {
        populations,
        steps,
        experiments,
        backend,
        json,
    })?;
    Ok(std::process::ExitCode::SUCCESS)
}
