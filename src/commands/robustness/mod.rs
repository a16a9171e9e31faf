//! `pressure robustness`: an experiment's claims under perturbations it was not tuned on. The
//! perturbed arms are run as experiments of their own through the normal runner (`settings/`,
//! and one folder per other backend, under `runs/<experiment>_robustness/`), so they resume
//! and shard like any run; then every claim is checked under every perturbation and reported
//! as a table (`robustness.md`, `robustness.json`) and two figures: the specification curve
//! of each claim and the outcome mix of the arms the claims name.

mod figures;
mod tables;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::FigureArgs;
use super::run::{ExperimentArgs, RunArgs};
use crate::experiment::claims::{Claim, Verdict, check};
use crate::experiment::robustness::{self, BASELINE, Perturbation};
use crate::experiment::shipped;
use crate::experiment::{Experiment, folder};
use crate::plot::FigureSize;
use crate::records::write_atomic;
use crate::results::RunData;

/// Arguments of `pressure robustness`.
#[derive(Debug, Clone, clap::Args)]
pub struct RobustnessArgs {
    /// An experiment file, or the name of a shipped experiment, with `[[claims]]`.
    pub experiment: String,
    /// A TOML file of perturbations: `[[perturbations]]` with `name` and `set = ["key=value"]`
    /// or `backend = "ndarray"` (default: PPO, trunk 128x128, trunk 32, KL 0.2, lr 3e-4, noise
    /// 0.5 (world.obs_noise), latent 8, contra. 0.2 (world.contradiction_rate), and the other
    /// backend).
    #[arg(long, value_name = "FILE")]
    pub perturb: Option<PathBuf>,
    /// Seeds per arm and perturbation.
    #[arg(long, default_value_t = 3)]
    pub seeds: u64,
    /// Where the data goes (default: runs/<experiment>_robustness/).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Where the figures go (default: plots/<experiment>/ for a shipped experiment's default
    /// data folder, else the data folder's plots/).
    #[arg(long, value_name = "DIR")]
    pub plots: Option<PathBuf>,
    /// Populations trained in parallel (default: the number of cores).
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Run only the K-th of N slices of each folder's run list; report once every slice is in.
    #[arg(long, value_name = "K/N", allow_hyphen_values = true)]
    pub shard: Option<String>,
    /// Print the run lists without training.
    #[arg(long)]
    pub dry_run: bool,
    /// Run a check whose folders together need more than the budget allows (12 hours here, or
    /// half the machine's memory).
    #[arg(long)]
    pub allow_large: bool,
    /// Train every constitution in every folder, neither reading nor writing the constitution
    /// cache (by default the folders share the constitutions they have in common through it).
    #[arg(long)]
    pub no_cache: bool,
}

/// The experiment's file text and the path it is known by.
fn source(experiment: &str) -> anyhow::Result<(String, PathBuf)> {
    let path = Path::new(experiment);
    if !path.is_file()
        && let Some(text) = shipped::find(experiment)
    {
        return Ok((
            text.to_string(),
            PathBuf::from(format!("experiments/{experiment}.toml")),
        ));
    }
    let text = crate::records::read_limited(path, crate::experiment::spec::MAX_FILE_BYTES).map_err(|e| {
        anyhow::anyhow!(
            "{experiment}: no such file, nor a shipped experiment ({e}); shipped: {}",
            shipped::SHIPPED.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
        )
    })?;
    Ok((text, path.to_path_buf()))
}

/// A folder of this process's own under the system's temporary folder, removed when dropped.
struct Scratch {
    path: PathBuf,
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

fn scratch_dir() -> anyhow::Result<Scratch> {
    let path = std::env::temp_dir().join(format!("pressure-robustness-{}", std::process::id()));
    std::fs::create_dir_all(&path).map_err(|e| anyhow::anyhow!("{}: cannot create: {e}", path.display()))?;
    Ok(Scratch { path })
}

/// One folder of the check: the perturbations it holds and its data once run.
struct Part {
    folder: PathBuf,
    perturbations: Vec<String>,
}

/// `pressure robustness`: trains the experiment under each perturbation (one folder for the
/// settings, one per other backend), checks every claim in each, and writes the table, its JSON
/// and the two figures.
pub fn robustness(args: &RobustnessArgs) -> anyhow::Result<ExitCode> {
    let (text, path) = source(&args.experiment)?;
    let base = Experiment::parse(&text, &path, &[])?;
    anyhow::ensure!(
        !base.claims.is_empty(),
        "{}: has no [[claims]] to check; state what it expects first",
        path.display()
    );
    anyhow::ensure!(
        (1..=crate::experiment::spec::MAX_SEEDS).contains(&args.seeds),
        "--seeds {}: must be at least 1",
        args.seeds
    );
    let perturbations = perturbations(args, &base, &text, &path)?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| Path::new("runs").join(format!("{}_robustness", base.name)));
    crate::records::target::output_folder(&out, "--out", &[]).map_err(anyhow::Error::msg)?;
    if let Some(plots) = &args.plots {
        crate::records::target::output_folder(plots, "--plots", &[]).map_err(anyhow::Error::msg)?;
    }
    let parts = parts(args, &base, &text, &path, &perturbations, &out)?;
    if !args.allow_large && !args.dry_run {
        check_budget(args, &base, &parts)?;
    }
    let failed = train(args, &parts, &out)?;
    if args.dry_run || args.shard.is_some() {
        return Ok(ExitCode::SUCCESS);
    }
    let (rows, datas) = verdicts(&base, &parts)?;
    tables::write_tables(args, &base, &perturbations, &rows, &out)?;
    figures::draw(args, &base, &rows, &datas, &out)?;
    Ok(if failed { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

/// The perturbations asked for: `--perturb`'s file, or the defaults less those that change
/// nothing in this experiment.
fn perturbations(
    args: &RobustnessArgs,
    base: &Experiment,
    text: &str,
    path: &Path,
) -> anyhow::Result<Vec<Perturbation>> {
    let Some(file) = &args.perturb else {
        // A default perturbation this experiment already has (or sets in every arm) would
        // train the baseline twice and read as robust: it is left out, and said so.
        let mut kept = Vec::new();
        for p in robustness::defaults(base.backend) {
            if p.backend.is_none() && robustness::changes_nothing(text, path, &p)? {
                crate::note!(
                    "perturbation `{}`: changes nothing in {}'s runs; left out",
                    p.name,
                    base.name
                );
            } else {
                kept.push(p);
            }
        }
        return Ok(kept);
    };
    Ok(robustness::load(file)?)
}

/// The folders of the check with their experiment files: the settings perturbations in one;
/// each other backend in one of its own.
fn parts(
    args: &RobustnessArgs,
    base: &Experiment,
    text: &str,
    path: &Path,
    perturbations: &[Perturbation],
    out: &Path,
) -> anyhow::Result<Vec<(Part, String)>> {
    let settings: Vec<Perturbation> = perturbations.iter().filter(|p| p.backend.is_none()).cloned().collect();
    let mut parts = vec![(
        Part {
            folder: out.join("settings"),
            perturbations: std::iter::once(BASELINE.to_string())
                .chain(settings.iter().map(|p| p.name.clone()))
                .collect(),
        },
        robustness::combined(
            text,
            path,
            &settings,
            BASELINE,
            &format!("{}_robustness", base.name),
            args.seeds,
            base.backend,
        )?,
    )];
    for p in perturbations.iter().filter(|p| p.backend.is_some()) {
        let backend = p.backend.expect("a backend perturbation");
        parts.push((
            Part {
                folder: out.join(backend.name()),
                perturbations: vec![p.name.clone()],
            },
            robustness::combined(
                text,
                path,
                &[],
                &p.name,
                &format!("{}_robustness_{}", base.name, backend.name()),
                args.seeds,
                backend,
            )?,
        ));
    }
    Ok(parts)
}

/// One budget for the whole check, before any folder is written: the runs this call would
/// train (its shard, less those done) in every folder; the folders train one after another,
/// so their hours add up and their memory does not.
fn check_budget(args: &RobustnessArgs, base: &Experiment, parts: &[(Part, String)]) -> anyhow::Result<()> {
    use crate::experiment::budget::{self, Estimate};
    let shard = args.shard.as_deref().map(crate::experiment::Shard::parse).transpose()?;
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let mut total = Estimate {
        seed_steps: 0.0,
        hours: 0.0,
        memory_gib: 0.0,
    };
    for (part, toml) in parts {
        let e = Experiment::parse(toml, &part.folder.with_extension("toml"), &[])?;
        let list = crate::experiment::runner::run_list(&e, &part.folder, shard);
        let todo: Vec<_> = list.iter().filter(|(_, done)| !done).map(|(r, _)| r).collect();
        let part = budget::estimate(&todo, jobs);
        total.seed_steps += part.seed_steps;
        total.hours += part.hours;
        total.memory_gib = total.memory_gib.max(part.memory_gib);
    }
    budget::check(&total, budget::machine_memory_gib().unwrap_or(8.0))
        .map_err(|e| anyhow::anyhow!("robustness of {}: {e}", base.name))
}

/// Trains every folder with `pressure run`; true if any run failed. A dry run writes nothing
/// into the output folder: its experiment files go to a scratch folder removed when it ends.
fn train(args: &RobustnessArgs, parts: &[(Part, String)], out: &Path) -> anyhow::Result<bool> {
    let scratch = if args.dry_run {
        Some(scratch_dir()?)
    } else {
        std::fs::create_dir_all(out).map_err(|e| anyhow::anyhow!("{}: cannot create: {e}", out.display()))?;
        None
    };
    let mut failed = false;
    for (part, toml) in parts {
        let file = match &scratch {
            Some(dir) => dir
                .path
                .join(part.folder.file_name().unwrap_or_default())
                .with_extension("toml"),
            None => part.folder.with_extension("toml"),
        };
        write_atomic(&file, toml.as_bytes()).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
        let code = super::run::run(RunArgs {
            what: ExperimentArgs {
                experiment: file.display().to_string(),
                ..ExperimentArgs::default()
            },
            jobs: args.jobs,
            population: None,
            out: Some(part.folder.clone()),
            figures: FigureArgs {
                plots: None,
                no_plots: true,
                metric: Vec::new(),
                figure_size: FigureSize::Screen,
                pdf: false,
            },
            shard: args.shard.clone(),
            dry_run: args.dry_run,
            allow_large: args.allow_large,
            strict: false,
            refine: None,
            no_cache: args.no_cache,
        })?;
        failed |= code != ExitCode::SUCCESS;
    }
    Ok(failed)
}

/// Each claim's verdict under each perturbation, and each folder's data.
type Rows = Vec<(Claim, Vec<(String, Verdict)>)>;
type Datas = Vec<(Vec<String>, Experiment, RunData)>;

/// Every claim under every perturbation.
fn verdicts(base: &Experiment, parts: &[(Part, String)]) -> anyhow::Result<(Rows, Datas)> {
    let mut rows: Rows = base.claims.iter().map(|c| (c.clone(), Vec::new())).collect();
    let mut datas: Datas = Vec::new();
    for (part, _) in parts {
        let experiment = folder::experiment(&part.folder)?;
        let data = folder::load_data(&part.folder)?;
        for name in &part.perturbations {
            for (claim, verdicts) in rows.iter_mut() {
                let relabelled = robustness::relabel(claim, base, name, &experiment);
                verdicts.push((name.clone(), check(&relabelled, &data)));
            }
        }
        datas.push((part.perturbations.clone(), experiment, data));
    }
    Ok((rows, datas))
}
