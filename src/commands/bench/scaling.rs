//! `pressure bench --scaling`: how well a job keeps the machine's threads busy. Each job runs as
//! its own process at its default budget (without the constitution cache, so it trains all it
//! needs); its wall time and the CPU time it used give its busy fraction, CPU ÷ (threads × wall):
//! 1 when no thread ever waited.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use anyhow::Context;
use serde::Serialize;

/// The jobs timed: what a researcher runs most, the long ones first.
pub const JOBS: [(&str, &[&str]); 3] = [
    ("robustness pressure", &["robustness", "pressure"]),
    ("run phase_diagram (refined)", &["run", "phase_diagram", "--no-plots"]),
    ("run pressure", &["run", "pressure", "--no-plots"]),
];

/// One job's times.
#[derive(Debug, Clone, Serialize)]
pub struct Scaling {
    pub job: String,
    pub threads: usize,
    pub wall_seconds: f64,
    pub cpu_seconds: f64,
    /// `cpu_seconds / (threads × wall_seconds)`.
    pub busy: f64,
}

/// CPU seconds (user and system) of this process's finished children so far.
fn children_cpu_seconds() -> f64 {
    #[cfg(unix)]
    // SAFETY: getrusage fills the struct it is given.
    unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        if libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) == 0 {
            let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
            return seconds(usage.ru_utime) + seconds(usage.ru_stime);
        }
    }
    f64::NAN
}

/// Runs `args` with `--jobs threads --no-cache --out <scratch>/<n>` and times it.
pub fn time_job(name: &str, args: &[&str], threads: usize, scratch: &Path, n: usize) -> anyhow::Result<Scaling> {
    let exe = std::env::current_exe().context("cannot find the pressure binary")?;
    let out = scratch.join(n.to_string());
    let _ = std::fs::remove_dir_all(&out);
    let cpu = children_cpu_seconds();
    let clock = Instant::now();
    let status = Command::new(exe)
        .args(args)
        .args(["--jobs", &threads.to_string(), "--no-cache", "--out"])
        .arg(&out)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .with_context(|| format!("cannot run {name}"))?;
    let wall_seconds = clock.elapsed().as_secs_f64();
    let cpu_seconds = children_cpu_seconds() - cpu;
    let _ = std::fs::remove_dir_all(&out);
    anyhow::ensure!(
        status.success() || status.code() == Some(1),
        "{name}: failed ({status})"
    );
    Ok(Scaling {
        job: name.to_string(),
        threads,
        wall_seconds,
        cpu_seconds,
        busy: cpu_seconds / (threads as f64 * wall_seconds),
    })
}
