//! `pressure runs [DIR]`: the experiment folders under DIR (default `runs/`), each with its
//! experiment, how many of its runs are completed, whether it is being written or is damaged,
//! its size and when it last changed.

use std::path::Path;
use std::process::ExitCode;
use std::time::SystemTime;

use super::format::{Align, TextTable};
use super::print_out;
use crate::experiment::inventory::{experiment_folders, standing};

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

/// `pressure runs [DIR]`.
pub fn runs(dir: &Path) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        dir.is_dir(),
        "{}: {}; `pressure runs` lists the experiment folders under a folder (default runs/)",
        dir.display(),
        if dir.exists() { "not a folder" } else { "no such folder" }
    );
    let found = experiment_folders(dir);
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
        let s = standing(f);
        let (bytes, changed) = size_and_change(f);
        table.rows.push(vec![
            f.display().to_string(),
            s.experiment,
            s.runs.map_or("?".into(), |(done, all)| format!("{done}/{all}")),
            s.state,
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
