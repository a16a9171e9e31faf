//! One writer per output folder. `run` and `merge` hold an exclusive OS lock on the folder itself
//! for as long as they write; the lock dies with the process, so `kill -9` never leaves a stale
//! one, and removing a file cannot release it (a lock on `<out>/.lock` alone was released for a
//! second writer by deleting that file). `<out>/.lock` holds the writer's pid, so a second writer
//! and a reader of a half-written folder can name it.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

/// The lock file of an output folder.
pub fn lock_path(dir: &Path) -> PathBuf {
    dir.join(".lock")
}

/// A folder held for writing; released when dropped (or when the process ends).
#[derive(Debug)]
pub struct FolderLock {
    _folder: File,
    _file: File,
}

/// Another process writes to the folder.
#[derive(Debug, thiserror::Error)]
#[error(
    "{dir}: another pressure process{pid} is writing to this folder; wait for it to finish or choose another folder"
)]
pub struct Busy {
    pub dir: String,
    pub pid: String,
}

impl FolderLock {
    /// Takes the folder (creating it), or fails at once naming the process that holds it.
    pub fn acquire(dir: &Path) -> anyhow::Result<FolderLock> {
        std::fs::create_dir_all(dir)
            .map_err(|e| anyhow::anyhow!("{}: cannot create the output folder: {e}", dir.display()))?;
        // The folder's own lock decides (a folder opens for reading on the systems this runs
        // on; where one does not, the command stops here rather than lock less).
        let folder =
            File::open(dir).map_err(|e| anyhow::anyhow!("{}: cannot open the output folder: {e}", dir.display()))?;
        let path = lock_path(dir);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| anyhow::anyhow!("{}: cannot open the lock file: {e}", path.display()))?;
        match folder.try_lock().and_then(|()| file.try_lock()) {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(Busy {
                    dir: dir.display().to_string(),
                    pid: pid_label(read_pid(&mut file)),
                }
                .into());
            }
            Err(TryLockError::Error(e)) => anyhow::bail!("{}: cannot lock: {e}", path.display()),
        }
        let pid = std::process::id().to_string();
        let written = file
            .set_len(0)
            .and_then(|()| file.rewind())
            .and_then(|()| file.write_all(pid.as_bytes()))
            .and_then(|()| file.flush());
        written.map_err(|e| anyhow::anyhow!("{}: cannot write the lock file: {e}", path.display()))?;
        Ok(FolderLock {
            _folder: folder,
            _file: file,
        })
    }
}

/// The pid of the process that writes to `dir` now, if one does (its lock is held).
pub fn writer(dir: &Path) -> Option<Option<u32>> {
    let folder = File::open(dir).ok()?;
    match folder.try_lock_shared() {
        Ok(()) => None, // released with the file
        Err(_) => Some(File::open(lock_path(dir)).ok().and_then(|mut f| read_pid(&mut f))),
    }
}

/// ` (pid N)`, or nothing when the holder has not written its pid yet.
pub fn pid_label(pid: Option<u32>) -> String {
    pid.map(|p| format!(" (pid {p})")).unwrap_or_default()
}

fn read_pid(file: &mut File) -> Option<u32> {
    let mut text = String::new();
    file.rewind().ok()?;
    file.take(32).read_to_string(&mut text).ok()?;
    text.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_writer_is_refused_and_named() {
        let dir = tempfile::tempdir().unwrap();
        let held = FolderLock::acquire(dir.path()).unwrap();
        // A second open file description conflicts even within one process.
        let err = FolderLock::acquire(dir.path()).unwrap_err();
        let text = err.to_string();
        assert!(text.contains(&format!("pid {}", std::process::id())), "{text}");
        assert!(err.is::<Busy>());
        assert_eq!(writer(dir.path()), Some(Some(std::process::id())));
        // Removing the pid file releases nothing: the folder itself is locked.
        std::fs::remove_file(lock_path(dir.path())).unwrap();
        assert!(FolderLock::acquire(dir.path()).unwrap_err().is::<Busy>());
        assert_eq!(writer(dir.path()), Some(None));
        drop(held);
        assert_eq!(writer(dir.path()), None);
        FolderLock::acquire(dir.path()).unwrap();
    }
}
