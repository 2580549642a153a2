//! `yardstick sla`, `payouts`, `score` and `partnership`: what KPI values
//! lead to, from one evaluation.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use comfy_table::{Cell, CellAlignment, Color as TColor, Table};
use serde::Serialize;
use yardstick_engine::consequences as c;

use crate::eval::{EvalFormat, Evaluated, evaluate, format_value, percent_floor};
use crate::render::Color;

/// What to compute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Report<'a> {
    Sla,
    Payouts,
    Score,
    Slo,
    Partnership(&'a str),
}

fn paint(cell: Cell, c: TColor, color: Color) -> Cell {
    if color == Color::Always { cell.fg(c) } else { cell }
}

fn entity(e: &Option<std::collections::BTreeMap<String, yardstick_engine::eval::EntityValue>>) -> String {
    yardstick_engine::eval::entity_words(e.as_ref())
}

fn write_json(out: &mut dyn Write, v: &impl Serialize) -> Result<(), String> {
    serde_json::to_writer_pretty(&mut *out, v).map_err(|e| e.to_string())?;
    writeln!(out).map_err(|e| e.to_string())
}

fn write_csv(
    out: &mut dyn Write,
    header: &[&str],
    rows: impl Iterator<Item = Vec<String>>,
) -> Result<(), String> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(header).map_err(|e| e.to_string())?;
    for r in rows {
        w.write_record(r).map_err(|e| e.to_string())?;
    }
    w.flush().map_err(|e| e.to_string())
}

fn num(v: Option<f64>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// The project, the instant and the format of a report (`sla`, `payouts`,
/// `score`, `slo`).
#[derive(Debug, clap::Args)]
pub(crate) struct ReportArgs {
    #[command(flatten)]
    pub(crate) project: crate::args::ProjectDir,
    #[command(flatten)]
    pub(crate) at: crate::args::AsOf,
    #[arg(long, value_enum, default_value_t = EvalFormat::Text)]
    pub(crate) format: EvalFormat,
}

impl ReportArgs {
    pub(crate) fn run(self, report: Report<'_>, color: Color) -> Result<ExitCode, String> {
        run(
            &self.project.dir,
            report,
            self.at.as_of.as_deref(),
            self.format,
            color,
        )
    }
}

/// `yardstick partnership`.
#[derive(Debug, clap::Args)]
pub(crate) struct PartnershipArgs {
    /// Partnership id.
    pub(crate) id: String,
    #[command(flatten)]
    pub(crate) project: crate::args::ProjectOpt,
    #[command(flatten)]
    pub(crate) at: crate::args::AsOf,
    #[arg(long, value_enum, default_value_t = EvalFormat::Text)]
    pub(crate) format: EvalFormat,
}

impl PartnershipArgs {
    pub(crate) fn run(self, color: Color) -> Result<ExitCode, String> {
        let report = Report::Partnership(&self.id);
        run(
            &self.project.dir,
            report,
            self.at.as_of.as_deref(),
            self.format,
            color,
        )
    }
}

/// A report's JSON with `agreements`: each agreement's standing (whether
/// its results are judged on terms every party signed).
fn with_standing(
    report: &impl serde::Serialize,
    standing: &[yardstick_workspace::agreements::Agreement],
) -> Result<serde_json::Value, String> {
    let mut v = serde_json::to_value(report).map_err(|e| e.to_string())?;
    v["agreements"] = serde_json::json!(
        standing
            .iter()
            .map(|a| (a.terms.id.clone(), a.standing()))
            .collect::<std::collections::BTreeMap<_, _>>()
    );
    Ok(v)
}

/// The agreements' terms with their signatures, from the project's store
/// when it has one (`YARDSTICK_DB`, or `.yardstick/state.db`); reading
/// never creates a store.
fn agreements_of<'a>(
    dir: &Path,
    project: &yardstick_core::model::Project,
    ids: impl Iterator<Item = &'a str>,
) -> Result<Vec<yardstick_workspace::agreements::Agreement>, String> {
    let mut seen: Vec<&str> = Vec::new();
    for id in ids {
        if !seen.contains(&id) {
            seen.push(id);
        }
    }
    let ids: Vec<String> = seen.iter().map(|s| s.to_string()).collect();
    crate::check::runtime()?.block_on(yardstick_workspace::agreements::read(dir, None, project, &ids))
}

pub(crate) fn run(
    dir: &Path,
    report: Report<'_>,
    as_of: Option<&str>,
    format: EvalFormat,
    color: Color,
) -> Result<ExitCode, String> {
    let (ws, ev) = match evaluate(
        dir,
        crate::eval::Selection {
            as_of,
            ..Default::default()
        },
        color,
    )? {
        Evaluated::Done(ws, e, _) => (ws, e),
        Evaluated::Failed(code) => return Ok(code),
    };
    let p = &ws.project();
    let currency = p.settings.currency.as_deref();
    let money = |v: f64| match currency {
        Some(cur) => yardstick_core::format::value(v, Some(cur), Some(cur)),
        None => yardstick_core::format::money(v),
    };
    let mut out = std::io::stdout().lock();
    match report {
        Report::Sla => {
            let mut r = c::sla(p, &ev);
            // A breached period names its top cause (a query per period).
            crate::check::runtime()?.block_on(yardstick_engine::why::clauses::name_top_causes(
                p,
                ws.catalog(),
                &mut r,
                ev.as_of.utc(),
            ));
            let standing = agreements_of(dir, p, r.clauses.iter().map(|x| x.contract.as_str()))?;
            match format {
                EvalFormat::Json => {
                    let mut v = with_standing(&r, &standing)?;
                    // Each period: judged on terms every party signed?
                    if let Some(rows) = v["clauses"].as_array_mut() {
                        for (row, x) in rows.iter_mut().zip(&r.clauses) {
                            row["signed_terms"] =
                                serde_json::json!(yardstick_workspace::agreements::row_signed(
                                    p,
                                    &standing,
                                    &x.contract,
                                    &x.clause,
                                    &x.period
                                ));
                        }
                    }
                    write_json(&mut out, &v)?
                }
                EvalFormat::Csv => write_csv(
                    &mut out,
                    &[
                        "contract",
                        "clause",
                        "period",
                        "entity",
                        "value",
                        "target",
                        "breached",
                        "triggered",
                        "credit_share",
                        "credit_amount",
                        "actions",
                        "explanation",
                        "budget_remaining",
                    ],
                    r.clauses.iter().map(|x| {
                        vec![
                            x.contract.clone(),
                            x.clause.clone(),
                            x.period.clone(),
                            entity(&x.entity),
                            num(x.value),
                            x.target.clone().unwrap_or_default(),
                            x.breached.to_string(),
                            x.triggered.to_string(),
                            x.credit_share.to_string(),
                            x.credit_amount.to_string(),
                            x.actions.join(";"),
                            x.explanation.clone(),
                            num(x.budget_remaining),
                        ]
                    }),
                )?,
                EvalFormat::Text => {
                    let mut t = crate::render::table(color);
                    t.set_header([
                        "contract",
                        "clause",
                        "period",
                        "entity",
                        "value",
                        "target",
                        "outcome",
                        "credit",
                        "explanation",
                    ]);
                    let mut total = 0.0;
                    for x in &r.clauses {
                        let unit = p.kpis.values().find(|k| {
                            p.contracts.get(&x.contract).is_some_and(|c| {
                                c.clauses.iter().any(|cl| {
                                    cl.id.value == x.clause
                                        && cl.kpi.as_ref().is_some_and(|kk| kk.value == k.id.value)
                                })
                            })
                        });
                        let (text, col) = match (x.breached, x.triggered) {
                            (false, _) if x.value.is_none() => ("· no data", TColor::DarkGrey),
                            (false, _) => ("✓ met", TColor::Green),
                            (true, false) => ("! breached", TColor::Yellow),
                            (true, true) => ("✗ triggered", TColor::Red),
                        };
                        total += x.credit_amount;
                        t.add_row(vec![
                            Cell::new(&x.contract),
                            Cell::new(&x.clause),
                            Cell::new(&x.period),
                            Cell::new(entity(&x.entity)),
                            Cell::new(format_value(
                                x.value,
                                unit.and_then(|k| k.display_unit()),
                                currency,
                            ))
                            .set_alignment(CellAlignment::Right),
                            Cell::new(match &x.threshold {
                                Some(t) => yardstick_core::format::target(
                                    t,
                                    unit.and_then(|k| k.display_unit()),
                                    currency,
                                ),
                                None => x.target.clone().unwrap_or_default(),
                            }),
                            paint(Cell::new(text), col, color),
                            Cell::new(if x.credit_amount > 0.0 {
                                money(x.credit_amount)
                            } else {
                                String::new()
                            })
                            .set_alignment(CellAlignment::Right),
                            Cell::new(&x.explanation),
                        ]);
                    }
                    writeln!(out, "{t}\ncredits in total: {} (as of {})", money(total), r.as_of)
                        .map_err(|e| e.to_string())?;
                    for a in &standing {
                        writeln!(out, "{}", a.words()).map_err(|e| e.to_string())?;
                        if a.agreed || a.last_agreed.is_none() {
                            continue;
                        }
                        // Which periods keep the terms every party signed.
                        let (mut kept, mut not) = (Vec::new(), Vec::new());
                        for x in r.clauses.iter().filter(|x| x.contract == a.terms.id) {
                            let label = format!("{} {}", x.clause, x.period);
                            match yardstick_workspace::agreements::row_signed(
                                p,
                                &standing,
                                &x.contract,
                                &x.clause,
                                &x.period,
                            ) {
                                Some(true) => kept.push(label),
                                _ => not.push(label),
                            }
                        }
                        if !kept.is_empty() {
                            writeln!(
                                out,
                                "  judged on the terms every party signed: {}; on terms not signed: {}",
                                kept.join(", "),
                                if not.is_empty() {
                                    "none".to_string()
                                } else {
                                    not.join(", ")
                                }
                            )
                            .map_err(|e| e.to_string())?;
                        }
                    }
                }
            }
        }
        Report::Payouts => {
            let r = c::payouts(p, &ev);
            let standing = agreements_of(dir, p, r.payouts.iter().map(|x| x.incentive.as_str()))?;
            match format {
                EvalFormat::Json => write_json(&mut out, &with_standing(&r, &standing)?)?,
                EvalFormat::Csv => write_csv(
                    &mut out,
                    &["incentive", "period", "entity", "attainment", "payout"],
                    r.payouts.iter().map(|x| {
                        vec![
                            x.incentive.clone(),
                            x.period.clone(),
                            entity(&x.entity),
                            num(x.attainment),
                            x.payout.to_string(),
                        ]
                    }),
                )?,
                EvalFormat::Text => {
                    let mut t = crate::render::table(color);
                    t.set_header(["incentive", "period", "entity", "attainment", "payout"]);
                    for x in &r.payouts {
                        t.add_row(vec![
                            Cell::new(&x.incentive),
                            Cell::new(&x.period),
                            Cell::new(entity(&x.entity)),
                            Cell::new(x.attainment.map(percent_floor).unwrap_or_else(|| "—".into()))
                                .set_alignment(CellAlignment::Right),
                            Cell::new(money(x.payout)).set_alignment(CellAlignment::Right),
                        ]);
                    }
                    writeln!(out, "{t}\nas of {}", r.as_of).map_err(|e| e.to_string())?;
                    for a in &standing {
                        writeln!(out, "{}", a.words()).map_err(|e| e.to_string())?;
                    }
                }
            }
        }
        Report::Score => {
            let r = c::scores(p, &ev);
            match format {
                EvalFormat::Json => write_json(&mut out, &r)?,
                EvalFormat::Csv => write_csv(
                    &mut out,
                    &["scorecard", "period", "score", "complete", "parts"],
                    r.scores.iter().map(|x| {
                        vec![
                            x.scorecard.clone(),
                            x.period.clone(),
                            num(x.score),
                            x.complete.to_string(),
                            serde_json::to_string(&x.parts).unwrap_or_default(),
                        ]
                    }),
                )?,
                EvalFormat::Text => writeln!(out, "{}\nas of {}", score_table(&r.scores, color), r.as_of)
                    .map_err(|e| e.to_string())?,
            }
        }
        Report::Slo => {
            let r = c::slo(p, &ev);
            match format {
                EvalFormat::Json => write_json(&mut out, &r)?,
                EvalFormat::Csv => write_csv(
                    &mut out,
                    &[
                        "kpi",
                        "period",
                        "entity",
                        "complete",
                        "value",
                        "target",
                        "error_budget",
                        "unit",
                        "budget",
                        "consumed",
                        "remaining",
                        "remaining_share",
                        "burn_rate",
                    ],
                    r.slos.iter().map(|x| {
                        vec![
                            x.kpi.clone(),
                            x.period.clone(),
                            entity(&x.entity),
                            x.complete.to_string(),
                            num(x.value),
                            x.target.clone(),
                            x.error_budget.to_string(),
                            x.unit.to_string(),
                            num(x.budget),
                            num(x.consumed),
                            num(x.remaining),
                            num(x.remaining_share),
                            num(x.burn_rate),
                        ]
                    }),
                )?,
                EvalFormat::Text => {
                    let mut t = crate::render::table(color);
                    t.set_header([
                        "KPI",
                        "period",
                        "entity",
                        "value",
                        "target",
                        "budget",
                        "consumed",
                        "remaining",
                        "burn rate",
                        "",
                    ]);
                    let amount = |v: Option<f64>, u: &str| {
                        v.map(|v| format!("{v:.1} {u}")).unwrap_or_else(|| "—".into())
                    };
                    for x in &r.slos {
                        let burn = x
                            .burn_rate
                            .map(|b| format!("{b:.2}×"))
                            .unwrap_or_else(|| "—".into());
                        let hot = x.burn_rate.is_some_and(|b| b > 1.0);
                        t.add_row(vec![
                            Cell::new(&x.kpi),
                            Cell::new(&x.period),
                            Cell::new(entity(&x.entity)),
                            Cell::new(format_value(x.value, Some("%"), None))
                                .set_alignment(CellAlignment::Right),
                            Cell::new(&x.target),
                            Cell::new(amount(x.budget, x.unit)).set_alignment(CellAlignment::Right),
                            Cell::new(amount(x.consumed, x.unit)).set_alignment(CellAlignment::Right),
                            Cell::new(amount(x.remaining, x.unit)).set_alignment(CellAlignment::Right),
                            paint(
                                Cell::new(burn).set_alignment(CellAlignment::Right),
                                if hot { TColor::Red } else { TColor::Green },
                                color,
                            ),
                            Cell::new(if x.complete { "" } else { "so far" }),
                        ]);
                    }
                    writeln!(
                        out,
                        "{t}
as of {}",
                        r.as_of
                    )
                    .map_err(|e| e.to_string())?;
                }
            }
        }
        Report::Partnership(id) => {
            let Some(r) = c::partnership(p, &ev, id) else {
                let known: Vec<&str> = p.partnerships.keys().map(String::as_str).collect();
                eprintln!(
                    "error: no partnership `{id}`; known: {}",
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                );
                return Ok(crate::fault::project());
            };
            let standing = agreements_of(dir, p, std::iter::once(id))?;
            match format {
                EvalFormat::Json | EvalFormat::Csv => write_json(&mut out, &with_standing(&r, &standing)?)?,
                EvalFormat::Text => {
                    let title = r.name.clone().unwrap_or_else(|| r.partnership.clone());
                    writeln!(
                        out,
                        "{title} ({}): {}",
                        r.kind.replace('_', " "),
                        r.partners.join(" × ")
                    )
                    .map_err(|e| e.to_string())?;
                    let mut t = crate::render::table(color);
                    t.set_header(["KPI", "period", "entity", "value", "target", "status"]);
                    for k in &r.kpis {
                        t.add_row(vec![
                            Cell::new(&k.kpi),
                            Cell::new(&k.period),
                            Cell::new(entity(&k.entity)),
                            Cell::new(format_value(k.value, k.unit.as_deref(), currency))
                                .set_alignment(CellAlignment::Right),
                            Cell::new(crate::eval::target_text(k, currency)),
                            Cell::new(k.status.map_or("", |s| s.as_str())),
                        ]);
                    }
                    writeln!(out, "{t}").map_err(|e| e.to_string())?;
                    let every = r.review_every.as_deref().unwrap_or("period");
                    writeln!(
                        out,
                        "score per {every}:\n{}\nas of {}",
                        score_table(&r.scores, color),
                        r.as_of
                    )
                    .map_err(|e| e.to_string())?;
                    for a in &standing {
                        writeln!(out, "{}", a.words()).map_err(|e| e.to_string())?;
                    }
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn score_table(rows: &[c::ScoreRow], color: Color) -> Table {
    let mut t = crate::render::table(color);
    t.set_header(["scorecard", "period", "score", "parts", ""]);
    for x in rows {
        let parts: Vec<String> = x
            .parts
            .iter()
            .map(|p| {
                format!(
                    "{}×{} {}",
                    p.weight,
                    p.id,
                    p.score.map(percent_floor).unwrap_or_else(|| "—".into())
                )
            })
            .collect();
        t.add_row(vec![
            Cell::new(&x.scorecard),
            Cell::new(&x.period),
            Cell::new(x.score.map(percent_floor).unwrap_or_else(|| "—".into()))
                .set_alignment(CellAlignment::Right),
            Cell::new(parts.join(", ")),
            Cell::new(if x.complete { "" } else { "so far" }),
        ]);
    }
    t
}
