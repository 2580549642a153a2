//! `yardstick eval`: values, targets and statuses per period and entity.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use comfy_table::{Cell, CellAlignment, Color as TColor};
use yardstick_engine::eval::{EvalError, EvalOptions, Evaluation, Row};
use yardstick_workspace::{OpenError, Workspace};

use crate::args::{AsOf, ProjectDir};
use crate::check::{print_diagnostics, runtime};
use crate::render::Color;

/// Without `--from`, the terminal table shows this many latest periods of
/// each KPI (JSON and CSV always have every period).
const RECENT_PERIODS: usize = 3;

/// The rows of the latest `n` periods of each KPI, and how many were left out.
fn recent(ev: &Evaluation, n: usize) -> (Evaluation, usize) {
    let mut periods: std::collections::HashMap<&str, Vec<&str>> = std::collections::HashMap::new();
    for r in &ev.evaluations {
        let list = periods.entry(r.kpi.as_str()).or_default();
        if !list.contains(&r.period.as_str()) {
            list.push(&r.period);
        }
    }
    let keep = |r: &Row| {
        periods
            .get(r.kpi.as_str())
            .is_some_and(|list| list.iter().rev().take(n).any(|p| *p == r.period))
    };
    let kept: Vec<Row> = ev.evaluations.iter().filter(|r| keep(r)).cloned().collect();
    let dropped = ev.evaluations.len() - kept.len();
    (
        Evaluation {
            as_of: ev.as_of,
            evaluations: kept,
        },
        dropped,
    )
}

/// Output formats of `eval`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum EvalFormat {
    /// An aligned table, statuses coloured on a terminal.
    Text,
    /// Machine-readable JSON on standard output (`as_of` and one object per row).
    Json,
    /// The same columns as JSON; `entity` as a JSON object.
    Csv,
}

/// Parses `--as-of`/`--from`/`--to`: an ISO time, or a date (start of that
/// day in the project zone).
fn parse_instant(s: &str, tz: chrono_tz::Tz, flag: &str) -> Result<DateTime<Utc>, String> {
    yardstick_core::time::parse_time(s, tz).ok_or_else(|| {
        format!(
            "{flag} `{s}` is not a time: write {}",
            yardstick_core::time::TIME_FORMS
        )
    })
}

/// `yardstick eval`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    pub(crate) project: ProjectDir,
    #[command(flatten)]
    pub(crate) at: AsOf,
    /// Report periods from the one holding this instant.
    #[arg(long)]
    pub(crate) from: Option<String>,
    /// Report periods up to the one holding this instant.
    #[arg(long)]
    pub(crate) to: Option<String>,
    /// Evaluate only this KPI (repeatable).
    #[arg(long = "kpi", value_name = "ID")]
    pub(crate) kpis: Vec<String>,
    /// Break KPIs down by a dimension they declare (values only: targets apply to the whole).
    #[arg(long, value_name = "DIMENSION")]
    pub(crate) by: Option<String>,
    #[arg(long, value_enum, default_value_t = EvalFormat::Text)]
    pub(crate) format: EvalFormat,
    /// Where queries run: `local` (this process), or an Apache DataFusion
    /// Ballista cluster, `ballista://HOST:PORT` (see `yardstick cluster`).
    #[arg(long, value_name = "ENGINE", env = "YARDSTICK_ENGINE")]
    pub(crate) engine: Option<String>,
}

/// The outcome of opening and evaluating a project.
pub(crate) enum Evaluated {
    /// The project (definitions, stored rows, catalog), its evaluation and,
    /// when asked for, its stale sources at the evaluation's instant.
    Done(
        Box<Workspace>,
        Evaluation,
        Vec<yardstick_engine::freshness::Stale>,
    ),
    /// Problems were reported; exit with this code.
    Failed(ExitCode),
}

/// Opens `dir` through the one way in; definitions that do not check are
/// reported on standard error (`Ok(None)`).
pub(crate) fn open(
    rt: &tokio::runtime::Runtime,
    dir: &Path,
    db: Option<&str>,
    color: Color,
) -> Result<Option<Workspace>, String> {
    open_loaded(
        rt,
        dir,
        Workspace::load(dir).map_err(|e| e.to_string())?,
        db,
        color,
    )
}

/// [`open`] with the definitions already loaded (once).
pub(crate) fn open_loaded(
    rt: &tokio::runtime::Runtime,
    dir: &Path,
    loaded: yardstick_core::Loaded,
    db: Option<&str>,
    color: Color,
) -> Result<Option<Workspace>, String> {
    open_on_engine(rt, dir, loaded, db, None, color)
}

/// [`open_loaded`] with queries run on `engine` (`None`: `YARDSTICK_ENGINE`).
fn open_on_engine(
    rt: &tokio::runtime::Runtime,
    dir: &Path,
    loaded: yardstick_core::Loaded,
    db: Option<&str>,
    engine: Option<&str>,
    color: Color,
) -> Result<Option<Workspace>, String> {
    match rt.block_on(Workspace::open_on_engine(dir, loaded, db, engine)) {
        Ok(ws) => Ok(Some(ws)),
        Err(OpenError::Definitions(loaded)) => {
            print_diagnostics(&loaded, loaded.diagnostics.iter().cloned().collect(), color)?;
            eprintln!("error: the definitions have errors; nothing was evaluated");
            Ok(None)
        }
        Err(e) => Err(e.to_string()),
    }
}

/// What to evaluate, as the command line gave it.
#[derive(Default)]
pub(crate) struct Selection<'a> {
    pub(crate) as_of: Option<&'a str>,
    pub(crate) from: Option<&'a str>,
    pub(crate) to: Option<&'a str>,
    pub(crate) kpis: Vec<String>,
    pub(crate) by: Option<String>,
    pub(crate) projections: bool,
    /// Also find the sources that are stale at the evaluation's instant.
    pub(crate) stale: bool,
    /// Where queries run (`None`: `YARDSTICK_ENGINE`, else this process).
    pub(crate) engine: Option<&'a str>,
}

/// Loads `dir` and evaluates it; problems are reported on standard error.
pub(crate) fn evaluate(dir: &Path, sel: Selection<'_>, color: Color) -> Result<Evaluated, String> {
    let loaded = Workspace::load(dir).map_err(|e| e.to_string())?;
    evaluate_loaded(dir, loaded, sel, color)
}

/// [`evaluate`] with the definitions already loaded.
pub(crate) fn evaluate_loaded(
    dir: &Path,
    loaded: yardstick_core::Loaded,
    sel: Selection<'_>,
    color: Color,
) -> Result<Evaluated, String> {
    let Selection {
        as_of,
        from,
        to,
        kpis,
        by,
        projections,
        stale,
        engine,
    } = sel;
    let rt = runtime()?;
    let Some(ws) = open_on_engine(&rt, dir, loaded, None, engine, color)? else {
        return Ok(Evaluated::Failed(crate::fault::project()));
    };
    let tz = ws.project().settings.timezone;
    let as_of = match as_of {
        Some(s) => parse_instant(s, tz, "--as-of")?,
        None => crate::args::now(),
    };
    let opts = EvalOptions {
        as_of,
        from: from.map(|s| parse_instant(s, tz, "--from")).transpose()?,
        to: to.map(|s| parse_instant(s, tz, "--to")).transpose()?,
        kpis,
        by,
        projections,
    };
    let spinner = progress(ws.project(), &opts);
    let result = rt.block_on(ws.evaluate(&opts));
    if let Some(s) = spinner {
        s.finish_and_clear();
    }
    let (evaluation, diags) = match result {
        Ok(x) => x,
        Err(EvalError::Data(m)) => {
            eprintln!("error: {m}");
            return Ok(Evaluated::Failed(crate::fault::project()));
        }
        Err(e @ EvalError::Internal(_)) => return Ok(Evaluated::Failed(crate::fault::internal(&e))),
    };
    if diags.has_errors() {
        print_diagnostics(ws.loaded(), diags.into_vec(), color)?;
        eprintln!("error: nothing was evaluated: fix the problems above");
        return Ok(Evaluated::Failed(crate::fault::project()));
    }
    let stale = if stale {
        rt.block_on(ws.stale(as_of)).map_err(|e| e.to_string())?
    } else {
        Vec::new()
    };
    Ok(Evaluated::Done(Box::new(ws), evaluation, stale))
}

pub(crate) fn run(a: Args, color: Color) -> Result<ExitCode, String> {
    let from_given = a.from.is_some();
    let (ws, evaluation, stale) = match evaluate(
        &a.project.dir,
        Selection {
            as_of: a.at.as_of.as_deref(),
            from: a.from.as_deref(),
            to: a.to.as_deref(),
            kpis: a.kpis,
            by: a.by,
            projections: true,
            stale: true,
            engine: a.engine.as_deref(),
        },
        color,
    )? {
        Evaluated::Done(ws, e, stale) => (ws, e, stale),
        Evaluated::Failed(code) => return Ok(code),
    };
    let loaded = ws.loaded();
    let mut out = std::io::stdout().lock();
    let io = |e: std::io::Error| format!("cannot write output: {e}");
    if a.format != EvalFormat::Json {
        for s in &stale {
            eprintln!("warning: {}", s.message);
        }
    }
    match a.format {
        EvalFormat::Csv => write_csv(&mut out, &evaluation).map_err(|e| e.to_string())?,
        EvalFormat::Json => {
            /// §7's object, plus `stale` sources when there are any.
            #[derive(serde::Serialize)]
            struct WithStale<'a> {
                #[serde(flatten)]
                evaluation: &'a Evaluation,
                #[serde(skip_serializing_if = "Vec::is_empty")]
                stale: &'a Vec<yardstick_engine::freshness::Stale>,
            }
            let body = WithStale {
                evaluation: &evaluation,
                stale: &stale,
            };
            serde_json::to_writer_pretty(&mut out, &body).map_err(|e| e.to_string())?;
            writeln!(out).map_err(io)?;
        }
        EvalFormat::Text => {
            let (shown, dropped) = if from_given {
                (evaluation, 0)
            } else {
                recent(&evaluation, RECENT_PERIODS)
            };
            writeln!(out, "{}", table(&shown, color, currency(&loaded.project))).map_err(io)?;
            if dropped > 0 {
                writeln!(
                    out,
                    "(the last {RECENT_PERIODS} periods of each KPI; {} more: --from DATE shows them, --format json or csv has all)",
                    yardstick_core::format::count(dropped, "earlier row", "earlier rows")
                )
                .map_err(io)?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Attainment as a percentage, truncated to one decimal so that a miss never
/// shows as 100%.
pub(crate) fn percent_floor(a: f64) -> String {
    yardstick_core::format::attainment(a)
}

/// A spinner on standard error while evaluating, when it is a terminal.
fn progress(p: &yardstick_core::Project, opts: &EvalOptions) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let n = if opts.kpis.is_empty() {
        p.kpis.len()
    } else {
        opts.kpis.len()
    };
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_message(format!("evaluating {n} KPIs over {} sources", p.sources.len()));
    bar.enable_steady_tick(std::time::Duration::from_millis(100));
    Some(bar)
}

fn currency(p: &yardstick_core::Project) -> Option<String> {
    p.settings.currency.clone()
}

fn entity_text(r: &Row) -> String {
    yardstick_engine::eval::entity_words(r.entity.as_ref())
}

/// `--entity col=value` arguments as pairs.
pub(crate) fn entity_args(args: &[String], example: &str) -> Result<Vec<(String, String)>, String> {
    args.iter()
        .map(|e| {
            e.split_once('=')
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                .ok_or_else(|| format!("--entity `{e}`: write column=value, e.g. --entity {example}"))
        })
        .collect()
}

fn write_csv(out: &mut dyn Write, ev: &Evaluation) -> csv::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record([
        "kpi",
        "period",
        "start",
        "end",
        "entity",
        "value",
        "target",
        "status",
        "attainment",
        "complete",
        "previous",
        "baseline",
        "benchmark",
        "warning",
        "unit",
        "projection",
        "projection_low",
        "projection_high",
        "projection_probability",
        "projection_status",
    ])?;
    let num = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
    for r in &ev.evaluations {
        let entity = r.entity_json();
        let p = r.projection.as_ref();
        w.write_record([
            r.kpi.as_str(),
            &r.period,
            &r.start.to_rfc3339(),
            &r.end.to_rfc3339(),
            &entity,
            &num(r.value),
            r.target.as_deref().unwrap_or(""),
            r.status.map_or("", |s| s.as_str()),
            &num(r.attainment),
            if r.complete { "true" } else { "false" },
            &num(r.previous),
            &num(r.baseline),
            &num(r.benchmark),
            r.warning.as_deref().unwrap_or(""),
            r.unit.as_deref().unwrap_or(""),
            &num(p.map(|p| p.value)),
            &num(p.map(|p| p.low)),
            &num(p.map(|p| p.high)),
            &num(p.and_then(|p| p.probability)),
            p.and_then(|p| p.status).map_or("", |h| h.as_str()),
        ])?;
    }
    w.flush()?;
    Ok(())
}

/// A value in its unit, or a dash: [`yardstick_core::format::value`].
pub(crate) fn format_value(v: Option<f64>, unit: Option<&str>, currency: Option<&str>) -> String {
    yardstick_core::format::value_or_dash(v, unit, currency)
}

/// A row's target written like its values (`>= €60,000`, `>= 90%`).
pub(crate) fn target_text(r: &Row, currency: Option<&str>) -> String {
    match (&r.threshold, &r.target) {
        (Some(t), _) => yardstick_core::format::target(t, r.unit.as_deref(), currency),
        (None, Some(text)) => text.clone(),
        (None, None) => String::new(),
    }
}

fn status_cell(status: Option<&str>, color: Color) -> Cell {
    let (text, c) = match status {
        Some("met") => ("✓ met", TColor::Green),
        Some("warning") => ("! warning", TColor::Yellow),
        Some("missed") => ("✗ missed", TColor::Red),
        Some("no_data") => ("· no data", TColor::DarkGrey),
        _ => ("", TColor::Reset),
    };
    let cell = Cell::new(text);
    if color == Color::Always { cell.fg(c) } else { cell }
}

fn table(ev: &Evaluation, color: Color, currency: Option<String>) -> String {
    let mut t = crate::render::table(color);
    t.set_header([
        "KPI",
        "period",
        "entity",
        "value",
        "target",
        "status",
        "attainment",
        "",
    ]);
    for r in &ev.evaluations {
        let unit = r.unit.as_deref();
        t.add_row(vec![
            Cell::new(&r.kpi),
            Cell::new(&r.period),
            Cell::new(entity_text(r)),
            Cell::new(format_value(r.value, unit, currency.as_deref())).set_alignment(CellAlignment::Right),
            Cell::new(target_text(r, currency.as_deref())),
            status_cell(r.status.map(|s| s.as_str()), color),
            Cell::new(r.attainment.map(percent_floor).unwrap_or_default())
                .set_alignment(CellAlignment::Right),
            Cell::new(match (&r.projection, r.complete) {
                (_, true) => String::new(),
                (Some(p), false) => format!(
                    "so far; heading for {}{}",
                    format_value(Some(p.value), unit, currency.as_deref()),
                    p.status.map(|h| format!(", {}", h.words())).unwrap_or_default()
                ),
                (None, false) => "so far".into(),
            }),
        ]);
    }
    format!("{t}\nas of {}", ev.as_of)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_formatted_in_their_unit() {
        assert_eq!(format_value(Some(0.994428), Some("%"), None), "99.44%");
        assert_eq!(format_value(Some(34563.9), Some("EUR"), None), "€34,563.90");
        assert_eq!(format_value(Some(64.7736), Some("hours"), None), "64.8 h");
        assert_eq!(format_value(Some(13.0), Some("clients"), None), "13 clients");
        assert_eq!(format_value(Some(-1234.5), None, None), "-1,234.5");
        assert_eq!(format_value(None, Some("%"), None), "—");
    }
}
