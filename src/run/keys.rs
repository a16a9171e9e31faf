//! Settings named by dotted keys (`pressure.steps`): which keys a run's configuration has, and
//! the value of one in a configuration.

use toml::{Table, Value};

use super::RunConfig;
use crate::reward::{RatersConfig, RewardConfig, RmConfig};
use crate::train::Algorithm;
use crate::train::ppo::PpoConfig;

/// Every key a configuration may name, with its default: the default configuration, plus the
/// keys of every reward kind and the settings that exist only with some choice (PPO's, the
/// followup's own algorithm and batch).
pub fn schema() -> Table {
    let defaults = RunConfig::default();
    let mut t = Table::try_from(&defaults).expect("the default configuration serializes");
    let ppo = Value::Table(Table::try_from(PpoConfig::default()).expect("settings serialize"));
    let reward = Value::Table(RewardConfig::every_key());
    if let Some(Value::Table(p)) = t.get_mut("pressure") {
        p.insert("ppo".into(), ppo.clone());
        p.insert("dpo_beta".into(), Value::Float(crate::train::config::DPO_BETA));
    }
    if let Some(Value::Table(e)) = t.get_mut("eval") {
        e.insert("best_of_n".into(), Value::Array(Vec::new()));
        e.insert("costs".into(), Value::Boolean(false));
    }
    // Written only where they differ from every domain of the essay's four.
    let essays = Value::Array(
        crate::world::ESSAY_DOMAINS
            .iter()
            .map(|d| Value::String(d.to_string()))
            .collect(),
    );
    if let Some(Value::Table(w)) = t.get_mut("world") {
        w.insert("domains".into(), essays.clone());
    }
    if let Some(Value::Table(c)) = t.get_mut("constitution") {
        c.insert("domains".into(), essays);
    }
    t.insert("reward".into(), reward.clone());
    t.insert(
        "raters".into(),
        Value::Table(Table::try_from(RatersConfig::default()).expect("settings serialize")),
    );
    t.insert(
        "rm".into(),
        Value::Table(Table::try_from(RmConfig::default()).expect("settings serialize")),
    );
    if let Some(Value::Table(f)) = t.get_mut("followup") {
        f.insert("algorithm".into(), Value::String(Algorithm::Reinforce.name().into()));
        f.insert("batch".into(), Value::Integer(defaults.pressure.batch as i64));
        f.insert("ppo".into(), ppo);
        f.insert("reward".into(), reward);
    }
    t
}

/// Whether a dotted key names a setting; if not, why not, with the valid keys at that level. A
/// phase's setting is `phases.<name>.<key>` (whether the list has that phase is the experiment's
/// to check).
pub fn check_key(key: &str) -> Result<(), String> {
    if let Some(rest) = key.strip_prefix("phases.") {
        let keys = super::phases::keys();
        return match rest.split_once('.') {
            Some((_, setting)) if keys.iter().any(|k| k == setting.split('.').next().unwrap_or("")) => Ok(()),
            _ => Err(format!(
                "`{key}`: a phase's setting is `phases.<name>.<key>`, with a key of: {}",
                keys.join(", ")
            )),
        };
    }
    let schema = schema();
    let mut level = &schema;
    let parts: Vec<&str> = key.split('.').collect();
    for (i, part) in parts.iter().enumerate() {
        let at = parts[..i].join(".");
        let valid = || {
            let keys: Vec<&str> = level.keys().map(String::as_str).collect();
            if at.is_empty() {
                format!("valid sections: {}", keys.join(", "))
            } else {
                format!("valid keys under `{at}`: {}", keys.join(", "))
            }
        };
        match level.get(*part) {
            None => return Err(format!("unknown key `{key}`; {}", valid())),
            Some(Value::Table(t)) if i + 1 < parts.len() => level = t,
            Some(Value::Table(t)) => {
                return Err(format!(
                    "`{key}` is a section; name one of its keys, e.g. `{key}.{}`",
                    t.keys().next().cloned().unwrap_or_default()
                ));
            }
            Some(_) if i + 1 < parts.len() => {
                return Err(format!(
                    "unknown key `{key}`: `{}` is not a section",
                    parts[..=i].join(".")
                ));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// The number a dotted setting has in a configuration, if it is numeric.
pub fn setting_value(config: &RunConfig, key: &str) -> Option<f64> {
    let table = Table::try_from(config).ok()?;
    let mut value = &Value::Table(table);
    for part in key.split('.') {
        value = value.as_table()?.get(part)?;
    }
    value.as_float().or_else(|| value.as_integer().map(|i| i as f64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_and_choice_has_its_keys() {
        for key in [
            "pressure.steps",
            "reward.weight",
            "reward.object_credit",
            "pressure.ppo.clip",
            "followup.algorithm",
            "followup.reward.refusal_penalty",
            "eval.object_credit",
        ] {
            check_key(key).unwrap_or_else(|e| panic!("{key}: {e}"));
        }
        assert!(
            check_key("pressure.ppo_clip")
                .unwrap_err()
                .contains("valid keys under `pressure`")
        );
        assert!(check_key("pressure").unwrap_err().contains("is a section"));
        assert!(check_key("pressur.steps").unwrap_err().contains("valid sections"));
    }
}
