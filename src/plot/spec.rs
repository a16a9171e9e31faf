//! Extra figures an experiment declares (`[[figures]]`): the settings of the figures this layer
//! draws, checked against the experiment's arms when the file is loaded.

use serde::{Deserialize, Serialize};

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
    /// `steps` (default), `final`, or `overoptimization`: a name in `plot::kinds`, checked by
    /// [`FigureSpec::validate`].
    #[serde(default = "steps")]
    pub kind: String,
    /// `steps` figures: the panels, each with metrics named `scope:metric`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub panels: Vec<PanelSpec>,
    /// `final` figures: the setting whose value in each arm is the x axis.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub x: String,
    /// `final` figures: one panel per `scope:metric`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metrics: Vec<String>,
    /// `final` figures: `linear` or `log` for the x axis; unset, it is logarithmic where every
    /// value is above 0 and they span more than a factor of 20.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x_scale: Option<XScale>,
}

/// The scale of a figure's x axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum XScale {
    Linear,
    Log,
}

/// The default kind.
fn steps() -> String {
    "steps".into()
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
