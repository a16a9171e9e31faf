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

mod check;
mod grammar;
#[cfg(test)]
mod tests;

pub use check::{Checked, Effect, Verdict, check, op_symbol, seed_values};
pub use grammar::{At, Claim, Op, Statement, ValueRef, parse, parse_all};

use serde::{Deserialize, Serialize};

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
