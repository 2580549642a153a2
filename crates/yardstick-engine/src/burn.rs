//! Error-budget burn rates over short windows ending at an instant, for
//! multi-window burn-rate alerts (Google's SRE workbook, "Alerting on
//! SLOs"): page when the last hour and the last 5 minutes both burn faster
//! than 14.4× the budget, or the last 6 hours and 30 minutes faster than 6×.
//!
//! The burn rate of a window is its error ratio divided by the budget
//! `1 − target`: for availability the share of scheduled time that was down
//! (exclusions removed, units summed), for a share the share of judged rows
//! that failed the condition.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use yardstick_core::Project;
use yardstick_core::intervals::down_and_scheduled;
use yardstick_core::model::{Measure, Shape, Target};

use crate::eval::{EntityValue, EvalError, Evaluator, quote};
use crate::sources::Catalog;

/// The two rules of the workbook: (long window, short window, factor).
pub const RULES: [(i64, i64, f64); 2] = [(60, 5, 14.4), (360, 30, 6.0)];

/// The burn rate over one window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WindowBurn {
    pub minutes: i64,
    /// Share of the window's scheduled time (or rows) that was bad; `None`
    /// without rows or scheduled time.
    pub error_ratio: Option<f64>,
    pub burn_rate: Option<f64>,
}

/// Burn rates of a KPI at an instant.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Burn {
    pub kpi: String,
    /// The objective: the target's lower bound (e.g. 0.999).
    pub objective: f64,
    pub windows: Vec<WindowBurn>,
    /// The rule that fires, as `(long, short, factor)`, if one does.
    pub firing: Option<(i64, i64, f64)>,
}

impl Burn {
    fn rate(&self, minutes: i64) -> Option<f64> {
        self.windows
            .iter()
            .find(|w| w.minutes == minutes)
            .and_then(|w| w.burn_rate)
    }

    /// A sentence for people.
    pub fn sentence(&self) -> String {
        let (long, short, factor) = self.firing.unwrap_or(RULES[0]);
        let words = |m: i64| {
            if m % 60 == 0 {
                format!("{} h", m / 60)
            } else {
                format!("{m} min")
            }
        };
        format!(
            "{} burns its error budget ({:.3}% of time or rows) {:.1}× over the last {} and {:.1}× over the last {} (alert above {factor}×)",
            self.kpi,
            (1.0 - self.objective) * 100.0,
            self.rate(long).unwrap_or(0.0),
            words(long),
            self.rate(short).unwrap_or(0.0),
            words(short),
        )
    }
}

/// Burn rates of availability or share KPI `kpi` against `objective` (a
/// share, e.g. 0.999) over the rules' windows ending at `as_of`.
pub async fn burn(
    project: &Project,
    catalog: &Catalog,
    kpi: &str,
    objective: f64,
    as_of: DateTime<Utc>,
) -> Result<Burn, EvalError> {
    let k = project
        .kpis
        .get(kpi)
        .ok_or_else(|| EvalError::Data(format!("there is no KPI `{kpi}`")))?;
    let budget = 1.0 - objective;
    if budget <= 0.0 {
        return Err(EvalError::Data(format!(
            "KPI `{kpi}`: an objective of {objective} leaves no error budget to burn"
        )));
    }
    let ev = Evaluator::new(project, catalog, as_of);
    let minutes: BTreeSet<i64> = RULES.iter().flat_map(|(l, s, _)| [*l, *s]).collect();
    let mut windows = Vec::new();
    match k.measure.as_ref().map(|m| &m.value) {
        Some(Measure::Availability {
            down, exclude, per, ..
        }) => {
            let unit_col = per.as_ref().map(|p| p.value.as_str());
            let down_rows = ev.intervals(&down.value, unit_col).await?;
            let excl_rows = match exclude {
                Some(x) => ev.intervals(&x.value, None).await?,
                None => Vec::new(),
            };
            let mut by_unit: HashMap<EntityValue, Vec<(i64, i64)>> = HashMap::new();
            for (span, unit) in down_rows {
                by_unit.entry(unit).or_default().push(span);
            }
            if by_unit.is_empty() {
                by_unit.insert(EntityValue::Null, Vec::new());
            }
            let excluded: Vec<(i64, i64)> = excl_rows.into_iter().map(|(s, _)| s).collect();
            let hi = as_of.timestamp_micros();
            for m in &minutes {
                let lo = (as_of - Duration::minutes(*m)).timestamp_micros();
                let (mut down, mut sched) = (0i64, 0i64);
                for spans in by_unit.values() {
                    let (d, s) = down_and_scheduled(spans, &excluded, lo, hi);
                    down += d;
                    sched += s;
                }
                let ratio = (sched > 0).then(|| down as f64 / sched as f64);
                windows.push(WindowBurn {
                    minutes: *m,
                    error_ratio: ratio,
                    burn_rate: ratio.map(|r| r / budget),
                });
            }
        }
        Some(Measure::Share {
            source,
            condition,
            filter,
        }) => {
            let s = project
                .sources
                .get(&source.value)
                .ok_or_else(|| EvalError::Internal(format!("source `{}` vanished", source.value)))?;
            let time = match &s.shape {
                Shape::Event { time } => time.value.clone(),
                Shape::Interval { start, .. } => start.value.clone(),
                Shape::Reference => {
                    return Err(EvalError::Data(format!(
                        "KPI `{kpi}` reads `{}`, which has no time column: no window to burn over",
                        source.value
                    )));
                }
            };
            let judged = filter
                .as_ref()
                .map_or("TRUE".to_string(), |f| format!("({})", f.text));
            for m in &minutes {
                let lo = as_of - Duration::minutes(*m);
                let fmt = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
                let sql = format!(
                    "SELECT count(*) FILTER (WHERE {judged}), count(*) FILTER (WHERE {judged} AND NOT ({})) \
                     FROM {} WHERE {t} >= '{}' AND {t} < '{}'",
                    condition.text,
                    quote(&source.value),
                    fmt(lo),
                    fmt(as_of),
                    t = quote(&time),
                );
                let batches = ev.collect(&sql, &format!("burn rate of `{kpi}`")).await?;
                let count = |c: usize| -> i64 {
                    batches
                        .first()
                        .and_then(|b| {
                            b.column(c)
                                .as_any()
                                .downcast_ref::<datafusion::arrow::array::Int64Array>()
                                .map(|a| a.value(0))
                        })
                        .unwrap_or(0)
                };
                let (n, bad) = (count(0), count(1));
                let ratio = (n > 0).then(|| bad as f64 / n as f64);
                windows.push(WindowBurn {
                    minutes: *m,
                    error_ratio: ratio,
                    burn_rate: ratio.map(|r| r / budget),
                });
            }
        }
        _ => {
            return Err(EvalError::Data(format!(
                "burn rates need an availability or share KPI; `{kpi}` is not one"
            )));
        }
    }
    let mut out = Burn {
        kpi: kpi.to_string(),
        objective,
        windows,
        firing: None,
    };
    out.firing = RULES
        .into_iter()
        .find(|(l, s, f)| out.rate(*l).is_some_and(|r| r > *f) && out.rate(*s).is_some_and(|r| r > *f));
    Ok(out)
}

/// The objective a target sets for burn rates: its lower bound.
pub fn objective_of(t: Target) -> Option<f64> {
    match t {
        Target::AtLeast(x) | Target::Above(x) | Target::Between(x, _) => Some(x),
        Target::AtMost(_) | Target::Below(_) => None,
    }
}
