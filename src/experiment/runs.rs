//! The run list: an experiment expanded into runs (arms × sweep points × seeds) by one pure,
//! stably ordered function, with each run's identity. Sharding, resume, dry runs, populations
//! and tests all build on it.

use std::ops::Range;

use sha2::{Digest, Sha256};
use toml::Value;

use super::keys::value_label;
use super::spec::{Experiment, SpecError};
use crate::run::{Backend, RunConfig};

/// One run: an arm, a sweep point, a seed, its resolved configuration and its identity.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSpec {
    /// Position in the run list.
    pub index: usize,
    pub arm: String,
    /// The run's values of the sweep axes: each axis's key and value (empty without a sweep).
    pub sweep: Vec<(String, Value)>,
    pub seed: u64,
    pub config: RunConfig,
    /// Content hash of the arm name, resolved configuration and seed.
    pub id: String,
}

impl RunSpec {
    /// The sweep values as the output columns show them.
    pub fn sweep_values(&self) -> Vec<String> {
        self.sweep.iter().map(|(_, v)| value_label(v)).collect()
    }

    /// `key=value, ...`, or empty without a sweep.
    pub fn sweep_label(&self) -> String {
        self.sweep
            .iter()
            .map(|(k, v)| format!("{k}={}", value_label(v)))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// A stored record of this run, its sweep label written as this run list writes it.
    pub fn adopt(&self, record: crate::records::RunRecord) -> crate::records::RunRecord {
        crate::records::RunRecord {
            sweep: self.sweep_label(),
            ..record
        }
    }

    /// Why a stored record is not this run's: the first of its id, arm, seed and resolved
    /// configuration that differs (a status file edited, or copied from another run). `None`
    /// when it is this run's record. Its sweep label is not compared: it is derived from the
    /// configuration, and one point may be written `0` or `0.0` ([`RunSpec::adopt`] rewrites it).
    pub fn identity_mismatch(&self, record: &crate::records::RunRecord) -> Option<String> {
        let differs = |what: &str, stored: &str, here: &str| {
            Some(format!(
                "status.json records {what} {}, but this run's is {}",
                stored.escape_debug(),
                here.escape_debug()
            ))
        };
        if record.id != self.id {
            differs("the id", &record.id, &self.id)
        } else if record.arm != self.arm {
            differs("the arm", &format!("\"{}\"", record.arm), &format!("\"{}\"", self.arm))
        } else if record.seed != self.seed {
            differs("the seed", &record.seed.to_string(), &self.seed.to_string())
        } else if record.config != self.config {
            Some("status.json records another configuration than this run's".to_string())
        } else {
            None
        }
    }
}

/// A run's identity: the first 12 hex digits of SHA-256 over a canonical JSON form (object keys
/// sorted) of everything that decides its results: the arm name, the resolved configuration, the
/// seed, the backend and the crate version. Stable across machines and Rust releases; any change
/// to one of them gives a new id, and two arms never share one.
pub fn run_id(arm: &str, config: &RunConfig, seed: u64, backend: Backend) -> String {
    let canonical = serde_json::json!({
        "arm": arm,
        "config": config,
        "seed": seed,
        "backend": backend.name(),
        "version": env!("CARGO_PKG_VERSION"),
    });
    let digest = Sha256::digest(canonical.to_string().as_bytes());
    digest.iter().take(6).map(|b| format!("{b:02x}")).collect()
}

/// Every run of an experiment: arms in file order, then sweep points (the last axis varying
/// fastest), then seeds in the order given.
pub fn expand(experiment: &Experiment) -> Vec<RunSpec> {
    let grid = experiment.grid();
    let mut runs = Vec::new();
    for arm in &experiment.arms {
        for values in &grid {
            let config = experiment
                .resolve(arm, values)
                .expect("every arm at every point was validated when the experiment was loaded");
            let sweep: Vec<(String, Value)> = experiment
                .sweep
                .iter()
                .zip(values)
                .map(|(a, v)| (a.key.clone(), v.clone()))
                .collect();
            for &seed in &experiment.seeds {
                runs.push(RunSpec {
                    index: runs.len(),
                    arm: arm.name.clone(),
                    sweep: sweep.clone(),
                    seed,
                    id: run_id(&arm.name, &config, seed, experiment.backend),
                    config: config.clone(),
                });
            }
        }
    }
    runs
}

/// One of `count` contiguous slices of the run list (`--shard K/N`, zero-based `K`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl Shard {
    /// Parses `K/N` with `0 ≤ K < N`.
    pub fn parse(text: &str) -> Result<Shard, SpecError> {
        let bad = || {
            SpecError(format!(
                "--shard {text}: expected K/N with 0 ≤ K < N, e.g. --shard 0/4 for the first of four"
            ))
        };
        let (k, n) = text.split_once('/').ok_or_else(bad)?;
        let (index, count): (usize, usize) = (
            k.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }

    /// The indices of this shard's runs in a list of `n`: slices differ in length by at most one.
    pub fn range(&self, n: usize) -> Range<usize> {
        (self.index * n / self.count)..((self.index + 1) * n / self.count)
    }

    pub fn label(&self) -> String {
        format!("{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::{Axis, Experiment};
    use std::path::Path;

    fn experiment() -> Experiment {
        let text = "seeds = 5\n[[arms]]\nname = \"a\"\n[[arms]]\nname = \"b\"\nreward.kind = \"principled\"\n[[arms]]\nname = \"c\"\npolicy.hidden = [8]\n";
        Experiment::parse(text, Path::new("t.toml"), &[]).unwrap()
    }

    #[test]
    fn runs_are_arms_then_seeds_with_distinct_stable_ids() {
        let runs = expand(&experiment());
        let order: Vec<(&str, u64)> = runs.iter().map(|r| (r.arm.as_str(), r.seed)).collect();
        assert_eq!(order[..6], [("a", 0), ("a", 1), ("a", 2), ("a", 3), ("a", 4), ("b", 0)]);
        let mut ids: Vec<&str> = runs.iter().map(|r| r.id.as_str()).collect();
        assert!(ids.iter().all(|id| id.len() == 12));
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), runs.len());
        assert_eq!(runs[0].id, expand(&experiment())[0].id);
    }

    #[test]
    fn a_command_line_axis_replaces_the_files_axis_of_the_same_key() {
        let text = "[sweep]\nreward.refusal_penalty = [1.0, 2.0]\n";
        let axis = Axis::parse("reward.refusal_penalty=3").unwrap();
        let e = Experiment::parse_with(text, Path::new("t.toml"), &[], &[axis]).unwrap();
        assert_eq!(expand(&e).len(), 5);
        assert_eq!(
            expand(&e)[0].config.reward,
            Experiment::parse("[reward]\nrefusal_penalty = 3.0\n", Path::new("t.toml"), &[])
                .unwrap()
                .arms[0]
                .config
                .reward
        );
    }

    #[test]
    fn shards_are_contiguous_and_cover_the_list_once() {
        for n in [0, 1, 7, 20] {
            for count in [1, 3, 8] {
                let mut all = Vec::new();
                for index in 0..count {
                    all.extend(Shard { index, count }.range(n));
                }
                assert_eq!(all, (0..n).collect::<Vec<_>>(), "{n} runs in {count} shards");
            }
        }
        assert_eq!(Shard::parse("2/3").unwrap(), Shard { index: 2, count: 3 });
        for bad in ["3/3", "1", "a/2", "1/0", "-1/2"] {
            assert!(Shard::parse(bad).unwrap_err().0.contains("K/N"), "{bad}");
        }
    }
}
