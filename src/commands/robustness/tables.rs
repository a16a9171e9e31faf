//! The check's tables: claims × perturbations in Markdown, printed and kept as `robustness.md`,
//! and the same as `robustness.json`.

use std::path::Path;

use super::super::print_out;
use super::{RobustnessArgs, Rows};
use crate::experiment::Experiment;
use crate::experiment::claims::{Claim, Verdict};
use crate::experiment::robustness::Perturbation;
use crate::records::write_atomic;

/// Prints the table and writes it as `robustness.md` and `robustness.json` in `out`.
pub(super) fn write_tables(
    args: &RobustnessArgs,
    base: &Experiment,
    perturbations: &[Perturbation],
    rows: &Rows,
    out: &Path,
) -> anyhow::Result<()> {
    let mut table = markdown(rows);
    table.push_str(&format!(
        "\nPerturbations of the base configuration ({} seeds each): {}.\n",
        args.seeds,
        perturbations
            .iter()
            .map(|p| match p.backend {
                Some(b) => format!("`{}`: backend {}", p.name, b.name()),
                None => format!(
                    "`{}`: {}",
                    p.name,
                    p.set
                        .iter()
                        .map(|o| format!("{}={}", o.key, o.value))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            })
            .collect::<Vec<_>>()
            .join("; ")
    ));
    print_out(&table)?;
    let md = out.join("robustness.md");
    write_atomic(&md, table.as_bytes()).map_err(|e| anyhow::anyhow!("{}: {e}", md.display()))?;
    let json = serde_json::json!({
        "experiment": base.name,
        "seeds": args.seeds,
        "perturbations": perturbations.iter().map(|p| serde_json::json!({
            "name": p.name,
            "set": p.set.iter().map(|o| format!("{}={}", o.key, o.value)).collect::<Vec<_>>(),
            "backend": p.backend.map(|b| b.name()),
        })).collect::<Vec<_>>(),
        "claims": rows.iter().map(|(c, v)| serde_json::json!({
            "name": c.spec.name,
            "check": c.spec.check,
            "verdicts": v.iter().map(|(p, v)| serde_json::json!({ "perturbation": p, "verdict": v })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    });
    let path_json = out.join("robustness.json");
    write_atomic(&path_json, serde_json::to_string_pretty(&json)?.as_bytes())
        .map_err(|e| anyhow::anyhow!("{}: {e}", path_json.display()))?;

    Ok(())
}

/// The claims × perturbations table: ✓ or ✗ with the effect.
fn markdown(rows: &[(Claim, Vec<(String, Verdict)>)]) -> String {
    let Some((_, first)) = rows.first() else {
        return String::new();
    };
    let names: Vec<&str> = first.iter().map(|(p, _)| p.as_str()).collect();
    let mut out = format!(
        "| claim | expected | {} |\n|---|---|{}\n",
        names.join(" | "),
        "---|".repeat(names.len())
    );
    for (claim, verdicts) in rows {
        let cells: Vec<String> = verdicts
            .iter()
            .map(|(_, v)| {
                let mark = match v.holds {
                    Some(true) => "✓",
                    Some(false) => "✗",
                    None => "?",
                };
                match v.effect {
                    Some(e) => format!("{mark} {:.3}", e.estimate),
                    None => mark.to_string(),
                }
            })
            .collect();
        let expect = match claim.spec.expect {
            crate::experiment::claims::Expect::Holds => "holds",
            crate::experiment::claims::Expect::Fails => "fails",
        };
        out.push_str(&format!("| {} | {expect} | {} |\n", claim.spec.name, cells.join(" | ")));
    }
    out
}
