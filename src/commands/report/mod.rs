//! `pressure report`: one self-contained HTML file about a finished run folder, to attach to
//! a message or an appendix. It holds the experiment's question (its description), its arms
//! and control, the final headline rates with their intervals (as `summary` prints them), each
//! arm against the control (as `compare` prints it), every figure inline as SVG, every seed's
//! final values, the runs that did not complete, the resolved configuration and where the
//! numbers come from. It needs no network and no script: it opens from disk in any browser.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

mod sections;

use super::format::html_escape;
use super::summary::final_table;
use crate::experiment::folder;
use crate::metric::{HEADLINE, Scope};
use crate::plot::Declared;
use crate::records::{self, Manifest};
use crate::results::RunData;
use crate::stats::Estimator;
pub use sections::{Control, control};
use sections::{arms, comparisons, figures, incomplete, provenance, seeds};

/// Arguments of `pressure report`.
#[derive(Debug, Clone, clap::Args)]
pub struct ReportArgs {
    /// A run folder written by `pressure run` or `pressure merge`.
    pub run_dir: PathBuf,
    /// The HTML file to write (default: RUN_DIR/report.html).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// `pressure report`: writes the report and says where.
pub fn report(args: &ReportArgs) -> anyhow::Result<ExitCode> {
    let out = args.out.clone().unwrap_or_else(|| args.run_dir.join("report.html"));
    // Inside a run folder a report may only be an HTML file at its top, beside its data.
    records::target::output_file(&out, "--out", |_, name| {
        name.ends_with(".html") && !name.starts_with('.')
    })
    .map_err(anyhow::Error::msg)?;
    let (data, declared) = folder::load_drawable(&args.run_dir)?;
    let manifest = records::verify_folder(&args.run_dir)?;
    let config = records::read_limited(
        &args.run_dir.join("config.toml"),
        crate::experiment::spec::MAX_FILE_BYTES,
    )
    .map_err(|e| anyhow::anyhow!("{}: {e}", args.run_dir.join("config.toml").display()))?;
    let html = page(&data, &declared, &manifest, &config, &args.run_dir)?;
    records::write_atomic(&out, html.as_bytes()).map_err(|e| anyhow::anyhow!("{}: {e}", out.display()))?;
    crate::note!(
        "{}: report written to {} ({} kB)",
        manifest.experiment,
        out.display(),
        html.len() / 1024
    );
    Ok(ExitCode::SUCCESS)
}

/// The whole page.
fn page(
    data: &RunData,
    declared: &Declared,
    manifest: &Manifest,
    config: &str,
    run_dir: &Path,
) -> anyhow::Result<String> {
    let name = &data.experiment.name;
    let control = control(&manifest.description, &data.labels);
    let mut body = String::new();
    body.push_str(&format!("<h1>{}</h1>\n", html_escape(name)));
    body.push_str(&format!(
        "<p class=\"meta\">A report of the run folder <code>{}</code>, written by <code>pressure report</code> {}.</p>\n",
        html_escape(&run_dir.display().to_string()),
        html_escape(&built_by())
    ));
    let sections = [
        ("question", "The question"),
        ("arms", "Arms and control"),
        ("headline", "Final headline rates"),
        ("claims", "Claims"),
        ("comparisons", "Against the control"),
        ("figures", "Figures"),
        ("seeds", "Every seed's final values"),
        ("incomplete", "Runs that did not complete"),
        ("configuration", "Resolved configuration"),
        ("provenance", "Provenance"),
    ];
    body.push_str("<nav><ol>");
    for (id, title) in sections {
        body.push_str(&format!("<li><a href=\"#{id}\">{title}</a></li>"));
    }
    body.push_str("</ol></nav>\n");
    let section = |body: &mut String, id: &str| {
        let title = sections.iter().find(|(i, _)| *i == id).map_or("", |(_, t)| t);
        body.push_str(&format!("<h2 id=\"{id}\">{title}</h2>\n"));
    };

    section(&mut body, "question");
    body.push_str(&format!("<p>{}</p>\n", with_code(&manifest.description)));

    section(&mut body, "arms");
    body.push_str(&arms(data, manifest, control.as_ref()).html());
    body.push_str(&match &control {
        Some(Control { label, described: true }) => format!(
            "<p>Control: <code>{}</code>, as the description names it.</p>\n",
            html_escape(label)
        ),
        Some(Control { label, described: false }) => format!(
            "<p>Control: <code>{}</code>, the first arm: the description names no arm as <code>Control: `arm`</code>.</p>\n",
            html_escape(label)
        ),
        None => "<p>No arm.</p>\n".to_string(),
    });

    section(&mut body, "headline");
    body.push_str(&final_table(data, Scope::Trained.name(), &HEADLINE, Estimator::Mean).html());
    body.push_str(&format!(
        "<p class=\"note\">The same table: <code>pressure summary {}</code>.</p>\n",
        html_escape(&crate::records::shell_word(&run_dir.display().to_string()))
    ));

    section(&mut body, "claims");
    body.push_str(&sections::claims(data, run_dir)?);

    section(&mut body, "comparisons");
    body.push_str(&comparisons(data, control.as_ref(), run_dir));

    section(&mut body, "figures");
    body.push_str(&figures(data, declared)?);

    section(&mut body, "seeds");
    body.push_str(&seeds(data, manifest).html());

    section(&mut body, "incomplete");
    body.push_str(&incomplete(manifest));

    section(&mut body, "configuration");
    body.push_str(
        "<p class=\"note\">The experiment with every default written out (<code>config.toml</code> of the run folder); \
         <code>pressure run</code> on this file trains the same runs.</p>\n",
    );
    body.push_str(&format!("<pre>{}</pre>\n", html_escape(config)));

    section(&mut body, "provenance");
    body.push_str(&provenance(manifest).html());

    Ok(format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{} — pressure report</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{body}</body>\n</html>\n",
        html_escape(name)
    ))
}

/// The page's look: readable text, tables that scroll sideways when wide, figures at the
/// page's width.
const STYLE: &str = "
body { font-family: 'DejaVu Sans', Verdana, sans-serif; max-width: 1180px; margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.45; }
h1 { margin-bottom: 0.2em; } h2 { margin-top: 2em; border-bottom: 1px solid #ccc; }
p.meta, p.note { color: #555; font-size: 0.9em; }
nav ol { columns: 3; font-size: 0.95em; }
table { border-collapse: collapse; font-size: 0.82em; margin: 0.6em 0; width: 100%; }
th, td { padding: 0.25em 0.45em; border-bottom: 1px solid #e4e4e4; text-align: left; vertical-align: top; overflow-wrap: break-word; }
th { background: #f4f4f4; font-weight: 600; } td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.num { white-space: nowrap; overflow-wrap: normal; }
figure { margin: 1.5em 0; } figure svg { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #555; font-size: 0.9em; }
pre { background: #f7f7f7; padding: 0.8em; overflow-x: auto; font-size: 0.8em; }
code { background: #f4f4f4; padding: 0 0.2em; }
";

/// This binary, for the report's own provenance.
fn built_by() -> String {
    match records::COMMIT {
        Some(commit) => format!("{} (commit {commit})", env!("CARGO_PKG_VERSION")),
        None => format!("{} (not built from a git checkout)", env!("CARGO_PKG_VERSION")),
    }
}

/// Text with its `backquoted` parts set as code.
fn with_code(text: &str) -> String {
    text.split('`')
        .enumerate()
        .map(|(i, part)| {
            if i % 2 == 1 {
                format!("<code>{}</code>", html_escape(part))
            } else {
                html_escape(part)
            }
        })
        .collect()
}
