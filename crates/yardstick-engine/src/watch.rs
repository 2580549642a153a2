//! `yardstick watch`: early warnings on each KPI's daily series —
//! anomalies (a day far from what the same weekday's recent days predict)
//! and changepoints (a lasting change of level), from
//! [`yardstick_forecast::warnings`].

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use yardstick_core::model::Cadence;
use yardstick_core::{Grain, Located, Project};

use crate::eval::{EntityValue, EvalError, EvalOptions, evaluate};
use crate::sources::Catalog;

/// Robust z-score beyond which a day is an anomaly.
pub const ANOMALY_THRESHOLD: f64 = 4.0;
/// Shift, in robust standard deviations, for a changepoint to be reported.
pub const CHANGEPOINT_SHIFT: f64 = 3.0;

/// One early warning.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Warning {
    pub kpi: String,
    pub entity: Option<BTreeMap<String, EntityValue>>,
    pub kind: WarningKind,
    /// The day (project zone).
    pub date: String,
    /// The day's value (anomaly) or the new level (changepoint).
    pub value: f64,
    /// What was expected (anomaly) or the level before (changepoint).
    pub expected: f64,
    /// `value − expected`.
    pub magnitude: f64,
    /// Robust z-score of an anomaly.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    /// Whether this is the latest complete day.
    pub latest: bool,
}

/// What an early warning found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WarningKind {
    /// A day far from what its weekday usually is.
    Anomaly,
    /// A lasting change of level.
    Changepoint,
}

impl Warning {
    pub fn entity_json(&self) -> String {
        self.entity
            .as_ref()
            .map(|e| serde_json::to_string(e).unwrap_or_default())
            .unwrap_or_default()
    }

    /// A sentence for people.
    pub fn sentence(&self) -> String {
        let entity = crate::eval::bracketed(self.entity.as_ref());
        let g = |v: f64| yardstick_core::format::grouped(v, 4);
        match self.kind {
            WarningKind::Anomaly => format!(
                "{}{} on {}: {} where about {} was expected ({}{} , {:.1} robust sd)",
                self.kpi,
                entity,
                self.date,
                g(self.value),
                g(self.expected),
                if self.magnitude >= 0.0 { "+" } else { "" },
                g(self.magnitude),
                self.score.unwrap_or(0.0)
            )
            .replace(" ,", ","),
            WarningKind::Changepoint => format!(
                "{}{} changed level on {}: from about {} to about {}",
                self.kpi,
                entity,
                self.date,
                g(self.expected),
                g(self.value)
            ),
        }
    }
}

/// One KPI × entity: the entity and its (day, value) pairs.
type DailySeries = (Option<BTreeMap<String, EntityValue>>, Vec<(String, f64)>);

/// What `watch` found: warnings, and the KPIs it could not watch.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WatchReport {
    pub warnings: Vec<Warning>,
    /// KPIs with no value on any day of the window: nothing to judge.
    pub without_data: Vec<String>,
}

/// Warnings on the last `days` complete days before `as_of` of `kpis` (all
/// KPIs when empty), oldest first per KPI and entity.
pub async fn watch(
    project: &Project,
    catalog: &Catalog,
    as_of: DateTime<Utc>,
    days: u32,
    kpis: &[String],
) -> Result<Vec<Warning>, EvalError> {
    Ok(watch_report(project, catalog, as_of, days, kpis).await?.warnings)
}

/// [`watch`], also naming the KPIs without data in the window. A cumulative
/// KPI is watched by what each day adds (a reset is expected, not an
/// anomaly); differences too small to show are not reported.
pub async fn watch_report(
    project: &Project,
    catalog: &Catalog,
    as_of: DateTime<Utc>,
    days: u32,
    kpis: &[String],
) -> Result<WatchReport, EvalError> {
    // The same KPIs, evaluated per day; targets do not matter here.
    let mut daily = project.clone();
    let chosen: Vec<String> = if kpis.is_empty() {
        project.kpis.keys().cloned().collect()
    } else {
        kpis.to_vec()
    };
    for id in &chosen {
        let Some(k) = daily.kpis.get_mut(id) else {
            return Err(EvalError::Data(format!("there is no KPI `{id}`")));
        };
        let Some(c) = k.cadence.as_mut() else { continue };
        *c = Located::new(Cadence::Every(Grain::Day), c.loc.clone());
        k.target = None;
        k.warning = None;
        k.targets.clear();
    }
    let opts = EvalOptions {
        as_of,
        from: Some(as_of - Duration::days(i64::from(days))),
        // Only complete days: the day in progress is not judged.
        to: Some(as_of - Duration::days(1)),
        kpis: chosen.clone(),
        by: None,
        projections: false,
    };
    let ev = evaluate(&daily, catalog, &opts).await?;
    let cal = project.settings.calendar();
    let mut without_data: Vec<String> = chosen
        .iter()
        .filter(|id| {
            !ev.evaluations
                .iter()
                .any(|r| r.complete && &r.kpi == *id && r.value.is_some_and(f64::is_finite))
        })
        .filter(|id| project.kpis.get(*id).is_some_and(|k| k.cadence.is_some()))
        .cloned()
        .collect();
    without_data.sort();
    let mut series: BTreeMap<(String, String), DailySeries> = BTreeMap::new();
    for r in ev.evaluations.iter().filter(|r| r.complete) {
        series
            .entry((r.kpi.clone(), r.entity_json()))
            .or_insert_with(|| (r.entity.clone(), Vec::new()))
            .1
            .push((r.period.clone(), r.value.unwrap_or(f64::NAN)));
    }
    let mut out = Vec::new();
    for ((kpi, _), (entity, days)) in series {
        let mut y: Vec<f64> = days.iter().map(|(_, v)| *v).collect();
        if let Some(reset) = project.kpis.get(&kpi).and_then(cumulative_reset) {
            y = increments(&y, &days, reset, &cal);
        }
        let last = y.len().saturating_sub(1);
        let mut found = Vec::new();
        for a in yardstick_forecast::warnings::anomalies(&y, 7, ANOMALY_THRESHOLD)
            .into_iter()
            .filter(|a| visible(a.value - a.expected, a.expected))
        {
            found.push(Warning {
                kpi: kpi.clone(),
                entity: entity.clone(),
                kind: WarningKind::Anomaly,
                date: days[a.index].0.clone(),
                value: a.value,
                expected: a.expected,
                magnitude: a.value - a.expected,
                score: Some(a.score),
                latest: a.index == last,
            });
        }
        for c in yardstick_forecast::warnings::changepoints(&y, 14, CHANGEPOINT_SHIFT)
            .into_iter()
            .filter(|c| visible(c.after - c.before, c.before))
        {
            found.push(Warning {
                kpi: kpi.clone(),
                entity: entity.clone(),
                kind: WarningKind::Changepoint,
                date: days[c.index].0.clone(),
                value: c.after,
                expected: c.before,
                magnitude: c.after - c.before,
                score: None,
                latest: c.index == last,
            });
        }
        found.sort_by(|a, b| a.date.cmp(&b.date));
        out.extend(found);
    }
    Ok(WatchReport {
        warnings: out,
        without_data,
    })
}

/// A change big enough to tell: more than a millionth of the level (and
/// of 1), so float noise and rounding never make a warning.
fn visible(change: f64, level: f64) -> bool {
    change.abs() > 1e-6 * level.abs().max(1.0)
}

/// The reset of a cumulative KPI.
fn cumulative_reset(k: &yardstick_core::model::MeasureDef) -> Option<yardstick_core::model::Reset> {
    match k.measure.as_ref().map(|m| &m.value) {
        Some(yardstick_core::model::Measure::Cumulative { reset, .. }) => Some(*reset),
        _ => None,
    }
}

/// What each day added to a running total: the day's total minus the day
/// before's, or the total itself on the first day of a reset period.
fn increments(
    y: &[f64],
    days: &[(String, f64)],
    reset: yardstick_core::model::Reset,
    cal: &yardstick_core::Calendar,
) -> Vec<f64> {
    use yardstick_core::model::Reset;
    let starts_period = |label: &str| {
        let Some(day) = cal.parse_label(label) else {
            return false;
        };
        let grain = match reset {
            Reset::Quarter => Grain::Quarter,
            Reset::Year => Grain::Year,
            Reset::FiscalYear => Grain::FiscalYear,
            Reset::Never => return false,
        };
        cal.period_of_day(grain, day.first).first == day.first
    };
    y.iter()
        .enumerate()
        .map(|(i, v)| match i {
            _ if starts_period(&days[i].0) => *v,
            0 => f64::NAN,
            _ => v - y[i - 1],
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use yardstick_core::model::Reset;

    #[test]
    fn a_running_total_is_watched_by_what_each_day_adds() {
        let cal = yardstick_core::Calendar::new(chrono_tz::UTC);
        let labels = ["2026-12-30", "2026-12-31", "2027-01-01", "2027-01-02"];
        let totals = [900.0, 930.0, 25.0, 55.0];
        let days: Vec<(String, f64)> = labels
            .iter()
            .zip(totals)
            .map(|(l, v)| (l.to_string(), v))
            .collect();
        let y = increments(&totals, &days, Reset::Year, &cal);
        assert!(y[0].is_nan());
        // The reset on 1 January adds 25, not −905.
        assert_eq!(&y[1..], &[30.0, 25.0, 30.0]);
    }

    #[test]
    fn changes_too_small_to_show_are_not_warnings() {
        assert!(!visible(1e-9, 0.0));
        assert!(!visible(1e-4, 1e3));
        assert!(visible(0.004, 0.0));
        assert!(visible(5.0, 100.0));
    }
}
