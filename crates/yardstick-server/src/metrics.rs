//! `GET /metrics`: the latest complete value, target and status of each
//! KPI (and entity) in Prometheus' text format, for Prometheus and Grafana.
//!
//! - `yardstick_kpi_value{kpi, period, <entity columns>}` — the value;
//! - `yardstick_kpi_target{kpi, op}` — the bound(s) of the target in force
//!   (`op` is `>=`, `>`, `<=` or `<`; `between` gives two series);
//! - `yardstick_kpi_status{kpi, status}` — 1 for the status, 0 for the
//!   others (a state set);
//! - `yardstick_kpi_attainment`, `yardstick_evaluated_timestamp_seconds`.
//!
//! A party token sees only the KPIs shared with it.

use std::collections::BTreeMap;
use std::fmt::Write;

use axum::Extension;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use yardstick_engine::eval::Row;

use crate::{AppState, Principal};

const STATUSES: [&str; 4] = ["met", "warning", "missed", "no_data"];

/// Escapes a label value (backslash, quote, newline).
fn esc(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// A label name from a column name (`[a-zA-Z_][a-zA-Z0-9_]*`).
fn label_name(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

fn labels(r: &Row) -> String {
    let mut l = format!("kpi=\"{}\",period=\"{}\"", esc(&r.kpi), esc(&r.period));
    if let Some(e) = &r.entity {
        for (k, v) in e {
            let _ = write!(l, ",entity_{}=\"{}\"", label_name(k), esc(&v.to_string()));
        }
    }
    l
}

fn num(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf".into() } else { "-Inf".into() }
    } else {
        format!("{v}")
    }
}

/// The exposition text.
pub fn render(
    rows: &[Row],
    project: &yardstick_core::Project,
    evaluated_at: i64,
    visible: impl Fn(&str) -> bool,
) -> String {
    // The latest complete period of each KPI and entity.
    let mut latest: BTreeMap<(String, String), &Row> = BTreeMap::new();
    for r in rows.iter().filter(|r| r.complete && visible(&r.kpi)) {
        let key = (r.kpi.clone(), r.entity_json());
        match latest.get(&key) {
            Some(old) if old.start >= r.start => {}
            _ => {
                latest.insert(key, r);
            }
        }
    }
    let mut out = String::new();
    out.push_str("# HELP yardstick_kpi_value Value of the latest complete period of a KPI.\n");
    out.push_str("# TYPE yardstick_kpi_value gauge\n");
    for r in latest.values() {
        if let Some(v) = r.value {
            let _ = writeln!(out, "yardstick_kpi_value{{{}}} {}", labels(r), num(v));
        }
    }
    out.push_str(
        "# HELP yardstick_kpi_attainment Attainment of the latest complete period (1 = on target).\n",
    );
    out.push_str("# TYPE yardstick_kpi_attainment gauge\n");
    for r in latest.values() {
        if let Some(a) = r.attainment {
            let _ = writeln!(out, "yardstick_kpi_attainment{{{}}} {}", labels(r), num(a));
        }
    }
    out.push_str(
        "# HELP yardstick_kpi_status Status of the latest complete period (1 for the status it has).\n",
    );
    out.push_str("# TYPE yardstick_kpi_status gauge\n");
    for r in latest.values() {
        let Some(status) = r.status.map(|s| s.as_str()) else {
            continue;
        };
        for s in STATUSES {
            let _ = writeln!(
                out,
                "yardstick_kpi_status{{{},status=\"{s}\"}} {}",
                labels(r),
                u8::from(s == status)
            );
        }
    }
    out.push_str("# HELP yardstick_kpi_target Bound of the KPI's target in force now.\n");
    out.push_str("# TYPE yardstick_kpi_target gauge\n");
    // The target in force at the snapshot's instant, as its rows were judged.
    let today = chrono::DateTime::from_timestamp_micros(evaluated_at)
        .unwrap_or_default()
        .with_timezone(&project.settings.timezone)
        .date_naive();
    for k in project.kpis.values().filter(|k| visible(&k.id.value)) {
        use yardstick_core::model::Target;
        let Some(t) = k.thresholds_at(today).0 else {
            continue;
        };
        let bounds: Vec<(&str, f64)> = match t.target {
            Target::AtLeast(x) => vec![(">=", x)],
            Target::Above(x) => vec![(">", x)],
            Target::AtMost(x) => vec![("<=", x)],
            Target::Below(x) => vec![("<", x)],
            Target::Between(a, b) => vec![(">=", a), ("<=", b)],
        };
        for (op, x) in bounds {
            let _ = writeln!(
                out,
                "yardstick_kpi_target{{kpi=\"{}\",op=\"{op}\"}} {}",
                esc(&k.id.value),
                num(x)
            );
        }
    }
    out.push_str("# HELP yardstick_evaluated_timestamp_seconds When the values were evaluated.\n");
    out.push_str("# TYPE yardstick_evaluated_timestamp_seconds gauge\n");
    let _ = writeln!(
        out,
        "yardstick_evaluated_timestamp_seconds {}",
        evaluated_at as f64 / 1e6
    );
    out
}

#[utoipa::path(get, path = "/metrics", security(("bearer" = [])),
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain", body = String)))]
pub(crate) async fn metrics(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
) -> impl IntoResponse {
    let snap = state.snapshot();
    let text = render(
        &snap.evaluation.evaluations,
        &snap.project,
        snap.evaluated_at.timestamp_micros(),
        |k| p.can_see_kpi(k),
    );
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        text,
    )
}
