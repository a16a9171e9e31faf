//! The data behind every table and figure: per arm, scope and metric, the value of every seed at every
//! evaluated step, and their mean with a 95% interval. The experiment layer reads it back from
//! a run folder (`experiment::folder`) and hands it here.

use std::collections::BTreeMap;

use crate::metric::{HIDDEN_OBJECTION, REFUSAL, SILENT_COMPLIANCE, Scope, UNOBJECTING_COMPLIANCE};
use crate::records::MetricRecord;
use crate::run::RunConfig;
use crate::stats::{Summary, summarize};

/// One metric of one arm in one scope: every seed's trace on the shared steps.
#[derive(Debug, Clone, Default)]
pub struct Series {
    pub steps: Vec<usize>,
    /// `seeds[i]` holds the value of seed `seed_ids[i]` at each of `steps` (NaN where it has none).
    pub seeds: Vec<Vec<f64>>,
    /// The seed of each trace, in ascending order.
    pub seed_ids: Vec<u64>,
    /// The range the metric's values can take (`metric::bounds`); intervals stay inside it.
    pub bounds: Option<(f64, f64)>,
}

impl Series {
    /// Mean and interval at every step.
    pub fn summary(&self) -> Vec<Summary> {
        (0..self.steps.len())
            .map(|i| summarize(&self.seeds.iter().map(|s| s[i]).collect::<Vec<_>>()).within(self.bounds))
            .collect()
    }

    /// Mean and interval of the seeds' final values ([`Series::finals`]).
    pub fn final_summary(&self, window: usize) -> Summary {
        summarize(&self.finals(window)).within(self.bounds)
    }

    /// Each seed's final value: the mean of its last `window` finite values at steps after 0
    /// (step 0 is the constitution model, not a result of training); a series recorded only at
    /// step 0 (the `constitution` scope) uses that value.
    pub fn finals(&self, window: usize) -> Vec<f64> {
        let trained = self.steps.iter().any(|&s| s > 0);
        self.seeds
            .iter()
            .map(|trace| final_value(&self.steps, trace, window, usize::MAX, trained))
            .collect()
    }

    /// Number of seeds with at least one value.
    pub fn n(&self) -> usize {
        self.seeds.iter().filter(|s| s.iter().any(|x| x.is_finite())).count()
    }
}

/// One seed's final value up to `step`: the mean of its last `window` finite values at steps
/// up to `step`, after step 0 when `trained` (step 0 is the constitution model, not a result of
/// training); NaN without any.
pub fn final_value(steps: &[usize], trace: &[f64], window: usize, step: usize, trained: bool) -> f64 {
    let values: Vec<f64> = steps
        .iter()
        .zip(trace)
        .filter(|(s, v)| (!trained || **s > 0) && **s <= step && v.is_finite())
        .map(|(_, v)| *v)
        .collect();
    let tail = &values[values.len().saturating_sub(window.max(1))..];
    if tail.is_empty() {
        f64::NAN
    } else {
        tail.iter().sum::<f64>() / tail.len() as f64
    }
}

/// A series' key: (arm, scope, metric).
type Key = (String, String, String);

/// Values of one series by seed, then by step.
type BySeed = BTreeMap<u64, BTreeMap<usize, f64>>;

/// One line of the figures: an arm, at one sweep point.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    pub arm: String,
    /// The sweep values, in axis order (empty without a sweep).
    pub sweep: Vec<String>,
    /// The resolved configuration of the group's runs.
    pub config: RunConfig,
}

/// A swept setting and the labels of its values, in sweep order.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepAxis {
    pub key: String,
    pub labels: Vec<String>,
}

/// What the figures say about the experiment the data comes from.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    pub name: String,
    pub backend: String,
    /// The experiment's arms, in file order.
    pub arms: Vec<String>,
    pub sweep: Vec<SweepAxis>,
    /// With `[sweep.refine]`: its threshold and the points it added.
    pub refine: Option<RefineHeader>,
    /// The folder is still being written: its data is what was measured so far.
    pub training: bool,
}

/// What the figures show of a sweep's refinement.
#[derive(Debug, Clone, PartialEq)]
pub struct RefineHeader {
    /// `scope:metric`.
    pub metric: String,
    /// None with the largest-change rule.
    pub threshold: Option<f64>,
    /// The points added, as sweep labels in axis order.
    pub points: Vec<Vec<String>>,
}

/// Everything a run folder holds for its figures.
pub struct RunData {
    pub experiment: Header,
    /// The label of each group, in run-list order: the arm's name, with its sweep values if any.
    pub labels: Vec<String>,
    /// The groups the labels name.
    pub groups: Vec<Group>,
    series: BTreeMap<Key, Series>,
}

/// The label of an arm at a sweep point.
pub fn group_label(arm: &str, axes: &[String], values: &[String], arms: usize) -> String {
    let pairs: Vec<String> = axes.iter().zip(values).map(|(k, v)| format!("{k}={v}")).collect();
    match (pairs.is_empty(), arms) {
        (true, _) => arm.to_string(),
        (false, 1) => pairs.join(", "),
        (false, _) => format!("{arm}, {}", pairs.join(", ")),
    }
}

impl RunData {
    /// Groups the rows of `metrics.csv` by arm and sweep values, scope and metric.
    pub fn new(experiment: Header, groups: Vec<Group>, rows: Vec<MetricRecord>) -> RunData {
        let axes: Vec<String> = experiment.sweep.iter().map(|a| a.key.clone()).collect();
        let n_arms = experiment.arms.len();
        let labels: Vec<String> = groups
            .iter()
            .map(|g| group_label(&g.arm, &axes, &g.sweep, n_arms))
            .collect();

        // Group values by label → (scope, metric) → seed → step → value. A run's rows come
        // together: its label is found once per run, not once per row.
        let mut by_label: BTreeMap<String, BTreeMap<(String, String), BySeed>> = BTreeMap::new();
        let mut last: Option<(String, Vec<String>, String)> = None;
        for r in rows {
            if last
                .as_ref()
                .is_none_or(|(arm, sweep, _)| *arm != r.arm || *sweep != r.sweep)
            {
                let label = group_label(&r.arm, &axes, &r.sweep, n_arms);
                last = Some((r.arm.clone(), r.sweep.clone(), label));
            }
            let label = &last.as_ref().expect("just set").2;
            let series = match by_label.get_mut(label) {
                Some(s) => s,
                None => by_label.entry(label.clone()).or_default(),
            };
            series
                .entry((r.scope, r.metric))
                .or_default()
                .entry(r.seed)
                .or_default()
                .insert(r.step, r.value);
        }
        let mut grouped: BTreeMap<Key, BySeed> = by_label
            .into_iter()
            .flat_map(|(label, series)| {
                series
                    .into_iter()
                    .map(move |((scope, metric), by_seed)| ((label.clone(), scope, metric), by_seed))
            })
            .collect();
        // Silent compliance, P(comply) on contradictory tasks, for figures that name it.
        let derived: Vec<(Key, BySeed)> = grouped
            .iter()
            .filter(|((_, _, m), _)| m == HIDDEN_OBJECTION)
            .filter_map(|((arm, scope, _), hidden)| {
                let unobjecting = grouped.get(&(arm.clone(), scope.clone(), UNOBJECTING_COMPLIANCE.into()))?;
                let sum: BySeed = hidden
                    .iter()
                    .map(|(seed, steps)| {
                        let summed = steps
                            .iter()
                            .map(|(step, v)| {
                                let u = unobjecting
                                    .get(seed)
                                    .and_then(|s| s.get(step))
                                    .copied()
                                    .unwrap_or(f64::NAN);
                                (*step, v + u)
                            })
                            .collect();
                        (*seed, summed)
                    })
                    .collect();
                Some(((arm.clone(), scope.clone(), SILENT_COMPLIANCE.into()), sum))
            })
            .collect();
        grouped.extend(derived);
        let series = grouped
            .into_iter()
            .map(|(key, by_seed)| {
                let mut steps: Vec<usize> = by_seed.values().flat_map(|s| s.keys().copied()).collect();
                steps.sort_unstable();
                steps.dedup();
                let seeds = by_seed
                    .values()
                    .map(|s| steps.iter().map(|st| s.get(st).copied().unwrap_or(f64::NAN)).collect())
                    .collect();
                let seed_ids = by_seed.keys().copied().collect();
                let bounds = crate::metric::bounds_in(&key.1, &key.2);
                (
                    key,
                    Series {
                        steps,
                        seeds,
                        seed_ids,
                        bounds,
                    },
                )
            })
            .collect();
        RunData {
            experiment,
            labels,
            groups,
            series,
        }
    }

    /// The configuration of a group by its label.
    /// Every seed's value of a group's series: its final value (the mean of its last
    /// `eval.final_window` evaluations), or its value at `step`. NaN where a seed has none.
    pub fn seed_values(&self, label: &str, series: &Series, step: Option<usize>) -> Vec<f64> {
        match step {
            None => series.finals(self.config_of(label).map_or(1, |c| c.eval.final_window)),
            Some(step) => match series.steps.iter().position(|&s| s == step) {
                Some(i) => series.seeds.iter().map(|s| s[i]).collect(),
                None => Vec::new(),
            },
        }
    }

    /// Why there is nothing to `act` on (`summarize`, `draw`): no run has a value yet.
    pub fn nothing_to(&self, act: &str) -> Option<String> {
        if self.labels.iter().any(|a| self.seeds_of(a) > 0) {
            return None;
        }
        Some(match self.experiment.training {
            true => {
                format!("nothing to {act} yet: no run has been evaluated; it is still training, try again in a moment")
            }
            false => format!("no completed run to {act} (see manifest.json)"),
        })
    }

    pub fn config_of(&self, label: &str) -> Option<&RunConfig> {
        self.labels
            .iter()
            .position(|a| a == label)
            .map(|i| &self.groups[i].config)
    }

    /// The series of a metric, if the run recorded it.
    pub fn series(&self, arm: &str, scope: &str, metric: &str) -> Option<&Series> {
        self.series
            .get(&(arm.to_string(), scope.to_string(), metric.to_string()))
    }

    /// The metrics a group recorded in a scope.
    pub fn metric_names(&self, label: &str, scope: &str) -> Vec<String> {
        self.series
            .keys()
            .filter(|(l, s, _)| l == label && s == scope)
            .map(|(_, _, m)| m.clone())
            .collect()
    }

    /// Seeds per arm with data (the N of the figures).
    pub fn seeds_of(&self, arm: &str) -> usize {
        self.series(arm, Scope::Trained.name(), REFUSAL).map_or(0, Series::n)
    }

    /// The last evaluated step of any arm.
    pub fn last_step(&self) -> usize {
        self.series
            .values()
            .filter_map(|s| s.steps.last().copied())
            .max()
            .unwrap_or(0)
    }

    /// Every scope the folder recorded a value in: the evaluation scopes in the standard order,
    /// then the others (`train`, `constitution`, `rm`, ...) by name.
    pub fn recorded_scopes(&self) -> Vec<String> {
        let mut scopes: Vec<String> = self.scopes().iter().map(|s| s.to_string()).collect();
        for (_, scope, _) in self.series.keys() {
            if !scopes.contains(scope) {
                scopes.push(scope.clone());
            }
        }
        scopes
    }

    /// The scopes recorded for an arm, in the standard order.
    pub fn scopes(&self) -> Vec<&'static str> {
        Scope::ALL
            .iter()
            .map(|s| s.name())
            .filter(|s| self.labels.iter().any(|a| self.series(a, s, REFUSAL).is_some()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_final_value_averages_the_last_window_after_step_0() {
        let series = Series {
            steps: vec![0, 50, 100, 150],
            seeds: vec![vec![9.0, 1.0, 2.0, 3.0], vec![9.0, 1.0, 2.0, f64::NAN]],
            seed_ids: vec![0, 1],
            bounds: None,
        };
        assert_eq!(series.finals(2), vec![2.5, 1.5]);
        // The window never reaches back to the constitution model at step 0.
        assert_eq!(series.finals(10), vec![2.0, 1.5]);
        let constitution = Series {
            steps: vec![0],
            seeds: vec![vec![0.97]],
            seed_ids: vec![0],
            bounds: Some((0.0, 1.0)),
        };
        assert_eq!(constitution.finals(3), vec![0.97]);
    }
}
