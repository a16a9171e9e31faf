//! A sandbox for RLHF selection pressure on contradictory tasks.
//!
//! Small policy networks learn a constitution (refuse what violates a principle), then face a
//! toy reward model that penalizes refusal on *contradictory* tasks: tasks an institution demands
//! although a principle forbids them. The sandbox measures what the pressure selects for: honest
//! objection, hidden objection (the objection survives where it is not seen), or compliance with
//! no objection left. `docs/model.md` defines the world, the policy, the rewards and the measurements.
//!
//! The modules are layers, each importing only the ones below it (`tests/layers.rs` checks):
//! `rng`, `settings` and `stats` (foundations), `world`, `metric` (the names of what is measured),
//! `policy`, `reward`, `train`, `eval`, `run` (one run's configuration and its training from
//! start to end), `records` (what a run leaves on disk), `results` (what a folder's data says: groups, finals,
//! comparisons), `plot`, `experiment` (files, run lists,
//! the runner), `commands` and `demo` (the teaching page and run browser).

/// Writes a line to standard error, as `eprintln!` does, but never panics: a reader that has
/// closed the pipe (`2>&1 | head -1`) gets what it read, and the command goes on to its end.
#[macro_export]
macro_rules! note {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if !$crate::quiet() {
            let _ = writeln!(std::io::stderr(), $($arg)*);
        }
    }};
}

thread_local! {
    static QUIET: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether notes are held back on this thread ([`quietly`]).
pub fn quiet() -> bool {
    QUIET.with(std::cell::Cell::get)
}

/// Runs `f` with this thread's notes held back: for a server that reads files on a user's
/// behalf, where a note about a file the user never named would only be noise in its log.
pub fn quietly<T>(f: impl FnOnce() -> T) -> T {
    let before = QUIET.with(|q| q.replace(true));
    let out = f();
    QUIET.with(|q| q.set(before));
    out
}

pub mod commands;
pub mod demo;
pub mod eval;
pub mod experiment;
pub mod metric;
pub mod plot;
pub mod policy;
pub mod records;
pub mod results;
pub mod reward;
pub mod rng;
pub mod run;
pub mod settings;
pub mod stats;
pub mod train;
pub mod world;
