//! Checking an experiment's claims (`[[claims]]`) on a run folder: `run`, `merge` and
//! `summary` print each with ✓ or ✗ and the values behind it. `run` and `merge`, which write
//! the folder, also write them to its `claims.json`; `summary` reads and never writes, unless
//! `--claims-out FILE` names a file. A failed claim is not an error; with `--strict`, a claim
//! whose outcome is not the one the experiment states is (exit 1).

use std::path::Path;

use crate::experiment::claims::{Verdict, check};
use crate::experiment::folder;
use crate::records::write_atomic;

/// The experiment's claims checked on the folder's data, in file order; empty without claims.
pub fn verdicts(run_dir: &Path) -> anyhow::Result<Vec<Verdict>> {
    let experiment = folder::experiment(run_dir)?;
    if experiment.claims.is_empty() {
        return Ok(Vec::new());
    }
    let data = folder::load_data(run_dir)?;
    Ok(experiment.claims.iter().map(|c| check(c, &data)).collect())
}

/// Checks the claims, prints them (to stdout, or stderr beside a command's progress) and writes
/// them as JSON to `json` when given; returns whether every claim came out as the experiment
/// states.
pub fn report(run_dir: &Path, to_stdout: bool, json: Option<&Path>) -> anyhow::Result<bool> {
    let verdicts = verdicts(run_dir)?;
    if verdicts.is_empty() {
        return Ok(true);
    }
    let expected = verdicts.iter().filter(|v| v.as_expected()).count();
    let mut text = format!(
        "claims: {expected} of {} as the experiment states (✓ holds, ✗ does not; values: mean [95% t-interval] over seeds)\n",
        verdicts.len()
    );
    for v in &verdicts {
        text.push_str(&format!("  {}\n", v.line()));
    }
    if to_stdout {
        super::print_out(&text)?;
    } else {
        {
            use std::io::Write as _;
            let _ = std::io::stderr().write_all(text.as_bytes());
        }
    }
    if let Some(path) = json {
        let text = serde_json::to_string_pretty(&serde_json::json!({ "claims": verdicts }))?;
        write_atomic(path, text.as_bytes()).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    }
    Ok(expected == verdicts.len())
}
