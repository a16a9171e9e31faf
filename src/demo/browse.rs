//! The run browser: the experiment folders under one folder (`pressure browse DIR`), and any of
//! them drawn by the page's charts, each arm a line the page can overlay with others, live
//! while the folder is being written.
//!
//! ```text
//! GET /api/folders            the experiment folders under DIR: path, experiment, runs, state (JSON)
//! GET /api/folder?path=PATH   one of them: every arm's points and final values so far (JSON)
//! ```
//!
//! PATH must be one of the listed folders, as listed: nothing outside DIR is read. A folder is
//! followed between requests ([`LiveFolder`]), so polling one that trains reads only what its
//! runs appended since. Where a listed folder stands is kept between listings ([`Listed`]):
//! checking it reads every completed run's data, which a page asking every few seconds must
//! not do again for a folder that has not changed.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::live::{finals, points};
use super::request::Refusal;
use crate::experiment::folder::{self, groups, header};
use crate::experiment::inventory::{Standing, experiment_folders, standing};
use crate::experiment::live::LiveFolder;
use crate::records;
use crate::results::RunData;

/// The folders being followed, by path, each with the `config.toml` it was opened with.
#[derive(Default)]
pub struct Followed(Mutex<HashMap<PathBuf, (String, LiveFolder)>>);

/// Where each listed folder stood when last checked, with what it was checked against.
#[derive(Default)]
pub struct Listed(Mutex<HashMap<PathBuf, (Stamp, Instant, Standing)>>);

/// What says a folder may have changed: whether it is being written, and when its manifest and
/// `config.toml` last changed (a run or merge that ends rewrites the manifest).
type Stamp = (bool, Option<SystemTime>, Option<SystemTime>);

/// How long the standing of a folder being written is kept: its runs complete without its
/// manifest changing.
const WRITING_KEPT: Duration = Duration::from_secs(5);

impl Listed {
    fn standing(&self, dir: &Path) -> Standing {
        let changed = |name: &str| std::fs::metadata(dir.join(name)).and_then(|m| m.modified()).ok();
        let stamp = (
            records::writer(dir).is_some(),
            changed("manifest.json"),
            changed("config.toml"),
        );
        let mut kept = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((at, when, s)) = kept.get(dir)
            && *at == stamp
            && (!stamp.0 || when.elapsed() < WRITING_KEPT)
        {
            return s.clone();
        }
        let s = standing(dir);
        kept.insert(dir.to_path_buf(), (stamp, Instant::now(), s.clone()));
        s
    }
}

fn refusal(status: StatusCode, message: String) -> Refusal {
    Refusal {
        status,
        key: None,
        message,
    }
}

/// The browse root, or why this server has none.
fn root(browse: Option<&Path>) -> Result<&Path, Refusal> {
    browse.ok_or_else(|| {
        refusal(
            StatusCode::NOT_FOUND,
            "error: this server browses no folder; start it with `pressure browse DIR`".into(),
        )
    })
}

/// A folder's path as the page names it: relative to the root.
fn shown(root: &Path, dir: &Path) -> String {
    dir.strip_prefix(root).unwrap_or(dir).display().to_string()
}

/// `/api/folders`: the experiment folders under the root, each with where it stands.
pub fn folders(browse: Option<&Path>, listed: &Listed) -> Result<Value, Refusal> {
    let root = root(browse)?;
    let list: Vec<Value> = experiment_folders(root)
        .iter()
        .map(|dir| {
            let s = listed.standing(dir);
            json!({
                "path": shown(root, dir),
                "experiment": s.experiment,
                "runs": s.runs.map(|(done, all)| json!([done, all])),
                "state": s.state,
                "writing": s.writing,
            })
        })
        .collect();
    Ok(json!({ "root": root.display().to_string(), "folders": list }))
}

/// `/api/folder?path=PATH`: one listed folder, drawn.
pub fn folder(browse: Option<&Path>, followed: &Followed, params: &[(String, String)]) -> Result<Value, Refusal> {
    let root = root(browse)?;
    let asked = params
        .iter()
        .find(|(k, _)| k == "path")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    // Only a folder the list holds: a path is never joined to the root as given.
    let dir = experiment_folders(root)
        .into_iter()
        .find(|d| shown(root, d) == asked)
        .ok_or_else(|| {
            refusal(
                StatusCode::NOT_FOUND,
                format!("error: path={asked}: not an experiment folder under {}", root.display()),
            )
        })?;
    view(followed, root, &dir).map_err(|e| refusal(StatusCode::UNPROCESSABLE_ENTITY, format!("error: {e}")))
}

/// One folder as the page draws it: each arm (with its sweep point) a run of the page, its
/// points and final values over the runs measured so far.
fn view(followed: &Followed, root: &Path, dir: &Path) -> Result<Value, String> {
    let config = records::read_limited(&dir.join("config.toml"), crate::experiment::extends::MAX_FILE_BYTES)
        .map_err(|e| format!("{}: {e}", dir.join("config.toml").display()))?;
    let writing = records::writer(dir).is_some();
    let mut map = followed.0.lock().unwrap_or_else(|e| e.into_inner());
    // A folder whose settings changed is followed afresh.
    if map.get(dir).is_none_or(|(text, _)| *text != config) {
        let experiment = folder::experiment(dir).map_err(|e| format!("{e:#}"))?;
        map.insert(dir.to_path_buf(), (config, LiveFolder::new(dir, experiment)));
    }
    let (_, live) = map.get_mut(dir).expect("just inserted");
    live.refresh()?;
    let experiment = &live.experiment;
    let data = RunData::new(header(experiment), groups(experiment), live.records());
    let progress = live.progress();
    let steps = experiment
        .arms
        .iter()
        .map(|a| a.config.total_steps())
        .max()
        .unwrap_or(0);
    let arms: Vec<Value> = data
        .labels
        .iter()
        .map(|label| {
            json!({
                "label": label,
                "seeds": data.seeds_of(label),
                "points": points(&data, label),
                "finals": finals(&data, label),
            })
        })
        .collect();
    let path = shown(root, dir);
    Ok(json!({
        "path": path,
        "experiment": experiment.name,
        "writing": writing,
        "done": !writing && progress.completed == progress.total,
        "progress": { "completed": progress.completed, "training": progress.training, "total": progress.total },
        "steps": steps,
        "command": format!("pressure summary {}", records::shell_word(&dir.display().to_string())),
        "arms": arms,
    }))
}
