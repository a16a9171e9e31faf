//! What the runner offers a live view (the teaching demo): a watch hears each run's rows while
//! it trains, exactly as its `metrics.csv` holds them, and constitutions kept from one call to
//! the next give runs byte-identical to those trained from scratch.

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use common::TINY;
use pressure::experiment::constitutions::keep_constitutions;
use pressure::experiment::live::LiveFolder;
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

/// Reads `out` as a new reader would: every read parses.
fn read_live(out: &Path) -> (usize, pressure::experiment::live::Progress) {
    let mut folder = LiveFolder::new(out, pressure::experiment::folder::experiment(out).unwrap());
    folder.refresh().unwrap();
    (folder.records().len(), folder.progress())
}

#[test]
fn a_folder_being_written_reads_whole_at_every_moment_and_ends_as_if_unwatched() {
    let dir = tempfile::tempdir().unwrap();
    let text = TINY
        .replace("steps = 40", "steps = 600")
        .replace("every = 20", "every = 25");
    common::write(dir.path(), "live.toml", &text);
    let run = |out: &str| -> Vec<String> {
        ["run", "live.toml", "--out", out, "--jobs", "1", "--population", "2"]
            .map(String::from)
            .to_vec()
    };
    let quiet = common::pressure(&run("quiet").iter().map(String::as_str).collect::<Vec<_>>(), dir.path());
    assert!(quiet.status.success(), "{}", common::stderr(&quiet));

    let watched = dir.path().join("watched");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_pressure"))
        .env("PRESSURE_CACHE", dir.path().join("constitution-cache"))
        .args(run("watched"))
        .current_dir(dir.path())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    while child.try_wait().unwrap().is_none()
        && !(watched.join("config.toml").is_file() && pressure::records::writer(&watched).is_some())
    {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    // `pressure watch` follows it to the end, then exits by itself.
    let watch = std::process::Command::new(env!("CARGO_BIN_EXE_pressure"))
        .args(["watch", "watched", "--interval", "0.05"])
        .current_dir(dir.path())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let (mut last, mut counts, mut summarized) = (0, std::collections::BTreeSet::new(), false);
    while child.try_wait().unwrap().is_none() {
        let (n, progress) = read_live(&watched);
        assert!(n >= last, "the rows read went down from {last} to {n}");
        last = n;
        counts.insert(n);
        // A reading command, mid-run, reads what is there and says that it is still training.
        if !summarized && n > 0 && progress.completed < progress.total {
            let o = common::pressure(&["summary", "watched"], dir.path());
            assert!(o.status.success(), "{}", common::stderr(&o));
            assert!(common::stderr(&o).contains("still training"), "{}", common::stderr(&o));
            summarized = true;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(child.wait().unwrap().success());
    let watched_out = watch.wait_with_output().unwrap();
    let shown = String::from_utf8_lossy(&watched_out.stdout);
    assert!(watched_out.status.success());
    // It showed the run in flight, then finished.
    assert!(
        shown.contains("(training)") && shown.contains("penalized, with a comma"),
        "{shown}"
    );
    assert!(
        shown.trim_end().ends_with("watched: finished: all 6 runs completed"),
        "{shown}"
    );
    assert!(summarized, "no read caught the run in flight");
    assert!(counts.len() >= 4, "the rows were seen at only {counts:?}");

    // Finished: the same bytes as the run nobody read, and the live view ends on exactly them.
    assert_eq!(metrics(&watched), metrics(&dir.path().join("quiet")));
    let (n, progress) = read_live(&watched);
    assert_eq!((progress.completed, progress.training), (progress.total, 0));
    let (_, rows) = pressure::records::read_metrics(&watched.join("metrics.csv")).unwrap();
    assert_eq!(n, rows.len());
    let experiment = Experiment::parse(&text, Path::new("live.toml"), &[]).unwrap();
    for run in expand(&experiment) {
        assert!(!run_dir(&watched, &run.id).join(pressure::records::LIVE_FILE).exists());
    }
}
