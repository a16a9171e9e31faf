//! What each subcommand does, callable without the command line.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;

use crate::experiment::records::{Manifest, Status};
use crate::experiment::shipped::{self, SHIPPED};
use crate::experiment::{Backend, Experiment, Override, RunOptions, run_experiment};

/// Arguments of `pressure run`.
#[derive(Debug, Clone)]
pub struct RunArgs {
    pub experiment: String,
    pub set: Vec<String>,
    pub seeds: Option<u64>,
    pub jobs: Option<usize>,
    pub population: Option<usize>,
    pub out: Option<PathBuf>,
    /// `None`: draw no figures; `Some(None)`: the default folder.
    pub plots: Option<Option<PathBuf>>,
    pub backend: Backend,
}

/// Loads an experiment from a file, or a shipped experiment by name.
pub fn load(experiment: &str, overrides: &[Override]) -> anyhow::Result<Experiment> {
    let path = Path::new(experiment);
    if !path.exists()
        && let Some(text) = shipped::find(experiment)
    {
        let shipped_path = PathBuf::from(format!("experiments/{experiment}.toml"));
        return Ok(Experiment::parse(text, &shipped_path, overrides)?);
    }
    Ok(Experiment::load(path, overrides)?)
}

/// `pressure run`: trains, writes data and figures. Exits non-zero if any run did not complete.
pub fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let overrides = args
        .set
        .iter()
        .map(|s| Override::parse(s))
        .collect::<Result<Vec<_>, _>>()?;
    let mut experiment = load(&args.experiment, &overrides)?;
    if let Some(n) = args.seeds {
        anyhow::ensure!(n >= 1, "--seeds {n}: must be at least 1");
        experiment.seeds = (0..n).collect();
    }
    if let Some(j) = args.jobs {
        anyhow::ensure!(j >= 1, "--jobs {j}: must be at least 1");
    }
    if let Some(p) = args.population {
        anyhow::ensure!(p >= 1, "--population {p}: must be at least 1");
    }
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let out = args.out.unwrap_or_else(|| Path::new("runs").join(&experiment.name));
    let options = RunOptions {
        jobs,
        population: args.population,
        out: out.clone(),
        backend: args.backend,
        progress: true,
    };
    let manifest = run_experiment(&experiment, &options)?;
    report(&manifest, &out);
    if let Some(plots) = args.plots {
        let dir = plots.unwrap_or_else(|| Path::new("plots").join(&experiment.name));
        let written = crate::plot::draw_run(&out, &dir)?;
        eprintln!("figures: {}", summarize_paths(&written));
    }
    let unfinished = manifest.runs.iter().filter(|r| r.status != Status::Completed).count();
    Ok(if unfinished == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn summarize_paths(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Prints how the runs ended, one line per run that did not complete.
fn report(manifest: &Manifest, out: &Path) {
    let completed = manifest.runs.iter().filter(|r| r.status == Status::Completed).count();
    eprintln!(
        "{}: {completed} of {} runs completed in {:.1} s; data in {}",
        manifest.experiment,
        manifest.runs.len(),
        manifest.wall_seconds,
        out.display()
    );
    for r in manifest.runs.iter().filter(|r| r.status != Status::Completed) {
        eprintln!(
            "  {:?}: arm \"{}\" seed {} (run {}){}: {}",
            r.status,
            r.arm,
            r.seed,
            r.id,
            r.step.map(|s| format!(" at step {s}")).unwrap_or_default(),
            r.message.as_deref().unwrap_or("")
        );
    }
}

/// `pressure plot`: redraws the figures of a run folder.
pub fn plot(run_dir: &Path, plots: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let config = run_dir.join("config.toml");
    let experiment =
        Experiment::load(&config, &[]).with_context(|| format!("{} is not a run folder", run_dir.display()))?;
    let dir = plots.unwrap_or_else(|| Path::new("plots").join(&experiment.name));
    let written = crate::plot::draw_run(run_dir, &dir)?;
    eprintln!("figures: {}", summarize_paths(&written));
    Ok(ExitCode::SUCCESS)
}

/// `pressure list`: the shipped experiments and their first sentence.
pub fn list() -> anyhow::Result<ExitCode> {
    for (name, text) in SHIPPED {
        let e = Experiment::parse(text, Path::new(name), &[])?;
        let end = e
            .description
            .find(". ")
            .into_iter()
            .chain(e.description.find("? "))
            .min()
            .map_or(e.description.len(), |i| i + 1);
        println!("{name:<24} {}", &e.description[..end]);
    }
    Ok(ExitCode::SUCCESS)
}

/// The headline metrics, for `pressure summary` by default.
pub const SUMMARY_METRICS: [&str; 4] = [
    "refusal",
    "honest_objection",
    "hidden_objection",
    "unobjecting_compliance",
];

/// `pressure summary`: final values (mean over the last `eval.final_window` evaluations of each
/// seed, then mean and 95% interval over seeds) as a Markdown table.
pub fn summary(run_dir: &Path, scope: &str, metrics: &[String], step: Option<usize>) -> anyhow::Result<ExitCode> {
    let data = crate::plot::RunData::load(run_dir)?;
    let metrics: Vec<&str> = if metrics.is_empty() {
        SUMMARY_METRICS.to_vec()
    } else {
        metrics.iter().map(String::as_str).collect()
    };
    let mut known: Vec<&str> = crate::eval::metrics::METRICS.to_vec();
    known.extend(crate::experiment::spec::DERIVED_METRICS);
    for m in &metrics {
        anyhow::ensure!(
            known.contains(m) || scope == "train" || scope == "constitution",
            "--metrics {m}: unknown metric; valid: {}",
            known.join(", ")
        );
    }
    anyhow::ensure!(
        data.arms.iter().any(|a| data.series(a, scope, metrics[0]).is_some()),
        "--scope {scope}: {} has no values in this scope; scopes here: {}",
        run_dir.display(),
        data.scopes().join(", ")
    );
    print!("{}", crate::report::final_table(&data, scope, &metrics, step));
    Ok(ExitCode::SUCCESS)
}
