//! Data freshness: a source whose newest row, at the evaluation instant, is
//! older than its `freshness` is stale (LANGUAGE.md §3). Rows after the
//! evaluation instant do not count, as in evaluation.

use chrono::{DateTime, Utc};
use datafusion::arrow::array::{Array, TimestampMicrosecondArray};
use datafusion::common::ScalarValue;
use datafusion::functions_aggregate::expr_fn::max;
use datafusion::prelude::{ident, lit};
use serde::Serialize;
use yardstick_core::model::{Project, Shape};

use crate::eval::EvalError;
use crate::sources::{Catalog, df_message};

/// A stale source.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stale {
    pub source: String,
    /// The newest row's time (RFC 3339, UTC); `None` when there is no row.
    pub newest: Option<String>,
    /// How old the newest row is at the evaluation instant, in hours.
    pub age_hours: Option<f64>,
    /// The source's `freshness`, as written.
    pub freshness: String,
    pub owner: Option<String>,
    /// A sentence for people.
    pub message: String,
}

/// The stale sources of `project` at `as_of`, in definition order.
pub async fn stale_sources(
    project: &Project,
    catalog: &Catalog,
    as_of: DateTime<Utc>,
) -> Result<Vec<Stale>, EvalError> {
    let mut out = Vec::new();
    for s in project.sources.values() {
        let Some(fresh) = &s.freshness else { continue };
        let col = match &s.shape {
            Shape::Event { time } => &time.value,
            Shape::Interval { start, .. } => &start.value,
            Shape::Reference => continue,
        };
        if !catalog.tables.contains_key(&s.id.value) {
            continue;
        }
        let context = |e: datafusion::error::DataFusionError| {
            EvalError::Data(format!("freshness of `{}`: {}", s.id.value, df_message(&e)))
        };
        // A database finds its newest row itself.
        let pushed = match catalog.databases.get(&s.id.value) {
            Some(db) => {
                let before = as_of.timestamp_micros().saturating_add(1);
                crate::database::time_extreme(db, &s.id.value, col, project.settings.timezone, Some(before))
                    .await
            }
            None => None,
        };
        let bound = lit(ScalarValue::TimestampMicrosecond(
            Some(as_of.timestamp_micros()),
            Some("UTC".into()),
        ));
        let newest_us = match pushed {
            Some(newest) => newest.map_err(context)?,
            None => newest_in(catalog, &s.id.value, col, bound)
                .await
                .map_err(context)?,
        };
        let newest = newest_us.and_then(DateTime::from_timestamp_micros);
        let age = newest.map(|t| as_of - t);
        let limit = fresh.value.to_chrono();
        if age.is_some_and(|a| a <= limit) {
            continue;
        }
        let owner = s.owner.clone();
        let who = owner
            .as_deref()
            .map(|o| format!("; owner: {o}"))
            .unwrap_or_default();
        let message = match (newest, age) {
            (Some(t), Some(a)) => format!(
                "source `{}` is stale: its newest row ({}) is {} old at {} (freshness {}){who}",
                s.id.value,
                t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                human(a),
                as_of.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                fresh.value
            ),
            _ => format!(
                "source `{}` is stale: it has no row up to {} (freshness {}){who}",
                s.id.value,
                as_of.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                fresh.value
            ),
        };
        out.push(Stale {
            source: s.id.value.clone(),
            newest: newest.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
            age_hours: age.map(|a| a.num_seconds() as f64 / 3600.0),
            freshness: fresh.value.to_string(),
            owner,
            message,
        });
    }
    Ok(out)
}

/// `3 days 4 hours`, `5 hours 10 minutes`, `12 minutes`.
fn human(d: chrono::Duration) -> String {
    let (days, hours, minutes) = (d.num_days(), d.num_hours() % 24, d.num_minutes() % 60);
    let unit = |n: i64, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
    match (days, hours) {
        (0, 0) => unit(minutes, "minute"),
        (0, h) => format!("{} {}", unit(h, "hour"), unit(minutes, "minute")),
        (d, h) => format!("{} {}", unit(d, "day"), unit(h, "hour")),
    }
}

/// The newest time of a registered source up to `bound`, read here.
async fn newest_in(
    catalog: &Catalog,
    source: &str,
    col: &str,
    bound: datafusion::prelude::Expr,
) -> datafusion::error::Result<Option<i64>> {
    let batches = catalog
        .ctx
        .table(source)
        .await?
        .filter(ident(col).lt_eq(bound))?
        .aggregate(vec![], vec![max(ident(col)).alias("newest")])?
        .collect()
        .await?;
    Ok(batches
        .first()
        .and_then(|b| b.column(0).as_any().downcast_ref::<TimestampMicrosecondArray>())
        .filter(|a| !a.is_empty() && !a.is_null(0))
        .map(|a| a.value(0)))
}
