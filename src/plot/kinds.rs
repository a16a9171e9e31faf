//! The registry of figure kinds, declared once. A kind is a type implementing [`Kind`] (in its
//! own file: how a `[[figures]]` entry of that kind is checked and which figures it draws) and
//! one line in [`figure_kinds!`] naming it; the names in messages, validation and drawing are
//! all derived from that line. An entry's `kind` is read as a name and checked here, so the
//! settings (`spec.rs`) sit below the kinds that read them, and this registry above both.

use super::Drawn;
use super::kind::Kind;
use super::spec::{BUILT_IN_FIGURES, BUILT_IN_PREFIXES, FigureSpec};
use crate::metric::MetricRef;
use crate::results::RunData;
use crate::run::RunConfig;

/// Each line: the name `[[figures]] kind` gives a kind, and the type implementing [`Kind`]. An
/// entry with `if CFG` after its name exists only under that `cfg` (a test's toy).
macro_rules! figure_kinds {
    ($( $(#[$doc:meta])* $name:literal $(if $cfg:meta)? => $kind:ty, )+) => {
        /// The names `kind` takes, in registry order.
        pub const NAMES: &[&str] = &[$( $(#[cfg($cfg)])? $name ),+];

        /// See [`Kind::LINES`]; false for an unknown name.
        pub fn lines(name: &str) -> bool {
            match name {
                $( $(#[cfg($cfg)])? $name => <$kind as Kind>::LINES, )+
                _ => false,
            }
        }

        /// See [`Kind::check`]; an unknown name is refused with the known ones.
        pub fn check<'s>(name: &str, spec: &'s FigureSpec, arms: &[(&str, &RunConfig)]) -> Result<Vec<&'s String>, String> {
            match name {
                $( $(#[cfg($cfg)])? $name => <$kind as Kind>::check(spec, arms), )+
                _ => Err(format!("`kind` = \"{name}\": not a figure kind; valid: {}", NAMES.join(", "))),
            }
        }

        /// See [`Kind::figures`].
        pub fn figures<'a>(name: &str, data: &'a RunData, spec: &'a FigureSpec) -> Result<Vec<Drawn<'a>>, String> {
            match name {
                $( $(#[cfg($cfg)])? $name => <$kind as Kind>::figures(data, spec), )+
                _ => Err(format!("`{}`: `kind` = \"{name}\" is not a figure kind", spec.name)),
            }
        }
    };
}

figure_kinds! {
    /// Metrics against training step: mean, 95% band and seeds per arm, one panel per entry
    /// (the default).
    "steps" => super::custom::Steps,
    /// Final values against the per-arm value of the setting `x`, one panel per metric.
    "final" => super::custom::Final,
    /// The raters' utility and the proxy reward against √KL, over training and best-of-n, with
    /// Gao et al.'s fits, one panel per arm with a learned reward.
    "overoptimization" => super::overoptimization::Kind,
    /// A test's toy (`plot/toy.rs`), to prove that a file and this line are all a new kind needs.
    "toy" if test => super::toy::Toy,
}

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
        let refs = check(&self.kind, self, arms)?;
        for r in &refs {
            MetricRef::parse(r, None)?;
        }
        match self.empty_scope(arms) {
            Some(why) => Err(why),
            None => Ok(()),
        }
    }
}
