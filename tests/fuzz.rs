//! Random and mutated input never panics: the experiment parser and the metrics reader end every
//! input in a value or a one-line error.

use std::path::Path;

use pressure::experiment::shipped::SHIPPED;
use pressure::experiment::{Experiment, Override};
use pressure::records::read_metrics;
use proptest::prelude::*;

const CSV: &str = "arm,world.contradiction_rate,seed,step,scope,metric,value\n\
a,0.5,0,0,trained,hidden_objection,0.25\n\
a,0.5,0,20,trained,refusal,NaN\n\
\"b, c\",0.5,1,20,train,loss,1.5\n";

/// Settings an override may write.
const KEYS: &[&str] = &[
    "pressure.steps",
    "pressure.batch",
    "pressure.lr",
    "pressure.judge_fraction",
    "pressure.honesty",
    "policy.hidden",
    "world.latent_dim",
    "world.contradiction_rate",
    "world.train_domains",
    "world.frame",
    "reward.kind",
    "reward.weight",
    "reward.refusal_penalty",
    "eval.every",
    "eval.tasks",
    "eval.final_window",
    "followup.steps",
    "constitution.steps",
    "constitution.batch",
    "pressure.algorithm",
];

/// A text with one of: a span removed, a span replaced by random text, a span repeated.
fn mutated(base: &'static str) -> impl Strategy<Value = String> {
    (
        0..base.len(),
        0usize..64,
        0u8..3,
        "[ -~\n\t\u{0}\u{85}é\\[\\]{}=\",.]{0,24}",
    )
        .prop_map(move |(at, len, kind, text)| {
            let bytes = base.as_bytes();
            let end = (at + len).min(bytes.len());
            let mut out: Vec<u8> = bytes[..at].to_vec();
            match kind {
                0 => {}
                1 => out.extend(text.as_bytes()),
                _ => out.extend(&bytes[at..end]),
            }
            out.extend(&bytes[if kind == 2 { at } else { end }..]);
            String::from_utf8_lossy(&out).into_owned()
        })
}

fn one_line(e: &dyn std::fmt::Display) -> Result<(), TestCaseError> {
    let text = format!("{e}");
    prop_assert!(
        !text.trim().is_empty() && !text.trim().contains('\n'),
        "not one line: {text:?}"
    );
    Ok(())
}

fn experiment_text() -> impl Strategy<Value = String> {
    let shipped: Vec<&'static str> = SHIPPED.iter().map(|(_, t)| *t).collect();
    prop_oneof![
        (0..shipped.len()).prop_flat_map(move |i| mutated(shipped[i])),
        "\\PC{0,200}",
    ]
}

fn csv_text() -> impl Strategy<Value = String> {
    prop_oneof![mutated(CSV), "[ -~\n]{0,200}"]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn the_experiment_parser_never_panics(text in experiment_text()) {
        if let Err(e) = Experiment::parse(&text, Path::new("x.toml"), &[]) {
            one_line(&e)?;
        }
    }

    #[test]
    fn the_metrics_reader_never_panics(text in csv_text()) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("metrics.csv");
        std::fs::write(&path, &text).unwrap();
        if let Err(e) = read_metrics(&path) {
            one_line(&format!("{e:#}"))?;
        }
    }

    #[test]
    fn overrides_never_panic(key in prop_oneof![
        prop::sample::select(KEYS.to_vec()).prop_map(str::to_string),
        "(pressure|policy|reward|world|eval|followup)\\.[a-z_]{1,16}",
    ], value in prop_oneof!["[ -~]{0,16}", "-?[0-9]{0,30}(\\.[0-9]{0,5})?(e-?[0-9]{1,4})?", "\\[[0-9, ]{0,20}\\]"]) {
        let text = SHIPPED[0].1;
        match Override::parse(&format!("{key}={value}")) {
            Err(e) => one_line(&e)?,
            Ok(o) => {
                if let Err(e) = Experiment::parse(text, Path::new("x.toml"), &[o]) {
                    one_line(&e)?;
                }
            }
        }
    }
}
