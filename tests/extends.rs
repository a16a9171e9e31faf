//! `extends`: an experiment composed on another trains the runs its flattened file would, with
//! the same ids; bad bases get one line and exit 2.

mod common;

use common::*;

/// The run ids of `pressure run FILE --dry-run`, in order.
fn ids(dir: &std::path::Path, file: &str) -> Vec<String> {
    let o = pressure(&["run", file, "--dry-run", "--out", "x"], dir);
    assert!(o.status.success(), "{file}: {}", stderr(&o));
    stdout(&o)
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|w| w.len() == 12 && w.chars().all(|c| c.is_ascii_hexdigit()))
        .map(str::to_string)
        .collect()
}

#[test]
fn an_extended_experiment_has_the_run_ids_of_its_flattened_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("base")).unwrap();
    write(dir.path(), "base/tiny.toml", TINY);
    // Tables override key by key; the arms are replaced whole.
    write(
        dir.path(),
        "variant.toml",
        "extends = \"base/tiny.toml\"\nname = \"tiny\"\n[pressure]\nsteps = 30\n\n[[arms]]\nname = \"tolerated\"\nreward = { objection_penalty = 0.0 }\n",
    );
    let flat = TINY
        .replace("[pressure]\nsteps = 40", "[pressure]\nsteps = 30")
        .split("[[arms]]\nname = \"penalized, with a comma\"")
        .next()
        .unwrap()
        .to_string();
    write(dir.path(), "flat.toml", &flat);
    let composed = ids(dir.path(), "variant.toml");
    assert_eq!(composed.len(), 3, "one arm × three seeds");
    assert_eq!(composed, ids(dir.path(), "flat.toml"));
    // A chain of two, and a shipped base by name.
    write(dir.path(), "again.toml", "extends = \"variant.toml\"\n");
    assert_eq!(ids(dir.path(), "again.toml"), composed);
    write(dir.path(), "mine.toml", "extends = \"pressure\"\nname = \"pressure\"\n");
    let shipped = pressure(&["run", "pressure", "--dry-run", "--out", "y"], dir.path());
    let mine = pressure(&["run", "mine.toml", "--dry-run", "--out", "y"], dir.path());
    assert_eq!(stdout(&mine), stdout(&shipped));
}

#[test]
fn a_missing_or_circular_base_gets_one_line() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.toml", "extends = \"b.toml\"\n");
    write(dir.path(), "b.toml", "extends = \"a.toml\"\n");
    write(dir.path(), "lost.toml", "extends = \"nowhere.toml\"\n");
    write(dir.path(), "odd.toml", "extends = 3\n");
    write(
        dir.path(),
        "arms.toml",
        "extends = \"pressure\"\n[[arms]]\nname = \"only\"\n",
    );
    assert_one_line_errors(
        dir.path(),
        &[
            (
                &["run", "a.toml", "--dry-run"],
                &["extends = \"a.toml\"", "circular", "a.toml → b.toml → a.toml"],
            ),
            (
                &["run", "lost.toml", "--dry-run"],
                &["extends = \"nowhere.toml\"", "nor a shipped experiment"],
            ),
            (&["run", "odd.toml", "--dry-run"], &["extends = 3", "must be a string"]),
            (
                &["run", "arms.toml", "--dry-run"],
                &[
                    "no arm `no pressure`",
                    "claims inherited through extends = \"pressure\"",
                    "`claims = []`",
                ],
            ),
        ],
    );
}
