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
    /// `anomaly` or `changepoint`.
    pub kind: &'static str,
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

impl Warning {
    pub fn entity_json(&self) -> String {
        self.entity
            .as_ref()
            .map(|e| serde_json::to_string(e).unwrap_or_default())
            .unwrap_or_default()
    }

    /// A sentence for people.
    pub fn sentence(&self) -> String {
        let entity = crate::alerts::bracketed(self.entity.as_ref());
        let g = |v: f64| yardstick_core::format::grouped(v, 4);
        match self.kind {
            "anomaly" => format!(
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
            _ => format!(
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

/// Warnings on the last `days` complete days before `as_of` of `kpis` (all
/// KPIs when empty), oldest first per KPI and entity.
pub async fn watch(
    project: &Project,
    catalog: &Catalog,
    as_of: DateTime<Utc>,
    days: u32,
    kpis: &[String],
) -> Result<Vec<Warning>, EvalError> {
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
        kpis: chosen,
        by: None,
        projections: false,
    };
    let ev = evaluate(&daily, catalog, &opts).await?;
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
        let y: Vec<f64> = days.iter().map(|(_, v)| *v).collect();
        let last = y.len().saturating_sub(1);
        let mut found = Vec::new();
        for a in yardstick_forecast::warnings::anomalies(&y, 7, ANOMALY_THRESHOLD) {
            found.push(Warning {
                kpi: kpi.clone(),
                entity: entity.clone(),
                kind: "anomaly",
                date: days[a.index].0.clone(),
                value: a.value,
                expected: a.expected,
                magnitude: a.value - a.expected,
                score: Some(a.score),
                latest: a.index == last,
            });
        }
        for c in yardstick_forecast::warnings::changepoints(&y, 14, CHANGEPOINT_SHIFT) {
            found.push(Warning {
                kpi: kpi.clone(),
                entity: entity.clone(),
                kind: "changepoint",
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
    Ok(out)
}
