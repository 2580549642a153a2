//! Integration tests of `yardstick-engine`: every measure form on small
//! projects written to disk, against values computed by hand.

mod burn;
mod contracts;
mod database;
mod freshness;
mod history;
mod incremental;
mod ingest;
mod measures;
mod projections;
mod reconcile;
mod typing;
mod why;
mod why_availability;

use std::path::Path;

use chrono::{DateTime, Utc};
use yardstick_engine::eval::{EvalOptions, Row};

/// Writes `yardstick.toml` (the project header plus `body`) and data files.
pub fn project(tz: &str, body: &str, files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let head = format!("[project]\nname = \"t\"\ntimezone = \"{tz}\"\n\n");
    std::fs::write(dir.path().join("yardstick.toml"), head + body).expect("write toml");
    std::fs::create_dir_all(dir.path().join("data")).expect("data dir");
    for (path, text) in files {
        std::fs::write(dir.path().join(path), text).expect("write data");
    }
    dir
}

pub fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("instant")
        .with_timezone(&Utc)
}

/// Loads, checks (definitions and data) and evaluates a project.
pub fn evaluate(dir: &Path, as_of: &str) -> (yardstick_core::Project, yardstick_engine::Evaluation) {
    let loaded = yardstick_engine::load_dir(dir);
    assert!(!loaded.diagnostics.has_errors(), "{:#?}", loaded.diagnostics);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let data = rt.block_on(yardstick_engine::check_data(&loaded.project, dir));
    assert!(!data.has_errors(), "{data:#?}");
    let opts = EvalOptions {
        as_of: utc(as_of),
        from: None,
        to: None,
        kpis: Vec::new(),
        by: None,
        projections: true,
    };
    let (ev, d) = rt
        .block_on(yardstick_engine::evaluate_dir(&loaded.project, dir, &opts))
        .expect("evaluation");
    assert!(!d.has_errors(), "{d:#?}");
    (loaded.project, ev)
}

/// The rows of [`evaluate`].
pub fn eval(dir: &Path, as_of: &str) -> Vec<Row> {
    evaluate(dir, as_of).1.evaluations
}

/// The row of a KPI, period and (optional) entity value.
pub fn row<'a>(rows: &'a [Row], kpi: &str, period: &str, entity: Option<&str>) -> &'a Row {
    rows.iter()
        .find(|r| {
            r.kpi == kpi
                && r.period == period
                && match entity {
                    None => r.entity.is_none(),
                    Some(e) => r
                        .entity
                        .as_ref()
                        .is_some_and(|m| m.values().any(|v| v.to_string() == e)),
                }
        })
        .unwrap_or_else(|| {
            panic!(
                "no row {kpi} {period} {entity:?} in {:#?}",
                rows.iter()
                    .filter(|r| r.kpi == kpi)
                    .map(|r| (&r.period, &r.entity, r.value))
                    .collect::<Vec<_>>()
            )
        })
}

pub fn value(rows: &[Row], kpi: &str, period: &str, entity: Option<&str>) -> Option<f64> {
    row(rows, kpi, period, entity).value
}

pub fn assert_close(got: Option<f64>, want: f64) {
    let g = got.unwrap_or_else(|| panic!("no value, wanted {want}"));
    assert!(
        (g - want).abs() <= 1e-12 * want.abs().max(1.0),
        "got {g}, wanted {want}"
    );
}
