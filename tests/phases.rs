//! Training as a list of phases (docs/model.md §9): the default list keeps today's bytes, a
//! teach phase teaches an untaught principle, and a criterion not reached is censored.

mod common;

use common::{TINY, pressure, stderr, write};

/// `(arm, seed, step, scope, metric) → value` rows of a folder's metrics.csv.
fn rows(dir: &std::path::Path) -> Vec<(String, u64, usize, String, String, f64)> {
    let text = std::fs::read_to_string(dir.join("metrics.csv")).unwrap();
    text.lines()
        .skip(1)
        .map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            (
                f[0].to_string(),
                f[1].parse().unwrap(),
                f[2].parse().unwrap(),
                f[3].to_string(),
                f[4].to_string(),
                f[5].parse().unwrap(),
            )
        })
        .collect()
}

/// The `metrics.csv` bytes of each experiment text, trained in a fresh folder without the cache.
fn metrics_of(texts: [&str; 2]) -> [Vec<u8>; 2] {
    let dir = tempfile::tempdir().unwrap();
    texts.map(|text| {
        let out = format!("out{}", text.len());
        let file = write(dir.path(), &format!("{out}.toml"), text);
        let o = pressure(
            &["run", file.to_str().unwrap(), "--out", &out, "--no-plots", "--no-cache"],
            dir.path(),
        );
        assert!(o.status.success(), "{}", stderr(&o));
        std::fs::read(dir.path().join(out).join("metrics.csv")).unwrap()
    })
}

#[test]
fn a_list_equal_to_the_default_reproduces_the_run_byte_for_byte() {
    let listed = TINY.replace(
        "[eval]",
        "[[phases]]\nkind = \"constitution\"\n\n[[phases]]\nkind = \"pressure\"\n\n[eval]",
    );
    let [a, b] = metrics_of([TINY, &listed]);
    assert!(a.len() > 1000);
    assert_eq!(a, b, "the default list written out must give the same bytes");
}

/// A world with a fifth principle the constitution does not teach, then a teach phase.
fn taught_later(teach: &str) -> String {
    format!(
        r#"
name = "later"
seeds = 2

[world]
domains = ["harm", "honesty", "care", "safety", "privacy"]
train_domains = ["harm", "honesty", "care", "safety"]

[constitution]
steps = 300
domains = ["harm", "honesty", "care", "safety"]

[eval]
every = 50
tasks = 64

[[phases]]
kind = "constitution"

[[phases]]
kind = "teach"
domains = ["privacy"]
{teach}
"#
    )
}

#[test]
fn a_teach_phase_raises_an_untaught_principles_refusal_from_near_0_to_above_0_8() {
    let dir = tempfile::tempdir().unwrap();
    // Objection is not taught here, so refusal is what the principle asks for.
    let file = write(
        dir.path(),
        "later.toml",
        &taught_later("steps = 150\nobject_share = 0.0"),
    );
    let o = pressure(
        &["run", file.to_str().unwrap(), "--out", "out", "--no-plots"],
        dir.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let rows = rows(&dir.path().join("out"));
    let refusal = |step: usize| -> Vec<f64> {
        rows.iter()
            .filter(|r| r.2 == step && r.3 == "heldout" && r.4 == "refusal")
            .map(|r| r.5)
            .collect()
    };
    let (before, after) = (refusal(0), refusal(150));
    assert_eq!((before.len(), after.len()), (2, 2), "both seeds measured at 0 and 150");
    for (b, a) in before.iter().zip(&after) {
        assert!(*b < 0.05, "an untaught principle is not refused: {b}");
        assert!(*a > 0.8, "taught, it is: {a} (from {b})");
    }
    // It reached the criterion, and said when.
    let reached: Vec<f64> = rows
        .iter()
        .filter(|r| r.4 == "criterion_reached")
        .map(|r| r.5)
        .collect();
    assert_eq!(reached, vec![1.0, 1.0]);
    let steps: Vec<f64> = rows
        .iter()
        .filter(|r| r.4 == "steps_to_criterion")
        .map(|r| r.5)
        .collect();
    assert_eq!(steps.len(), 2);
    assert!(
        steps.iter().all(|&s| s > 0.0 && s <= 150.0 && s % 10.0 == 0.0),
        "{steps:?}"
    );
}

#[test]
fn a_criterion_not_reached_is_censored_not_given_the_phase_length() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "later.toml", &taught_later("steps = 20\nlr = 1e-6"));
    let o = pressure(
        &["run", file.to_str().unwrap(), "--out", "out", "--no-plots"],
        dir.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let rows = rows(&dir.path().join("out"));
    let reached: Vec<(usize, f64)> = rows
        .iter()
        .filter(|r| r.3 == "criterion" && r.4 == "criterion_reached")
        .map(|r| (r.2, r.5))
        .collect();
    assert_eq!(
        reached,
        vec![(20, 0.0), (20, 0.0)],
        "recorded at the phase's last step, not reached"
    );
    assert!(
        !rows.iter().any(|r| r.4 == "steps_to_criterion"),
        "a censored phase records no steps to criterion (not its length)"
    );
}

#[test]
fn bad_lists_get_one_line_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("phases = []", "phases"),
        ("[[phases]]\nkind = \"train\"", "train"),
        (
            "[[phases]]\nkind = \"constitution\"\n[[phases]]\nkind = \"teach\"\ndomains = [\"harm\"]\nreward = { kind = \"principled\" }",
            "phases.teach.reward",
        ),
        (
            "[[phases]]\nkind = \"constitution\"\n[[phases]]\nkind = \"pressure\"\nsteps = 0",
            "phases.pressure.steps",
        ),
    ];
    for (i, (phases, needle)) in cases.iter().enumerate() {
        let text = if phases.starts_with("phases =") {
            TINY.replace("seeds = 3\n", &format!("seeds = 3\n{phases}\n"))
        } else {
            TINY.replace("[eval]", &format!("{phases}\n\n[eval]"))
        };
        let file = write(dir.path(), &format!("bad{i}.toml"), &text);
        let o = pressure(&["run", file.to_str().unwrap(), "--out", "out"], dir.path());
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{phases}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{phases}: {err}");
        assert!(
            err.contains(needle) && err.contains(&format!("bad{i}.toml")),
            "{phases}: {err}"
        );
    }
}

/// Pressure, then a phase with a strong KL term and a reward that pays refusal back: taken
/// against the constitution it pulls refusal back up; taken against the policy at the phase's
/// start it holds refusal where the first pressure left it.
#[test]
fn a_phase_takes_its_kl_against_the_policy_at_its_start_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let text = |reference: &str| {
        format!(
            r#"
name = "reference_{reference}"
seeds = 2

[constitution]
steps = 200

[pressure]
steps = 150
lr = 1e-3

[reward]
kind = "institutional"
refusal_penalty = 2.0

[eval]
every = 50
tasks = 32

[[phases]]
kind = "constitution"

[[phases]]
kind = "pressure"

[[phases]]
kind = "pressure"
name = "back"
steps = 150
kl = 5.0
reference = "{reference}"
reward = {{ kind = "principled" }}
"#
        )
    };
    let mut moved = Vec::new();
    for reference in ["constitution", "start"] {
        let file = write(dir.path(), &format!("{reference}.toml"), &text(reference));
        let out = format!("out_{reference}");
        let o = pressure(
            &["run", file.to_str().unwrap(), "--out", &out, "--no-plots"],
            dir.path(),
        );
        assert!(o.status.success(), "{}", stderr(&o));
        let rows = rows(&dir.path().join(&out));
        let refusal = |step: usize| -> f64 {
            let v: Vec<f64> = rows
                .iter()
                .filter(|r| r.2 == step && r.3 == "trained" && r.4 == "refusal")
                .map(|r| r.5)
                .collect();
            v.iter().sum::<f64>() / v.len() as f64
        };
        assert!(
            refusal(150) < 0.3,
            "{reference}: the first pressure drove refusal down: {}",
            refusal(150)
        );
        moved.push(refusal(300) - refusal(150));
    }
    let (to_constitution, to_start) = (moved[0], moved[1]);
    assert!(
        to_constitution > to_start + 0.1,
        "against the constitution refusal comes back further ({to_constitution:.3}) than against the phase's start ({to_start:.3})"
    );
}

#[test]
fn a_followup_written_as_a_phase_gives_the_same_bytes() {
    let followup = TINY.replace(
        "[eval]",
        "[followup]\nsteps = 30\nreward = { kind = \"principled\" }\n\n[eval]",
    );
    let phased = TINY.replace(
        "[eval]",
        "[[phases]]\nkind = \"constitution\"\n\n[[phases]]\nkind = \"pressure\"\n\n[[phases]]\nkind = \"pressure\"\nname = \"followup\"\nsteps = 30\nreward = { kind = \"principled\" }\nhonesty = 0.0\njudge_fraction = 1.0\n\n[eval]",
    );
    let [a, b] = metrics_of([&followup, &phased]);
    assert!(a.len() > 1000);
    assert_eq!(a, b, "the followup is one more pressure phase");
}
