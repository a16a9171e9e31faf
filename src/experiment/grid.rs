//! An experiment's grid and resolved form: each point of its sweep, each arm's configuration at
//! a point, and the experiment written back as TOML with every default, so the file alone
//! reproduces its runs.

use toml::{Table, Value};

use super::bad_value::{BadValue, run_config};
use super::error::SpecError;
use super::keys::{remove_path, set_path, value_label};
use super::refine::{Refine, RefineFile};
use super::spec::{Arm, Experiment};
use crate::run::RunConfig;

impl Experiment {
    /// Every point of the sweep: the product grid (the last axis varying fastest), then the
    /// points refinement added; one empty point without a sweep.
    pub fn grid(&self) -> Vec<Vec<Value>> {
        let mut points = self.product_grid();
        points.extend(self.refined.iter().cloned());
        points
    }

    /// The product of the sweep's axes, without refined points.
    pub fn product_grid(&self) -> Vec<Vec<Value>> {
        self.sweep.iter().fold(vec![Vec::new()], |points, axis| {
            points
                .iter()
                .flat_map(|p| {
                    axis.values.iter().map(move |v| {
                        let mut q = p.clone();
                        q.push(v.clone());
                        q
                    })
                })
                .collect()
        })
    }

    /// Sets `[sweep.refine]` (checked against the sweep) and the points it lists. Errors name
    /// the key, not the file.
    pub fn set_refine(&mut self, file: RefineFile) -> Result<(), String> {
        let refine = Refine::check(file, self.sweep.len())?;
        // The metric must be one some arm records, or no point could ever straddle the threshold.
        let metric = &refine.metric;
        let shown = format!("[sweep.refine]: key `metric` = \"{}:{}\"", metric.scope, metric.metric);
        let configs = || self.arms.iter().map(|a| &a.config);
        if metric.scope == crate::metric::RM
            && !configs().any(|c| matches!(c.reward, crate::reward::RewardConfig::Learned(_)))
        {
            return Err(format!(
                "{shown}: no arm fits a learned reward model (reward.kind = \"learned\"), so none records scope rm"
            ));
        }
        if metric.is_evaluated()
            && !configs().any(|c| {
                crate::metric::Scope::present(&c.world)
                    .iter()
                    .any(|s| s.name() == metric.scope)
            })
        {
            return Err(format!(
                "{shown}: the scope `{}` is empty in every arm (heldout needs a domain outside world.train_domains; framed needs world.frame)",
                metric.scope
            ));
        }
        for axis in &self.sweep {
            if let Some(v) = axis.values.iter().find(|v| !(v.is_float() || v.is_integer())) {
                return Err(format!(
                    "[sweep.refine]: the axis `{}` has the value {v}; refinement needs axes of numbers",
                    axis.key
                ));
            }
        }
        self.refined = refine.file.points.clone();
        self.refine = Some(refine);
        Ok(())
    }

    /// Applies `--refine KEY=VALUE,...` over the file's `[sweep.refine]` (or its defaults);
    /// an empty text turns refinement on as the file (or the defaults) say.
    pub fn refine_from_flag(&mut self, text: &str) -> Result<(), SpecError> {
        let bad = |why: String| SpecError(format!("--refine {text}: {why}"));
        let mut table = Table::try_from(self.refine.as_ref().map(|r| r.file.clone()).unwrap_or_default())
            .expect("refinement settings serialize");
        table.remove("points");
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (key, raw) = part.split_once('=').ok_or_else(|| {
                bad("expected KEY=VALUE,..., e.g. --refine threshold=0.5,budget=8 (keys: metric, threshold, budget, rounds)".into())
            })?;
            let value = format!("v = {}", raw.trim())
                .parse::<Table>()
                .ok()
                .and_then(|mut t| t.remove("v"))
                .unwrap_or_else(|| Value::String(raw.trim().to_string()));
            table.insert(key.trim().to_string(), value);
        }
        let file: RefineFile = table
            .try_into()
            .map_err(|e: toml::de::Error| bad(super::bad_value::readable(&e.message().trim().replace('\n', " "))))?;
        self.set_refine(file).map_err(bad)?;
        self.refined.clear();
        Ok(())
    }

    /// The configuration of `arm` at a point of the grid (`values` of the sweep's axes).
    pub fn resolve(&self, arm: &Arm, values: &[Value]) -> Result<RunConfig, SpecError> {
        self.resolve_at(arm, values)
            .map_err(|bad| bad.blame(&self.grid_context(arm, values), &[]))
    }

    pub(super) fn resolve_at(&self, arm: &Arm, values: &[Value]) -> Result<RunConfig, BadValue> {
        if values.is_empty() {
            return Ok(arm.config.clone());
        }
        let mut table = Table::try_from(&arm.unresolved).expect("a configuration serializes");
        for (axis, value) in self.sweep.iter().zip(values) {
            set_path(&mut table, &axis.key, value.clone()).map_err(|why| super::bad_value::BadValue {
                key: Some(axis.key.clone()),
                message: format!("[sweep]: {why}"),
                bare: why,
            })?;
        }
        run_config(table)
    }

    /// How errors name an arm at a point of the grid.
    pub(super) fn grid_context(&self, arm: &Arm, values: &[Value]) -> String {
        let label: Vec<String> = self
            .sweep
            .iter()
            .zip(values)
            .map(|(a, v)| format!("{}={}", a.key, value_label(v)))
            .collect();
        format!("arm \"{}\" at sweep point {}", arm.name, label.join(", "))
    }

    /// The fully resolved experiment as TOML: every arm with every default written out, so the
    /// file alone reproduces the runs. With a sweep, what a setting takes from a swept one (the
    /// followup's algorithm, say) is left for each point to resolve; each run's `status.json`
    /// holds its own resolved configuration.
    pub fn to_toml(&self) -> String {
        let mut t = Table::new();
        t.insert("name".into(), Value::String(self.name.clone()));
        t.insert("description".into(), Value::String(self.description.clone()));
        t.insert(
            "seeds".into(),
            Value::Array(self.seeds.iter().map(|&s| Value::Integer(s as i64)).collect()),
        );
        t.insert("backend".into(), Value::String(self.backend.name().into()));
        let arms = self
            .arms
            .iter()
            .map(|a| {
                let mut at = Table::new();
                at.insert("name".into(), Value::String(a.name.clone()));
                let settings = if self.sweep.is_empty() {
                    &a.config
                } else {
                    &a.unresolved
                };
                let mut config = Table::try_from(settings).expect("a configuration serializes");
                // Swept keys are set by the sweep, not by the arm.
                for axis in &self.sweep {
                    remove_path(&mut config, &axis.key);
                }
                at.extend(config);
                Value::Table(at)
            })
            .collect();
        t.insert("arms".into(), Value::Array(arms));
        if !self.sweep.is_empty() {
            let mut sweep: Table = self
                .sweep
                .iter()
                .map(|a| (a.key.clone(), Value::Array(a.values.clone())))
                .collect();
            if let Some(r) = &self.refine {
                let file = RefineFile {
                    points: self.refined.clone(),
                    ..r.file.clone()
                };
                sweep.insert(
                    "refine".into(),
                    Value::Table(Table::try_from(&file).expect("refinement settings serialize")),
                );
            }
            t.insert("sweep".into(), Value::Table(sweep));
        }
        if !self.heatmaps.is_empty() {
            let heatmaps = self.heatmaps.iter().map(|m| Value::String(m.clone())).collect();
            t.insert("heatmaps".into(), Value::Array(heatmaps));
        }
        if !self.figures.is_empty() {
            let figures = self
                .figures
                .iter()
                .map(|f| Value::Table(Table::try_from(f).expect("a figure spec serializes")))
                .collect();
            t.insert("figures".into(), Value::Array(figures));
        }
        // Only the claims whose groups this experiment runs (one narrowed in code keeps the rest).
        let groups = self.groups();
        let claims: Vec<Value> = self
            .claims
            .iter()
            .filter(|c| c.statement.within(&groups))
            .map(|c| Value::Table(Table::try_from(&c.spec).expect("a claim serializes")))
            .collect();
        if !claims.is_empty() {
            t.insert("claims".into(), Value::Array(claims));
        }
        toml::to_string(&t).expect("a TOML table serializes")
    }
}
