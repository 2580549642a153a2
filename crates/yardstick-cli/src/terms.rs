//! `yardstick terms`: what a contract, incentive plan or partnership is
//! judged by, in one canonical form, with its fingerprint
//! (`core::terms`) and who signed it (`workspace::agreements`); without
//! an id, every agreement. `yardstick sign`: a party's signature of the
//! terms now in force.

use std::io::Write;
use std::process::ExitCode;

use comfy_table::Cell;
use serde_json::Value;
use yardstick_core::terms::{Terms, agreements, terms};
use yardstick_store::Store;
use yardstick_workspace::agreements::{Agreement, SignError};

use crate::Format;
use crate::args::{Db, ProjectOpt};
use crate::check::print_diagnostics;
use crate::render::Color;

/// `yardstick terms`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Contract, incentive or partnership id (none: every agreement).
    pub(crate) id: Option<String>,
    #[command(flatten)]
    pub(crate) project: ProjectOpt,
    #[command(flatten)]
    pub(crate) store: Db,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub(crate) format: Format,
}

/// `yardstick sign`.
#[derive(Debug, clap::Args)]
pub(crate) struct SignArgs {
    /// Contract, incentive or partnership id.
    pub(crate) id: String,
    /// The party signing: one of the agreement's parties.
    #[arg(long = "as")]
    pub(crate) party: String,
    #[command(flatten)]
    pub(crate) project: ProjectOpt,
    #[command(flatten)]
    pub(crate) store: Db,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub(crate) format: Format,
}

/// The definitions, or `None` after printing their errors.
pub(crate) fn definitions(
    dir: &std::path::Path,
    color: Color,
) -> Result<Option<yardstick_core::Loaded>, String> {
    let loaded = yardstick_workspace::Workspace::load(dir).map_err(|e| e.to_string())?;
    if loaded.diagnostics.has_errors() {
        print_diagnostics(&loaded, loaded.diagnostics.iter().cloned().collect(), color)?;
        eprintln!("error: the definitions have errors; their terms are not final");
        return Ok(None);
    }
    Ok(Some(loaded))
}

/// SMART review before a signature: the agreement's KPI targets judged by
/// their own history (`engine::history`: never met, or always met by a
/// wide margin, over the last 12 periods), printed as warnings with the
/// figures. The signature is recorded either way.
fn review(
    dir: &std::path::Path,
    project: &yardstick_core::Project,
    id: &str,
    color: Color,
) -> Vec<yardstick_core::Diagnostic> {
    let Some(t) = terms(project, id) else {
        return Vec::new();
    };
    let kpis: Vec<String> = t.terms["measures"]
        .as_object()
        .map(|m| {
            m.keys()
                .filter(|k| project.kpis.contains_key(*k))
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    if kpis.is_empty() {
        return Vec::new();
    }
    let sel = crate::eval::Selection {
        kpis: kpis.clone(),
        ..Default::default()
    };
    match crate::eval::evaluate(dir, sel, color) {
        Ok(crate::eval::Evaluated::Done(ws, ev, _)) => {
            let mut mine = ws.project().clone();
            mine.kpis.retain(|k, _| kpis.contains(k));
            let d = yardstick_engine::history::target_history(&mine, &ev);
            if !d.is_empty() {
                let _ = print_diagnostics(ws.loaded(), d.iter().cloned().collect(), color);
                eprintln!(
                    "note: targets should be realistic and agreed upon; the signature is recorded all the same"
                );
            }
            d.into_vec()
        }
        _ => {
            eprintln!("note: the targets were not reviewed against their history: the data did not evaluate");
            Vec::new()
        }
    }
}

pub(crate) fn sign(a: SignArgs, color: Color) -> Result<ExitCode, String> {
    let Some(loaded) = definitions(&a.project.dir, color)? else {
        return Ok(crate::fault::project());
    };
    let warnings = if terms(&loaded.project, &a.id).is_some() {
        review(&a.project.dir, &loaded.project, &a.id, color)
    } else {
        Vec::new()
    };
    let rt = crate::check::runtime()?;
    let url = crate::server::store_url(&a.project.dir, a.store.db.as_deref())?;
    let signed = rt.block_on(async {
        let store = Store::open(&url).await.map_err(|e| e.to_string())?;
        Ok::<_, String>(
            yardstick_workspace::agreements::sign(&loaded.project, &store, &a.id, &a.party, "cli").await,
        )
    })?;
    match signed {
        Ok(x) if a.format == Format::Json => {
            let mut v = serde_json::to_value(&x).map_err(|e| e.to_string())?;
            v["warnings"] = serde_json::json!(
                warnings
                    .iter()
                    .map(|d| serde_json::json!({"code": d.code, "message": d.message}))
                    .collect::<Vec<_>>()
            );
            let mut out = std::io::stdout().lock();
            serde_json::to_writer_pretty(&mut out, &v).map_err(|e| e.to_string())?;
            writeln!(out).map_err(|e| format!("cannot write output: {e}"))?;
            Ok(ExitCode::SUCCESS)
        }
        Ok(x) => print(&[x], a.format, true),
        Err(SignError::Store(e)) => Err(e.to_string()),
        Err(e) => {
            eprintln!("error: {e}");
            Ok(crate::fault::usage())
        }
    }
}

pub(crate) fn run(a: Args, color: Color) -> Result<ExitCode, String> {
    let Some(loaded) = definitions(&a.project.dir, color)? else {
        return Ok(crate::fault::project());
    };
    let project = &loaded.project;
    let all: Vec<Terms> = match &a.id {
        Some(id) => match terms(project, id) {
            Some(t) => vec![t],
            None => {
                let known: Vec<String> = agreements(project).into_iter().map(|(_, id)| id).collect();
                eprintln!(
                    "error: no contract, incentive or partnership `{id}`; known: {}",
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                );
                return Ok(crate::fault::usage());
            }
        },
        None => agreements(project)
            .into_iter()
            .filter_map(|(_, id)| terms(project, &id))
            .collect(),
    };
    // Signatures, when the project has a store (reading never creates one).
    let ids: Vec<String> = all.iter().map(|t| t.id.clone()).collect();
    let listed: Vec<Agreement> = crate::check::runtime()?.block_on(yardstick_workspace::agreements::read(
        &a.project.dir,
        a.store.db.as_deref(),
        project,
        &ids,
    ))?;
    if a.id.is_some() || a.format == Format::Json {
        return print(&listed, a.format, a.id.is_some());
    }
    let mut t = crate::render::table(color);
    t.set_header(vec!["agreement", "kind", "parties", "signed", "fingerprint"]);
    for x in &listed {
        t.add_row(vec![
            Cell::new(&x.terms.id),
            Cell::new(x.terms.subject.name()),
            Cell::new(x.terms.parties.join(", ")),
            Cell::new(signed_words(x)),
            Cell::new(&x.terms.fingerprint),
        ]);
    }
    let mut out = std::io::stdout().lock();
    writeln!(out, "{t}").map_err(|e| format!("cannot write output: {e}"))?;
    Ok(ExitCode::SUCCESS)
}

/// One agreement (`one`) or a list, as text or JSON.
fn print(listed: &[Agreement], format: Format, one: bool) -> Result<ExitCode, String> {
    let mut out = std::io::stdout().lock();
    let io = |e: std::io::Error| format!("cannot write output: {e}");
    match format {
        Format::Json if one => {
            serde_json::to_writer_pretty(&mut out, &listed[0]).map_err(|e| e.to_string())?;
            writeln!(out).map_err(io)?;
        }
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, listed).map_err(|e| e.to_string())?;
            writeln!(out).map_err(io)?;
        }
        Format::Text => {
            for x in listed {
                write!(out, "{}", text(x)).map_err(io)?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Who signed the terms in force, in words.
fn signed_words(x: &Agreement) -> String {
    if x.agreed {
        "by every party".to_string()
    } else if x.signed.is_empty() {
        "not yet".to_string()
    } else {
        format!("by {} (not {})", x.signed.join(", "), x.unsigned.join(", "))
    }
}

/// The terms as indented lines, empty values left out, then signatures.
fn text(x: &Agreement) -> String {
    let t = &x.terms;
    let mut o = format!(
        "{} {} between {}\n  fingerprint {}\n  signed {}{}\n",
        t.subject.name(),
        t.id,
        if t.parties.is_empty() {
            "(no parties named)".to_string()
        } else {
            t.parties.join(" and ")
        },
        t.fingerprint,
        signed_words(x),
        x.last_agreed
            .as_ref()
            .map(|f| format!("; the last terms every party signed: {f}"))
            .unwrap_or_default()
    );
    if let Value::Object(m) = &t.terms {
        for key in ["calendar", "rules", "measures", "sources"] {
            if let Some(v) = m.get(key) {
                o += &format!("  {key}:\n");
                lines(v, 2, &mut o);
            }
        }
    }
    if !x.changes.is_empty() {
        o += "  changed since every party signed:\n";
        let show = |v: &Option<Value>| v.as_ref().map_or("(none)".to_string(), scalar);
        for c in &x.changes {
            o += &format!("    {}: {} → {}\n", c.path, show(&c.before), show(&c.after));
        }
    }
    if !x.signatures.is_empty() {
        o += "  signatures:\n";
        for s in &x.signatures {
            let at = chrono::DateTime::from_timestamp_micros(s.signed_at)
                .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                .unwrap_or_default();
            o += &format!(
                "    {} at {at} (recorded by {}){}\n",
                s.party,
                s.signed_by,
                if s.fingerprint == t.fingerprint {
                    ""
                } else {
                    ", of earlier terms"
                }
            );
        }
    }
    o
}

fn lines(v: &Value, depth: usize, o: &mut String) {
    let pad = "  ".repeat(depth);
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                match x {
                    Value::Null => {}
                    Value::Array(xs) if xs.is_empty() => {}
                    Value::Object(_) => {
                        *o += &format!("{pad}{k}:\n");
                        lines(x, depth + 1, o);
                    }
                    Value::Array(xs) if xs.iter().all(|y| !y.is_object()) => {
                        *o += &format!(
                            "{pad}{k}: {}\n",
                            xs.iter().map(scalar).collect::<Vec<_>>().join(", ")
                        );
                    }
                    Value::Array(xs) => {
                        *o += &format!("{pad}{k}:\n");
                        for y in xs {
                            *o += &format!("{pad}  -\n");
                            lines(y, depth + 2, o);
                        }
                    }
                    _ => *o += &format!("{pad}{k}: {}\n", scalar(x)),
                }
            }
        }
        other => *o += &format!("{pad}{}\n", scalar(other)),
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(xs) => format!("[{}]", xs.iter().map(scalar).collect::<Vec<_>>().join(", ")),
        other => other.to_string(),
    }
}
