//! `pressure`: the command line. It parses arguments and dispatches to `pressure::commands`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use pressure::commands::{
    self, FigureArgs, compare::CompareArgs, report::ReportArgs, run::RunArgs, summary::SummaryArgs,
};
use pressure::demo::DemoArgs;
use pressure::plot::{FigureSize, Sheet};
use pressure::run::Backend;

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
    Run(RunArgs),
    /// Redraw every figure of a finished run folder from its stored data, without training.
    Plot {
        /// A run folder written by `pressure run` (holds config.toml and metrics.csv).
        run_dir: PathBuf,
        /// Where the figures go (default: plots/<experiment>/ for a shipped experiment's
        /// runs/<experiment>/, else RUN_DIR/plots/).
        #[arg(long, value_name = "DIR")]
        plots: Option<PathBuf>,
        /// The metric of a two-axis sweep's heatmap (default: hidden_objection). Repeatable.
        #[arg(long = "metric", value_name = "METRIC")]
        metric: Vec<String>,
        /// Draw the figures for a screen (default), a paper's page (7 in wide at 300 dpi) or
        /// column (3.5 in), or a 16:9 slide, with text sized to be read there. Other sizes
        /// than the screen's go into a subfolder of the default folder named after the size.
        #[arg(long, value_enum, value_name = "SIZE", default_value_t)]
        figure_size: FigureSize,
        /// Write each figure as PDF too, beside its PNG and SVG.
        #[arg(long)]
        pdf: bool,
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
        figures: FigureArgs,
        /// Exit with 1 when a claim of the experiment does not come out as it states.
        #[arg(long)]
        strict: bool,
    },
    /// Print final values (each seed's mean over its last `eval.final_window` evaluations; an
    /// estimate and its 95% interval over seeds) of a run folder as a table.
    Summary(SummaryArgs),
    /// Compare arms with a control: difference with its 95% interval, Welch's p-value with
    /// Holm's correction, probability of improvement, Hedges' g, seeds and the minimum detectable
    /// difference.
    Compare(CompareArgs),
    /// Check an experiment's claims under perturbations it was not tuned on (other algorithm,
    /// network, KL, learning rate, world, backend): a claims × perturbations table and figures.
    Robustness(commands::robustness::RobustnessArgs),
    /// Write one self-contained HTML file about a run folder: its question, arms and control,
    /// final values with intervals, comparisons with the control, every figure, every seed,
    /// incomplete runs, the configuration and provenance.
    Report(ReportArgs),
    /// Write an experiment as a Slurm array of shards and a dependent merge job; with
    /// `--submit`, submit them (again: only the shards that are not done).
    Slurm(commands::slurm::SlurmArgs),
    /// Where each shard of a `pressure slurm` job stands: done, queued, failed or missing, and
    /// the runs in each.
    Status {
        /// The job folder (`<out>.slurm/`), or the merged folder beside it.
        dir: PathBuf,
    },
    /// Serve the demo's page with the run folders under DIR listed, and draw any of them,
    /// overlaid and live while they train (`pressure demo --browse DIR`).
    Browse {
        /// The folder to browse (default: runs/).
        #[arg(default_value = "runs")]
        dir: PathBuf,
        #[command(flatten)]
        demo: pressure::demo::DemoArgs,
    },
    /// Follow a run folder while it trains: the headline rates per arm, redrawn as they are
    /// measured, until the run ends.
    Watch(commands::watch::WatchArgs),
    /// List the experiment folders under DIR: experiment, runs completed, being written,
    /// damaged or done, size and last change.
    Runs {
        /// The folder to look in (default: runs/).
        #[arg(default_value = "runs")]
        dir: PathBuf,
    },
    /// Name the shipped experiments with their one-line descriptions.
    List,
    /// Serve the teaching demo: one page that trains the scenes' runs and draws them live.
    Demo(DemoArgs),
    /// Measure pressure-phase throughput per population size (against a hand-written yardstick
    /// and the floor of the step's products and optimizer alone), evaluation time, and the wall
    /// time and peak memory of shipped experiments; print a table, optionally write JSON.
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
        /// Instead, time `robustness pressure`, refined `phase_diagram` and `pressure` as whole
        /// jobs and print how busy they keep the threads: CPU ÷ (threads × wall).
        #[arg(long, conflicts_with_all = ["populations", "steps", "experiments", "backend"])]
        scaling: bool,
        /// Threads of the `--scaling` jobs (default: the cores of this machine).
        #[arg(long, value_name = "N")]
        jobs: Option<usize>,
    },
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
    let result = match cli.command {
        Command::Run(args) => commands::run::run(args),
        Command::Plot {
            run_dir,
            plots,
            metric,
            figure_size,
            pdf,
        } => commands::plot::plot(
            &run_dir,
            plots,
            &metric,
            &Sheet {
                pdf,
                ..Sheet::new(figure_size)
            },
        ),
        Command::Merge {
            out,
            shards,
            figures,
            strict,
        } => commands::merge::merge(&out, &shards, &figures, strict),
        Command::Summary(args) => commands::summary::summary(&args),
        Command::Compare(args) => commands::compare::compare(&args),
        Command::Robustness(args) => commands::robustness::robustness(&args),
        Command::Report(args) => commands::report::report(&args),
        Command::Slurm(args) => commands::slurm::slurm(args),
        Command::Status { dir } => commands::slurm::status(&dir),
        Command::Runs { dir } => commands::runs::runs(&dir),
        Command::Watch(args) => commands::watch::watch(&args),
        Command::List => commands::list::list(),
        Command::Demo(args) => pressure::demo::demo(args),
        Command::Browse { dir, demo } => pressure::demo::demo(pressure::demo::DemoArgs {
            browse: Some(dir),
            // A browser trains only when asked: the runs it shows may be training beside it.
            cold: true,
            ..demo
        }),
        Command::Bench {
            populations,
            steps,
            experiments,
            json,
            backend,
            scaling,
            jobs,
        } => match (scaling, jobs) {
            (false, Some(j)) => Err(anyhow::anyhow!(
                "--jobs {j}: sets the threads of the --scaling jobs; give --scaling too (the throughput table is always one thread)"
            )),
            _ => commands::bench::bench(
                populations,
                steps,
                experiments,
                json,
                backend,
                scaling.then(|| jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))),
            ),
        },
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            pressure::note!("error: {}", commands::one_line(&e));
            ExitCode::from(commands::exit_code(&e))
        }
    }
}

/// A command line clap cannot read: help and version as clap prints them; anything else in one
/// line, with where to read more, and exit 2.
fn usage_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        e.exit();
    }
    let text = e.render().to_string();
    let first = text.lines().next().unwrap_or("error: the command line cannot be read");
    // The subcommand, if one was named, for the help line.
    use clap::CommandFactory;
    let command: Vec<String> = std::env::args()
        .nth(1)
        .filter(|a| Cli::command().find_subcommand(a).is_some())
        .into_iter()
        .collect();
    pressure::note!(
        "{first} (see `pressure {}--help`)",
        command.iter().map(|c| format!("{c} ")).collect::<String>()
    );
    ExitCode::from(2)
}
