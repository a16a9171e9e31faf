//! Records the git commit the binary is built from, for the provenance of its runs and
//! reports: `PRESSURE_COMMIT` is the commit's hash, with `-modified` when the sources that go
//! into the binary differ from it. Outside a git checkout (or without git) nothing is set, and
//! the build goes on.
//!
//! Also `PRESSURE_SOURCE_HASH`, a hash of the sources and the locked dependencies, with or
//! without git: the constitution cache keys on it, so a build whose arithmetic might differ
//! never reuses another's models.

use std::path::Path;
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// FNV-1a over every file under `path` (in path order) and its name.
fn hash_tree(path: &Path, hash: &mut u64) {
    let mut feed = |bytes: &[u8]| {
        for &b in bytes {
            *hash = (*hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    };
    feed(path.to_string_lossy().as_bytes());
    if path.is_dir() {
        let mut entries: Vec<_> = std::fs::read_dir(path)
            .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
            .unwrap_or_default();
        entries.sort();
        for entry in entries {
            hash_tree(&entry, hash);
        }
    } else if let Ok(bytes) = std::fs::read(path) {
        feed(&bytes);
    }
}

fn main() {
    // Sources change the binary anyway; the rest says when the commit moves.
    for path in ["build.rs", "src", "web", "experiments", "Cargo.toml", "Cargo.lock"] {
        println!("cargo:rerun-if-changed={path}");
    }
    let mut hash = 0xcbf2_9ce4_8422_2325;
    for path in ["src", "Cargo.lock"] {
        hash_tree(Path::new(path), &mut hash);
    }
    println!("cargo:rustc-env=PRESSURE_SOURCE_HASH={hash:016x}");
    let Some(commit) = git(&["rev-parse", "HEAD"]) else {
        return;
    };
    for what in ["HEAD", "packed-refs"] {
        if let Some(path) = git(&["rev-parse", "--git-path", what])
            && Path::new(&path).exists()
        {
            println!("cargo:rerun-if-changed={path}");
        }
    }
    if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"])
        && let Some(path) = git(&["rev-parse", "--git-path", &branch])
        && Path::new(&path).exists()
    {
        println!("cargo:rerun-if-changed={path}");
    }
    // The demo's page (`web/`) is in the binary too.
    let sources = ["src", "web", "experiments", "build.rs", "Cargo.toml", "Cargo.lock"];
    let mut status = vec!["status", "--porcelain", "--untracked-files=no", "--"];
    status.extend(sources);
    let modified = git(&status).is_some_and(|s| !s.is_empty());
    let suffix = if modified { "-modified" } else { "" };
    println!(
        "cargo:rustc-env=PRESSURE_COMMIT={}{suffix}",
        &commit[..commit.len().min(12)]
    );
}
