//! `yardstick explain`: why a KPI has its value and status in one period.

use std::io::Write;
use std::process::ExitCode;

use yardstick_engine::explain::Explanation;

use crate::Format;
use crate::args::{AsOf, ProjectOpt};
use crate::check::{print_diagnostics, runtime};
use crate::eval::format_value;
use crate::render::Color;

/// `yardstick explain`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// KPI id.
    pub(crate) kpi: String,
    /// Period label: 2026-10-14, 2026-W42, 2026-10, 2026-Q4, 2026-H2, 2026, FY2027-Q1, FY2027.
    pub(crate) period: String,
    /// Entity of a for_each KPI, as column=value (repeatable).
    #[arg(long)]
    pub(crate) entity: Vec<String>,
    #[command(flatten)]
    pub(crate) project: ProjectOpt,
    #[command(flatten)]
    pub(crate) at: AsOf,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub(crate) format: Format,
}

pub(crate) fn run(a: Args, color: Color) -> Result<ExitCode, String> {
    let rt = runtime()?;
    let Some(ws) = crate::eval::open(&rt, &a.project.dir, None, color)? else {
        return Ok(crate::fault::project());
    };
    let loaded = ws.loaded();
    let tz = loaded.project.settings.timezone;
    let as_of = a.at.instant(tz)?;
    let entity = crate::eval::entity_args(&a.entity, "salesperson=Ana")?;
    let result = if ws.source_diagnostics().has_errors() {
        Ok(Err(ws.source_diagnostics().clone()))
    } else {
        rt.block_on(yardstick_engine::explain::explain(
            &loaded.project,
            ws.catalog(),
            &a.kpi,
            &a.period,
            &entity,
            as_of,
        ))
        .map(Ok)
    };
    let x = match result {
        Ok(Ok(x)) => x,
        Ok(Err(d)) => {
            print_diagnostics(loaded, d.into_vec(), color)?;
            return Ok(crate::fault::project());
        }
        Err(e) => return Ok(crate::fault::eval_error(e)),
    };
    let mut out = std::io::stdout().lock();
    let io = |e: std::io::Error| format!("cannot write output: {e}");
    match a.format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &x).map_err(|e| e.to_string())?;
            writeln!(out).map_err(io)?;
        }
        Format::Text => write!(
            out,
            "{}",
            text(&x, loaded.project.settings.currency.as_deref(), color)
        )
        .map_err(io)?,
    }
    Ok(ExitCode::SUCCESS)
}

fn text(x: &Explanation, currency: Option<&str>, color: Color) -> String {
    let bold = |s: &str| {
        if color == Color::Always {
            format!("\x1b[1m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    };
    let unit = x.unit.as_deref();
    let mut o = String::new();
    let title = match &x.name {
        Some(n) => format!("{} — {n}", x.kpi),
        None => x.kpi.clone(),
    };
    o += &format!("{}\n", bold(&title));
    let entity = x
        .entity
        .as_ref()
        .map(|e| e.iter().map(|(k, v)| format!(" {k}={v}")).collect::<String>())
        .unwrap_or_default();
    let state = if x.complete { "complete" } else { "still running" };
    o += &format!(
        "  period      {}{entity}  [{} → {}, {state}]\n",
        x.period, x.start, x.end
    );
    o += &format!("  form        {}\n", x.form);
    o += &format!("  value       {}\n", format_value(x.value, unit, currency));
    if let Some(t) = &x.target {
        let note = x
            .target_note
            .as_ref()
            .map(|n| format!("  ({n})"))
            .unwrap_or_default();
        o += &format!("  target      {t}{note}\n");
    }
    if let Some(w) = &x.warning {
        o += &format!("  warning     {w}\n");
    }
    let att = x
        .attainment
        .map(|a| format!(", attainment {}", crate::eval::percent_floor(a)))
        .unwrap_or_default();
    o += &format!("  status      {}{att}\n", x.status.map_or("none", |s| s.as_str()));
    o += &format!("  why         {}\n", x.reason);
    if let Some(s) = &x.source {
        let files = if x.files.is_empty() {
            String::new()
        } else {
            format!(" ({})", x.files.join(", "))
        };
        o += &format!("  source      {s}{files}\n");
    }
    if let (Some(n), Some(f)) = (x.rows_in_period, x.rows_after_filter) {
        o += &format!("  rows        {n} in the period, {f} after the filter\n");
    }
    if let Some(a) = &x.availability {
        o += &format!(
            "  time        {:.2} h in the period, {:.2} h excluded, {:.2} h scheduled, {:.2} h down ({} intervals)\n",
            a.period_hours, a.excluded_hours, a.scheduled_hours, a.downtime_hours, a.down_intervals
        );
    }
    for i in &x.inputs {
        o += &format!(
            "  input       {} ({} {}) = {} in {}\n",
            i.id,
            i.kind,
            i.form,
            i.value.map_or_else(|| "no value".to_string(), |v| v.to_string()),
            i.period
        );
    }
    if let Some(sql) = &x.sql {
        o += &format!("\n{}\n", bold("query"));
        for l in sql.lines() {
            o += &format!("  {l}\n");
        }
    }
    if let Some(plan) = &x.plan {
        o += &format!("\n{}\n", bold("plan (DataFusion, optimised)"));
        for l in plan.lines() {
            o += &format!("  {l}\n");
        }
    }
    if let Some(sql) = &x.database_sql {
        o += &format!(
            "\n{}\n",
            bold("sent to the database (the evaluation's aggregate, pushed down)")
        );
        for l in sql.lines() {
            o += &format!("  {l}\n");
        }
    }
    o
}
