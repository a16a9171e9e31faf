//! The sections of a report that are tables or figures, each from the data, the experiment or
//! the manifest of the run folder.

use std::path::Path;

use crate::commands::compare;
use crate::commands::format::{Align, TextTable, fixed, html_escape};
use crate::metric::{HEADLINE, Scope};
use crate::plot::{Declared, FigureSize, Sheet};
use crate::records::{self, Manifest, Status};
use crate::results::RunData;
use crate::results::compare::Request;
use crate::stats::{Bootstrap, Estimator};

/// Where the control comes from.
#[derive(Debug, Clone, PartialEq)]
pub struct Control {
    pub label: String,
    /// Whether the description names it (`Control: \`arm\``); else it is the first group.
    pub described: bool,
}

/// The experiment's claims checked on the data, as `pressure summary` prints them: a row each
/// with ✓ (holds), ✗ (does not) or ? (could not be checked), the claim, its statement and the
/// values behind the verdict.
pub fn claims(data: &RunData, run_dir: &Path) -> anyhow::Result<String> {
    let experiment = crate::experiment::folder::experiment(run_dir)?;
    if experiment.claims.is_empty() {
        return Ok("<p>The experiment states no claims.</p>\n".to_string());
    }
    let verdicts: Vec<_> = experiment
        .claims
        .iter()
        .map(|c| crate::experiment::claims::check(c, data))
        .collect();
    let expected = verdicts.iter().filter(|v| v.as_expected()).count();
    let table = TextTable {
        notes: vec![format!(
            "{expected} of {} claims come out as the experiment states them. Values: mean [95% t-interval] over seeds; a difference is Welch's.",
            verdicts.len()
        )],
        columns: vec![
            (String::new(), Align::Left),
            ("claim".to_string(), Align::Left),
            ("statement".to_string(), Align::Left),
            ("values".to_string(), Align::Left),
        ],
        rows: verdicts
            .iter()
            .map(|v| {
                vec![
                    v.mark().to_string(),
                    format!("{}{}: {}", v.name, v.expectation(), v.text),
                    v.check.clone(),
                    v.detail(),
                ]
            })
            .collect(),
    };
    Ok(table.html())
}

/// The control of a run: the group the description's "Control: `name`" sentence names, else
/// the first group.
pub fn control(description: &str, labels: &[String]) -> Option<Control> {
    let named = description
        .split("Control:")
        .nth(1)
        .and_then(|rest| rest.trim_start().strip_prefix('`'))
        .and_then(|rest| rest.split('`').next())
        .and_then(|name| labels.iter().find(|l| *l == name));
    match named {
        Some(label) => Some(Control {
            label: label.clone(),
            described: true,
        }),
        None => labels.first().map(|label| Control {
            label: label.clone(),
            described: false,
        }),
    }
}

/// A configuration as dotted keys and their values.
fn flatten(value: &toml::Value, prefix: &str, out: &mut Vec<(String, String)>) {
    match value {
        toml::Value::Table(table) => {
            for (k, v) in table {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(v, &key, out);
            }
        }
        other => out.push((prefix.to_string(), other.to_string())),
    }
}

/// One row per group: its name, whether it is the control, its completed seeds, and the
/// settings in which the groups differ.
pub fn arms(data: &RunData, manifest: &Manifest, control: Option<&Control>) -> TextTable {
    let settings: Vec<Vec<(String, String)>> = data
        .groups
        .iter()
        .map(|g| {
            let mut flat = Vec::new();
            if let Ok(value) = toml::Value::try_from(&g.config) {
                flatten(&value, "", &mut flat);
            }
            flat
        })
        .collect();
    // The keys whose value is not the same in every group (a key some group lacks counts too).
    let mut differing: Vec<&str> = Vec::new();
    for (key, value) in settings.iter().flatten() {
        let same = settings.iter().all(|s| s.iter().any(|(k, v)| k == key && v == value));
        if !same && !differing.contains(&key.as_str()) {
            differing.push(key);
        }
    }
    let rows = data
        .labels
        .iter()
        .zip(&data.groups)
        .zip(&settings)
        .map(|((label, group), flat)| {
            let differs: Vec<String> = flat
                .iter()
                .filter(|(k, _)| differing.contains(&k.as_str()))
                .map(|(k, v)| format!("{k} = {v}"))
                .collect();
            let runs: Vec<_> = manifest
                .runs
                .iter()
                .filter(|r| r.arm == group.arm && r.sweep == sweep_label(data, &group.sweep))
                .collect();
            let done = runs.iter().filter(|r| r.status == Status::Completed).count();
            vec![
                label.clone(),
                if control.is_some_and(|c| c.label == *label) {
                    "control".into()
                } else {
                    String::new()
                },
                format!("{done} of {}", runs.len()),
                differs.join("; "),
            ]
        })
        .collect();
    TextTable {
        notes: Vec::new(),
        columns: vec![
            ("arm".into(), Align::Left),
            (String::new(), Align::Left),
            ("seeds completed".into(), Align::Right),
            ("its settings where the arms differ".into(), Align::Left),
        ],
        rows,
    }
}

/// A group's sweep values as the manifest writes them: `key=value, key=value`.
fn sweep_label(data: &RunData, values: &[String]) -> String {
    data.experiment
        .sweep
        .iter()
        .zip(values)
        .map(|(axis, v)| format!("{}={v}", axis.key))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Every other group against the control on the headline rates, as `compare` prints it; what
/// stopped the comparison, if something did (a side with fewer than two seeds).
pub fn comparisons(data: &RunData, control: Option<&Control>, run_dir: &Path) -> String {
    let Some(control) = control else {
        return "<p>No arm to compare.</p>\n".into();
    };
    if data.labels.len() < 2 {
        return "<p>The experiment has one arm: nothing to compare it with.</p>\n".into();
    }
    // A group with fewer than two completed seeds has no interval: it is named, not compared.
    let (ready, unready): (Vec<String>, Vec<String>) = data
        .labels
        .iter()
        .filter(|l| **l != control.label)
        .cloned()
        .partition(|l| data.seeds_of(l) >= 2);
    let skipped = if unready.is_empty() {
        String::new()
    } else {
        let names: Vec<String> = unready
            .iter()
            .map(|l| format!("<code>{}</code>", html_escape(l)))
            .collect();
        format!(
            "<p class=\"note\">Not compared, with fewer than two completed seeds: {}.</p>\n",
            names.join(", ")
        )
    };
    if data.seeds_of(&control.label) < 2 || ready.is_empty() {
        return format!(
            "<p>No comparison can be made: it needs at least two completed seeds of the control and of another arm.</p>\n{skipped}"
        );
    }
    let request = Request {
        control: control.label.clone(),
        arms: ready,
        metrics: Vec::new(),
        scope: Scope::Trained.name().to_string(),
        step: None,
        estimator: Estimator::Mean,
        bootstrap: Bootstrap::default(),
    };
    let run = run_dir.display().to_string();
    let command = format!(
        "<p class=\"note\">The same table: <code>pressure compare {} --control {}</code>.</p>\n",
        html_escape(&records::shell_word(&run)),
        html_escape(&records::shell_word(&control.label))
    );
    match crate::results::compare::comparisons(data, &run, &request) {
        Ok(found) => compare::table(&found, &request, &run).html() + &skipped + &command,
        Err(e) => format!(
            "<p>No comparison could be made: {}.</p>\n{skipped}",
            html_escape(&format!("{e:#}"))
        ),
    }
}

/// Every figure, drawn for the screen, inline as SVG.
pub fn figures(data: &RunData, declared: &Declared) -> anyhow::Result<String> {
    let sheet = Sheet::new(FigureSize::Screen);
    let (drawn, skipped) = crate::plot::figures(data, declared, &[])?;
    let mut out = String::new();
    for figure in &drawn {
        let svg = crate::plot::svg(figure.as_ref(), &sheet)?;
        // Inline SVG needs no namespace, and the report holds no address.
        let svg = svg.replacen(" xmlns=\"http://www.w3.org/2000/svg\"", "", 1);
        out.push_str(&format!(
            "<figure id=\"figure-{name}\">\n{svg}\n<figcaption>{name}</figcaption>\n</figure>\n",
            name = html_escape(figure.name())
        ));
    }
    for why in skipped {
        out.push_str(&format!("<p class=\"note\">Not drawn: {}.</p>\n", html_escape(&why)));
    }
    Ok(out)
}

/// One row per completed seed of every group: the seed, its run and its final headline rates.
pub fn seeds(data: &RunData, manifest: &Manifest) -> TextTable {
    let trained = Scope::Trained.name();
    let mut rows = Vec::new();
    for (label, group) in data.labels.iter().zip(&data.groups) {
        let finals: Vec<(Vec<u64>, Vec<f64>)> = HEADLINE
            .iter()
            .map(|m| match data.series(label, trained, m) {
                Some(s) => (s.seed_ids.clone(), data.seed_values(label, s, None)),
                None => (Vec::new(), Vec::new()),
            })
            .collect();
        let sweep = sweep_label(data, &group.sweep);
        for seed in &finals[0].0 {
            let id = manifest
                .runs
                .iter()
                .find(|r| r.arm == group.arm && r.sweep == sweep && r.seed == *seed)
                .map_or(String::new(), |r| r.id.clone());
            let mut row = vec![label.clone(), seed.to_string(), id];
            for (ids, values) in &finals {
                let v = ids.iter().position(|s| s == seed).map_or(f64::NAN, |k| values[k]);
                row.push(fixed(v, 3));
            }
            rows.push(row);
        }
    }
    let mut columns = vec![
        ("arm".to_string(), Align::Left),
        ("seed".to_string(), Align::Right),
        ("run".to_string(), Align::Left),
    ];
    columns.extend(HEADLINE.iter().map(|m| (m.to_string(), Align::Right)));
    TextTable {
        notes: vec![
            "Trained domains, observed cue; a seed's final value is its mean over its last `eval.final_window` evaluations."
                .into(),
        ],
        columns,
        rows,
    }
}

/// The runs that diverged or failed, with where and why.
pub fn incomplete(manifest: &Manifest) -> String {
    let bad: Vec<_> = manifest.runs.iter().filter(|r| r.status != Status::Completed).collect();
    if bad.is_empty() {
        return format!("<p>None: all {} runs completed.</p>\n", manifest.runs.len());
    }
    let rows = bad
        .iter()
        .map(|r| {
            vec![
                r.arm.clone(),
                r.sweep.clone(),
                r.seed.to_string(),
                r.id.clone(),
                format!("{:?}", r.status).to_lowercase(),
                r.step.map_or(String::new(), |s| s.to_string()),
                r.message.clone().unwrap_or_default(),
            ]
        })
        .collect();
    let table = TextTable {
        notes: vec![format!(
            "{} of {} runs did not complete; their seeds are not in the tables or figures above.",
            bad.len(),
            manifest.runs.len()
        )],
        columns: ["arm", "sweep point", "seed", "run", "status", "step", "why"]
            .iter()
            .map(|c| (c.to_string(), Align::Left))
            .collect(),
        rows,
    };
    table.html()
}

/// Where the numbers come from, as the manifest recorded it.
pub fn provenance(manifest: &Manifest) -> TextTable {
    let unrecorded = "not recorded (folder written by a version that did not record it)";
    let or_not = |v: &Option<String>| v.clone().unwrap_or_else(|| unrecorded.to_string());
    let seeds: Vec<String> = manifest.seeds.iter().map(|s| s.to_string()).collect();
    let rows: Vec<Vec<String>> = vec![
        vec!["pressure version".into(), manifest.version.clone()],
        vec!["git commit".into(), or_not(&manifest.commit)],
        vec!["backend".into(), manifest.backend.clone()],
        vec!["CPU".into(), or_not(&manifest.cpu)],
        vec![
            "threads".into(),
            if manifest.jobs == 0 {
                "merged from shard folders".into()
            } else {
                manifest.jobs.to_string()
            },
        ],
        vec!["seeds".into(), seeds.join(", ")],
        vec![
            "runs".into(),
            format!(
                "{} ({} completed)",
                manifest.runs.len(),
                manifest.runs.iter().filter(|r| r.status == Status::Completed).count()
            ),
        ],
        vec!["started".into(), manifest.started.clone()],
        vec!["finished".into(), manifest.finished.clone()],
        vec![
            "wall time".into(),
            format!(
                "{:.1} s, of the command that last wrote the folder (a resumed run counts only what it trained)",
                manifest.wall_seconds
            ),
        ],
        vec![
            "peak memory".into(),
            manifest
                .peak_memory_mib
                .map_or("not recorded".into(), |m| format!("{m:.0} MiB")),
        ],
        vec!["command".into(), or_not(&manifest.command)],
        vec![
            "shard".into(),
            manifest
                .shard
                .clone()
                .unwrap_or_else(|| "none (the whole run list)".into()),
        ],
    ];
    TextTable {
        notes: Vec::new(),
        columns: vec![(String::new(), Align::Left), (String::new(), Align::Left)],
        rows,
    }
}
