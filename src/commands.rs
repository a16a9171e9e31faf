//! What each subcommand does, callable without the command line.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;

use crate::experiment::records::Status;
use crate::experiment::runner::run_list;
use crate::experiment::shipped::{self, SHIPPED};
use crate::experiment::spec::MAX_SEEDS;
use crate::experiment::{Axis, Backend, Experiment, Outcome, Override, RunOptions, Shard, run_experiment};

/// Arguments of `pressure run`.
#[derive(Debug, Clone)]
pub struct RunArgs {
    pub experiment: String,
    pub set: Vec<String>,
    pub sweep: Vec<String>,
    pub seeds: Option<u64>,
    pub jobs: Option<usize>,
    pub population: Option<usize>,
    pub out: Option<PathBuf>,
    /// `None`: draw no figures; `Some(None)`: the default folder.
    pub plots: Option<Option<PathBuf>>,
    /// Metrics of a two-axis sweep's heatmaps.
    pub metrics: Vec<String>,
    /// Overrides the experiment's backend.
    pub backend: Option<Backend>,
    pub shard: Option<String>,
    pub dry_run: bool,
}

/// Loads an experiment from a file, or a shipped experiment by name.
pub fn load(experiment: &str, overrides: &[Override]) -> anyhow::Result<Experiment> {
    load_with(experiment, overrides, &[])
}

/// [`load`] with command-line sweep axes.
pub fn load_with(experiment: &str, overrides: &[Override], sweeps: &[Axis]) -> anyhow::Result<Experiment> {
    let path = Path::new(experiment);
    if !path.is_file()
        && let Some(text) = shipped::find(experiment)
    {
        let shipped_path = PathBuf::from(format!("experiments/{experiment}.toml"));
        return Ok(Experiment::parse_with(text, &shipped_path, overrides, sweeps)?);
    }
    anyhow::ensure!(
        path.exists(),
        "{experiment}: no such file, nor a shipped experiment; shipped: {}",
        SHIPPED.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
    );
    Ok(Experiment::load_with(path, overrides, sweeps)?)
}

/// `pressure run`: trains, writes data and figures. Exits non-zero if any run did not complete.
pub fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let overrides = args
        .set
        .iter()
        .map(|s| Override::parse(s))
        .collect::<Result<Vec<_>, _>>()?;
    let sweeps = args
        .sweep
        .iter()
        .map(|s| Axis::parse(s))
        .collect::<Result<Vec<_>, _>>()?;
    let shard = args.shard.as_deref().map(Shard::parse).transpose()?;
    for m in &args.metrics {
        crate::plot::check_heatmap_metric(m).map_err(|e| anyhow::anyhow!("--metric {m}: {e}"))?;
    }
    let mut experiment = load_with(&args.experiment, &overrides, &sweeps)?;
    if let Some(n) = args.seeds {
        anyhow::ensure!(
            (1..=MAX_SEEDS).contains(&n),
            "--seeds {n}: must be between 1 and {MAX_SEEDS}"
        );
        experiment.seeds = (0..n).collect();
    }
    if let Some(backend) = args.backend {
        experiment.backend = backend;
    }
    if let Some(j) = args.jobs {
        anyhow::ensure!(j >= 1, "--jobs {j}: must be at least 1");
    }
    if let Some(p) = args.population {
        anyhow::ensure!(p >= 1, "--population {p}: must be at least 1");
    }
    check_heatmaps_apply(&experiment, &args.metrics)?;
    for o in &overrides {
        let arms: Vec<&str> = experiment
            .arms
            .iter()
            .filter(|a| a.sets.contains(&o.key))
            .map(|a| a.name.as_str())
            .collect();
        if !arms.is_empty() {
            eprintln!(
                "--set {}={}: replaces the value of arms \"{}\"",
                o.key,
                o.value,
                arms.join("\", \"")
            );
        }
    }
    let out = args.out.unwrap_or_else(|| Path::new("runs").join(&experiment.name));
    if args.dry_run {
        return dry_run(&experiment, &out, shard);
    }
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let options = RunOptions {
        jobs,
        population: args.population,
        out: out.clone(),
        progress: true,
        shard,
    };
    // A figure folder that cannot be made is found before training, not after.
    let plots = args
        .plots
        .map(|p| p.unwrap_or_else(|| default_plots(&out, &experiment.name)));
    if let Some(dir) = &plots {
        std::fs::create_dir_all(dir).with_context(|| format!("{}: cannot create the figure folder", dir.display()))?;
    }
    let outcome = run_experiment(&experiment, &options)?;
    report(&outcome, &out);
    let drawn = plots.is_none_or(|dir| draw(&out, &dir, &args.metrics));
    let unfinished = outcome
        .manifest
        .runs
        .iter()
        .filter(|r| r.status != Status::Completed)
        .count();
    Ok(if unfinished == 0 && drawn {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Where figures go without `--plots`: data in the default folder `runs/<name>/` draws into
/// `plots/<name>/`, the figures the project shows; data anywhere else into its own `plots/`, so
/// a quick run into another folder never replaces them.
pub fn default_plots(data: &Path, name: &str) -> PathBuf {
    let data: PathBuf = data
        .components()
        .filter(|c| *c != std::path::Component::CurDir)
        .collect();
    if data == Path::new("runs").join(name) {
        Path::new("plots").join(name)
    } else {
        data.join("plots")
    }
}

/// Draws the figures of a run folder and says where they went; false if none could be drawn.
fn draw(run_dir: &Path, plots: &Path, metrics: &[String]) -> bool {
    match crate::plot::draw_run(run_dir, plots, metrics) {
        Ok(written) => {
            eprintln!("figures: {}", summarize_paths(&written));
            true
        }
        Err(e) => {
            eprintln!("figures: none drawn: {e:#}");
            false
        }
    }
}

/// Heatmap metrics (`--metric`) name the figures of a two-axis sweep; elsewhere they would
/// do nothing.
fn check_heatmaps_apply(experiment: &Experiment, metrics: &[String]) -> anyhow::Result<()> {
    anyhow::ensure!(
        metrics.is_empty() || experiment.sweep.len() == 2,
        "--metric {}: chooses the heatmaps of a sweep over two settings; {} sweeps {}",
        metrics[0],
        experiment.name,
        match experiment.sweep.len() {
            0 => "none".to_string(),
            n => format!("{n}"),
        }
    );
    Ok(())
}

/// `pressure run --dry-run`: one line per run — id, arm, sweep point, seed, done or to do —
/// without training or writing anything.
fn dry_run(experiment: &Experiment, out: &Path, shard: Option<Shard>) -> anyhow::Result<ExitCode> {
    let list = run_list(experiment, out, shard);
    let mut text = String::new();
    for (run, done) in &list {
        let point = if run.point.is_empty() {
            "-".to_string()
        } else {
            run.point_label()
        };
        text.push_str(&format!(
            "{}\t{}\t{}\tseed {}\t{}\n",
            run.id,
            run.arm,
            point,
            run.seed,
            if *done { "done" } else { "to do" }
        ));
    }
    print_out(&text)?;
    let done = list.iter().filter(|(_, d)| *d).count();
    eprintln!(
        "{}: {} runs{}, {done} done in {}, {} to do",
        experiment.name,
        list.len(),
        shard.map(|s| format!(" in shard {}", s.label())).unwrap_or_default(),
        out.display(),
        list.len() - done
    );
    Ok(ExitCode::SUCCESS)
}

/// Writes `text` to standard output. A reader that has stopped reading (`| head`) is not an
/// error: the output was for it alone.
pub fn print_out(text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

fn summarize_paths(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Prints what the run did with the folder, and one line per run that did not complete.
fn report(outcome: &Outcome, out: &Path) {
    let manifest = &outcome.manifest;
    if outcome.settings_changed {
        eprintln!(
            "{}: the settings differ from the last run in this folder; its metrics.csv and manifest.json \
             now describe the new settings, and its runs stay under {}",
            out.display(),
            out.join("runs").display()
        );
    }
    if outcome.foreign > 0 {
        eprintln!(
            "{}: {} run folders are not in this run list (other seeds or settings); left in place, not in metrics.csv",
            out.display(),
            outcome.foreign
        );
    }
    let completed = manifest.runs.iter().filter(|r| r.status == Status::Completed).count();
    eprintln!(
        "{}{}: {completed} of {} runs completed ({} reused from earlier runs) in {:.1} s; data in {}",
        manifest.experiment,
        manifest
            .shard
            .as_ref()
            .map(|s| format!(" shard {s}"))
            .unwrap_or_default(),
        manifest.runs.len(),
        outcome.reused,
        manifest.wall_seconds,
        out.display()
    );
    for r in manifest.runs.iter().filter(|r| r.status != Status::Completed) {
        let point = if r.point.is_empty() {
            String::new()
        } else {
            format!(" at {}", r.point)
        };
        eprintln!(
            "  {:?}: arm \"{}\"{point} seed {} (run {}){}: {}",
            r.status,
            r.arm,
            r.seed,
            r.id,
            r.step.map(|s| format!(" at step {s}")).unwrap_or_default(),
            r.message.as_deref().unwrap_or("")
        );
    }
}

/// `pressure merge`: combines shard folders into one.
pub fn merge(
    out: &Path,
    shards: &[PathBuf],
    plots: Option<Option<PathBuf>>,
    metrics: &[String],
) -> anyhow::Result<ExitCode> {
    for m in metrics {
        crate::plot::check_heatmap_metric(m).map_err(|e| anyhow::anyhow!("--metric {m}: {e}"))?;
    }
    let merged = crate::experiment::merge::merge(out, shards)?;
    let m = &merged.manifest;
    let completed = m.runs.iter().filter(|r| r.status == Status::Completed).count();
    eprintln!(
        "{}: merged {} folders: {completed} of {} runs completed; data in {}",
        m.experiment,
        shards.len(),
        m.runs.len(),
        out.display()
    );
    if !merged.missing.is_empty() {
        eprintln!(
            "  {} runs are in no shard folder: {}",
            merged.missing.len(),
            merged.missing.join(", ")
        );
    }
    let drawn = match plots {
        Some(_) if !merged.missing.is_empty() => {
            eprintln!("figures: not drawn while runs are missing; merge again with every shard folder");
            true
        }
        Some(plots) => draw(
            out,
            &plots.unwrap_or_else(|| default_plots(out, &m.experiment)),
            metrics,
        ),
        None => true,
    };
    Ok(if completed == m.runs.len() && drawn {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// `pressure plot`: redraws the figures of a run folder.
pub fn plot(run_dir: &Path, plots: Option<PathBuf>, metrics: &[String]) -> anyhow::Result<ExitCode> {
    let config = run_dir.join("config.toml");
    let experiment =
        Experiment::load(&config, &[]).with_context(|| format!("{} is not a run folder", run_dir.display()))?;
    check_heatmaps_apply(&experiment, metrics)?;
    let dir = plots.unwrap_or_else(|| default_plots(run_dir, &experiment.name));
    let written = crate::plot::draw_run(run_dir, &dir, metrics)?;
    eprintln!("figures: {}", summarize_paths(&written));
    Ok(ExitCode::SUCCESS)
}

/// `pressure list`: the shipped experiments and their first sentence.
pub fn list() -> anyhow::Result<ExitCode> {
    let mut out = String::new();
    for (name, text) in SHIPPED {
        let e = Experiment::parse(text, Path::new(name), &[])?;
        let end = e
            .description
            .find(". ")
            .into_iter()
            .chain(e.description.find("? "))
            .min()
            .map_or(e.description.len(), |i| i + 1);
        out.push_str(&format!("{name:<24} {}\n", &e.description[..end]));
    }
    print_out(&out)?;
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
    let constitution = crate::experiment::figure_spec::constitution_metrics();
    let flag = if metrics.is_empty() { "--scope" } else { "--metrics" };
    let metrics: Vec<&str> = match (metrics.is_empty(), scope) {
        (true, "train") => crate::experiment::figure_spec::TRAIN_METRICS.to_vec(),
        (true, "constitution") => constitution.iter().take(2).map(String::as_str).collect(),
        (true, _) => SUMMARY_METRICS.to_vec(),
        (false, _) => metrics.iter().map(String::as_str).collect(),
    };
    for m in &metrics {
        crate::experiment::figure_spec::parse_metric_ref(&format!("{scope}:{m}"))
            .map_err(|e| anyhow::anyhow!("{flag} {m}: {e}"))?;
    }
    let recorded: Vec<&crate::plot::Series> = data
        .arms
        .iter()
        .filter_map(|a| data.series(a, scope, metrics[0]))
        .collect();
    anyhow::ensure!(
        data.arms.iter().any(|a| data.seeds_of(a) > 0),
        "{}: no completed run to summarize (see manifest.json)",
        run_dir.display()
    );
    anyhow::ensure!(
        !recorded.is_empty(),
        "--scope {scope}: {} has no values in this scope; its scopes: {}, train, constitution",
        run_dir.display(),
        data.scopes().join(", ")
    );
    if let Some(step) = step {
        let mut steps: Vec<usize> = recorded.iter().flat_map(|s| s.steps.iter().copied()).collect();
        steps.sort_unstable();
        steps.dedup();
        anyhow::ensure!(
            steps.contains(&step),
            "--step {step}: not an evaluated step of scope {scope}; evaluated: {}",
            steps.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(", ")
        );
    }
    print_out(&crate::report::final_table(&data, scope, &metrics, step))?;
    Ok(ExitCode::SUCCESS)
}

/// `pressure bench`: see [`crate::bench`].
pub fn bench(
    populations: Vec<usize>,
    steps: usize,
    experiments: Vec<String>,
    json: Option<PathBuf>,
    backend: Backend,
) -> anyhow::Result<ExitCode> {
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
    crate::bench::run(&crate::bench::BenchOptions {
        populations,
        steps,
        experiments,
        backend,
        json,
    })?;
    Ok(ExitCode::SUCCESS)
}
