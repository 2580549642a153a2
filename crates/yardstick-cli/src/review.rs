//! `yardstick review`: a period review (board pack) of the project, a
//! scorecard, a partnership, a contract or an owner's KPIs, as Markdown,
//! HTML (inline SVG charts), PDF or its content as JSON
//! (`workspace::review` builds it from one evaluation).

use std::path::PathBuf;
use std::process::ExitCode;

use yardstick_workspace::review::{Inputs, Scope, build, gather, period};

use yardstick_core::model::review::PackFormat;

use crate::args::{AsOf, ProjectOpt};
use crate::documents::emit;
use crate::render::Color;

/// A review's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ReviewFormat {
    /// Markdown.
    Md,
    /// A self-contained HTML page with inline SVG charts (prints well).
    Html,
    /// A4 PDF.
    Pdf,
    /// An Excel workbook: a sheet per section, native charts.
    Xlsx,
    /// The content as JSON (for other tools).
    Json,
}

/// `yardstick review`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// What it covers: project, scorecard:ID, partnership:ID, contract:ID or owner:NAME.
    #[arg(long, default_value = "project")]
    pub(crate) scope: String,
    /// The period reviewed: 2026-Q3, 2026-09, 2026-H2, 2026.
    #[arg(long)]
    pub(crate) period: String,
    #[arg(long, value_enum, default_value_t = ReviewFormat::Html)]
    pub(crate) format: ReviewFormat,
    /// Write to this file instead of standard output.
    #[arg(short, long)]
    pub(crate) output: Option<PathBuf>,
    /// A pack for this party: only what it may see (the contracts naming it,
    /// its partnerships, the KPIs shared with it).
    #[arg(long)]
    pub(crate) party: Option<String>,
    #[command(flatten)]
    pub(crate) at: AsOf,
    #[command(flatten)]
    pub(crate) project: ProjectOpt,
}

pub(crate) fn run(a: Args, color: Color) -> Result<ExitCode, String> {
    let sel = crate::eval::Selection {
        as_of: a.at.as_of.as_deref(),
        stale: true,
        // Where periods in progress are heading, as the server's packs say.
        projections: true,
        ..Default::default()
    };
    let (ws, ev, stale) = match crate::eval::evaluate(&a.project.dir, sel, color)? {
        crate::eval::Evaluated::Done(ws, ev, stale) => (ws, ev, stale),
        crate::eval::Evaluated::Failed(code) => return Ok(code),
    };
    let project = ws.project();
    let scope = match Scope::parse(project, &a.scope) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: --scope: {e}");
            return Ok(crate::fault::usage());
        }
    };
    let p = match period(&project.settings.calendar(), &a.period) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: --period: {e}");
            return Ok(crate::fault::usage());
        }
    };
    let rt = crate::check::runtime()?;
    let mut sla = yardstick_engine::consequences::sla(project, &ev);
    rt.block_on(yardstick_engine::why::clauses::name_top_causes(
        project,
        ws.catalog(),
        &mut sla,
        ev.as_of.utc(),
    ));
    let scores = yardstick_engine::consequences::scores(project, &ev);
    let visible = a
        .party
        .as_deref()
        .map(|p| yardstick_core::visibility::visible_to(project, p));
    if visible.as_ref().is_some_and(|v| v.kpis.is_empty()) {
        eprintln!(
            "error: --party: `{}` is shared no KPI (no contract names it, no partnership lists it)",
            a.party.as_deref().unwrap_or("")
        );
        return Ok(crate::fault::usage());
    }
    let gathered = rt.block_on(async {
        let store = yardstick_workspace::existing_store(&a.project.dir, None).await?;
        gather(
            project,
            ws.catalog(),
            &ev,
            store.as_ref(),
            &scope,
            &p,
            visible.as_ref(),
        )
        .await
        .map_err(|e| e.to_string())
    })?;
    let inputs = Inputs {
        project,
        evaluation: &ev,
        sla: &sla,
        scores: &scores,
        stale: &stale,
        agreements: &gathered.agreements,
        actions: &gathered.actions,
        visible: visible.as_ref(),
        restated: &[],
        causes: &gathered.causes,
        reconciliations: &gathered.reconciliations,
        restated_since: None,
    };
    let review = build(&inputs, &scope, &p, &a.period);
    let generated = crate::args::now().format("%Y-%m-%d %H:%M UTC").to_string();
    let format = match a.format {
        ReviewFormat::Json => {
            let mut v = serde_json::to_vec_pretty(&review).map_err(|e| e.to_string())?;
            v.push(b'\n');
            return emit(&v, a.output.as_ref(), false);
        }
        ReviewFormat::Md => PackFormat::Markdown,
        ReviewFormat::Html => PackFormat::Html,
        ReviewFormat::Pdf => PackFormat::Pdf,
        ReviewFormat::Xlsx => PackFormat::Xlsx,
    };
    let bytes = yardstick_docs::review::pack(&review, &generated, format).map_err(|e| e.to_string())?;
    let binary = matches!(format, PackFormat::Pdf | PackFormat::Xlsx);
    emit(&bytes, a.output.as_ref(), binary)
}
