//! The experiments that ship with the sandbox, embedded so `pressure run <name>` and
//! `pressure list` work from any folder.

/// (name, file text) of every shipped experiment, in the order `pressure list` shows them.
pub const SHIPPED: &[(&str, &str)] = &[
    ("pressure", include_str!("../../experiments/pressure.toml")),
    (
        "strategic_concealment",
        include_str!("../../experiments/strategic_concealment.toml"),
    ),
    (
        "narrow_to_broad",
        include_str!("../../experiments/narrow_to_broad.toml"),
    ),
    ("inoculation", include_str!("../../experiments/inoculation.toml")),
    ("extra_rlhf", include_str!("../../experiments/extra_rlhf.toml")),
    (
        "monitor_pressure",
        include_str!("../../experiments/monitor_pressure.toml"),
    ),
    (
        "coherent_deployment",
        include_str!("../../experiments/coherent_deployment.toml"),
    ),
    ("phase_diagram", include_str!("../../experiments/phase_diagram.toml")),
    ("rater_pool", include_str!("../../experiments/rater_pool.toml")),
    (
        "table_vs_learned",
        include_str!("../../experiments/table_vs_learned.toml"),
    ),
    (
        "preference_coverage",
        include_str!("../../experiments/preference_coverage.toml"),
    ),
    (
        "overoptimization",
        include_str!("../../experiments/overoptimization.toml"),
    ),
    ("style_transfer", include_str!("../../experiments/style_transfer.toml")),
    ("new_principle", include_str!("../../experiments/new_principle.toml")),
];

/// The text of a shipped experiment.
pub fn find(name: &str) -> Option<&'static str> {
    SHIPPED.iter().find(|(n, _)| *n == name).map(|(_, text)| *text)
}
