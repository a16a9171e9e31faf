//! The demo's HTTP server: the page and its assets (embedded in the binary), the catalogue of
//! scenes and controls, and the API the page trains through.
//!
//! ```text
//! GET  /                 the page (and its modules, /main.js and those it imports, and /demo.css)
//! GET  /api/catalogue    scenes with their presets, controls, limits, metrics, palette (JSON)
//! GET  /api/check?STATE  the command line of STATE and whether its runs are stored (JSON), or 4xx
//! POST /api/train?STATE  its training as server-sent events: queued, start, rows, point, done
//! GET  /api/csv?STATE    its metrics.csv as `pressure run` writes it, once trained
//! GET  /api/status       trainings running or waiting, answers being sent, constitutions and
//!                        stored answers kept (JSON)
//! GET  /api/folders      with `pressure browse DIR`: the run folders under DIR (`browse`)
//! GET  /api/folder?path= one of them, drawn as the page draws a training (`browse`)
//! ```
//!
//! Every request must name the server by a name it knows, and a POST come from its own page
//! (`hosts`); otherwise it is refused (403) with one line of plain text.
//!
//! STATE is the page's address: `scene`, `arm`, `seeds`, `scope` and control keys. A refused
//! request is answered with its status and `{"message", "key"}`: the line the command line
//! prints for the same input, and the control it concerns.

use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::{Query, Request as HttpRequest, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

use super::browse;
use super::controls::{self, CONTROLS};
use super::hosts::Hosts;
use super::jobs::{Answer, Answers, Job, Places, Trainer, answer_stored, done_again, stored_runs};
use super::live::Message;
use super::request::{Limits, Refusal, Request, scene_experiment};
use super::scenes::{SCENES, Scene};
use crate::experiment::runner::run_list;
use crate::metric::{DERIVED_METRICS, EVAL_METRICS, HEADLINE};
use crate::plot::{ARM_COLORS, OUTCOME_STACK};
use crate::records::{RunColumns, assemble};

const PAGE: &str = include_str!("../../web/index.html");
/// The page's modules (`web/main.js` imports the others).
const SCRIPTS: &[(&str, &str)] = &[
    ("main.js", include_str!("../../web/main.js")),
    ("state.js", include_str!("../../web/state.js")),
    ("controls.js", include_str!("../../web/controls.js")),
    ("stream.js", include_str!("../../web/stream.js")),
    ("charts.js", include_str!("../../web/charts.js")),
    ("hover.js", include_str!("../../web/hover.js")),
    ("share.js", include_str!("../../web/share.js")),
    ("browse.js", include_str!("../../web/browse.js")),
];
const STYLE: &str = include_str!("../../web/demo.css");

/// What every request of one server shares.
pub struct App {
    /// The run cache: each scene trains into `runs/<experiment>/`.
    pub runs: PathBuf,
    pub trainer: Arc<Trainer>,
    /// What a request may ask.
    pub limits: Limits,
    /// The names it answers to.
    pub hosts: Hosts,
    /// The folder whose run folders the page may browse (`pressure browse DIR`).
    pub browse: Option<PathBuf>,
    /// The browsed folders being followed.
    pub followed: browse::Followed,
    /// Where each listed folder stood when last checked.
    pub listed: browse::Listed,
    /// The answers being sent at once.
    places: Arc<Places>,
    /// Stored answers kept in memory.
    answers: Answers,
    /// The catalogue, computed once.
    catalogue: Value,
}

impl App {
    pub fn new(runs: PathBuf, trainer: Arc<Trainer>, limits: Limits, hosts: Hosts, browse: Option<PathBuf>) -> App {
        App {
            catalogue: catalogue(&limits, browse.as_deref()),
            runs,
            trainer,
            limits,
            hosts,
            browse,
            followed: Default::default(),
            listed: Default::default(),
            places: Places::new(&limits),
            answers: Answers::default(),
        }
    }

    /// Whether it is training, what waits, what is being sent, and what it keeps.
    fn status(&self) -> Value {
        let mut status = self.trainer.status();
        let (kept, bytes) = self.answers.size();
        status["answering"] = json!(self.places.taken());
        status["answers_kept"] = json!(kept);
        status["answer_bytes_kept"] = json!(bytes);
        status
    }
}

/// The server's routes.
pub fn router(app: Arc<App>) -> Router {
    let mut router = Router::new().route("/", get(|| async { asset("text/html; charset=utf-8", PAGE) }));
    for &(name, text) in SCRIPTS {
        router = router.route(
            &format!("/{name}"),
            get(move || async move { asset("text/javascript; charset=utf-8", text) }),
        );
    }
    router
        .route("/demo.css", get(|| async { asset("text/css; charset=utf-8", STYLE) }))
        .route(
            "/api/catalogue",
            get(|State(app): State<Arc<App>>| async move { Json(app.catalogue.clone()) }),
        )
        .route("/api/check", get(check))
        .route("/api/train", post(train))
        .route("/api/csv", get(csv))
        .route(
            "/api/status",
            get(|State(app): State<Arc<App>>| async move { Json(app.status()) }),
        )
        .route("/api/folders", get(folders))
        .route("/api/folder", get(folder))
        .layer(axum::middleware::from_fn_with_state(app.clone(), guard))
        .with_state(app)
}

/// Refuses a request not addressed to this server by a name it knows, or a POST from another
/// page than its own (`hosts`).
async fn guard(State(app): State<Arc<App>>, request: HttpRequest, next: Next) -> Response {
    let headers = request.headers();
    let text = |name| {
        headers
            .get(name)
            .map(|v: &header::HeaderValue| v.to_str().unwrap_or("(not text)"))
    };
    let host = text(header::HOST).or_else(|| request.uri().authority().map(|a| a.as_str()));
    if let Some(why) = app.hosts.refusal(request.method(), host, text(header::ORIGIN)) {
        return (
            StatusCode::FORBIDDEN,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            format!("{why}\n"),
        )
            .into_response();
    }
    next.run(request).await
}

fn asset(kind: &'static str, body: &'static str) -> Response {
    (
        [(header::CONTENT_TYPE, kind), (header::CACHE_CONTROL, "no-cache")],
        body,
    )
        .into_response()
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        (self.status, Json(json!({ "message": self.message, "key": self.key }))).into_response()
    }
}

/// The request and its experiment, or why not.
fn read(app: &App, params: &[(String, String)]) -> Result<(Request, crate::experiment::Experiment), Refusal> {
    let request = Request::parse(params)?;
    let experiment = request.experiment(&app.runs)?;
    request.within(&experiment, &app.limits)?;
    Ok((request, experiment))
}

async fn check(State(app): State<Arc<App>>, Query(params): Query<Vec<(String, String)>>) -> Response {
    let answer = tokio::task::spawn_blocking(move || {
        let (request, experiment) = read(&app, &params)?;
        let list = run_list(&experiment, &request.folder(&app.runs), None);
        Ok::<_, Refusal>(json!({
            "command": request.command(&app.runs),
            "runs": list.len(),
            "stored": list.iter().filter(|(_, done)| *done).count(),
        }))
    })
    .await
    .expect("checking does not panic");
    match answer {
        Ok(v) => Json(v).into_response(),
        Err(r) => r.into_response(),
    }
}

async fn train(State(app): State<Arc<App>>, Query(params): Query<Vec<(String, String)>>) -> Response {
    // The place is held until the answer has been sent, or the page has gone.
    let place = match app.places.take() {
        Ok(place) => place,
        Err(refusal) => return refusal.into_response(),
    };
    let clock = std::time::Instant::now();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Message>();
    let accepted = tokio::task::spawn_blocking(move || {
        let (request, experiment) = read(&app, &params)?;
        let out = request.folder(&app.runs);
        let job = Job {
            command: request.command(&app.runs),
            experiment,
            out,
            tx,
        };
        let list = run_list(&job.experiment, &job.out, None);
        if list.iter().all(|(_, done)| *done) {
            if let Some(answer) = app.answers.get(&job.command) {
                return Ok(Some(answer));
            }
            let stored = stored_runs(&job.experiment, &job.out);
            if stored.iter().all(|(_, rows)| rows.is_some()) {
                let answer = Arc::new(answer_stored(&job, stored));
                app.answers.keep(&job.command, answer.clone());
                return Ok(Some(answer));
            }
        }
        app.trainer.submit(job).map(|_| None)
    })
    .await
    .expect("submitting does not panic");
    let source = match accepted {
        Ok(Some(answer)) => Source::Stored {
            done: done_again(&answer, clock),
            answer,
            next: 0,
        },
        Ok(None) => Source::Live(rx),
        Err(refusal) => return refusal.into_response(),
    };
    let events = futures_util::stream::unfold((source, place), |(mut source, place)| async move {
        let event = source.next().await?;
        Some((Ok::<_, Infallible>(event), (source, place)))
    });
    Sse::new(events).keep_alive(KeepAlive::default()).into_response()
}

/// Where the events of an answer come from.
enum Source {
    /// A training's messages, as they come.
    Live(tokio::sync::mpsc::UnboundedReceiver<Message>),
    /// A stored answer, with its `done` as sent this time.
    Stored {
        answer: Arc<Answer>,
        done: Option<String>,
        next: usize,
    },
}

impl Source {
    async fn next(&mut self) -> Option<Event> {
        match self {
            Source::Live(rx) => {
                let m = rx.recv().await?;
                Some(Event::default().event(m.name).data(m.data.to_string()))
            }
            Source::Stored { answer, done, next } => {
                let (name, text) = answer.get(*next)?;
                *next += 1;
                let text = match done {
                    Some(done) if *next == answer.len() => done,
                    _ => text,
                };
                Some(Event::default().event(*name).data(text))
            }
        }
    }
}

async fn csv(State(app): State<Arc<App>>, Query(params): Query<Vec<(String, String)>>) -> Response {
    let place = match app.places.take() {
        Ok(place) => place,
        Err(refusal) => return refusal.into_response(),
    };
    let answer = tokio::task::spawn_blocking(move || {
        let _place = place;
        let (request, experiment) = read(&app, &params)?;
        let out = request.folder(&app.runs);
        let list = run_list(&experiment, &out, None);
        if !list.iter().all(|(_, done)| *done) {
            return Err(Refusal {
                status: StatusCode::NOT_FOUND,
                key: None,
                message: "error: not trained yet: train it first".into(),
            });
        }
        let axes: Vec<String> = experiment.sweep.iter().map(|a| a.key.clone()).collect();
        let columns: Vec<RunColumns> = list
            .iter()
            .map(|(r, _)| RunColumns {
                id: &r.id,
                arm: &r.arm,
                sweep: r.sweep_values(),
                seed: r.seed,
            })
            .collect();
        let bytes = assemble(&out, &axes, &columns).map_err(|e| Refusal {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            key: None,
            message: format!("error: {}: {e}", out.display()),
        })?;
        Ok((bytes, format!("{}.csv", request.scene.experiment)))
    })
    .await
    .expect("reading does not panic");
    match answer {
        Ok((bytes, name)) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
            ],
            bytes,
        )
            .into_response(),
        Err(r) => r.into_response(),
    }
}

async fn folders(State(app): State<Arc<App>>) -> Response {
    let answer = tokio::task::spawn_blocking(move || browse::folders(app.browse.as_deref(), &app.listed))
        .await
        .expect("listing does not panic");
    match answer {
        Ok(v) => Json(v).into_response(),
        Err(r) => r.into_response(),
    }
}

async fn folder(State(app): State<Arc<App>>, Query(params): Query<Vec<(String, String)>>) -> Response {
    let answer = tokio::task::spawn_blocking(move || browse::folder(app.browse.as_deref(), &app.followed, &params))
        .await
        .expect("reading does not panic");
    match answer {
        Ok(v) => Json(v).into_response(),
        Err(r) => r.into_response(),
    }
}

/// Everything the page needs to draw its controls and scenes, computed from the library.
fn catalogue(limits: &Limits, browse: Option<&std::path::Path>) -> Value {
    let metrics: serde_json::Map<String, Value> = EVAL_METRICS
        .iter()
        .chain(&DERIVED_METRICS)
        .map(|m| (m.name.to_string(), json!(m.meaning)))
        .collect();
    json!({
        "scenes": SCENES.iter().map(scene).collect::<Vec<_>>(),
        "controls": CONTROLS,
        "limits": { "seeds": limits.seeds, "steps": limits.steps, "trainings": limits.trainings, "waiting": limits.waiting },
        "metrics": metrics,
        "headline": HEADLINE,
        // The five silent outcomes, in the figures' order (after refusal and honest objection).
        "outcomes": OUTCOME_STACK[2..].iter().map(|(name, _, _)| *name).collect::<Vec<_>>(),
        "palette": ARM_COLORS.iter().map(|c| format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2)).collect::<Vec<_>>(),
        "browse": browse.map(|b| b.display().to_string()),
    })
}

/// A scene with its presets: each preset's arm (if the scene chooses arms), the values it
/// gives every control, and the settings a request must carry to select it.
fn scene(scene: &Scene) -> Value {
    let experiment = scene_experiment(scene);
    let presets: Vec<Value> = if scene.points.is_empty() {
        experiment
            .arms
            .iter()
            .map(|arm| preset(&arm.name, Some(&arm.name), &[], &arm.config, experiment.seeds.len()))
            .collect()
    } else {
        scene
            .points
            .iter()
            .map(|(name, values)| {
                let params: Vec<(String, String)> = std::iter::once(("scene".to_string(), scene.name.to_string()))
                    .chain(values.iter().map(|(k, v)| (k.to_string(), v.to_string())))
                    .collect();
                let at = Request::parse(&params)
                    .and_then(|r| r.experiment(std::path::Path::new("runs")))
                    .expect("a scene's points are valid");
                preset(name, None, values, &at.arms[0].config, experiment.seeds.len())
            })
            .collect()
    };
    json!({
        "name": scene.name,
        "experiment": scene.experiment,
        "title": scene.title,
        "question": scene.question,
        "watch": scene.watch,
        "control": scene.control,
        "start": scene.start,
        "scope": scene.scope,
        "swept": experiment.sweep.iter().map(|a| a.key.clone()).collect::<Vec<_>>(),
        "presets": presets,
    })
}

fn preset(name: &str, arm: Option<&str>, sets: &[(&str, &str)], config: &crate::run::RunConfig, seeds: usize) -> Value {
    let mut values = serde_json::Map::new();
    for c in CONTROLS {
        let v = if c.key == controls::SEEDS {
            Some(json!(seeds))
        } else {
            controls::value_of(config, c.key)
        };
        values.insert(c.key.to_string(), v.unwrap_or(Value::Null));
    }
    json!({
        "name": name,
        "arm": arm,
        "sets": sets.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
        "values": values,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::shipped::SHIPPED;

    #[test]
    fn every_shipped_experiment_is_a_scene_whose_presets_the_demo_trains() {
        assert_eq!(super::super::scenes::covers_shipped(), Vec::<&str>::new());
        for s in SCENES {
            let described = scene(s);
            let presets = described["presets"].as_array().unwrap();
            assert!(presets.iter().any(|p| p["name"] == s.start), "{}: start", s.name);
            for p in presets {
                let mut params = vec![("scene".to_string(), s.name.to_string())];
                if let Some(arm) = p["arm"].as_str() {
                    params.push(("arm".into(), arm.into()));
                }
                for (k, v) in p["sets"].as_object().unwrap() {
                    params.push((k.clone(), v.as_str().unwrap().into()));
                }
                let r = Request::parse(&params).unwrap();
                r.experiment(std::path::Path::new("runs/demo"))
                    .unwrap_or_else(|e| panic!("{} / {}: {}", s.name, p["name"], e.message));
            }
        }
        assert!(SCENES.iter().any(|s| s.name == "free"));
        assert_eq!(SCENES.len(), SHIPPED.len() + 1);
    }

    #[test]
    fn the_page_loads_nothing_from_elsewhere_and_weighs_little() {
        let files = [("index.html", PAGE), ("demo.css", STYLE)];
        for &(name, text) in files.iter().chain(SCRIPTS) {
            assert!(!text.contains("https://"), "{name} names an address elsewhere");
            let elsewhere = text.matches("http://").count() - text.matches("http://www.w3.org/2000/svg").count();
            assert_eq!(elsewhere, 0, "{name} names an address elsewhere");
            assert!(!text.contains("@import"), "{name}");
        }
        let scripts: usize = SCRIPTS.iter().map(|(_, text)| text.len()).sum();
        let bytes = PAGE.len() + scripts + STYLE.len() + catalogue(&Limits::default(), None).to_string().len();
        assert!(bytes < 300 * 1024, "the page weighs {bytes} bytes");
    }
}
