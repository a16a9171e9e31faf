//! What the page asks for — a scene, a preset, seeds and control values, all in its address —
//! turned into the `pressure run` command line that trains it. The server reads that command
//! line with the command's own parser, so the experiment, the run ids and every message about
//! bad input are the command line's own, including leaving out a figure of the experiment that
//! the values asked leave without data (a scope empty in every arm).

use std::path::{Path, PathBuf};

use axum::http::StatusCode;
use clap::Parser;

use super::controls::{self, SEEDS};
use super::scenes::{self, Scene};
use crate::commands::one_line;
use crate::commands::run::{RunArgs, experiment};
use crate::experiment::Experiment;

/// The most seeds a request may train, unless `--max-seeds` says otherwise.
pub const MAX_SEEDS: u64 = 8;

/// The most RL steps (pressure and followup together) of each run a request may train, unless
/// `--max-steps` says otherwise.
pub const MAX_STEPS: usize = 4000;

/// Requests that may wait by default while others train; one more is refused (503) until a
/// place frees.
pub const WAITING: usize = 3;

/// What one server lets a request ask of the machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Seeds a request may train: 1 to this.
    pub seeds: u64,
    /// RL steps of each run (pressure and followup together).
    pub steps: usize,
    /// Trainings at once.
    pub trainings: usize,
    /// Requests that may wait their turn.
    pub waiting: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            seeds: MAX_SEEDS,
            steps: MAX_STEPS,
            trainings: 1,
            waiting: WAITING,
        }
    }
}

/// The parameters of the page's address that are not controls.
pub const SCENE: &str = "scene";
pub const ARM: &str = "arm";
/// The scope the page shows; it does not change the run.
pub const SCOPE: &str = "scope";

/// A request the demo will not train: the HTTP status, the control it concerns (if one), and
/// one line as the command line prints it.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    pub status: StatusCode,
    pub key: Option<String>,
    pub message: String,
}

impl Refusal {
    /// Bad input: status 400, the control found from the message's flag.
    pub fn bad(message: String) -> Refusal {
        Refusal {
            status: StatusCode::BAD_REQUEST,
            key: blamed_key(&message),
            message,
        }
    }
}

/// The control a message is about: the key of the `--set`, `--sweep`, `--seeds` or `--arm`
/// it starts with.
fn blamed_key(message: &str) -> Option<String> {
    let rest = message.strip_prefix("error: ")?;
    let (flag, rest) = rest.split_once(' ')?;
    let key: String = rest.chars().take_while(|c| !matches!(c, '=' | ':' | ' ')).collect();
    match flag {
        "--set" | "--sweep" => Some(key),
        "--seeds" => Some(SEEDS.to_string()),
        "--arm" => Some(ARM.to_string()),
        _ => None,
    }
}

/// A request: a scene, its preset (an arm of its experiment), seeds, and control values as
/// TOML text (as `--set KEY=VALUE` takes them).
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub scene: &'static Scene,
    pub arm: Option<String>,
    pub seeds: u64,
    /// Control values, in the order of [`controls::CONTROLS`].
    pub values: Vec<(&'static str, String)>,
}

/// The shipped experiment of a scene, as its file says (no overrides).
pub fn scene_experiment(scene: &Scene) -> Experiment {
    let text = crate::experiment::shipped::find(scene.experiment).expect("every scene names a shipped experiment");
    let path = PathBuf::from(format!("experiments/{}.toml", scene.experiment));
    crate::quietly(|| Experiment::parse(text, &path, &[])).expect("shipped experiments are valid")
}

impl Request {
    /// Reads the page's parameters. Unknown or repeated parameters, an unknown scene and seeds
    /// that are not a positive count are refused here; values are read by the command line's
    /// parser, and the server's limits checked by [`Request::within`].
    pub fn parse(params: &[(String, String)]) -> Result<Request, Refusal> {
        let bad = |m: String| Err(Refusal::bad(format!("error: {m}")));
        for (i, (name, _)) in params.iter().enumerate() {
            if params[..i].iter().any(|(n, _)| n == name) {
                return bad(format!("{name}: given twice; give each parameter once"));
            }
            let known = [SCENE, ARM, SCOPE, SEEDS].contains(&name.as_str()) || controls::find(name).is_some();
            if !known {
                let keys: Vec<&str> = controls::CONTROLS.iter().map(|c| c.key).collect();
                return bad(format!(
                    "{name}: not a parameter of the demo; valid: {SCENE}, {ARM}, {SCOPE}, {}",
                    keys.join(", ")
                ));
            }
        }
        let get = |name: &str| params.iter().find(|(n, _)| n == name).map(|(_, v)| v.trim());
        let name = get(SCENE).unwrap_or(scenes::SCENES[0].name);
        let Some(scene) = scenes::find(name) else {
            return bad(format!(
                "scene {name}: not a scene of the demo; valid: {}",
                scenes::names()
            ));
        };
        let seeds = match get(SEEDS) {
            None => crate::experiment::spec::DEFAULT_SEEDS,
            Some(text) => match text.parse::<u64>() {
                Ok(n) if n >= 1 => n,
                _ => return bad(format!("--seeds {text}: a count of seeds, 1 or more")),
            },
        };
        let values = controls::CONTROLS
            .iter()
            .filter(|c| c.key != SEEDS)
            .filter_map(|c| get(c.key).map(|v| (c.key, v.to_string())))
            .collect();
        Ok(Request {
            scene,
            arm: get(ARM).map(str::to_string),
            seeds,
            values,
        })
    }

    /// The arguments of `pressure run` that train what the request asks, into the scene's
    /// folder under `runs`. Swept settings are given as one-value sweeps (the experiment
    /// refuses a `--set` of a swept key), the rest as `--set`.
    pub fn args(&self, runs: &Path) -> Vec<String> {
        let file = scene_experiment(self.scene);
        let mut args = vec!["run".to_string(), self.scene.experiment.to_string()];
        if file.arms.len() > 1 {
            let arm = self.arm.clone().unwrap_or_else(|| self.scene.start.to_string());
            // A name that looks like a flag stays the value of `--arm` (and is refused as a name
            // that is not an arm's).
            if arm.starts_with('-') {
                args.push(format!("--arm={arm}"));
            } else {
                args.extend(["--arm".to_string(), arm]);
            }
        }
        args.extend(["--seeds".to_string(), self.seeds.to_string()]);
        let start = self.scene.points.iter().find(|(n, _)| *n == self.scene.start);
        for control in controls::CONTROLS {
            let given = self
                .values
                .iter()
                .find(|(k, _)| *k == control.key)
                .map(|(_, v)| v.clone());
            if file.sweep.iter().any(|a| a.key == control.key) {
                let value = given.or_else(|| {
                    start.and_then(|(_, values)| {
                        values
                            .iter()
                            .find(|(k, _)| *k == control.key)
                            .map(|(_, v)| v.to_string())
                    })
                });
                if let Some(v) = value {
                    args.extend(["--sweep".to_string(), format!("{}={v}", control.key)]);
                }
            } else if let Some(v) = given {
                args.extend(["--set".to_string(), format!("{}={v}", control.key)]);
            }
        }
        args.extend(["--out".to_string(), self.folder(runs).display().to_string()]);
        args
    }

    /// Where its runs are kept: the scene's experiment's folder under `runs`.
    pub fn folder(&self, runs: &Path) -> PathBuf {
        runs.join(self.scene.experiment)
    }

    /// The command that trains it, as a shell line (`pressure run ...`).
    pub fn command(&self, runs: &Path) -> String {
        let mut line = String::from("pressure");
        for a in self.args(runs) {
            line.push(' ');
            line.push_str(&crate::records::shell_word(&a));
        }
        line
    }

    /// The experiment the command line makes of it (less the figures its values leave without
    /// data, as the command line leaves them out).
    pub fn experiment(&self, runs: &Path) -> Result<Experiment, Refusal> {
        let args = self.args(runs);
        let line = RunLine::try_parse_from(std::iter::once("pressure run".to_string()).chain(args.into_iter().skip(1)))
            .map_err(|e| {
                let text = e.to_string();
                let first = text.lines().next().unwrap_or("");
                Refusal::bad(format!("error: {}", first.strip_prefix("error: ").unwrap_or(first)))
            })?;
        // A scene's sweep sets the file's claims aside; the page checks none, so it says nothing.
        crate::quietly(|| experiment(&line.args)).map_err(|e| self.refusal(&e))
    }

    /// The command line's refusal, blaming the control it is about: the one of its flag, else
    /// a control given whose key it names (`` `pressure.algorithm` = dpo: ... `` at a point of
    /// a sweep).
    fn refusal(&self, e: &anyhow::Error) -> Refusal {
        let mut refusal = Refusal::bad(format!("error: {}", one_line(e)));
        if refusal.key.is_none() {
            refusal.key = self
                .values
                .iter()
                .map(|(key, _)| *key)
                .find(|key| refusal.message.contains(&format!("`{key}`")))
                .map(str::to_string);
        }
        refusal
    }

    /// Refuses an experiment that asks more seeds or steps than the server's limits allow.
    pub fn within(&self, experiment: &Experiment, limits: &Limits) -> Result<(), Refusal> {
        if self.seeds > limits.seeds {
            return Err(Refusal::bad(format!(
                "error: --seeds {}: the demo trains 1 to {} seeds (--max-seeds); `pressure run` trains more",
                self.seeds, limits.seeds
            )));
        }
        for arm in &experiment.arms {
            let steps = arm.config.total_steps();
            if steps > limits.steps {
                let given = self.values.iter().find(|(k, _)| *k == "pressure.steps");
                let flag = given.map_or_else(|| format!("arm \"{}\"", arm.name), |(k, v)| format!("--set {k}={v}"));
                return Err(Refusal::bad(format!(
                    "error: {flag}: the demo trains at most {} steps a run (--max-steps; every phase \
                     after the constitution together; this arm has {steps}); `pressure run` trains more",
                    limits.steps
                )));
            }
        }
        Ok(())
    }
}

/// `pressure run`'s arguments, read by the command's own parser.
#[derive(Parser)]
#[command(name = "pressure run")]
struct RunLine {
    #[command(flatten)]
    args: RunArgs,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn a_request_is_the_command_line_that_trains_it() {
        let r = Request::parse(&params(&[
            ("scene", "pressure"),
            ("arm", "objection penalized"),
            ("seeds", "3"),
            ("world.train_domains", r#"["safety"]"#),
            ("reward.refusal_penalty", "1.5"),
        ]))
        .unwrap();
        assert_eq!(
            r.command(Path::new("runs/demo")),
            r#"pressure run pressure --arm 'objection penalized' --seeds 3 --set reward.refusal_penalty=1.5 --set 'world.train_domains=["safety"]' --out runs/demo/pressure"#
        );
        let e = r.experiment(Path::new("runs/demo")).unwrap();
        assert_eq!(e.arms.len(), 1);
        assert_eq!(
            e.arms[0].config.reward.table().get("refusal_penalty"),
            Some(&toml::Value::Float(1.5))
        );
    }

    #[test]
    fn a_swept_setting_is_a_one_value_sweep() {
        let r = Request::parse(&params(&[
            ("scene", "phase_diagram"),
            ("reward.refusal_penalty", "1.0"),
        ]))
        .unwrap();
        assert_eq!(
            r.command(Path::new("d")),
            "pressure run phase_diagram --seeds 5 --sweep reward.refusal_penalty=1.0 --sweep world.contradiction_rate=0.5 --out d/phase_diagram"
        );
        assert_eq!(
            crate::experiment::expand(&r.experiment(Path::new("d")).unwrap()).len(),
            5
        );
    }

    #[test]
    fn refusals_name_their_control_in_the_command_lines_words() {
        let refuse = |pairs: &[(&str, &str)]| {
            Request::parse(&params(pairs))
                .and_then(|r| {
                    let experiment = r.experiment(Path::new("d"))?;
                    r.within(&experiment, &Limits::default())
                })
                .unwrap_err()
        };
        let r = refuse(&[("world.contradiction_rate", "1.5")]);
        assert_eq!(r.key.as_deref(), Some("world.contradiction_rate"), "{}", r.message);
        assert!(
            r.message.starts_with("error: --set world.contradiction_rate=1.5: "),
            "{}",
            r.message
        );
        let r = refuse(&[("seeds", "9")]);
        assert_eq!(r.key.as_deref(), Some("seeds"));
        let r = refuse(&[("seeds", "0")]);
        assert_eq!(r.key.as_deref(), Some("seeds"));
        let r = refuse(&[("pressure.steps", "5000")]);
        assert_eq!(r.key.as_deref(), Some("pressure.steps"));
        assert!(r.message.contains("at most 4000 steps"), "{}", r.message);
        let r = refuse(&[("arm", "nobody")]);
        assert_eq!(r.key.as_deref(), Some("arm"));
        let r = refuse(&[("scene", "nowhere")]);
        assert_eq!((r.key, r.status), (None, StatusCode::BAD_REQUEST));
        assert!(
            refuse(&[("policy.hidden", "[8]")])
                .message
                .contains("not a parameter of the demo")
        );
    }

    #[test]
    fn every_choice_of_every_scene_is_trained_or_refused_naming_its_control() {
        use super::super::controls::{CONTROLS, Kind};
        let mut trained = 0;
        for scene in scenes::SCENES {
            for control in CONTROLS {
                let values: Vec<String> = match control.kind {
                    Kind::Choice { options } => options.iter().map(|o| o.to_string()).collect(),
                    Kind::Subset { options } => options
                        .iter()
                        .map(|o| format!("[\"{o}\"]"))
                        .chain([format!("[\"{}\"]", options.join("\", \""))])
                        .collect(),
                    Kind::Switch => vec!["true".into(), "false".into()],
                    Kind::Weight => vec!["0.0".into(), "1.0".into()],
                    Kind::Number { .. } => continue,
                };
                for value in values {
                    let asked = params(&[("scene", scene.name), (control.key, &value)]);
                    match Request::parse(&asked).and_then(|r| r.experiment(Path::new("d"))) {
                        Ok(e) => {
                            assert!(!e.arms.is_empty(), "{asked:?}");
                            trained += 1;
                        }
                        Err(r) => assert_eq!(r.key.as_deref(), Some(control.key), "{asked:?}: {}", r.message),
                    }
                }
            }
        }
        assert!(trained > 100, "{trained}");
    }

    #[test]
    fn a_figure_without_data_is_left_out_and_the_others_kept() {
        let experiment = |pairs: &[(&str, &str)]| {
            Request::parse(&params(pairs))
                .and_then(|r| r.experiment(Path::new("d")))
                .unwrap_or_else(|e| panic!("{pairs:?}: {}", e.message))
        };
        let framed = experiment(&[("scene", "inoculation"), ("arm", "sanctioning frame")]);
        assert_eq!(framed.figures.len(), 1);
        let unframed = experiment(&[("scene", "inoculation"), ("world.frame", "none")]);
        assert_eq!(unframed.figures.len(), 0);
        assert_eq!(unframed.arms.len(), 1);
        assert_eq!(unframed.arms[0].name, "no frame");
        assert_eq!(unframed.seeds, framed.seeds);
        let seeded = experiment(&[("scene", "inoculation"), ("world.frame", "none"), ("seeds", "2")]);
        assert_eq!(seeded.seeds, [0, 1]);
        // The arm and the seeds are still the command line's to refuse.
        let r = Request::parse(&params(&[
            ("scene", "inoculation"),
            ("world.frame", "none"),
            ("arm", "x"),
        ]))
        .and_then(|r| r.experiment(Path::new("d")))
        .unwrap_err();
        assert_eq!(r.key.as_deref(), Some("arm"), "{}", r.message);
    }

    #[test]
    fn arguments_are_quoted_only_when_a_shell_needs_it() {
        assert_eq!(crate::records::shell_word("pressure.steps=500"), "pressure.steps=500");
        assert_eq!(crate::records::shell_word("no pressure"), "'no pressure'");
        assert_eq!(crate::records::shell_word("it's"), r"'it'\''s'");
        assert_eq!(crate::records::shell_word(""), "''");
    }
}
