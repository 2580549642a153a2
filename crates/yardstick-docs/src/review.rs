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
    /// The next periods forecast after a complete one, in words.
    pub forecast: Option<String>,
    /// Per entity of a `for_each` KPI: (entity, value, status).
    pub entities: Vec<(String, String, String)>,
    /// The last periods, oldest first: (label, value).
    pub history: Vec<(String, Option<f64>)>,
    /// The same, formatted: `2026-04 99.44% · 2026-05 99.48%`.
    pub trend: String,
    /// The target's bound, for the chart's line.
    pub target_line: Option<f64>,
    /// What the chart draws (history, target, warning band, where the
    /// period in progress is heading), also as the Markdown's
    /// `<!-- chart … -->` comment the PDF draws.
    pub chart_spec: crate::chart::ChartSpec,
    pub chart_comment: String,
    /// Top causes of a miss, in words.
    pub causes: Vec<String>,
    /// Corrective actions open on it, in words.
    pub actions: Vec<String>,
    /// What it counts, in words.
    pub definition: String,
    /// Who answers for it, and how often it is measured, in words.
    pub owner: Option<String>,
    pub cadence: Option<String>,
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
