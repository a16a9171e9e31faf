//! The rounds of a refinement: run the grid, read each point's mean final value from the
//! completed runs in the folder, add the points `refine::next_points` proposes, run them like any
//! other point, and repeat. Everything a round needs is read back from the folder, so a rerun
//! after an interruption recomputes the same rounds and trains only what is missing; rounds whose
//! runs are all complete are not run again.
//!
//! Shards: `--shard K/N` trains a slice of the grid only. The rounds need every result of the
//! rounds before them, so they run where the results are complete: after `pressure merge`, with
//! `pressure run --out MERGED`.

use std::path::Path;

use anyhow::Context;
use serde::Serialize;
use toml::Value;

use super::refine::{Measured, next_points, round_cap};
use super::runner::is_completed;
use super::runs::expand;
use super::spec::Experiment;
use crate::records::{self, run_dir};

/// One round as recorded in `refine.json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Round {
    /// 1 for the first round after the grid.
    pub round: usize,
    /// The most points the round could add.
    pub cap: usize,
    /// The points it added, in order.
    pub points: Vec<Vec<Value>>,
    /// Whether every run of the round is completed in the folder.
    pub complete: bool,
}

/// What the rounds did: written as `refine.json` in the run folder.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Log {
    pub metric: String,
    /// A number, or "largest_change".
    pub threshold: Value,
    pub budget: usize,
    pub rounds: usize,
    pub axes: Vec<String>,
    /// The grid's points before any round.
    pub grid_points: usize,
    #[serde(rename = "rounds_run")]
    pub done: Vec<Round>,
    /// Why refinement stopped.
    pub stopped: String,
}

/// The mean final value of `scope:metric` of one completed run: the mean of its last
/// `eval.final_window` finite values after step 0, as the figures compute it.
fn final_value(dir: &Path, scope: &str, metric: &str, window: usize) -> anyhow::Result<f64> {
    let path = dir.join("metrics.csv");
    let mut reader = csv::Reader::from_path(&path).with_context(|| format!("{}: cannot read", path.display()))?;
    let mut trace: Vec<(usize, f64)> = Vec::new();
    for row in reader.records() {
        let row = row.with_context(|| format!("{}: cannot read", path.display()))?;
        if row.get(1) == Some(scope) && row.get(2) == Some(metric) {
            let step: usize = row[0].parse().unwrap_or(0);
            let value: f64 = row[3].parse().unwrap_or(f64::NAN);
            if step > 0 && value.is_finite() {
                trace.push((step, value));
            }
        }
    }
    trace.sort_by_key(|(s, _)| *s);
    let tail = &trace[trace.len().saturating_sub(window.max(1))..];
    Ok(if tail.is_empty() {
        f64::NAN
    } else {
        tail.iter().map(|(_, v)| v).sum::<f64>() / tail.len() as f64
    })
}

/// The number a sweep value stands for.
fn number(v: &Value) -> f64 {
    v.as_float().or(v.as_integer().map(|i| i as f64)).unwrap_or(f64::NAN)
}

/// Each sweep point's mean final value of the refined metric per arm (mean over its completed
/// seeds; NaN where none completed).
pub fn measure(experiment: &Experiment, out: &Path) -> anyhow::Result<Vec<Measured>> {
    let refine = experiment.refine.as_ref().expect("a refined experiment");
    let points = experiment.grid();
    let runs = expand(experiment);
    let mut measured: Vec<Measured> = points
        .iter()
        .map(|p| Measured {
            point: p.iter().map(number).collect(),
            values: vec![f64::NAN; experiment.arms.len()],
        })
        .collect();
    for (a, arm) in experiment.arms.iter().enumerate() {
        for (k, point) in points.iter().enumerate() {
            let mut finals = Vec::new();
            for run in runs
                .iter()
                .filter(|r| r.arm == arm.name && r.sweep.iter().map(|(_, v)| v).eq(point.iter()))
            {
                if is_completed(out, run) {
                    let window = run.config.eval.final_window;
                    finals.push(final_value(
                        &run_dir(out, &run.id),
                        &refine.metric.scope,
                        &refine.metric.metric,
                        window,
                    )?);
                }
            }
            let finite: Vec<f64> = finals.into_iter().filter(|v| v.is_finite()).collect();
            if !finite.is_empty() {
                measured[k].values[a] = finite.iter().sum::<f64>() / finite.len() as f64;
            }
        }
    }
    Ok(measured)
}

/// Whether every run of the experiment is completed in `out`.
fn complete(experiment: &Experiment, out: &Path) -> bool {
    expand(experiment).iter().all(|r| is_completed(out, r))
}

/// A point as sweep values: whole numbers on axes whose values are all integers.
fn as_values(experiment: &Experiment, point: &[f64]) -> Vec<Value> {
    experiment
        .sweep
        .iter()
        .zip(point)
        .map(|(axis, &x)| {
            if axis.values.iter().all(Value::is_integer) {
                Value::Integer(x as i64)
            } else {
                Value::Float(x)
            }
        })
        .collect()
}

/// Trains the runs of an experiment not completed in the folder; says whether all completed.
pub type Train<'a> = &'a mut dyn FnMut(&Experiment) -> anyhow::Result<bool>;

/// Runs the grid and the rounds of refinement. `run` trains the runs of an experiment that are
/// not completed in `out` and says whether all completed; `None` plans without training (a dry
/// run), stopping at the first round whose runs are not complete. Returns the experiment with
/// every point added, and the log (written to `refine.json` unless planning).
pub fn refine(base: &Experiment, out: &Path, mut run: Option<Train>) -> anyhow::Result<(Experiment, Log)> {
    let refine = base.refine.clone().context("the experiment has no [sweep.refine]")?;
    let mut experiment = base.clone();
    experiment.refined.clear();
    let integer: Vec<bool> = experiment
        .sweep
        .iter()
        .map(|a| a.values.iter().all(Value::is_integer))
        .collect();
    let mut log = Log {
        metric: refine.metric.to_string(),
        threshold: refine.file.threshold.clone(),
        budget: refine.budget,
        rounds: refine.rounds,
        axes: experiment.sweep.iter().map(|a| a.key.clone()).collect(),
        grid_points: experiment.product_grid().len(),
        done: Vec::new(),
        stopped: String::new(),
    };
    let mut ran_last;
    loop {
        let mut done = complete(&experiment, out);
        ran_last = false;
        if !done && let Some(run) = run.as_mut() {
            done = run(&experiment)?;
            ran_last = true;
        }
        if let Some(last) = log.done.last_mut() {
            last.complete = done;
        }
        if !done {
            log.stopped = match (&run, log.done.len()) {
                (None, 0) => "the grid's runs are not all complete: the first round is computed from them".into(),
                (None, r) => format!("round {r}'s runs are not all complete: the next round is computed from them"),
                (Some(_), r) => format!(
                    "{} of round {r} did not complete; run again to train them and go on",
                    if r == 0 {
                        "runs of the grid".to_string()
                    } else {
                        "runs".to_string()
                    }
                ),
            };
            break;
        }
        if log.done.len() == refine.rounds {
            log.stopped = format!("all {} rounds ran", refine.rounds);
            break;
        }
        let added = experiment.refined.len();
        if added >= refine.budget {
            log.stopped = format!("the budget of {} points is spent", refine.budget);
            break;
        }
        let cap = round_cap(refine.budget - added, refine.rounds - log.done.len());
        let measured = measure(&experiment, out)?;
        let new = next_points(&measured, &integer, refine.rule, cap);
        if new.is_empty() {
            log.stopped = format!(
                "round {}: no neighbouring points left to split (none straddle the threshold, or they are as close as {} decimals allow)",
                log.done.len() + 1,
                super::refine::DECIMALS
            );
            break;
        }
        let points: Vec<Vec<Value>> = new.iter().map(|p| as_values(&experiment, p)).collect();
        for p in &points {
            for arm in &experiment.arms {
                experiment
                    .resolve(arm, p)
                    .context("a refined point is not a valid configuration")?;
            }
        }
        experiment.refined.extend(points.iter().cloned());
        log.done.push(Round {
            round: log.done.len() + 1,
            cap,
            points,
            complete: false,
        });
    }
    if let Some(run) = run {
        if !ran_last {
            // Writes the folder's config.toml, metrics.csv and manifest for every point (all reused).
            run(&experiment)?;
        }
        let json = serde_json::to_vec_pretty(&log).expect("a refinement log serializes");
        records::write_atomic(&out.join("refine.json"), &json)
            .with_context(|| format!("{}: cannot write refine.json", out.display()))?;
    }
    Ok((experiment, log))
}
