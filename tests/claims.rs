//! Claims as code and the robustness check, from the command line: claims are parsed when the
//! file is loaded (bad ones stop before training, naming the claim and the position), checked
//! by `run`, `merge` and `summary` and written to `claims.json`; `--strict` makes a claim that
//! does not come out as stated an error; `robustness` resumes and shards like any run.

mod common;

use common::*;

const TINY: &str = r#"
name = "tiny_claims"
seeds = 2
[constitution]
steps = 60
[pressure]
steps = 40
[eval]
every = 20
tasks = 16
[[arms]]
name = "control"
reward = { kind = "institutional", refusal_penalty = 0.0 }
[[arms]]
name = "pressed"
reward = { kind = "institutional", refusal_penalty = 2.0 }
"#;

fn with_claims(claims: &str) -> String {
    format!("{TINY}\n{claims}")
}

const HOLDS: &str = r#"
[[claims]]
name = "rates are rates"
text = "Refusal is a share."
check = "refusal[control] <= 1"

[[claims]]
name = "never negative"
text = "Refusal is never negative (stated as failing, to check the bookkeeping)."
check = "refusal[pressed] < 0"
expect = "fails"
"#;

const UNEXPECTED: &str = r#"
[[claims]]
name = "impossible"
text = "Refusal above one."
check = "refusal[control] > 1"
"#;

#[test]
fn run_and_summary_check_the_claims_and_strict_makes_a_surprise_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "ok.toml", &with_claims(HOLDS));
    let o = pressure(&["run", "ok.toml", "--out", "ok", "--no-plots", "--strict"], d);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(err.contains("claims: 2 of 2 as the experiment states"), "{err}");
    assert!(
        err.contains("✓ rates are rates") && err.contains("✗ never negative (expected to fail)"),
        "{err}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("ok/claims.json")).unwrap()).unwrap();
    assert_eq!(json["claims"][0]["holds"], true);
    assert_eq!(json["claims"][1]["holds"], false);
    assert_eq!(json["claims"][1]["expect"], "fails");
    let s = pressure(&["summary", "ok", "--strict"], d);
    assert_eq!(s.status.code(), Some(0), "{}", stderr(&s));
    assert!(stdout(&s).contains("✓ rates are rates"), "{}", stdout(&s));
    // Machine-readable output stays parseable: the claims go to stderr.
    let csv = pressure(&["summary", "ok", "--format", "csv"], d);
    assert!(!stdout(&csv).contains('✓') && stderr(&csv).contains('✓'));

    write(d, "surprise.toml", &with_claims(UNEXPECTED));
    let lax = pressure(&["run", "surprise.toml", "--out", "s", "--no-plots"], d);
    assert_eq!(
        lax.status.code(),
        Some(0),
        "a failed claim is not an error: {}",
        stderr(&lax)
    );
    assert!(stderr(&lax).contains("✗ impossible (expected to hold)"));
    let strict = pressure(&["summary", "s", "--strict"], d);
    assert_eq!(strict.status.code(), Some(1), "{}", stderr(&strict));
}

#[test]
fn bad_claims_stop_before_training_naming_the_claim_and_position() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let claim = |check: &str| format!("[[claims]]\nname = \"c\"\ntext = \"t\"\ncheck = \"{check}\"\n");
    let cases: Vec<(String, Vec<&str>)> = vec![
        (
            claim("refusal[nobody] > 0.5"),
            vec!["claim \"c\"", "position 1", "no arm `nobody`", "control, pressed"],
        ),
        (
            claim("refusals[control] > 0.5"),
            vec!["claim \"c\"", "unknown metric `refusals`"],
        ),
        (
            claim("sideways:refusal[control] > 0.5"),
            vec!["unknown scope `sideways`"],
        ),
        (claim("refusal[control] > lots"), vec!["position 20", "`lots`"]),
        (
            claim("refusal[control] 0.5"),
            vec!["position 18", "expected a comparison"],
        ),
        (
            format!("{}{}", claim("refusal[control] > 0"), claim("refusal[pressed] > 0")),
            vec!["the name \"c\" is used by claims[0] too"],
        ),
        (
            "[[claims]]\nname = \"c\"\ncheck = \"refusal[control] > 0\"\n".into(),
            vec!["text"],
        ),
    ];
    for (i, (claims, needles)) in cases.iter().enumerate() {
        let name = format!("bad{i}.toml");
        write(d, &name, &with_claims(claims));
        let mut needles = needles.clone();
        needles.push(&name);
        assert_one_line_errors(d, &[(&["run", name.as_str(), "--out", "never"][..], &needles[..])]);
        assert!(!d.join("never").exists(), "nothing was written for {name}");
    }
}

const PERTURB: &str = r#"
[[perturbations]]
name = "lr 3e-4"
set = ["pressure.lr=3e-4"]

[[perturbations]]
name = "other backend"
backend = "ndarray"
"#;

/// The robustness check is deterministic, resumes, and its shards give the unsharded result.
#[test]
fn robustness_resumes_and_shards_like_any_run() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "tiny.toml", &with_claims(HOLDS));
    write(d, "perturb.toml", PERTURB);
    let args = |out: &str| -> Vec<String> {
        [
            "robustness",
            "tiny.toml",
            "--perturb",
            "perturb.toml",
            "--seeds",
            "2",
            "--out",
            out,
        ]
        .map(String::from)
        .to_vec()
    };
    let run = |extra: &[&str], out: &str| {
        let mut a = args(out);
        a.extend(extra.iter().map(|s| s.to_string()));
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        let o = pressure(&a, d);
        assert!(o.status.success(), "{a:?}: {}", stderr(&o));
        o
    };
    let whole = run(&[], "whole");
    let table = std::fs::read_to_string(d.join("whole/robustness.md")).unwrap();
    assert!(table.contains("| rates are rates | holds | ✓"), "{table}");
    assert!(table.contains("baseline") && table.contains("lr 3e-4") && table.contains("other backend"));
    assert_eq!(stdout(&whole).trim_end(), table.trim_end());
    // Again: nothing is trained, the same table comes out.
    let again = run(&[], "whole");
    let said = stderr(&again);
    assert!(
        said.contains("(8 reused from earlier runs)") && said.contains("(4 reused from earlier runs)"),
        "{said}"
    );
    assert_eq!(std::fs::read_to_string(d.join("whole/robustness.md")).unwrap(), table);
    // Two shards, then the report: byte-identical data and table.
    run(&["--shard", "0/2"], "sharded");
    assert!(!d.join("sharded/robustness.md").exists(), "a shard does not report");
    run(&["--shard", "1/2"], "sharded");
    run(&[], "sharded");
    assert_eq!(std::fs::read_to_string(d.join("sharded/robustness.md")).unwrap(), table);
    for part in ["settings", "ndarray"] {
        assert_eq!(
            std::fs::read(d.join(format!("whole/{part}/metrics.csv"))).unwrap(),
            std::fs::read(d.join(format!("sharded/{part}/metrics.csv"))).unwrap(),
            "{part}"
        );
    }
}

#[test]
fn bad_robustness_input_stops_before_training() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "tiny.toml", &with_claims(HOLDS));
    write(d, "noclaims.toml", TINY);
    write(
        d,
        "unknown.toml",
        "[[perturbations]]\nname = \"x\"\nset = [\"pressure.stepz=3\"]\n",
    );
    write(
        d,
        "range.toml",
        "[[perturbations]]\nname = \"x\"\nset = [\"pressure.kl=-1\"]\n",
    );
    write(d, "both.toml", "[[perturbations]]\nname = \"x\"\n");
    write(
        d,
        "taken.toml",
        "[[perturbations]]\nname = \"baseline\"\nset = [\"pressure.kl=0.1\"]\n",
    );
    // The experiment's own value, and a key every arm sets: they would train the baseline again.
    write(
        d,
        "same.toml",
        "[[perturbations]]\nname = \"same\"\nset = [\"pressure.steps=40\"]\n",
    );
    write(
        d,
        "armset.toml",
        "[[perturbations]]\nname = \"armset\"\nset = [\"reward.refusal_penalty=1.0\"]\n",
    );
    let cases: &[(&[&str], &[&str])] = &[
        (&["robustness", "noclaims.toml"], &["noclaims.toml", "no [[claims]]"]),
        (
            &["robustness", "tiny.toml", "--perturb", "unknown.toml"],
            &["unknown.toml", "perturbations[0]", "pressure.stepz"],
        ),
        (
            &["robustness", "tiny.toml", "--perturb", "range.toml"],
            &["perturbation `x`", "pressure.kl"],
        ),
        (
            &["robustness", "tiny.toml", "--perturb", "both.toml"],
            &["give `set", "or `backend`"],
        ),
        (
            &["robustness", "tiny.toml", "--perturb", "taken.toml"],
            &["the name is taken"],
        ),
        (&["robustness", "tiny.toml", "--seeds", "0"], &["--seeds 0"]),
        (
            &["robustness", "tiny.toml", "--perturb", "same.toml"],
            &["perturbation `same`: changes nothing in the runs it would train"],
        ),
        (
            &["robustness", "tiny.toml", "--perturb", "armset.toml"],
            &[
                "perturbation `armset`: changes nothing",
                "every arm or the sweep sets the key itself",
            ],
        ),
    ];
    assert_one_line_errors(d, cases);
    assert!(!d.join("runs").exists(), "nothing trained");
}
