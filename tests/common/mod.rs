//! Helpers for the end-to-end tests: run the `pressure` binary on temporary folders.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn pressure(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pressure"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("the pressure binary runs")
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Writes `text` as `name` in `dir` and returns its path.
pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// A tiny experiment: two arms that differ only in reward, so they can share populations.
pub const TINY: &str = r#"
name = "tiny"
description = "A tiny budget for tests."
seeds = 3

[constitution]
steps = 80

[pressure]
steps = 40

[eval]
every = 20
tasks = 16

[[arms]]
name = "tolerated"
reward = { objection_penalty = 0.0 }

[[arms]]
name = "penalized, with a comma"
reward = { objection_penalty = 1.0, judge_penalty = 1.0 }
"#;
