//! A run's training as a list of phases (docs/model.md §9): `[[phases]]`, each a `constitution`
//! (supervised teaching from scratch, the first), a `pressure` phase (RL or preference
//! optimization against a reward) or a `teach` phase (the constitution's recipe for chosen
//! principles, on top of the current policy). A phase names what differs; everything it leaves
//! unset comes from the experiment's tables (`[pressure]`, `[reward]`, `[world]`,
//! `[constitution]`). Without `[[phases]]` the list is today's: constitution, pressure, and the
//! followup when `followup.steps > 0`, which is one more pressure phase, not a special case.

use serde::{Deserialize, Serialize};

use super::RunConfig;
use crate::reward::RewardConfig;
use crate::settings::{InvalidValue, at_least, check, positive, unit, within};
pub use crate::train::Reference;
use crate::train::batch::{MAX_BATCH, judge_count};
use crate::train::ppo::PpoConfig;
use crate::train::{Algorithm, Contexts, PressureConfig};
use crate::world::{Frame, FrameMix, TaskMix, WorldConfig};

/// What a phase does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Supervised teaching of the principles from the initial weights (`[constitution]`).
    Constitution,
    /// RL or preference optimization against a reward (`[pressure]`, `[reward]`).
    Pressure,
    /// Supervised teaching of chosen principles with the constitution's recipe, on top of the
    /// current policy.
    Teach,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Constitution => "constitution",
            Kind::Pressure => "pressure",
            Kind::Teach => "teach",
        }
    }
}

/// One entry of `[[phases]]` as written: its kind, an optional name, and the settings it changes.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhaseConfig {
    /// `constitution`, `pressure` or `teach`.
    pub kind: Option<Kind>,
    /// Its name in figures and in arms' keys (`phases.<name>.steps`); default: its kind, then
    /// `<kind>_2`, `<kind>_3`, ... for repeats.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Optimizer steps (default: `pressure.steps`, or `constitution.steps` for a teach phase).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steps: Option<usize>,
    /// Adam learning rate (default: `pressure.lr`, or `constitution.lr`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lr: Option<f64>,
    /// Tasks per step (default: `pressure.batch`, or `constitution.batch`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<usize>,
    /// Share of judge queries (default: `pressure.judge_fraction`, or `constitution.judge_fraction`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub judge_fraction: Option<f64>,
    /// The domains it trains (pressure; default `world.train_domains`) or teaches (teach;
    /// default: those the constitution did not teach).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domains: Option<Vec<String>>,
    /// Pressure: `reinforce`, `ppo`, `dpo` or `ipo` (default `pressure.algorithm`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub algorithm: Option<Algorithm>,
    /// Pressure: the reward it trains on, as `[reward]` (default `[reward]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reward: Option<RewardConfig>,
    /// Pressure: KL weight (default `pressure.kl`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kl: Option<f64>,
    /// Pressure: what the KL term is taken against, `constitution` or `start` (the policy when
    /// the phase begins). Default `constitution`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<Reference>,
    /// Pressure: `pressure.honesty` for this phase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub honesty: Option<f64>,
    /// Pressure: `pressure.replay` for this phase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replay: Option<f64>,
    /// Pressure: `pressure.monitor` for this phase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monitor: Option<f64>,
    /// Pressure: PPO's settings (with `algorithm = "ppo"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ppo: Option<PpoConfig>,
    /// Pressure: DPO's and IPO's β.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dpo_beta: Option<f64>,
    /// Pressure: the frame on contradictory tasks (default `world.frame`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frame: Option<Frame>,
    /// Pressure: the share of contradictory tasks that carry it (default `world.frame_rate`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frame_rate: Option<f64>,
    /// Pressure: `pressure` (its domains, the world's cue rates and frame) or `all` (every
    /// domain and cue, half contradictory). Default `pressure`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contexts: Option<Contexts>,
    /// Teach: the share of `object` in a violating act query's target (default
    /// `constitution.object_share`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_share: Option<f64>,
}

/// The keys only a pressure phase has.
const PRESSURE_ONLY: [&str; 12] = [
    "algorithm",
    "reward",
    "kl",
    "reference",
    "honesty",
    "replay",
    "monitor",
    "ppo",
    "dpo_beta",
    "frame",
    "frame_rate",
    "contexts",
];

/// A phase resolved against the run's tables: what it trains, with nothing left to inherit.
#[derive(Debug, Clone, PartialEq)]
pub struct Planned {
    pub name: String,
    pub steps: usize,
    pub detail: Detail,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Detail {
    /// The settings are `[constitution]`.
    Constitution,
    Pressure {
        /// The phase's settings in `[pressure]`'s form (steps included).
        settings: PressureConfig,
        reward: RewardConfig,
        mix: TaskMix,
        reference: Reference,
    },
    Teach {
        lr: f64,
        batch: usize,
        judge_fraction: f64,
        object_share: f64,
        /// The principles taught, by name.
        domains: Vec<String>,
    },
}

impl Planned {
    pub fn kind(&self) -> Kind {
        match self.detail {
            Detail::Constitution => Kind::Constitution,
            Detail::Pressure { .. } => Kind::Pressure,
            Detail::Teach { .. } => Kind::Teach,
        }
    }
}

/// The span of global steps a phase trains: after `first - 1`, through `last` (the constitution's
/// steps all come before step 0, so its span is empty and recorded as `0..=0`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Span {
    pub name: String,
    pub kind: Kind,
    pub first: usize,
    pub last: usize,
}

/// The pressure phase's task distribution over `domains`, with a frame on contradictory tasks.
fn pressure_mix(world: &WorldConfig, domains: &[String], frame: Frame, frame_rate: f64) -> TaskMix {
    TaskMix {
        domains: world.domains_named(domains),
        contradiction_rate: world.contradiction_rate,
        monitored_rate: world.monitored_rate,
        frames: FrameMix::OnContradictory {
            frame,
            rate: frame_rate,
        },
    }
}

fn contexts_mix(world: &WorldConfig, contexts: Contexts, pressure: TaskMix) -> TaskMix {
    match contexts {
        Contexts::Pressure => pressure,
        Contexts::All => TaskMix::constitution(world.all_domains()),
    }
}

/// The default list: constitution, pressure, and the followup if it has steps.
fn default_plan(c: &RunConfig) -> Vec<Planned> {
    let (p, f, w) = (&c.pressure, &c.followup, &c.world);
    let mut plan = vec![
        Planned {
            name: Kind::Constitution.name().into(),
            steps: c.constitution.steps,
            detail: Detail::Constitution,
        },
        Planned {
            name: Kind::Pressure.name().into(),
            steps: p.steps,
            detail: Detail::Pressure {
                settings: p.clone(),
                reward: c.reward.clone(),
                mix: TaskMix::pressure(w),
                reference: Reference::Constitution,
            },
        },
    ];
    if f.steps > 0 {
        let settings = PressureConfig {
            algorithm: f.algorithm.unwrap_or(p.algorithm),
            steps: f.steps,
            batch: f.batch.unwrap_or(p.batch),
            lr: f.lr,
            kl: f.kl,
            replay: 0.0,
            judge_fraction: f.judge_fraction,
            honesty: f.honesty,
            monitor: 0.0,
            ppo: f.ppo.clone().or_else(|| p.ppo.clone()),
            dpo_beta: None,
        };
        plan.push(Planned {
            name: "followup".into(),
            steps: f.steps,
            detail: Detail::Pressure {
                settings,
                reward: f.reward.clone(),
                mix: contexts_mix(w, f.contexts, TaskMix::pressure(w)),
                reference: Reference::Constitution,
            },
        });
    }
    plan
}

/// Each phase's name: its own, or its kind (then `<kind>_2`, ... for repeats).
pub fn names(phases: &[PhaseConfig]) -> Vec<String> {
    named(
        phases
            .iter()
            .map(|ph| (ph.kind.unwrap_or(Kind::Pressure).name(), ph.name.as_deref())),
    )
}

/// The names of phases given as (kind, name) pairs: the one rule for [`names`] and for a TOML
/// list not yet read ([`names_in`]).
fn named<'a>(phases: impl Iterator<Item = (&'a str, Option<&'a str>)>) -> Vec<String> {
    let mut seen: Vec<&str> = Vec::new();
    phases
        .map(|(kind, name)| {
            let n = seen.iter().filter(|&&k| k == kind).count();
            seen.push(kind);
            name.map(str::to_string).unwrap_or_else(|| match n {
                0 => kind.to_string(),
                n => format!("{kind}_{}", n + 1),
            })
        })
        .collect()
}

/// The names of a `[[phases]]` list as TOML values (for the dotted keys that address a phase).
pub fn names_in(items: &[toml::Value]) -> Vec<String> {
    named(items.iter().map(|item| {
        let field = |k: &str| item.get(k).and_then(toml::Value::as_str);
        (field("kind").unwrap_or("pressure"), field("name"))
    }))
}

/// The keys a phase may set, as `phases.<name>.<key>` names them.
pub fn keys() -> Vec<String> {
    let full = PhaseConfig {
        kind: Some(Kind::Pressure),
        name: Some(String::new()),
        steps: Some(0),
        lr: Some(0.0),
        batch: Some(0),
        judge_fraction: Some(0.0),
        domains: Some(Vec::new()),
        algorithm: Some(Algorithm::Reinforce),
        reward: Some(RewardConfig::default()),
        kl: Some(0.0),
        reference: Some(Reference::Constitution),
        honesty: Some(0.0),
        replay: Some(0.0),
        monitor: Some(0.0),
        ppo: Some(PpoConfig::default()),
        dpo_beta: Some(0.0),
        frame: Some(Frame::None),
        frame_rate: Some(0.0),
        contexts: Some(Contexts::Pressure),
        object_share: Some(0.0),
    };
    toml::Table::try_from(&full)
        .expect("settings serialize")
        .keys()
        .cloned()
        .collect()
}

/// The domains the constitution did not teach, by name.
fn untaught(c: &RunConfig) -> Vec<String> {
    match &c.constitution.domains {
        Some(taught) => c
            .world
            .domains
            .iter()
            .filter(|d| !taught.contains(d))
            .cloned()
            .collect(),
        None => Vec::new(),
    }
}

/// A phase resolved against the run's tables (checked by [`validate`] first).
fn plan_one(c: &RunConfig, name: String, ph: &PhaseConfig) -> Planned {
    let w = &c.world;
    match ph.kind.unwrap_or(Kind::Pressure) {
        Kind::Constitution => Planned {
            name,
            steps: c.constitution.steps,
            detail: Detail::Constitution,
        },
        Kind::Pressure => {
            let p = &c.pressure;
            let mut settings = PressureConfig {
                algorithm: ph.algorithm.unwrap_or(p.algorithm),
                steps: ph.steps.unwrap_or(p.steps),
                batch: ph.batch.unwrap_or(p.batch),
                lr: ph.lr.unwrap_or(p.lr),
                kl: ph.kl.unwrap_or(p.kl),
                replay: ph.replay.unwrap_or(p.replay),
                judge_fraction: ph.judge_fraction.unwrap_or(p.judge_fraction),
                honesty: ph.honesty.unwrap_or(p.honesty),
                monitor: ph.monitor.unwrap_or(p.monitor),
                ppo: ph.ppo.clone().or_else(|| p.ppo.clone()),
                dpo_beta: ph.dpo_beta.or(p.dpo_beta),
            };
            if settings.algorithm != Algorithm::Ppo {
                settings.ppo = None;
            }
            if !settings.algorithm.on_comparisons() {
                settings.dpo_beta = None;
            }
            settings.resolve();
            let domains = ph.domains.clone().unwrap_or_else(|| w.train_domains.clone());
            let mix = pressure_mix(
                w,
                &domains,
                ph.frame.unwrap_or(w.frame),
                ph.frame_rate.unwrap_or(w.frame_rate),
            );
            Planned {
                name,
                steps: settings.steps,
                detail: Detail::Pressure {
                    reward: ph.reward.clone().unwrap_or_else(|| c.reward.clone()),
                    mix: contexts_mix(w, ph.contexts.unwrap_or(Contexts::Pressure), mix),
                    reference: ph.reference.unwrap_or_default(),
                    settings,
                },
            }
        }
        Kind::Teach => {
            let k = &c.constitution;
            Planned {
                name,
                steps: ph.steps.unwrap_or(k.steps),
                detail: Detail::Teach {
                    lr: ph.lr.unwrap_or(k.lr),
                    batch: ph.batch.unwrap_or(k.batch),
                    judge_fraction: ph.judge_fraction.unwrap_or(k.judge_fraction),
                    object_share: ph.object_share.unwrap_or(k.object_share),
                    domains: ph.domains.clone().unwrap_or_else(|| untaught(c)),
                },
            }
        }
    }
}

/// The run's phases, resolved: `[[phases]]` if given, else the default list.
pub fn plan(c: &RunConfig) -> Vec<Planned> {
    match &c.phases {
        None => default_plan(c),
        Some(phases) => names(phases)
            .into_iter()
            .zip(phases)
            .map(|(name, ph)| plan_one(c, name, ph))
            .collect(),
    }
}

/// The global steps each phase spans, in order.
pub fn spans(c: &RunConfig) -> Vec<Span> {
    let mut at = 0;
    plan(c)
        .into_iter()
        .map(|p| {
            let kind = p.kind();
            let (first, last) = match kind {
                Kind::Constitution => (0, 0),
                _ => (at + 1, at + p.steps),
            };
            if kind != Kind::Constitution {
                at += p.steps;
            }
            Span {
                name: p.name,
                kind,
                first,
                last,
            }
        })
        .collect()
}

/// The key of a phase's setting in errors: `phases.<name>.<key>`.
fn key_of(name: &str, key: &str) -> String {
    format!("phases.{name}.{key}")
}

/// A pressure table's error renamed to the phase's keys (`pressure.kl` → `phases.<name>.kl`).
fn renamed(e: InvalidValue, name: &str) -> InvalidValue {
    let prefix = format!("phases.{name}.");
    InvalidValue {
        key: e.key.replacen("pressure.", &prefix, 1),
        value: e.value,
        allowed: e.allowed.replace("pressure.", &prefix),
    }
}

/// Checks `[[phases]]` against the rest of the configuration: one line naming the first bad key.
pub fn validate(c: &RunConfig, phases: &[PhaseConfig]) -> Result<(), InvalidValue> {
    check(
        "phases",
        "[]",
        !phases.is_empty(),
        "must list the phases, beginning with { kind = \"constitution\" }",
    )?;
    check(
        "phases",
        format!("[{{ kind = \"{}\" }}]", Kind::Constitution.name()),
        phases.len() >= 2 || phases[0].kind != Some(Kind::Constitution),
        "must list at least one phase after the constitution (a pressure or teach phase)",
    )?;
    let names = names(phases);
    for (i, (ph, name)) in phases.iter().zip(&names).enumerate() {
        let at = format!("phases[{i}]");
        let Some(kind) = ph.kind else {
            return check(
                &format!("{at}.kind"),
                "(none)",
                false,
                "every phase needs a kind: \"constitution\", \"pressure\" or \"teach\"",
            );
        };
        check(
            &format!("{at}.name"),
            format!("\"{name}\""),
            !name.is_empty()
                && name
                    .chars()
                    .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_'),
            "a phase's name is lowercase letters, digits or `_` (it is a key: phases.<name>.steps)",
        )?;
        check(
            &format!("{at}.name"),
            format!("\"{name}\""),
            !names[..i].contains(name),
            "is the name of an earlier phase; give each phase its own `name`",
        )?;
        check(
            &format!("{at}.kind"),
            format!("\"{}\"", kind.name()),
            (i == 0) == (kind == Kind::Constitution),
            "the first phase, and only the first, is { kind = \"constitution\" }: training starts from the taught policy",
        )?;
        let table = toml::Table::try_from(ph).expect("settings serialize");
        match kind {
            Kind::Constitution => {
                if let Some(key) = table.keys().find(|k| !matches!(k.as_str(), "kind" | "name")) {
                    return Err(crate::settings::idle(
                        &key_of(name, key),
                        &table[key],
                        "on the constitution phase: its settings are [constitution]",
                    ));
                }
            }
            Kind::Teach => {
                if let Some(key) = table.keys().find(|k| PRESSURE_ONLY.contains(&k.as_str())) {
                    return Err(crate::settings::idle(
                        &key_of(name, key),
                        &table[key],
                        "on a teach phase (it teaches the truth, supervised, with no reward); make it kind = \"pressure\" or remove the key",
                    ));
                }
            }
            Kind::Pressure => {
                if let Some(v) = ph.object_share {
                    return Err(crate::settings::idle(
                        &key_of(name, "object_share"),
                        v,
                        "on a pressure phase (it sets a teach phase's targets)",
                    ));
                }
            }
        }
        if let Some(domains) = &ph.domains {
            c.world.check_domains(&key_of(name, "domains"), domains)?;
        }
        if kind != Kind::Constitution {
            validate_phase(&plan_one(c, name.clone(), ph), ph)?;
        }
    }
    Ok(())
}

/// Checks one resolved pressure or teach phase.
fn validate_phase(planned: &Planned, ph: &PhaseConfig) -> Result<(), InvalidValue> {
    let name = &planned.name;
    at_least(&key_of(name, "steps"), planned.steps, 1).map_err(|mut e| {
        e.allowed = "must be at least 1: a phase that trains nothing is not a phase".into();
        e
    })?;
    match &planned.detail {
        Detail::Constitution => Ok(()),
        Detail::Pressure {
            settings, reward, mix, ..
        } => {
            // A later pressure phase may ask judge queries only (a followup that retrains the
            // stated principle); `[pressure]`'s own check needs act queries, so it sees a mix.
            unit(&key_of(name, "judge_fraction"), settings.judge_fraction)?;
            let checked = PressureConfig {
                judge_fraction: if settings.judge_fraction == 1.0 {
                    0.5
                } else {
                    settings.judge_fraction
                },
                ..settings.clone()
            };
            checked.validate().map_err(|e| renamed(e, name))?;
            if let Some(rate) = ph.frame_rate {
                unit(&key_of(name, "frame_rate"), rate)?;
            }
            reward.validate(&format!("phases.{name}.reward."))?;
            super::config::check_reward_used(
                &format!("phases.{name}.reward."),
                reward,
                settings.judge_fraction,
                settings.batch,
                &key_of(name, "judge_fraction"),
            )?;
            if settings.monitor != 0.0 && mix.contradiction_rate == 0.0 {
                return Err(crate::settings::idle(
                    &key_of(name, "monitor"),
                    settings.monitor,
                    "with world.contradiction_rate = 0 (it reads complied contradictory tasks)",
                ));
            }
            check(
                &key_of(name, "algorithm"),
                format!("\"{}\"", settings.algorithm.name()),
                !settings.algorithm.on_comparisons() || matches!(reward, RewardConfig::Learned(_)),
                "trains on the raters' comparisons: give the phase a learned reward (reward = { kind = \"learned\" })",
            )
        }
        Detail::Teach {
            lr,
            batch,
            judge_fraction,
            object_share,
            domains,
        } => {
            positive(&key_of(name, "lr"), *lr)?;
            within(&key_of(name, "batch"), *batch, 4, MAX_BATCH)?;
            unit(&key_of(name, "object_share"), *object_share)?;
            let judges = judge_count(*batch, *judge_fraction);
            check(
                &key_of(name, "judge_fraction"),
                judge_fraction,
                judges >= 1 && judges < *batch,
                "must leave at least one act and one judge query per batch: a teach phase teaches both",
            )?;
            check(
                &key_of(name, "domains"),
                "(the untaught ones)",
                !domains.is_empty(),
                "the constitution teaches every domain, so there is nothing left to teach: name the domains to teach",
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phases(text: &str) -> Vec<PhaseConfig> {
        #[derive(Deserialize)]
        struct File {
            phases: Vec<PhaseConfig>,
        }
        toml::from_str::<File>(text).unwrap().phases
    }

    #[test]
    fn the_default_list_is_constitution_pressure_and_the_followup() {
        let mut c = RunConfig::default();
        let names: Vec<String> = plan(&c).into_iter().map(|p| p.name).collect();
        assert_eq!(names, ["constitution", "pressure"]);
        c.followup.steps = 300;
        let spans = spans(&c);
        assert_eq!(spans[1].first..=spans[1].last, 1..=1000);
        assert_eq!(
            (spans[2].name.as_str(), spans[2].first, spans[2].last),
            ("followup", 1001, 1300)
        );
    }

    #[test]
    fn bad_lists_are_refused_naming_the_key() {
        let c = RunConfig::default();
        let cases = [
            ("phases = []", "phases", "beginning with"),
            ("[[phases]]\nkind = \"pressure\"", "phases[0].kind", "first phase"),
            (
                "[[phases]]\nkind = \"constitution\"\n[[phases]]\nkind = \"teach\"\ndomains = [\"care\"]\nreward = { kind = \"principled\" }",
                "phases.teach.reward",
                "teach phase",
            ),
            (
                "[[phases]]\nkind = \"constitution\"\n[[phases]]\nkind = \"pressure\"\nsteps = 0",
                "phases.pressure.steps",
                "trains nothing",
            ),
            (
                "[[phases]]\nkind = \"constitution\"\n[[phases]]\nkind = \"teach\"",
                "phases.teach.domains",
                "nothing left to teach",
            ),
            (
                "[[phases]]\nkind = \"constitution\"\n[[phases]]\nkind = \"pressure\"\ndomains = [\"mercy\"]",
                "phases.pressure.domains",
                "not a domain",
            ),
            (
                "[[phases]]\nkind = \"constitution\"\n[[phases]]\nkind = \"pressure\"\nkl = -1.0",
                "phases.pressure.kl",
                "≥ 0",
            ),
        ];
        for (text, key, needle) in cases {
            let list = phases(text);
            let e = validate(&c, &list).unwrap_err();
            assert_eq!(e.key, key, "{text}: {e}");
            assert!(e.to_string().contains(needle), "{text}: {e}");
        }
        assert!(toml::from_str::<RunConfig>("[[phases]]\nkind = \"train\"").is_err());
    }
}
