//! An experiment as a Slurm job: an array of `pressure run --shard K/N` tasks, each into its own
//! shard folder, and a merge job that runs after all of them (`afterany`, so a failed task
//! leaves the others' data) and combines the shards into the experiment's folder, byte for byte
//! what a local `pressure run` writes. Everything the job is lives in one folder beside the
//! merged one:
//!
//! ```text
//! <out>.slurm/job.json        what the tasks run, the sbatch settings, every submission's job ids
//! <out>.slurm/array.sbatch    the array: one shard a task
//! <out>.slurm/merge.sbatch    the merge (and, for a refined sweep, its rounds)
//! <out>.slurm/shards/<K>/     task K's run folder
//! <out>.slurm/logs/           what each task and merge printed
//! ```
//!
//! A shard is *done* when each of its runs completed or diverged, *failed* when its task ended
//! with runs recorded as failed or left untrained, *queued* while Slurm still holds its task,
//! and *missing* when nothing of it is on disk. Submitting again sends only the shards that are
//! not done.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::runner::trusted_record;
use super::runs::{RunSpec, Shard};
use crate::records::{Status, shell_word};

/// A value of an sbatch directive or a flag of the task's command may hold only these
/// characters (a partition, an account, a time such as `1-00:00:00`, a memory such as `4G`).
fn plain(value: &str) -> bool {
    !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.:,+-=[]".contains(c))
}

/// The sbatch settings of a job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resources {
    /// Array tasks, one shard each.
    pub tasks: usize,
    /// At most this many tasks at once (`--array=...%P`); `None`: as many as Slurm gives.
    pub parallel: Option<usize>,
    /// CPUs of each task; its `pressure run --jobs`.
    pub cpus_per_task: usize,
    /// Further directives, each `(name, value)`: `partition`, `time`, `account`, `mem`.
    pub directives: Vec<(String, String)>,
}

impl Resources {
    /// The `pressure slurm` flags that give these settings.
    pub fn flags(&self) -> Vec<String> {
        let mut flags = vec!["--tasks".to_string(), self.tasks.to_string()];
        if let Some(p) = self.parallel {
            flags.extend(["--parallel".to_string(), p.to_string()]);
        }
        flags.extend(["--cpus-per-task".to_string(), self.cpus_per_task.to_string()]);
        for (name, value) in &self.directives {
            flags.extend([format!("--{name}"), value.clone()]);
        }
        flags
    }

    /// Checks the settings; an error is one line naming the flag.
    pub fn validate(&self, runs: usize) -> Result<(), String> {
        if self.tasks == 0 || self.tasks > runs {
            return Err(format!(
                "--tasks {}: must be between 1 and {runs}, the runs of the run list (one shard a task, and no empty shard)",
                self.tasks
            ));
        }
        if self.parallel == Some(0) {
            return Err("--parallel 0: must be at least 1".into());
        }
        if self.cpus_per_task == 0 {
            return Err("--cpus-per-task 0: must be at least 1".into());
        }
        for (name, value) in &self.directives {
            if !plain(value) {
                return Err(format!(
                    "--{name} {value:?}: may hold only letters, digits and _ . : , + - = [ ] (it goes into an sbatch directive)"
                ));
            }
        }
        Ok(())
    }
}

/// What the tasks train: the `pressure run` arguments that select the experiment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Selection {
    /// A shipped experiment's name, or the absolute path of an experiment file.
    pub experiment: String,
    pub set: Vec<String>,
    pub sweep: Vec<String>,
    pub seeds: Option<u64>,
    pub arm: Vec<String>,
    pub backend: String,
}

impl Selection {
    /// The arguments after `pressure run`.
    pub fn args(&self) -> Vec<String> {
        let mut args = vec![self.experiment.clone()];
        for (flag, values) in [("--set", &self.set), ("--sweep", &self.sweep), ("--arm", &self.arm)] {
            for v in values {
                args.extend([flag.to_string(), v.clone()]);
            }
        }
        if let Some(n) = self.seeds {
            args.extend(["--seeds".to_string(), n.to_string()]);
        }
        args.extend(["--backend".to_string(), self.backend.clone()]);
        args
    }
}

/// One submission: the array's job id (none when only the merge was sent), its tasks, and the
/// merge's job id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Submission {
    pub array: Option<String>,
    pub tasks: Vec<usize>,
    pub merge: String,
    pub at: String,
}

/// A Slurm job of an experiment (`job.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Job {
    /// The version of `pressure` that wrote it.
    pub version: String,
    pub name: String,
    pub selection: Selection,
    /// The run list's ids in order: a job folder holds one run list.
    pub run_ids: Vec<String>,
    pub resources: Resources,
    /// The merged folder (absolute).
    pub out: PathBuf,
    /// The `pressure` binary the tasks run (absolute).
    pub binary: PathBuf,
    /// Whether the merge job also runs the sweep's refinement rounds.
    pub refine: bool,
    pub submissions: Vec<Submission>,
}

/// The job folder of a merged folder: `<out>.slurm` beside it.
pub fn job_folder(out: &Path) -> PathBuf {
    let mut name = out.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".slurm");
    out.with_file_name(name)
}

fn command(words: &[String]) -> String {
    crate::records::command_line(words.iter().cloned())
}

/// Why a job folder cannot be named in an sbatch directive, if it cannot: `#SBATCH` lines are
/// not read by a shell, so the path must need no quoting.
pub fn unplain_path(dir: &Path) -> Option<String> {
    let text = dir.display().to_string();
    (shell_word(&text) != text).then(|| {
        format!("{text}: the job folder's path is named in #SBATCH lines, so it may hold only letters, digits and - _ . / = : , @ + %; choose another --out")
    })
}

impl Job {
    /// The shard folder of task `k`.
    pub fn shard_folder(dir: &Path, k: usize) -> PathBuf {
        dir.join("shards").join(k.to_string())
    }

    fn header(&self, dir: &Path, name: &str, log: &str, cpus: usize) -> String {
        let mut lines = vec![
            "#!/bin/bash".to_string(),
            format!("#SBATCH --job-name={name}"),
            format!("#SBATCH --cpus-per-task={cpus}"),
            format!(
                "#SBATCH --output={}",
                shell_word(&dir.join("logs").join(log).display().to_string())
            ),
        ];
        for (directive, value) in &self.resources.directives {
            lines.push(format!("#SBATCH --{directive}={value}"));
        }
        lines.join("\n")
    }

    /// The array script: task K trains shard K of N into `shards/K`.
    pub fn array_script(&self, dir: &Path) -> String {
        let r = &self.resources;
        let name = format!("pressure-{}", self.name);
        let mut array = format!("0-{}", r.tasks - 1);
        if let Some(p) = r.parallel {
            array.push_str(&format!("%{p}"));
        }
        let mut run = vec![self.binary.display().to_string(), "run".into()];
        run.extend(self.selection.args());
        run.extend(["--no-plots".into(), "--jobs".into(), r.cpus_per_task.to_string()]);
        format!(
            "{}\n#SBATCH --array={array}\n\
             # One shard of {} runs a task. Submitting again (`pressure slurm ... --submit`) sends only\n\
             # the shards that are not done, with --array on the command line.\n\
             set -euo pipefail\n\
             exec {} --shard \"${{SLURM_ARRAY_TASK_ID}}/{}\" --out {}/\"${{SLURM_ARRAY_TASK_ID}}\"\n",
            self.header(dir, &name, "task-%A_%a.out", r.cpus_per_task),
            self.run_ids.len(),
            command(&run),
            r.tasks,
            shell_word(&dir.join("shards").display().to_string()),
        )
    }

    /// The merge script: every shard folder there is into the merged folder (runs no shard holds
    /// are listed, and the merge exits 1); for a refined sweep, then its rounds.
    pub fn merge_script(&self, dir: &Path) -> String {
        let name = format!("pressure-{}-merge", self.name);
        let cpus = if self.refine { self.resources.cpus_per_task } else { 1 };
        let binary = shell_word(&self.binary.display().to_string());
        let out = shell_word(&self.out.display().to_string());
        let mut script = format!(
            "{}\nset -euo pipefail\nshopt -s nullglob\nshards=({}/*)\n{binary} merge --out {out} \"${{shards[@]}}\"\n",
            self.header(dir, &name, "merge-%j.out", cpus),
            shell_word(&dir.join("shards").display().to_string()),
        );
        if self.refine {
            let mut run = vec![self.binary.display().to_string(), "run".into()];
            run.extend(self.selection.args());
            run.extend([
                "--jobs".into(),
                cpus.to_string(),
                "--out".into(),
                self.out.display().to_string(),
            ]);
            script.push_str(&format!(
                "# The refinement rounds need the whole grid: they run here, after the merge.\nexec {}\n",
                command(&run)
            ));
        }
        script
    }

    /// Every submission's job ids, newest last.
    pub fn job_ids(&self) -> Vec<String> {
        self.submissions
            .iter()
            .flat_map(|s| s.array.iter().chain([&s.merge]))
            .cloned()
            .collect()
    }
}

/// Where a shard stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ShardState {
    /// Every run completed or diverged.
    Done,
    /// Slurm still holds its task (pending or running).
    Queued,
    /// Its task ended with runs failed or untrained.
    Failed,
    /// Nothing of it is on disk, and it is not queued.
    Missing,
}

impl ShardState {
    pub fn name(self) -> &'static str {
        match self {
            ShardState::Done => "done",
            ShardState::Queued => "queued",
            ShardState::Failed => "failed",
            ShardState::Missing => "missing",
        }
    }
}

/// One shard: its state, and its runs that are not finished with why (`missing`, `failed: …`).
#[derive(Debug, Clone)]
pub struct ShardReport {
    pub index: usize,
    pub state: ShardState,
    pub runs: usize,
    pub unfinished: Vec<(String, String)>,
}

/// Each shard's state, from its folder and from `queued` (the tasks Slurm holds).
pub fn shard_reports(dir: &Path, runs: &[RunSpec], tasks: usize, queued: &BTreeMap<usize, String>) -> Vec<ShardReport> {
    (0..tasks)
        .map(|k| {
            let folder = Job::shard_folder(dir, k);
            let range = Shard { index: k, count: tasks }.range(runs.len());
            let mut unfinished = Vec::new();
            let mut recorded = 0;
            for run in &runs[range.clone()] {
                let why = match trusted_record(&folder, run) {
                    Ok(Some(r)) if matches!(r.status, Status::Completed | Status::Diverged) => {
                        recorded += 1;
                        continue;
                    }
                    Ok(Some(r)) => {
                        recorded += 1;
                        format!("failed: {}", r.message.unwrap_or_default())
                    }
                    Ok(None) => "not trained".to_string(),
                    Err(why) => format!("damaged: {why}"),
                };
                let sweep = run.sweep_label();
                let at = if sweep.is_empty() {
                    String::new()
                } else {
                    format!(", {sweep}")
                };
                unfinished.push((format!("{} ({}{at}, seed {})", run.id, run.arm, run.seed), why));
            }
            let state = if unfinished.is_empty() {
                ShardState::Done
            } else if queued.contains_key(&k) {
                ShardState::Queued
            } else if recorded > 0 || folder.exists() {
                ShardState::Failed
            } else {
                ShardState::Missing
            };
            ShardReport {
                index: k,
                state,
                runs: range.len(),
                unfinished,
            }
        })
        .collect()
}

/// Reads `squeue` lines `JOBID_TASK STATE` (`-h -r -o "%i %T"`) into the array tasks of
/// `array` that Slurm still holds, with their state.
pub fn queued_tasks(squeue: &str, array: &str) -> BTreeMap<usize, String> {
    squeue
        .lines()
        .filter_map(|line| {
            let (id, state) = line.trim().split_once(' ')?;
            let (job, task) = id.split_once('_')?;
            (job == array).then_some(())?;
            Some((task.parse().ok()?, state.trim().to_string()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job() -> Job {
        Job {
            version: "0".into(),
            name: "sweep".into(),
            selection: Selection {
                experiment: "/home/a b/exp.toml".into(),
                set: vec!["pressure.steps=20".into()],
                sweep: Vec::new(),
                seeds: Some(2),
                arm: vec!["it's".into()],
                backend: "flex".into(),
            },
            run_ids: vec!["a".into(); 8],
            resources: Resources {
                tasks: 4,
                parallel: Some(2),
                cpus_per_task: 2,
                directives: vec![("partition".into(), "short".into())],
            },
            out: "/w/runs/sweep".into(),
            binary: "/w/pressure".into(),
            refine: false,
            submissions: Vec::new(),
        }
    }

    #[test]
    fn the_array_runs_one_shard_a_task_with_every_word_quoted() {
        assert!(unplain_path(Path::new("/home/a b/runs/x.slurm")).is_some());
        assert!(unplain_path(Path::new("/w/runs/sweep.slurm")).is_none());
        let script = job().array_script(Path::new("/w/runs/sweep.slurm"));
        assert!(script.contains("#SBATCH --array=0-3%2\n"), "{script}");
        assert!(script.contains("#SBATCH --cpus-per-task=2\n"));
        assert!(script.contains("#SBATCH --partition=short\n"));
        assert!(script.contains(
            "exec /w/pressure run '/home/a b/exp.toml' --set pressure.steps=20 --arm 'it'\\''s' --seeds 2 --backend flex --no-plots --jobs 2 --shard \"${SLURM_ARRAY_TASK_ID}/4\" --out /w/runs/sweep.slurm/shards/\"${SLURM_ARRAY_TASK_ID}\"\n"
        ), "{script}");
        let merge = job().merge_script(Path::new("/w/runs/sweep.slurm"));
        assert!(
            merge.contains("/w/pressure merge --out /w/runs/sweep \"${shards[@]}\""),
            "{merge}"
        );
        assert!(!merge.contains(" run "), "no rounds without refinement: {merge}");
    }

    #[test]
    fn settings_that_would_break_the_script_are_refused_naming_the_flag() {
        let mut r = job().resources;
        assert!(r.validate(8).is_ok());
        r.directives = vec![("partition".into(), "a\nb".into())];
        assert!(r.validate(8).unwrap_err().starts_with("--partition"));
        r.directives.clear();
        r.tasks = 9;
        assert!(r.validate(8).unwrap_err().starts_with("--tasks 9"));
    }

    #[test]
    fn squeue_lines_give_the_tasks_of_one_array() {
        let q = queued_tasks("12_0 RUNNING\n12_3 PENDING\n13_1 PENDING\n13 PENDING\n", "12");
        assert_eq!(q.keys().copied().collect::<Vec<_>>(), [0, 3]);
        assert_eq!(job_folder(Path::new("runs/sweep")), Path::new("runs/sweep.slurm"));
    }
}
