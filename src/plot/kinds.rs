//! The registry of figure kinds, declared once. A kind is a type implementing [`Kind`] (in its
//! own file: how a `[[figures]]` entry of that kind is checked and which figures it draws) and
//! one line in [`figure_kinds!`] naming it; `[[figures]] kind` parsing, the names in messages,
//! validation and drawing are all derived from that line.

use super::Drawn;
use super::spec::FigureSpec;
use crate::results::RunData;
use crate::run::RunConfig;

/// What a figure kind answers.
pub trait Kind {
    /// Whether the kind draws a line per group against step: past `MAX_LINES` groups it is left
    /// out, with the core figures against step.
    const LINES: bool;
    /// Checks an entry of this kind against the experiment's arms (their names and
    /// configurations), and returns the `scope:metric` names it draws, to be checked too.
    fn check<'s>(spec: &'s FigureSpec, arms: &[(&str, &RunConfig)]) -> Result<Vec<&'s String>, String>;
    /// The figures an entry draws from the data, or why it draws none.
    fn figures<'a>(data: &'a RunData, spec: &'a FigureSpec) -> Result<Vec<Drawn<'a>>, String>;
}

/// Each line: a variant of [`FigureKind`], the name `[[figures]] kind` gives it and the type
/// implementing [`Kind`]. An entry with `if CFG` after its name exists only under that `cfg` (a test's toy).
macro_rules! figure_kinds {
    ($( $(#[$doc:meta])* $variant:ident = $name:literal $(if $cfg:meta)? => $kind:ty, )+) => {
        /// How a figure shows its metrics (`[[figures]] kind`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
        pub enum FigureKind {
            $( $(#[$doc])* $(#[cfg($cfg)])? #[serde(rename = $name)] $variant, )+
        }

        impl FigureKind {
            /// The names `kind` takes, in registry order.
            pub const NAMES: &[&str] = &[$( $(#[cfg($cfg)])? $name ),+];

            pub fn name(self) -> &'static str {
                match self {
                    $( $(#[cfg($cfg)])? FigureKind::$variant => $name, )+
                }
            }

            /// See [`Kind::LINES`].
            pub fn lines(self) -> bool {
                match self {
                    $( $(#[cfg($cfg)])? FigureKind::$variant => <$kind as Kind>::LINES, )+
                }
            }

            /// See [`Kind::check`].
            pub fn check<'s>(self, spec: &'s FigureSpec, arms: &[(&str, &RunConfig)]) -> Result<Vec<&'s String>, String> {
                match self {
                    $( $(#[cfg($cfg)])? FigureKind::$variant => <$kind as Kind>::check(spec, arms), )+
                }
            }

            /// See [`Kind::figures`].
            pub fn figures<'a>(self, data: &'a RunData, spec: &'a FigureSpec) -> Result<Vec<Drawn<'a>>, String> {
                match self {
                    $( $(#[cfg($cfg)])? FigureKind::$variant => <$kind as Kind>::figures(data, spec), )+
                }
            }
        }
    };
}

figure_kinds! {
    /// Metrics against training step: mean, 95% band and seeds per arm, one panel per entry
    /// (the default).
    #[default]
    Steps = "steps" => super::custom::Steps,
    /// Final values against the per-arm value of the setting `x`, one panel per metric.
    Final = "final" => super::custom::Final,
    /// The raters' utility and the proxy reward against √KL, over training and best-of-n, with
    /// Gao et al.'s fits, one panel per arm with a learned reward.
    Overoptimization = "overoptimization" => super::overoptimization::Kind,
    /// A test's toy (`plot/toy.rs`), to prove that a file and this line are all a new kind needs.
    Toy = "toy" if test => super::toy::Toy,
}
