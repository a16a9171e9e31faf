//! What the runner offers a live view (the teaching demo): a watch hears each run's rows while
//! it trains, exactly as its `metrics.csv` holds them, and constitutions kept from one call to
//! the next give runs byte-identical to those trained from scratch.

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use common::TINY;
use pressure::experiment::constitutions::keep_constitutions;
use pressure::experiment::{Constitutions, Experiment, RunOptions, RunSpec, Watch, expand, run_experiment};
use pressure::records::{Row, run_dir, run_metrics_csv};

/// Every row heard, by run id, and how many times each run was told.
#[derive(Default)]
struct Heard {
    rows: Mutex<HashMap<String, Vec<Row>>>,
    calls: Mutex<HashMap<String, usize>>,
}

impl Watch for Heard {
    fn measured(&self, run: &RunSpec, rows: &[Row]) {
        self.rows
            .lock()
            .unwrap()
            .entry(run.id.clone())
            .or_default()
            .extend_from_slice(rows);
        *self.calls.lock().unwrap().entry(run.id.clone()).or_default() += 1;
    }
}

fn options(out: &Path, watch: Option<Arc<Heard>>, kept: Option<Arc<Constitutions>>) -> RunOptions {
    RunOptions {
        jobs: 2,
        population: None,
        out: out.to_path_buf(),
        progress: false,
        shard: None,
        watch: watch.map(|w| w as Arc<dyn Watch>),
        constitutions: kept,
        command: None,
    }
}

fn metrics(out: &Path) -> Vec<u8> {
    std::fs::read(out.join("metrics.csv")).unwrap()
}

#[test]
fn a_watch_hears_every_row_as_it_is_measured_and_kept_constitutions_change_nothing() {
    let experiment = Experiment::parse(TINY, Path::new("tiny.toml"), &[]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (plain, watched, again, warmed) = (
        dir.path().join("plain"),
        dir.path().join("watched"),
        dir.path().join("again"),
        dir.path().join("warmed"),
    );
    run_experiment(&experiment, &options(&plain, None, None)).unwrap();

    let heard = Arc::new(Heard::default());
    let kept = Arc::new(Constitutions::default());
    run_experiment(&experiment, &options(&watched, Some(heard.clone()), Some(kept.clone()))).unwrap();
    let runs = expand(&experiment);
    let rows = heard.rows.lock().unwrap();
    let calls = heard.calls.lock().unwrap();
    for run in &runs {
        let written = std::fs::read(run_dir(&watched, &run.id).join("metrics.csv")).unwrap();
        assert_eq!(run_metrics_csv(&rows[&run.id]), written, "run {}", run.id);
        // Steps 0, 20 and 40 are evaluated: the rows came in as they were measured.
        assert!(calls[&run.id] >= 3, "run {} was told {} times", run.id, calls[&run.id]);
    }
    assert_eq!(metrics(&plain), metrics(&watched));
    // Both arms share one constitution per seed.
    assert_eq!(kept.len(), experiment.seeds.len());

    // Every constitution is kept now: none is trained, and nothing changes.
    run_experiment(&experiment, &options(&again, None, Some(kept))).unwrap();
    assert_eq!(metrics(&plain), metrics(&again));

    // Constitutions trained ahead of the first call are the same ones.
    let ahead = Arc::new(Constitutions::default());
    keep_constitutions(&experiment, 2, &ahead).unwrap();
    assert_eq!(ahead.len(), experiment.seeds.len());
    run_experiment(&experiment, &options(&warmed, None, Some(ahead))).unwrap();
    assert_eq!(metrics(&plain), metrics(&warmed));
}
