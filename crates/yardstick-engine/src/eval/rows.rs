//! What an evaluation returns — a row per KPI × period × entity with its
//! value, target and status — and how a computed series becomes rows.

use super::*;

/// One value of an entity column.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(untagged)]
pub enum EntityValue {
    Null,
    Bool(bool),
    Int(i64),
    Str(String),
}

impl std::fmt::Display for EntityValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EntityValue::Null => f.write_str("∅"),
            EntityValue::Bool(b) => write!(f, "{b}"),
            EntityValue::Int(i) => write!(f, "{i}"),
            EntityValue::Str(s) => f.write_str(s),
        }
    }
}

/// An entity for people: `col=value col=value` (empty for none).
pub fn entity_words(entity: Option<&BTreeMap<String, EntityValue>>) -> String {
    entity
        .map(|e| {
            e.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default()
}

/// ` [col=value]` after a KPI id, or nothing.
pub(crate) fn bracketed(entity: Option<&BTreeMap<String, EntityValue>>) -> String {
    match entity_words(entity) {
        w if w.is_empty() => w,
        w => format!(" [{w}]"),
    }
}

/// Values of the entity columns, in the order of `for_each`.
pub type Key = Vec<EntityValue>;

/// An instant as the language page writes it: RFC 3339 with the offset.
fn rfc3339<S: serde::Serializer>(t: &DateTime<chrono_tz::Tz>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&t.to_rfc3339())
}

/// One row of `yardstick eval` (LANGUAGE.md §7).
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub kpi: String,
    pub period: String,
    /// The period's first instant, in the project's zone (serialised as
    /// RFC 3339 with the zone's offset then, e.g. `+01:00`).
    #[serde(serialize_with = "rfc3339")]
    pub start: DateTime<chrono_tz::Tz>,
    /// The instant the period ends (exclusive).
    #[serde(serialize_with = "rfc3339")]
    pub end: DateTime<chrono_tz::Tz>,
    pub entity: Option<BTreeMap<String, EntityValue>>,
    pub value: Option<f64>,
    /// The target in force, as written.
    pub target: Option<String>,
    /// The same target, typed (for display: [`yardstick_core::format::target`]).
    #[serde(skip)]
    pub threshold: Option<yardstick_core::Target>,
    pub status: Option<Status>,
    pub attainment: Option<f64>,
    pub complete: bool,
    pub previous: Option<f64>,
    pub baseline: Option<f64>,
    pub benchmark: Option<f64>,
    pub warning: Option<String>,
    pub unit: Option<String>,
    /// What the value is a share of: rows judged (share) or scheduled
    /// minutes (availability); absent for other forms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub basis: Option<f64>,
    /// Where an incomplete period is heading ([`crate::projection`]);
    /// absent for complete periods and breakdowns.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub projection: Option<crate::projection::Projection>,
}

impl Row {
    /// The entity as compact JSON (`""` for a KPI without entities): a
    /// stable key for CSV cells, history rows and metric series.
    pub fn entity_json(&self) -> String {
        self.entity
            .as_ref()
            .map(|e| serde_json::to_string(e).unwrap_or_default())
            .unwrap_or_default()
    }
}

/// The outcome of an evaluation.
#[derive(Debug, Clone, Serialize)]
pub struct Evaluation {
    pub as_of: yardstick_core::time::Instant,
    pub evaluations: Vec<Row>,
}

impl Evaluator<'_> {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn rows_for(
        &self,
        k: &MeasureDef,
        node: &NodeKey,
        series: &Series,
        kpi_start: Option<i64>,
        own_start: Option<i64>,
        opts: &EvalOptions,
        out: &mut Vec<Row>,
    ) {
        let Some(frame) = self.frames.get(&node.cadence) else {
            return;
        };
        let start_at = opts
            .from
            .or_else(|| kpi_start.and_then(crate::udf::from_micros))
            .unwrap_or(self.as_of);
        let first = self.cal.period_containing(frame.kind, &start_at);
        let benchmark = k.benchmark.as_ref().map(|b| b.value);
        let growth = match frame.kind {
            PeriodKind::Calendar(_) if opts.by.is_none() && opts.projections => {
                crate::projection::growth_of(k)
            }
            _ => None,
        };
        // Projections learn from the KPI's own periods only (not from the
        // empty periods before its first data, nor cut by --from).
        let own_first = own_start
            .and_then(crate::udf::from_micros)
            .map_or(self.as_of, |t| t.min(self.as_of));
        let own_first = self.cal.period_containing(frame.kind, &own_first);
        let history_from = frame
            .periods
            .iter()
            .position(|q| q.first >= own_first.first)
            .unwrap_or(frame.periods.len());
        for (p, period) in frame.periods.iter().enumerate() {
            if period.first < first.first {
                continue;
            }
            let start = self.cal.start(period);
            let end = self.cal.end(period);
            let complete = end.with_timezone(&Utc) <= self.as_of;
            let (target, warning) = k.thresholds_at(period.first);
            for (e, key) in series.entities.iter().enumerate() {
                let value = series.values[e][p];
                let (target, warning) = if opts.by.is_some() {
                    (None, None)
                } else {
                    (target, warning)
                };
                let status = judge(value, target.map(|t| t.target), warning.map(|w| w.target));
                let projection = match growth {
                    Some(g) if !complete && start.with_timezone(&Utc) <= self.as_of => {
                        let span = (end - start).num_milliseconds().max(1) as f64;
                        let elapsed =
                            (self.as_of - start.with_timezone(&Utc)).num_milliseconds() as f64 / span;
                        let history = &series.values[e][history_from.min(p)..p];
                        crate::projection::project_with(
                            &|y: &[f64], m: usize| self.forecast_one_ahead(y, m),
                            g,
                            crate::projection::value_domain(k, history.iter().flatten().copied()),
                            history,
                            value,
                            elapsed,
                            season_of(frame.kind),
                            target.map(|t| t.target),
                        )
                    }
                    _ => None,
                };
                let entity = (!node.entity.is_empty()).then(|| {
                    node.entity
                        .iter()
                        .cloned()
                        .zip(key.iter().cloned())
                        .collect::<BTreeMap<_, _>>()
                });
                out.push(Row {
                    kpi: k.id.value.clone(),
                    period: self.cal.label(period),
                    start,
                    end,
                    entity,
                    value,
                    target: target.map(|t| t.text.clone()),
                    threshold: target.map(|t| t.target),
                    status,
                    attainment: attainment(value, target.map(|t| t.target)),
                    complete,
                    previous: p
                        .checked_sub(1)
                        .filter(|q| *q >= history_from)
                        .and_then(|q| series.values[e][q]),
                    baseline: self.baseline(k, frame, &series.values[e]),
                    benchmark,
                    warning: warning.map(|w| w.text.clone()),
                    unit: k.display_unit().map(str::to_string),
                    basis: series.basis.get(e).and_then(|b| b[p]),
                    projection,
                });
            }
        }
    }

    /// A number, or the mean of the values of the periods inside a label's range.
    pub(super) fn baseline(&self, k: &MeasureDef, frame: &Frame, values: &[Option<f64>]) -> Option<f64> {
        match k.baseline.as_ref()? {
            Baseline::Value(v) => Some(*v),
            Baseline::Period(label) => {
                let range = self.cal.parse_label(&label.value)?;
                let inside: Vec<f64> = frame
                    .periods
                    .iter()
                    .zip(values)
                    .filter(|(p, _)| p.first >= range.first && p.end <= range.end)
                    .filter_map(|(_, v)| *v)
                    .collect();
                (!inside.is_empty()).then(|| inside.iter().sum::<f64>() / inside.len() as f64)
            }
        }
    }
}
