//! `pressure runs [DIR]`: the experiment folders under DIR (default `runs/`), each with its
//! experiment, how many of its runs are completed, whether it is being written or is damaged,
//! its size and when it last changed.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::SystemTime;

use super::format::{Align, TextTable};
use super::print_out;
use crate::experiment::Shard;
use crate::experiment::folder;
use crate::experiment::runner::run_list;
use crate::records::{self, Status};

/// How deep below DIR experiment folders are looked for (a robustness check's are one down, a
/// Slurm job's shards two).
const DEPTH: usize = 4;

/// The experiment folders under `dir`, in path order: folders with a `config.toml` that a run
/// or a merge wrote (a manifest, or the lock of one writing). Their `runs/` are not entered.
fn experiment_folders(dir: &Path, depth: usize, found: &mut Vec<PathBuf>) {
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
        experiment_folders(&child, depth - 1, found);
    }
}

/// Bytes under `dir` and the latest modification time of anything in it.
fn size_and_change(dir: &Path) -> (u64, Option<SystemTime>) {
    let (mut bytes, mut latest) = (0u64, None::<SystemTime>);
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for e in entries.filter_map(Result::ok) {
            let Ok(meta) = e.metadata() else { continue };
            if meta.is_dir() {
                stack.push(e.path());
            } else {
                bytes += meta.len();
            }
            if let Ok(t) = meta.modified() {
                latest = Some(latest.map_or(t, |l: SystemTime| l.max(t)));
            }
        }
    }
    (bytes, latest)
}

fn human_bytes(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 30 => format!("{:.1} GiB", b as f64 / f64::from(1u32 << 30)),
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / f64::from(1u32 << 20)),
        b => format!("{:.0} KiB", (b as f64 / 1024.0).ceil()),
    }
}

/// `YYYY-MM-DD HH:MM` (UTC).
fn utc_minute(t: SystemTime) -> String {
    let secs = t.duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs()) as i64;
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}",
        rest / 3600,
        rest % 3600 / 60
    )
}

/// One folder's row: experiment, completed/total, state.
fn describe(dir: &Path) -> (String, String, String) {
    let writing = records::writer(dir).map(|pid| format!("being written{}", records::pid_label(pid)));
    let experiment = match folder::experiment(dir) {
        Ok(e) => e,
        Err(e) => {
            let why = super::one_line(&e);
            return ("?".into(), "?".into(), writing.unwrap_or(format!("unreadable: {why}")));
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
    let runs = format!("{done}/{}", list.len());
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
    (experiment.name, runs, state)
}

/// `pressure runs [DIR]`.
pub fn runs(dir: &Path) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        dir.is_dir(),
        "{}: {}; `pressure runs` lists the experiment folders under a folder (default runs/)",
        dir.display(),
        if dir.exists() { "not a folder" } else { "no such folder" }
    );
    let mut found = Vec::new();
    experiment_folders(dir, DEPTH, &mut found);
    if found.is_empty() {
        print_out(&format!(
            "{}: no experiment folders (a `pressure run` writes one)\n",
            dir.display()
        ))?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut table = TextTable {
        notes: Vec::new(),
        columns: vec![
            ("folder".to_string(), Align::Left),
            ("experiment".to_string(), Align::Left),
            ("runs completed".to_string(), Align::Right),
            ("state".to_string(), Align::Left),
            ("size".to_string(), Align::Right),
            ("last change (UTC)".to_string(), Align::Left),
        ],
        rows: Vec::new(),
    };
    for f in &found {
        let (experiment, runs, state) = describe(f);
        let (bytes, changed) = size_and_change(f);
        table.rows.push(vec![
            f.display().to_string(),
            experiment,
            runs,
            state,
            human_bytes(bytes),
            changed.map_or("—".into(), utc_minute),
        ]);
    }
    print_out(&table.render(super::format::Format::Markdown))?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_sizes_read_as_people_write_them() {
        let t = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_796_402_400);
        assert_eq!(utc_minute(t), "2026-12-04 16:40");
        assert_eq!(utc_minute(SystemTime::UNIX_EPOCH), "1970-01-01 00:00");
        assert_eq!(human_bytes(1), "1 KiB");
        assert_eq!(human_bytes(3 << 20), "3.0 MiB");
    }
}
