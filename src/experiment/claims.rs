//! Claims as code: what an experiment expects, stated before the numbers come in and checked
//! on every run. A claim is a name, a plain sentence, and a statement in a small grammar over
//! values of metrics by arm:
//!
//! ```text
//! statement := value OP NUMBER            a threshold on the mean over seeds
//!            | value OP value             a comparison of two means
//!            | value "-" value OP NUMBER  the 95% Welch interval of the difference lies beyond NUMBER
//! value     := [scope ":"] metric "[" arm "]" ["@" ("final" | "peak" | STEP)]
//! OP        := "<" | "<=" | ">" | ">="
//! ```
//!
//! The scope defaults to `trained`; a value is each seed's final value (its mean over its last
//! `eval.final_window` evaluations), its value at an evaluated step, or its peak over the
//! evaluations after step 0; the arm is a group's label as `pressure summary` names it (an arm, or an arm
//! at a sweep point). A claim may be expected to fail (`expect = "fails"`): an honest negative
//! stays stated, and is checked like any other.

use serde::{Deserialize, Serialize};

use crate::metric::{MetricRef, Scope};
use crate::plot::RunData;
use crate::stats::two_sample::welch;
use crate::stats::{Summary, finite, summarize};

/// A claim as an experiment file states it (`[[claims]]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClaimSpec {
    /// A short name, unique in the experiment.
    pub name: String,
    /// The claim as a sentence a reader checks it against.
    pub text: String,
    /// The checkable statement (the grammar above).
    pub check: String,
    /// `holds` (the default) or `fails`: what the experiment expects of it.
    #[serde(default, skip_serializing_if = "Expect::is_holds")]
    pub expect: Expect,
}

/// What an experiment expects of a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Expect {
    #[default]
    Holds,
    Fails,
}

impl Expect {
    fn is_holds(&self) -> bool {
        *self == Expect::Holds
    }
}

/// Which value of each seed a claim reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum At {
    Final,
    Peak,
    Step(usize),
}

/// A metric of one group, read at `at`.
#[derive(Debug, Clone, PartialEq)]
pub struct ValueRef {
    pub metric: MetricRef,
    pub arm: String,
    pub at: At,
}

impl std::fmt::Display for ValueRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}[{}]", self.metric, self.arm)?;
        match self.at {
            At::Final => Ok(()),
            At::Peak => write!(f, "@peak"),
            At::Step(s) => write!(f, "@{s}"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Op {
    #[serde(rename = "<")]
    Lt,
    #[serde(rename = "<=")]
    Le,
    #[serde(rename = ">")]
    Gt,
    #[serde(rename = ">=")]
    Ge,
}

impl Op {
    fn holds(self, a: f64, b: f64) -> bool {
        match self {
            Op::Lt => a < b,
            Op::Le => a <= b,
            Op::Gt => a > b,
            Op::Ge => a >= b,
        }
    }

    fn symbol(self) -> &'static str {
        match self {
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
        }
    }
}

/// A parsed statement.
#[derive(Debug, Clone, PartialEq)]
pub enum Statement {
    Threshold {
        value: ValueRef,
        op: Op,
        bound: f64,
    },
    Compare {
        left: ValueRef,
        op: Op,
        right: ValueRef,
    },
    Difference {
        left: ValueRef,
        right: ValueRef,
        op: Op,
        bound: f64,
    },
}

impl Statement {
    /// Whether every group it names is among `groups`.
    pub fn within(&self, groups: &[String]) -> bool {
        self.values().iter().all(|v| groups.contains(&v.arm))
    }

    pub fn values(&self) -> Vec<&ValueRef> {
        match self {
            Statement::Threshold { value, .. } => vec![value],
            Statement::Compare { left, right, .. } | Statement::Difference { left, right, .. } => vec![left, right],
        }
    }
}

/// A claim with its parsed statement.
#[derive(Debug, Clone, PartialEq)]
pub struct Claim {
    pub spec: ClaimSpec,
    pub statement: Statement,
}

/// Splits a statement into tokens with their (1-based, in characters) positions: values
/// (`scope:metric[arm]@at`, kept whole), operators, `-`, numbers.
fn tokens(text: &str) -> Result<Vec<(usize, String)>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if c == '<' || c == '>' {
            i += 1;
            if chars.get(i) == Some(&'=') {
                i += 1;
            }
        } else if c == '-' && !chars.get(i + 1).is_some_and(|d| d.is_ascii_digit() || *d == '.') {
            i += 1;
        } else if c.is_ascii_digit() || c == '-' || c == '.' {
            i += 1;
            while i < chars.len()
                && (chars[i].is_ascii_alphanumeric()
                    || chars[i] == '.'
                    || "+-".contains(chars[i]) && "eE".contains(chars[i - 1]))
            {
                i += 1;
            }
        } else if c.is_ascii_alphabetic() || c == '_' {
            while i < chars.len() && chars[i] != '[' && !chars[i].is_whitespace() && !"<>".contains(chars[i]) {
                i += 1;
            }
            if chars.get(i) == Some(&'[') {
                let close = chars[i..]
                    .iter()
                    .position(|&c| c == ']')
                    .ok_or_else(|| format!("position {}: `[` without a closing `]`", i + 1))?;
                i += close + 1;
                while i < chars.len() && !chars[i].is_whitespace() && !"<>".contains(chars[i]) {
                    i += 1;
                }
            }
        } else {
            return Err(format!("position {}: unexpected `{c}`", i + 1));
        }
        out.push((start + 1, chars[start..i].iter().collect()));
    }
    Ok(out)
}

fn parse_op(token: &str) -> Option<Op> {
    match token {
        "<" => Some(Op::Lt),
        "<=" => Some(Op::Le),
        ">" => Some(Op::Gt),
        ">=" => Some(Op::Ge),
        _ => None,
    }
}

/// `[scope:]metric[arm][@at]`, checked against the metric catalogue and the experiment's groups.
fn parse_value(token: &str, position: usize, groups: Option<&[String]>) -> Result<ValueRef, String> {
    let at_position = |what: String| format!("position {position}: {what}");
    let open = token.find('[').ok_or_else(|| {
        at_position(format!(
            "`{token}`: a value is `metric[arm]`, e.g. `hidden_objection[control]`"
        ))
    })?;
    let close = token
        .rfind(']')
        .filter(|&c| c > open)
        .ok_or_else(|| at_position(format!("`{token}`: `[` without `]`")))?;
    let (name, arm, rest) = (&token[..open], &token[open + 1..close], &token[close + 1..]);
    let metric = MetricRef::parse(name, Some(Scope::Trained.name())).map_err(at_position)?;
    if let Some(groups) = groups
        && !groups.iter().any(|g| g == arm)
    {
        return Err(at_position(format!(
            "`{token}`: no arm `{arm}` in this experiment; its arms: {}",
            groups.join(", ")
        )));
    }
    let at = match rest {
        "" | "@final" => At::Final,
        "@peak" => At::Peak,
        s => match s.strip_prefix('@').and_then(|n| n.parse().ok()) {
            Some(step) => At::Step(step),
            None => {
                return Err(at_position(format!(
                    "`{token}`: after `]` comes nothing, `@final`, `@peak` or `@<step>`, not `{s}`"
                )));
            }
        },
    };
    Ok(ValueRef {
        metric,
        arm: arm.to_string(),
        at,
    })
}

fn parse_number(token: &str, position: usize) -> Result<f64, String> {
    token
        .parse::<f64>()
        .ok()
        .filter(|x| x.is_finite())
        .ok_or_else(|| format!("position {position}: `{token}` is not a number"))
}

/// Parses a statement, checking its arms against the experiment's groups (arm labels) if given.
pub fn parse(text: &str, groups: Option<&[String]>) -> Result<Statement, String> {
    let t = tokens(text)?;
    let end = text.chars().count() + 1;
    let get = |i: usize| t.get(i).map_or((end, ""), |(p, s)| (*p, s.as_str()));
    let expect_op = |i: usize| {
        let (p, s) = get(i);
        parse_op(s).ok_or_else(|| {
            if s.is_empty() {
                format!("position {p}: the statement ends where a comparison (<, <=, >, >=) should come")
            } else {
                format!("position {p}: expected a comparison (<, <=, >, >=), found `{s}`")
            }
        })
    };
    let (p0, s0) = get(0);
    if s0.is_empty() {
        return Err("the statement is empty".into());
    }
    let left = parse_value(s0, p0, groups)?;
    let statement = if get(1).1 == "-" {
        let (p, s) = get(2);
        let right = parse_value(s, p, groups)?;
        let op = expect_op(3)?;
        let (p, s) = get(4);
        Statement::Difference {
            left,
            right,
            op,
            bound: parse_number(s, p)?,
        }
    } else {
        let op = expect_op(1)?;
        let (p, s) = get(2);
        if s.is_empty() {
            return Err(format!(
                "position {p}: the statement ends where a number or a value should come"
            ));
        }
        match s.parse::<f64>() {
            Ok(_) => Statement::Threshold {
                value: left,
                op,
                bound: parse_number(s, p)?,
            },
            Err(_) => Statement::Compare {
                left,
                op,
                right: parse_value(s, p, groups)?,
            },
        }
    };
    let used = match statement {
        Statement::Difference { .. } => 5,
        _ => 3,
    };
    if let Some((p, s)) = t.get(used) {
        return Err(format!("position {p}: unexpected `{s}` after a complete statement"));
    }
    Ok(statement)
}

/// Parses an experiment's claims: each error names the claim and the position. With `groups`,
/// a claim naming another group is an error; without, it is kept and can be checked only where
/// the group ran.
pub fn parse_all(specs: &[ClaimSpec], groups: Option<&[String]>) -> Result<Vec<Claim>, String> {
    let mut out = Vec::new();
    for (i, spec) in specs.iter().enumerate() {
        if spec.name.trim().is_empty() {
            return Err(format!("claims[{i}]: `name` is empty"));
        }
        if let Some(j) = specs[..i].iter().position(|s| s.name == spec.name) {
            return Err(format!(
                "claims[{i}]: the name \"{}\" is used by claims[{j}] too",
                spec.name
            ));
        }
        let statement = parse(&spec.check, groups)
            .map_err(|e| format!("claim \"{}\": `check` = \"{}\": {e}", spec.name, spec.check))?;
        out.push(Claim {
            spec: spec.clone(),
            statement,
        });
    }
    Ok(out)
}

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

    /// One line: ✓ or ✗, the claim, and the values behind it.
    pub fn line(&self) -> String {
        let mark = match self.holds {
            Some(true) => "✓",
            Some(false) => "✗",
            None => "?",
        };
        let expected = match (self.expect, self.as_expected()) {
            (Expect::Fails, true) => " (expected to fail)",
            (Expect::Fails, false) => " (expected to fail; it did not)",
            (Expect::Holds, false) => " (expected to hold)",
            (Expect::Holds, true) => "",
        };
        let detail = match &self.error {
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
        };
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
    let s = summarize(values).within(crate::metric::bounds(&value.metric.metric));
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

#[cfg(test)]
mod tests {
    use super::*;

    fn groups() -> Vec<String> {
        ["control", "objection penalized", "a, b=1"].map(String::from).to_vec()
    }

    #[test]
    fn the_three_forms_parse() {
        let g = groups();
        let g = Some(&g[..]);
        match parse("hidden_objection[objection penalized] >= 0.5", g).unwrap() {
            Statement::Threshold { value, op, bound } => {
                assert_eq!(value.metric.to_string(), "trained:hidden_objection");
                assert_eq!(
                    (value.arm.as_str(), value.at, op, bound),
                    ("objection penalized", At::Final, Op::Ge, 0.5)
                );
            }
            s => panic!("{s:?}"),
        }
        match parse(
            "heldout:silent_compliance[a, b=1]@peak < heldout:silent_compliance[control]@300",
            g,
        )
        .unwrap()
        {
            Statement::Compare { left, op, right } => {
                assert_eq!((left.at, op, right.at), (At::Peak, Op::Lt, At::Step(300)));
                assert_eq!(left.arm, "a, b=1");
            }
            s => panic!("{s:?}"),
        }
        match parse("refusal[control] - refusal[objection penalized] > 0.1", g).unwrap() {
            Statement::Difference { op, bound, .. } => assert_eq!((op, bound), (Op::Gt, 0.1)),
            s => panic!("{s:?}"),
        }
        assert!(
            matches!(parse("refusal[control]>-0.5", g).unwrap(), Statement::Threshold { bound, .. } if bound == -0.5)
        );
    }

    #[test]
    fn each_bad_statement_names_its_position() {
        let g = groups();
        let g = Some(&g[..]);
        for (text, needle) in [
            ("", "empty"),
            ("refusal[control]", "position 17: the statement ends where a comparison"),
            ("refusal[control] = 0.5", "position 18: unexpected `=`"),
            (
                "refusal[nobody] > 0.5",
                "position 1: `refusal[nobody]`: no arm `nobody`",
            ),
            ("refusals[control] > 0.5", "position 1: `refusals`: unknown metric"),
            ("sideways:refusal[control] > 0.5", "unknown scope `sideways`"),
            ("refusal[control] > lots", "position 20: `lots`"),
            ("refusal[control] > 0.5 0.6", "position 24: unexpected `0.6`"),
            ("refusal[control]@soon > 0.5", "`@final`, `@peak` or `@<step>`"),
            ("refusal[control > 0.5", "`[` without a closing `]`"),
            ("refusal[control] - > 0", "position 20"),
            ("refusal[control] > ", "position 20: the statement ends"),
        ] {
            let e = parse(text, g).unwrap_err();
            assert!(e.contains(needle), "{text:?}: {e}");
            assert!(!e.contains('\n'));
        }
    }

    /// Two arms whose seeds' values are known: `a` has refusal 0.2, 0.3, 0.4 at step 100 and
    /// 0.9 at step 50 (its peak); `b` has 0.6, 0.7, 0.8 at step 100.
    fn data() -> RunData {
        use crate::plot::{Group, Header};
        use crate::records::MetricRecord;
        use crate::run::RunConfig;
        let header = Header {
            name: "synthetic".into(),
            backend: "flex".into(),
            arms: vec!["a".into(), "b".into()],
            sweep: Vec::new(),
            figures: Vec::new(),
            heatmaps: Vec::new(),
            refine: None,
            training: false,
        };
        let mut config = RunConfig::default();
        config.eval.final_window = 1;
        let groups = ["a", "b"]
            .map(|arm| Group {
                arm: arm.into(),
                sweep: Vec::new(),
                config: config.clone(),
            })
            .to_vec();
        let mut rows = Vec::new();
        for (arm, finals, peak) in [("a", [0.2, 0.3, 0.4], 0.9), ("b", [0.6, 0.7, 0.8], 0.7)] {
            for (seed, value) in finals.into_iter().enumerate() {
                for (step, v) in [(0, 0.5), (50, if seed == 0 { peak } else { value }), (100, value)] {
                    rows.push(MetricRecord {
                        arm: arm.into(),
                        sweep: Vec::new(),
                        seed: seed as u64,
                        step,
                        scope: "trained".into(),
                        metric: "refusal".into(),
                        value: v,
                    });
                }
            }
        }
        RunData::new(header, groups, rows)
    }

    fn verdict(check_text: &str) -> Verdict {
        let spec = ClaimSpec {
            name: "c".into(),
            text: "t".into(),
            check: check_text.into(),
            expect: Expect::Holds,
        };
        let claims = parse_all(&[spec], Some(&["a".into(), "b".into()])).unwrap();
        check(&claims[0], &data())
    }

    #[test]
    fn checks_give_the_known_answers() {
        // Means: a 0.3, b 0.7; a's peak mean (0.9 + 0.3 + 0.4) / 3 = 0.5333.
        assert_eq!(verdict("refusal[a] < 0.31").holds, Some(true));
        assert_eq!(verdict("refusal[a] >= 0.31").holds, Some(false));
        assert_eq!(verdict("refusal[a] < refusal[b]").holds, Some(true));
        assert_eq!(verdict("refusal[a]@peak > 0.53").holds, Some(true));
        assert_eq!(verdict("refusal[a]@peak > 0.54").holds, Some(false));
        assert_eq!(verdict("refusal[a]@0 >= 0.5").holds, Some(true));
        // Difference b − a = 0.4, sd 0.1 a side: Welch interval 0.4 ± t(0.975, 4)·√(0.02/3)
        // = 0.4 ± 2.7764 × 0.08165 = [0.1733, 0.6267].
        let v = verdict("refusal[b] - refusal[a] > 0.17");
        assert_eq!(v.holds, Some(true));
        let e = v.effect.unwrap();
        assert!((e.low - 0.1733).abs() < 1e-3 && (e.high - 0.6267).abs() < 1e-3, "{e:?}");
        assert_eq!(verdict("refusal[b] - refusal[a] > 0.18").holds, Some(false));
        assert_eq!(verdict("refusal[b] - refusal[a] < 0.63").holds, Some(true));
        // Expected to fail and failing is as expected; a step never evaluated cannot be checked.
        let mut failing = verdict("refusal[a] > 0.5");
        failing.expect = Expect::Fails;
        assert!(failing.as_expected() && failing.line().contains("(expected to fail)"));
        let unchecked = verdict("refusal[a]@75 > 0");
        assert_eq!(unchecked.holds, None);
        assert!(unchecked.line().contains("step 75 was not evaluated"));
    }
}
