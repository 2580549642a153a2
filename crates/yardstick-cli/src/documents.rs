//! `yardstick appendix ID`: an agreement's KPI appendix (Markdown, HTML or
//! PDF, or its content as JSON) with the signatures recorded; `yardstick
//! catalog`: every KPI of the project, grouped by level and owner
//! (`workspace::documents`).

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use yardstick_core::terms::{agreements, terms};
use yardstick_workspace::documents::{Format as Doc, appendix_of, render_appendix, render_catalogue};

use crate::args::{Db, ProjectOpt};
use crate::render::Color;
use crate::terms::definitions;

/// A document's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum DocFormat {
    /// Markdown.
    Md,
    /// A self-contained HTML page (prints well).
    Html,
    /// A4 PDF.
    Pdf,
    /// The content as JSON (for other tools).
    Json,
}

/// `yardstick appendix`.
#[derive(Debug, clap::Args)]
pub(crate) struct AppendixArgs {
    /// Contract, incentive or partnership id.
    pub(crate) id: String,
    #[arg(long, value_enum, default_value_t = DocFormat::Md)]
    pub(crate) format: DocFormat,
    /// Write to this file instead of standard output.
    #[arg(short, long)]
    pub(crate) output: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) project: ProjectOpt,
    #[command(flatten)]
    pub(crate) store: Db,
}

/// `yardstick catalog`.
#[derive(Debug, clap::Args)]
pub(crate) struct CatalogArgs {
    #[arg(long, value_enum, default_value_t = DocFormat::Md)]
    pub(crate) format: DocFormat,
    /// Write to this file instead of standard output.
    #[arg(short, long)]
    pub(crate) output: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) project: ProjectOpt,
}

fn doc(f: DocFormat) -> Option<Doc> {
    match f {
        DocFormat::Md => Some(Doc::Markdown),
        DocFormat::Html => Some(Doc::Html),
        DocFormat::Pdf => Some(Doc::Pdf),
        DocFormat::Json => None,
    }
}

/// Writes `bytes` to `output` or standard output (`binary`: a PDF or a
/// workbook, never to a terminal).
pub(crate) fn emit(bytes: &[u8], output: Option<&PathBuf>, binary: bool) -> Result<ExitCode, String> {
    match output {
        Some(path) => {
            std::fs::write(path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            eprintln!("wrote {}", path.display());
        }
        None if binary && std::io::stdout().is_terminal() => {
            eprintln!("error: a PDF or workbook is not for the terminal: write it to a file with -o FILE");
            return Ok(crate::fault::usage());
        }
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(bytes)
                .and_then(|()| out.flush())
                .map_err(|e| format!("cannot write output: {e}"))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn appendix(a: AppendixArgs, color: Color) -> Result<ExitCode, String> {
    let Some(loaded) = definitions(&a.project.dir, color)? else {
        return Ok(crate::fault::project());
    };
    let project = &loaded.project;
    if terms(project, &a.id).is_none() {
        let known: Vec<String> = agreements(project).into_iter().map(|(_, id)| id).collect();
        eprintln!(
            "error: no contract, incentive or partnership `{}`; known: {}",
            a.id,
            if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            }
        );
        return Ok(crate::fault::usage());
    }
    let rt = crate::check::runtime()?;
    let read = rt.block_on(yardstick_workspace::agreements::read(
        &a.project.dir,
        a.store.db.as_deref(),
        project,
        std::slice::from_ref(&a.id),
    ))?;
    let agreement = read.first().ok_or("the agreement vanished while reading it")?;
    let bytes = match doc(a.format) {
        Some(f) => render_appendix(project, agreement, f, crate::args::now())
            .ok_or("the agreement vanished while reading it")?
            .map_err(|e| e.to_string())?,
        None => {
            let (content, signatures, unsigned) =
                appendix_of(project, agreement).ok_or("the agreement vanished while reading it")?;
            let mut v = serde_json::to_vec_pretty(&serde_json::json!({
                "appendix": content, "signatures": signatures, "unsigned": unsigned,
            }))
            .map_err(|e| e.to_string())?;
            v.push(b'\n');
            v
        }
    };
    emit(&bytes, a.output.as_ref(), a.format == DocFormat::Pdf)
}

pub(crate) fn catalog(a: CatalogArgs, color: Color) -> Result<ExitCode, String> {
    let Some(loaded) = definitions(&a.project.dir, color)? else {
        return Ok(crate::fault::project());
    };
    let project = &loaded.project;
    let bytes = match doc(a.format) {
        Some(f) => render_catalogue(project, f, crate::args::now()).map_err(|e| e.to_string())?,
        None => {
            let mut v = serde_json::to_vec_pretty(&serde_json::json!({
                "project": project.settings.name,
                "calendar": yardstick_core::appendix::calendar_words(project),
                "kpis": yardstick_core::appendix::catalogue(project),
            }))
            .map_err(|e| e.to_string())?;
            v.push(b'\n');
            v
        }
    };
    emit(&bytes, a.output.as_ref(), a.format == DocFormat::Pdf)
}
