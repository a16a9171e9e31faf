//! The experiments that ship with the sandbox, embedded so `pressure run <name>` and
//! `pressure list` work from any folder.

/// (name, file text) of every shipped experiment, in the order `pressure list` shows them.
pub const SHIPPED: &[(&str, &str)] = &[("pressure", include_str!("../../experiments/pressure.toml"))];

/// The text of a shipped experiment.
pub fn find(name: &str) -> Option<&'static str> {
    SHIPPED.iter().find(|(n, _)| *n == name).map(|(_, text)| *text)
}
