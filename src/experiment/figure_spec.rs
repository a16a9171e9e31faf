//! Extra figures an experiment declares (`[[figures]]`), and the `scope:metric` names they and
//! the command line use.

use serde::{Deserialize, Serialize};
use toml::{Table, Value};

use super::config::RunConfig;
use super::keys::check_key;
use super::spec::Arm;

/// How a figure shows its metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FigureKind {
    /// Metrics against training step: mean, 95% band and seeds per arm, one panel per entry.
    #[default]
    Steps,
    /// Final values against the per-arm value of the setting `x`, one panel per metric.
    Final,
}

/// An extra figure of an experiment, drawn by `pressure run` and `pressure plot`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FigureSpec {
    /// File stem of the figure (`<plots>/<name>.png` and `.svg`).
    pub name: String,
    /// The figure's title.
    pub title: String,
    /// `steps` (default) or `final`.
    #[serde(default)]
    pub kind: FigureKind,
    /// `steps` figures: the panels, each with metrics named `scope:metric`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub panels: Vec<PanelSpec>,
    /// `final` figures: the setting whose value in each arm is the x axis.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub x: String,
    /// `final` figures: one panel per `scope:metric`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metrics: Vec<String>,
}

/// A panel of a `steps` figure: up to three metrics of every arm, drawn solid, dashed, dotted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PanelSpec {
    pub title: String,
    /// Up to three `scope:metric` names.
    pub metrics: Vec<String>,
}

/// Metrics a figure may name beside the per-scope metrics: `silent_compliance` is
/// P(comply) on contradictory tasks (= hidden objection + unobjecting compliance).
pub const DERIVED_METRICS: [&str; 1] = ["silent_compliance"];

/// The metrics of the `train` scope: means over the steps since the previous evaluation.
pub const TRAIN_METRICS: [&str; 4] = ["loss", "kl", "reward_trained", "reward_principled"];

/// The metrics of the `constitution` scope (step 0): overall and per domain.
pub fn constitution_metrics() -> Vec<String> {
    let mut out = vec!["act_accuracy".to_string(), "judgment_accuracy".to_string()];
    for d in crate::world::Domain::ALL {
        out.push(format!("act_accuracy_{}", d.name()));
        out.push(format!("judgment_accuracy_{}", d.name()));
    }
    out
}

/// Splits `scope:metric` and checks both names.
pub fn parse_metric_ref(text: &str) -> Result<(String, String), String> {
    let (scope, metric) = text
        .split_once(':')
        .ok_or_else(|| format!("`{text}` must be `scope:metric`, e.g. `trained:refusal`"))?;
    let scopes: Vec<&str> = crate::eval::Scope::ALL.iter().map(|s| s.name()).collect();
    let special = match scope {
        "train" => Some(TRAIN_METRICS.iter().map(|m| m.to_string()).collect::<Vec<_>>()),
        "constitution" => Some(constitution_metrics()),
        _ => None,
    };
    if let Some(valid) = special {
        if !valid.iter().any(|m| m == metric) {
            return Err(format!(
                "`{text}`: unknown metric `{metric}` in scope `{scope}`; valid: {}",
                valid.join(", ")
            ));
        }
        return Ok((scope.into(), metric.into()));
    }
    if !scopes.contains(&scope) {
        return Err(format!(
            "`{text}`: unknown scope `{scope}`; valid: {}, train, constitution",
            scopes.join(", ")
        ));
    }
    let known = crate::eval::metrics::METRICS;
    if !known.contains(&metric) && !DERIVED_METRICS.contains(&metric) {
        return Err(format!(
            "`{text}`: unknown metric `{metric}`; valid: {}, {}",
            known.join(", "),
            DERIVED_METRICS.join(", ")
        ));
    }
    Ok((scope.into(), metric.into()))
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

impl FigureSpec {
    pub(super) fn validate(&self, arms: &[Arm]) -> Result<(), String> {
        let name_ok = !self.name.is_empty()
            && self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            && !["headline", "outcomes", "diagnostics", "sweep"].contains(&self.name.as_str())
            && !self.name.starts_with("heatmap_");
        if !name_ok {
            return Err(format!(
                "`name` = \"{}\": must be letters, digits, `_` or `-`, and not a built-in figure's name \
                 (headline, outcomes, diagnostics, sweep, heatmap_*)",
                self.name
            ));
        }
        let refs: Vec<&String> = match self.kind {
            FigureKind::Steps => {
                if self.panels.is_empty() {
                    return Err("a `steps` figure needs `panels`".into());
                }
                for p in &self.panels {
                    if p.metrics.is_empty() || p.metrics.len() > 3 {
                        return Err(format!(
                            "panel \"{}\": `metrics` must name 1 to 3 `scope:metric`",
                            p.title
                        ));
                    }
                }
                self.panels.iter().flat_map(|p| &p.metrics).collect()
            }
            FigureKind::Final => {
                if self.metrics.is_empty() {
                    return Err("a `final` figure needs `metrics`".into());
                }
                check_key(&self.x).map_err(|e| format!("`x`: {e}"))?;
                for a in arms {
                    if setting_value(&a.config, &self.x).is_none() {
                        return Err(format!("`x` = \"{}\" is not a number in arm \"{}\"", self.x, a.name));
                    }
                }
                self.metrics.iter().collect()
            }
        };
        for r in refs {
            let (scope, _) = parse_metric_ref(r)?;
            let present = arms.iter().any(|a| {
                scope == "train"
                    || scope == "constitution"
                    || crate::eval::Scope::present(&a.config).iter().any(|s| s.name() == scope)
            });
            if !present {
                return Err(format!("`{r}`: the scope `{scope}` is empty in every arm"));
            }
        }
        Ok(())
    }
}
