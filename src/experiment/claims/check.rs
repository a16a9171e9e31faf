//! A claim checked against a run's data: the seeds' values of each side, the statement's
//! verdict with its numbers, and the effect behind a difference.

use serde::Serialize;

use super::Expect;
use super::grammar::{At, Claim, Op, Statement, ValueRef};
use crate::results::RunData;
use crate::stats::two_sample::welch;
use crate::stats::{Summary, finite, summarize};

/// The seeds' values of a value reference (finite values only), or why there are none.
pub fn seed_values(data: &RunData, value: &ValueRef) -> Result<Vec<f64>, String> {
    let series = data
        .series(&value.arm, &value.metric.scope, &value.metric.metric)
        .ok_or_else(|| format!("`{value}`: not recorded"))?;
    let window = data.config_of(&value.arm).map_or(1, |c| c.eval.final_window);
    let values = match value.at {
        At::Final => series.finals(window),
        // The peak over training: the evaluations after step 0 (the constitution's).
        At::Peak => {
            let trained = series.steps.iter().any(|&s| s > 0);
            series
                .seeds
                .iter()
                .map(|s| {
                    let after: Vec<f64> = series
                        .steps
                        .iter()
                        .zip(s)
                        .filter(|(step, _)| !trained || **step > 0)
                        .map(|(_, v)| *v)
                        .collect();
                    finite(&after).into_iter().fold(f64::NAN, f64::max)
                })
                .collect()
        }
        At::Step(step) => {
            let i = series
                .steps
                .iter()
                .position(|&s| s == step)
                .ok_or_else(|| format!("`{value}`: step {step} was not evaluated"))?;
            series.seeds.iter().map(|s| s[i]).collect()
        }
    };
    Ok(finite(&values))
}

/// A value of a claim as checked: the reference, its summary over seeds.
#[derive(Debug, Clone, Serialize)]
pub struct Checked {
    pub value: String,
    pub mean: f64,
    pub low: f64,
    pub high: f64,
    pub n: usize,
}

/// What a claim's check found.
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    pub name: String,
    pub text: String,
    pub check: String,
    pub expect: Expect,
    /// Whether the statement holds on the data; `None` if it could not be checked.
    pub holds: Option<bool>,
    /// Why it could not be checked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub values: Vec<Checked>,
    /// The effect the statement is about, with its 95% interval, and the line it is held
    /// against: a mean and its threshold, or a difference of means (Welch) and its bound.
    pub effect: Option<Effect>,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Effect {
    pub estimate: f64,
    pub low: f64,
    pub high: f64,
    pub against: f64,
}

impl Verdict {
    /// Whether the outcome is what the experiment expected.
    pub fn as_expected(&self) -> bool {
        self.holds == Some(self.expect == Expect::Holds)
    }

    /// ✓ when the statement holds, ✗ when it does not, ? when it could not be checked.
    pub fn mark(&self) -> &'static str {
        match self.holds {
            Some(true) => "✓",
            Some(false) => "✗",
            None => "?",
        }
    }

    /// What the experiment expected, where the outcome differs from holding as stated.
    pub fn expectation(&self) -> &'static str {
        match (self.expect, self.as_expected()) {
            (Expect::Fails, true) => " (expected to fail)",
            (Expect::Fails, false) => " (expected to fail; it did not)",
            (Expect::Holds, false) => " (expected to hold)",
            (Expect::Holds, true) => "",
        }
    }

    /// The values behind the verdict (or why it could not be checked).
    pub fn detail(&self) -> String {
        match &self.error {
            Some(e) => e.clone(),
            None => {
                let values: Vec<String> = self
                    .values
                    .iter()
                    .map(|v| format!("{} = {}", v.value, show(v.mean, v.low, v.high, v.n)))
                    .collect();
                let mut d = values.join("; ");
                if let (Some(e), true) = (&self.effect, self.values.len() == 2) {
                    d.push_str(&format!(
                        "; difference {} (Welch)",
                        show(e.estimate, e.low, e.high, self.values[0].n.min(self.values[1].n))
                    ));
                }
                d
            }
        }
    }

    /// One line: ✓ or ✗, the claim, and the values behind it.
    pub fn line(&self) -> String {
        let (mark, expected, detail) = (self.mark(), self.expectation(), self.detail());
        format!("{mark} {}{expected}: {} — {detail}", self.name, self.check)
    }
}

fn show(mean: f64, low: f64, high: f64, n: usize) -> String {
    if n > 1 && low.is_finite() {
        format!("{mean:.3} [{low:.3}, {high:.3}] (N={n})")
    } else {
        format!("{mean:.3} (N={n})")
    }
}

fn checked(value: &ValueRef, values: &[f64]) -> (Checked, Summary) {
    let s = summarize(values).within(crate::metric::bounds_in(&value.metric.scope, &value.metric.metric));
    (
        Checked {
            value: value.to_string(),
            mean: s.mean,
            low: s.low,
            high: s.high,
            n: s.n,
        },
        s,
    )
}

/// Checks a claim on a run folder's data.
pub fn check(claim: &Claim, data: &RunData) -> Verdict {
    let spec = &claim.spec;
    let mut verdict = Verdict {
        name: spec.name.clone(),
        text: spec.text.clone(),
        check: spec.check.clone(),
        expect: spec.expect,
        holds: None,
        error: None,
        values: Vec::new(),
        effect: None,
    };
    let seeds: Result<Vec<Vec<f64>>, String> = claim.statement.values().iter().map(|v| seed_values(data, v)).collect();
    let seeds = match seeds {
        Ok(s) if s.iter().all(|v| !v.is_empty()) => s,
        Ok(_) => {
            verdict.error = Some("no seed has a value".into());
            return verdict;
        }
        Err(e) => {
            verdict.error = Some(e);
            return verdict;
        }
    };
    let refs = claim.statement.values();
    let summaries: Vec<Summary> = refs
        .iter()
        .zip(&seeds)
        .map(|(r, v)| {
            let (c, s) = checked(r, v);
            verdict.values.push(c);
            s
        })
        .collect();
    let difference = || (seeds[0].len() >= 2 && seeds[1].len() >= 2).then(|| welch(&seeds[0], &seeds[1]));
    match &claim.statement {
        Statement::Threshold { op, bound, .. } => {
            let s = summaries[0];
            verdict.holds = Some(op.holds(s.mean, *bound));
            verdict.effect = Some(Effect {
                estimate: s.mean,
                low: s.low,
                high: s.high,
                against: *bound,
            });
        }
        Statement::Compare { op, .. } => {
            verdict.holds = Some(op.holds(summaries[0].mean, summaries[1].mean));
            let d = summaries[0].mean - summaries[1].mean;
            let (low, high) = difference().map_or((d, d), |w| (w.low, w.high));
            verdict.effect = Some(Effect {
                estimate: d,
                low,
                high,
                against: 0.0,
            });
        }
        Statement::Difference { op, bound, .. } => match difference() {
            Some(w) => {
                // The interval lies beyond the bound on the side the comparison names.
                let edge = if matches!(op, Op::Gt | Op::Ge) { w.low } else { w.high };
                verdict.holds = Some(op.holds(edge, *bound));
                verdict.effect = Some(Effect {
                    estimate: w.difference,
                    low: w.low,
                    high: w.high,
                    against: *bound,
                });
            }
            None => verdict.error = Some("an interval of the difference needs two seeds a side".into()),
        },
    }
    verdict
}

/// The symbol of a comparison, for tables.
pub fn op_symbol(op: Op) -> &'static str {
    op.symbol()
}
