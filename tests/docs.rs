//! The references in `docs/` are generated from the code, so they cannot drift from it:
//! `docs/config.md` from the settings structs' `///` lines and defaults (each layer's own), and
//! the metric table of `docs/model.md` from the metric catalogue. After changing a setting or a
//! metric, regenerate them with `UPDATE_DOCS=1 cargo test --release --test docs`.

use pressure::experiment::shipped::SHIPPED;
use pressure::metric::{CRITERION_METRICS, DERIVED_METRICS, EVAL_METRICS, Metric, RM_METRICS, TRAIN_METRICS};
use pressure::reward::RewardConfig;
use pressure::run::keys::schema;
use toml::{Table, Value};

/// The files that define settings structs, in the order their docs are searched.
const SOURCES: [&str; 14] = [
    include_str!("../src/experiment/spec/mod.rs"),
    include_str!("../src/world/config.rs"),
    include_str!("../src/policy/mod.rs"),
    include_str!("../src/train/config.rs"),
    include_str!("../src/train/constitution.rs"),
    include_str!("../src/train/ppo.rs"),
    include_str!("../src/reward/institutional.rs"),
    include_str!("../src/reward/principled.rs"),
    include_str!("../src/reward/mixture.rs"),
    include_str!("../src/reward/learned.rs"),
    include_str!("../src/reward/raters.rs"),
    include_str!("../src/eval/mod.rs"),
    include_str!("../src/run/config.rs"),
    include_str!("../src/run/phase_config.rs"),
];

/// The `///` line(s) of every field of every struct: (struct, field, doc).
fn field_docs() -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for source in SOURCES {
        let mut current = String::new();
        let mut doc: Vec<String> = Vec::new();
        for line in source.lines().map(str::trim) {
            if let Some(rest) = line.strip_prefix("pub struct ") {
                current = rest.split_whitespace().next().unwrap_or("").to_string();
                doc.clear();
            } else if let Some(d) = line.strip_prefix("///") {
                doc.push(d.trim().to_string());
            } else if let Some((name, _)) = line.strip_prefix("pub ").unwrap_or(line).split_once(':')
                && !current.is_empty()
                && !name.contains(' ')
                && !name.is_empty()
                && !line.starts_with("//")
            {
                out.push((current.clone(), name.to_string(), doc.join(" ")));
                doc.clear();
            } else if !line.starts_with("#[") {
                doc.clear();
            }
        }
    }
    out
}

/// The structs that hold a section's keys, in the order searched.
fn section_structs(section: &str) -> &'static [&'static str] {
    match section {
        "world" => &["WorldConfig"],
        "policy" => &["PolicyConfig"],
        "constitution" => &["ConstitutionConfig"],
        "pressure" => &["PressureConfig"],
        "pressure.ppo" | "followup.ppo" => &["PpoConfig"],
        "reward" | "followup.reward" => &["Institutional", "Principled", "Mixture", "Learned"],
        "raters" => &["RatersConfig"],
        "rm" => &["RmConfig"],
        "followup" => &["FollowupConfig"],
        "eval" => &["EvalConfig"],
        other => panic!("no struct for section {other}"),
    }
}

fn render_value(v: &Value) -> String {
    match v {
        Value::String(s) => format!("\"{s}\""),
        other => other.to_string(),
    }
}

fn metric_rows(metrics: &[Metric]) -> String {
    metrics
        .iter()
        .map(|m| {
            let range = m
                .bounds
                .map_or("unbounded".to_string(), |(lo, hi)| match hi.is_finite() {
                    true => format!("[{lo}, {hi}]"),
                    false => format!("[{lo}, ∞)"),
                });
            format!("| `{}` | {range} | {} |\n", m.name, m.meaning)
        })
        .collect()
}

/// The table of every metric, for `docs/model.md`.
fn metric_table() -> String {
    let mut out = String::from("| metric | range | meaning |\n|---|---|---|\n");
    out.push_str(&metric_rows(EVAL_METRICS));
    out.push_str(&metric_rows(&DERIVED_METRICS));
    out.push_str("\nIn the `train` scope:\n\n| metric | range | meaning |\n|---|---|---|\n");
    out.push_str(&metric_rows(&TRAIN_METRICS));
    out.push_str(
        "\nIn the `rm` scope (a learned reward's model, at step 0):\n\n| metric | range | meaning |\n|---|---|---|\n",
    );
    out.push_str(&metric_rows(&RM_METRICS));
    out.push_str(
        "\nIn the `criterion` scope (at the last step of each `teach` phase, §9):\n\n| metric | range | meaning |\n|---|---|---|\n",
    );
    out.push_str(&metric_rows(&CRITERION_METRICS));
    out
}

fn generate_config() -> String {
    let docs = field_docs();
    let doc_of = |structs: &[&str], field: &str| {
        structs
            .iter()
            .find_map(|st| docs.iter().find(|(s, f, _)| s == st && f == field))
            .map(|(_, _, d)| d.clone())
            .unwrap_or_else(|| panic!("{structs:?}.{field} has no `///` line"))
    };
    let mut out = String::from(
        "# Configuration reference\n\n\
         Generated from the settings structs each layer owns (`world`, `policy`, `reward`, `train`,\n\
         `eval`) and the experiment file's own (`src/experiment/spec/mod.rs`): every key, its default and\n\
         its meaning. Unknown keys, out-of-range values and settings that could have no effect with\n\
         the rest of a run's configuration are rejected with the key named.\n\n\
         ## The experiment file\n\n| key | default | meaning |\n|---|---|---|\n",
    );
    for (name, key) in [
        ("name", "name"),
        ("description", "description"),
        ("seeds", "seeds"),
        ("backend", "backend"),
        ("[[arms]]", "arms"),
        ("[sweep]", "sweep"),
        ("heatmaps", "heatmaps"),
        ("[[figures]]", "figures"),
    ] {
        let doc = doc_of(&["ExperimentFile"], key);
        let (meaning, default) = doc
            .rsplit_once(" Default: ")
            .expect("every file key states its default");
        let meaning = meaning
            .split_once(": ")
            .filter(|(head, _)| head.starts_with('`'))
            .map_or(meaning, |(_, m)| m);
        out.push_str(&format!(
            "| `{name}` | {} | {} |\n",
            default.trim_end_matches('.'),
            capitalize(meaning)
        ));
    }
    out.push_str(
        "\nEvery other table sets the base configuration shared by all arms. On the command line,\n\
         `--set KEY=VALUE` applies on top of every arm.\n",
    );
    let defaults = schema();
    let mut sections: Vec<(String, &Table)> = Vec::new();
    for (name, v) in &defaults {
        let t = v.as_table().unwrap();
        sections.push((name.clone(), t));
        for (sub, sv) in t {
            if let Value::Table(st) = sv {
                sections.push((format!("{name}.{sub}"), st));
            }
        }
    }
    for (section, table) in sections {
        let structs = section_structs(&section);
        out.push_str(&format!("\n## `[{section}]`\n\n"));
        if section == "raters" || section == "rm" {
            out.push_str("Only with `reward.kind = \"learned\"` (docs/model.md §7).\n\n");
        }
        if section.ends_with("reward") {
            out.push_str(&format!(
                "`kind` names the reward model; each kind takes only its own keys (the third column).\n\n\
                 | key | default | kinds | meaning |\n|---|---|---|---|\n| `{section}.kind` | `\"{}\"` | | One of {}. |\n",
                if section == "reward" { "institutional" } else { "principled" },
                RewardConfig::KINDS.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ")
            ));
            for (key, value) in table.iter().filter(|(k, _)| *k != "kind") {
                let kinds: Vec<&str> = RewardConfig::KINDS
                    .iter()
                    .copied()
                    .filter(|k| RewardConfig::default_of(k).unwrap().table().contains_key(key))
                    .collect();
                out.push_str(&format!(
                    "| `{section}.{key}` | `{}` | {} | {} |\n",
                    render_value(value),
                    kinds.join(", "),
                    doc_of(structs, key)
                ));
            }
            continue;
        }
        out.push_str("| key | default | meaning |\n|---|---|---|\n");
        for (key, value) in table {
            if value.is_table() {
                continue;
            }
            let optional = matches!((section.as_str(), key.as_str()), ("followup", "algorithm" | "batch"));
            let default = if optional {
                "the pressure phase's".to_string()
            } else {
                format!("`{}`", render_value(value))
            };
            out.push_str(&format!(
                "| `{section}.{key}` | {default} | {} |\n",
                doc_of(structs, key)
            ));
        }
    }
    out.push_str(
        "\n## `[[phases]]`\n\nEach phase sets only what differs from the tables above (docs/model.md §9); an arm,\n\
         `--set` or a sweep sets one as `phases.<name>.<key>`.\n\n| key | meaning |\n|---|---|\n",
    );
    for key in pressure::run::phases::keys() {
        out.push_str(&format!("| `{key}` | {} |\n", doc_of(&["PhaseConfig"], &key)));
    }
    out
}

fn capitalize(text: &str) -> String {
    let mut c = text.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

/// Replaces the text between `begin` and `end` markers in `doc`.
fn splice(doc: &str, begin: &str, end: &str, body: &str) -> String {
    let (head, rest) = doc.split_once(begin).expect("the begin marker");
    let (_, tail) = rest.split_once(end).expect("the end marker");
    format!("{head}{begin}\n{body}{end}{tail}")
}

fn check_generated(path: &str, want: &str) {
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(path, want).unwrap();
    }
    let have = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        have == want,
        "{path} is out of date: run `UPDATE_DOCS=1 cargo test --release --test docs`"
    );
}

#[test]
fn the_configuration_reference_is_current() {
    check_generated(
        concat!(env!("CARGO_MANIFEST_DIR"), "/docs/config.md"),
        &generate_config(),
    );
}

#[test]
fn the_metric_table_of_the_model_is_the_catalogue() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/model.md");
    let model = std::fs::read_to_string(path).unwrap();
    let want = splice(
        &model,
        "<!-- metrics:begin -->",
        "<!-- metrics:end -->",
        &metric_table(),
    );
    check_generated(path, &want);
}

#[test]
fn every_shipped_experiment_is_embedded_and_valid() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/experiments");
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".toml"))
        .collect();
    files.sort();
    let mut shipped: Vec<String> = SHIPPED.iter().map(|(n, _)| format!("{n}.toml")).collect();
    shipped.sort();
    assert_eq!(files, shipped, "experiments/ and the shipped list agree");
    for (name, text) in SHIPPED {
        let on_disk = std::fs::read_to_string(format!("{dir}/{name}.toml")).unwrap();
        assert_eq!(&on_disk, text);
        let e = pressure::experiment::Experiment::parse(text, std::path::Path::new(name), &[]).unwrap();
        assert_eq!(&e.name, name);
        assert!(!e.description.is_empty(), "{name} says what it asks");
    }
}

#[test]
fn the_readme_names_its_metrics_and_commands_and_docs_model_every_metric() {
    let readme = include_str!("../README.md");
    let model = include_str!("../docs/model.md");
    for m in EVAL_METRICS {
        assert!(
            model.contains(&format!("`{}`", m.name)),
            "docs/model.md lacks `{}`",
            m.name
        );
    }
    // The README names what its one screen of the model defines: the headline rates and the
    // five outcomes of silent compliance.
    for m in pressure::metric::HEADLINE
        .iter()
        .chain(pressure::plot::OUTCOME_STACK[2..].iter().map(|(m, _, _)| m))
    {
        assert!(readme.contains(&format!("`{m}`")), "README lacks `{m}`");
    }
    assert!(readme.contains("cargo run --release -- run experiments/pressure.toml"));
    let ci = include_str!("../.ci/run");
    assert!(ci.contains("cargo test --release") && readme.contains("cargo test --release"));
}

/// The README fits a newcomer's reading (at most 300 lines; the rest is in docs/), and its two
/// commands come with the times they were measured to take, as numbers, not as promises.
#[test]
fn the_readme_is_short_and_says_what_its_commands_take() {
    let readme = include_str!("../README.md");
    let lines = readme.lines().count();
    assert!(lines <= 300, "README.md has {lines} lines; move detail into docs/");
    let quick = &readme[readme.find("## Quick start").unwrap()..];
    let quick = &quick[..quick[3..].find("\n## ").unwrap()];
    let measured = quick.matches(" measured").count();
    assert!(
        measured >= 3 && quick.contains(" min ") && quick.contains(" s measured"),
        "the quick start gives the first build's, the test build's and the tests' measured times"
    );
}

/// Every relative link of the README and the pages under docs/ names a file that exists, and
/// every `#anchor` a heading of the page it points to.
#[test]
fn every_link_in_the_readme_and_docs_resolves() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut pages = vec![root.join("README.md")];
    for entry in std::fs::read_dir(root.join("docs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            pages.push(path);
        }
    }
    let anchors = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|l| l.starts_with('#'))
            .map(|l| {
                l.trim_start_matches('#')
                    .trim()
                    .to_lowercase()
                    .chars()
                    .filter(|c| c.is_alphanumeric() || *c == '-' || *c == ' ' || *c == '_')
                    .collect::<String>()
                    .replace(' ', "-")
            })
            .collect()
    };
    let mut broken = Vec::new();
    for page in &pages {
        let text = std::fs::read_to_string(page).unwrap();
        let mut rest = text.as_str();
        while let Some(at) = rest.find("](") {
            rest = &rest[at + 2..];
            let Some(end) = rest.find(')') else { break };
            let target = &rest[..end];
            if target.starts_with("http") || target.contains(' ') {
                continue;
            }
            let (file, anchor) = target.split_once('#').unwrap_or((target, ""));
            let file = if file.is_empty() {
                page.clone()
            } else {
                page.parent().unwrap().join(file)
            };
            if !file.exists() {
                broken.push(format!("{}: {target}", page.display()));
            } else if !anchor.is_empty() {
                let there = std::fs::read_to_string(&file).unwrap_or_default();
                if !anchors(&there).iter().any(|a| a == anchor) {
                    broken.push(format!("{}: {target} (no such heading)", page.display()));
                }
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}
