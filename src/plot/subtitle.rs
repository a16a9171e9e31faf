//! What a figure's subtitle says about what was trained: the algorithm, the reward, the steps,
//! the network and the backend, each one value where every group agrees on it and else where it
//! varies; the seeds; how a final value is taken.

use crate::results::RunData;
use crate::run::RunConfig;
use crate::run::phases::{self, Detail, Planned};

/// One value if every group agrees on it; else where it varies: "varied by arm", "swept" (from
/// one sweep point to the next within an arm), or "varied by arm and swept".
fn common<T: PartialEq + std::fmt::Display>(data: &RunData, f: impl Fn(&RunConfig) -> T) -> String {
    let values: Vec<T> = data.groups.iter().map(|g| f(&g.config)).collect();
    if values.windows(2).all(|w| w[0] == w[1]) {
        return values.into_iter().next().map(|v| v.to_string()).unwrap_or_default();
    }
    let groups = &data.groups;
    let same_arm = |i: usize, j: usize| groups[i].arm == groups[j].arm;
    let same_point = |i: usize, j: usize| groups[i].sweep == groups[j].sweep;
    let differ = |i: usize, j: usize| values[i] != values[j];
    let pairs = || (0..values.len()).flat_map(|i| (i + 1..values.len()).map(move |j| (i, j)));
    let swept = pairs().any(|(i, j)| same_arm(i, j) && differ(i, j));
    let by_arm = pairs().any(|(i, j)| !same_arm(i, j) && same_point(i, j) && differ(i, j));
    match (by_arm, swept) {
        (true, true) => VARIED_BY_ARM_AND_SWEPT.into(),
        (false, true) => SWEPT.into(),
        _ => VARIED_BY_ARM.into(),
    }
}

const VARIED_BY_ARM: &str = "varied by arm";
const SWEPT: &str = "swept";
const VARIED_BY_ARM_AND_SWEPT: &str = "varied by arm and swept";

/// What was trained, for a figure's subtitle.
pub fn describe(data: &RunData) -> String {
    if data.groups.iter().any(|g| g.config.phases.is_some()) {
        return describe_phases(data);
    }
    let mut algorithms: Vec<String> = Vec::new();
    for g in &data.groups {
        let name = g.config.pressure.algorithm.name().to_uppercase();
        if !algorithms.contains(&name) {
            algorithms.push(name);
        }
    }
    let algorithm = match algorithms.len() {
        1 => algorithms.remove(0),
        _ => format!("{} (by arm)", algorithms.join(" or ")),
    };
    let kinds = common(data, |c| c.reward.kind());
    let width = |c: &RunConfig| {
        let dims: Vec<String> = c.policy.hidden.iter().map(|h| h.to_string()).collect();
        format!("{}→{}→3+1", c.world.obs_dim(), dims.join("→"))
    };
    // The followup as the arms that have one train it.
    let with: Vec<&RunConfig> = data
        .groups
        .iter()
        .map(|g| &g.config)
        .filter(|c| c.followup.steps > 0)
        .collect();
    let same = |f: &dyn Fn(&RunConfig) -> String| {
        let values: Vec<String> = with.iter().map(|c| f(c)).collect();
        if values.windows(2).all(|w| w[0] == w[1]) {
            values.first().cloned().unwrap_or_default()
        } else {
            VARIED_BY_ARM.into()
        }
    };
    let followup = if with.is_empty() {
        String::new()
    } else {
        format!(
            ", then a followup on the {} reward ({} steps{})",
            same(&|c| c.followup.reward.kind().to_string()),
            same(&|c| c.followup.steps.to_string()),
            if with.len() < data.groups.len() {
                "; not in every arm"
            } else {
                ""
            }
        )
    };
    let reward = if kinds == VARIED_BY_ARM {
        "each arm's reward".to_string()
    } else if [SWEPT, VARIED_BY_ARM_AND_SWEPT].contains(&kinds.as_str()) {
        "each group's reward".to_string()
    } else {
        format!("the {kinds} reward")
    };
    format!(
        "{algorithm} on {reward} for {} steps (KL {}) after {} constitution steps{followup}; MLP {}, {} backend",
        common(data, |c| c.pressure.steps),
        common(data, |c| c.pressure.kl),
        common(data, |c| c.constitution.steps),
        common(data, width),
        data.experiment.backend,
    )
}

/// A run given as `[[phases]]`: each phase after the constitution with what it trains, one value
/// where every group agrees and else where it varies.
fn describe_phases(data: &RunData) -> String {
    let plans: Vec<Vec<Planned>> = data.groups.iter().map(|g| phases::plan(&g.config)).collect();
    let longest = plans.iter().max_by_key(|p| p.len()).cloned().unwrap_or_default();
    let each = |k: usize, f: &dyn Fn(&Planned) -> String| {
        let values: Vec<String> = plans.iter().filter_map(|p| p.get(k)).map(f).collect();
        if values.windows(2).all(|w| w[0] == w[1]) {
            values.first().cloned().unwrap_or_default()
        } else {
            VARIED_BY_ARM.to_string()
        }
    };
    let described: Vec<String> = longest
        .iter()
        .enumerate()
        .skip(1)
        .map(|(k, phase)| match &phase.detail {
            Detail::Teach { domains, .. } => format!(
                "{} (teaching {}, {} steps)",
                phase.name,
                domains.join(", "),
                each(k, &|p| p.steps.to_string())
            ),
            _ => format!(
                "{} ({} on the {} reward, {} steps, KL {})",
                phase.name,
                each(k, &|p| match &p.detail {
                    Detail::Pressure { settings, .. } => settings.algorithm.name().to_uppercase(),
                    _ => String::new(),
                }),
                each(k, &|p| match &p.detail {
                    Detail::Pressure { reward, .. } => reward.kind().to_string(),
                    _ => String::new(),
                }),
                each(k, &|p| p.steps.to_string()),
                each(k, &|p| match &p.detail {
                    Detail::Pressure { settings, .. } => settings.kl.to_string(),
                    _ => String::new(),
                }),
            ),
        })
        .collect();
    let width = |c: &RunConfig| {
        let dims: Vec<String> = c.policy.hidden.iter().map(|h| h.to_string()).collect();
        format!("{}→{}→3+1", c.world.obs_dim(), dims.join("→"))
    };
    format!(
        "{} constitution steps, then {}; MLP {}, {} backend",
        common(data, |c| c.constitution.steps),
        described.join(", then "),
        common(data, width),
        data.experiment.backend,
    )
}

pub fn seeds_phrase(data: &RunData) -> String {
    let ns: Vec<usize> = data.labels.iter().map(|a| data.seeds_of(a)).collect();
    match ns.first() {
        Some(1) if ns.iter().all(|&n| n == 1) => "N = 1 seed per arm".into(),
        Some(n) if ns.iter().all(|m| m == n) => format!("N = {n} seeds per arm"),
        _ => "N seeds per arm in the legend".into(),
    }
}

/// How a seed's final value is taken, for a subtitle.
pub fn final_phrase(data: &RunData) -> String {
    let windows: Vec<usize> = data.groups.iter().map(|g| g.config.eval.final_window).collect();
    match windows.first() {
        Some(1) if windows.iter().all(|&w| w == 1) => "its last evaluation".into(),
        Some(w) if windows.iter().all(|v| v == w) => format!("mean of its last {w} evaluations"),
        _ => "mean of its last eval.final_window evaluations".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::{Group, Header, RunData};
    use crate::run::RunConfig;

    /// Groups (arm, sweep point, KL) with nothing measured.
    fn data(groups: &[(&str, &str, f64)]) -> RunData {
        let header = Header {
            name: "t".into(),
            backend: "flex".into(),
            arms: groups.iter().map(|g| g.0.to_string()).collect(),
            sweep: Vec::new(),

            refine: None,
            training: false,
        };
        let groups = groups
            .iter()
            .map(|&(arm, point, kl)| {
                let mut config = RunConfig::default();
                config.pressure.kl = kl;
                Group {
                    arm: arm.into(),
                    sweep: vec![point.into()],
                    config,
                }
            })
            .collect();
        RunData::new(header, groups, Vec::new())
    }

    #[test]
    fn a_subtitle_says_whether_a_setting_varies_by_arm_or_along_the_sweep() {
        let kl = |d: &RunData| common(d, |c| c.pressure.kl);
        assert_eq!(kl(&data(&[("a", "1", 0.1), ("b", "1", 0.1)])), "0.1");
        assert_eq!(kl(&data(&[("a", "1", 0.1), ("b", "1", 0.3)])), "varied by arm");
        assert_eq!(kl(&data(&[("a", "1", 0.1), ("a", "2", 0.3)])), "swept");
        assert_eq!(
            kl(&data(&[
                ("a", "1", 0.1),
                ("a", "2", 0.3),
                ("b", "1", 0.2),
                ("b", "2", 0.3)
            ])),
            "varied by arm and swept"
        );
    }
}
