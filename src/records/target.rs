//! Where a command may write. Outputs never land on inputs: a file a command names (`report
//! --out`, `bench --json`) or a folder it fills (`run --out`, `merge --out`, `--plots`) is
//! refused when it is a device or another non-regular file, lies under `/dev`, or lies inside a
//! run folder that is not its own output, so no command replaces a run's data, configuration,
//! manifest, status or lock. Each check runs before any work and says what it refused in one line.

use std::path::{Component, Path, PathBuf};

/// `path` made absolute, with `.` and `..` resolved and every link of its longest existing
/// prefix followed, so that two spellings of one place compare equal.
pub fn resolved(path: &Path) -> PathBuf {
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(path)
    };
    let mut existing = absolute.clone();
    let mut rest: Vec<std::ffi::OsString> = Vec::new();
    while std::fs::canonicalize(&existing).is_err() {
        match (existing.file_name(), existing.parent()) {
            (Some(name), Some(parent)) => {
                rest.push(name.to_os_string());
                existing = parent.to_path_buf();
            }
            _ => break,
        }
    }
    let mut out = std::fs::canonicalize(&existing).unwrap_or(existing);
    for name in rest.into_iter().rev() {
        match Path::new(&name).components().next() {
            Some(Component::ParentDir) => {
                out.pop();
            }
            Some(Component::CurDir) | None => {}
            _ => out.push(name),
        }
    }
    out
}

/// Whether `dir` is a run folder: written by `run` or `merge` (a manifest, or a lock while one
/// writes), or holding a run's records.
pub fn is_run_folder(dir: &Path) -> bool {
    dir.join("manifest.json").is_file()
        || dir.join(".lock").is_file()
        || dir.join("status.json").is_file()
        || (dir.join("config.toml").is_file() && dir.join("runs").is_dir())
}

/// The run folder that holds `path` (not `path` itself), if one does.
pub fn enclosing_run_folder(path: &Path) -> Option<PathBuf> {
    resolved(path)
        .ancestors()
        .skip(1)
        .find(|d| is_run_folder(d))
        .map(Path::to_path_buf)
}

/// Refuses a device, anything under `/dev`, and an existing path that is not of the `kind`
/// expected (`file` or `folder`).
fn check_kind(path: &Path, flag: &str, folder: bool) -> Result<(), String> {
    let shown = path.display();
    if resolved(path).starts_with("/dev") {
        return Err(format!(
            "{flag} {shown}: is under /dev; name a file in a folder of yours"
        ));
    }
    match std::fs::symlink_metadata(path) {
        Ok(m) if folder && !m.is_dir() => Err(format!("{flag} {shown}: exists and is not a folder")),
        Ok(m) if !folder && !m.is_file() => Err(format!(
            "{flag} {shown}: exists and is not a regular file (a folder, link or device); name a new or regular file"
        )),
        _ => Ok(()),
    }
}

/// Checks a file a command writes on its own (`report --out`, `bench --json`): a new or regular
/// file, outside `/dev`, and inside a run folder only where `own` says the command's output goes
/// (its name at the folder's top, such as `report.html`).
pub fn output_file(path: &Path, flag: &str, own: impl Fn(&Path, &str) -> bool) -> Result<(), String> {
    check_kind(path, flag, false)?;
    if let Some(folder) = enclosing_run_folder(path) {
        let target = resolved(path);
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if target.parent() != Some(folder.as_path()) || !own(&folder, &name) {
            return Err(format!(
                "{flag} {}: lies inside the run folder {} and would replace or add to its records; write it elsewhere",
                path.display(),
                folder.display()
            ));
        }
    }
    Ok(())
}

/// Checks a folder a command fills (`run --out`, `merge --out`, `robustness --out`, `--plots`):
/// not a device, not under `/dev`, not inside another run folder, and not inside (or equal to)
/// any of `inputs`, the folders the command reads.
pub fn output_folder(path: &Path, flag: &str, inputs: &[&Path]) -> Result<(), String> {
    check_kind(path, flag, true)?;
    let target = resolved(path);
    for input in inputs {
        let input = resolved(input);
        if target.starts_with(&input) {
            return Err(format!(
                "{flag} {}: lies inside {}, which this command reads; write it elsewhere",
                path.display(),
                input.display()
            ));
        }
    }
    if let Some(folder) = enclosing_run_folder(path) {
        return Err(format!(
            "{flag} {}: lies inside the run folder {}; write it elsewhere",
            path.display(),
            folder.display()
        ));
    }
    Ok(())
}

/// Checks a folder figures go to (`--plots`): as [`output_folder`], except that the figures of
/// the run folder `data` may go into its own `plots/`.
pub fn figures_folder(path: &Path, flag: &str, data: &Path) -> Result<(), String> {
    if resolved(path).starts_with(resolved(data).join("plots")) {
        return check_kind(path, flag, true);
    }
    output_folder(path, flag, &[data])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outputs_never_land_on_a_run_folder_s_records_or_a_device() {
        let dir = tempfile::tempdir().unwrap();
        let run = dir.path().join("r1");
        std::fs::create_dir_all(run.join("runs/abc")).unwrap();
        for f in [
            "config.toml",
            "manifest.json",
            "metrics.csv",
            ".lock",
            "runs/abc/status.json",
        ] {
            std::fs::write(run.join(f), "x").unwrap();
        }
        let html = |_: &Path, name: &str| name.ends_with(".html");
        for f in [
            "metrics.csv",
            "config.toml",
            "manifest.json",
            ".lock",
            "runs/abc/status.json",
            "runs/x.html",
        ] {
            let err = output_file(&run.join(f), "--out", html).unwrap_err();
            assert!(
                err.contains("inside the run folder") || err.contains("not a regular"),
                "{f}: {err}"
            );
        }
        assert_eq!(output_file(&run.join("report.html"), "--out", html), Ok(()));
        assert_eq!(output_file(&dir.path().join("elsewhere.html"), "--out", html), Ok(()));
        assert!(
            output_file(Path::new("/dev/full"), "--out", html)
                .unwrap_err()
                .contains("under /dev")
        );
        assert!(
            output_file(&run, "--out", html)
                .unwrap_err()
                .contains("not a regular file")
        );

        assert!(
            output_folder(&run.join("runs/abc/x"), "--out", &[])
                .unwrap_err()
                .contains("inside the run folder")
        );
        assert!(
            output_folder(&run.join("m"), "--out", &[&run])
                .unwrap_err()
                .contains("which this command reads")
        );
        assert!(output_folder(&dir.path().join("r1/./../r1/m"), "--out", &[&run]).is_err());
        assert_eq!(output_folder(&dir.path().join("m"), "--out", &[&run]), Ok(()));
        assert!(
            output_folder(&run.join("metrics.csv"), "--out", &[])
                .unwrap_err()
                .contains("not a folder")
        );
    }
}
