//! A period review (a board pack) as a typed document: cover, summary,
//! one section per KPI with its history, contracts and partnerships — the
//! numbers already judged by the engine, formatted once here — and its
//! Markdown, HTML (inline SVG charts) and PDF renderings.

use minijinja::context;
use serde::Serialize;

use crate::{DocError, Format, render};

/// A period review.
#[derive(Debug, Clone, Serialize)]
pub struct Review {
    pub title: String,
    /// What it covers, in words (`the whole project`, `scorecard company`).
    pub scope: String,
    /// The period reviewed (`2026-Q3`) and its days.
    pub period: String,
    pub period_days: String,
    /// The evaluation instant.
    pub as_of: String,
    /// The project's currency (for spreadsheets' number formats).
    pub currency: Option<String>,
    /// Stale sources at that instant, in words (empty: all fresh).
    pub freshness: Vec<String>,
    /// Each agreement's standing, in words.
    pub terms: Vec<String>,
    pub summary: Summary,
    pub kpis: Vec<KpiReview>,
    pub contracts: Vec<ContractReview>,
    pub partnerships: Vec<PartnershipReview>,
    /// Values of ended periods changed since the previous pack of the same
    /// schedule was issued (empty for a pack written on demand).
    pub restated: Vec<Restated>,
    /// When that previous pack was issued, in words.
    pub restated_since: Option<String>,
}

/// A partnership in the period: its partners, the score both see per
/// review period, and whether their records agree.
#[derive(Debug, Clone, Serialize)]
pub struct PartnershipReview {
    pub name: String,
    pub partners: String,
    /// (period, score, raw score).
    pub scores: Vec<(String, String, Option<f64>)>,
    /// Each reconciliation period inside the review's, in words.
    pub reconciliation: Vec<String>,
}

/// A value restated after a pack reported it.
#[derive(Debug, Clone, Serialize)]
pub struct Restated {
    pub kpi: String,
    pub period: String,
    /// The entity, in words (empty for the KPI's total).
    pub entity: String,
    pub before: String,
    pub after: String,
    pub raw_before: Option<f64>,
    pub raw_after: Option<f64>,
    /// The unit the values are in.
    pub unit: Option<String>,
    /// Status before → after, when it changed.
    pub status_change: Option<String>,
    pub restated_at: String,
}

/// The review at a glance.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub met: usize,
    pub warning: usize,
    pub missed: usize,
    pub no_data: usize,
    pub scores: Vec<ScoreLine>,
    /// The biggest wins and misses, in words.
    pub wins: Vec<String>,
    pub misses: Vec<String>,
}

/// A scorecard's score in the period and its change.
#[derive(Debug, Clone, Serialize)]
pub struct ScoreLine {
    pub name: String,
    pub period: String,
    pub score: String,
    pub raw: Option<f64>,
    pub change: Option<String>,
}

/// One KPI's section.
#[derive(Debug, Clone, Serialize)]
pub struct KpiReview {
    pub id: String,
    pub name: String,
    /// The period its value is for (its own grain, within the review's).
    pub period: String,
    pub value: String,
    /// The raw value (for spreadsheets and tests).
    pub raw: Option<f64>,
    /// The unit values are shown in (`%`, a currency, `clients`).
    pub unit: Option<String>,
    /// The change on the period before, as a number.
    pub raw_change: Option<f64>,
    pub target: String,
    /// `met`, `warning`, `missed`, `no_data`, or `none` (no target).
    pub status: String,
    pub complete: bool,
    pub change_previous: Option<String>,
    pub change_year: Option<String>,
    /// Where the period in progress is heading, in words.
    pub projection: Option<String>,
    /// Per entity of a `for_each` KPI: (entity, value, status).
    pub entities: Vec<(String, String, String)>,
    /// The last periods, oldest first: (label, value).
    pub history: Vec<(String, Option<f64>)>,
    /// The same, formatted: `2026-04 99.44% · 2026-05 99.48%`.
    pub trend: String,
    /// The target's bound, for the chart's line.
    pub target_line: Option<f64>,
    /// Top causes of a miss, in words.
    pub causes: Vec<String>,
    /// Corrective actions open on it, in words.
    pub actions: Vec<String>,
    /// What it counts, in words.
    pub definition: String,
    /// An inline SVG chart of `history` (HTML only).
    pub chart: String,
}

/// A contract's clauses in the period.
#[derive(Debug, Clone, Serialize)]
pub struct ContractReview {
    pub name: String,
    /// Each row's credit as a number, in the order of `rows`.
    pub raw_credits: Vec<f64>,
    /// (clause, period, outcome, credit, explanation).
    pub rows: Vec<(String, String, String, String, String)>,
    pub credits: String,
}

/// The value range a chart of `values` and `target` shows: their span
/// with a tenth of it as margin (a flat series gets ±1); `None` when there
/// is nothing to draw (fewer than two periods, or no value at all).
pub(crate) fn chart_range(values: &[Option<f64>], target: Option<f64>) -> Option<(f64, f64)> {
    let all: Vec<f64> = values.iter().flatten().copied().chain(target).collect();
    if values.len() < 2 || all.is_empty() {
        return None;
    }
    let (mut lo, mut hi) = all.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
        (a.min(*v), b.max(*v))
    });
    if hi - lo < 1e-12 {
        lo -= 1.0;
        hi += 1.0;
    }
    let span = hi - lo;
    Some((lo - span * 0.1, hi + span * 0.1))
}

/// An inline SVG line chart of a KPI's history with its target line.
pub fn svg_chart(history: &[(String, Option<f64>)], target: Option<f64>) -> String {
    let values: Vec<Option<f64>> = history.iter().map(|h| h.1).collect();
    let Some((lo, hi)) = chart_range(&values, target) else {
        return String::new();
    };
    let (w, h, pad) = (560.0_f64, 140.0_f64, 24.0_f64);
    let x = |i: usize| pad + (w - 2.0 * pad) * i as f64 / (history.len() - 1) as f64;
    let y = |v: f64| h - pad - (h - 2.0 * pad) * (v - lo) / (hi - lo);
    let mut path = String::new();
    let mut pen = false;
    for (i, (_, v)) in history.iter().enumerate() {
        match v {
            Some(v) => {
                path += &format!("{}{:.1},{:.1} ", if pen { "L" } else { "M" }, x(i), y(*v));
                pen = true;
            }
            None => pen = false,
        }
    }
    let dots: String = history
        .iter()
        .enumerate()
        .filter_map(|(i, (label, v))| {
            v.map(|v| {
                format!(
                    "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"2.5\"><title>{label}</title></circle>",
                    x(i),
                    y(v)
                )
            })
        })
        .collect();
    let target_line = target
        .map(|t| {
            format!(
                "<line x1=\"{pad}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#cf222e\" stroke-dasharray=\"4 3\"/>",
                w - pad,
                y(t),
                y(t)
            )
        })
        .unwrap_or_default();
    let first = &history[0].0;
    let last = &history[history.len() - 1].0;
    format!(
        "<svg class=\"chart\" viewBox=\"0 0 {w} {h}\" width=\"100%\" role=\"img\" aria-label=\"history from {first} to {last}\" xmlns=\"http://www.w3.org/2000/svg\">\
         <line x1=\"{pad}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#d0d7de\"/>{target_line}\
         <path d=\"{path}\" fill=\"none\" stroke=\"#0969da\" stroke-width=\"2\"/><g fill=\"#0969da\">{dots}</g>\
         <text x=\"{pad}\" y=\"{:.1}\" font-size=\"10\" fill=\"#57606a\">{first}</text>\
         <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" fill=\"#57606a\" text-anchor=\"end\">{last}</text></svg>",
        w - pad,
        h - pad,
        h - pad,
        h - 6.0,
        w - pad,
        h - 6.0
    )
}

/// The review as a pack document in `format`.
pub fn pack(
    r: &Review,
    generated: &str,
    format: yardstick_core::model::review::PackFormat,
) -> Result<Vec<u8>, DocError> {
    use yardstick_core::model::review::PackFormat;
    match format {
        PackFormat::Html => review(r, generated, Format::Html),
        PackFormat::Markdown => review(r, generated, Format::Markdown),
        PackFormat::Pdf => review(r, generated, Format::Pdf),
        PackFormat::Xlsx => crate::xlsx::review_xlsx(r),
    }
}

/// The review in `format` (JSON is the caller's: the model serialises).
pub fn review(r: &Review, generated: &str, format: Format) -> Result<Vec<u8>, DocError> {
    let ctx = context! { r, generated };
    match format {
        Format::Markdown => render("review.md.j2", ctx).map(String::into_bytes),
        Format::Html => render("review.html.j2", ctx).map(String::into_bytes),
        Format::Pdf => {
            let md = render("review.md.j2", ctx)?;
            Ok(crate::pdf::from_markdown(&r.title, &md))
        }
    }
}
