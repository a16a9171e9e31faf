use super::*;
use crate::results::RunData;

fn groups() -> Vec<String> {
    ["control", "objection penalized", "a, b=1"].map(String::from).to_vec()
}

#[test]
fn the_three_forms_parse() {
    let g = groups();
    let g = Some(&g[..]);
    match parse("hidden_objection[objection penalized] >= 0.5", g).unwrap() {
        Statement::Threshold { value, op, bound } => {
            assert_eq!(value.metric.to_string(), "trained:hidden_objection");
            assert_eq!(
                (value.arm.as_str(), value.at, op, bound),
                ("objection penalized", At::Final, Op::Ge, 0.5)
            );
        }
        s => panic!("{s:?}"),
    }
    match parse(
        "heldout:silent_compliance[a, b=1]@peak < heldout:silent_compliance[control]@300",
        g,
    )
    .unwrap()
    {
        Statement::Compare { left, op, right } => {
            assert_eq!((left.at, op, right.at), (At::Peak, Op::Lt, At::Step(300)));
            assert_eq!(left.arm, "a, b=1");
        }
        s => panic!("{s:?}"),
    }
    match parse("refusal[control] - refusal[objection penalized] > 0.1", g).unwrap() {
        Statement::Difference { op, bound, .. } => assert_eq!((op, bound), (Op::Gt, 0.1)),
        s => panic!("{s:?}"),
    }
    assert!(matches!(parse("refusal[control]>-0.5", g).unwrap(), Statement::Threshold { bound, .. } if bound == -0.5));
}

#[test]
fn each_bad_statement_names_its_position() {
    let g = groups();
    let g = Some(&g[..]);
    for (text, needle) in [
        ("", "empty"),
        ("refusal[control]", "position 17: the statement ends where a comparison"),
        ("refusal[control] = 0.5", "position 18: unexpected `=`"),
        (
            "refusal[nobody] > 0.5",
            "position 1: `refusal[nobody]`: no arm `nobody`",
        ),
        ("refusals[control] > 0.5", "position 1: `refusals`: unknown metric"),
        ("sideways:refusal[control] > 0.5", "unknown scope `sideways`"),
        ("refusal[control] > lots", "position 20: `lots`"),
        ("refusal[control] > 0.5 0.6", "position 24: unexpected `0.6`"),
        ("refusal[control]@soon > 0.5", "`@final`, `@peak` or `@<step>`"),
        ("refusal[control > 0.5", "`[` without a closing `]`"),
        ("refusal[control] - > 0", "position 20"),
        ("refusal[control] > ", "position 20: the statement ends"),
    ] {
        let e = parse(text, g).unwrap_err();
        assert!(e.contains(needle), "{text:?}: {e}");
        assert!(!e.contains('\n'));
    }
}

/// Two arms whose seeds' values are known: `a` has refusal 0.2, 0.3, 0.4 at step 100 and
/// 0.9 at step 50 (its peak); `b` has 0.6, 0.7, 0.8 at step 100.
fn data() -> RunData {
    use crate::records::MetricRecord;
    use crate::results::{Group, Header};
    use crate::run::RunConfig;
    let header = Header {
        name: "synthetic".into(),
        backend: "flex".into(),
        arms: vec!["a".into(), "b".into()],
        sweep: Vec::new(),

        refine: None,
        training: false,
    };
    let mut config = RunConfig::default();
    config.eval.final_window = 1;
    let groups = ["a", "b"]
        .map(|arm| Group {
            arm: arm.into(),
            sweep: Vec::new(),
            config: config.clone(),
        })
        .to_vec();
    let mut rows = Vec::new();
    for (arm, finals, peak) in [("a", [0.2, 0.3, 0.4], 0.9), ("b", [0.6, 0.7, 0.8], 0.7)] {
        for (seed, value) in finals.into_iter().enumerate() {
            for (step, v) in [(0, 0.5), (50, if seed == 0 { peak } else { value }), (100, value)] {
                rows.push(MetricRecord {
                    arm: arm.into(),
                    sweep: Vec::new(),
                    seed: seed as u64,
                    step,
                    scope: "trained".into(),
                    metric: "refusal".into(),
                    value: v,
                });
            }
        }
    }
    RunData::new(header, groups, rows)
}

fn verdict(check_text: &str) -> Verdict {
    let spec = ClaimSpec {
        name: "c".into(),
        text: "t".into(),
        check: check_text.into(),
        expect: Expect::Holds,
    };
    let claims = parse_all(&[spec], Some(&["a".into(), "b".into()])).unwrap();
    check(&claims[0], &data())
}

#[test]
fn checks_give_the_known_answers() {
    // Means: a 0.3, b 0.7; a's peak mean (0.9 + 0.3 + 0.4) / 3 = 0.5333.
    assert_eq!(verdict("refusal[a] < 0.31").holds, Some(true));
    assert_eq!(verdict("refusal[a] >= 0.31").holds, Some(false));
    assert_eq!(verdict("refusal[a] < refusal[b]").holds, Some(true));
    assert_eq!(verdict("refusal[a]@peak > 0.53").holds, Some(true));
    assert_eq!(verdict("refusal[a]@peak > 0.54").holds, Some(false));
    assert_eq!(verdict("refusal[a]@0 >= 0.5").holds, Some(true));
    // Difference b − a = 0.4, sd 0.1 a side: Welch interval 0.4 ± t(0.975, 4)·√(0.02/3)
    // = 0.4 ± 2.7764 × 0.08165 = [0.1733, 0.6267].
    let v = verdict("refusal[b] - refusal[a] > 0.17");
    assert_eq!(v.holds, Some(true));
    let e = v.effect.unwrap();
    assert!((e.low - 0.1733).abs() < 1e-3 && (e.high - 0.6267).abs() < 1e-3, "{e:?}");
    assert_eq!(verdict("refusal[b] - refusal[a] > 0.18").holds, Some(false));
    assert_eq!(verdict("refusal[b] - refusal[a] < 0.63").holds, Some(true));
    // Expected to fail and failing is as expected; a step never evaluated cannot be checked.
    let mut failing = verdict("refusal[a] > 0.5");
    failing.expect = Expect::Fails;
    assert!(failing.as_expected() && failing.line().contains("(expected to fail)"));
    let unchecked = verdict("refusal[a]@75 > 0");
    assert_eq!(unchecked.holds, None);
    assert!(unchecked.line().contains("step 75 was not evaluated"));
}
