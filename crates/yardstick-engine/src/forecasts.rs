//! `yardstick forecast`: the next periods of a KPI, per entity, from the
//! values of its complete periods ([`yardstick_forecast`] picks the model).

use std::collections::BTreeMap;

use serde::Serialize;
use yardstick_core::Project;
use yardstick_core::model::Cadence;

use crate::eval::{EntityValue, EvalError, Evaluation, season_of};

/// One forecast period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ForecastPoint {
    pub period: String,
    /// `value`, `low80`, `high80`, `low95`, `high95`.
    #[serde(flatten)]
    pub point: yardstick_forecast::Point,
}

/// The forecast of one KPI × entity.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeriesForecast {
    pub kpi: String,
    pub entity: Option<BTreeMap<String, EntityValue>>,
    pub model: String,
    /// Periods of history the model saw.
    pub history: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub points: Vec<ForecastPoint>,
}

/// An entity that could not be forecast, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Skipped {
    pub kpi: String,
    pub entity: Option<BTreeMap<String, EntityValue>>,
    pub reason: String,
}

/// The outcome of `yardstick forecast`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ForecastReport {
    pub as_of: yardstick_core::time::Instant,
    pub forecasts: Vec<SeriesForecast>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<Skipped>,
}

/// One entity's complete periods: the entity, values and last label.
type History = (Option<BTreeMap<String, EntityValue>>, Vec<f64>, String);

/// What to forecast.
#[derive(Debug, Clone)]
pub struct ForecastRequest {
    pub kpi: String,
    pub horizon: usize,
    /// `column = value` pairs an entity must match (all of them).
    pub entity: Vec<(String, String)>,
}

/// The most periods one forecast may reach ahead.
pub const MAX_HORIZON: usize = 1000;

/// Checks a request against the project before anything is evaluated.
pub fn validate(project: &Project, req: &ForecastRequest) -> Result<(), EvalError> {
    let Some(k) = project.kpis.get(&req.kpi) else {
        let known: Vec<&str> = project.kpis.keys().map(String::as_str).collect();
        let hint = yardstick_core::diag::did_you_mean(&req.kpi, known.iter().copied())
            .map(|s| format!(" (did you mean `{s}`?)"))
            .unwrap_or_default();
        return Err(EvalError::Data(format!("there is no KPI `{}`{hint}", req.kpi)));
    };
    if !(1..=MAX_HORIZON).contains(&req.horizon) {
        return Err(EvalError::Data(format!(
            "--horizon {} is out of range: forecast 1 to {MAX_HORIZON} periods",
            req.horizon
        )));
    }
    match k.cadence.as_ref().map(|c| c.value) {
        Some(Cadence::Every(_)) => {}
        Some(Cadence::Window { .. }) => {
            return Err(EvalError::Data(format!(
                "KPI `{}` is a rolling window: forecasts need calendar periods (`every`)",
                req.kpi
            )));
        }
        None => {
            return Err(EvalError::Data(format!("KPI `{}` has no period", req.kpi)));
        }
    }
    for (col, _) in &req.entity {
        if !k.for_each.iter().any(|c| &c.value == col) {
            return Err(EvalError::Data(format!(
                "--entity {col}=…: KPI `{}` is not evaluated per `{col}` (for_each is [{}])",
                req.kpi,
                k.for_each
                    .iter()
                    .map(|c| c.value.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
    }
    Ok(())
}

/// Forecasts `req.kpi` from `evaluation` (an evaluation of that KPI up to
/// the instant forecasts start from): every matching entity, on every
/// core, calling `progress(done, total)` as series finish.
pub fn forecast(
    project: &Project,
    evaluation: &Evaluation,
    req: &ForecastRequest,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<ForecastReport, EvalError> {
    validate(project, req)?;
    let k = project
        .kpis
        .get(&req.kpi)
        .ok_or_else(|| EvalError::Internal(format!("KPI `{}` vanished", req.kpi)))?;
    let Some(Cadence::Every(grain)) = k.cadence.as_ref().map(|c| c.value) else {
        return Err(EvalError::Internal("cadence checked above".into()));
    };
    let kind = yardstick_core::calendar::PeriodKind::Calendar(grain);
    let cal = project.settings.calendar();

    // Complete periods per entity, in period order (rows come period by period).
    let mut order: Vec<String> = Vec::new();
    let mut series: BTreeMap<String, History> = BTreeMap::new();
    for r in evaluation
        .evaluations
        .iter()
        .filter(|r| r.kpi == req.kpi && r.complete)
    {
        let matches = req.entity.iter().all(|(col, want)| {
            r.entity
                .as_ref()
                .and_then(|e| e.get(col))
                .is_some_and(|v| v.to_string() == *want)
        });
        if !matches {
            continue;
        }
        let key = r.entity_json();
        let entry = series.entry(key.clone()).or_insert_with(|| {
            order.push(key);
            (r.entity.clone(), Vec::new(), String::new())
        });
        entry.1.push(r.value.unwrap_or(f64::NAN));
        entry.2.clone_from(&r.period);
    }
    if !req.entity.is_empty() && order.is_empty() {
        return Err(EvalError::Data(format!(
            "no entity of KPI `{}` matches {} in a complete period",
            req.kpi,
            req.entity
                .iter()
                .map(|(c, v)| format!("{c}={v}"))
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let inputs: Vec<Vec<f64>> = order
        .iter()
        .map(|key| series.get(key).map(|s| s.1.clone()).unwrap_or_default())
        .collect();
    let total = inputs.len();
    let done = std::sync::atomic::AtomicUsize::new(0);
    let season = season_of(kind);
    let results = yardstick_forecast::forecast_many(&inputs, season, req.horizon, &|| {
        let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        progress(n, total);
    });

    let mut forecasts = Vec::new();
    let mut skipped = Vec::new();
    for (key, result) in order.iter().zip(results) {
        let Some((entity, values, last_label)) = series.remove(key) else {
            continue;
        };
        match result {
            Ok(fc) => {
                let Some(mut period) = cal.parse_label(&last_label).filter(|p| p.kind == kind) else {
                    return Err(EvalError::Internal(format!(
                        "period label `{last_label}` did not parse back"
                    )));
                };
                let domain = crate::projection::value_domain(k, values.iter().copied());
                let bound = |x: Option<f64>| x.map(|x| domain.clamp(x));
                let points = fc
                    .points
                    .into_iter()
                    .map(|p| {
                        period = cal.next(&period);
                        ForecastPoint {
                            period: cal.label(&period),
                            point: yardstick_forecast::Point {
                                value: domain.clamp(p.value),
                                low80: bound(p.low80),
                                high80: bound(p.high80),
                                low95: bound(p.low95),
                                high95: bound(p.high95),
                            },
                        }
                    })
                    .collect();
                forecasts.push(SeriesForecast {
                    kpi: req.kpi.clone(),
                    entity,
                    model: fc.model,
                    history: values.iter().skip_while(|v| !v.is_finite()).count(),
                    note: fc.note,
                    points,
                });
            }
            Err(e) => skipped.push(Skipped {
                kpi: req.kpi.clone(),
                entity,
                reason: e.to_string(),
            }),
        }
    }
    Ok(ForecastReport {
        as_of: evaluation.as_of,
        forecasts,
        skipped,
    })
}
