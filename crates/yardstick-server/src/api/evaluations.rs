//! `/api/v1/evaluations` and `/api/v1/restatements`: rows of the snapshot,
//! filtered; values that changed after they were first reported.

use super::*;

/// Filters of `GET /api/v1/evaluations`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EvalQuery {
    /// KPI ids, comma-separated (default: every KPI you may see).
    pub kpi: Option<String>,
    /// Periods that end after this time (`2026-07`, `2026-07-15` or RFC 3339).
    pub from: Option<String>,
    /// Periods that start at or before this time.
    pub to: Option<String>,
    /// `column=value`, or a value of any entity column.
    pub entity: Option<String>,
    /// What was reported at that time (from the evaluation history).
    pub as_reported: Option<String>,
}

pub(super) fn row_entity_matches(
    entity: &Option<BTreeMap<String, yardstick_engine::eval::EntityValue>>,
    f: &str,
) -> bool {
    entity
        .as_ref()
        .is_some_and(|e| entity_matches(e.iter().map(|(k, v)| (k.as_str(), v.to_string())), f))
}

/// `GET /api/v1/evaluations` (rows as LANGUAGE.md §7).
#[derive(Debug, Serialize, ToSchema)]
pub struct Evaluations {
    pub as_of: String,
    #[schema(value_type = Vec<Object>)]
    pub evaluations: Vec<Value>,
}

#[utoipa::path(get, path = "/api/v1/evaluations", security(("bearer" = [])), params(EvalQuery),
    responses((status = 200, body = Evaluations), (status = 400, body = ErrorBody),
              (status = 404, description = "A `kpi` that does not exist or is not shared with this token's party", body = ErrorBody)))]
pub(super) async fn evaluations(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    ApiQuery(q): ApiQuery<EvalQuery>,
) -> ApiResult<Response> {
    let snap = state.snapshot();
    let project = &snap.project;
    let wanted = kpi_filter(&p, q.kpi.as_deref());
    if let Some(k) = q.kpi.as_deref() {
        for id in k.split(',').map(str::trim) {
            if !project.kpis.contains_key(id) || !p.can_see_kpi(id) {
                return Err(ApiError::unknown(Thing::Kpi, id));
            }
        }
    }
    if let Some(t) = &q.as_reported {
        let at = parse_instant(project, t, "as_reported")?;
        let rows = state.store().reported_as_of(at.timestamp_micros()).await?;
        let out = rows
            .into_iter()
            .filter(|r| wanted(&r.kpi))
            .map(|r| {
                let entity: Value = if r.entity.is_empty() {
                    Value::Null
                } else {
                    serde_json::from_str(&r.entity).unwrap_or(Value::Null)
                };
                json!({"kpi": r.kpi, "period": r.period, "entity": entity, "value": r.value,
                       "status": r.status, "complete": r.complete,
                       "evaluated_at": micros_rfc3339(r.evaluated_at)})
            })
            .filter(|v| match (&q.entity, v["entity"].as_object()) {
                (None, _) => true,
                (Some(f), Some(m)) => entity_matches(
                    m.iter().map(|(k, v)| {
                        (
                            k.as_str(),
                            v.as_str().map_or_else(|| v.to_string(), str::to_string),
                        )
                    }),
                    f,
                ),
                (Some(_), None) => false,
            })
            .collect();
        return Ok(Json(Evaluations {
            as_of: rfc3339(at),
            evaluations: out,
        })
        .into_response());
    }
    let (from, to) = time_range(project, q.from.as_deref(), q.to.as_deref())?;
    let (from, to) = (
        from.map(|t| t.timestamp_micros()),
        to.map(|t| t.timestamp_micros()),
    );
    // Rows are serialised once per evaluation: filter, then copy their JSON.
    let mut body = String::with_capacity(4096);
    body.push_str("{\"as_of\":");
    body.push_str(
        &serde_json::to_string(&snap.evaluation.as_of).map_err(|e| ApiError::Internal(e.to_string()))?,
    );
    body.push_str(",\"evaluations\":[");
    let mut first = true;
    for (r, prepared) in snap.evaluation.evaluations.iter().zip(&snap.rows) {
        if !wanted(&r.kpi)
            || q.entity
                .as_deref()
                .is_some_and(|f| !row_entity_matches(&r.entity, f))
            || from.is_some_and(|f| prepared.end <= f)
            || to.is_some_and(|t| prepared.start > t)
        {
            continue;
        }
        if !first {
            body.push(',');
        }
        first = false;
        body.push_str(&prepared.json);
    }
    body.push_str("]}");
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// Filter of `GET /api/v1/restatements`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct KpiQuery {
    /// KPI ids, comma-separated.
    pub kpi: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/restatements", security(("bearer" = [])), params(KpiQuery),
    responses((status = 200, description = "Values of ended periods changed after they were reported", body = Object)))]
pub(super) async fn restatements(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    ApiQuery(q): ApiQuery<KpiQuery>,
) -> ApiResult<Json<Value>> {
    let wanted = kpi_filter(&p, q.kpi.as_deref());
    let rows: Vec<Value> = state
        .store()
        .restatements()
        .await?
        .into_iter()
        .filter(|r| wanted(&r.kpi))
        .map(|r| {
            let entity: Value = serde_json::from_str(&r.entity).unwrap_or(Value::Null);
            json!({"kpi": r.kpi, "period": r.period, "entity": entity,
                   "before": r.before, "before_status": r.before_status,
                   "after": r.after, "after_status": r.after_status,
                   "reported_at": micros_rfc3339(r.reported_at), "restated_at": micros_rfc3339(r.restated_at)})
        })
        .collect();
    Ok(Json(json!({ "restatements": rows })))
}
