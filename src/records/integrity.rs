//! Whether stored data is what its record says. A file's row count and SHA-256 are taken when it
//! is written and checked whenever it is read back, so damaged or half-updated data is detected
//! and never used.

use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// A written file's size in rows (lines after the header) and its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fingerprint {
    pub rows: usize,
    pub sha256: String,
}

impl Fingerprint {
    /// The fingerprint of a file's bytes.
    pub fn of(bytes: &[u8]) -> Fingerprint {
        let lines = bytes.iter().filter(|&&b| b == b'\n').count();
        let digest = Sha256::digest(bytes);
        Fingerprint {
            rows: lines.saturating_sub(1),
            sha256: digest.iter().map(|b| format!("{b:02x}")).collect(),
        }
    }

    /// Why the file at `path` does not match this fingerprint, if it does not.
    pub fn mismatch(&self, path: &Path) -> Option<String> {
        let name = path
            .file_name()
            .map_or(String::new(), |n| n.to_string_lossy().into_owned());
        // A regular file's size bounds the read; a device (`/dev/zero`) put in its place does not.
        match std::fs::metadata(path) {
            Ok(m) if !m.is_file() => return Some(format!("{name} is not a regular file")),
            _ => {}
        }
        match std::fs::read(path) {
            Err(e) => Some(format!("{name} cannot be read ({e})")),
            Ok(bytes) => {
                let actual = Fingerprint::of(&bytes);
                (actual != *self).then(|| {
                    format!(
                        "{name} has {} rows and SHA-256 {}…, but {} rows and {}… were recorded",
                        actual.rows,
                        &actual.sha256[..12],
                        self.rows,
                        &self.sha256[..self.sha256.len().min(12)]
                    )
                })
            }
        }
    }
}

/// Stored data that is damaged, or does not match its record: it is not used, and the command
/// exits with 1.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Damaged(pub String);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_count_the_lines_after_the_header() {
        assert_eq!(Fingerprint::of(b"a,b\n1,2\n3,4\n").rows, 2);
        assert_eq!(Fingerprint::of(b"a,b\n").rows, 0);
        assert_eq!(Fingerprint::of(b"").rows, 0);
    }

    #[test]
    fn a_truncated_file_does_not_match() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("metrics.csv");
        std::fs::write(&path, b"a,b\n1,2\n3,4\n").unwrap();
        let print = Fingerprint::of(&std::fs::read(&path).unwrap());
        assert_eq!(print.mismatch(&path), None);
        std::fs::write(&path, b"a,b\n1,2\n").unwrap();
        let why = print.mismatch(&path).unwrap();
        assert!(why.contains("1 rows") && why.contains("but 2 rows"), "{why}");
    }
}
