//! How `summary` and `compare` print: an aligned text table, Markdown, LaTeX (booktabs), CSV or
//! JSON (and HTML, for `report`). The three text forms show a table laid out for reading, with its notes above it; CSV
//! and JSON hold one record per value, every number in full and every interval's method in its
//! own field, for a script to read.

use serde::Serialize;

/// The output format of `summary` and `compare`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Columns aligned with spaces, for a terminal.
    Table,
    /// A Markdown table.
    Markdown,
    /// A LaTeX `tabular` with booktabs rules.
    Latex,
    /// One record per row, with a header.
    Csv,
    /// An array of records.
    Json,
}

/// Where a column's cells sit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// A table for reading: lines of notes, then a header and rows of cells.
pub struct TextTable {
    pub notes: Vec<String>,
    pub columns: Vec<(String, Align)>,
    pub rows: Vec<Vec<String>>,
}

impl TextTable {
    /// The table in one of the text formats (`Table`, `Markdown`, `Latex`).
    pub fn render(&self, format: Format) -> String {
        match format {
            Format::Markdown => self.markdown(),
            Format::Latex => self.latex(),
            _ => self.aligned(),
        }
    }

    fn aligned(&self) -> String {
        let width = |i: usize| {
            self.rows
                .iter()
                .map(|r| r[i].chars().count())
                .chain([self.columns[i].0.chars().count()])
                .max()
                .unwrap_or(0)
        };
        let widths: Vec<usize> = (0..self.columns.len()).map(width).collect();
        let line = |cells: &[String]| {
            let padded: Vec<String> = cells
                .iter()
                .zip(&widths)
                .zip(&self.columns)
                .map(|((c, w), (_, align))| match align {
                    Align::Left => format!("{c:<w$}"),
                    Align::Right => format!("{c:>w$}"),
                })
                .collect();
            format!("{}\n", padded.join("  ").trim_end())
        };
        let mut out: String = self.notes.iter().map(|n| format!("{n}\n")).collect();
        if !self.notes.is_empty() {
            out.push('\n');
        }
        let header: Vec<String> = self.columns.iter().map(|(h, _)| h.clone()).collect();
        out.push_str(&line(&header));
        out.push_str(&line(&widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>()));
        for row in &self.rows {
            out.push_str(&line(row));
        }
        out
    }

    fn markdown(&self) -> String {
        let cell = |c: &str| c.replace('|', "\\|");
        let mut out: String = self.notes.iter().map(|n| format!("{n}\n\n")).collect();
        let header: Vec<String> = self.columns.iter().map(|(h, _)| cell(h)).collect();
        out.push_str(&format!("| {} |\n", header.join(" | ")));
        let rules: Vec<&str> = self
            .columns
            .iter()
            .map(|(_, a)| if *a == Align::Right { "---:" } else { "---" })
            .collect();
        out.push_str(&format!("|{}|\n", rules.join("|")));
        for row in &self.rows {
            let cells: Vec<String> = row.iter().map(|c| cell(c)).collect();
            out.push_str(&format!("| {} |\n", cells.join(" | ")));
        }
        out
    }

    /// The table as an HTML `<table>`, its notes as paragraphs above it; every text escaped.
    pub fn html(&self) -> String {
        let mut out: String = self
            .notes
            .iter()
            .map(|n| format!("<p class=\"note\">{}</p>\n", html_escape(n)))
            .collect();
        let class = |a: &Align| if *a == Align::Right { " class=\"num\"" } else { "" };
        out.push_str("<table>\n");
        // A table of names and values has no header to show.
        if self.columns.iter().any(|(h, _)| !h.is_empty()) {
            out.push_str("<thead><tr>");
            for (h, a) in &self.columns {
                out.push_str(&format!("<th{}>{}</th>", class(a), html_escape(h)));
            }
            out.push_str("</tr></thead>\n");
        }
        out.push_str("<tbody>\n");
        for row in &self.rows {
            out.push_str("<tr>");
            for (cell, (_, a)) in row.iter().zip(&self.columns) {
                out.push_str(&format!("<td{}>{}</td>", class(a), html_escape(cell)));
            }
            out.push_str("</tr>\n");
        }
        out.push_str("</tbody>\n</table>\n");
        out
    }

    fn latex(&self) -> String {
        let mut out: String = self.notes.iter().map(|n| format!("% {n}\n")).collect();
        let spec: String = self
            .columns
            .iter()
            .map(|(_, a)| if *a == Align::Right { 'r' } else { 'l' })
            .collect();
        out.push_str(&format!("\\begin{{tabular}}{{{spec}}}\n\\toprule\n"));
        let row = |cells: Vec<String>| format!("{} \\\\\n", cells.join(" & "));
        out.push_str(&row(self.columns.iter().map(|(h, _)| latex_escape(h)).collect()));
        out.push_str("\\midrule\n");
        for r in &self.rows {
            out.push_str(&row(r.iter().map(|c| latex_escape(c)).collect()));
        }
        out.push_str("\\bottomrule\n\\end{tabular}\n");
        out
    }
}

/// Text set literally in LaTeX: its special characters escaped, and the few others a default
/// LaTeX setup would print wrongly spelled out.
fn latex_escape(text: &str) -> String {
    let mut out = String::new();
    for ch in text.chars() {
        match ch {
            '\\' => out.push_str("\\textbackslash{}"),
            '&' | '%' | '$' | '#' | '_' | '{' | '}' => {
                out.push('\\');
                out.push(ch);
            }
            '~' => out.push_str("\\textasciitilde{}"),
            '^' => out.push_str("\\textasciicircum{}"),
            '<' => out.push_str("$<$"),
            '>' => out.push_str("$>$"),
            '|' => out.push_str("\\textbar{}"),
            '—' => out.push_str("---"),
            '−' => out.push_str("$-$"),
            '·' => out.push_str("$\\cdot$"),
            'α' => out.push_str("$\\alpha$"),
            _ => out.push(ch),
        }
    }
    out
}

/// Text set literally in HTML.
pub fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(ch),
        }
    }
    out
}

/// Records as CSV, with a header row of their field names.
pub fn csv<T: Serialize>(records: &[T]) -> anyhow::Result<String> {
    let mut writer = ::csv::Writer::from_writer(Vec::new());
    for r in records {
        writer.serialize(r)?;
    }
    Ok(String::from_utf8(writer.into_inner()?)?)
}

/// Records as a JSON array, one record per line.
pub fn json<T: Serialize>(records: &[T]) -> anyhow::Result<String> {
    let lines: Vec<String> = records.iter().map(serde_json::to_string).collect::<Result<_, _>>()?;
    Ok(format!("[\n{}\n]\n", lines.join(",\n")))
}

/// A number for a table, with `decimals` decimals and without the sign of a value that rounds
/// to zero; `—` for none.
pub fn fixed(v: f64, decimals: usize) -> String {
    if !v.is_finite() {
        return "—".into();
    }
    let half_unit = 0.5 * 10f64.powi(-(decimals as i32));
    format!("{:.decimals$}", if v.abs() < half_unit { 0.0 } else { v })
}

/// A value with its interval: `0.799 [0.787, 0.810]`, or the value alone without one.
pub fn with_interval(value: f64, low: f64, high: f64, has_interval: bool) -> String {
    if !value.is_finite() {
        "—".into()
    } else if has_interval {
        format!("{} [{}, {}]", fixed(value, 3), fixed(low, 3), fixed(high, 3))
    } else {
        fixed(value, 3)
    }
}

/// A p-value: three decimals, or two significant digits below 0.001.
pub fn p_value(p: f64) -> String {
    if !p.is_finite() {
        "—".into()
    } else if p >= 0.001 || p == 0.0 {
        format!("{p:.3}")
    } else {
        format!("{p:.1e}")
    }
}

pub use crate::results::finite_or_none;
