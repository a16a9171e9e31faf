//! End-to-end runs of the command line on temporary folders: outputs, determinism, errors.

mod common;

use common::*;

#[test]
fn list_names_the_shipped_experiments() {
    let dir = tempfile::tempdir().unwrap();
    let o = pressure(&["list"], dir.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.lines().any(|l| l.starts_with("pressure ")), "{out}");
}

#[test]
fn a_run_writes_config_manifest_metrics_and_figures() {
    let dir = tempfile::tempdir().unwrap();
    let exp = write(dir.path(), "tiny.toml", TINY);
    let o = pressure(&["run", exp.to_str().unwrap(), "--seeds", "2"], dir.path());
    assert!(o.status.success(), "{}", stderr(&o));

    let out = dir.path().join("runs/tiny");
    let csv = std::fs::read_to_string(out.join("metrics.csv")).unwrap();
    assert_eq!(csv.lines().next(), Some("arm,seed,step,scope,metric,value"));
    for needle in [
        "tolerated,0,0,trained,refusal,",
        "tolerated,1,40,unobserved,ignorance,",
        "\"penalized, with a comma\",1,40,trained,hidden_objection,",
        "tolerated,0,20,train,reward_trained,",
        "tolerated,0,0,constitution,act_accuracy_safety,",
    ] {
        assert!(csv.contains(needle), "metrics.csv lacks {needle}");
    }
    // Scopes that are empty in this experiment are omitted.
    assert!(!csv.contains(",heldout,") && !csv.contains(",framed,"));

    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["seeds"], serde_json::json!([0, 1]));
    let runs = manifest["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 4);
    assert!(runs.iter().all(|r| r["status"] == "completed"));

    // The resolved config writes every default and reproduces the experiment.
    let config = std::fs::read_to_string(out.join("config.toml")).unwrap();
    for key in [
        "latent_dim",
        "object_share",
        "refusal_penalty",
        "final_window",
        "judge_penalty",
    ] {
        assert!(config.contains(key), "config.toml lacks {key}");
    }

    // An experiment of the user's draws beside its data, never into the repository's plots/.
    assert!(!dir.path().join("plots").exists());
    for fig in ["headline", "outcomes", "diagnostics"] {
        for ext in ["png", "svg"] {
            let f = dir.path().join(format!("runs/tiny/plots/{fig}.{ext}"));
            assert!(
                std::fs::metadata(&f).map(|m| m.len() > 10_000).unwrap_or(false),
                "{} missing",
                f.display()
            );
        }
    }
    // The SVG carries its text as text: the title names what was trained.
    let svg = std::fs::read_to_string(dir.path().join("runs/tiny/plots/headline.svg")).unwrap();
    assert!(svg.contains("REINFORCE on the institutional reward for 40 steps"));

    // `plot` redraws from the stored data alone.
    std::fs::remove_dir_all(dir.path().join("runs/tiny/plots")).unwrap();
    let o = pressure(&["plot", "runs/tiny", "--plots", "again"], dir.path());
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(dir.path().join("again/outcomes.png").exists());
}

#[test]
fn arms_with_identical_settings_keep_their_own_runs() {
    let dir = tempfile::tempdir().unwrap();
    let text = TINY.replace("reward = { objection_penalty = 1.0, judge_penalty = 1.0 }", "");
    let exp = write(dir.path(), "tiny.toml", &text);
    let o = pressure(
        &["run", exp.to_str().unwrap(), "--seeds", "1", "--no-plots"],
        dir.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let csv = std::fs::read_to_string(dir.path().join("runs/tiny/metrics.csv")).unwrap();
    assert!(csv.contains("\ntolerated,0,40,trained,refusal,"));
    assert!(csv.contains("\n\"penalized, with a comma\",0,40,trained,refusal,"));
}

#[test]
fn arm_trains_only_the_arms_named_and_keeps_their_ids() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "tiny.toml", TINY);
    let list = |extra: &[&str]| {
        let mut args = vec!["run", "tiny.toml", "--dry-run", "--out", "o"];
        args.extend(extra);
        let o = pressure(&args, dir.path());
        assert!(o.status.success(), "{}", stderr(&o));
        stdout(&o)
    };
    let all = list(&[]);
    let one = list(&["--arm", "penalized, with a comma"]);
    let expected: String = all
        .lines()
        .filter(|l| l.contains("\tpenalized, with a comma\t"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(one, expected);
    assert_eq!(one.lines().count(), 3);
    for (arms, needle) in [
        (
            &["--arm", "nobody"][..],
            "error: --arm nobody: not an arm of tiny; its arms: tolerated, penalized, with a comma\n",
        ),
        (
            &["--arm", "tolerated", "--arm", "tolerated"][..],
            "error: --arm tolerated: named twice\n",
        ),
    ] {
        let mut args = vec!["run", "tiny.toml", "--dry-run"];
        args.extend(arms);
        let o = pressure(&args, dir.path());
        assert_eq!((o.status.code(), stderr(&o).as_str()), (Some(2), needle));
    }
}

/// A run's metrics do not depend on the thread count, nor on which runs share its population
/// (`--population 1`: every run alone; `6`: both arms' seeds in one batched network).
fn metrics_are_byte_identical_whatever_the_jobs_and_populations(backend: &str) {
    let variants: [&[&str]; 4] = [
        &["--jobs", "1", "--backend", backend],
        &["--jobs", "2", "--backend", backend],
        &["--jobs", "2", "--population", "1", "--backend", backend],
        &["--jobs", "1", "--population", "6", "--backend", backend],
    ];
    same_metrics_whatever(TINY, &variants);
}

#[test]
fn metrics_are_byte_identical_whatever_the_jobs_and_populations_on_ndarray() {
    metrics_are_byte_identical_whatever_the_jobs_and_populations("ndarray");
}

#[cfg(feature = "flex")]
#[test]
fn metrics_are_byte_identical_whatever_the_jobs_and_populations_on_flex() {
    metrics_are_byte_identical_whatever_the_jobs_and_populations("flex");
}

#[test]
fn the_benchmark_prints_a_table_and_writes_json() {
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "bench",
        "--experiments",
        "none",
        "--populations",
        "1,2",
        "--steps",
        "3",
        "--json",
        "b.json",
    ];
    let o = pressure(&args, dir.path());
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("| population | seed-steps/s |"), "{}", stdout(&o));
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.path().join("b.json")).unwrap()).unwrap();
    let rows = report["throughput"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|r| r["seed_steps_per_second"].as_f64().unwrap() > 0.0));
    // The floor: per population, the products' and Adam's cost. A seed's products on the
    // default network (24 → 64 → 64 → 4 outputs, batch 256), counted by hand: two forwards,
    // every weight gradient, and the input gradients past the first layer,
    // 2·256·(24·64·3 + 64·64·4 + 64·4·4) = 11,272,192 operations.
    assert!(stdout(&o).contains("| population | products (µs) |"), "{}", stdout(&o));
    let floor = report["floor"].as_array().unwrap();
    assert_eq!(floor.len(), 2);
    for f in floor {
        assert_eq!(f["product_flop"].as_f64().unwrap(), 11_272_192.0);
        for key in ["products_us", "adam_us", "draws_us"] {
            assert!(f[key].as_f64().unwrap() > 0.0, "{key}: {f}");
        }
    }
    let o = pressure(&["bench", "--experiments", "nonesuch"], dir.path());
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("not a shipped experiment"), "{}", stderr(&o));
}

#[test]
fn a_diverged_run_is_marked_and_the_others_finish() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!("{TINY}\n[[arms]]\nname = \"exploding\"\npressure.lr = 1e30\n");
    let exp = write(dir.path(), "tiny.toml", &text);
    let o = pressure(
        &["run", exp.to_str().unwrap(), "--seeds", "2", "--no-plots"],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("arm \"exploding\" seed 0"), "{}", stderr(&o));
    assert!(!stderr(&o).contains("panicked"));

    let out = dir.path().join("runs/tiny");
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    for r in manifest["runs"].as_array().unwrap() {
        if r["arm"] == "exploding" {
            assert_eq!(r["status"], "diverged");
            assert!(r["step"].as_u64().unwrap() >= 1);
        } else {
            assert_eq!(r["status"], "completed");
        }
    }
    let csv = std::fs::read_to_string(out.join("metrics.csv")).unwrap();
    assert!(
        !csv.contains("exploding"),
        "a diverged run is not mixed into metrics.csv"
    );
    assert!(csv.contains("tolerated,1,40,trained,refusal,"));
}

#[test]
fn bad_input_gets_one_clear_line_and_a_non_zero_exit() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "malformed.toml", "[pressure\nsteps = 3\n");
    write(d, "unknown.toml", "[pressure]\nstepz = 3\n");
    write(d, "range.toml", "[world]\ncontradiction_rate = 1.5\n");
    write(d, "reward.toml", "[reward]\nkind = \"gold\"\n");
    write(d, "algorithm.toml", "[pressure]\nalgorithm = \"sac\"\n");
    write(d, "ok.toml", "[pressure]\nsteps = 3\n");
    let cases: &[(&[&str], &[&str])] = &[
        (&["run", "missing.toml"], &["missing.toml", "no such file"]),
        (&["run", "malformed.toml"], &["malformed.toml:1:", "malformed TOML"]),
        (&["run", "unknown.toml"], &["unknown.toml", "pressure.stepz", "steps"]),
        (
            &["run", "range.toml"],
            &["range.toml", "world.contradiction_rate", "[0, 1]"],
        ),
        (
            &["run", "reward.toml"],
            &[
                "reward.toml",
                "reward",
                "`kind` = \"gold\"",
                "`institutional`",
                "`mixture`",
            ],
        ),
        (
            &["run", "algorithm.toml"],
            &["algorithm.toml", "pressure.algorithm", "reinforce", "ppo"],
        ),
        (
            &["run", "ok.toml", "--set", "pressure.stepz=3"],
            &["--set pressure.stepz", "valid keys under `pressure`"],
        ),
        (
            &["run", "ok.toml", "--set", "pressure.steps"],
            &["--set pressure.steps", "KEY=VALUE"],
        ),
        (&["plot", "nowhere"], &["nowhere", "not a run folder"]),
        (
            &["run", "nonesuch"],
            &["nonesuch", "nor a shipped experiment", "pressure"],
        ),
        (
            &["run", "ok.toml", "--set", "pressure.steps=abc"],
            &["--set pressure.steps=\"abc\": must be a whole number, 0 or more, not \"abc\""],
        ),
        (
            &["run", "ok.toml", "--set", "world.contradiction_rate=1.5"],
            &["--set world.contradiction_rate=1.5: must be in [0, 1]"],
        ),
        (
            &["run", "ok.toml", "--set", "pressure.judge_fraction=0"],
            &["pressure.honesty", "no effect without judge queries"],
        ),
        (
            &["run", "ok.toml", "--metric", "refusal"],
            &["--metric refusal", "sweep over two settings"],
        ),
        (
            &["run", "ok.toml", "--plots", "ok.toml"],
            &["--plots ok.toml: exists and is not a folder"],
        ),
        (&["bench", "--steps", "0"], &["--steps 0", "at least 1"]),
        (&["bench", "--jobs", "2"], &["--jobs 2", "give --scaling too"]),
    ];
    assert_one_line_errors(d, cases);
    assert!(!d.join("runs").exists(), "no error trains anything first");
}

#[test]
fn figures_follow_the_data_folder() {
    let dir = tempfile::tempdir().unwrap();
    let exp = write(dir.path(), "tiny.toml", TINY);
    let exp = exp.to_str().unwrap();
    let o = pressure(&["run", exp, "--seeds", "1", "--out", "elsewhere"], dir.path());
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(dir.path().join("elsewhere/plots/headline.png").exists());
    assert!(
        !dir.path().join("plots").exists(),
        "plots/ is for the shipped experiments only"
    );
    let o = pressure(&["plot", "elsewhere"], dir.path());
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!dir.path().join("plots").exists());
    // Every seed's final value is drawn with the other figures.
    assert!(dir.path().join("elsewhere/plots/finals.svg").exists());
}

/// The width and height of a PNG file, from its header.
fn png_size(path: &std::path::Path) -> (u32, u32) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let at = |i: usize| u32::from_be_bytes(bytes[i..i + 4].try_into().unwrap());
    (at(16), at(20))
}

#[test]
fn figures_for_a_paper_or_a_slide_have_its_size_and_a_folder_of_their_own() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "tiny.toml", TINY);
    let o = pressure(&["run", "tiny.toml", "--seeds", "2"], dir.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let screen = std::fs::read(dir.path().join("runs/tiny/plots/headline.png")).unwrap();
    assert_eq!(png_size(&dir.path().join("runs/tiny/plots/headline.png")).0, 1400);
    for (size, width) in [("page", 2100), ("column", 1050), ("slide", 1920)] {
        let o = pressure(&["plot", "runs/tiny", "--figure-size", size], dir.path());
        assert!(o.status.success(), "{size}: {}", stderr(&o));
        for figure in ["headline", "outcomes", "diagnostics", "finals"] {
            let (w, h) = png_size(&dir.path().join(format!("runs/tiny/plots/{size}/{figure}.png")));
            assert_eq!(w, width, "{size} {figure}");
            if size == "slide" {
                assert_eq!(h, 1080, "a slide is 16:9");
            }
            let svg = std::fs::read_to_string(dir.path().join(format!("runs/tiny/plots/{size}/{figure}.svg"))).unwrap();
            assert!(svg.contains(&format!("width=\"{width}\"")), "{size} {figure}.svg");
        }
    }
    // Text scales with the figure: the headline's title is 23 units, 2.1 pixels each on paper
    // (plotters writes an SVG font size as pixels / 1.24).
    let svg = std::fs::read_to_string(dir.path().join("runs/tiny/plots/page/headline.svg")).unwrap();
    assert!(svg.contains("font-size=\"38.95"), "the title's size on a page");
    // The screen's figures are not replaced.
    assert_eq!(
        std::fs::read(dir.path().join("runs/tiny/plots/headline.png")).unwrap(),
        screen
    );
    let o = pressure(
        &[
            "run",
            "tiny.toml",
            "--seeds",
            "2",
            "--figure-size",
            "column",
            "--plots",
            "c",
        ],
        dir.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(png_size(&dir.path().join("c/finals.png")).0, 1050);
    // --pdf: each figure as a PDF page of the sheet's size (3.5 in = 252 pt), its text as text.
    let o = pressure(
        &["plot", "runs/tiny", "--figure-size", "column", "--pdf", "--plots", "p"],
        dir.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    for figure in ["headline", "outcomes", "diagnostics", "finals"] {
        let pdf = std::fs::read(dir.path().join(format!("p/{figure}.pdf"))).unwrap();
        assert!(pdf.starts_with(b"%PDF-"), "{figure}.pdf");
        let text = String::from_utf8_lossy(&pdf);
        assert!(text.contains("/MediaBox [0 0 252 "), "{figure}.pdf is 3.5 in wide");
        assert!(text.contains("DejaVuSans"), "{figure}.pdf embeds the figures' font");
    }
    assert!(!dir.path().join("c/finals.pdf").exists(), "no PDF unless asked");
}

#[test]
fn a_reader_that_stops_reading_is_no_error() {
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().unwrap();
    for args in [&["list"][..], &["run", "phase_diagram", "--dry-run"][..]] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_pressure"))
            .args(args)
            .current_dir(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take()); // like `| head -0`: the pipe closes before the output
        let o = child.wait_with_output().unwrap();
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
        assert!(!stderr(&o).contains("panicked"), "{args:?}: {}", stderr(&o));
    }
}
