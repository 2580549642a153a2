//! `yardstick action add|list|close`: corrective actions against a KPI's
//! miss (and a cause from `why`), kept in the state store, each shown with
//! the KPI and the cause's segment before and after.

use std::io::Write;
use std::process::ExitCode;

use yardstick_core::format;
use yardstick_engine::why::effect::{ActionScope, Verdict};
use yardstick_store::{Action, Close, NewAction, Store};
use yardstick_workspace::actions::{Listed, cause_text, entity_text, judged, next_period};

use crate::Format;
use crate::args::{AsOf, Db, ProjectOpt};
use crate::check::runtime;
use crate::render::Color;

/// `yardstick action`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(subcommand)]
    pub(crate) command: Sub,
}

#[derive(Debug, clap::Subcommand)]
pub(crate) enum Sub {
    /// Record an action against a KPI's period (and a cause from `why`).
    Add(AddArgs),
    /// List actions with the KPI and the cause's segment before and after.
    List(ListArgs),
    /// Close an action, saying what came of it.
    Close(CloseArgs),
}

#[derive(Debug, clap::Args)]
pub(crate) struct AddArgs {
    /// KPI id.
    pub(crate) kpi: String,
    /// The period the action answers, e.g. 2026-05.
    pub(crate) period: String,
    /// What will be done.
    #[arg(long)]
    pub(crate) title: String,
    /// Who does it.
    #[arg(long)]
    pub(crate) owner: String,
    /// By when (YYYY-MM-DD).
    #[arg(long)]
    pub(crate) due: String,
    /// The cause's segment, column=value (repeatable or comma-separated), as `why` names it.
    #[arg(long, value_delimiter = ',')]
    pub(crate) cause: Vec<String>,
    /// Entity of a for_each KPI, as column=value (repeatable).
    #[arg(long)]
    pub(crate) entity: Vec<String>,
    /// Periods its effect is judged in: FROM or FROM..TO (default: the next period).
    #[arg(long)]
    pub(crate) judge: Option<String>,
    #[command(flatten)]
    pub(crate) project: ProjectOpt,
    #[command(flatten)]
    pub(crate) store: Db,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub(crate) format: Format,
}

#[derive(Debug, clap::Args)]
pub(crate) struct ListArgs {
    /// Only this KPI's actions.
    #[arg(long)]
    pub(crate) kpi: Option<String>,
    #[command(flatten)]
    pub(crate) project: ProjectOpt,
    #[command(flatten)]
    pub(crate) at: AsOf,
    #[command(flatten)]
    pub(crate) store: Db,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub(crate) format: Format,
}

#[derive(Debug, clap::Args)]
pub(crate) struct CloseArgs {
    /// Action number, as `action list` shows it.
    pub(crate) id: i64,
    /// What came of it.
    #[arg(long)]
    pub(crate) outcome: String,
    #[command(flatten)]
    pub(crate) project: ProjectOpt,
    #[command(flatten)]
    pub(crate) store: Db,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub(crate) format: Format,
}

pub(crate) fn run(a: Args, color: Color) -> Result<ExitCode, String> {
    match a.command {
        Sub::Add(x) => add(x, color),
        Sub::List(x) => list(x, color),
        Sub::Close(x) => close(x),
    }
}

fn add(a: AddArgs, color: Color) -> Result<ExitCode, String> {
    let rt = runtime()?;
    let Some(ws) = crate::eval::open(&rt, &a.project.dir, a.store.db.as_deref(), color)? else {
        return Ok(crate::fault::project());
    };
    let project = &ws.loaded().project;
    if chrono::NaiveDate::parse_from_str(&a.due, "%Y-%m-%d").is_err() {
        return Err(format!("--due {}: not a date (YYYY-MM-DD)", a.due));
    }
    let cause: Vec<(String, Option<String>)> = crate::eval::entity_args(&a.cause, "region=EU")?
        .into_iter()
        .map(|(k, v)| (k, Some(v)))
        .collect();
    let entity = crate::eval::entity_args(&a.entity, "salesperson=Ana")?;
    let (judge_from, judge_to) = match a.judge.as_deref() {
        Some(j) => match j.split_once("..") {
            Some((f, t)) => (f.to_string(), t.to_string()),
            None => (j.to_string(), j.to_string()),
        },
        None => {
            let next = next_period(project, &a.period)
                .ok_or_else(|| format!("`{}` is not a period label such as 2026-05", a.period))?;
            (next.clone(), next)
        }
    };
    let scope = ActionScope {
        kpi: &a.kpi,
        entity: &entity,
        period: &a.period,
        cause: &cause,
        judge_from: &judge_from,
        judge_to: &judge_to,
    };
    // Judged once before it is stored: whatever it names must exist.
    if let Err(e) = rt.block_on(yardstick_workspace::actions::judge(
        project,
        ws.catalog(),
        &scope,
        chrono::Utc::now(),
    )) {
        return Ok(crate::fault::eval_error(e));
    }
    let cause_json = cause_text(&cause);
    let entity_text = entity_text(&entity);
    let url = crate::server::store_url(&a.project.dir, a.store.db.as_deref())?;
    let stored = rt.block_on(async {
        let store = Store::open(&url).await.map_err(|e| e.to_string())?;
        store
            .add_action(&NewAction {
                kpi: &a.kpi,
                entity: entity_text.as_deref(),
                period: &a.period,
                cause: cause_json.as_deref(),
                title: &a.title,
                owner: &a.owner,
                due: &a.due,
                judge_from: &judge_from,
                judge_to: &judge_to,
                actor: "cli",
            })
            .await
            .map_err(|e| e.to_string())
    })?;
    let listed = rt.block_on(judged(project, ws.catalog(), vec![stored], chrono::Utc::now()));
    print(&listed, a.format, project)
}

fn list(a: ListArgs, color: Color) -> Result<ExitCode, String> {
    let rt = runtime()?;
    let Some(ws) = crate::eval::open(&rt, &a.project.dir, a.store.db.as_deref(), color)? else {
        return Ok(crate::fault::project());
    };
    let project = &ws.loaded().project;
    let as_of = a.at.instant(project.settings.timezone)?;
    let url = crate::server::store_url(&a.project.dir, a.store.db.as_deref())?;
    let listed = rt.block_on(async {
        let store = Store::open(&url).await.map_err(|e| e.to_string())?;
        let actions: Vec<Action> = store
            .actions()
            .await
            .map_err(|e| e.to_string())?
            .into_iter()
            .filter(|x| a.kpi.as_deref().is_none_or(|k| k == x.kpi))
            .collect();
        Ok::<_, String>(judged(project, ws.catalog(), actions, as_of).await)
    })?;
    print(&listed, a.format, project)
}

fn close(a: CloseArgs) -> Result<ExitCode, String> {
    let rt = runtime()?;
    let url = crate::server::store_url(&a.project.dir, a.store.db.as_deref())?;
    let closed = rt.block_on(async {
        let store = Store::open(&url).await.map_err(|e| e.to_string())?;
        store
            .close_action(a.id, "cli", &a.outcome)
            .await
            .map_err(|e| e.to_string())
    })?;
    let mut out = std::io::stdout().lock();
    let io = |e: std::io::Error| format!("cannot write output: {e}");
    match closed {
        Close::Closed(x) => {
            match a.format {
                Format::Json => writeln!(
                    out,
                    "{}",
                    serde_json::to_string_pretty(&x).map_err(|e| e.to_string())?
                ),
                Format::Text => writeln!(
                    out,
                    "Closed action #{} on `{}` {}: {}",
                    x.id, x.kpi, x.period, a.outcome
                ),
            }
            .map_err(io)?;
            Ok(ExitCode::SUCCESS)
        }
        Close::Unknown => Err(format!(
            "there is no action #{}; `yardstick action list` shows them",
            a.id
        )),
        Close::AlreadyClosed(x) => Err(format!(
            "action #{} was closed already: {}",
            x.id,
            x.outcome.unwrap_or_default()
        )),
    }
}

fn verdict(v: Verdict) -> &'static str {
    match v {
        Verdict::Recovered => "recovered",
        Verdict::NotRecovered => "not recovered",
        Verdict::Pending => "pending (no judged period is complete yet)",
    }
}

fn print(listed: &[Listed], f: Format, project: &yardstick_core::Project) -> Result<ExitCode, String> {
    let mut out = std::io::stdout().lock();
    let io = |e: std::io::Error| format!("cannot write output: {e}");
    match f {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, listed).map_err(|e| e.to_string())?;
            writeln!(out).map_err(io)?;
        }
        Format::Text => {
            if listed.is_empty() {
                writeln!(out, "No actions recorded. Add one with `yardstick action add KPI PERIOD --title … --owner … --due …`.")
                    .map_err(io)?;
            }
            for l in listed {
                write!(out, "{}", text(l, project)).map_err(io)?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn text(l: &Listed, project: &yardstick_core::Project) -> String {
    let a = l;
    let currency = project.settings.currency.as_deref();
    let unit = project.kpis.get(&a.kpi).and_then(|k| k.display_unit());
    let segment = a
        .cause
        .iter()
        .flatten()
        .map(|(k, v)| format!("{k}={}", v.as_deref().unwrap_or("(empty)")))
        .collect::<Vec<_>>()
        .join(" ∧ ");
    let state = match &a.outcome {
        Some(o) => format!("closed: {o}"),
        None => "open".to_string(),
    };
    let mut s = format!(
        "#{} {} {}{}{} — {} (owner {}, due {}) [{state}]\n",
        a.id,
        a.kpi,
        a.period,
        a.entity.as_ref().map(|e| format!(" {e}")).unwrap_or_default(),
        if segment.is_empty() {
            String::new()
        } else {
            format!(" · {segment}")
        },
        a.title,
        a.owner,
        a.due
    );
    match (&l.effect, &l.problem) {
        (Some(e), _) => {
            let v = |x: Option<f64>| format::value_or_dash(x, unit, currency);
            let steps = std::iter::once(&e.before_miss)
                .chain(std::iter::once(&e.miss))
                .chain(&e.after)
                .map(|j| {
                    let st = j.status.map(|s| format!(" {s}")).unwrap_or_default();
                    format!("{} {}{st}", j.period, v(j.value))
                })
                .collect::<Vec<_>>()
                .join(" → ");
            s += &format!("    KPI: {steps}: {}\n", verdict(e.kpi));
            if let Some(sv) = e.segment {
                let steps = std::iter::once(&e.before_miss)
                    .chain(std::iter::once(&e.miss))
                    .chain(&e.after)
                    .map(|j| format!("{} {}", j.period, v(j.segment)))
                    .collect::<Vec<_>>()
                    .join(" → ");
                s += &format!("    {segment}: {steps}: {}\n", verdict(sv));
            }
        }
        (None, Some(p)) => s += &format!("    cannot be judged: {p}\n"),
        (None, None) => {}
    }
    s
}
