//! `pressure slurm`: an experiment as a Slurm array of shards and a dependent merge, written
//! and (with `--submit`) submitted; submitted again, only the shards that are not done. And
//! `pressure status`: where each shard of such a job stands.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::Context;

use super::print_out;
use super::run::{ExperimentArgs, selected};
use crate::experiment::slurm::{Job, Resources, Selection, ShardState, job_folder, queued_tasks, shard_reports};
use crate::experiment::{Experiment, RunSpec, expand};
use crate::records::{self, Status, write_atomic};
use crate::run::Backend;

/// Options of `pressure slurm`.
#[derive(clap::Args, Debug)]
pub struct SlurmArgs {
    #[command(flatten)]
    pub what: ExperimentArgs,
    /// Array tasks: the run list is cut into this many contiguous shards, one a task.
    #[arg(long, value_name = "N", default_value_t = 4)]
    pub tasks: usize,
    /// At most this many tasks at once (sbatch `--array=...%P`; default: as many as Slurm gives).
    #[arg(long, value_name = "P")]
    pub parallel: Option<usize>,
    /// CPUs of each task (sbatch `--cpus-per-task`), each task's `pressure run --jobs`.
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub cpus_per_task: usize,
    /// sbatch `--partition`.
    #[arg(long)]
    pub partition: Option<String>,
    /// sbatch `--time` of each task, e.g. 00:30:00.
    #[arg(long)]
    pub time: Option<String>,
    /// sbatch `--account`.
    #[arg(long)]
    pub account: Option<String>,
    /// sbatch `--mem` of each task, e.g. 2G.
    #[arg(long)]
    pub mem: Option<String>,
    /// The merged folder (default: runs/<experiment>/); the job's files go to <DIR>.slurm/.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Submit through `sbatch` (default: write the scripts and print how to submit them).
    #[arg(long)]
    pub submit: bool,
}

/// The experiment a job's tasks train, and its run list (a refined sweep's grid: its rounds
/// run in the merge job).
fn job_runs(selection: &Selection, backend: Option<Backend>) -> anyhow::Result<(Experiment, Vec<RunSpec>)> {
    let mut e = selected(&ExperimentArgs {
        experiment: selection.experiment.clone(),
        set: selection.set.clone(),
        sweep: selection.sweep.clone(),
        seeds: selection.seeds,
        arm: selection.arm.clone(),
        backend,
    })?;
    e.refined.clear();
    let runs = expand(&e);
    Ok((e, runs))
}

fn read_job(dir: &Path) -> anyhow::Result<Job> {
    let path = dir.join("job.json");
    let text = records::read_limited(&path, records::MAX_STATUS_BYTES)
        .with_context(|| format!("{}: cannot read", path.display()))?;
    serde_json::from_str(&text)
        .map_err(|e| anyhow::anyhow!("{}: not a job written by `pressure slurm` ({e})", path.display()))
}

fn write_job(dir: &Path, job: &Job) -> anyhow::Result<()> {
    let path = dir.join("job.json");
    write_atomic(&path, &serde_json::to_vec_pretty(job)?).with_context(|| format!("{}: cannot write", path.display()))
}

/// Runs a Slurm command; its standard output, or one line saying why it failed.
fn slurm_command(program: &str, args: &[&str]) -> anyhow::Result<String> {
    let out = Command::new(program).args(args).output().map_err(|e| {
        anyhow::anyhow!("{program}: cannot run it ({e}); is this a Slurm login node? Without --submit the scripts are written for you to submit")
    })?;
    anyhow::ensure!(
        out.status.success(),
        "{program} {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr).trim()
    );
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Submits a script with `args` before it; returns the job id (`sbatch --parsable`).
fn sbatch(args: &[&str], script: &Path) -> anyhow::Result<String> {
    let script = script.display().to_string();
    let mut all = vec!["--parsable"];
    all.extend_from_slice(args);
    all.push(&script);
    let out = slurm_command("sbatch", &all)?;
    Ok(out.trim().split(';').next().unwrap_or_default().to_string())
}

/// The tasks of a job's latest array that Slurm still holds, and whether any of its jobs is
/// still queued; nothing when `squeue` cannot be asked.
fn queue(job: &Job) -> (std::collections::BTreeMap<usize, String>, Vec<String>) {
    let ids = job.job_ids();
    if ids.is_empty() {
        return Default::default();
    }
    let joined = ids.join(",");
    let Ok(listed) = slurm_command("squeue", &["-h", "-r", "-j", &joined, "-o", "%i %T"]) else {
        return Default::default();
    };
    let tasks = job
        .submissions
        .last()
        .and_then(|s| s.array.as_deref())
        .map(|array| queued_tasks(&listed, array))
        .unwrap_or_default();
    let jobs = listed
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect();
    (tasks, jobs)
}

/// Whether the merged folder holds every run of the job, finished.
fn merged(job: &Job) -> Option<usize> {
    let manifest = records::verify_folder(&job.out).ok()?;
    Some(
        manifest
            .runs
            .iter()
            .filter(|r| matches!(r.status, Status::Completed | Status::Diverged) && job.run_ids.contains(&r.id))
            .count(),
    )
}

/// `0-3,5`: the tasks as sbatch's `--array` takes them.
fn task_list(tasks: &[usize]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < tasks.len() {
        let start = tasks[i];
        while i + 1 < tasks.len() && tasks[i + 1] == tasks[i] + 1 {
            i += 1;
        }
        parts.push(if tasks[i] == start {
            start.to_string()
        } else {
            format!("{start}-{}", tasks[i])
        });
        i += 1;
    }
    parts.join(",")
}

/// `pressure slurm`: writes the job folder (the array and merge scripts, `job.json`), and with
/// `--submit` hands them to Slurm.
pub fn slurm(args: SlurmArgs) -> anyhow::Result<ExitCode> {
    let (mut job, runs, dir) = job(&args)?;
    if args.submit {
        let (_, queued) = queue(&job);
        anyhow::ensure!(
            queued.is_empty(),
            "{}: Slurm still holds job {} of this experiment; wait for it (`pressure status {}`) or cancel it with scancel",
            dir.display(),
            queued.join(", "),
            dir.display()
        );
    }
    let (array, merge) = write_scripts(&dir, &job)?;
    if !args.submit {
        print_out(&format!(
            "submit with --submit, or by hand:\n  array=$(sbatch --parsable {})\n  sbatch --dependency=afterany:$array {}\n",
            records::shell_word(&array.display().to_string()),
            records::shell_word(&merge.display().to_string())
        ))?;
        return Ok(ExitCode::SUCCESS);
    }
    submit(&mut job, &runs, &dir, &array, &merge)
}

/// The job the arguments describe, with the submissions of the same job already in its
/// folder; its runs and its folder. Refuses a folder that holds another run list or another cut.
fn job(args: &SlurmArgs) -> anyhow::Result<(Job, Vec<RunSpec>, PathBuf)> {
    let mut selection = Selection {
        experiment: match Path::new(&args.what.experiment) {
            p if p.is_file() => std::path::absolute(p)?.display().to_string(),
            _ => args.what.experiment.clone(),
        },
        set: args.what.set.clone(),
        sweep: args.what.sweep.clone(),
        seeds: args.what.seeds,
        arm: args.what.arm.clone(),
        backend: String::new(),
    };
    let (experiment, runs) = job_runs(&selection, args.what.backend)?;
    selection.backend = experiment.backend.name().to_string();
    let directives: Vec<(String, String)> = [
        ("partition", &args.partition),
        ("time", &args.time),
        ("account", &args.account),
        ("mem", &args.mem),
    ]
    .into_iter()
    .filter_map(|(name, value)| value.as_ref().map(|v| (name.to_string(), v.clone())))
    .collect();
    let resources = Resources {
        tasks: args.tasks,
        parallel: args.parallel,
        cpus_per_task: args.cpus_per_task,
        directives,
    };
    resources.validate(runs.len()).map_err(anyhow::Error::msg)?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| Path::new("runs").join(&experiment.name));
    records::target::output_folder(&out, "--out", &[]).map_err(anyhow::Error::msg)?;
    let out = std::path::absolute(&out)?;
    let dir = job_folder(&out);
    if let Some(why) = crate::experiment::slurm::unplain_path(&dir) {
        anyhow::bail!(why);
    }
    let run_ids: Vec<String> = runs.iter().map(|r| r.id.clone()).collect();
    let mut job = Job {
        version: env!("CARGO_PKG_VERSION").to_string(),
        name: experiment.name.clone(),
        selection,
        run_ids,
        resources,
        out: out.clone(),
        binary: std::env::current_exe().context("cannot find the pressure binary")?,
        refine: experiment.refine.is_some(),
        submissions: Vec::new(),
    };
    if dir.join("job.json").exists() {
        let old = read_job(&dir)?;
        anyhow::ensure!(
            old.run_ids == job.run_ids && old.selection == job.selection,
            "--out {}: {} holds the job of another run list; use another --out, or remove that folder",
            out.display(),
            dir.display()
        );
        anyhow::ensure!(
            old.resources.tasks == job.resources.tasks,
            "--tasks {}: the job in {} is cut into {} shards; keep --tasks {} (or remove that folder to start afresh)",
            job.resources.tasks,
            dir.display(),
            old.resources.tasks,
            old.resources.tasks
        );
        job.submissions = old.submissions;
    }
    Ok((job, runs, dir))
}

/// Writes the array and merge scripts and `job.json`, says what was written, and returns the
/// scripts' paths.
fn write_scripts(dir: &Path, job: &Job) -> anyhow::Result<(PathBuf, PathBuf)> {
    std::fs::create_dir_all(dir.join("logs")).with_context(|| format!("{}: cannot create", dir.display()))?;
    std::fs::create_dir_all(dir.join("shards"))?;
    let array = dir.join("array.sbatch");
    let merge = dir.join("merge.sbatch");
    write_atomic(&array, job.array_script(dir).as_bytes())?;
    write_atomic(&merge, job.merge_script(dir).as_bytes())?;
    write_job(dir, job)?;
    let refine = if job.refine {
        "; the merge job then runs the sweep's refinement rounds"
    } else {
        ""
    };
    print_out(&format!(
        "{}: {} runs in {} tasks of {} CPUs; wrote {}, {} and {}\nthe merged folder will be {}{refine}\n",
        job.name,
        job.run_ids.len(),
        job.resources.tasks,
        job.resources.cpus_per_task,
        array.display(),
        merge.display(),
        dir.join("job.json").display(),
        job.out.display()
    ))?;
    Ok((array, merge))
}

/// Submits the shards not yet done as an array job, and the merge job after it.
fn submit(job: &mut Job, runs: &[RunSpec], dir: &Path, array: &Path, merge: &Path) -> anyhow::Result<ExitCode> {
    let out = job.out.clone();
    let reports = shard_reports(dir, runs, job.resources.tasks, &Default::default());
    let todo: Vec<usize> = reports
        .iter()
        .filter(|r| r.state != ShardState::Done)
        .map(|r| r.index)
        .collect();
    if todo.is_empty() && merged(job) == Some(job.run_ids.len()) && !job.refine {
        print_out(&format!(
            "every shard is done and merged into {}; nothing to submit\n",
            out.display()
        ))?;
        return Ok(ExitCode::SUCCESS);
    }
    let array_id = if todo.is_empty() {
        None
    } else {
        let mut list = task_list(&todo);
        if let Some(p) = job.resources.parallel {
            list.push_str(&format!("%{p}"));
        }
        Some(sbatch(&[&format!("--array={list}")], array)?)
    };
    let dependency = array_id.as_ref().map(|id| format!("--dependency=afterany:{id}"));
    let merge_id = sbatch(&dependency.iter().map(String::as_str).collect::<Vec<_>>(), merge)?;
    job.submissions.push(crate::experiment::slurm::Submission {
        array: array_id.clone(),
        tasks: todo.clone(),
        merge: merge_id.clone(),
        at: records::now(),
    });
    write_job(dir, job)?;
    match &array_id {
        Some(id) => print_out(&format!(
            "submitted array job {id} (tasks {}) and merge job {merge_id} after it; follow with `pressure status {}`\n",
            task_list(&todo),
            dir.display()
        ))?,
        None => print_out(&format!(
            "every shard is done; submitted merge job {merge_id}; follow with `pressure status {}`\n",
            dir.display()
        ))?,
    }
    Ok(ExitCode::SUCCESS)
}

/// `pressure status DIR`: DIR is a job folder, or a merged folder with one beside it.
pub fn status(dir: &Path) -> anyhow::Result<ExitCode> {
    let dir = if dir.join("job.json").is_file() {
        dir.to_path_buf()
    } else if job_folder(dir).join("job.json").is_file() {
        job_folder(dir)
    } else {
        anyhow::bail!(
            "{}: not a Slurm job folder (no job.json there, nor in {}); `pressure slurm` writes one",
            dir.display(),
            job_folder(dir).display()
        );
    };
    let job = read_job(&dir)?;
    let backend = [Backend::Flex, Backend::Ndarray]
        .into_iter()
        .find(|b| b.name() == job.selection.backend);
    let (_, runs) = job_runs(&job.selection, backend)?;
    let ids: Vec<&String> = runs.iter().map(|r| &r.id).collect();
    anyhow::ensure!(
        ids == job.run_ids.iter().collect::<Vec<_>>(),
        "{}: the experiment {} no longer expands to the job's run list (its file or this version changed); submit it afresh with another --out",
        dir.display(),
        job.selection.experiment
    );
    let (tasks, queued) = queue(&job);
    let reports = shard_reports(&dir, &runs, job.resources.tasks, &tasks);
    let mut text = format!(
        "{}: {} runs in {} shards; job folder {}\n| shard | state | runs | not finished |\n|---|---|---|---|\n",
        job.name,
        job.run_ids.len(),
        job.resources.tasks,
        dir.display()
    );
    for r in &reports {
        let state = match (r.state, tasks.get(&r.index)) {
            (ShardState::Queued, Some(s)) => format!("queued ({})", s.to_lowercase()),
            (s, _) => s.name().to_string(),
        };
        text.push_str(&format!(
            "| {} | {state} | {} | {} |\n",
            r.index,
            r.runs,
            r.unfinished.len()
        ));
    }
    for state in [ShardState::Failed, ShardState::Missing] {
        let shards: Vec<_> = reports.iter().filter(|r| r.state == state).collect();
        if shards.is_empty() {
            continue;
        }
        let list: Vec<String> = shards.iter().map(|r| r.index.to_string()).collect();
        text.push_str(&format!("{} shards: {}\n", state.name(), list.join(", ")));
        for r in shards {
            for (run, why) in &r.unfinished {
                text.push_str(&format!("  shard {}: {run}: {why}\n", r.index));
            }
        }
    }
    let done = reports.iter().filter(|r| r.state == ShardState::Done).count();
    match merged(&job) {
        Some(n) => text.push_str(&format!(
            "merged: {} holds {n} of {} runs\n",
            job.out.display(),
            job.run_ids.len()
        )),
        None => text.push_str(&format!("merged: nothing yet in {}\n", job.out.display())),
    }
    if !queued.is_empty() {
        text.push_str(&format!("in the queue: job {}\n", queued.join(", ")));
    } else if done < reports.len() {
        let mut command = job.selection.args();
        command.extend(job.resources.flags());
        command.extend([
            "--out".to_string(),
            job.out.display().to_string(),
            "--submit".to_string(),
        ]);
        text.push_str(&format!(
            "to train what is not done: pressure slurm {}\n",
            records::command_line(command)
        ));
    }
    print_out(&text)?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::task_list;

    #[test]
    fn tasks_are_listed_as_sbatch_ranges() {
        assert_eq!(task_list(&[0, 1, 2, 3]), "0-3");
        assert_eq!(task_list(&[1, 3, 4, 7]), "1,3-4,7");
        assert_eq!(task_list(&[5]), "5");
    }
}
