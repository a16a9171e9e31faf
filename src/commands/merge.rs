//! `pressure merge`: combines the folders of a sharded run (`run --shard K/N`) into one.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::{FigureArgs, draw_after};
use crate::records::Status;

/// `pressure merge`: combines shard folders into one, then draws its figures.
pub fn merge(out: &Path, shards: &[PathBuf], figures: &FigureArgs, strict: bool) -> anyhow::Result<ExitCode> {
    figures.check()?;
    let inputs: Vec<&Path> = shards.iter().map(PathBuf::as_path).collect();
    crate::records::target::output_folder(out, "--out", &inputs).map_err(anyhow::Error::msg)?;
    figures.check_folder(out)?;
    let merged = crate::experiment::merge::merge(out, shards)?;
    let m = &merged.manifest;
    let completed = m.runs.iter().filter(|r| r.status == Status::Completed).count();
    crate::note!(
        "{}: merged {} folders: {completed} of {} runs completed; data in {}",
        m.experiment,
        shards.len(),
        m.runs.len(),
        out.display()
    );
    if !merged.missing.is_empty() {
        crate::note!(
            "  {} runs are in no shard folder: {}",
            merged.missing.len(),
            merged.missing.join(", ")
        );
    }
    for (id, why) in &merged.damaged {
        crate::note!("  run {id} is not merged: its records are damaged: {why}");
    }
    let drawn = match figures.folder_for(out, &m.experiment) {
        Some(_) if !merged.missing.is_empty() => {
            crate::note!("figures: not drawn while runs are missing; merge again with every shard folder");
            true
        }
        Some(plots) => draw_after(out, &plots, &figures.metric, &figures.sheet()),
        None => true,
    };
    let claimed = if merged.missing.is_empty() {
        super::claims::report(out, false, Some(&out.join("claims.json")))?
    } else {
        crate::note!("claims: not checked while runs are missing");
        true
    };
    Ok(if completed == m.runs.len() && drawn && (claimed || !strict) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
