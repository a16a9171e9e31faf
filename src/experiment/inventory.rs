//! The experiment folders under a folder, and where each stands: what `pressure runs` lists and
//! the run browser offers.

use std::path::{Path, PathBuf};

use super::folder;
use super::runner::run_list;
use super::runs::Shard;
use crate::records::{self, Status};

/// How deep below DIR experiment folders are looked for (a robustness check's are one down, a
/// Slurm job's shards two).
pub const DEPTH: usize = 4;

/// The experiment folders under `dir`, in path order: folders with a `config.toml` that a run
/// or a merge wrote (a manifest, or the lock of one writing). Their `runs/` are not entered.
fn look(dir: &Path, depth: usize, found: &mut Vec<PathBuf>) {
    let is_experiment = dir.join("config.toml").is_file() && records::target::is_run_folder(dir);
    if is_experiment {
        found.push(dir.to_path_buf());
    }
    if depth == 0 {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut children: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path())
        .filter(|p| !(is_experiment && p.file_name().is_some_and(|n| n == "runs" || n == "plots")))
        .collect();
    children.sort();
    for child in children {
        look(&child, depth - 1, found);
    }
}

/// The experiment folders under `dir` (at most [`DEPTH`] down), in path order.
pub fn experiment_folders(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    look(dir, DEPTH, &mut found);
    found
}

/// Where an experiment folder stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standing {
    /// Its experiment's name (`?` when its `config.toml` cannot be read).
    pub experiment: String,
    /// Runs of its run list (a shard's: of its slice) completed, and in all; `None` when unreadable.
    pub runs: Option<(usize, usize)>,
    /// Done, partial, not trained, damaged (with why), or being written (with the writer's pid).
    pub state: String,
    /// A process is writing to it now.
    pub writing: bool,
}

/// Where the experiment folder `dir` stands.
pub fn standing(dir: &Path) -> Standing {
    let writer = records::writer(dir);
    let writing = writer.map(|pid| format!("being written{}", records::pid_label(pid)));
    let experiment = match folder::experiment(dir) {
        Ok(e) => e,
        Err(e) => {
            let why = format!("{e:#}").replace('\n', " ");
            return Standing {
                experiment: "?".into(),
                runs: None,
                state: writing.unwrap_or(format!("unreadable: {why}")),
                writing: writer.is_some(),
            };
        }
    };
    let verified = records::verify_folder(dir);
    // A shard's folder holds its slice of the run list.
    let shard = verified
        .as_ref()
        .ok()
        .and_then(|m| m.shard.as_deref())
        .and_then(|label| Shard::parse(label).ok());
    let list = run_list(&experiment, dir, shard);
    let done = list.iter().filter(|(_, d)| *d).count();
    let state = writing.unwrap_or_else(|| match verified {
        Err(damaged) => format!("damaged: {damaged}"),
        Ok(m) => {
            let diverged = m.runs.iter().filter(|r| r.status == Status::Diverged).count();
            let mut state = match done {
                d if d == list.len() => "done".to_string(),
                0 => "not trained".to_string(),
                _ => "partial".to_string(),
            };
            if let Some(shard) = &m.shard {
                state = format!("shard {shard}: {state}");
            }
            if diverged > 0 {
                state.push_str(&format!(" ({diverged} diverged)"));
            }
            state
        }
    });
    Standing {
        experiment: experiment.name,
        runs: Some((done, list.len())),
        state,
        writing: writer.is_some(),
    }
}
