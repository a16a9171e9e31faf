//! Constitutions (docs/model.md §3.1) as the runner trains them: once per distinct seed and
//! constitution settings, in populations of matching shapes, shared by every run that starts
//! from them; and kept between calls of the runner by a caller that asks for it.

use std::collections::{HashMap, HashSet};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use burn::tensor::Device;
use indicatif::ProgressBar;

use super::runs::{RunSpec, expand};
use super::schedule::{self, Kind};
use super::spec::Experiment;
use crate::records::cache::ConstitutionCache;
use crate::run::{self, Backend, Constitution, RunConfig, constitution_key};
use crate::train::Population;

/// Trained constitutions kept between calls of the runner, in memory and, unless asked not to,
/// in the on-disk [`ConstitutionCache`] that every command shares. A constitution depends only
/// on its seed and the settings of [`constitution_key`] (and the backend and version), and a
/// member's results do not depend on which others it trains beside, so a kept one is bit for
/// bit the one that would be trained.
#[derive(Debug, Default)]
pub struct Constitutions {
    kept: Mutex<HashMap<String, Constitution>>,
    disk: Option<ConstitutionCache>,
    /// Constitutions trained and kept here (what a second request must not add to).
    trained: AtomicUsize,
    /// Constitutions found in the on-disk cache.
    loaded: AtomicUsize,
}

impl Constitutions {
    /// At most this many are kept in memory (each a few tens of KiB); beyond it the memory
    /// starts afresh (the disk keeps them).
    pub const CAPACITY: usize = 256;

    /// A store that also keeps its constitutions in `cache` on disk.
    pub fn on_disk(cache: ConstitutionCache) -> Constitutions {
        Constitutions {
            disk: Some(cache),
            ..Constitutions::default()
        }
    }

    /// The store a command uses: the user's cache folder unless `no_cache` (or no folder is
    /// known), else memory only.
    pub fn for_command(no_cache: bool) -> Constitutions {
        match ConstitutionCache::default_dir() {
            Some(dir) if !no_cache => Constitutions::on_disk(ConstitutionCache::open(&dir)),
            _ => Constitutions::default(),
        }
    }

    /// The key of a constitution: the version and build (whose training arithmetic made it:
    /// a hash of the sources and locked dependencies), the backend, and what it depends on.
    fn key(backend: Backend, seed: u64, config: &RunConfig) -> String {
        format!(
            "{}+{}|{}|{}",
            env!("CARGO_PKG_VERSION"),
            env!("PRESSURE_SOURCE_HASH"),
            backend.name(),
            constitution_key(seed, config)
        )
    }

    /// The kept constitution of a run's seed and settings, if there is one.
    pub fn get(&self, backend: Backend, seed: u64, config: &RunConfig) -> Option<Constitution> {
        let key = Self::key(backend, seed, config);
        if let Some(c) = self.kept.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
            return Some(c.clone());
        }
        // Read from disk without holding the memory's lock.
        let c = self.disk.as_ref()?.load(&key)?;
        self.loaded.fetch_add(1, Ordering::Relaxed);
        Self::remember(&mut self.kept.lock().unwrap_or_else(|e| e.into_inner()), key, c.clone());
        Some(c)
    }

    /// Keeps a constitution just trained.
    pub fn keep(&self, backend: Backend, seed: u64, config: &RunConfig, constitution: &Constitution) {
        let key = Self::key(backend, seed, config);
        self.trained.fetch_add(1, Ordering::Relaxed);
        if let Some(disk) = &self.disk {
            disk.store(&key, constitution);
        }
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        Self::remember(&mut kept, key, constitution.clone());
    }

    fn remember(kept: &mut HashMap<String, Constitution>, key: String, c: Constitution) {
        if kept.len() >= Self::CAPACITY {
            kept.clear();
        }
        kept.insert(key, c);
    }

    /// Constitutions in memory.
    pub fn len(&self) -> usize {
        self.kept.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Constitutions trained and kept by this store.
    pub fn trained(&self) -> usize {
        self.trained.load(Ordering::Relaxed)
    }

    /// Constitutions this store found in the on-disk cache.
    pub fn loaded(&self) -> usize {
        self.loaded.load(Ordering::Relaxed)
    }
}

/// The message of a caught panic.
pub(super) fn panic_message(panic: Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "training stopped on an unknown error".into())
}

/// Trains the constitutions of a group of runs (distinct constitution keys) as one population.
fn train_constitutions(
    runs: &[&RunSpec],
    device: &Device,
    progress: &ProgressBar,
) -> Result<Vec<Constitution>, String> {
    catch_unwind(AssertUnwindSafe(|| {
        let members = runs.iter().map(|r| run::member(r.seed, &r.config)).collect();
        let mut population = Population::new(members, device.clone());
        let size = runs.len() as u64;
        run::train_constitutions(&mut population, &mut |steps| progress.inc(steps as u64 * size))
    }))
    .map_err(panic_message)
}

/// Trains the constitutions of a group of runs, keeps them in `store` (with their backend) if
/// given, and returns each run's constitution key with its constitution or why it failed.
pub(super) fn train_and_keep(
    runs: &[&RunSpec],
    device: &Device,
    progress: &ProgressBar,
    store: Option<(&Constitutions, Backend)>,
) -> Vec<(String, Result<Constitution, String>)> {
    let trained = match train_constitutions(runs, device, progress) {
        Ok(trained) => trained.into_iter().map(Ok).collect::<Vec<_>>(),
        Err(message) => vec![Err(message); runs.len()],
    };
    if let Some((store, backend)) = store {
        for (r, c) in runs.iter().zip(&trained) {
            if let Ok(c) = c {
                store.keep(backend, r.seed, &r.config, c);
            }
        }
    }
    let keys = runs.iter().map(|r| run::constitution_key(r.seed, &r.config));
    keys.zip(trained).collect()
}

/// Trains the constitutions an experiment's runs would start from into `store`, without
/// training or writing the runs themselves: a server getting ready for its first request.
pub fn keep_constitutions(experiment: &Experiment, jobs: usize, store: &Constitutions) -> anyhow::Result<()> {
    let device = experiment.backend.device()?;
    let runs = expand(experiment);
    let mut firsts: Vec<&RunSpec> = Vec::new();
    let mut seen = HashSet::new();
    for r in &runs {
        if seen.insert(run::constitution_key(r.seed, &r.config))
            && store.get(experiment.backend, r.seed, &r.config).is_none()
        {
            firsts.push(r);
        }
    }
    // The constitution tasks of the schedule these runs would have.
    let plan = schedule::plan(&firsts, jobs, None, |_| false);
    let plan = schedule::Plan {
        tasks: plan
            .tasks
            .into_iter()
            .filter(|t| t.kind == Kind::Constitution)
            .collect(),
        ..plan
    };
    schedule::execute(&plan, jobs, |t| {
        let specs: Vec<&RunSpec> = plan.tasks[t].members.iter().map(|&i| firsts[i]).collect();
        train_and_keep(
            &specs,
            &device,
            &ProgressBar::hidden(),
            Some((store, experiment.backend)),
        );
    });
    Ok(())
}
