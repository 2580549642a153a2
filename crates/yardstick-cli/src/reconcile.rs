//! `yardstick reconcile`: which records two sides disagree on, and how much
//! of each KPI difference every kind of disagreement explains.

use std::io::Write;
use std::process::ExitCode;

use comfy_table::{Cell, CellAlignment, Color as TColor};
use serde::Serialize;
use yardstick_core::format;
use yardstick_core::reconcile::Cause;
use yardstick_core::time::Instant;
use yardstick_engine::reconcile::{
    Example, Kind, KpiReconciliation, PeriodReconciliation, ReconcileOptions, Reconciliation,
};

use crate::args::{AsOf, ProjectOpt};
use crate::check::{print_diagnostics, runtime};
use crate::eval::EvalFormat;
use crate::render::Color;

/// `yardstick reconcile`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Reconciliation id (default: every [reconcile.ID] of the project).
    pub(crate) id: Option<String>,
    #[command(flatten)]
    pub(crate) project: ProjectOpt,
    /// Only this period (its label, e.g. 2026-10).
    #[arg(long)]
    pub(crate) period: Option<String>,
    /// Discrepant records listed per period (text and JSON; CSV lists all
    /// unless this is given).
    #[arg(long)]
    pub(crate) limit: Option<usize>,
    #[command(flatten)]
    pub(crate) at: AsOf,
    #[arg(long, value_enum, default_value_t = EvalFormat::Text)]
    pub(crate) format: EvalFormat,
}

const DEFAULT_LIMIT: usize = 10;

#[derive(Serialize)]
struct Report<'a> {
    as_of: Instant,
    reconciliations: Vec<&'a PeriodReconciliation>,
}

pub(crate) fn run(a: Args, color: Color) -> Result<ExitCode, String> {
    let rt = runtime()?;
    let dir = &a.project.dir;
    let Some(ws) = crate::eval::open(&rt, dir, None, color)? else {
        return Ok(crate::fault::project());
    };
    let loaded = ws.loaded();
    let project = &loaded.project;
    let as_of = a.at.instant(project.settings.timezone)?;
    let ids: Vec<String> = match &a.id {
        Some(id) => vec![id.clone()],
        None => project.reconciles.keys().cloned().collect(),
    };
    if ids.is_empty() {
        return Err(format!(
            "{} has no [reconcile.ID]: declare one to compare two sources (README: Reconciliation)",
            dir.display()
        ));
    }
    let limit = match a.format {
        EvalFormat::Csv => a.limit,
        _ => Some(a.limit.unwrap_or(DEFAULT_LIMIT)),
    };
    let opts = ReconcileOptions {
        as_of,
        period: a.period.clone(),
        limit,
    };
    let mut results: Vec<Reconciliation> = Vec::new();
    for id in &ids {
        match rt.block_on(ws.reconcile(id, &opts)) {
            Ok(Ok(r)) => results.push(r),
            Ok(Err(d)) => {
                print_diagnostics(loaded, d.into_vec(), color)?;
                return Ok(crate::fault::project());
            }
            Err(e) => return Ok(crate::fault::eval_error(e)),
        }
    }
    let mut out = std::io::stdout().lock();
    let io = |e: std::io::Error| format!("cannot write output: {e}");
    let currency = project.settings.currency.as_deref();
    match a.format {
        EvalFormat::Json => {
            let report = Report {
                as_of: as_of.into(),
                reconciliations: results.iter().flat_map(|r| &r.periods).collect(),
            };
            serde_json::to_writer_pretty(&mut out, &report).map_err(|e| e.to_string())?;
            writeln!(out).map_err(io)?;
        }
        EvalFormat::Csv => write_csv(&mut out, &results)?,
        EvalFormat::Text => {
            for r in &results {
                let rules: Vec<String> = project
                    .reconciles
                    .get(&r.reconcile)
                    .map(|rc| {
                        rc.compare
                            .iter()
                            .map(|c| format!("{} {}", c.column.left.value, c.rule.describe()))
                            .collect()
                    })
                    .unwrap_or_default();
                write!(out, "{}", text(r, &rules, currency, limit, color)).map_err(io)?;
            }
        }
    }
    let agreed = results
        .iter()
        .flat_map(|r| &r.periods)
        .all(PeriodReconciliation::agreed);
    Ok(if agreed {
        ExitCode::SUCCESS
    } else {
        crate::fault::outside_tolerance()
    })
}

fn side_words(source: &str, owner: Option<&str>) -> String {
    match owner {
        Some(o) => format!("{source} ({o})"),
        None => source.to_string(),
    }
}

fn money(k: &KpiReconciliation, v: f64, currency: Option<&str>) -> String {
    format::value(v, k.unit.as_deref(), currency)
}

/// "Of the €7,012 difference: €5,880 from 19 records only in orders, …".
pub(crate) fn bridge_sentence(
    p: &PeriodReconciliation,
    k: &KpiReconciliation,
    currency: Option<&str>,
) -> String {
    let Some(d) = k.difference else {
        return format!("{} has no value on one side", k.kpi);
    };
    if k.bridge.is_empty() {
        return format!("{}: both sides agree", k.kpi);
    }
    let parts: Vec<String> = k
        .bridge
        .iter()
        .map(|s| {
            let what = match s.cause {
                Cause::DuplicateKeys => "whose key is duplicated".to_string(),
                Cause::OnlyLeft => format!("only in {}", p.left.source),
                Cause::OnlyRight => format!("only in {}", p.right.source),
                Cause::Value => format!("whose {} differs", s.column.as_deref().unwrap_or("value")),
                Cause::Period => "booked in another period on the other side".to_string(),
            };
            format!(
                "{} from {} {what}",
                money(k, s.amount, currency),
                format::count(
                    usize::try_from(s.records).unwrap_or(usize::MAX),
                    "record",
                    "records"
                )
            )
        })
        .collect();
    format!(
        "Of the {} difference in {} ({} − {}): {}.",
        money(k, d, currency),
        k.kpi,
        p.left.source,
        p.right.source,
        parts.join(", ")
    )
}

fn kind_words(e: &Example) -> &'static str {
    match e.kind {
        Kind::Matched
            if e.left_period != e.right_period && e.columns.iter().filter(|c| c.differs).count() == 1 =>
        {
            "booked in another period"
        }
        Kind::Matched => "differs",
        Kind::OnlyLeft => "only left",
        Kind::OnlyRight => "only right",
        Kind::DuplicateLeft => "duplicate key (left)",
        Kind::DuplicateRight => "duplicate key (right)",
    }
}

fn key_words(e: &Example) -> String {
    e.key
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn text(
    r: &Reconciliation,
    rules: &[String],
    currency: Option<&str>,
    limit: Option<usize>,
    color: Color,
) -> String {
    let mut s = String::new();
    let title = r.name.as_deref().unwrap_or(&r.reconcile);
    s.push_str(&format!("{title} ({})\n", r.reconcile));
    s.push_str(&format!(
        "left: {}   right: {}   keys: {}\n",
        side_words(&r.left.source, r.left.owner.as_deref()),
        side_words(&r.right.source, r.right.owner.as_deref()),
        r.keys.join(", ")
    ));
    if !rules.is_empty() {
        s.push_str(&format!("compared: {}\n", rules.join(", ")));
    }
    let paint = |cell: Cell, c: TColor| if color == Color::Always { cell.fg(c) } else { cell };
    for p in &r.periods {
        let verdict = if p.kpis.is_empty() {
            String::new()
        } else if p.agreed() {
            "  within tolerance".to_string()
        } else {
            "  OUTSIDE TOLERANCE".to_string()
        };
        let partial = if p.complete { "" } else { " (incomplete)" };
        s.push_str(&format!("\n{}{partial}{verdict}\n", p.period));
        let differing: Vec<String> = p
            .mismatched
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(c, n)| format!("{c} {n}"))
            .collect();
        s.push_str(&format!(
            "  records: {} matched, {} only left, {} only right, {} differ{}{}\n",
            p.matched,
            p.only_left,
            p.only_right,
            p.unequal,
            if differing.is_empty() {
                String::new()
            } else {
                format!(" ({})", differing.join(", "))
            },
            if p.duplicate_keys.left + p.duplicate_keys.right > 0 {
                format!(
                    ", duplicate keys: {} left, {} right",
                    p.duplicate_keys.left, p.duplicate_keys.right
                )
            } else {
                String::new()
            }
        ));
        if !p.kpis.is_empty() {
            let mut t = crate::render::table(color);
            t.set_header(vec!["KPI", "left", "right", "difference", ""]);
            for k in &p.kpis {
                let diff = match (k.difference, k.relative) {
                    (Some(d), Some(rel)) => format!("{} ({})", money(k, d, currency), format::percent(rel)),
                    (Some(d), None) => money(k, d, currency),
                    _ => "—".into(),
                };
                let (word, c) = if k.within_tolerance {
                    ("within tolerance", TColor::Green)
                } else {
                    ("outside tolerance", TColor::Red)
                };
                t.add_row(vec![
                    Cell::new(&k.kpi),
                    Cell::new(format::value_or_dash(k.left, k.unit.as_deref(), currency))
                        .set_alignment(CellAlignment::Right),
                    Cell::new(format::value_or_dash(k.right, k.unit.as_deref(), currency))
                        .set_alignment(CellAlignment::Right),
                    Cell::new(diff).set_alignment(CellAlignment::Right),
                    paint(Cell::new(word), c),
                ]);
            }
            for line in t.to_string().lines() {
                s.push_str(&format!("  {line}\n"));
            }
            for k in &p.kpis {
                if k.difference.is_some_and(|d| d != 0.0) {
                    s.push_str(&format!("  {}\n", bridge_sentence(p, k, currency)));
                }
            }
        }
        if !p.examples.is_empty() {
            let shown = p.examples.len();
            let total =
                p.only_left + p.only_right + p.unequal + p.duplicate_keys.left + p.duplicate_keys.right;
            s.push_str(&format!(
                "  discrepant records{}:\n",
                match limit {
                    Some(_) if u64::try_from(shown).unwrap_or(u64::MAX) < total =>
                        format!(" (first {shown} of {total}; --limit, or --format csv for all)"),
                    _ => String::new(),
                }
            ));
            let mut t = crate::render::table(color);
            t.set_header(vec!["record", "what", "left", "right"]);
            for e in &p.examples {
                let cells: Vec<&yardstick_engine::reconcile::Cell> = match e.kind {
                    Kind::Matched => e.columns.iter().filter(|c| c.differs).collect(),
                    _ => e.columns.iter().collect(),
                };
                let side = |right: bool| {
                    cells
                        .iter()
                        .map(|c| {
                            let v = if right { &c.right } else { &c.left };
                            format!("{}: {v}", c.column)
                        })
                        .collect::<Vec<_>>()
                        .join("\n")
                };
                let (l, rr) = match e.kind {
                    Kind::OnlyLeft | Kind::DuplicateLeft => (side(false), "—".to_string()),
                    Kind::OnlyRight | Kind::DuplicateRight => ("—".to_string(), side(true)),
                    Kind::Matched => (side(false), side(true)),
                };
                t.add_row(vec![key_words(e), kind_words(e).to_string(), l, rr]);
            }
            for line in t.to_string().lines() {
                s.push_str(&format!("  {line}\n"));
            }
        }
    }
    s
}

/// Every discrepant record, one line per record and compared column.
fn write_csv(out: &mut dyn Write, results: &[Reconciliation]) -> Result<(), String> {
    let mut w = csv::Writer::from_writer(out);
    let err = |e: csv::Error| e.to_string();
    w.write_record([
        "reconcile",
        "period",
        "kind",
        "key",
        "column",
        "left",
        "right",
        "differs",
        "difference",
        "left_owner",
        "right_owner",
    ])
    .map_err(err)?;
    for r in results {
        for p in &r.periods {
            for e in &p.examples {
                let kind = serde_json::to_value(e.kind)
                    .ok()
                    .and_then(|v| v.as_str().map(String::from))
                    .unwrap_or_default();
                for c in &e.columns {
                    w.write_record([
                        r.reconcile.clone(),
                        p.period.clone(),
                        kind.clone(),
                        key_words(e),
                        c.column.clone(),
                        c.left.to_string(),
                        c.right.to_string(),
                        c.differs.to_string(),
                        c.difference.map(|d| d.to_string()).unwrap_or_default(),
                        r.left.owner.clone().unwrap_or_default(),
                        r.right.owner.clone().unwrap_or_default(),
                    ])
                    .map_err(err)?;
                }
            }
        }
    }
    w.flush().map_err(|e| e.to_string())
}
