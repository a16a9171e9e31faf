//! The figures an experiment asks for in `[[figures]]`: metrics against step in panels of its
//! choosing (e.g. observed vs unobserved, trained vs heldout), or final values against a setting
//! that varies across arms (e.g. the contradiction rate).

use plotters::coord::Shift;
use plotters::prelude::*;

use super::Drawn;
use super::figures::{arm_entries, describe, final_phrase, marker, seeds_phrase, x_label};
use super::finals::{FinalLine, FinalPanel, draw_final_panel, log_axis};
use super::frame::{Entry, Frame, Key};
use super::kind::Kind;
use super::spec::{FigureSpec, XScale};
use super::style::{LineKind, Panel, Trace, arm_color, draw_panel};
use super::{Figure, Sheet};
use crate::metric::{MetricRef, bounds, bounds_in};
use crate::results::RunData;
use crate::run::RunConfig;
use crate::run::keys::{check_key, setting_value};

/// Metrics that are rates in [0, 1], drawn on a fixed axis.
pub fn is_rate(metric: &str) -> bool {
    bounds(metric) == Some((0.0, 1.0))
}

/// A `scope:metric` as its two names (checked when the experiment was loaded).
fn parse_metric_ref(text: &str) -> Result<(String, String), String> {
    MetricRef::parse(text, None).map(|r| (r.scope, r.metric))
}

/// How a `scope:metric` is named in a panel's line key.
pub fn readable(text: &str) -> String {
    text.replace([':', '_'], " ")
}

/// The line key of a panel with several metrics: "solid: trained refusal, dashed: heldout refusal".
fn line_key(metrics: &[String]) -> String {
    let parsed: Vec<(String, String)> = metrics.iter().filter_map(|m| parse_metric_ref(m).ok()).collect();
    let same_metric = parsed.windows(2).all(|w| w[0].1 == w[1].1);
    let same_scope = parsed.windows(2).all(|w| w[0].0 == w[1].0);
    parsed
        .iter()
        .zip(LineKind::ORDER)
        .map(|((scope, metric), line)| {
            let what = if same_metric {
                scope.clone()
            } else if same_scope {
                metric.replace('_', " ")
            } else {
                readable(&format!("{scope}:{metric}"))
            };
            format!("{} {what}", line.name())
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// How a [`Custom`] figure shows its metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Against training step, one panel per `panels` entry.
    Steps,
    /// Final values against the per-arm value of `x`, one panel per metric.
    Final,
}

/// An experiment's extra figure of kind `steps` or `final`.
pub struct Custom<'a> {
    data: &'a RunData,
    spec: &'a FigureSpec,
    mode: Mode,
}

/// The figure kind `steps`: metrics against training step in panels of the experiment's choosing.
pub struct Steps;

/// The figure kind `final`: final values against a setting that varies across arms.
pub struct Final;

impl Kind for Steps {
    const LINES: bool = true;

    fn check<'s>(spec: &'s FigureSpec, _: &[(&str, &RunConfig)]) -> Result<Vec<&'s String>, String> {
        if spec.panels.is_empty() {
            return Err("a `steps` figure needs `panels`".into());
        }
        if spec.x_scale.is_some() {
            return Err("`x_scale` applies to `final` figures (a `steps` figure's x is the training step)".into());
        }
        for p in &spec.panels {
            if p.metrics.is_empty() || p.metrics.len() > 3 {
                return Err(format!(
                    "panel \"{}\": `metrics` must name 1 to 3 `scope:metric`",
                    p.title
                ));
            }
        }
        Ok(spec.panels.iter().flat_map(|p| &p.metrics).collect())
    }

    fn figures<'a>(data: &'a RunData, spec: &'a FigureSpec) -> Result<Vec<Drawn<'a>>, String> {
        Ok(vec![Box::new(Custom {
            data,
            spec,
            mode: Mode::Steps,
        })])
    }
}

impl Kind for Final {
    const LINES: bool = true;

    fn check<'s>(spec: &'s FigureSpec, arms: &[(&str, &RunConfig)]) -> Result<Vec<&'s String>, String> {
        if spec.metrics.is_empty() {
            return Err("a `final` figure needs `metrics`".into());
        }
        check_key(&spec.x).map_err(|e| format!("`x`: {e}"))?;
        for (name, config) in arms {
            match setting_value(config, &spec.x) {
                None => return Err(format!("`x` = \"{}\" is not a number in arm \"{name}\"", spec.x)),
                Some(v) if v <= 0.0 && spec.x_scale == Some(XScale::Log) => {
                    return Err(format!(
                        "`x_scale` = \"log\": `{}` is {v} in arm \"{name}\"; a logarithmic axis needs every value above 0 (or x_scale = \"linear\")",
                        spec.x
                    ));
                }
                Some(_) => {}
            }
        }
        Ok(spec.metrics.iter().collect())
    }

    fn figures<'a>(data: &'a RunData, spec: &'a FigureSpec) -> Result<Vec<Drawn<'a>>, String> {
        Ok(vec![Box::new(Custom {
            data,
            spec,
            mode: Mode::Final,
        })])
    }
}

impl Figure for Custom<'_> {
    fn name(&self) -> &str {
        &self.spec.name
    }

    fn size(&self, sheet: &Sheet) -> (u32, u32) {
        let rows = self.panels().div_ceil(2) as u32;
        self.frame().size(sheet, (1400, 92 + 60 + 460 * rows))
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, sheet: &Sheet) -> anyhow::Result<()> {
        let areas = self.frame().panels(root, sheet)?;
        match self.mode {
            Mode::Steps => self.draw_steps(&areas),
            Mode::Final => self.draw_final(&areas),
        }
    }
}

impl Custom<'_> {
    fn panels(&self) -> usize {
        match self.mode {
            Mode::Steps => self.spec.panels.len(),
            Mode::Final => self.spec.metrics.len(),
        }
    }

    fn frame(&self) -> Frame {
        let data = self.data;
        let (subtitle, legend) = match self.mode {
            Mode::Final => (
                format!(
                    "{}. Final value of each seed (dots; {}), mean over seeds ({}) with its 95% t-interval.",
                    describe(data),
                    final_phrase(data),
                    seeds_phrase(data)
                ),
                final_legend(),
            ),
            Mode::Steps => (
                format!(
                    "{}. Mean over seeds ({}), band 95% t-interval, thin lines single seeds.",
                    describe(data),
                    seeds_phrase(data)
                ),
                arm_entries(data),
            ),
        };
        Frame {
            title: format!("{}: {}", data.experiment.name, self.spec.title),
            subtitle,
            legend,
            panels: self.panels(),
            columns: 2,
            aside: 0,
            stretch: 1.0,
        }
    }

    fn draw_steps<DB: DrawingBackend>(&self, areas: &[DrawingArea<DB, Shift>]) -> anyhow::Result<()> {
        let data = self.data;
        for (panel, area) in self.spec.panels.iter().zip(areas) {
            let refs: Vec<(String, String)> = panel.metrics.iter().filter_map(|m| parse_metric_ref(m).ok()).collect();
            let mut traces = Vec::new();
            for (i, arm) in data.labels.iter().enumerate() {
                for ((scope, metric), line) in refs.iter().zip(LineKind::ORDER) {
                    if let Some(series) = data.series(arm, scope, metric) {
                        traces.push(Trace {
                            color: arm_color(i),
                            series,
                            line,
                        });
                    }
                }
            }
            let title = if refs.len() > 1 {
                format!("{} ({})", panel.title, line_key(&panel.metrics))
            } else {
                panel.title.clone()
            };
            let rates = refs.iter().all(|(_, m)| is_rate(m));
            let same_metric = refs.windows(2).all(|w| w[0].1 == w[1].1);
            let y_label = if same_metric {
                refs[0].1.replace('_', " ")
            } else if rates {
                "rate".into()
            } else {
                "value".into()
            };
            let p = Panel {
                title: &title,
                y_label: &y_label,
                x_label: &x_label(data),
                y_range: rates.then_some(-0.02..1.02),
                x_max: data.last_step(),
                seeds: refs.len() == 1,
                marker: marker(data),
            };
            draw_panel(area, &p, &traces)?;
        }
        Ok(())
    }

    fn draw_final<DB: DrawingBackend>(&self, areas: &[DrawingArea<DB, Shift>]) -> anyhow::Result<()> {
        let data = self.data;
        let x_key = &self.spec.x;
        for (metric_ref, area) in self.spec.metrics.iter().zip(areas) {
            let Ok((scope, metric)) = parse_metric_ref(metric_ref) else {
                continue;
            };
            let points: Vec<(f64, Vec<f64>)> = data
                .labels
                .iter()
                .zip(&data.groups)
                .filter_map(|(label, group)| {
                    let x = setting_value(&group.config, x_key)?;
                    let series = data.series(label, &scope, &metric)?;
                    let window = group.config.eval.final_window;
                    Some((x, series.finals(window)))
                })
                .collect();
            let title = format!("final {}", readable(metric_ref));
            let y_desc = metric.replace('_', " ");
            let panel = FinalPanel {
                title: &title,
                x_desc: x_key,
                y_desc: &y_desc,
                categories: None,
                y_range: is_rate(&metric).then_some(-0.02..1.02),
                bounds: bounds_in(&scope, &metric),
                x_log: log_axis(self.spec.x_scale.map(|s| s == XScale::Log), points.iter().map(|p| p.0)),
            };
            draw_final_panel(
                area,
                &panel,
                &[FinalLine {
                    color: arm_color(0),
                    points,
                }],
            )?;
        }
        Ok(())
    }
}

/// The legend of final-value figures.
pub fn final_legend() -> Vec<Entry> {
    vec![
        Entry {
            label: "mean over seeds, 95% interval".into(),
            color: arm_color(0),
            key: Key::Line(LineKind::Solid),
        },
        Entry {
            label: "one seed".into(),
            color: RGBColor(128, 185, 217),
            key: Key::Dot,
        },
    ]
}
