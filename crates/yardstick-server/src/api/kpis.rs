//! `/api/v1/kpis`: definitions with their latest value, and a KPI's
//! breakdown, explanation and forecast.

use super::*;

/// A KPI's definition and its latest complete value.
#[derive(Debug, Serialize, ToSchema)]
pub struct KpiSummary {
    pub id: String,
    pub name: String,
    pub objective: Option<String>,
    pub owner: Option<String>,
    pub level: Option<String>,
    pub unit: Option<String>,
    pub tags: Vec<String>,
    /// `month`, `28d` …
    pub period: Option<String>,
    pub for_each: Vec<String>,
    pub dimensions: Vec<String>,
    /// What `why` splits the KPI by for this caller when not told (empty:
    /// it cannot say why without `dimensions`): the declared dimensions and
    /// `for_each` columns, and for an organisation's token a fleet's units.
    pub why_by: Vec<String>,
    /// The target in force now, as written.
    pub target: Option<String>,
    /// Latest complete period's rows (one per entity).
    #[schema(value_type = Vec<Object>)]
    pub latest: Vec<Row>,
}

/// A KPI with its latest complete rows and the target in force at the
/// snapshot's instant `at`, as `p` sees it.
pub(super) fn kpi_summary(
    project: &Project,
    k: &MeasureDef,
    rows: &[Row],
    at: DateTime<Utc>,
    p: &Principal,
) -> KpiSummary {
    let mine: Vec<&Row> = rows
        .iter()
        .filter(|r| r.kpi == k.id.value && r.complete)
        .collect();
    let last = mine.iter().map(|r| r.start).max();
    let latest: Vec<Row> = mine
        .iter()
        .filter(|r| Some(r.start) == last)
        .map(|r| (*r).clone())
        .collect();
    let today = at.with_timezone(&project.settings.timezone).date_naive();
    KpiSummary {
        id: k.id.value.clone(),
        name: k.display_name().to_string(),
        objective: k.objective.clone(),
        owner: k.owner.clone(),
        level: k.level.map(|l| format!("{l:?}").to_lowercase()),
        unit: k.display_unit().map(str::to_string),
        tags: k.tags.clone(),
        period: k.cadence.as_ref().map(|c| match c.value {
            Cadence::Every(g) => g.name().to_string(),
            Cadence::Window { days } => format!("{days}d"),
        }),
        for_each: k.for_each.iter().map(|c| c.value.clone()).collect(),
        dimensions: k.dimensions.iter().map(|c| c.value.clone()).collect(),
        why_by: why_by(k, p),
        target: k.thresholds_at(today).0.map(|t| t.text.clone()),
        latest,
    }
}

/// The default split of `why` for `p`: a party sees the declared
/// dimensions (and `for_each` columns) only.
pub(super) fn why_by(k: &MeasureDef, p: &Principal) -> Vec<String> {
    if p.token.party.is_some() {
        let mut dims: Vec<String> = Vec::new();
        for d in k.dimensions.iter().chain(&k.for_each) {
            if !dims.contains(&d.value) {
                dims.push(d.value.clone());
            }
        }
        dims
    } else {
        yardstick_engine::why::default_dimensions(k)
    }
}

#[utoipa::path(get, path = "/api/v1/kpis", security(("bearer" = [])),
    responses((status = 200, body = Vec<KpiSummary>), (status = 401, body = ErrorBody)))]
pub(super) async fn kpis(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
) -> Json<Vec<KpiSummary>> {
    let snap = state.snapshot();
    let out = snap
        .project
        .kpis
        .values()
        .filter(|k| p.can_see_kpi(&k.id.value))
        .map(|k| {
            kpi_summary(
                &snap.project,
                k,
                &snap.evaluation.evaluations,
                snap.evaluated_at,
                &p,
            )
        })
        .collect();
    Json(out)
}

#[utoipa::path(get, path = "/api/v1/kpis/{id}", security(("bearer" = [])),
    params(("id" = String, Path, description = "KPI id")),
    responses((status = 200, body = KpiSummary), (status = 404, body = ErrorBody)))]
pub(super) async fn kpi(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<KpiSummary>> {
    let snap = state.snapshot();
    match snap.project.kpis.get(&id) {
        Some(k) if p.can_see_kpi(&id) => Ok(Json(kpi_summary(
            &snap.project,
            k,
            &snap.evaluation.evaluations,
            snap.evaluated_at,
            &p,
        ))),
        _ => Err(ApiError::unknown(Thing::Kpi, &id)),
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct BreakdownQuery {
    by: String,
    /// A period label (default: every period).
    period: Option<String>,
}

/// `GET /api/v1/kpis/{id}/breakdown?by=DIM[&period=LABEL]`: the KPI's
/// values by one of its declared dimensions (evaluated on demand).
#[utoipa::path(get, path = "/api/v1/kpis/{id}/breakdown", security(("bearer" = [])),
    params(("id" = String, Path, description = "KPI id"),
           ("by" = String, Query, pattern = r"^[A-Za-z_][A-Za-z0-9_-]*$", description = "a dimension the KPI declares"),
           ("period" = Option<String>, Query, pattern = r"^(FY[0-9]{4}(-Q[1-4])?|[0-9]{4}(-(Q[1-4]|H[12]|W(0[1-9]|[1-4][0-9]|5[0-3])|(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01]))?))?)$", description = "a period label, e.g. 2026-10")),
    responses((status = 200, description = "Rows as `eval --by`", body = Object), (status = 400, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody)))]
pub(crate) async fn breakdown(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<BreakdownQuery>,
) -> Result<Json<Value>, ApiError> {
    let snap = state.snapshot();
    let Some(k) = snap.project.kpis.get(&id).filter(|_| p.can_see_kpi(&id)) else {
        return Err(ApiError::unknown(Thing::Kpi, &id));
    };
    // Well-formed parameters first, then what they name.
    let period = match q.period.as_deref() {
        Some(l) => Some(period_label(&snap.project, l)?),
        None => None,
    };
    if !k.dimensions.iter().any(|d| d.value == q.by) {
        let dims: Vec<&str> = k.dimensions.iter().map(|d| d.value.as_str()).collect();
        return Err(ApiError::BadDimension(format!(
            "`{}` is not a dimension of `{id}`; declared: {}",
            q.by,
            if dims.is_empty() {
                "none".to_string()
            } else {
                dims.join(", ")
            }
        )));
    }
    let project = snap.project.clone();
    let catalog = snap.catalog.clone();
    let opts = EvalOptions {
        as_of: snap.evaluated_at,
        from: None,
        to: None,
        kpis: vec![id.clone()],
        by: Some(q.by.clone()),
        projections: false,
    };
    // On the snapshot's catalog and instant: what the page shows agrees
    // with the rest of the snapshot.
    let ev = state
        .on_engine(async move { yardstick_engine::evaluate(&project, &catalog, &opts).await })
        .await?
        .map_err(ApiError::from)?;
    let rows: Vec<_> = ev
        .evaluations
        .into_iter()
        .filter(|r| period.as_deref().is_none_or(|l| l == r.period))
        .collect();
    Ok(Json(
        json!({"as_of": ev.as_of, "kpi": id, "by": q.by, "evaluations": rows}),
    ))
}

#[derive(Debug, Deserialize)]
pub(crate) struct ExplainQuery {
    period: String,
    /// `col=value`, comma-separated for several columns.
    entity: Option<String>,
}

/// `GET /api/v1/kpis/{id}/explain?period=LABEL[&entity=col=value]`: as
/// `yardstick explain`. Organisation tokens only (it shows queries).
#[utoipa::path(get, path = "/api/v1/kpis/{id}/explain", security(("bearer" = [])),
    params(("id" = String, Path, description = "KPI id"),
           ("period" = String, Query, pattern = r"^(FY[0-9]{4}(-Q[1-4])?|[0-9]{4}(-(Q[1-4]|H[12]|W(0[1-9]|[1-4][0-9]|5[0-3])|(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01]))?))?)$", description = "a period label of the KPI's grain, e.g. 2026-10"),
           ("entity" = Option<String>, Query, pattern = r"^([^,]*=[^,]*)?(,([^,]*=[^,]*)?)*$", description = "col=value[,col=value]")),
    responses((status = 200, description = "As `yardstick explain --format json`", body = Object),
              (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub(crate) async fn explain(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<ExplainQuery>,
) -> Result<Json<Value>, ApiError> {
    let snap = state.snapshot();
    if !snap.project.kpis.contains_key(&id) || !p.can_see_kpi(&id) {
        return Err(ApiError::unknown(Thing::Kpi, &id));
    }
    if p.token.party.is_some() {
        return Err(ApiError::Forbidden(
            "explanations show queries and row counts: they are for the organisation's tokens".into(),
        ));
    }
    let entity = entity_param(q.entity.as_deref())?;
    let period = period_label(&snap.project, &q.period)?;
    let project = snap.project.clone();
    let catalog = snap.catalog.clone();
    let as_of = snap.evaluated_at;
    let x = state
        .on_engine(async move {
            yardstick_engine::explain::explain(&project, &catalog, &id, &period, &entity, as_of).await
        })
        .await?
        .map_err(ApiError::from)?;
    serde_json::to_value(x)
        .map(Json)
        .map_err(|e| ApiError::Internal(e.to_string()))
}

#[derive(Debug, Deserialize)]
pub(crate) struct ForecastQuery {
    /// Periods ahead (default 3).
    horizon: Option<usize>,
    /// `col=value`, comma-separated for several columns.
    entity: Option<String>,
}

/// `GET /api/v1/kpis/{id}/forecast?horizon=N[&entity=col=value]`: as
/// `yardstick forecast --format json`, from the snapshot's complete periods.
#[utoipa::path(get, path = "/api/v1/kpis/{id}/forecast", security(("bearer" = [])),
    params(("id" = String, Path, description = "KPI id"),
           ("horizon" = Option<usize>, Query, minimum = 1, maximum = 1000, description = "periods ahead, 1–1000 (default 3)"),
           ("entity" = Option<String>, Query, pattern = r"^([^,]*=[^,]*)?(,([^,]*=[^,]*)?)*$", description = "col=value[,col=value]")),
    responses((status = 200, description = "As `yardstick forecast --format json`", body = Object),
              (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub(crate) async fn forecast(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<ForecastQuery>,
) -> Result<Json<Value>, ApiError> {
    let snap = state.snapshot();
    if !snap.project.kpis.contains_key(&id) || !p.can_see_kpi(&id) {
        return Err(ApiError::unknown(Thing::Kpi, &id));
    }
    let entity = entity_param(q.entity.as_deref())?;
    let horizon = q.horizon.unwrap_or(3);
    if !(1..=yardstick_engine::forecasts::MAX_HORIZON).contains(&horizon) {
        return Err(ApiError::BadRequest(format!(
            "`horizon={horizon}` is out of range: forecast 1 to {} periods",
            yardstick_engine::forecasts::MAX_HORIZON
        )));
    }
    let req = yardstick_engine::forecasts::ForecastRequest {
        kpi: id,
        horizon,
        entity,
    };
    let report = state
        .on_engine(async move {
            yardstick_engine::forecasts::forecast(&snap.project, &snap.evaluation, &req, &|_, _| {})
        })
        .await?
        .map_err(ApiError::from)?;
    serde_json::to_value(report)
        .map(Json)
        .map_err(|e| ApiError::Internal(e.to_string()))
}
