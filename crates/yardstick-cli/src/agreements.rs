//! Renegotiation (`workspace::proposals`): `yardstick propose` a new
//! target from an effective period, `accept` or `reject` it as another
//! party (`accept --write` writes the amendment into the definitions), and
//! `yardstick agreements`: every agreement's standing, its versions and
//! signatures, and its proposals.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use comfy_table::Cell;
use serde_json::json;
use yardstick_core::terms::{agreements, terms};
use yardstick_store::{Proposal, Store};
use yardstick_workspace::agreements::{complete, versions};
use yardstick_workspace::proposals::{Amends, ProposalError, Proposed, amendment, decide, listed, propose};

use crate::Format;
use crate::args::{AsOf, Db, ProjectOpt};
use crate::render::Color;
use crate::terms::definitions;

/// `yardstick propose`.
#[derive(Debug, clap::Args)]
pub(crate) struct ProposeArgs {
    /// Contract, incentive or partnership id.
    pub(crate) id: String,
    /// The contract's clause whose target changes.
    #[arg(long, conflicts_with = "kpi", required_unless_present = "kpi")]
    pub(crate) clause: Option<String>,
    /// The partnership's or incentive plan's KPI whose target changes.
    #[arg(long)]
    pub(crate) kpi: Option<String>,
    /// The new target, e.g. ">= 99.9%".
    #[arg(long)]
    pub(crate) target: String,
    /// A KPI's new warning threshold beside it, e.g. ">= 99%" (not for clauses).
    #[arg(long)]
    pub(crate) warning: Option<String>,
    /// The first period it applies to: a month (2026-07) or the first day of a period.
    #[arg(long = "from")]
    pub(crate) effective: String,
    /// Why: a `why` finding, a persistent miss, a changed market…
    #[arg(long)]
    pub(crate) reason: String,
    /// The party proposing: one of the agreement's parties.
    #[arg(long = "as")]
    pub(crate) party: String,
    #[command(flatten)]
    pub(crate) as_of: AsOf,
    #[command(flatten)]
    pub(crate) project: ProjectOpt,
    #[command(flatten)]
    pub(crate) store: Db,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub(crate) format: Format,
}

/// `yardstick accept` and `yardstick reject`.
#[derive(Debug, clap::Args)]
pub(crate) struct DecideArgs {
    /// The proposal's number (`yardstick agreements ID` lists them).
    pub(crate) proposal: i64,
    /// The party deciding: a party to the agreement other than the proposer.
    #[arg(long = "as")]
    pub(crate) party: String,
    /// Why (required to reject).
    #[arg(long, default_value = "")]
    pub(crate) comment: String,
    /// Accepting: also write the amendment into the definitions file.
    #[arg(long)]
    pub(crate) write: bool,
    #[command(flatten)]
    pub(crate) project: ProjectOpt,
    #[command(flatten)]
    pub(crate) store: Db,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub(crate) format: Format,
}

/// `yardstick agreements`.
#[derive(Debug, clap::Args)]
pub(crate) struct ListArgs {
    /// One agreement: its versions, signatures and proposals.
    pub(crate) id: Option<String>,
    #[command(flatten)]
    pub(crate) project: ProjectOpt,
    #[command(flatten)]
    pub(crate) store: Db,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub(crate) format: Format,
}

fn open_store(dir: &Path, db: Option<&str>) -> Result<(tokio::runtime::Runtime, Store), String> {
    let rt = crate::check::runtime()?;
    let url = crate::server::store_url(dir, db)?;
    let store = rt.block_on(Store::open(&url)).map_err(|e| e.to_string())?;
    Ok((rt, store))
}

fn out_json(v: &serde_json::Value) -> Result<(), String> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, v).map_err(|e| e.to_string())?;
    writeln!(out).map_err(|e| format!("cannot write output: {e}"))
}

/// A refusal: the user's mistake (exit 2), or the store's fault.
fn refused(e: ProposalError) -> Result<ExitCode, String> {
    match e {
        ProposalError::Store(e) => Err(e.to_string()),
        e => {
            eprintln!("error: {e}");
            Ok(crate::fault::usage())
        }
    }
}

/// SMART review of a proposed target against its KPI's own history.
fn review(dir: &Path, kpi: &str, target: &str, color: Color) -> Vec<String> {
    let Ok(threshold) = yardstick_core::model::Threshold::parse(target) else {
        return Vec::new();
    };
    let sel = crate::eval::Selection {
        kpis: vec![kpi.to_string()],
        ..Default::default()
    };
    match crate::eval::evaluate(dir, sel, color) {
        Ok(crate::eval::Evaluated::Done(ws, ev, _)) => {
            yardstick_engine::history::review_target(ws.project(), &ev, kpi, &threshold)
                .into_iter()
                .collect()
        }
        _ => Vec::new(),
    }
}

pub(crate) fn run_propose(a: ProposeArgs, color: Color) -> Result<ExitCode, String> {
    let Some(loaded) = definitions(&a.project.dir, color)? else {
        return Ok(crate::fault::project());
    };
    let project = &loaded.project;
    let amends = match (&a.clause, &a.kpi) {
        (Some(c), _) => Amends::Clause(c.clone()),
        (None, Some(k)) => Amends::Kpi(k.clone()),
        (None, None) => return Err("name --clause or --kpi".into()),
    };
    let tz = project.settings.timezone;
    let today = a.as_of.instant(tz)?.with_timezone(&tz).date_naive();
    let p = Proposed {
        amends: amends.clone(),
        target: a.target.clone(),
        warning: a.warning.clone(),
        effective: a.effective.clone(),
        reason: a.reason.clone(),
    };
    let (rt, store) = open_store(&a.project.dir, a.store.db.as_deref())?;
    let made = rt.block_on(propose(project, &store, &a.id, &p, &a.party, "cli", today));
    let made = match made {
        Ok(m) => m,
        Err(e) => return refused(e),
    };
    let kpi = match &amends {
        Amends::Kpi(k) => Some(k.clone()),
        Amends::Clause(c) => project
            .contracts
            .get(&a.id)
            .and_then(|x| x.clauses.iter().find(|x| &x.id.value == c))
            .and_then(|x| x.kpi.as_ref())
            .map(|k| k.value.clone()),
    };
    let warnings = kpi.map_or_else(Vec::new, |k| review(&a.project.dir, &k, &made.value, color));
    if a.format == Format::Json {
        let mut v = serde_json::to_value(&made).map_err(|e| e.to_string())?;
        v["warnings"] = json!(warnings);
        out_json(&v)?;
        return Ok(ExitCode::SUCCESS);
    }
    for w in &warnings {
        eprintln!("warning: {w}");
    }
    let others: Vec<String> = terms(project, &a.id)
        .map(|t| t.parties.into_iter().filter(|p| p != &a.party).collect())
        .unwrap_or_default();
    println!(
        "proposal #{} on `{}`: {} {} target {} from {} ({})\n  awaiting {}: yardstick accept {} --as \"…\" (or reject)",
        made.id,
        made.agreement,
        made.subject_kind,
        made.subject,
        made.value,
        made.effective,
        made.reason,
        others.join(" or "),
        made.id
    );
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn run_decide(a: DecideArgs, accept: bool, color: Color) -> Result<ExitCode, String> {
    let Some(loaded) = definitions(&a.project.dir, color)? else {
        return Ok(crate::fault::project());
    };
    if !accept && a.comment.trim().is_empty() {
        eprintln!("error: a rejection needs --comment: say why, so the proposer can answer it");
        return Ok(crate::fault::usage());
    }
    if !accept && a.write {
        eprintln!("error: --write writes an accepted amendment; a rejection changes nothing");
        return Ok(crate::fault::usage());
    }
    let project = &loaded.project;
    let (rt, store) = open_store(&a.project.dir, a.store.db.as_deref())?;
    let decided = rt.block_on(decide(
        project, &store, a.proposal, accept, &a.party, "cli", &a.comment,
    ));
    let p = match decided {
        Ok(p) => p,
        Err(e) => return refused(e),
    };
    if !accept {
        if a.format == Format::Json {
            out_json(&serde_json::to_value(&p).map_err(|e| e.to_string())?)?;
        } else {
            println!("proposal #{} rejected by {}: {}", p.id, a.party, a.comment);
        }
        return Ok(ExitCode::SUCCESS);
    }
    // Where a plain target was already in force: the KPI's first period.
    let since = yardstick_workspace::proposals::kpi_of_proposal(project, &p).and_then(|k| {
        let sel = crate::eval::Selection {
            kpis: vec![k.clone()],
            ..Default::default()
        };
        match crate::eval::evaluate(&a.project.dir, sel, color) {
            Ok(crate::eval::Evaluated::Done(_, ev, _)) => yardstick_workspace::proposals::earliest(&ev, &k),
            _ => None,
        }
    });
    let amended = amendment(project, &loaded.files, &p, since);
    let mut written = false;
    if a.write
        && let Ok(m) = &amended
    {
        let path = a.project.dir.join(&m.file);
        std::fs::write(&path, &m.after).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        written = true;
    }
    if a.format == Format::Json {
        let mut v = serde_json::to_value(&p).map_err(|e| e.to_string())?;
        match &amended {
            Ok(m) => v["amendment"] = serde_json::to_value(m).map_err(|e| e.to_string())?,
            Err(e) => v["amendment_error"] = json!(e.to_string()),
        }
        v["written"] = json!(written);
        out_json(&v)?;
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "proposal #{} accepted by {}: {} `{}` target {} from {}",
        p.id, a.party, p.subject_kind, p.subject, p.value, p.effective
    );
    match amended {
        Ok(m) if written => println!(
            "wrote the amendment into {}: commit it, then every party signs the amended terms (yardstick sign {} --as …)",
            m.file.display(),
            p.agreement
        ),
        Ok(m) => print!(
            "the amendment (apply with --write, or `git apply`), then every party signs the amended terms:\n{}",
            m.patch
        ),
        Err(e) => eprintln!("note: the amendment was not written: {e}"),
    }
    Ok(ExitCode::SUCCESS)
}

fn proposal_line(p: &Proposal) -> String {
    let decided = match (&p.decided_party, &p.comment) {
        (Some(by), Some(c)) if !c.is_empty() => format!(" by {by}: {c}"),
        (Some(by), _) => format!(" by {by}"),
        _ => String::new(),
    };
    let warning = p
        .warning
        .as_ref()
        .map(|w| format!(" (warning {w})"))
        .unwrap_or_default();
    format!(
        "#{} {}{decided} — {} proposes {} `{}` target {}{warning} from {} ({})",
        p.id, p.status, p.party, p.subject_kind, p.subject, p.value, p.effective, p.reason
    )
}

pub(crate) fn run_list(a: ListArgs, color: Color) -> Result<ExitCode, String> {
    let Some(loaded) = definitions(&a.project.dir, color)? else {
        return Ok(crate::fault::project());
    };
    let project = &loaded.project;
    let ids: Vec<String> = match &a.id {
        Some(id) if terms(project, id).is_some() => vec![id.clone()],
        Some(id) => {
            eprintln!("error: no contract, incentive or partnership `{id}`");
            return Ok(crate::fault::usage());
        }
        None => agreements(project).into_iter().map(|(_, id)| id).collect(),
    };
    let (rt, store) = open_store(&a.project.dir, a.store.db.as_deref())?;
    let mut rows = Vec::new();
    for id in &ids {
        let Some(t) = terms(project, id) else { continue };
        let (agreement, proposals) = rt
            .block_on(async {
                Ok::<_, yardstick_store::StoreError>((
                    complete(t, &store).await?,
                    listed(project, &loaded.files, None, &store, Some(id)).await?,
                ))
            })
            .map_err(|e| e.to_string())?;
        rows.push((agreement, proposals));
    }
    if a.format == Format::Json {
        let v: Vec<serde_json::Value> = rows
            .iter()
            .map(|(ag, ps)| {
                json!({
                    "id": ag.terms.id,
                    "kind": ag.terms.subject.name(),
                    "parties": ag.terms.parties,
                    "standing": ag.standing(),
                    "words": ag.words(),
                    "versions": versions(ag),
                    "signatures": ag.signatures,
                    "proposals": ps,
                })
            })
            .collect();
        out_json(&if a.id.is_some() { v[0].clone() } else { json!(v) })?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut out = std::io::stdout().lock();
    let io = |e: std::io::Error| format!("cannot write output: {e}");
    if a.id.is_none() {
        let mut t = crate::render::table(color);
        t.set_header(vec!["agreement", "kind", "parties", "standing", "open proposals"]);
        for (ag, ps) in &rows {
            t.add_row(vec![
                Cell::new(&ag.terms.id),
                Cell::new(ag.terms.subject.name()),
                Cell::new(ag.terms.parties.join(", ")),
                Cell::new(if ag.agreed {
                    "signed by every party"
                } else {
                    "unsigned terms"
                }),
                Cell::new(ps.iter().filter(|p| p.proposal.status == "open").count()),
            ]);
        }
        writeln!(out, "{t}").map_err(io)?;
        return Ok(ExitCode::SUCCESS);
    }
    let (ag, ps) = &rows[0];
    writeln!(out, "{}", ag.words()).map_err(io)?;
    writeln!(out, "versions signed:").map_err(io)?;
    let vs = versions(ag);
    if vs.is_empty() {
        writeln!(out, "  none yet").map_err(io)?;
    }
    for v in vs {
        let now = if v.current { " (in force now)" } else { "" };
        writeln!(out, "  {}{now}: {}", v.fingerprint, v.signed_by.join(", ")).map_err(io)?;
    }
    writeln!(out, "proposals:").map_err(io)?;
    if ps.is_empty() {
        writeln!(out, "  none").map_err(io)?;
    }
    for p in ps {
        let written = if p.written { " (in the definitions)" } else { "" };
        writeln!(out, "  {}{written}", proposal_line(&p.proposal)).map_err(io)?;
    }
    Ok(ExitCode::SUCCESS)
}
