//! `pressure report`: one HTML file that opens from disk with no network, read here as text (no
//! browser on the machine): every figure inline as SVG, no address to fetch, the tables, the
//! control as the description names it, the runs that did not complete, and provenance.

mod common;

use common::*;

/// A tiny experiment whose description names its control (not the first arm), with an arm
/// that diverges.
fn experiment() -> String {
    let tiny = TINY.replace(
        "description = \"A tiny budget for tests.\"",
        "description = \"A tiny budget for tests. Control: `penalized, with a comma` penalizes objection too.\"",
    );
    format!(
        "{tiny}\n[[arms]]\nname = \"exploding\"\npressure.lr = 1e30\n\n[[claims]]\nname = \"rate\"\ntext = \"Refusal is a rate.\"\ncheck = \"refusal[tolerated] >= 0\"\n"
    )
}

/// The number of times `needle` occurs in `text`.
fn count(text: &str, needle: &str) -> usize {
    text.matches(needle).count()
}

#[test]
fn a_report_holds_every_figure_and_table_and_fetches_nothing() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "tiny.toml", &experiment());
    let o = pressure(&["run", "tiny.toml", "--seeds", "2"], dir.path());
    assert_eq!(o.status.code(), Some(1), "one arm diverges: {}", stderr(&o));
    let o = pressure(&["report", "runs/tiny"], dir.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let html = std::fs::read_to_string(dir.path().join("runs/tiny/report.html")).unwrap();

    // Every figure `run` drew is inline, as SVG, and nothing is fetched from anywhere.
    let figures: Vec<String> = std::fs::read_dir(dir.path().join("runs/tiny/plots"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".svg"))
        .collect();
    assert!(figures.len() >= 4, "{figures:?}");
    assert_eq!(count(&html, "<svg"), figures.len(), "{figures:?}");
    assert_eq!(count(&html, "</svg>"), figures.len());
    for name in &figures {
        let stem = name.trim_end_matches(".svg");
        assert!(html.contains(&format!("<figure id=\"figure-{stem}\">")), "{stem}");
    }
    for external in [
        "http:", "https:", "//cdn", "<script", "<link", "src=", "@import", "url(",
    ] {
        assert!(!html.contains(external), "the report names `{external}`");
    }
    assert!(html.starts_with("<!DOCTYPE html>") && html.trim_end().ends_with("</html>"));

    // The tables: arms, headline, comparisons, seeds, runs that did not complete, provenance.
    assert!(count(&html, "<table>") >= 6, "{} tables", count(&html, "<table>"));
    for needle in [
        "A tiny budget for tests. Control: <code>penalized, with a comma</code>",
        "Control: <code>penalized, with a comma</code>, as the description names it.",
        "arm (scope trained, final; mean [95% interval, t])",
        "each arm against the control `penalized, with a comma`",
        "<td>tolerated</td><td>refusal</td>",
        "Welch",
        "p Holm",
        // The claims, checked as `summary` checks them.
        "<h2 id=\"claims\">Claims</h2>",
        "1 of 1 claims come out as the experiment states them",
        "<td>✓</td><td>rate: Refusal is a rate.</td><td>refusal[tolerated] &gt;= 0</td>",
        // The diverged arm cannot be compared, and says so.
        "Not compared, with fewer than two completed seeds: <code>exploding</code>",
        // Every seed, with its run.
        "<td>tolerated</td><td class=\"num\">1</td>",
        // The runs that did not complete.
        "2 of 6 runs did not complete",
        "<td>exploding</td>",
        "diverged",
        // The configuration and provenance.
        "[[arms]]",
        "pressure version",
        "git commit",
        "CPU",
        "flex",
        "pressure run tiny.toml --seeds 2",
    ] {
        assert!(html.contains(needle), "the report lacks `{needle}`");
    }
    // The manifest recorded the provenance the report shows.
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("runs/tiny/manifest.json")).unwrap()).unwrap();
    assert!(
        manifest["command"]
            .as_str()
            .unwrap()
            .ends_with("run tiny.toml --seeds 2")
    );

    // --out writes elsewhere.
    let o = pressure(&["report", "runs/tiny", "--out", "r.html"], dir.path());
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(dir.path().join("r.html")).unwrap(), html);
}

#[test]
fn a_report_of_what_is_not_a_run_folder_is_refused_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("empty")).unwrap();
    assert_one_line_errors(
        dir.path(),
        &[
            (&["report", "nowhere"], &["nowhere", "not a run folder"]),
            (&["report", "empty"], &["empty", "not a run folder"]),
        ],
    );
    assert!(!dir.path().join("empty/report.html").exists());
}
