//! Merging the output folders of a sharded experiment into one: the same experiment in every
//! folder (byte-identical `config.toml`), each run's folder copied over, and `metrics.csv`
//! assembled over the whole run list exactly as an unsharded run assembles it.

use std::path::{Path, PathBuf};

use anyhow::Context;

use super::runner::{not_trained, write_metrics};
use super::runs::{RunSpec, expand};
use super::spec::Experiment;
use crate::records::{self, Fingerprint, FolderLock, Manifest, RunRecord, Status};

/// What a merge found.
#[derive(Debug)]
pub struct Merged {
    pub manifest: Manifest,
    /// Runs of the experiment that no shard folder holds a record of.
    pub missing: Vec<String>,
    /// Runs whose only records are damaged (an unreadable status, or data that does not match
    /// it), with why: not copied, counted as not completed.
    pub damaged: Vec<(String, String)>,
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue; // a temporary file of an interrupted write
        }
        let bytes = std::fs::read(entry.path())?;
        records::write_atomic(&to.join(name), &bytes)?;
    }
    Ok(())
}

/// The distinct values the shards recorded of one field, joined by "; " (the shards may have
/// been trained on different machines, with different commands); none if no shard has one.
fn shared(manifests: &[Manifest], field: impl Fn(&Manifest) -> Option<String>) -> Option<String> {
    let mut values: Vec<String> = Vec::new();
    for v in manifests.iter().filter_map(field) {
        if !values.contains(&v) {
            values.push(v);
        }
    }
    (!values.is_empty()).then(|| values.join("; "))
}

/// Merges shard folders into `out`; refuses folders of different experiments or settings.
pub fn merge(out: &Path, shards: &[PathBuf]) -> anyhow::Result<Merged> {
    let (config, experiment) = check_shards(out, shards)?;
    let runs = expand(&experiment);
    let _lock = FolderLock::acquire(out)?;
    let mut run_records = Vec::with_capacity(runs.len());
    let mut missing = Vec::new();
    let mut damaged = Vec::new();
    for run in &runs {
        // The best record of this run across shards: completed (with data that matches its
        // status) beats anything else; a damaged record is never copied.
        let (found, problems) = best_record(run, shards);
        if found.as_ref().is_none_or(|(_, s)| s.status != Status::Completed) && !problems.is_empty() {
            damaged.push((run.id.clone(), problems.join("; ")));
        }
        match found {
            Some((dir, status)) => {
                let target = records::run_dir(out, &run.id);
                if dir != target {
                    copy_dir(&dir, &target).with_context(|| format!("{}: cannot copy", dir.display()))?;
                }
                run_records.push(status);
            }
            None => {
                let message = match damaged.last() {
                    Some((id, why)) if *id == run.id => format!("its records are damaged: {why}"),
                    _ => {
                        missing.push(run.id.clone());
                        "no shard folder holds this run".into()
                    }
                };
                run_records.push(not_trained(run, message));
            }
        }
    }
    records::write_atomic(&out.join("config.toml"), config.as_bytes())?;
    let metrics_file = write_metrics(out, &experiment, &runs, &run_records)?;
    // What the shards recorded of how they were made (a shard may have none: an older version).
    let shard_manifests: Vec<Manifest> = shards
        .iter()
        .filter_map(|d| records::read_limited(&d.join("manifest.json"), records::MAX_MANIFEST_BYTES).ok())
        .filter_map(|text| serde_json::from_str(&text).ok())
        .collect();
    let manifest = Manifest {
        experiment: experiment.name.clone(),
        description: experiment.description.clone(),
        version: env!("CARGO_PKG_VERSION").to_string(),
        backend: experiment.backend.name().to_string(),
        jobs: 0,
        seeds: experiment.seeds.clone(),
        sweep: experiment.sweep.iter().map(|a| a.key.clone()).collect(),
        shard: None,
        started: run_records
            .iter()
            .map(|r| r.started.clone())
            .filter(|s| !s.is_empty())
            .min()
            .unwrap_or_default(),
        finished: records::now(),
        wall_seconds: run_records.iter().map(|r| r.wall_seconds).sum(),
        peak_memory_mib: None,
        runs: run_records,
        config_file: Some(Fingerprint::of(config.as_bytes())),
        metrics_file: Some(metrics_file),
        commit: shared(&shard_manifests, |m| m.commit.clone()),
        cpu: shared(&shard_manifests, |m| m.cpu.clone()),
        command: shared(&shard_manifests, |m| m.command.clone()),
    };
    records::write_atomic(
        &out.join("manifest.json"),
        &serde_json::to_vec_pretty(&manifest).expect("a manifest serializes"),
    )?;
    Ok(Merged {
        manifest,
        missing,
        damaged,
    })
}

/// The shards' common `config.toml` and its experiment. Refuses no shard, a shard being
/// written, shards of different settings, an output folder holding other settings, and a shard
/// whose records are not its runs' (edited, or copied from another run) — before anything is
/// written.
fn check_shards(out: &Path, shards: &[PathBuf]) -> anyhow::Result<(String, Experiment)> {
    anyhow::ensure!(!shards.is_empty(), "merge: name at least one shard folder");
    // A shard still being written would be merged half-way.
    for d in shards {
        if let Some(pid) = records::writer(d) {
            anyhow::bail!(
                "{}: a pressure process{} is writing to this shard folder; merge when it has finished",
                d.display(),
                records::pid_label(pid)
            );
        }
    }
    let configs: Vec<String> = shards
        .iter()
        .map(|d| {
            records::read_limited(&d.join("config.toml"), super::spec::MAX_FILE_BYTES)
                .with_context(|| format!("{}: not a run folder (no config.toml)", d.display()))
        })
        .collect::<anyhow::Result<_>>()?;
    for (dir, text) in shards.iter().zip(&configs).skip(1) {
        anyhow::ensure!(
            *text == configs[0],
            "{}: its config.toml differs from {}'s: these folders hold different experiments or settings",
            dir.display(),
            shards[0].display()
        );
    }
    let experiment = Experiment::parse(&configs[0], &shards[0].join("config.toml"), &[])?;
    let runs = expand(&experiment);
    if let Ok(existing) = records::read_limited(&out.join("config.toml"), super::spec::MAX_FILE_BYTES) {
        anyhow::ensure!(
            existing == configs[0],
            "{}: already holds another experiment or other settings; merge into an empty folder",
            out.display()
        );
    }

    // A record that is not its run's (edited, or copied from another run) makes its shard
    // untrustworthy: refuse it before anything is written.
    for d in shards {
        for run in &runs {
            if let Ok(Some(s)) = records::status_of(&records::run_dir(d, &run.id))
                && let Some(why) = run.identity_mismatch(&s)
            {
                anyhow::bail!(
                    "{}: run {}: {why}; this shard folder cannot be merged: train it again with `pressure run --shard`",
                    d.display(),
                    run.id
                );
            }
        }
    }

    Ok((configs[0].clone(), experiment))
}

/// The best record of a run across the shards: completed (with data that matches its status)
/// beats anything else; a damaged record is never taken. Also what was wrong with the others.
fn best_record(run: &RunSpec, shards: &[PathBuf]) -> (Option<(PathBuf, RunRecord)>, Vec<String>) {
    let mut problems = Vec::new();
    let found = shards
        .iter()
        .filter_map(|d| {
            let dir = records::run_dir(d, &run.id);
            match records::status_of(&dir) {
                Ok(Some(s)) if s.status == Status::Completed => match records::completed_data_mismatch(&dir, &s) {
                    Some(why) => {
                        problems.push(format!("{}: {why}", dir.display()));
                        None
                    }
                    None => Some((dir, run.adopt(s))),
                },
                Ok(status) => status.map(|s| (dir, run.adopt(s))),
                Err(why) => {
                    problems.push(why);
                    None
                }
            }
        })
        .max_by_key(|(_, s)| s.status == Status::Completed);
    (found, problems)
}
