//! `pressure run`: trains every arm × sweep point × seed of an experiment that is not already
//! completed in the output folder, writes its data and draws its figures.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;

use super::{FigureArgs, check_heatmaps_apply, draw_after, load, print_out};
use crate::experiment::keys::value_label;
use crate::experiment::runner::run_list;
use crate::experiment::spec::MAX_SEEDS;
use crate::experiment::{Axis, Constitutions, Experiment, Override, RunOptions, RunReport, Shard, run_experiment};
use crate::experiment::{budget, rounds};
use crate::records::Status;
use crate::run::Backend;

/// What to train: an experiment, its settings replaced, its seeds and arms chosen, on a backend
/// (`run` and `slurm` take the same).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ExperimentArgs {
    /// An experiment file, or the name of a shipped experiment (see `pressure list`).
    pub experiment: String,
    /// Override a setting in every arm, as TOML: `--set pressure.steps=500`,
    /// `--set policy.hidden=[32,32]`, `--set reward.kind=mixture`; a phase of `[[phases]]` by its
    /// name: `--set phases.teach.steps=200`. Repeatable.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Add or replace a sweep axis: `--sweep world.contradiction_rate=0,0.25,0.5`. Repeatable;
    /// the grid is the product of the axes, crossed with arms and seeds.
    #[arg(long = "sweep", value_name = "KEY=V1,V2,...")]
    pub sweep: Vec<String>,
    /// Use seeds 0..N-1 instead of the experiment's seeds.
    #[arg(long, value_name = "N")]
    pub seeds: Option<u64>,
    /// Train only this arm of the experiment (repeatable; default: every arm). Its runs keep
    /// the ids they have in the whole experiment.
    #[arg(long = "arm", value_name = "NAME")]
    pub arm: Vec<String>,
    /// Tensor backend (default: the experiment's `backend`, else flex).
    #[arg(long, value_enum)]
    pub backend: Option<Backend>,
}

/// Options of `pressure run`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub what: ExperimentArgs,
    /// Populations trained in parallel (default: the number of cores).
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Runs trained together as one batched network (default: chosen from the runs and jobs).
    #[arg(long, value_name = "N")]
    pub population: Option<usize>,
    /// Where the data goes (default: runs/<experiment>/).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub figures: FigureArgs,
    /// Run only the K-th of N contiguous slices of the run list (zero-based), e.g. 0/4.
    #[arg(long, value_name = "K/N", allow_hyphen_values = true)]
    pub shard: Option<String>,
    /// Print the run list (id, arm, sweep values, seed, done or not) without training.
    #[arg(long)]
    pub dry_run: bool,
    /// Train even when the estimated time or memory exceeds the budget (12 hours, half the
    /// machine's memory).
    #[arg(long)]
    pub allow_large: bool,
    /// Exit with 1 when a claim of the experiment does not come out as it states.
    #[arg(long)]
    pub strict: bool,
    /// Refine a sweep over one or two settings where its outcome flips, in rounds of extra
    /// points: `--refine` as `[sweep.refine]` says (or its defaults), or with keys replaced,
    /// e.g. `--refine threshold=0.5,budget=8,rounds=2` (keys: metric, threshold, budget, rounds).
    #[arg(long, value_name = "KEY=VALUE,...", num_args = 0..=1, default_missing_value = "")]
    pub refine: Option<String>,
    /// Train every constitution here, neither reading nor writing the constitution cache
    /// (`$PRESSURE_CACHE`, else `~/.cache/pressure`), which holds each once by what it depends on.
    #[arg(long)]
    pub no_cache: bool,
}

/// The experiment `pressure run` would train with these arguments: [`selected`], with its
/// sweep refined as `--refine` says.
pub fn experiment(args: &RunArgs) -> anyhow::Result<Experiment> {
    let mut experiment = selected(&args.what)?;
    if let Some(text) = &args.refine {
        experiment.refine_from_flag(text)?;
    }
    Ok(experiment)
}

/// The experiment these arguments select: the file or shipped experiment with its `--set` and
/// `--sweep` values, its arms cut to `--arm`, its seeds to `--seeds`, on the backend of
/// `--backend`. Bad input stops here with one line.
pub fn selected(args: &ExperimentArgs) -> anyhow::Result<Experiment> {
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
    let mut experiment = load(&args.experiment, &overrides, &sweeps)?;
    if let Some(n) = args.seeds {
        anyhow::ensure!(
            (1..=MAX_SEEDS).contains(&n),
            "--seeds {n}: must be between 1 and {MAX_SEEDS}"
        );
        experiment.seeds = (0..n).collect();
    }
    for (i, name) in args.arm.iter().enumerate() {
        anyhow::ensure!(
            experiment.arms.iter().any(|a| &a.name == name),
            "--arm {name}: not an arm of {}; its arms: {}",
            experiment.name,
            experiment
                .arms
                .iter()
                .map(|a| a.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
        anyhow::ensure!(!args.arm[..i].contains(name), "--arm {name}: named twice");
    }
    if !args.arm.is_empty() {
        experiment.arms.retain(|a| args.arm.contains(&a.name));
    }
    if let Some(backend) = args.backend {
        experiment.backend = backend;
    }
    Ok(experiment)
}

/// `pressure run`: trains, writes data and figures. Exits non-zero if any run did not complete.
pub fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    // The shard and the figures' flags first, as before the experiment is read.
    let shard = args.shard.as_deref().map(Shard::parse).transpose()?;
    args.figures.check()?;
    let mut experiment = experiment(&args)?;
    check_flags(&args, &experiment, shard)?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| Path::new("runs").join(&experiment.name));
    crate::records::target::output_folder(&out, "--out", &[]).map_err(anyhow::Error::msg)?;
    args.figures.check_folder(&out)?;
    // A round needs every result of the rounds before it: a shard trains its slice of the grid,
    // and the rounds run over the merged folder.
    let refining = experiment.refine.is_some() && shard.is_none();
    if experiment.refine.is_some() && shard.is_some() {
        experiment.refined.clear();
        crate::note!(
            "--shard: trains a slice of the grid only; refinement rounds run after `pressure merge --out MERGED ...`, with `pressure run {} --out MERGED`",
            args.what.experiment
        );
    }
    if args.dry_run {
        if refining {
            let (planned, log) = rounds::refine(&experiment, &out, None)?;
            dry_run(&planned, &out, None)?;
            say_rounds(&log, true);
            return Ok(ExitCode::SUCCESS);
        }
        return dry_run(&experiment, &out, shard);
    }
    let jobs = jobs(args.jobs);
    let options = RunOptions {
        jobs,
        population: args.population,
        out: out.clone(),
        progress: true,
        shard,
        watch: None,
        constitutions: Some(Arc::new(Constitutions::for_command(args.no_cache))),
        command: Some(crate::records::command_line(std::env::args())),
    };
    let budget = Budget {
        out: &out,
        shard,
        jobs,
        refining,
        allow_large: args.allow_large,
        said: std::cell::Cell::new(false),
    };
    budget.fits(&experiment)?;
    // A figure folder that cannot be made is found before training, not after.
    let plots = args.figures.folder_for(&out, &experiment.name);
    if let Some(dir) = &plots {
        std::fs::create_dir_all(dir).with_context(|| format!("{}: cannot create the figure folder", dir.display()))?;
    }
    let report = train(&experiment, &options, &budget)?;
    let drawn = plots.is_none_or(|dir| draw_after(&out, &dir, &args.figures.metric, &args.figures.sheet()));
    let unfinished = report
        .manifest
        .runs
        .iter()
        .filter(|r| r.status != Status::Completed)
        .count();
    // A shard holds part of the data: its claims are checked when the shards are merged.
    let claimed = match options.shard {
        Some(_) => true,
        None => super::claims::report(&out, false, Some(&out.join("claims.json")))?,
    };
    Ok(if unfinished == 0 && drawn && (claimed || !args.strict) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Refuses `--jobs 0`, `--population 0`, heatmap metrics that draw nothing and a shard that
/// selects no run; says which arms a `--set` overrides.
fn check_flags(args: &RunArgs, experiment: &Experiment, shard: Option<Shard>) -> anyhow::Result<()> {
    if let Some(j) = args.jobs {
        anyhow::ensure!(j >= 1, "--jobs {j}: must be at least 1");
    }
    if let Some(p) = args.population {
        anyhow::ensure!(p >= 1, "--population {p}: must be at least 1");
    }
    check_heatmaps_apply(experiment, &args.figures.metric)?;
    for o in args.what.set.iter().filter_map(|s| Override::parse(s).ok()) {
        let arms: Vec<&str> = experiment
            .arms
            .iter()
            .filter(|a| a.sets.contains(&o.key))
            .map(|a| a.name.as_str())
            .collect();
        if !arms.is_empty() {
            crate::note!(
                "--set {}={}: replaces the value of arms \"{}\"",
                o.key,
                o.value,
                arms.join("\", \"")
            );
        }
    }
    if let Some(s) = shard {
        let n = crate::experiment::expand(experiment).len();
        anyhow::ensure!(
            !s.range(n).is_empty(),
            "--shard {}: selects no run of the {n} in the run list; use at most {n} shards",
            s.label()
        );
    }
    Ok(())
}

/// The threads to train with: `--jobs`, or every core; more threads than cores cannot be used,
/// so the pool is capped, and that is said.
fn jobs(asked: Option<usize>) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    match asked {
        Some(j) if j > cores => {
            crate::note!("--jobs {j}: capped at {cores}, the cores of this machine");
            cores
        }
        Some(j) => j,
        None => cores,
    }
}

/// What a call may train: what cannot fit is refused before anything is written; a long
/// estimate is said once.
struct Budget<'a> {
    out: &'a Path,
    shard: Option<Shard>,
    jobs: usize,
    refining: bool,
    allow_large: bool,
    said: std::cell::Cell<bool>,
}

impl Budget<'_> {
    fn fits(&self, experiment: &Experiment) -> anyhow::Result<()> {
        let todo: Vec<_> = run_list(experiment, self.out, self.shard)
            .into_iter()
            .filter(|(_, done)| !done)
            .map(|(r, _)| r)
            .collect();
        let mut estimate = budget::estimate(&todo.iter().collect::<Vec<_>>(), self.jobs);
        // Refinement's rounds add up to `budget` points, each as costly as a point of the grid.
        if let Some(r) = experiment.refine.as_ref().filter(|_| self.refining) {
            let points = experiment.grid().len().max(1) as f64;
            let left = r.budget.saturating_sub(experiment.refined.len()) as f64;
            estimate = estimate.with_more_runs(1.0 + left / points);
        }
        if !self.allow_large {
            let memory = budget::machine_memory_gib().unwrap_or(8.0);
            budget::check(&estimate, memory).map_err(|e| anyhow::anyhow!("{}: {e}", experiment.name))?;
        }
        if estimate.hours > budget::SAY_HOURS && !self.said.replace(true) {
            crate::note!("{}: {}", experiment.name, budget::describe(&estimate));
        }
        Ok(())
    }
}

/// Trains the experiment, or each of its refinement rounds in turn; the last round's report.
fn train(experiment: &Experiment, options: &RunOptions, budget: &Budget) -> anyhow::Result<RunReport> {
    let once = |experiment: &Experiment| -> anyhow::Result<RunReport> {
        budget.fits(experiment)?;
        let report = run_experiment(experiment, options)?;
        say(&report, budget.out, budget.refining);
        Ok(report)
    };
    if !budget.refining {
        return once(experiment);
    }
    let mut last: Option<RunReport> = None;
    let mut round = |e: &Experiment| -> anyhow::Result<bool> {
        let report = once(e)?;
        let all = report.manifest.runs.iter().all(|r| r.status == Status::Completed);
        last = Some(report);
        Ok(all)
    };
    let (_, log) = rounds::refine(experiment, budget.out, Some(&mut round))?;
    say_rounds(&log, false);
    Ok(last.expect("refinement runs the experiment at least once"))
}

/// `pressure run --dry-run`: one line per run — id, arm, sweep values, seed, done or to do —
/// without training or writing anything.
fn dry_run(experiment: &Experiment, out: &Path, shard: Option<Shard>) -> anyhow::Result<ExitCode> {
    let list = run_list(experiment, out, shard);
    let mut text = String::new();
    for (run, done) in &list {
        let sweep = if run.sweep.is_empty() {
            "-".to_string()
        } else {
            run.sweep_label()
        };
        text.push_str(&format!(
            "{}\t{}\t{}\tseed {}\t{}\n",
            run.id,
            run.arm,
            sweep,
            run.seed,
            if *done { "done" } else { "to do" }
        ));
    }
    print_out(&text)?;
    let done = list.iter().filter(|(_, d)| *d).count();
    crate::note!(
        "{}: {} runs{}, {done} done in {}, {} to do",
        experiment.name,
        list.len(),
        shard.map(|s| format!(" in shard {}", s.label())).unwrap_or_default(),
        out.display(),
        list.len() - done
    );
    Ok(ExitCode::SUCCESS)
}

/// One line per round of refinement: the points it added, and why it stopped.
fn say_rounds(log: &rounds::Log, planning: bool) {
    for r in &log.done {
        let points: Vec<String> = r
            .points
            .iter()
            .map(|p| format!("({})", p.iter().map(value_label).collect::<Vec<_>>().join(", ")))
            .collect();
        crate::note!(
            "refine round {}: {} points (at most {}){}: {}",
            r.round,
            r.points.len(),
            r.cap,
            if planning && !r.complete { ", to do" } else { "" },
            points.join(" ")
        );
    }
    crate::note!(
        "refine: {} (threshold {} of {}; refine.json)",
        log.stopped,
        log.threshold,
        log.metric
    );
}

/// Prints what the run did with the folder, and one line per run that did not complete.
/// While refining, each round's config.toml lists more points than the last: not a change of
/// settings worth a message.
fn say(report: &RunReport, out: &Path, refining: bool) {
    let manifest = &report.manifest;
    if report.settings_changed && !refining {
        crate::note!(
            "{}: the settings differ from the last run in this folder; its metrics.csv and manifest.json \
             now describe the new settings, and its runs stay under {}",
            out.display(),
            out.join("runs").display()
        );
    }
    if let Some(version) = &report.older_version {
        crate::note!(
            "{}: its runs were made by pressure {version}, whose run ids differ from this version's \
             ({}); they are not reused",
            out.display(),
            env!("CARGO_PKG_VERSION")
        );
    }
    for (id, why) in &report.damaged {
        crate::note!(
            "{}: run {id} was recorded as completed but cannot be trusted ({why}); trained again",
            out.display()
        );
    }
    if report.foreign > 0 {
        crate::note!(
            "{}: {} run folders are not in this run list (other seeds or settings); left in place, not in metrics.csv",
            out.display(),
            report.foreign
        );
    }
    let completed = manifest.runs.iter().filter(|r| r.status == Status::Completed).count();
    crate::note!(
        "{}{}: {completed} of {} runs completed ({} reused from earlier runs) in {:.1} s; data in {}",
        manifest.experiment,
        manifest
            .shard
            .as_ref()
            .map(|s| format!(" shard {s}"))
            .unwrap_or_default(),
        manifest.runs.len(),
        report.reused,
        manifest.wall_seconds,
        out.display()
    );
    for r in manifest.runs.iter().filter(|r| r.status != Status::Completed) {
        let at = if r.sweep.is_empty() {
            String::new()
        } else {
            format!(" at {}", r.sweep)
        };
        crate::note!(
            "  {:?}: arm \"{}\"{at} seed {} (run {}){}: {}",
            r.status,
            r.arm,
            r.seed,
            r.id,
            r.step.map(|s| format!(" at step {s}")).unwrap_or_default(),
            r.message.as_deref().unwrap_or("")
        );
    }
}
