//! `yardstick why`: why a KPI moved or missed in one period — the causes,
//! ranked, with a bar each.

use std::io::Write;
use std::process::ExitCode;

use comfy_table::{Cell, CellAlignment};
use yardstick_core::format;
use yardstick_core::why::search::Roots;
use yardstick_engine::why::{Stage, Vs, Why, WhyOptions};

use crate::Format;
use crate::args::{AsOf, ProjectOpt};
use crate::check::{print_diagnostics, runtime};
use crate::render::Color;

/// `yardstick why`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// KPI id.
    pub(crate) kpi: String,
    /// Period label: 2026-10, 2026-Q4, 2026-W42, 2026-10-14, …
    pub(crate) period: String,
    /// What to compare with: previous, year_ago, target, baseline or forecast.
    #[arg(long, default_value = "previous", value_parser = Vs::NAMES)]
    pub(crate) vs: String,
    /// Entity of a for_each KPI, as column=value (repeatable).
    #[arg(long)]
    pub(crate) entity: Vec<String>,
    /// Only rows where column=value (repeatable): look inside a segment.
    #[arg(long)]
    pub(crate) within: Vec<String>,
    /// Columns to split by, comma-separated (default: the KPI's dimensions
    /// and for_each columns).
    #[arg(long, value_delimiter = ',')]
    pub(crate) dimensions: Vec<String>,
    /// Most dimensions combined in one cause.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u8).range(1..=6))]
    pub(crate) depth: u8,
    /// Causes listed (the roots always are).
    #[arg(long, default_value_t = 10)]
    pub(crate) top: usize,
    /// What makes a cause a root: `explain` (the few that explain the gap)
    /// or `unusual` (every segment that moved unusually, however little of
    /// the gap it explains).
    #[arg(long, default_value = "explain", value_parser = ["explain", "unusual"])]
    pub(crate) roots: String,
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
    let opts = WhyOptions {
        kpi: a.kpi.clone(),
        period: a.period.clone(),
        vs: Vs::parse(&a.vs).ok_or_else(|| format!("`{}` is not one of {}", a.vs, Vs::NAMES.join(", ")))?,
        entity: crate::eval::entity_args(&a.entity, "salesperson=Ana")?,
        within: crate::eval::entity_args(&a.within, "region=EU")?,
        dimensions: (!a.dimensions.is_empty()).then(|| a.dimensions.clone()),
        depth: usize::from(a.depth),
        top: a.top,
        roots: Roots::parse(&a.roots).unwrap_or_default(),
        as_of: a.at.instant(tz)?,
    };
    if ws.source_diagnostics().has_errors() {
        print_diagnostics(loaded, ws.source_diagnostics().clone().into_vec(), color)?;
        return Ok(crate::fault::project());
    }
    let bar = progress_bar();
    let report = |stage: Stage| {
        if let Some(bar) = &bar {
            bar.set_message(progress_message(stage));
        }
    };
    let got = rt.block_on(yardstick_engine::why::why_with_progress(
        &loaded.project,
        ws.catalog(),
        &opts,
        &report,
    ));
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let x = match got {
        Ok(x) => x,
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

/// A spinner on standard error while `why` works, when it is a terminal:
/// a large split takes a while.
fn progress_bar() -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new_spinner();
    bar.enable_steady_tick(std::time::Duration::from_millis(100));
    Some(bar)
}

/// What the spinner says at each stage.
fn progress_message(stage: Stage) -> String {
    match stage {
        Stage::Reading => "reading the rows".into(),
        Stage::Grouping { leaves, done, total } => format!(
            "adding up {} by combinations of dimensions: {done} of {total}",
            format::count(leaves, "leaf", "leaves")
        ),
        Stage::Searching { segments } => {
            format!("searching {}", format::count(segments, "segment", "segments"))
        }
    }
}

/// A bar of `width` cells for a share in [-1, 1] of the largest.
fn bar(part: f64, largest: f64, width: usize) -> String {
    if largest <= 0.0 || !part.is_finite() {
        return String::new();
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let n = ((part.abs() / largest) * width as f64).round().max(1.0) as usize;
    let glyph = if part < 0.0 { "▼" } else { "▲" };
    format!("{glyph} {}", "█".repeat(n.min(width)))
}

/// The elements of a cause, `region=EU ∧ partner=P7`.
pub(crate) fn elements(c: &yardstick_engine::why::Cause) -> String {
    c.elements
        .iter()
        .map(|(d, v)| format!("{d}={}", v.as_deref().unwrap_or("(empty)")))
        .collect::<Vec<_>>()
        .join(" ∧ ")
}

fn text(x: &Why, currency: Option<&str>, color: Color) -> String {
    let bold = |s: &str| {
        if color == Color::Always {
            format!("\x1b[1m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    };
    let unit = x.unit.as_deref();
    let v = |n: Option<f64>| format::value_or_dash(n, unit, currency);
    let mut o = String::new();
    let title = match &x.name {
        Some(n) => format!("{} — {n}", x.kpi),
        None => x.kpi.clone(),
    };
    let entity = x
        .entity
        .as_ref()
        .map(|e| e.iter().map(|(k, v)| format!(" {k}={v}")).collect::<String>())
        .unwrap_or_default();
    o += &format!("{}\n", bold(&format!("{title}, {}{entity}", x.period)));
    if let Some(t) = &x.through {
        o += &format!("  {t}\n");
    }
    let gap = match x.gap {
        Some(g) => {
            let sign = if g > 0.0 { "+" } else { "" };
            format!("{sign}{}", v(Some(g)))
        }
        None => "—".into(),
    };
    o += &format!(
        "  {} against {}: {} (gap {gap}){}\n",
        v(x.value),
        x.reference_is,
        v(x.reference),
        if x.complete { "" } else { ", period still running" }
    );
    o += &format!(
        "  split {} by {} (up to {} combined); {}\n",
        match (x.split, x.effect) {
            ("units", Some(e)) =>
                format!("by unit as uptime over scheduled time, searched on its {e} effect,"),
            ("incidents", _) => "by incident (overlapping downtime goes to the incident that started first; \
                                 a cause's value is the availability had only its incidents happened)"
                .to_string(),
            (_, Some(e)) => format!("as a ratio, searched on its {e} effect,"),
            (_, None) => "additively".to_string(),
        },
        x.dimensions.join(", "),
        x.depth,
        normal(x.normal_change)
    );
    if x.causes.is_empty() {
        o += "  No cause: nothing moved apart from the rest.\n";
        return o;
    }
    let largest = x.causes.iter().map(|c| c.contribution.abs()).fold(0.0, f64::max);
    let mut t = crate::render::table(color);
    let ratio = x.effect.is_some();
    let mut header = vec!["", "cause", "now", "before", "contribution", "share", "score"];
    if ratio {
        header.extend(["mix", "rate"]);
    }
    header.push("");
    t.set_header(header);
    for c in &x.causes {
        let contribution = if ratio {
            format::value(c.contribution, unit, currency)
        } else {
            let sign = if c.contribution > 0.0 { "+" } else { "" };
            format!("{sign}{}", format::value(c.contribution, unit, currency))
        };
        let mut row = vec![
            Cell::new(if c.root { "root" } else { "" }),
            Cell::new(elements(c)),
            Cell::new(v(c.value)).set_alignment(CellAlignment::Right),
            Cell::new(v(c.reference)).set_alignment(CellAlignment::Right),
            Cell::new(contribution).set_alignment(CellAlignment::Right),
            Cell::new(c.share.map_or("—".into(), format::percent)).set_alignment(CellAlignment::Right),
            Cell::new(format!("{:.2}", c.score)).set_alignment(CellAlignment::Right),
        ];
        if ratio {
            row.push(Cell::new(v(c.mix)).set_alignment(CellAlignment::Right));
            row.push(Cell::new(v(c.rate)).set_alignment(CellAlignment::Right));
        }
        row.push(Cell::new(bar(c.contribution, largest, 20)));
        t.add_row(row);
    }
    for line in t.to_string().lines() {
        o += &format!("  {line}\n");
    }
    let roots = x.causes.iter().filter(|c| c.root).count();
    o += &format!(
        "  {roots} root cause{} explain{} {} of the unusual movement. {}\n",
        if roots == 1 { "" } else { "s" },
        if roots == 1 { "s" } else { "" },
        format::percent(x.explained),
        x.criterion
    );
    o
}

/// What was normal, in words: how everything moved together, or that
/// normal was no change ("everything moved 0% together" reads as news).
fn normal(change: f64) -> String {
    if change == 0.0 {
        "normal is no change".to_string()
    } else {
        format!("everything moved {} together", format::percent(change))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_is_worded_as_no_change_or_as_how_everything_moved() {
        assert_eq!(normal(0.0), "normal is no change");
        assert_eq!(normal(-0.2056), "everything moved -20.56% together");
    }

    #[test]
    fn the_spinner_says_where_why_is_in_grouped_digits() {
        assert_eq!(progress_message(Stage::Reading), "reading the rows");
        assert_eq!(
            progress_message(Stage::Grouping {
                leaves: 24_000_000,
                done: 12,
                total: 63
            }),
            "adding up 24,000,000 leaves by combinations of dimensions: 12 of 63"
        );
        assert_eq!(
            progress_message(Stage::Searching { segments: 1 }),
            "searching 1 segment"
        );
    }
}
