//! Files on disk, safely: every write goes to a temporary name and is renamed into place (so
//! an interrupted write never leaves a truncated file that looks complete), a full disk is said
//! as such, and every read of a file the program did not just write is bounded.

use std::io::Write;
use std::path::Path;

/// Writes `bytes` to `path` through a temporary file in the same folder and a rename. On any
/// error the temporary file is removed; a full disk is reported as such, with the path and the
/// bytes needed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let written = std::fs::create_dir_all(dir).and_then(|()| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    });
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written.map_err(|e| disk_full(e, path, bytes.len()))
}

/// Reads a text file of at most `limit` bytes; a larger one (or a device such as `/dev/zero`) is
/// an error, not an allocation without end.
pub fn read_limited(path: &Path, limit: u64) -> std::io::Result<String> {
    use std::io::Read;
    let mut text = String::new();
    std::fs::File::open(path)?.take(limit + 1).read_to_string(&mut text)?;
    if text.len() as u64 > limit {
        return Err(std::io::Error::other(format!("larger than the limit of {limit} bytes")));
    }
    Ok(text)
}

/// The largest `status.json` read: a run's record with its configuration is a few kB.
pub const MAX_STATUS_BYTES: u64 = 1 << 20;

/// The largest `manifest.json` read: every run's record, for run lists far beyond any here.
pub const MAX_MANIFEST_BYTES: u64 = 1 << 30;

/// A full disk (or quota), said as such: the path and how much was needed.
pub fn disk_full(e: std::io::Error, path: &Path, bytes: usize) -> std::io::Error {
    use std::io::ErrorKind::{QuotaExceeded, StorageFull};
    match e.kind() {
        StorageFull | QuotaExceeded => std::io::Error::new(
            e.kind(),
            format!(
                "{}: the disk is full: writing it needs {bytes} bytes ({e})",
                path.display()
            ),
        ),
        _ => e,
    }
}

/// Whether an error was caused by a full disk (the command then exits with [`DISK_FULL_EXIT`]).
pub fn is_disk_full(e: &anyhow::Error) -> bool {
    use std::io::ErrorKind::{QuotaExceeded, StorageFull};
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| matches!(io.kind(), StorageFull | QuotaExceeded))
    })
}

/// The exit code of a command stopped by a full disk.
pub const DISK_FULL_EXIT: u8 = 3;
