//! Extra figures an experiment declares (`[[figures]]`): the settings of the figures this layer
//! draws, checked against the experiment's arms when the file is loaded.

use serde::{Deserialize, Serialize};

pub use super::kinds::FigureKind;
use crate::metric::{MetricRef, Scope};
use crate::run::RunConfig;

/// The figures an experiment declares beside the core ones: its `[[figures]]`, and the metrics
/// of a two-axis sweep's heatmaps (empty for the default).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Declared {
    pub figures: Vec<FigureSpec>,
    pub heatmaps: Vec<String>,
}

/// An extra figure of an experiment, drawn by `pressure run` and `pressure plot`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FigureSpec {
    /// File stem of the figure (`<plots>/<name>.png` and `.svg`).
    pub name: String,
    /// The figure's title.
    pub title: String,
    /// `steps` (default), `final`, or `overoptimization` (the names of `plot::kinds`).
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
        let refs = self.kind.check(self, arms)?;
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
