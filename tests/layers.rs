//! The house reads one way: each module imports only the layers below it, and no modules import
//! each other in a circle. This test reads every source file's `crate::` and `super::` paths and
//! fails on an import that runs upward or closes a circle, naming the file and line. A room holds
//! one thing: no source file is over 500 lines.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The layers, bottom first. A module may import from its own layer or any below it.
const LAYERS: &[&[&str]] = &[
    &["rng", "settings", "stats"],
    &["world"],
    &["metric"],
    &["policy"],
    &["reward"],
    &["train"],
    &["eval"],
    &["run"],
    &["records"],
    &["results"],
    &["plot"],
    &["experiment"],
    &["commands", "demo"],
];

fn layer_of(top: &str) -> usize {
    LAYERS
        .iter()
        .position(|l| l.contains(&top))
        .unwrap_or_else(|| panic!("src/{top}: add the module to LAYERS in tests/layers.rs"))
}

/// Every `.rs` file under `dir`, as its module path (`train::phase`) and text.
fn modules(dir: &Path, prefix: &[String], out: &mut Vec<(Vec<String>, String)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            let mut p = prefix.to_vec();
            p.push(name);
            modules(&path, &p, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let mut p = prefix.to_vec();
            if name != "mod" {
                p.push(name);
            }
            out.push((p, std::fs::read_to_string(&path).unwrap()));
        }
    }
}

/// The paths a file names: `crate::a::b` anywhere, `super::x` resolved against the file's own
/// module, with the line they are on. `use` groups (`crate::{a, b::c}`) are expanded.
fn imports(module: &[String], text: &str) -> Vec<(usize, Vec<String>)> {
    let mut out = Vec::new();
    let mut statement = String::new();
    let mut start = 0;
    for (n, line) in text.lines().enumerate() {
        let code = line.split("//").next().unwrap_or("");
        if statement.is_empty() {
            start = n + 1;
        }
        statement.push_str(code);
        statement.push(' ');
        let is_use = statement.trim_start().starts_with("use ") || statement.trim_start().starts_with("pub use ");
        if is_use && !code.contains(';') {
            continue;
        }
        for root in ["crate::", "super::"] {
            let mut rest = statement.as_str();
            while let Some(at) = rest.find(root) {
                let before = rest[..at].chars().last();
                rest = &rest[at..];
                if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                    rest = &rest[root.len()..];
                    continue;
                }
                let base: Vec<String> = if root == "crate::" {
                    Vec::new()
                } else {
                    // `super` in `a/b.rs` is `a`; in `a/b/mod.rs` (module `a::b` too) it is `a` as well.
                    let up = module.len().saturating_sub(1);
                    module[..up].to_vec()
                };
                for path in expand(&rest[root.len()..]) {
                    let mut full = base.clone();
                    full.extend(path);
                    if !full.is_empty() {
                        out.push((start, full));
                    }
                }
                rest = &rest[root.len()..];
            }
        }
        statement.clear();
    }
    out
}

/// The paths of a `use` tail: `a::b::C`, `a::{b, c::D}`.
fn expand(tail: &str) -> Vec<Vec<String>> {
    let mut segments = Vec::new();
    let mut rest = tail.trim_start();
    loop {
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 1;
            let mut end = 0;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    _ => {}
                }
                if depth == 0 {
                    end = i;
                    break;
                }
            }
            let mut out = Vec::new();
            let mut depth = 0;
            let mut item = String::new();
            for c in group[..end].chars().chain([',']) {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        for p in expand(&item) {
                            let mut full: Vec<String> = segments.clone();
                            full.extend(p);
                            out.push(full);
                        }
                        item.clear();
                        continue;
                    }
                    _ => {}
                }
                item.push(c);
            }
            return out;
        }
        let ident: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
        if ident.is_empty() || ident == "self" {
            break;
        }
        segments.push(ident.clone());
        rest = &rest[ident.len()..];
        match rest.strip_prefix("::") {
            Some(r) => rest = r,
            None => break,
        }
    }
    vec![segments]
}

/// The longest prefix of `path` that is a module.
fn module_of(path: &[String], modules: &BTreeSet<Vec<String>>) -> Vec<String> {
    (1..=path.len())
        .rev()
        .map(|n| path[..n].to_vec())
        .find(|p| modules.contains(p))
        .unwrap_or_default()
}

#[test]
fn every_import_runs_downward_and_none_closes_a_circle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    modules(&src, &[], &mut files);
    let names: BTreeSet<Vec<String>> = files.iter().map(|(m, _)| m.clone()).collect();
    let mut upward = Vec::new();
    let mut edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    for (module, text) in &files {
        let Some(top) = module.first() else { continue }; // lib.rs
        if top == "main" {
            continue; // the binary sits above every layer
        }
        for (line, path) in imports(module, text) {
            let target = module_of(&path, &names);
            let Some(target_top) = target.first() else { continue };
            if layer_of(target_top) > layer_of(top) {
                upward.push(format!(
                    "src/{}.rs:{line}: `{}` imports `{}`, a layer above it",
                    module.join("/"),
                    module.join("::"),
                    path.join("::")
                ));
            }
            // A parent and its own submodules are one unit; circles are between units.
            let related = target.starts_with(module) || module.starts_with(&target);
            if !related {
                edges.entry(module.clone()).or_default().insert(target);
            }
        }
    }
    assert!(upward.is_empty(), "imports that run upward:\n{}", upward.join("\n"));

    // A circle is a path from a module back to itself.
    let mut circles = Vec::new();
    for start in edges.keys() {
        let mut stack = vec![(start.clone(), vec![start.clone()])];
        let mut seen = BTreeSet::new();
        while let Some((at, trail)) = stack.pop() {
            for next in edges.get(&at).into_iter().flatten() {
                if next == start {
                    let names: Vec<String> = trail.iter().chain([start]).map(|m| m.join("::")).collect();
                    circles.push(names.join(" → "));
                } else if seen.insert(next.clone()) {
                    let mut t = trail.clone();
                    t.push(next.clone());
                    stack.push((next.clone(), t));
                }
            }
        }
    }
    circles.sort();
    circles.dedup();
    assert!(circles.is_empty(), "import circles:\n{}", circles.join("\n"));
}

/// The most lines a source file may have: past it, a file holds two things.
const MAX_LINES: usize = 500;

#[test]
fn no_source_file_is_over_500_lines() {
    let mut found = Vec::new();
    modules(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &[], &mut found);
    let mut long: Vec<String> = found
        .iter()
        .filter(|(_, text)| text.lines().count() > MAX_LINES)
        .map(|(module, text)| format!("{} ({} lines)", module.join("::"), text.lines().count()))
        .collect();
    long.sort();
    assert!(found.len() > 100, "the source files were read: {}", found.len());
    assert!(
        long.is_empty(),
        "source files over {MAX_LINES} lines; split each where it holds two things:\n{}",
        long.join("\n")
    );
}

#[test]
fn the_checker_sees_groups_and_super() {
    let paths = imports(
        &["train".to_string(), "phase".to_string()],
        "use super::{Population, batch::{self, host}};\nuse crate::{metric::KL, world::World};\nlet x = crate::eval::Evaluator::new();\n",
    );
    let joined: Vec<String> = paths.iter().map(|(l, p)| format!("{l}:{}", p.join("::"))).collect();
    assert!(joined.contains(&"1:train::Population".to_string()), "{joined:?}");
    assert!(joined.contains(&"1:train::batch::host".to_string()), "{joined:?}");
    assert!(joined.contains(&"2:metric::KL".to_string()), "{joined:?}");
    assert!(joined.contains(&"3:eval::Evaluator::new".to_string()), "{joined:?}");
}
