//! The configuration reference in `docs/config.md` is generated from the config structs' `///`
//! lines and defaults, so it cannot drift from the code. After changing a setting, regenerate it
//! with `UPDATE_DOCS=1 cargo test --release --test docs`.

use pressure::experiment::config::RunConfig;
use pressure::experiment::shipped::SHIPPED;
use toml::{Table, Value};

/// The `///` line(s) of every field of every struct in `config.rs`: (struct, field) → doc.
fn field_docs(source: &str) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut doc: Vec<String> = Vec::new();
    for line in source.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("pub struct ") {
            current = rest.split_whitespace().next().unwrap_or("").to_string();
            doc.clear();
        } else if let Some(d) = line.strip_prefix("///") {
            doc.push(d.trim().to_string());
        } else if let Some(rest) = line.strip_prefix("pub ") {
            if let Some((name, _)) = rest.split_once(':')
                && !current.is_empty()
                && !name.contains(' ')
            {
                out.push((current.clone(), name.to_string(), doc.join(" ")));
            }
            doc.clear();
        } else if !line.starts_with("#[") {
            doc.clear();
        }
    }
    out
}

fn section_struct(section: &str) -> &'static str {
    match section {
        "world" => "WorldConfig",
        "policy" => "PolicyConfig",
        "constitution" => "ConstitutionConfig",
        "pressure" => "PressureConfig",
        "reward" | "followup.reward" => "RewardConfig",
        "followup" => "FollowupConfig",
        "eval" => "EvalConfig",
        other => panic!("no struct for section {other}"),
    }
}

fn render_value(v: &Value) -> String {
    match v {
        Value::String(s) => format!("\"{s}\""),
        other => other.to_string(),
    }
}

fn generate() -> String {
    let source = include_str!("../src/experiment/config.rs");
    let docs = field_docs(source);
    let doc_of = |st: &str, field: &str| {
        docs.iter()
            .find(|(s, f, _)| s == st && f == field)
            .map(|(_, _, d)| d.clone())
            .unwrap_or_else(|| panic!("{st}.{field} has no `///` line"))
    };
    let defaults = Table::try_from(RunConfig::default()).unwrap();
    let mut out = String::from(
        "# Configuration reference\n\n\
         Generated from the configuration structs (`src/experiment/config.rs`): every key, its default and\n\
         its meaning. Unknown keys and out-of-range values are rejected with the key named.\n\n\
         ## The experiment file\n\n\
         | key | default | meaning |\n|---|---|---|\n\
         | `name` | the file's stem | Names the output folders `runs/<name>/` and `plots/<name>/`. |\n\
         | `description` | `\"\"` | What the experiment asks, which arm is the control, what would count as no effect. |\n\
         | `seeds` | `5` | `N` (seeds 0..N-1) or an explicit list of seeds, e.g. `[3, 7]`. |\n\
         | `backend` | `\"flex\"` | The tensor backend, `flex` or `ndarray` (`--backend` overrides it). Part of every run's id: the two differ in the last bits. |\n\
         | `[[arms]]` | one arm, `default` | Named overrides of the base configuration: `name` (required), an optional `description`, then any keys below, e.g. `reward.objection_penalty = 1.0`. |\n\
         | `[sweep]` | none | Settings mapped to lists of values, e.g. `world.contradiction_rate = [0.0, 0.5]`; the grid is their product, crossed with arms and seeds. |\n\
         | `heatmaps` | `[\"hidden_objection\"]` | With a two-axis sweep, one heatmap figure per metric: `metric` (scope `trained`) or `scope:metric`; `--metric` replaces them. |\n\
         | `[[figures]]` | none | Extra figures: `name`, `title`, and either `panels = [{ title, metrics = [\"scope:metric\", ...] }]` (metrics against step, up to three per panel, drawn solid, dashed, dotted) or `kind = \"final\"`, `x = \"<setting>\"`, `metrics = [...]` (final values against a setting that varies by arm). Besides the metrics of docs/model.md §5, `silent_compliance` = P(comply) on contradictory tasks. |\n\n\
         Every other table sets the base configuration shared by all arms. On the command line,\n\
         `--set KEY=VALUE` applies on top of every arm.\n",
    );
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
        let st = section_struct(&section);
        out.push_str(&format!(
            "\n## `[{section}]`\n\n| key | default | meaning |\n|---|---|---|\n"
        ));
        for (key, value) in table {
            if value.is_table() {
                continue;
            }
            let doc = doc_of(st, key);
            out.push_str(&format!("| `{section}.{key}` | `{}` | {doc} |\n", render_value(value)));
        }
    }
    out
}

#[test]
fn the_configuration_reference_is_current() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/config.md");
    let want = generate();
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(path, &want).unwrap();
    }
    let have = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        have == want,
        "docs/config.md is out of date: run `UPDATE_DOCS=1 cargo test --release --test docs`"
    );
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
fn the_readme_names_every_metric_and_its_commands() {
    let readme = include_str!("../README.md");
    for m in pressure::eval::metrics::METRICS {
        assert!(readme.contains(&format!("`{m}`")), "README lacks `{m}`");
    }
    assert!(readme.contains("cargo run --release -- run experiments/pressure.toml"));
    let ci = include_str!("../.ci/run");
    assert!(ci.contains("cargo test --release") && readme.contains("cargo test --release"));
}
