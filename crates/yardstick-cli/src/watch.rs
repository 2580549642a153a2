//! `yardstick watch` (anomalies and changepoints on daily series) and
//! `yardstick alerts` (the alert rules: which fire now, since when).

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use comfy_table::{Cell, CellAlignment, Color as TColor};
use serde::Serialize;
use yardstick_engine::eval::EvalOptions;

use crate::Format;
use crate::args::{AsOf, ProjectDir};
use crate::check::{print_diagnostics, runtime};
use crate::render::Color;
use yardstick_workspace::Workspace;

/// The project opened with its catalog, or the exit code after reporting
/// why not.
fn open(
    rt: &tokio::runtime::Runtime,
    dir: &Path,
    color: Color,
) -> Result<Result<Workspace, ExitCode>, String> {
    let Some(ws) = crate::eval::open(rt, dir, None, color)? else {
        return Ok(Err(crate::fault::project()));
    };
    if ws.source_diagnostics().has_errors() {
        print_diagnostics(
            ws.loaded(),
            ws.source_diagnostics().iter().cloned().collect(),
            color,
        )?;
        return Ok(Err(crate::fault::project()));
    }
    Ok(Ok(ws))
}

/// `yardstick watch`.
#[derive(Debug, clap::Args)]
pub(crate) struct WatchArgs {
    #[command(flatten)]
    pub(crate) project: ProjectDir,
    /// Only this KPI (repeatable).
    #[arg(long = "kpi", value_name = "ID")]
    pub(crate) kpis: Vec<String>,
    /// Days to look back.
    #[arg(long, default_value_t = 63)]
    pub(crate) days: u32,
    #[command(flatten)]
    pub(crate) at: AsOf,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub(crate) format: Format,
}

pub(crate) fn watch(a: WatchArgs, color: Color) -> Result<ExitCode, String> {
    let rt = runtime()?;
    let ws = match open(&rt, &a.project.dir, color)? {
        Ok(ws) => ws,
        Err(code) => return Ok(code),
    };
    let (loaded, catalog) = (ws.loaded(), ws.catalog());
    let as_of = a.at.instant(loaded.project.settings.timezone)?;
    let report = match rt.block_on(yardstick_engine::watch::watch_report(
        &loaded.project,
        catalog,
        as_of,
        a.days,
        &a.kpis,
    )) {
        Ok(w) => w,
        Err(e) => return Ok(crate::fault::eval_error(e)),
    };
    let warnings = &report.warnings;
    let mut out = std::io::stdout().lock();
    let io = |e: std::io::Error| format!("cannot write output: {e}");
    match a.format {
        Format::Json => {
            #[derive(Serialize)]
            struct Out<'a> {
                as_of: yardstick_core::time::Instant,
                days: u32,
                warnings: &'a [yardstick_engine::watch::Warning],
                without_data: &'a [String],
            }
            let body = Out {
                as_of: as_of.into(),
                days: a.days,
                warnings,
                without_data: &report.without_data,
            };
            serde_json::to_writer_pretty(&mut out, &body).map_err(|e| e.to_string())?;
            writeln!(out).map_err(io)?;
        }
        Format::Text if warnings.is_empty() => {
            let watched = if a.kpis.is_empty() {
                loaded.project.kpis.len()
            } else {
                a.kpis.len()
            };
            if report.without_data.len() < watched {
                writeln!(out, "No anomalies or changepoints in the last {} days.", a.days).map_err(io)?;
            }
        }
        Format::Text => {
            let mut t = crate::render::table(color);
            t.set_header(vec![
                "date", "kpi", "entity", "warning", "value", "expected", "change",
            ]);
            for w in warnings {
                // In the KPI's unit (shares and availability as percentages).
                let unit = loaded.project.kpis.get(&w.kpi).and_then(|k| k.display_unit());
                let currency = loaded.project.settings.currency.as_deref();
                let shown = |v: f64| yardstick_core::format::value(v, unit, currency);
                let entity = yardstick_engine::eval::entity_words(w.entity.as_ref());
                use yardstick_engine::watch::WarningKind;
                let kind = match (w.kind, w.score) {
                    (WarningKind::Anomaly, Some(z)) => format!("anomaly ({z:+.1} sd)"),
                    (WarningKind::Anomaly, None) => "anomaly".to_string(),
                    (WarningKind::Changepoint, _) => "level change".to_string(),
                };
                let mut change = Cell::new(format!(
                    "{}{}",
                    if w.magnitude >= 0.0 { "+" } else { "" },
                    shown(w.magnitude)
                ))
                .set_alignment(CellAlignment::Right);
                if color == Color::Always {
                    change = change.fg(if w.magnitude < 0.0 {
                        TColor::Red
                    } else {
                        TColor::Green
                    });
                }
                t.add_row(vec![
                    Cell::new(&w.date),
                    Cell::new(&w.kpi),
                    Cell::new(entity),
                    Cell::new(kind),
                    Cell::new(shown(w.value)).set_alignment(CellAlignment::Right),
                    Cell::new(shown(w.expected)).set_alignment(CellAlignment::Right),
                    change,
                ]);
            }
            writeln!(out, "{t}").map_err(io)?;
        }
    }
    if a.format == Format::Text && !report.without_data.is_empty() {
        writeln!(
            out,
            "No data in the last {} days for: {} (nothing to watch).",
            a.days,
            report.without_data.join(", ")
        )
        .map_err(io)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `yardstick alerts`.
#[derive(Debug, clap::Args)]
pub(crate) struct AlertsArgs {
    #[command(flatten)]
    pub(crate) project: ProjectDir,
    #[command(flatten)]
    pub(crate) at: AsOf,
    /// Deliver notices for changes and remember them in the store.
    #[arg(long)]
    pub(crate) notify: bool,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub(crate) format: Format,
}

/// One line of `yardstick alerts`.
#[derive(Debug, Serialize)]
struct AlertLine {
    alert: String,
    when: &'static str,
    subject: String,
    /// `firing` or `ok`.
    state: &'static str,
    instance: String,
    /// When the firing notice went out (from the store), if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    since: Option<String>,
    summary: String,
}

pub(crate) fn alerts(a: AlertsArgs, color: Color) -> Result<ExitCode, String> {
    let rt = runtime()?;
    let ws = match open(&rt, &a.project.dir, color)? {
        Ok(ws) => ws,
        Err(code) => return Ok(code),
    };
    let (loaded, catalog) = (ws.loaded(), ws.catalog());
    let p = &loaded.project;
    if p.alerts.is_empty() {
        eprintln!(
            "This project defines no alerts: add an [alert.ID] table (see the README's Alerts section)."
        );
        return Ok(ExitCode::SUCCESS);
    }
    let as_of = a.at.instant(loaded.project.settings.timezone)?;
    let opts = EvalOptions {
        as_of,
        from: None,
        to: None,
        kpis: yardstick_engine::alerts::kpis_watched(p),
        by: None,
        projections: true,
    };
    let firing = rt.block_on(async {
        let evaluation = if opts.kpis.is_empty() {
            yardstick_engine::Evaluation {
                as_of: as_of.into(),
                evaluations: Vec::new(),
            }
        } else {
            yardstick_engine::evaluate(p, catalog, &opts).await?
        };
        yardstick_engine::alerts::evaluate_firing(p, catalog, &evaluation, as_of).await
    });
    let firing = match firing {
        Ok(f) => f,
        Err(e) => return Ok(crate::fault::eval_error(e)),
    };
    // The store's memory of delivered notices: read when there is a store.
    let db = std::env::var("YARDSTICK_DB").ok();
    let url = crate::server::store_url(&a.project.dir, db.as_deref())?;
    let has_store = db.is_some() || a.project.dir.join(".yardstick").join("state.db").exists();
    let remembered = if has_store || a.notify {
        rt.block_on(async {
            let store = yardstick_store::Store::open(&url)
                .await
                .map_err(|e| e.to_string())?;
            if a.notify {
                let client = yardstick_workspace::alerts::client();
                let sent =
                    yardstick_workspace::alerts::deliver_changes(p, &store, &firing, as_of, &client).await?;
                for n in &sent {
                    eprintln!(
                        "{} {}: {}",
                        match n.kind {
                            yardstick_engine::alerts::NoticeKind::Firing => "sent firing",
                            yardstick_engine::alerts::NoticeKind::Resolved => "sent resolved",
                        },
                        n.alert,
                        n.summary
                    );
                }
            }
            let r = store.alerts_firing().await.map_err(|e| e.to_string());
            store.close().await;
            r
        })?
    } else {
        Vec::new()
    };
    let mut lines = Vec::new();
    for rule in p.alerts.values() {
        let (_, subject) = yardstick_engine::alerts::subject_of(p, rule);
        let mine: Vec<_> = firing.iter().filter(|f| f.alert == rule.id.value).collect();
        if mine.is_empty() {
            lines.push(AlertLine {
                alert: rule.id.value.clone(),
                when: rule.when.value.name(),
                subject,
                state: "ok",
                instance: String::new(),
                since: None,
                summary: String::new(),
            });
            continue;
        }
        for f in mine {
            let since = remembered
                .iter()
                .find(|r| r.alert == f.alert && r.instance == f.instance)
                .map(|r| r.since.clone());
            lines.push(AlertLine {
                alert: f.alert.clone(),
                when: rule.when.value.name(),
                subject: f.subject.clone(),
                state: "firing",
                instance: f.instance.clone(),
                since,
                summary: f.summary.clone(),
            });
        }
    }
    let mut out = std::io::stdout().lock();
    let io = |e: std::io::Error| format!("cannot write output: {e}");
    match a.format {
        Format::Json => {
            #[derive(Serialize)]
            struct Out<'a> {
                as_of: yardstick_core::time::Instant,
                alerts: &'a [AlertLine],
            }
            let body = Out {
                as_of: as_of.into(),
                alerts: &lines,
            };
            serde_json::to_writer_pretty(&mut out, &body).map_err(|e| e.to_string())?;
            writeln!(out).map_err(io)?;
        }
        Format::Text => {
            let mut t = crate::render::table(color);
            t.set_header(vec!["alert", "when", "watching", "state", "since", "what"]);
            for l in &lines {
                let mut state = Cell::new(if l.state == "firing" {
                    "▲ firing"
                } else {
                    "✓ ok"
                });
                if color == Color::Always {
                    state = state.fg(if l.state == "firing" {
                        TColor::Red
                    } else {
                        TColor::Green
                    });
                }
                t.add_row(vec![
                    Cell::new(&l.alert),
                    Cell::new(l.when),
                    Cell::new(&l.subject),
                    state,
                    Cell::new(l.since.as_deref().unwrap_or(if l.state == "firing" {
                        "not sent"
                    } else {
                        ""
                    })),
                    Cell::new(&l.summary),
                ]);
            }
            writeln!(out, "{t}").map_err(io)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
