use super::*;
use crate::experiment::expand;

fn parse(text: &str, overrides: &[&str]) -> Result<Experiment, String> {
    let overrides: Vec<Override> = overrides.iter().map(|o| Override::parse(o).unwrap()).collect();
    Experiment::parse(text, Path::new("x.toml"), &overrides).map_err(|e| e.0)
}

#[test]
fn arms_override_the_base_and_set_overrides_every_arm() {
    let e = parse(
        r#"
        seeds = 2
        [pressure]
        steps = 30
        [[arms]]
        name = "a"
        [[arms]]
        name = "b"
        pressure.kl = 0.5
        reward = { kind = "mixture", weight = 0.25 }
        "#,
        &["pressure.steps=40", "policy.hidden=[8, 8]"],
    )
    .unwrap();
    assert_eq!(e.name, "x");
    assert_eq!(e.seeds, vec![0, 1]);
    assert_eq!(e.arms.len(), 2);
    let (a, b) = (&e.arms[0].config, &e.arms[1].config);
    assert_eq!((a.pressure.steps, b.pressure.steps), (40, 40));
    assert_eq!(a.pressure.kl, RunConfig::default().pressure.kl);
    assert_eq!(b.pressure.kl, 0.5);
    assert!(matches!(&b.reward, crate::reward::RewardConfig::Mixture(m) if m.weight == 0.25));
    assert_eq!(a.policy.hidden, vec![8, 8]);
}

#[test]
fn the_resolved_file_reproduces_the_experiment() {
    let e = parse(
        "seeds = [3, 1]\n[[arms]]\nname = \"a\"\nworld.frame = \"sanction\"\n",
        &[],
    )
    .unwrap();
    let again = Experiment::parse(&e.to_toml(), Path::new("x.toml"), &[]).unwrap();
    assert_eq!(
        (&e.name, &e.seeds, e.backend, &e.figures),
        (&again.name, &again.seeds, again.backend, &again.figures)
    );
    assert_eq!(expand(&e), expand(&again));
}

/// What a setting takes from a swept one is resolved at each point of the grid, and the
/// written file resolves the same way.
#[test]
fn inherited_settings_follow_the_sweep() {
    let e = parse(
        "[followup]\nsteps = 10\n[sweep]\npressure.algorithm = [\"reinforce\", \"ppo\"]\n",
        &[],
    )
    .unwrap();
    let runs = expand(&e);
    let algorithms: Vec<_> = runs.iter().map(|r| r.config.followup.algorithm).collect();
    use crate::train::Algorithm::{Ppo, Reinforce};
    assert!(algorithms[..5].iter().all(|a| *a == Some(Reinforce)), "{algorithms:?}");
    assert!(algorithms[5..].iter().all(|a| *a == Some(Ppo)), "{algorithms:?}");
    assert!(runs[5].config.followup.ppo.is_some() && runs[0].config.followup.ppo.is_none());
    let again = Experiment::parse(&e.to_toml(), Path::new("x.toml"), &[]).unwrap();
    assert_eq!(expand(&e), expand(&again));
}

#[test]
fn bad_input_names_file_key_and_choices() {
    let cases: &[(&str, &[&str], &[&str])] = &[
        (
            "[pressure]\nstepz = 3\n",
            &[],
            &["x.toml", "pressure.stepz", "unknown field", "steps"],
        ),
        (
            "[reward]\nkind = \"gold\"\n",
            &[],
            &[
                "x.toml",
                "`reward`",
                "`kind` = \"gold\"",
                "institutional",
                "principled",
                "mixture",
            ],
        ),
        (
            "[reward]\nweight = 0.5\n",
            &[],
            &[
                "x.toml",
                "`weight` is a setting of the mixture reward, not of `institutional`",
            ],
        ),
        (
            "[pressure]\nppo = { clip = 0.3 }\n",
            &[],
            &[
                "x.toml",
                "pressure.ppo",
                "no effect with pressure.algorithm = \"reinforce\"",
            ],
        ),
        (
            "",
            &["reward.weight=0.5"],
            &["--set reward.weight=0.5", "a setting of the mixture reward"],
        ),
        (
            "[pressure]\nalgorithm = \"sac\"\n",
            &[],
            &["pressure.algorithm", "reinforce", "ppo"],
        ),
        (
            "[world]\ncontradiction_rate = 1.5\n",
            &[],
            &["x.toml", "world.contradiction_rate", "[0, 1]"],
        ),
        (
            "[pressure]\nsteps = \"many\"\n",
            &[],
            &["pressure.steps", "must be a whole number, 0 or more, not \"many\""],
        ),
        ("[pressure\n", &[], &["x.toml:1:", "malformed TOML"]),
        // A typo in the file's own tables is blamed there, not on the first arm that inherits it;
        // the same typo in an arm is the arm's.
        (
            "[reward]\nrefusal_penaltyy = 2.0\n[[arms]]\nname = \"a\"\n[[arms]]\nname = \"b\"\n",
            &[],
            &["x.toml: key `reward`: unknown field `refusal_penaltyy`"],
        ),
        (
            "[[arms]]\nname = \"a\"\npressure = { stepz = 3 }\n",
            &[],
            &["x.toml: arm \"a\": key `pressure.stepz`"],
        ),
        ("colour = 1\n", &[], &["x.toml", "unknown field `colour`", "arms"]),
        ("seeds = 0\n", &[], &["seeds", "count in 1..="]),
        ("seeds = 1000000000000\n", &[], &["seeds", "count in 1..="]),
        (
            "[[arms]]\nname = \"a\"\npressure.kl = -1\n",
            &[],
            &["arm \"a\"", "pressure.kl", "≥ 0"],
        ),
        ("[[arms]]\nlabel = \"a\"\n", &[], &["arms[0]", "name"]),
        (
            "",
            &["pressure.stepz=3"],
            &[
                "--set pressure.stepz",
                "unknown key",
                "valid keys under `pressure`",
                "steps",
            ],
        ),
        (
            "",
            &["pressur.steps=3"],
            &["unknown key `pressur.steps`", "valid sections", "pressure"],
        ),
        (
            "",
            &["reward.kind=gold"],
            &["--set reward.kind=\"gold\"", "unknown variant `gold`", "mixture"],
        ),
        (
            "[[arms]]\nname = \"a\"\nfollowup.kl = 0.2\n",
            &[],
            &["arm \"a\"", "followup.kl", "no effect with followup.steps = 0"],
        ),
        (
            "[[arms]]\nname = \"a\"\n",
            &["pressure.steps=abc"],
            &["--set pressure.steps=\"abc\": must be a whole number, 0 or more, not \"abc\""],
        ),
        (
            "",
            &["world.contradiction_rate=1.5"],
            &["--set world.contradiction_rate=1.5: must be in [0, 1]"],
        ),
        (
            "",
            &["policy.hidden=[32,-1]"],
            &["--set policy.hidden=[32, -1]: key `policy.hidden[1]`"],
        ),
    ];
    for (text, overrides, needles) in cases {
        let err = parse(text, overrides).expect_err(text);
        assert!(!err.contains('\n'), "one line: {err}");
        assert_eq!(err, err.trim_end(), "no trailing space");
        assert!(err.matches("pressure.steps").count() <= 1, "the key once: {err}");
        assert!(
            overrides.is_empty() || !err.contains("x.toml"),
            "blames the --set: {err}"
        );
        for n in *needles {
            assert!(err.contains(n), "{text:?} {overrides:?}: `{err}` lacks `{n}`");
        }
    }
}
