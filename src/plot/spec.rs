//! Extra figures an experiment declares (`[[figures]]`): the settings of the figures this layer
//! draws, checked against the experiment's arms when the file is loaded.

use serde::{Deserialize, Serialize};

use crate::metric::{MetricRef, Scope};
use crate::run::RunConfig;
use crate::run::keys::{check_key, setting_value};

/// The figures an experiment declares beside the core ones: its `[[figures]]`, and the metrics
/// of a two-axis sweep's heatmaps (empty for the default).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Declared {
    pub figures: Vec<FigureSpec>,
    pub heatmaps: Vec<String>,
}

/// How a figure shows its metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FigureKind {
    /// Metrics against training step: mean, 95% band and seeds per arm, one panel per entry.
    #[default]
    Steps,
    /// Final values against the per-arm value of the setting `x`, one panel per metric.
    Final,
    /// The raters' utility and the proxy reward against √KL, over training and best-of-n, with
    /// Gao et al.'s fits, one panel per arm with a learned reward.
    Overoptimization,
}

/// An extra figure of an experiment, drawn by `pressure run` and `pressure plot`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FigureSpec {
    /// File stem of the figure (`<plots>/<name>.png` and `.svg`).
    pub name: String,
    /// The figure's title.
    pub title: String,
    /// `steps` (default), `final`, or `overoptimization`.
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

/// The names of the figures drawn for every experiment that fits them; a user's figure may not
/// take one (it would replace the built-in one's files).
pub const BUILT_IN_FIGURES: [&str; 7] = [
    "headline",
    "outcomes",
    "diagnostics",
    "finals",
    "sweep",
    "robustness_claims",
    "robustness_outcomes",
];

/// The name prefixes of the built-in figures drawn once per metric.
pub const BUILT_IN_PREFIXES: [&str; 3] = ["heatmap_", "edge_steps_", "edge_position_"];

impl FigureSpec {
    /// Checks the figure against the experiment's arms (their names and configurations).
    pub fn validate(&self, arms: &[(&str, &RunConfig)]) -> Result<(), String> {
        let name_ok = !self.name.is_empty()
            && self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            && !BUILT_IN_FIGURES.contains(&self.name.as_str())
            && !BUILT_IN_PREFIXES.iter().any(|p| self.name.starts_with(p));
        if !name_ok {
            return Err(format!(
                "`name` = \"{}\": must be letters, digits, `_` or `-`, and not a built-in figure's name ({}, {})",
                self.name,
                BUILT_IN_FIGURES.join(", "),
                BUILT_IN_PREFIXES.map(|p| format!("{p}*")).join(", ")
            ));
        }
        let titles = std::iter::once(&self.title).chain(self.panels.iter().map(|p| &p.title));
        if let Some(t) = titles.into_iter().find(|t| t.chars().any(char::is_control)) {
            return Err(format!(
                "title {t:?}: a title must be text without control characters (newline, tab, NUL)"
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
                for (name, config) in arms {
                    if setting_value(config, &self.x).is_none() {
                        return Err(format!("`x` = \"{}\" is not a number in arm \"{name}\"", self.x));
                    }
                }
                self.metrics.iter().collect()
            }
            FigureKind::Overoptimization => {
                if !self.panels.is_empty() || !self.x.is_empty() || !self.metrics.is_empty() {
                    return Err("an `overoptimization` figure takes only `name` and `title`".into());
                }
                if !arms
                    .iter()
                    .any(|(_, c)| matches!(c.reward, crate::reward::RewardConfig::Learned(_)))
                {
                    return Err(
                        "an `overoptimization` figure needs an arm with reward.kind = \"learned\" (it plots reward_raters and reward_proxy)"
                            .into(),
                    );
                }
                Vec::new()
            }
        };
        for r in &refs {
            MetricRef::parse(r, None)?;
        }
        match self.empty_scope(arms) {
            Some(why) => Err(why),
            None => Ok(()),
        }
    }

    /// Why the figure would have no data: a metric whose scope is empty in every arm (`framed`
    /// without a frame, `heldout` with every domain trained). `None` when each has some.
    pub fn empty_scope(&self, arms: &[(&str, &RunConfig)]) -> Option<String> {
        let refs = self.panels.iter().flat_map(|p| &p.metrics).chain(&self.metrics);
        refs.filter_map(|r| MetricRef::parse(r, None).ok().map(|m| (r, m)))
            .find(|(_, m)| {
                m.is_evaluated()
                    && !arms
                        .iter()
                        .any(|(_, config)| Scope::present(&config.world).iter().any(|s| s.name() == m.scope))
            })
            .map(|(r, m)| format!("`{r}`: the scope `{}` is empty in every arm", m.scope))
    }
}
