//! `pressure`: the command line. It parses arguments and calls the library.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use pressure::commands;
use pressure::experiment::Backend;

/// A sandbox for RLHF selection pressure on contradictory tasks.
#[derive(Parser)]
#[command(name = "pressure", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Where and which figures to draw.
#[derive(clap::Args)]
struct Figures {
    /// Where the figures go (default: plots/<experiment>/ for data in runs/<experiment>/, else
    /// the data folder's plots/).
    #[arg(long, value_name = "DIR")]
    plots: Option<PathBuf>,
    /// Do not draw figures.
    #[arg(long)]
    no_plots: bool,
    /// The metric of a two-axis sweep's heatmap (default: hidden_objection). Repeatable.
    #[arg(long = "metric", value_name = "METRIC")]
    metric: Vec<String>,
}

impl Figures {
    /// `None`: draw no figures; `Some(None)`: the default folder.
    fn folder(&self) -> Option<Option<PathBuf>> {
        (!self.no_plots).then(|| self.plots.clone())
    }
}

#[derive(Subcommand)]
enum Command {
    /// Train every arm × seed of an experiment, write its data and draw its figures.
    Run {
        /// An experiment file, or the name of a shipped experiment (see `pressure list`).
        experiment: String,
        /// Override a setting in every arm, as TOML: `--set pressure.steps=500`,
        /// `--set policy.hidden=[32,32]`, `--set reward.kind=mixture`. Repeatable.
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
        /// Add or replace a sweep axis: `--sweep world.contradiction_rate=0,0.25,0.5`. Repeatable;
        /// the grid is the product of the axes, crossed with arms and seeds.
        #[arg(long = "sweep", value_name = "KEY=V1,V2,...")]
        sweep: Vec<String>,
        /// Use seeds 0..N-1 instead of the experiment's seeds.
        #[arg(long, value_name = "N")]
        seeds: Option<u64>,
        /// Populations trained in parallel (default: the number of cores).
        #[arg(long, value_name = "N")]
        jobs: Option<usize>,
        /// Runs trained together as one batched network (default: chosen from the runs and jobs).
        #[arg(long, value_name = "N")]
        population: Option<usize>,
        /// Where the data goes (default: runs/<experiment>/).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        #[command(flatten)]
        figures: Figures,
        /// Run only the K-th of N contiguous slices of the run list (zero-based), e.g. 0/4.
        #[arg(long, value_name = "K/N", allow_hyphen_values = true)]
        shard: Option<String>,
        /// Print the run list (id, arm, sweep point, seed, done or not) without training.
        #[arg(long)]
        dry_run: bool,
        /// Tensor backend (default: the experiment's `backend`, else flex).
        #[arg(long, value_enum)]
        backend: Option<Backend>,
    },
    /// Redraw every figure of a finished run folder from its stored data, without training.
    Plot {
        /// A run folder written by `pressure run` (holds config.toml and metrics.csv).
        run_dir: PathBuf,
        /// Where the figures go (default: plots/<experiment>/ for runs/<experiment>/, else
        /// RUN_DIR/plots/).
        #[arg(long, value_name = "DIR")]
        plots: Option<PathBuf>,
        /// The metric of a two-axis sweep's heatmap (default: hidden_objection). Repeatable.
        #[arg(long = "metric", value_name = "METRIC")]
        metric: Vec<String>,
    },
    /// Combine the folders of a sharded run (`run --shard K/N`) into one.
    Merge {
        /// The merged folder.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// The shard folders, in any order.
        #[arg(required = true)]
        shards: Vec<PathBuf>,
        #[command(flatten)]
        figures: Figures,
    },
    /// Print final values (mean of each seed's last `eval.final_window` evaluations; mean and 95%
    /// interval over seeds) of a run folder as a Markdown table.
    Summary {
        /// A run folder written by `pressure run`.
        run_dir: PathBuf,
        /// The scope: trained, heldout, unobserved, framed (or train, constitution).
        #[arg(long, default_value = "trained")]
        scope: String,
        /// Metrics to show, comma-separated (default: the four headline rates).
        #[arg(long, value_delimiter = ',')]
        metrics: Vec<String>,
        /// Values at this evaluated step instead of the final values.
        #[arg(long, value_name = "STEP")]
        step: Option<usize>,
    },
    /// Name the shipped experiments with their one-line descriptions.
    List,
    /// Measure pressure-phase throughput per population size, evaluation time, and the wall time
    /// and peak memory of shipped experiments; print a table, optionally write JSON.
    Bench {
        /// Population sizes to time, comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "1,2,4,8,16,32")]
        populations: Vec<usize>,
        /// Timed pressure steps per population size.
        #[arg(long, default_value_t = 300)]
        steps: usize,
        /// Shipped experiments to time at their default budget, comma-separated: `all`, `none`,
        /// or names.
        #[arg(long, value_delimiter = ',', default_value = "all")]
        experiments: Vec<String>,
        /// Write the measurements as JSON here.
        #[arg(long, value_name = "FILE")]
        json: Option<PathBuf>,
        /// Tensor backend.
        #[arg(long, value_enum, default_value_t = Backend::default())]
        backend: Backend,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run {
            experiment,
            set,
            sweep,
            seeds,
            jobs,
            population,
            out,
            figures,
            shard,
            dry_run,
            backend,
        } => commands::run(commands::RunArgs {
            experiment,
            set,
            sweep,
            seeds,
            jobs,
            population,
            out,
            plots: figures.folder(),
            metrics: figures.metric,
            backend,
            shard,
            dry_run,
        }),
        Command::Plot { run_dir, plots, metric } => commands::plot(&run_dir, plots, &metric),
        Command::Merge { out, shards, figures } => commands::merge(&out, &shards, figures.folder(), &figures.metric),
        Command::Summary {
            run_dir,
            scope,
            metrics,
            step,
        } => commands::summary(&run_dir, &scope, &metrics, step),
        Command::List => commands::list(),
        Command::Bench {
            populations,
            steps,
            experiments,
            json,
            backend,
        } => commands::bench(populations, steps, experiments, json, backend),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", format!("{e:#}").replace('\n', " "));
            ExitCode::from(2)
        }
    }
}
