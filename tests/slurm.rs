//! `pressure slurm` and `pressure status` on a real Slurm: the one-node Slurm of `.ci/slurm up`
//! (CI starts it). Where Slurm is not running these tests say so and pass, except under
//! `CI=true`, where a skipped Slurm test is a failure.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{TINY, assert_one_line_errors, pressure, stderr, stdout, write};

/// A sweep of 12 runs: the tiny experiment at two contradiction rates.
fn sweep() -> String {
    format!("{TINY}\n[sweep]\n\"world.contradiction_rate\" = [0.3, 0.6]\n")
}

/// Whether a Slurm controller answers here; if not, says the test is skipped, or fails it
/// under `CI=true`.
fn slurm_is_up(test: &str) -> bool {
    let up = Command::new("sinfo")
        .args(["-h", "-o", "%T"])
        .output()
        .is_ok_and(|o| o.status.success() && !o.stdout.is_empty());
    if !up {
        assert_ne!(
            std::env::var("CI").as_deref(),
            Ok("true"),
            "{test}: Slurm is not running; start it with `sudo .ci/slurm up` (under CI=true a skipped Slurm test is a failure)"
        );
        eprintln!("skipped {test}: Slurm is not running here (start it with `sudo .ci/slurm up`)");
    }
    up
}

/// The job ids `pressure slurm --submit` printed.
fn submitted(out: &str) -> (String, String) {
    let words: Vec<&str> = out.split_whitespace().collect();
    let after = |w: &str| {
        let at = words
            .iter()
            .position(|x| *x == w)
            .unwrap_or_else(|| panic!("no `{w}` in {out}"));
        words[at + 2].to_string()
    };
    (after("array"), after("merge"))
}

/// Waits until Slurm holds none of `ids`.
fn wait_for(ids: &[&str]) {
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let o = Command::new("squeue")
            .args(["-h", "-j", &ids.join(",")])
            .output()
            .unwrap();
        if o.status.success() && o.stdout.is_empty() {
            return;
        }
        assert!(Instant::now() < deadline, "jobs {ids:?} still queued after 5 minutes");
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// Every run's data and the experiment's `metrics.csv` are the same bytes in both folders.
fn assert_same_data(a: &Path, b: &Path) {
    let read = |p: &Path| std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    assert!(
        read(&a.join("metrics.csv")) == read(&b.join("metrics.csv")),
        "metrics.csv differs"
    );
    for entry in std::fs::read_dir(a.join("runs")).unwrap() {
        let run = entry.unwrap().file_name();
        let file = Path::new("runs").join(&run).join("metrics.csv");
        assert!(
            read(&a.join(&file)) == read(&b.join(&file)),
            "{} differs",
            file.display()
        );
    }
}

#[test]
fn a_sweep_as_a_four_task_array_merges_into_what_a_local_run_writes_byte_for_byte() {
    if !slurm_is_up("a_sweep_as_a_four_task_array") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "sweep.toml", &sweep());
    let o = pressure(
        &[
            "slurm",
            "sweep.toml",
            "--tasks",
            "4",
            "--cpus-per-task",
            "1",
            "--out",
            "merged",
            "--submit",
        ],
        dir.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let (array, merge) = submitted(&stdout(&o));
    wait_for(&[&array, &merge]);

    let status = stdout(&pressure(&["status", "merged"], dir.path()));
    assert_eq!(status.matches("| done |").count(), 4, "{status}");
    assert!(status.contains("holds 12 of 12 runs"), "{status}");
    let local = pressure(&["run", "sweep.toml", "--out", "local", "--no-plots"], dir.path());
    assert!(local.status.success(), "{}", stderr(&local));
    assert_same_data(&dir.path().join("local"), &dir.path().join("merged"));

    // Asked again, nothing is left to submit.
    let again = pressure(
        &["slurm", "sweep.toml", "--tasks", "4", "--out", "merged", "--submit"],
        dir.path(),
    );
    assert!(stdout(&again).contains("nothing to submit"), "{}", stdout(&again));
}

#[test]
fn a_cancelled_task_is_named_by_status_and_submitted_again_alone() {
    if !slurm_is_up("a_cancelled_task") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "sweep.toml", &sweep());
    let args = [
        "slurm",
        "sweep.toml",
        "--tasks",
        "4",
        "--parallel",
        "1",
        "--cpus-per-task",
        "1",
        "--out",
        "merged",
        "--submit",
    ];
    let o = pressure(&args, dir.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let (array, merge) = submitted(&stdout(&o));
    // One task at a time: the last is still pending when it is cancelled.
    let cancel = Command::new("scancel").arg(format!("{array}_3")).output().unwrap();
    assert!(cancel.status.success(), "{}", String::from_utf8_lossy(&cancel.stderr));
    wait_for(&[&array, &merge]);

    let status = stdout(&pressure(&["status", "merged"], dir.path()));
    assert_eq!(status.matches("| done |").count(), 3, "{status}");
    assert!(status.contains("| 3 | missing | 3 | 3 |"), "{status}");
    assert_eq!(
        status.matches("shard 3: ").count(),
        3,
        "its three runs are named: {status}"
    );
    assert!(
        status.contains("holds 9 of 12 runs"),
        "the merge ran after the others: {status}"
    );
    assert!(
        status.contains("--tasks 4 --parallel 1 --cpus-per-task 1 --out ") && status.contains(" --submit"),
        "the command it gives keeps the job's settings: {status}"
    );

    // Submitted again: only shard 3, and the merged folder is whole.
    let o = pressure(&args, dir.path());
    assert!(stdout(&o).contains("(tasks 3)"), "{}", stdout(&o));
    let (array, merge) = submitted(&stdout(&o));
    wait_for(&[&array, &merge]);
    let local = pressure(&["run", "sweep.toml", "--out", "local", "--no-plots"], dir.path());
    assert!(local.status.success(), "{}", stderr(&local));
    assert_same_data(&dir.path().join("local"), &dir.path().join("merged"));
}

#[test]
fn without_submit_the_scripts_are_written_and_bad_flags_get_one_line() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "sweep.toml", &sweep());
    let o = pressure(
        &["slurm", "sweep.toml", "--tasks", "3", "--partition", "short"],
        dir.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let job = dir.path().join("runs").join("tiny.slurm");
    let array = std::fs::read_to_string(job.join("array.sbatch")).unwrap();
    assert!(
        array.contains("#SBATCH --array=0-2\n") && array.contains("#SBATCH --partition=short\n"),
        "{array}"
    );
    assert!(
        stdout(&o).contains("sbatch --dependency=afterany:$array"),
        "{}",
        stdout(&o)
    );

    assert_one_line_errors(
        dir.path(),
        &[
            (
                &["slurm", "sweep.toml", "--tasks", "0"],
                &["--tasks 0", "between 1 and 12"],
            ),
            (&["slurm", "sweep.toml", "--tasks", "13"], &["--tasks 13"]),
            (
                &["slurm", "sweep.toml", "--partition", "a b"],
                &["--partition", "sbatch directive"],
            ),
            (
                &["slurm", "sweep.toml", "--tasks", "4"],
                &["--tasks 4", "keep --tasks 3"],
            ),
            (
                &["slurm", "sweep.toml", "--tasks", "3", "--seeds", "2"],
                &["holds the job of another run list"],
            ),
            (&["status", "sweep.toml"], &["not a Slurm job folder"]),
        ],
    );
}
