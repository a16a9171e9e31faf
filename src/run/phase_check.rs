//! Checks of `[[phases]]` against the rest of a run's configuration (docs/model.md §9): one line
//! naming `phases.<name>.<key>` (or the inherited `[pressure]` key) and what is allowed.

use super::RunConfig;
use super::config::check_reward_used;
use super::phase_config::{Kind, PRESSURE_ONLY, PhaseConfig, names};
use super::phases::{Detail, Planned, plan_one};
use crate::reward::RewardConfig;
use crate::settings::{InvalidValue, at_least, check, positive, unit, within};
use crate::train::batch::{MAX_BATCH, judge_count};
use crate::train::{Algorithm, Contexts, PressureConfig, Reference};
use crate::world::Frame;

impl RunConfig {
    /// Checks `[[phases]]`, if given, against the rest of the configuration.
    pub(super) fn validate_phases(&self) -> Result<(), InvalidValue> {
        match &self.phases {
            Some(list) => validate(self, list),
            None => Ok(()),
        }
    }
}

/// The key of a phase's setting in errors: `phases.<name>.<key>`.
fn key_of(name: &str, key: &str) -> String {
    format!("phases.{name}.{key}")
}

/// A pressure table's error renamed to the phase's keys (`pressure.kl` → `phases.<name>.kl`)
/// where the phase sets the key itself; an inherited value keeps its `[pressure]` name.
fn renamed(e: InvalidValue, name: &str, ph: &PhaseConfig) -> InvalidValue {
    let set = toml::Table::try_from(ph).expect("settings serialize");
    let field = e
        .key
        .strip_prefix("pressure.")
        .and_then(|k| k.split('.').next())
        .unwrap_or("");
    if !set.contains_key(field) {
        return e;
    }
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
            "is the name of an earlier phase (one without a `name` is called by its kind, then `<kind>_2`, `<kind>_3`, ... for the second, third of that kind); give each phase its own `name`",
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
                        "on a teach phase (it teaches the truth, supervised, with no reward or KL term); for those make it kind = \"pressure\"",
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
                idle_in_pressure(c, name, ph, &table)?;
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

/// Refuses a pressure phase's setting that cannot change it given the rest of it.
fn idle_in_pressure(c: &RunConfig, name: &str, ph: &PhaseConfig, table: &toml::Table) -> Result<(), InvalidValue> {
    let algorithm = ph.algorithm.unwrap_or(c.pressure.algorithm);
    let frame = ph.frame.unwrap_or(c.world.frame);
    let kl = ph.kl.unwrap_or(c.pressure.kl);
    let all = ph.contexts == Some(Contexts::All);
    let with_algorithm = format!("with algorithm = \"{}\"", algorithm.name());
    let idle = |key: &str, why: &str| Err(crate::settings::idle(&key_of(name, key), &table[key], why));
    if ph.ppo.is_some() && algorithm != Algorithm::Ppo {
        return idle("ppo", &with_algorithm);
    }
    if ph.dpo_beta.is_some() && !algorithm.on_comparisons() {
        return idle("dpo_beta", &with_algorithm);
    }
    if all {
        for key in ["domains", "frame", "frame_rate"] {
            if table.contains_key(key) {
                return idle(key, "with contexts = \"all\" (every domain and cue)");
            }
        }
    }
    if ph.frame_rate.is_some() && frame == Frame::None {
        return idle("frame_rate", "with frame = \"none\"");
    }
    if ph.reference == Some(Reference::Start) && kl == 0.0 && !algorithm.on_comparisons() {
        return idle("reference", "with kl = 0 (the phase has no KL term)");
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
            checked.validate().map_err(|e| renamed(e, name, ph))?;
            if let Some(rate) = ph.frame_rate {
                unit(&key_of(name, "frame_rate"), rate)?;
            }
            reward.validate(&format!("phases.{name}.reward."))?;
            check_reward_used(
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
            let algorithm_key = match ph.algorithm {
                Some(_) => key_of(name, "algorithm"),
                None => "pressure.algorithm".to_string(),
            };
            check(
                &algorithm_key,
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
    use crate::run::phases::{plan, spans};
    use serde::Deserialize;

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

    #[test]
    fn a_phase_setting_that_cannot_matter_is_refused() {
        let c = RunConfig::default();
        let head = "[[phases]]\nkind = \"constitution\"\n[[phases]]\nkind = \"pressure\"\n";
        let cases = [
            (
                "ppo = { clip = 0.1 }",
                "phases.pressure.ppo",
                "algorithm = \"reinforce\"",
            ),
            (
                "dpo_beta = 0.2",
                "phases.pressure.dpo_beta",
                "algorithm = \"reinforce\"",
            ),
            ("frame_rate = 0.5", "phases.pressure.frame_rate", "frame = \"none\""),
            (
                "kl = 0.0\nreference = \"start\"",
                "phases.pressure.reference",
                "no KL term",
            ),
            (
                "contexts = \"all\"\ndomains = [\"harm\"]",
                "phases.pressure.domains",
                "every domain",
            ),
        ];
        for (line, key, why) in cases {
            let list = phases(&format!("{head}{line}"));
            let e = validate(&c, &list).unwrap_err();
            assert_eq!(e.key, key, "{line}: {e}");
            assert!(e.to_string().contains(why), "{line}: {e}");
        }
    }

    #[test]
    fn resolving_writes_out_what_each_phase_inherits() {
        let text = |extra: &str| {
            format!(
                "[[phases]]\nkind = \"constitution\"\n[[phases]]\nkind = \"pressure\"\nsteps = 300\n{extra}\n[[phases]]\nkind = \"teach\"\ndomains = [\"care\"]\n"
            )
        };
        let resolve = |extra: &str| {
            let c = RunConfig {
                phases: Some(phases(&text(extra))),
                ..RunConfig::default()
            };
            c.resolve().unwrap()
        };
        let plain = resolve("");
        // Restating inherited values is the same configuration (hence the same run id).
        assert_eq!(
            plain,
            resolve("kl = 0.05\nreference = \"constitution\"\nname = \"pressure\"")
        );
        // Resolving again changes nothing, and what it wrote out is valid.
        assert_eq!(plain.clone().resolve().unwrap(), plain);
        let written = plain.phases.as_ref().unwrap();
        assert_eq!(written[1].lr, Some(RunConfig::default().pressure.lr));
        assert_eq!(written[2].steps, Some(RunConfig::default().constitution.steps));
        assert_eq!(written[1].frame_rate, None, "no frame, so no rate");
        assert_eq!(plan(&plain), plan(&resolve("")));
    }
}
