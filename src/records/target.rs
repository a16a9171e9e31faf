//! Where a command may write. Outputs never land on inputs: a file a command names (`report
//! --out`, `bench --json`) or a folder it fills (`run --out`, `merge --out`, `--plots`) is
//! refused when it is a device or another non-regular file, lies under `/dev`, or lies inside a
//! run folder that is not its own output, so no command replaces a run's data, configuration,
//! manifest, status or lock. Each check runs before any work and says what it refused in one line.

use std::path::{Component, Path, PathBuf};

/// `path` made absolute, one component at a time: `.` dropped, `..` stepping back, and every
/// link of a part that exists followed, so that two spellings of one place compare equal, also
/// through a folder that does not exist yet (`new/../runs/r1` is `runs/r1`).
pub fn resolved(path: &Path) -> PathBuf {
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(path)
    };
    let mut out = PathBuf::new();
    for c in absolute.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => {
                out.push(other);
                if let Ok(real) = std::fs::canonicalize(&out) {
                    out = real;
                }
            }
        }
    }
    out
}

/// Whether `dir` is a run folder: one `run` or `merge` wrote or writes (its manifest, or its
/// lock beside its configuration), or a run's own folder (its status). A file of the same name
/// that is not one of these (a `manifest.json` of another program) does not make one.
pub fn is_run_folder(dir: &Path) -> bool {
    let parses = |name: &str, limit: u64, check: fn(&str) -> bool| {
        let path = dir.join(name);
        path.is_file() && super::read_limited(&path, limit).is_ok_and(|text| check(&text))
    };
    (dir.join(".lock").is_file() && dir.join("config.toml").is_file())
        || parses("manifest.json", super::MAX_MANIFEST_BYTES, |t| {
            serde_json::from_str::<super::Manifest>(t).is_ok()
        })
        || parses("status.json", super::MAX_STATUS_BYTES, |t| {
            serde_json::from_str::<super::RunRecord>(t).is_ok()
        })
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
    // A folder may be reached through a link (runs/ on a bigger disk); a file may not be one,
    // for a link could point at any run's data.
    let meta = if folder {
        std::fs::metadata(path)
    } else {
        std::fs::symlink_metadata(path)
    };
    match meta {
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
        // Through a folder that does not exist yet, `..` still lands inside the run folder.
        let sneaky = dir.path().join("new/../r1/metrics.csv");
        assert!(
            output_file(&sneaky, "--out", html)
                .unwrap_err()
                .contains("inside the run folder")
        );
        assert!(output_folder(&dir.path().join("new/../r1/x"), "--out", &[]).is_err());

        // Files of the same names that no run wrote make no run folder: a project folder that
        // keeps its experiment as config.toml beside runs/, or another program's manifest.json.
        let project = dir.path().join("project");
        std::fs::create_dir_all(project.join("runs")).unwrap();
        std::fs::write(project.join("config.toml"), "seeds = 1\n").unwrap();
        std::fs::write(project.join("manifest.json"), "{}").unwrap();
        assert_eq!(output_folder(&project.join("runs/pressure"), "--out", &[]), Ok(()));
        // An output folder reached through a link is a folder.
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(&project, dir.path().join("link")).unwrap();
            assert_eq!(output_folder(&dir.path().join("link"), "--out", &[]), Ok(()));
        }
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
