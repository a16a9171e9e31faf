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
        /// Where the figures go (default: plots/<experiment>/).
        #[arg(long, value_name = "DIR")]
        plots: Option<PathBuf>,
        /// Do not draw figures.
        #[arg(long)]
        no_plots: bool,
        /// Tensor backend.
        #[arg(long, value_enum, default_value = "ndarray")]
        backend: Backend,
    },
    /// Redraw every figure of a finished run folder from its stored data, without training.
    Plot {
        /// A run folder written by `pressure run` (holds config.toml and metrics.csv).
        run_dir: PathBuf,
        /// Where the figures go (default: plots/<experiment>/).
        #[arg(long, value_name = "DIR")]
        plots: Option<PathBuf>,
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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run {
            experiment,
            set,
            seeds,
            jobs,
            population,
            out,
            plots,
            no_plots,
            backend,
        } => commands::run(commands::RunArgs {
            experiment,
            set,
            seeds,
            jobs,
            population,
            out,
            plots: if no_plots { None } else { Some(plots) },
            backend,
        }),
        Command::Plot { run_dir, plots } => commands::plot(&run_dir, plots),
        Command::Summary {
            run_dir,
            scope,
            metrics,
            step,
        } => commands::summary(&run_dir, &scope, &metrics, step),
        Command::List => commands::list(),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", format!("{e:#}").replace('\n', " "));
            ExitCode::from(2)
        }
    }
}
