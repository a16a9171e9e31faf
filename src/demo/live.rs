//! A training as the page sees it: each run's rows as its `metrics.csv` holds them, and, as
//! soon as every run has been evaluated at a step, the mean over seeds with its 95% interval
//! for each metric of each scope (the figures' bands); at the end, the final values as
//! `pressure summary` prints them. All of it is computed by the library's own readers of a
//! run folder (`plot::RunData`, `Series`, `Estimate`), from the values the runner records.

use std::collections::BTreeSet;
use std::sync::Mutex;

use serde_json::{Value, json};
use tokio::sync::mpsc::UnboundedSender;

use crate::commands::format::with_interval;
use crate::experiment::folder::{groups, header};
use crate::experiment::{Experiment, RunSpec, Watch, expand};
use crate::metric::{DERIVED_METRICS, EVAL_METRICS, HEADLINE, Scope};
use crate::records::{MetricRecord, Row, run_metrics_csv};
use crate::results::{Group, Header, RunData};
use crate::stats::{Bootstrap, Estimate, Estimator};

/// One server-sent event: its name and its data (JSON).
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub name: &'static str,
    pub data: Value,
}

/// Where a training's messages go (the page's open response).
pub type Sender = UnboundedSender<Message>;

/// Sends a message; a page that has gone away is not an error (the runs are kept on disk).
pub fn send(tx: &Sender, name: &'static str, data: Value) {
    let _ = tx.send(Message { name, data });
}

/// What a training has measured so far, and what the page has been sent of it.
pub struct Live {
    runs: Vec<RunSpec>,
    header: Header,
    groups: Vec<Group>,
    records: Vec<MetricRecord>,
    /// Each run's last evaluated step so far.
    last: Vec<Option<usize>>,
    /// The steps sent as points.
    sent: BTreeSet<usize>,
    tx: Sender,
}

impl Live {
    pub fn new(experiment: &Experiment, tx: Sender) -> Live {
        let runs = expand(experiment);
        Live {
            last: vec![None; runs.len()],
            runs,
            header: header(experiment),
            groups: groups(experiment),
            records: Vec::new(),
            sent: BTreeSet::new(),
            tx,
        }
    }

    pub fn runs(&self) -> &[RunSpec] {
        &self.runs
    }

    /// Run `index` measured `rows` (`csv`: the same rows as lines of its `metrics.csv`). Sends
    /// them, then a point for every step at which each run has now been evaluated.
    pub fn measured(&mut self, index: usize, csv: &str, rows: &[Row]) {
        let run = &self.runs[index];
        send(
            &self.tx,
            "rows",
            json!({ "run": index, "id": run.id, "seed": run.seed, "csv": csv }),
        );
        for r in rows {
            self.records.push(MetricRecord {
                arm: run.arm.clone(),
                sweep: run.sweep_values(),
                seed: run.seed,
                step: r.step,
                scope: r.scope.clone(),
                metric: r.metric.clone(),
                value: r.value,
            });
            self.last[index] = Some(self.last[index].map_or(r.step, |s| s.max(r.step)));
        }
        if let Some(everyone) = self.last.iter().copied().collect::<Option<Vec<_>>>()
            && let Some(&upto) = everyone.iter().min()
        {
            self.points(Some(upto));
        }
    }

    /// Sends a point for each evaluated step not sent yet, up to `upto` (all with `None`).
    fn points(&mut self, upto: Option<usize>) {
        let steps: BTreeSet<usize> = self
            .records
            .iter()
            .map(|r| r.step)
            .filter(|s| upto.is_none_or(|u| *s <= u) && !self.sent.contains(s))
            .collect();
        for step in steps {
            let at: Vec<MetricRecord> = self.records.iter().filter(|r| r.step == step).cloned().collect();
            let data = RunData::new(self.header.clone(), self.groups.clone(), at);
            let (values, seeds) = match data.labels.first() {
                Some(label) => point(&data, label),
                None => Default::default(),
            };
            if !values.is_empty() {
                send(
                    &self.tx,
                    "point",
                    json!({ "step": step, "values": values, "seeds": seeds }),
                );
            }
            self.sent.insert(step);
        }
    }

    /// Sends what is left: points of steps some run never reached (it diverged), then the
    /// final values.
    pub fn finish(&mut self, done: Value) {
        self.points(None);
        let data = RunData::new(self.header.clone(), self.groups.clone(), self.records.clone());
        let mut done = done;
        done["finals"] = match data.labels.first() {
            Some(label) => finals(&data, label),
            None => json!({}),
        };
        send(&self.tx, "done", done);
    }
}

/// The metrics drawn or tabled for every evaluation scope (names as `scope:metric`).
fn evaluated() -> Vec<(&'static str, &'static str)> {
    let metrics: Vec<&str> = EVAL_METRICS.iter().chain(&DERIVED_METRICS).map(|m| m.name).collect();
    Scope::ALL
        .iter()
        .flat_map(|s| metrics.iter().map(move |m| (s.name(), *m)))
        .collect()
}

/// A step's mean and 95% interval of every recorded metric of group `label` (the figures'
/// bands), and every seed's value of the headline rates (the figures' thin lines).
fn point(data: &RunData, label: &str) -> (serde_json::Map<String, Value>, serde_json::Map<String, Value>) {
    let mut values = serde_json::Map::new();
    let mut seeds = serde_json::Map::new();
    for (scope, metric) in evaluated() {
        let Some(series) = data.series(label, scope, metric) else {
            continue;
        };
        let Some(s) = series.summary().first().copied() else {
            continue;
        };
        let key = format!("{scope}:{metric}");
        values.insert(key.clone(), json!([s.mean, s.low, s.high, s.n]));
        if HEADLINE.contains(&metric) {
            seeds.insert(key, json!(series.seeds.iter().map(|v| v[0]).collect::<Vec<_>>()));
        }
    }
    (values, seeds)
}

/// The points of group `label` at every step it was evaluated, as [`Live`] sends them one at a
/// time: the run browser draws a folder read from disk with them.
pub fn points(data: &RunData, label: &str) -> Vec<Value> {
    type Maps = (serde_json::Map<String, Value>, serde_json::Map<String, Value>);
    let mut by_step: std::collections::BTreeMap<usize, Maps> = Default::default();
    for (scope, metric) in evaluated() {
        let Some(series) = data.series(label, scope, metric) else {
            continue;
        };
        let key = format!("{scope}:{metric}");
        for (i, s) in series.summary().iter().enumerate() {
            let (values, seeds) = by_step.entry(series.steps[i]).or_default();
            values.insert(key.clone(), json!([s.mean, s.low, s.high, s.n]));
            if HEADLINE.contains(&metric) {
                seeds.insert(
                    key.clone(),
                    json!(series.seeds.iter().map(|v| v[i]).collect::<Vec<_>>()),
                );
            }
        }
    }
    by_step
        .into_iter()
        .map(|(step, (values, seeds))| json!({ "step": step, "values": values, "seeds": seeds }))
        .collect()
}

/// Every metric's final value over the seeds of group `label`, as `pressure summary` computes
/// and prints it: each seed's mean over its last `eval.final_window` evaluations, then their
/// mean with its 95% t-interval.
pub fn finals(data: &RunData, label: &str) -> Value {
    let mut out = serde_json::Map::new();
    let bootstrap = Bootstrap::default();
    for (scope, metric) in evaluated() {
        let Some(series) = data.series(label, scope, metric) else {
            continue;
        };
        let values = data.seed_values(label, series, None);
        let e = Estimate::new(&values, Estimator::Mean, series.bounds, &bootstrap);
        out.insert(
            format!("{scope}:{metric}"),
            json!({
                "text": with_interval(e.value, e.low, e.high, e.interval.is_some()),
                "value": e.value,
                "low": e.low,
                "high": e.high,
                "n": e.n,
            }),
        );
    }
    Value::Object(out)
}

/// The rows of a run's `metrics.csv` without its header line: what the page is sent of them.
pub fn csv_lines(rows: &[Row]) -> String {
    let csv = String::from_utf8(run_metrics_csv(rows)).expect("metrics are UTF-8");
    csv.split_once('\n').map_or(String::new(), |(_, rest)| rest.to_string())
}

/// The runner's watch over a training: hands each run's rows to its [`Live`].
pub struct Watcher(pub Mutex<Live>);

impl Watch for Watcher {
    fn measured(&self, run: &RunSpec, rows: &[Row]) {
        let mut live = self.0.lock().unwrap_or_else(|e| e.into_inner());
        live.measured(run.index, &csv_lines(rows), rows);
    }
}
