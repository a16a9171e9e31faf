//! What a figure kind answers (`kinds.rs` lists the kinds): how an `[[figures]]` entry of the
//! kind is checked, and which figures it draws.

use super::Drawn;
use super::spec::FigureSpec;
use crate::results::RunData;
use crate::run::RunConfig;

/// A figure kind, implemented in its own file and named by one line of `kinds::figure_kinds!`.
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
