//! The subcommands, one file each, callable without the command line; `main.rs` parses the
//! arguments and dispatches here. What they share: finding an experiment by file or name,
//! where figures go, and writing to standard output.

pub mod bench;
pub mod claims;
pub mod compare;
pub mod format;
pub mod list;
pub mod merge;
pub mod plot;
pub mod report;
pub mod robustness;
pub mod run;
pub mod runs;
pub mod slurm;
pub mod summary;
pub mod watch;

use std::path::{Path, PathBuf};

use crate::experiment::shipped::{self, SHIPPED};
use crate::experiment::{Axis, Experiment, Override};
use crate::plot::{FigureSize, Sheet};

/// Where and which figures to draw (`run` and `merge`).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct FigureArgs {
    /// Where the figures go (default: plots/<experiment>/ for a shipped experiment's data in
    /// runs/<experiment>/, else
    /// the data folder's plots/).
    #[arg(long, value_name = "DIR")]
    pub plots: Option<PathBuf>,
    /// Do not draw figures.
    #[arg(long)]
    pub no_plots: bool,
    /// The metric of a two-axis sweep's heatmap (default: hidden_objection). Repeatable.
    #[arg(long = "metric", value_name = "METRIC")]
    pub metric: Vec<String>,
    /// Draw the figures for a screen (default), a paper's page (7 in wide at 300 dpi) or
    /// column (3.5 in), or a 16:9 slide, with text sized to be read there. Other sizes than
    /// the screen's go into a subfolder of the default folder named after the size.
    #[arg(long, value_enum, value_name = "SIZE", default_value_t)]
    pub figure_size: FigureSize,
    /// Write each figure as PDF too, beside its PNG and SVG.
    #[arg(long)]
    pub pdf: bool,
}

impl FigureArgs {
    /// `None`: draw no figures; `Some(None)`: the default folder.
    pub fn folder(&self) -> Option<Option<PathBuf>> {
        (!self.no_plots).then(|| self.plots.clone())
    }

    /// The size and formats of the figures.
    pub fn sheet(&self) -> Sheet {
        Sheet {
            pdf: self.pdf,
            ..Sheet::new(self.figure_size)
        }
    }

    /// Where the figures of data in `data` go: `--plots`, or the default folder for the size.
    pub fn folder_for(&self, data: &Path, name: &str) -> Option<PathBuf> {
        self.folder()
            .map(|p| p.unwrap_or_else(|| default_plots_at(data, name, self.figure_size)))
    }

    /// Checks that `--plots` is a folder figures may go to beside the data in `data`
    /// ([`crate::records::target::figures_folder`]).
    pub fn check_folder(&self, data: &Path) -> anyhow::Result<()> {
        match &self.plots {
            Some(dir) if !self.no_plots => {
                crate::records::target::figures_folder(dir, "--plots", data).map_err(anyhow::Error::msg)
            }
            _ => Ok(()),
        }
    }

    /// Checks the heatmap metrics before anything runs, and that no flag is ignored.
    pub fn check(&self) -> anyhow::Result<()> {
        if self.no_plots {
            let ignored = match (&self.plots, self.metric.first()) {
                (Some(dir), _) => Some(format!("--plots {}", dir.display())),
                (None, Some(m)) => Some(format!("--metric {m}")),
                (None, None) if self.figure_size != FigureSize::Screen => {
                    Some(format!("--figure-size {}", self.figure_size.name()))
                }
                (None, None) if self.pdf => Some("--pdf".to_string()),
                (None, None) => None,
            };
            if let Some(flag) = ignored {
                anyhow::bail!("{flag}: chooses figures, but --no-plots draws none; give one or the other");
            }
        }
        for m in &self.metric {
            crate::plot::check_heatmap_metric(m).map_err(|e| anyhow::anyhow!("--metric {m}: {e}"))?;
        }
        Ok(())
    }
}

/// Loads an experiment from a file, or a shipped experiment by name, with command-line
/// overrides and sweep axes.
pub fn load(experiment: &str, overrides: &[Override], sweeps: &[Axis]) -> anyhow::Result<Experiment> {
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

/// Where figures go without `--plots`: a shipped experiment's data in its default folder
/// `runs/<name>/` draws into `plots/<name>/`, the figures the project shows; any other data
/// (another folder, or an experiment of the user's) into its own `plots/`, so that a run never
/// fills the repository's figure folders with figures of its own.
pub fn default_plots(data: &Path, name: &str) -> PathBuf {
    default_plots_beside(data, &Path::new("runs").join(name), name)
}

/// [`default_plots`] for data whose default folder is `home`: `plots/<name>/` when the data is
/// there and `name` is a shipped experiment's, else `data/plots/`.
pub fn default_plots_beside(data: &Path, home: &Path, name: &str) -> PathBuf {
    let data: PathBuf = data
        .components()
        .filter(|c| *c != std::path::Component::CurDir)
        .collect();
    if data == home && shipped::find(name).is_some() {
        Path::new("plots").join(name)
    } else {
        data.join("plots")
    }
}

/// The default figure folder of data in `data` at a figure size: [`default_plots`] for the
/// screen, and its subfolder named after the size for the others, so that figures for a paper
/// never replace the ones a README shows.
pub fn default_plots_at(data: &Path, name: &str, size: FigureSize) -> PathBuf {
    match size {
        FigureSize::Screen => default_plots(data, name),
        other => default_plots(data, name).join(other.name()),
    }
}

/// Draws the figures of a run folder and says where they went.
pub fn draw(run_dir: &Path, plots: &Path, metrics: &[String], sheet: &Sheet) -> anyhow::Result<()> {
    let (data, declared) = crate::experiment::folder::load_drawable(run_dir)?;
    let mut written = crate::plot::draw(&data, &declared, plots, metrics, sheet)
        .map_err(|e| e.context(run_dir.display().to_string()))?;
    written.extend(write_fits(&data, &declared, run_dir)?);
    let names: Vec<String> = written.iter().map(|p| p.display().to_string()).collect();
    crate::note!("figures: {}", names.join(", "));
    Ok(())
}

/// With an overoptimization figure, its curves' means and fitted α, β and peaks as
/// `overoptimization.json` in the run folder.
fn write_fits(
    data: &crate::results::RunData,
    declared: &crate::plot::Declared,
    run_dir: &Path,
) -> anyhow::Result<Option<PathBuf>> {
    use crate::results::overoptimization;
    if !declared.figures.iter().any(|f| f.kind == "overoptimization") {
        return Ok(None);
    }
    let groups = overoptimization::curves(data);
    let path = run_dir.join("overoptimization.json");
    let text = serde_json::to_string_pretty(&serde_json::json!({
        "about": "gain over the reference (step 0, or n = 1) against d = sqrt(KL) on the trained scope; \
                  fits: rl = d(alpha - beta ln d) over training steps, best_of_n = d(alpha - beta d) over n; \
                  peak_d = where the fitted curve peaks (null: it never turns down)",
        "groups": groups,
    }))?;
    crate::records::write_atomic(&path, text.as_bytes()).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    Ok(Some(path))
}

/// Draws the figures after training; false (and a message) if none could be drawn.
fn draw_after(run_dir: &Path, plots: &Path, metrics: &[String], sheet: &Sheet) -> bool {
    match draw(run_dir, plots, metrics, sheet) {
        Ok(()) => true,
        Err(e) => {
            crate::note!("figures: none drawn: {e:#}");
            false
        }
    }
}

/// Heatmap metrics (`--metric`) name the figures of a two-axis sweep; elsewhere they would
/// do nothing.
pub fn check_heatmaps_apply(experiment: &Experiment, metrics: &[String]) -> anyhow::Result<()> {
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

/// An error in one line, as the command line prints it after `error: `.
pub fn one_line(e: &anyhow::Error) -> String {
    format!("{e:#}").replace('\n', " ")
}

/// The exit code of a command that stopped on an error: 3 for a full disk, 1 for stored data
/// that is damaged or does not match its record and for figures that cannot be drawn, 2 for bad
/// input or usage.
pub fn exit_code(e: &anyhow::Error) -> u8 {
    if crate::records::is_disk_full(e) {
        crate::records::DISK_FULL_EXIT
    } else if e
        .chain()
        .any(|c| c.is::<crate::records::Damaged>() || c.is::<crate::plot::Undrawable>())
    {
        1
    } else {
        2
    }
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
