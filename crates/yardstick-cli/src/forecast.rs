//! `yardstick forecast`: the next periods of a KPI with 80% and 95% ranges.

use std::io::Write;
use std::process::ExitCode;

use comfy_table::{Cell, CellAlignment};
use yardstick_engine::forecasts::{ForecastReport, ForecastRequest};

use crate::Format;
use crate::args::ProjectOpt;
use crate::eval::{Evaluated, format_value};
use crate::render::Color;

/// `yardstick forecast`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// KPI id.
    pub(crate) kpi: String,
    /// Periods to forecast.
    #[arg(long, default_value_t = 3)]
    pub(crate) horizon: usize,
    /// Only the entity with column=value (repeatable).
    #[arg(long)]
    pub(crate) entity: Vec<String>,
    /// Forecast from the complete periods before this instant: RFC 3339 or a date in
    /// the project's zone (default: now).
    #[arg(long)]
    pub(crate) as_of: Option<String>,
    #[command(flatten)]
    pub(crate) project: ProjectOpt,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub(crate) format: Format,
}

pub(crate) fn run(a: Args, color: Color) -> Result<ExitCode, String> {
    let entity = crate::eval::entity_args(&a.entity, "region=north")?;
    let req = ForecastRequest {
        kpi: a.kpi.to_string(),
        horizon: a.horizon,
        entity,
    };
    // A wrong KPI or horizon is said before any data is read.
    let loaded = crate::check::load(&a.project.dir)?;
    if !loaded.diagnostics.has_errors()
        && let Err(e) = yardstick_engine::forecasts::validate(&loaded.project, &req)
    {
        eprintln!("error: {e}");
        return Ok(crate::fault::project());
    }
    let selection = crate::eval::Selection {
        as_of: a.as_of.as_deref(),
        kpis: vec![a.kpi.to_string()],
        ..Default::default()
    };
    let (ws, evaluation) = match crate::eval::evaluate_loaded(&a.project.dir, loaded, selection, color)? {
        Evaluated::Done(ws, e, _) => (ws, e),
        Evaluated::Failed(code) => return Ok(code),
    };
    let loaded = ws.loaded();
    let bar = progress_bar();
    let report = yardstick_engine::forecasts::forecast(&loaded.project, &evaluation, &req, &|done, total| {
        if let Some(b) = &bar {
            b.set_length(total as u64);
            b.set_position(done as u64);
        }
    });
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let report = match report {
        Ok(r) => r,
        Err(e) => return Ok(crate::fault::eval_error(e)),
    };
    for s in &report.skipped {
        eprintln!(
            "warning: {} {}: {}",
            s.kpi,
            yardstick_engine::eval::entity_words(s.entity.as_ref()),
            s.reason
        );
    }
    let mut out = std::io::stdout().lock();
    let io = |e: std::io::Error| format!("cannot write output: {e}");
    match a.format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &report).map_err(|e| e.to_string())?;
            writeln!(out).map_err(io)?;
        }
        Format::Text => {
            let unit = loaded
                .project
                .kpis
                .get(a.kpi.as_str())
                .and_then(|k| k.display_unit().map(str::to_string));
            let currency = loaded.project.settings.currency.clone();
            writeln!(
                out,
                "{}",
                table(&report, unit.as_deref(), currency.as_deref(), color)
            )
            .map_err(io)?;
            let notes: Vec<&str> = report
                .forecasts
                .iter()
                .filter_map(|f| f.note.as_deref())
                .collect();
            if let Some(first) = notes.first() {
                writeln!(
                    out,
                    "note: {first}{}",
                    if notes.len() > 1 {
                        format!(" (and {} more series)", notes.len() - 1)
                    } else {
                        String::new()
                    }
                )
                .map_err(io)?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A progress bar on standard error, when it is a terminal.
fn progress_bar() -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(0);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("forecasting {bar:30} {pos}/{len} series {eta}")
    {
        bar.set_style(style);
    }
    Some(bar)
}

fn table(r: &ForecastReport, unit: Option<&str>, currency: Option<&str>, color: Color) -> comfy_table::Table {
    let mut t = crate::render::table(color);
    t.set_header(vec![
        "kpi",
        "entity",
        "period",
        "forecast",
        "80% range",
        "95% range",
        "model",
    ]);
    let range = |lo: Option<f64>, hi: Option<f64>| match (lo, hi) {
        (Some(l), Some(h)) => format!(
            "{} – {}",
            format_value(Some(l), unit, currency),
            format_value(Some(h), unit, currency)
        ),
        _ => "—".into(),
    };
    for f in &r.forecasts {
        let entity = yardstick_engine::eval::entity_words(f.entity.as_ref());
        for (i, fp) in f.points.iter().enumerate() {
            let (first, p) = (i == 0, &fp.point);
            t.add_row(vec![
                Cell::new(if first { f.kpi.as_str() } else { "" }),
                Cell::new(if first { entity.as_str() } else { "" }),
                Cell::new(&fp.period),
                Cell::new(format_value(Some(p.value), unit, currency)).set_alignment(CellAlignment::Right),
                Cell::new(range(p.low80, p.high80)).set_alignment(CellAlignment::Right),
                Cell::new(range(p.low95, p.high95)).set_alignment(CellAlignment::Right),
                Cell::new(if first { f.model.as_str() } else { "" }),
            ]);
        }
    }
    t
}
