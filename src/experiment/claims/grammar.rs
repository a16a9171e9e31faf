//! The grammar of a claim's statement (see the module above): tokens, values, operators, and
//! the three forms, parsed with the position of anything that does not fit.

use serde::Serialize;

use super::ClaimSpec;
use crate::metric::{MetricRef, Scope};

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
    pub(super) fn holds(self, a: f64, b: f64) -> bool {
        match self {
            Op::Lt => a < b,
            Op::Le => a <= b,
            Op::Gt => a > b,
            Op::Ge => a >= b,
        }
    }

    pub(super) fn symbol(self) -> &'static str {
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
