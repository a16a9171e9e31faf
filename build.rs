//! Records the git commit the binary is built from, for the provenance of its runs and
//! reports: `PRESSURE_COMMIT` is the commit's hash, with `-modified` when the sources that go
//! into the binary differ from it. Outside a git checkout (or without git) nothing is set, and
//! the build goes on.

use std::path::Path;
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn main() {
    // Sources change the binary anyway; the rest says when the commit moves.
    for path in ["build.rs", "src", "experiments", "Cargo.toml", "Cargo.lock"] {
        println!("cargo:rerun-if-changed={path}");
    }
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
    let sources = ["src", "experiments", "build.rs", "Cargo.toml", "Cargo.lock"];
    let mut status = vec!["status", "--porcelain", "--untracked-files=no", "--"];
    status.extend(sources);
    let modified = git(&status).is_some_and(|s| !s.is_empty());
    let suffix = if modified { "-modified" } else { "" };
    println!(
        "cargo:rustc-env=PRESSURE_COMMIT={}{suffix}",
        &commit[..commit.len().min(12)]
    );
}
