//! `yardstick check`.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use serde::Serialize;
use yardstick_core::Loaded;
use yardstick_core::diag::{Diagnostic, Diagnostics};

use crate::Format;
use crate::render::{self, Color};

#[derive(Serialize)]
struct Report<'a> {
    ok: bool,
    errors: usize,
    warnings: usize,
    counts: Counts,
    diagnostics: Vec<render::JsonDiagnostic>,
    #[serde(skip_serializing_if = "Option::is_none")]
    data_checked: Option<&'a str>,
    /// Sources whose newest row is older than their `freshness` (data
    /// checks only). Not diagnostics: the definitions are fine, the data is old.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    stale: Vec<yardstick_engine::freshness::Stale>,
}

#[derive(Serialize)]
struct Counts {
    sources: usize,
    kpis: usize,
    metrics: usize,
    contracts: usize,
    incentives: usize,
    partnerships: usize,
    scorecards: usize,
    reconciliations: usize,
}

/// A multi-threaded runtime for DataFusion work.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the query runtime: {e}"))
}

/// Loads the project in `dir`, or says how to make one.
pub(crate) fn load(dir: &Path) -> Result<Loaded, String> {
    yardstick_workspace::Workspace::load(dir).map_err(|e| e.to_string())
}

/// Prints diagnostics as snippets on standard error.
pub(crate) fn print_diagnostics(loaded: &Loaded, diags: Vec<Diagnostic>, color: Color) -> Result<(), String> {
    let mut err = std::io::stderr().lock();
    render::diagnostics_text(&mut err, &loaded.files, &diags, color).map_err(|e| e.to_string())
}

/// `yardstick check`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    pub(crate) project: crate::args::ProjectDir,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub(crate) format: Format,
    /// Check definitions only; do not read any data.
    #[arg(long)]
    pub(crate) no_data: bool,
    /// Judge data freshness at this instant: RFC 3339 or a date in the project's zone
    /// (default: now).
    #[arg(long)]
    pub(crate) as_of: Option<String>,
}

pub(crate) fn run(a: Args, color: Color) -> Result<ExitCode, String> {
    let (dir, format, with_data, as_of) = (a.project.dir.as_path(), a.format, !a.no_data, a.as_of.as_deref());
    let loaded = load(dir)?;
    let mut diags: Diagnostics = loaded.diagnostics.clone();
    let data_checked = with_data && !diags.has_errors();
    let mut stale = Vec::new();
    if data_checked {
        let rt = runtime()?;
        let data = rt.block_on(yardstick_engine::check_data(&loaded.project, dir));
        let data_ok = !data.has_errors();
        diags.extend(data);
        diags.sort();
        if data_ok {
            let as_of = match as_of {
                Some(s) => yardstick_core::time::parse_time(s, loaded.project.settings.timezone).ok_or_else(
                    || {
                        format!(
                            "--as-of `{s}` is not a time: write {}",
                            yardstick_core::time::TIME_FORMS
                        )
                    },
                )?,
                None => crate::args::now(),
            };
            let (found_stale, history) = rt.block_on(async {
                let ws = yardstick_workspace::Workspace::open_loaded(dir, loaded.clone(), None)
                    .await
                    .map_err(|e| e.to_string())?;
                let p = ws.project();
                let stale = ws.stale(as_of).await.map_err(|e| e.to_string())?;
                // Targets judged by their history: what the last periods say.
                let opts = yardstick_engine::EvalOptions {
                    as_of,
                    from: None,
                    to: None,
                    kpis: Vec::new(),
                    by: None,
                    projections: false,
                };
                let history = match ws.evaluate(&opts).await {
                    Ok((ev, _)) => yardstick_engine::history::target_history(p, &ev),
                    // `eval` reports its own errors; the data checks passed.
                    Err(_) => Diagnostics::default(),
                };
                Ok::<_, String>((stale, history))
            })?;
            stale = found_stale;
            diags.extend(history);
            diags.sort();
        }
    }
    let p = &loaded.project;
    let counts = Counts {
        sources: p.sources.len(),
        kpis: p.kpis.len(),
        metrics: p.metrics.len(),
        contracts: p.contracts.len(),
        incentives: p.incentives.len(),
        partnerships: p.partnerships.len(),
        scorecards: p.scorecards.len(),
        reconciliations: p.reconciles.len(),
    };
    let list = diags.clone().into_vec();
    let (errors, warnings) = (diags.error_count(), diags.warning_count());
    let mut out = std::io::stdout().lock();
    let io = |e: std::io::Error| format!("cannot write output: {e}");
    match format {
        Format::Json => {
            let report = Report {
                ok: errors == 0,
                errors,
                warnings,
                counts,
                diagnostics: render::diagnostics_json(&loaded.files, &list),
                data_checked: Some(if data_checked { "yes" } else { "no" }),
                stale,
            };
            serde_json::to_writer_pretty(&mut out, &report).map_err(|e| e.to_string())?;
            writeln!(out).map_err(io)?;
        }
        Format::Text => {
            render::diagnostics_text(&mut out, &loaded.files, &list, color).map_err(io)?;
            use yardstick_core::format::count;
            let what = [
                count(counts.sources, "source", "sources"),
                count(counts.kpis, "KPI", "KPIs"),
                count(counts.metrics, "metric", "metrics"),
                count(counts.contracts, "contract", "contracts"),
                count(counts.incentives, "incentive", "incentives"),
                count(counts.partnerships, "partnership", "partnerships"),
                count(counts.scorecards, "scorecard", "scorecards"),
            ]
            .into_iter()
            .chain(
                (counts.reconciliations > 0)
                    .then(|| count(counts.reconciliations, "reconciliation", "reconciliations")),
            )
            .collect::<Vec<_>>()
            .join(", ");
            let data = if data_checked {
                "definitions and data"
            } else if with_data {
                "definitions (data not read: fix the errors first)"
            } else {
                "definitions"
            };
            let plural = |n: usize, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
            let (mark, paint) = match (errors, color) {
                (0, Color::Always) => ("✓", "\x1b[32m"),
                (0, Color::Never) => ("✓", ""),
                (_, Color::Always) => ("✗", "\x1b[31m"),
                (_, Color::Never) => ("✗", ""),
            };
            let reset = if paint.is_empty() { "" } else { "\x1b[0m" };
            writeln!(
                out,
                "{paint}{mark}{reset} {}: checked {data}: {}, {} ({what})",
                dir.display(),
                plural(errors, "error"),
                plural(warnings, "warning")
            )
            .map_err(io)?;
            for s in &stale {
                writeln!(out, "stale data: {}", s.message).map_err(io)?;
            }
        }
    }
    Ok(if errors == 0 {
        ExitCode::SUCCESS
    } else {
        crate::fault::project()
    })
}
