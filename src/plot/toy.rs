//! A test's toy figure kind, registered in `kinds!` under `cfg(test)` to prove the walk-through
//! in docs/extending.md: one dot per seed's final value of its one metric, a column per group.
//! One file and one registry line; nothing else names it.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::frame::Frame;
use super::kind::Kind;
use super::spec::FigureSpec;
use super::style::{arm_color, err};
use super::{Drawn, Figure, Sheet};
use crate::metric::MetricRef;
use crate::results::RunData;
use crate::run::RunConfig;

/// The toy kind (`kind = "toy"`, in tests only): needs exactly one entry in `metrics`.
pub struct Toy;

impl Kind for Toy {
    const LINES: bool = false;

    fn check<'s>(spec: &'s FigureSpec, _: &[(&str, &RunConfig)]) -> Result<Vec<&'s String>, String> {
        match spec.metrics.as_slice() {
            [one] => Ok(vec![one]),
            _ => Err("a `toy` figure needs exactly one `scope:metric` in `metrics`".into()),
        }
    }

    fn figures<'a>(data: &'a RunData, spec: &'a FigureSpec) -> Result<Vec<Drawn<'a>>, String> {
        Ok(vec![Box::new(Dots { data, spec })])
    }
}

struct Dots<'a> {
    data: &'a RunData,
    spec: &'a FigureSpec,
}

impl Dots<'_> {
    fn frame(&self) -> Frame {
        Frame {
            title: self.spec.title.clone(),
            subtitle: format!(
                "Final value of each seed of {}, a column per group.",
                self.spec.metrics[0]
            ),
            legend: Vec::new(),
            panels: 1,
            columns: 1,
            aside: 0,
            stretch: 1.0,
        }
    }
}

impl Figure for Dots<'_> {
    fn name(&self) -> &str {
        &self.spec.name
    }

    fn size(&self, sheet: &Sheet) -> (u32, u32) {
        self.frame().size(sheet, (900, 600))
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, sheet: &Sheet) -> anyhow::Result<()> {
        let areas = self.frame().panels(root, sheet)?;
        let metric = MetricRef::parse(&self.spec.metrics[0], None).map_err(anyhow::Error::msg)?;
        let groups = self.data.labels.len();
        let mut chart = ChartBuilder::on(&areas[0])
            .margin(20)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d(-0.5..groups as f64 - 0.5, 0.0..1.0)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("group")
            .y_desc(&self.spec.metrics[0])
            .draw()
            .map_err(err)?;
        for (i, label) in self.data.labels.iter().enumerate() {
            let Some(series) = self.data.series(label, &metric.scope, &metric.metric) else {
                continue;
            };
            let dots = series.finals(1).into_iter().filter(|v| v.is_finite());
            chart
                .draw_series(dots.map(|v| Circle::new((i as f64, v), 4, arm_color(i).filled())))
                .map_err(err)?;
        }
        Ok(())
    }
}
