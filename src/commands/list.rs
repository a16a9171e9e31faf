//! `pressure list`: the shipped experiments and the first sentence of each description.

use std::path::Path;
use std::process::ExitCode;

use super::print_out;
use crate::experiment::Experiment;
use crate::experiment::shipped::SHIPPED;

/// `pressure list`: the shipped experiments and their first sentence.
pub fn list() -> anyhow::Result<ExitCode> {
    let mut out = String::new();
    for (name, text) in SHIPPED {
        let e = Experiment::parse(text, Path::new(name), &[])?;
        let end = e
            .description
            .find(". ")
            .into_iter()
            .chain(e.description.find("? "))
            .min()
            .map_or(e.description.len(), |i| i + 1);
        out.push_str(&format!("{name:<24} {}\n", &e.description[..end]));
    }
    print_out(&out)?;
    Ok(ExitCode::SUCCESS)
}
