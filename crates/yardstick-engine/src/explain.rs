//! `yardstick explain`: why one KPI has the value and status it has in one
//! period (and entity): the query run with its plan, the rows it read, the
//! inputs of derived forms with their own values, the target in force.
//!
//! The value comes from the same evaluation as `yardstick eval`, so the two
//! never disagree; the detail queries only describe it.

use datafusion::arrow::array::AsArray;
use datafusion::arrow::datatypes::Int64Type;
use serde::Serialize;
use yardstick_core::calendar::PeriodKind;
use yardstick_core::model::{Measure, MeasureDef, Project, Shape};
use yardstick_core::status::{Status, attainment, judge};

use crate::eval::{CadenceKey, EntityValue, EvalError, EvalOptions, Key, NodeKey, prepare, quote};
use crate::sources::{Catalog, df_message};

/// One input of a derived KPI, with its value in the explained period.
#[derive(Debug, Clone, Serialize)]
pub struct Input {
    pub id: String,
    pub kind: &'static str,
    pub form: &'static str,
    pub value: Option<f64>,
    /// The period the value is taken from (differs for growth).
    pub period: String,
}

/// Time accounting of an availability value, in hours.
#[derive(Debug, Clone, Serialize)]
pub struct AvailabilityDetail {
    pub period_hours: f64,
    pub excluded_hours: f64,
    pub scheduled_hours: f64,
    pub downtime_hours: f64,
    pub down_intervals: usize,
}

/// Everything `explain` reports.
#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    pub kpi: String,
    pub name: Option<String>,
    pub form: &'static str,
    pub period: String,
    pub start: String,
    pub end: String,
    pub complete: bool,
    pub entity: Option<std::collections::BTreeMap<String, EntityValue>>,
    pub value: Option<f64>,
    pub unit: Option<String>,
    pub target: Option<String>,
    pub warning: Option<String>,
    pub target_note: Option<String>,
    pub status: Option<Status>,
    pub attainment: Option<f64>,
    /// Why the status is what it is, in one sentence.
    pub reason: String,
    pub source: Option<String>,
    pub files: Vec<String>,
    /// A standalone query computing the value of this period and entity.
    pub sql: Option<String>,
    /// DataFusion's optimised logical plan of that query.
    pub plan: Option<String>,
    /// For a database source: the SQL the database runs for the
    /// evaluation's aggregate (pushed down), absent when rows are read.
    pub database_sql: Option<String>,
    pub rows_in_period: Option<i64>,
    pub rows_after_filter: Option<i64>,
    pub inputs: Vec<Input>,
    pub availability: Option<AvailabilityDetail>,
}

/// Parses `col=value` pairs against the entity columns of a KPI.
fn entity_key(kpi: &MeasureDef, entity: &[(String, String)], known: &[Key]) -> Result<Key, EvalError> {
    let cols: Vec<&str> = kpi.for_each.iter().map(|c| c.as_str()).collect();
    if cols.is_empty() {
        if let Some((c, _)) = entity.first() {
            return Err(EvalError::Data(format!(
                "`{}` has no for_each, so `--entity {c}=…` does not apply",
                kpi.id.value
            )));
        }
        return Ok(Vec::new());
    }
    for (c, _) in entity {
        if !cols.contains(&c.as_str()) {
            return Err(EvalError::Data(format!(
                "`{}` is split by {}, not by `{c}`",
                kpi.id.value,
                cols.join(", ")
            )));
        }
    }
    let wanted: Vec<Option<&str>> = cols
        .iter()
        .map(|c| entity.iter().find(|(k, _)| k == c).map(|(_, v)| v.as_str()))
        .collect();
    if wanted.iter().any(Option::is_none) {
        let example: Vec<String> = cols.iter().map(|c| format!("--entity {c}=…")).collect();
        let some: Vec<String> = known
            .iter()
            .take(5)
            .map(|k| k.iter().map(ToString::to_string).collect::<Vec<_>>().join("/"))
            .collect();
        return Err(EvalError::Data(format!(
            "`{}` is evaluated per {}: name the entity with {} (e.g. {})",
            kpi.id.value,
            cols.join(", "),
            example.join(" "),
            some.join(", ")
        )));
    }
    known
        .iter()
        .find(|k| {
            k.iter()
                .zip(&wanted)
                .all(|(v, w)| Some(v.to_string().as_str()) == *w)
        })
        .cloned()
        .ok_or_else(|| {
            let some: Vec<String> = known
                .iter()
                .take(8)
                .map(|k| k.iter().map(ToString::to_string).collect::<Vec<_>>().join("/"))
                .collect();
            EvalError::Data(format!("no such entity; known: {}", some.join(", ")))
        })
}

fn literal(v: &EntityValue) -> String {
    match v {
        EntityValue::Null => "NULL".into(),
        EntityValue::Bool(b) => b.to_string(),
        EntityValue::Int(i) => i.to_string(),
        EntityValue::Str(s) => format!("'{}'", s.replace('\'', "''")),
    }
}

/// The KPI named `kpi_id` and its period labelled `period_label` (a
/// rolling window is named by its last day), or what is wrong with them.
pub(crate) fn resolve_period<'p>(
    project: &'p Project,
    kpi_id: &str,
    period_label: &str,
) -> Result<
    (
        &'p MeasureDef,
        yardstick_core::model::Cadence,
        yardstick_core::calendar::Period,
    ),
    EvalError,
> {
    let kpi = project.kpis.get(kpi_id).ok_or_else(|| {
        let known: Vec<&str> = project.kpis.keys().map(String::as_str).collect();
        EvalError::Data(format!("unknown KPI `{kpi_id}`; known: {}", known.join(", ")))
    })?;
    let cadence = kpi.cadence.as_ref().map(|c| c.value).ok_or_else(|| {
        EvalError::Data(format!(
            "`{kpi_id}` has no `every` or `window`, so it has no periods"
        ))
    })?;
    let cal = project.settings.calendar();
    let period = match cadence {
        yardstick_core::model::Cadence::Every(_) => cal.parse_label(period_label),
        yardstick_core::model::Cadence::Window { days } => cal
            .parse_label(period_label)
            .filter(|p| p.kind == PeriodKind::Calendar(yardstick_core::Grain::Day))
            .map(|d| cal.window_ending(days, d.first)),
    }
    .ok_or_else(|| {
        EvalError::Data(format!(
            "`{period_label}` is not a period label such as 2026-10, 2026-Q4, 2026-W42 or 2026-10-14"
        ))
    })?;
    let expected_kind = match cadence {
        yardstick_core::model::Cadence::Every(g) => PeriodKind::Calendar(g),
        yardstick_core::model::Cadence::Window { days } => PeriodKind::Rolling { days },
    };
    if period.kind != expected_kind {
        return Err(EvalError::Data(format!(
            "`{kpi_id}` is evaluated per {}, and `{period_label}` is not such a period",
            match cadence {
                yardstick_core::model::Cadence::Every(g) => g.name().to_string(),
                yardstick_core::model::Cadence::Window { days } =>
                    format!("rolling {days}-day window (name its last day)"),
            }
        )));
    }
    Ok((kpi, cadence, period))
}

/// Explains `kpi` in the period labelled `period`.
pub async fn explain(
    project: &Project,
    catalog: &Catalog,
    kpi_id: &str,
    period_label: &str,
    entity: &[(String, String)],
    as_of: chrono::DateTime<chrono::Utc>,
) -> Result<Explanation, EvalError> {
    let (kpi, cadence, period) = resolve_period(project, kpi_id, period_label)?;
    let cal = project.settings.calendar();
    let opts = EvalOptions {
        as_of,
        from: None,
        // Up to the period itself: a rolling window is found by its last day.
        to: Some(
            match cadence {
                yardstick_core::model::Cadence::Every(_) => cal.start(&period),
                yardstick_core::model::Cadence::Window { .. } => {
                    cal.start_of_day(period.end.pred_opt().unwrap_or(period.end))
                }
            }
            .with_timezone(&chrono::Utc),
        ),
        kpis: vec![kpi_id.to_string()],
        by: None,
        projections: false,
    };
    let mut prepared = prepare(project, catalog, &opts).await?;
    let node = NodeKey {
        id: kpi_id.to_string(),
        cadence: CadenceKey::of(cadence),
        entity: kpi.for_each.iter().map(|e| e.value.clone()).collect(),
    };
    let series = prepared.ev.compute(&node, 0).await?;
    let frame = prepared
        .ev
        .frames
        .get(&node.cadence)
        .cloned()
        .ok_or_else(|| EvalError::Internal("no frame".into()))?;
    let Some(p) = frame.index_of(&period) else {
        return Err(EvalError::Data(format!(
            "`{period_label}` is before the first data of `{kpi_id}` or after --as-of"
        )));
    };
    let key = entity_key(kpi, entity, &series.entities)?;
    let value = series.get(&key, p);
    let (target, warning) = kpi.thresholds_at(period.first);
    let status = judge(value, target.map(|t| t.target), warning.map(|w| w.target));
    let target_note = kpi
        .targets
        .iter()
        .rev()
        .find(|t| t.from.value <= period.first)
        .map(|t| {
            let note = t.note.as_ref().map(|n| format!(" ({n})")).unwrap_or_default();
            format!("in force from {}{note}", t.from.value)
        });
    let unit = kpi.display_unit();
    let start = cal.start(&period);
    let end = cal.end(&period);
    let start_us = start.timestamp_micros();
    let end_us = end
        .timestamp_micros()
        .min(as_of.timestamp_micros().saturating_add(1));
    let measure = kpi.measure.as_ref().map(|m| &m.value);
    let mut x = Explanation {
        kpi: kpi_id.to_string(),
        name: kpi.name.clone(),
        form: measure.map_or("none", Measure::form),
        period: cal.label(&period),
        start: start.to_rfc3339(),
        end: end.to_rfc3339(),
        complete: end.with_timezone(&chrono::Utc) <= as_of,
        entity: (!node.entity.is_empty())
            .then(|| node.entity.iter().cloned().zip(key.iter().cloned()).collect()),
        value,
        unit: kpi.display_unit().map(str::to_string),
        target: target.map(|t| t.text.clone()),
        warning: warning.map(|w| w.text.clone()),
        target_note,
        status,
        attainment: attainment(value, target.map(|t| t.target)),
        reason: String::new(),
        source: None,
        files: Vec::new(),
        sql: None,
        plan: None,
        database_sql: None,
        rows_in_period: None,
        rows_after_filter: None,
        inputs: Vec::new(),
        availability: None,
    };
    let ev = &prepared.ev;
    if matches!(
        measure,
        Some(Measure::Aggregate { .. } | Measure::Share { .. } | Measure::Percentile { .. })
    ) {
        x.database_sql = ev.database_sql(&node).await?;
    }
    match measure {
        Some(Measure::Aggregate { source, filter, .. })
        | Some(Measure::Share { source, filter, .. })
        | Some(Measure::Percentile { source, filter, .. }) => {
            let m = measure.ok_or_else(|| EvalError::Internal("no measure".into()))?;
            let src = project
                .sources
                .get(&source.value)
                .ok_or_else(|| EvalError::Internal("no source".into()))?;
            let time = match &src.shape {
                Shape::Event { time } => time.value.clone(),
                Shape::Interval { start, .. } => start.value.clone(),
                Shape::Reference => String::new(),
            };
            let (aggs, _) = ev.leaf_exprs(m, 0)?;
            let ts = |us: i64| {
                let t = crate::udf::from_micros(us).unwrap_or_default();
                format!(
                    "CAST('{}' AS TIMESTAMP)",
                    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
                )
            };
            let mut conds = vec![
                format!("{} >= {}", quote(&time), ts(start_us)),
                format!("{} < {}", quote(&time), ts(end_us)),
            ];
            for (c, v) in node.entity.iter().zip(&key) {
                conds.push(match v {
                    EntityValue::Null => format!("{} IS NULL", quote(c)),
                    v => format!("{} = {}", quote(c), literal(v)),
                });
            }
            let filtered = filter.as_ref().map_or_else(
                || "count(*)".to_string(),
                |f| format!("count(*) FILTER (WHERE ({}))", f.text),
            );
            let sql = format!(
                "SELECT count(*) AS rows_in_period, {filtered} AS rows_after_filter, {}\nFROM {}\nWHERE {}",
                aggs.join(", "),
                quote(&source.value),
                conds.join("\n  AND ")
            );
            let df = catalog
                .ctx
                .sql(&sql)
                .await
                .map_err(|e| EvalError::Data(df_message(&e)))?;
            x.plan = df
                .clone()
                .into_optimized_plan()
                .ok()
                .map(|p| p.display_indent().to_string());
            let batches = df.collect().await.map_err(|e| EvalError::Data(df_message(&e)))?;
            let count = |i: usize| {
                batches
                    .first()
                    .and_then(|b| b.column(i).as_primitive_opt::<Int64Type>().map(|a| a.value(0)))
            };
            x.rows_in_period = count(0);
            x.rows_after_filter = count(1);
            x.sql = Some(sql);
            x.source = Some(source.value.clone());
            x.files = catalog
                .tables
                .get(&source.value)
                .map(|t| t.files.clone())
                .unwrap_or_default();
        }
        // Per-unit detail is exact for a plain or per-entity availability;
        // a fleet total is explained by its per-unit KPI.
        Some(Measure::Availability {
            down, exclude, per, ..
        }) if per.is_none() || !node.entity.is_empty() => {
            let unit_col = node.entity.first().map(String::as_str);
            let down_rows = ev.intervals(&down.value, unit_col).await?;
            let excl = match exclude {
                Some(e) => ev.intervals(&e.value, None).await?,
                None => Vec::new(),
            };
            let mine = |u: &EntityValue| key.is_empty() || key.first() == Some(u);
            let d: Vec<_> = down_rows
                .iter()
                .filter(|(_, u)| mine(u))
                .map(|(s, _)| *s)
                .collect();
            let xs: Vec<_> = excl.iter().map(|(s, _)| *s).collect();
            let (downtime, scheduled) =
                yardstick_core::intervals::down_and_scheduled(&d, &xs, start_us, end_us);
            let hours = |us: i64| us as f64 / 3.6e9;
            x.availability = Some(AvailabilityDetail {
                period_hours: hours(end_us - start_us),
                excluded_hours: hours(end_us - start_us - scheduled),
                scheduled_hours: hours(scheduled),
                downtime_hours: hours(downtime),
                down_intervals: d.iter().filter(|(s, e)| *s < end_us && *e > start_us).count(),
            });
            x.source = Some(down.value.clone());
        }
        Some(other) => {
            let mut seen = std::collections::HashSet::new();
            for input in other.inputs() {
                if !seen.insert(input.value.clone()) {
                    continue;
                }
                let child = NodeKey {
                    id: input.value.clone(),
                    ..node.clone()
                };
                let Some(s) = ev.series.get(&child) else { continue };
                let def = ev.measure(&input.value)?;
                let at = |q: Option<usize>| Input {
                    id: input.value.clone(),
                    kind: def.kind.table(),
                    form: def.measure.as_ref().map_or("none", |m| m.value.form()),
                    value: q.and_then(|q| s.get(&key, q)),
                    period: q.map_or_else(|| "(before the data)".into(), |q| cal.label(&frame.periods[q])),
                };
                x.inputs.push(at(Some(p)));
                // Growth also reads its input at the reference period.
                if let Measure::Growth { vs, .. } = other {
                    let q = match vs {
                        yardstick_core::model::GrowthRef::Previous => p.checked_sub(1),
                        yardstick_core::model::GrowthRef::YearAgo => frame.index_of(&cal.year_ago(&period)),
                    };
                    x.inputs.push(at(q));
                }
            }
        }
        None => {}
    }
    x.reason = reason(&x, unit);
    Ok(x)
}

fn reason(x: &Explanation, unit: Option<&str>) -> String {
    let Some(v) = x.value else {
        let why = match (x.rows_in_period, x.rows_after_filter) {
            (Some(0), _) => "there are no rows in this period".to_string(),
            (Some(_), Some(0)) => "no row passes the filter".to_string(),
            _ if x.form == "ratio" => "the denominator has no value or is 0".to_string(),
            _ if x.form == "growth" => "the reference period has no value or is 0".to_string(),
            _ if !x.inputs.is_empty() => "an input has no value".to_string(),
            _ if x.availability.as_ref().is_some_and(|a| a.scheduled_hours == 0.0) => {
                "the whole period is excluded".to_string()
            }
            _ => "the measure gives no value on these rows".to_string(),
        };
        return format!("No value ({why}), so the status is no_data.");
    };
    let shown = yardstick_core::format::value_in_words(v, unit);
    match (x.status, &x.target, &x.warning) {
        (_, None, _) => format!("{shown}; no target is in force for this period, so there is no status."),
        (Some(Status::Met), Some(t), _) => format!("{shown} meets the target {t}: met."),
        (Some(Status::Warning), Some(t), Some(w)) => {
            format!("{shown} misses the target {t} but meets the warning threshold {w}: warning.")
        }
        (_, Some(t), Some(w)) => {
            format!("{shown} misses the target {t} and the warning threshold {w}: missed.")
        }
        (_, Some(t), None) => format!("{shown} misses the target {t}: missed."),
    }
}
