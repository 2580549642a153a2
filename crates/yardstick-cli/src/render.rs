//! Rendering diagnostics: compiler-style snippets on a terminal, JSON for
//! scripts.

use std::io::Write;

use codespan_reporting::diagnostic::{Diagnostic as CsDiagnostic, Label, Severity as CsSeverity};
use codespan_reporting::files::SimpleFiles;
use codespan_reporting::term::{self, Config};
use serde::Serialize;
use yardstick_core::diag::{Diagnostic, Severity, SourceMap};

/// Whether to colour output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Color {
    Always,
    Never,
}

/// An empty table in Yardstick's style; plain (no colour, no terminal
/// width) unless colour is on.
pub(crate) fn table(color: Color) -> comfy_table::Table {
    let mut t = comfy_table::Table::new();
    t.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(comfy_table::ContentArrangement::Dynamic);
    if color == Color::Never {
        t.force_no_tty();
    }
    t
}

/// Writes diagnostics as annotated snippets (`path:line:col`, the line, a
/// caret under the offending part, the hint).
pub(crate) fn diagnostics_text(
    out: &mut dyn Write,
    files: &SourceMap,
    diags: &[Diagnostic],
    color: Color,
) -> std::io::Result<()> {
    let mut db = SimpleFiles::new();
    for f in files.files() {
        db.add(f.path.clone(), f.text.clone());
    }
    let config = Config::default();
    for d in diags {
        let severity = match d.severity {
            Severity::Error => CsSeverity::Error,
            Severity::Warning => CsSeverity::Warning,
        };
        let mut cs = CsDiagnostic::new(severity)
            .with_message(&d.message)
            .with_code(d.code);
        let mut labels = Vec::new();
        if let Some(loc) = &d.loc {
            labels.push(
                Label::primary(loc.file, loc.span.clone()).with_message(d.label.clone().unwrap_or_default()),
            );
        }
        for r in &d.related {
            labels.push(Label::secondary(r.loc.file, r.loc.span.clone()).with_message(&r.message));
        }
        cs = cs.with_labels(labels);
        if let Some(h) = &d.hint {
            cs = cs.with_notes(vec![format!("hint: {h}")]);
        }
        let mut buf = term::termcolor::Buffer::no_color();
        let mut colored = term::termcolor::Buffer::ansi();
        let target = if color == Color::Always {
            &mut colored
        } else {
            &mut buf
        };
        if term::emit_to_write_style(target, &config, &db, &cs).is_err() {
            // A location outside its file would be our bug; still say what is wrong.
            writeln!(target, "{}: {}", d.severity.as_str(), d.message)?;
        }
        out.write_all(target.as_slice())?;
    }
    Ok(())
}

#[derive(Debug, Serialize)]
pub(crate) struct JsonRelated {
    pub(crate) file: String,
    pub(crate) line: usize,
    pub(crate) column: usize,
    pub(crate) message: String,
}

/// One diagnostic as `--format json` shows it.
#[derive(Debug, Serialize)]
pub(crate) struct JsonDiagnostic {
    pub(crate) severity: &'static str,
    pub(crate) code: &'static str,
    pub(crate) message: String,
    pub(crate) file: Option<String>,
    pub(crate) line: Option<usize>,
    pub(crate) column: Option<usize>,
    pub(crate) end_line: Option<usize>,
    pub(crate) end_column: Option<usize>,
    /// The text of the offending line.
    pub(crate) source_line: Option<String>,
    pub(crate) hint: Option<String>,
    pub(crate) related: Vec<JsonRelated>,
}

pub(crate) fn diagnostics_json(files: &SourceMap, diags: &[Diagnostic]) -> Vec<JsonDiagnostic> {
    diags
        .iter()
        .map(|d| {
            let pos = d.loc.as_ref().map(|l| files.position(l));
            JsonDiagnostic {
                severity: d.severity.as_str(),
                code: d.code,
                message: d.message.clone(),
                source_line: d
                    .loc
                    .as_ref()
                    .zip(pos.as_ref())
                    .map(|(l, p)| files.get(l.file).line_text(p.line).to_string()),
                file: pos.as_ref().map(|p| p.path.clone()),
                line: pos.as_ref().map(|p| p.line),
                column: pos.as_ref().map(|p| p.column),
                end_line: pos.as_ref().map(|p| p.end_line),
                end_column: pos.as_ref().map(|p| p.end_column),
                hint: d.hint.clone(),
                related: d
                    .related
                    .iter()
                    .map(|r| {
                        let p = files.position(&r.loc);
                        JsonRelated {
                            file: p.path,
                            line: p.line,
                            column: p.column,
                            message: r.message.clone(),
                        }
                    })
                    .collect(),
            }
        })
        .collect()
}
