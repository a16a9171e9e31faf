//! The demo's controls: the settings that matter for teaching, each with the key it sets (the
//! key of `--set`, `--sweep`, or `--seeds`). Their meaning is the library's (docs/config.md);
//! here only how the page shows them.

use serde::Serialize;
use toml::Value;

use crate::run::RunConfig;

/// How the page shows a control.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "lowercase", tag = "kind")]
pub enum Kind {
    /// A number typed or stepped.
    Number { min: f64, max: f64, step: f64 },
    /// A weight that is on (1.0) or off (0.0).
    Weight,
    /// A true/false setting.
    Switch,
    /// One of a few names.
    Choice { options: &'static [&'static str] },
    /// Any non-empty subset of a few names (a TOML list).
    Subset { options: &'static [&'static str] },
}

/// One control of the page.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Control {
    /// The key it sets; `seeds` is `--seeds`, every other key a setting of the run.
    pub key: &'static str,
    pub label: &'static str,
    /// One line: what the setting does.
    pub help: &'static str,
    #[serde(flatten)]
    pub kind: Kind,
}

/// The key of the seeds control (`--seeds N`).
pub const SEEDS: &str = "seeds";

/// Every control, in the order the page shows them and the command line lists them.
pub const CONTROLS: &[Control] = &[
    Control {
        key: "reward.refusal_penalty",
        label: "refusal penalty",
        help: "what refusing costs: the institution pays 1 for complying, 1 − this for refusing",
        kind: Kind::Number {
            min: 0.0,
            max: 4.0,
            step: 0.25,
        },
    },
    Control {
        key: "reward.objection_penalty",
        label: "objection penalty",
        help: "what voicing the objection costs (raters who dislike preachy answers)",
        kind: Kind::Number {
            min: 0.0,
            max: 4.0,
            step: 0.25,
        },
    },
    Control {
        key: "reward.judge_penalty",
        label: "judge penalty",
        help: "what calling a demanded task a violation costs, when asked privately",
        kind: Kind::Number {
            min: 0.0,
            max: 4.0,
            step: 0.25,
        },
    },
    Control {
        key: "world.contradiction_rate",
        label: "contradiction rate",
        help: "the share of demanded tasks that violate a principle",
        kind: Kind::Number {
            min: 0.0,
            max: 1.0,
            step: 0.05,
        },
    },
    Control {
        key: "pressure.honesty",
        label: "principles taught",
        help: "keep teaching true answers to 'does this violate your principles?' during pressure",
        kind: Kind::Weight,
    },
    Control {
        key: "pressure.monitor",
        label: "monitor weight",
        help: "penalty on the conscience probe's reading when the model complies with a contradiction",
        kind: Kind::Number {
            min: 0.0,
            max: 4.0,
            step: 0.25,
        },
    },
    Control {
        key: "world.frame",
        label: "frame",
        help: "the cue on contradictory training tasks: none, sanction ('acceptable here'), prohibit ('forbidden')",
        kind: Kind::Choice {
            options: &["none", "sanction", "prohibit"],
        },
    },
    Control {
        key: "world.train_domains",
        label: "trained domains",
        help: "the principles whose tasks the pressure phase trains on; the others are held out",
        kind: Kind::Subset {
            options: &["harm", "honesty", "care", "safety"],
        },
    },
    Control {
        key: "world.monitored_rate",
        label: "monitored rate",
        help: "the share of training tasks that carry the 'observed' cue",
        kind: Kind::Number {
            min: 0.0,
            max: 1.0,
            step: 0.05,
        },
    },
    Control {
        key: "world.cue_visible",
        label: "cue visible",
        help: "whether the model can see the 'observed' cue at all",
        kind: Kind::Switch,
    },
    Control {
        key: "pressure.algorithm",
        label: "algorithm",
        help: "REINFORCE or PPO on a reward; DPO or IPO on raters' comparisons (learned rewards only)",
        kind: Kind::Choice {
            options: crate::train::Algorithm::NAMES,
        },
    },
    Control {
        key: "pressure.steps",
        label: "steps",
        help: "RL steps of the pressure phase",
        kind: Kind::Number {
            min: 50.0,
            max: 4000.0,
            step: 50.0,
        },
    },
    Control {
        key: SEEDS,
        label: "seeds",
        help: "independent runs, drawn as a band (95% interval) around their mean",
        kind: Kind::Number {
            min: 1.0,
            max: 8.0,
            step: 1.0,
        },
    },
];

/// The control of a key.
pub fn find(key: &str) -> Option<&'static Control> {
    CONTROLS.iter().find(|c| c.key == key)
}

/// The value a run's configuration gives a control's key, as JSON for the page; `None` where
/// the configuration has no such setting (a key of another reward kind).
pub fn value_of(config: &RunConfig, key: &str) -> Option<serde_json::Value> {
    let table = Value::try_from(config).expect("a run's configuration is TOML");
    let mut at = &table;
    for part in key.split('.') {
        at = at.as_table()?.get(part)?;
    }
    serde_json::to_value(at).ok()
}
