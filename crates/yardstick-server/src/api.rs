//! API v1: routes, handlers and the OpenAPI document generated from them.
//!
//! Every route but `/api/v1/health` needs a bearer token. A party token sees
//! only what is shared with its party (see `yardstick_core::visibility`);
//! anything else answers 404, exactly as an id that does not exist.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Extension, Json, Router};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use utoipa::{IntoParams, OpenApi, ToSchema};
use yardstick_core::model::{Cadence, MeasureDef, Project};
use yardstick_engine::eval::Row;
use yardstick_engine::ingest::{self, BodyFormat, PushError};
use yardstick_store::{NewBatch, Role};

use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::openapi::{BearerAuth, ErrorAnswers, ItemLinks};
use crate::{AppState, Principal};

type ApiResult<T> = Result<T, ApiError>;

/// The router with default limits (30 s per request, 64 MiB bodies).
pub fn app(state: AppState) -> Router {
    app_with(state, Duration::from_secs(30), 64 * 1024 * 1024)
}

/// The router with the given request timeout and body limit.
pub fn app_with(state: AppState, timeout: Duration, body_limit: usize) -> Router {
    let protected = Router::new()
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/kpis", get(kpis))
        .route("/api/v1/kpis/{id}", get(kpi))
        .route("/api/v1/evaluations", get(evaluations))
        .route("/api/v1/restatements", get(restatements))
        .route("/api/v1/contracts", get(contracts))
        .route("/api/v1/contracts/{id}/clauses", get(clauses))
        .route("/api/v1/scorecards", get(scorecards))
        .route("/api/v1/scorecards/{id}", get(scorecard))
        .route("/api/v1/partnerships", get(partnerships))
        .route("/api/v1/partnerships/{id}", get(partnership))
        .route("/api/v1/sources/{id}/rows", post(push))
        .route("/api/v1/tokens", get(tokens).post(create_token))
        .route("/api/v1/tokens/{id}", delete(revoke_token))
        .route("/api/v1/audit", get(audit))
        .route("/metrics", get(crate::metrics::metrics))
        .route("/api/v1/events", get(crate::web::events))
        .route("/api/v1/slo", get(crate::web::slo))
        .route("/api/v1/meta", get(crate::web::meta))
        .route("/api/v1/kpis/{id}/breakdown", get(crate::web::breakdown))
        .route("/api/v1/kpis/{id}/explain", get(crate::web::explain))
        .route("/api/v1/kpis/{id}/forecast", get(crate::web::forecast))
        .route("/api/v1/alerts", get(crate::web::alerts))
        .route_layer(middleware::from_fn_with_state(state.clone(), authenticate));
    Router::new()
        .route("/api/v1/health", get(health))
        .route("/", get(crate::web::index))
        .route("/assets/{name}", get(crate::web::asset))
        .route("/favicon.svg", get(crate::web::favicon))
        .route("/login", get(crate::web::login_get).post(crate::web::login_post))
        .route("/logout", post(crate::web::logout))
        .merge(protected)
        .fallback(not_found)
        .layer(DefaultBodyLimit::disable())
        .layer(RequestBodyLimitLayer::new(body_limit))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            timeout,
        ))
        // The limit and timeout layers answer in plain text: give them our JSON.
        .layer(middleware::map_response(move |res: Response| async move {
            let json = res
                .headers()
                .get(header::CONTENT_TYPE)
                .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
            match res.status() {
                StatusCode::PAYLOAD_TOO_LARGE if !json => {
                    ApiError::PayloadTooLarge(body_limit).into_response()
                }
                StatusCode::REQUEST_TIMEOUT if !json => ApiError::Timeout.into_response(),
                _ => res,
            }
        }))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::NotFound("no such route; the API is described at /api/v1/openapi.json".into())
}

/// Bearer-token authentication: puts the [`Principal`] in the request.
async fn authenticate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let secret = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(|s| s.trim().to_string());
    let found = match (secret, crate::web::session_of(req.headers())) {
        (Some(secret), _) => state.authenticate(&secret).await,
        // The dashboard: an HttpOnly session cookie.
        (None, Some(session)) => state.session_principal(&session).await,
        (None, None) => return ApiError::MissingToken.into_response(),
    };
    match found {
        Ok(Some(p)) => {
            req.extensions_mut().insert(p);
            next.run(req).await
        }
        Ok(None) => ApiError::InvalidToken.into_response(),
        Err(e) => e.into_response(),
    }
}

// ---------------------------------------------------------------- health

/// `GET /api/v1/health`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`, or `degraded` when the definitions on disk fail `check` (the
    /// last good version is served) or the last evaluation failed.
    pub status: &'static str,
    pub evaluated_at: String,
    pub definition_errors: Vec<String>,
    pub evaluation_error: Option<String>,
    /// `sqlite` or `postgres`.
    pub store: &'static str,
    pub uptime_seconds: u64,
}

#[utoipa::path(get, path = "/api/v1/health", responses((status = 200, body = Health)))]
async fn health(State(state): State<AppState>) -> Json<Health> {
    let snap = state.snapshot();
    let ok = snap.definition_errors.is_empty() && snap.evaluation_error.is_none();
    Json(Health {
        status: if ok { "ok" } else { "degraded" },
        evaluated_at: rfc3339(snap.evaluated_at),
        definition_errors: snap.definition_errors.clone(),
        evaluation_error: snap.evaluation_error.clone(),
        store: match state.store().backend() {
            yardstick_store::Backend::Sqlite => "sqlite",
            yardstick_store::Backend::Postgres => "postgres",
        },
        uptime_seconds: state.uptime().as_secs(),
    })
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn micros_rfc3339(us: i64) -> String {
    DateTime::from_timestamp_micros(us)
        .map(rfc3339)
        .unwrap_or_default()
}

// ---------------------------------------------------------------- KPIs

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
    /// The target in force now, as written.
    pub target: Option<String>,
    /// Latest complete period's rows (one per entity).
    #[schema(value_type = Vec<Object>)]
    pub latest: Vec<Row>,
}

/// A KPI with its latest complete rows and the target in force at the
/// snapshot's instant `at`.
fn kpi_summary(project: &Project, k: &MeasureDef, rows: &[Row], at: DateTime<Utc>) -> KpiSummary {
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
        target: k.thresholds_at(today).0.map(|t| t.text.clone()),
        latest,
    }
}

#[utoipa::path(get, path = "/api/v1/kpis", security(("bearer" = [])),
    responses((status = 200, body = Vec<KpiSummary>), (status = 401, body = ErrorBody)))]
async fn kpis(State(state): State<AppState>, Extension(p): Extension<Principal>) -> Json<Vec<KpiSummary>> {
    let snap = state.snapshot();
    let out = snap
        .project
        .kpis
        .values()
        .filter(|k| p.can_see_kpi(&k.id.value))
        .map(|k| kpi_summary(&snap.project, k, &snap.evaluation.evaluations, snap.evaluated_at))
        .collect();
    Json(out)
}

#[utoipa::path(get, path = "/api/v1/kpis/{id}", security(("bearer" = [])),
    params(("id" = String, Path, description = "KPI id")),
    responses((status = 200, body = KpiSummary), (status = 404, body = ErrorBody)))]
async fn kpi(
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
        ))),
        _ => Err(ApiError::NotFound(format!("no KPI `{id}`"))),
    }
}

// ---------------------------------------------------------------- evaluations

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

/// Parses `2026`, `2026-07`, `2026-07-15` or an RFC 3339 instant; dates are
/// local to the project zone.
fn parse_instant(project: &Project, s: &str, what: &str) -> ApiResult<DateTime<Utc>> {
    let tz = project.settings.timezone;
    let s = s.trim();
    let date = match s.len() {
        4 => NaiveDate::parse_from_str(&format!("{s}-01-01"), "%Y-%m-%d").ok(),
        7 => NaiveDate::parse_from_str(&format!("{s}-01"), "%Y-%m-%d").ok(),
        _ => None,
    };
    let t = match date {
        Some(d) => d
            .and_hms_opt(0, 0, 0)
            .map(|n| yardstick_core::time::local_to_utc(n, tz)),
        None => yardstick_core::time::parse_time(s, tz),
    };
    t.ok_or_else(|| {
        ApiError::BadRequest(format!(
            "`{what}={s}` is not a time: use 2026, 2026-07, 2026-07-15 or 2026-07-15T12:00:00Z"
        ))
    })
}

/// Whether an entity's (column, value) pairs match `col=value`, or a bare
/// value of any column.
fn entity_matches<'a>(mut pairs: impl Iterator<Item = (&'a str, String)>, f: &str) -> bool {
    match f.split_once('=') {
        Some((col, val)) => pairs.any(|(c, v)| c == col && v == val),
        None => pairs.any(|(_, v)| v == f),
    }
}

fn row_entity_matches(
    entity: &Option<BTreeMap<String, yardstick_engine::eval::EntityValue>>,
    f: &str,
) -> bool {
    entity
        .as_ref()
        .is_some_and(|e| entity_matches(e.iter().map(|(k, v)| (k.as_str(), v.to_string())), f))
}

fn kpi_filter(p: &Principal, q: Option<&str>) -> impl Fn(&str) -> bool {
    let wanted: Option<Vec<String>> = q.map(|s| s.split(',').map(|x| x.trim().to_string()).collect());
    let p = p.clone();
    move |k: &str| p.can_see_kpi(k) && wanted.as_ref().is_none_or(|w| w.iter().any(|x| x == k))
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
async fn evaluations(
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
                return Err(ApiError::NotFound(format!("no KPI `{id}`")));
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
    let from = q
        .from
        .as_deref()
        .map(|s| parse_instant(project, s, "from"))
        .transpose()?;
    let to =
        q.to.as_deref()
            .map(|s| parse_instant(project, s, "to"))
            .transpose()?;
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
async fn restatements(
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

// ---------------------------------------------------------------- contracts

#[utoipa::path(get, path = "/api/v1/contracts", security(("bearer" = [])),
    responses((status = 200, body = Object)))]
async fn contracts(State(state): State<AppState>, Extension(p): Extension<Principal>) -> Json<Value> {
    let snap = state.snapshot();
    let list: Vec<Value> = snap
        .project
        .contracts
        .values()
        .filter(|c| p.can_see_contract(&c.id.value))
        .map(|c| {
            let clauses: Vec<Value> = c
                .clauses
                .iter()
                .map(|cl| {
                    json!({"id": cl.id.value, "kpi": cl.kpi.as_ref().map(|k| &k.value), "text": cl.text,
                           "target": cl.target.as_ref().map(|t| &t.value.text)})
                })
                .collect();
            let credits: f64 = snap
                .sla
                .clauses
                .iter()
                .filter(|r| r.contract == c.id.value)
                .map(|r| r.credit_amount)
                .sum();
            json!({"id": c.id.value, "name": c.name, "provider": c.provider, "client": c.client,
                   "start": c.start.map(|d| d.to_string()), "end": c.end.map(|d| d.to_string()),
                   "fee": c.fee.as_ref().map(|f| json!({"amount": f.value.amount, "every": f.value.every.name()})),
                   "currency": snap.project.settings.currency, "credits_total": credits, "clauses": clauses})
        })
        .collect();
    Json(json!({ "contracts": list }))
}

/// Filters of the clause rows.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RangeQuery {
    /// Periods that end after this time.
    pub from: Option<String>,
    /// Periods that start at or before this time.
    pub to: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/contracts/{id}/clauses", security(("bearer" = [])),
    params(("id" = String, Path, description = "contract id"), RangeQuery),
    responses((status = 200, description = "Rows as `yardstick sla --format json`", body = Object),
              (status = 404, body = ErrorBody)))]
async fn clauses(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<RangeQuery>,
) -> ApiResult<Json<Value>> {
    let snap = state.snapshot();
    if !snap.project.contracts.contains_key(&id) || !p.can_see_contract(&id) {
        return Err(ApiError::NotFound(format!("no contract `{id}`")));
    }
    let project = &snap.project;
    let from = q
        .from
        .as_deref()
        .map(|s| parse_instant(project, s, "from"))
        .transpose()?;
    let to =
        q.to.as_deref()
            .map(|s| parse_instant(project, s, "to"))
            .transpose()?;
    // Clause rows carry the period label; find its bounds in the evaluation.
    let bounds: BTreeMap<(&str, &str), _> = snap
        .evaluation
        .evaluations
        .iter()
        .map(|r| ((r.kpi.as_str(), r.period.as_str()), (r.start, r.end)))
        .collect();
    let kpi_of: BTreeMap<&str, &str> = project.contracts[&id]
        .clauses
        .iter()
        .filter_map(|c| c.kpi.as_ref().map(|k| (c.id.value.as_str(), k.value.as_str())))
        .collect();
    let rows: Vec<&yardstick_engine::consequences::ClauseRow> = snap
        .sla
        .clauses
        .iter()
        .filter(|r| r.contract == id)
        .filter(|r| {
            let Some((start, end)) = kpi_of
                .get(r.clause.as_str())
                .and_then(|k| bounds.get(&(*k, r.period.as_str())))
            else {
                return from.is_none() && to.is_none();
            };
            from.is_none_or(|f| *end > f) && to.is_none_or(|t| *start <= t)
        })
        .collect();
    Ok(Json(json!({"as_of": snap.sla.as_of, "clauses": rows})))
}

// ---------------------------------------------------------------- scorecards, partnerships

#[utoipa::path(get, path = "/api/v1/scorecards", security(("bearer" = [])), responses((status = 200, body = Object)))]
async fn scorecards(State(state): State<AppState>, Extension(p): Extension<Principal>) -> Json<Value> {
    let snap = state.snapshot();
    let list: Vec<Value> = snap
        .project
        .scorecards
        .values()
        .filter(|s| p.can_see_scorecard(&s.id.value))
        .map(|s| json!({"id": s.id.value, "name": s.name, "owner": s.owner,
                        "weights": s.weights.iter().map(|(k, w)| (k.value.clone(), *w)).collect::<BTreeMap<_, _>>()}))
        .collect();
    Json(json!({ "scorecards": list }))
}

#[utoipa::path(get, path = "/api/v1/scorecards/{id}", security(("bearer" = [])),
    params(("id" = String, Path, description = "scorecard id")),
    responses((status = 200, description = "Scores per period, as `yardstick score --format json`", body = Object),
              (status = 404, body = ErrorBody)))]
async fn scorecard(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Value>> {
    let snap = state.snapshot();
    let Some(s) = snap
        .project
        .scorecards
        .get(&id)
        .filter(|_| p.can_see_scorecard(&id))
    else {
        return Err(ApiError::NotFound(format!("no scorecard `{id}`")));
    };
    let scores: Vec<_> = snap.scores.scores.iter().filter(|r| r.scorecard == id).collect();
    Ok(Json(
        json!({"as_of": snap.scores.as_of, "id": id, "name": s.name, "scores": scores}),
    ))
}

#[utoipa::path(get, path = "/api/v1/partnerships", security(("bearer" = [])), responses((status = 200, body = Object)))]
async fn partnerships(State(state): State<AppState>, Extension(p): Extension<Principal>) -> Json<Value> {
    let snap = state.snapshot();
    let list: Vec<Value> = snap
        .project
        .partnerships
        .values()
        .filter(|x| p.can_see_partnership(&x.id.value))
        .map(|x| {
            json!({"id": x.id.value, "name": x.name, "kind": x.kind.name(), "partners": x.partners,
                        "kpis": x.kpis.iter().map(|k| &k.value).collect::<Vec<_>>()})
        })
        .collect();
    Json(json!({ "partnerships": list }))
}

#[utoipa::path(get, path = "/api/v1/partnerships/{id}", security(("bearer" = [])),
    params(("id" = String, Path, description = "partnership id")),
    responses((status = 200, description = "As `yardstick partnership ID --format json`", body = Object),
              (status = 404, body = ErrorBody)))]
async fn partnership(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Value>> {
    let snap = state.snapshot();
    if !p.can_see_partnership(&id) {
        return Err(ApiError::NotFound(format!("no partnership `{id}`")));
    }
    let report = yardstick_engine::consequences::partnership(&snap.project, &snap.evaluation, &id)
        .ok_or_else(|| ApiError::NotFound(format!("no partnership `{id}`")))?;
    serde_json::to_value(report)
        .map(Json)
        .map_err(|e| ApiError::Internal(e.to_string()))
}

// ---------------------------------------------------------------- ingestion

/// The answer to a push.
#[derive(Debug, Serialize, ToSchema)]
pub struct Pushed {
    pub source: String,
    pub rows: i64,
    /// The batch's sequence number in the store.
    pub batch: i64,
    /// True when this `Idempotency-Key` had been seen: nothing new was stored.
    pub replayed: bool,
}

#[utoipa::path(post, path = "/api/v1/sources/{id}/rows", security(("bearer" = [])),
    params(("id" = String, Path, description = "a source with `store = true`"),
           ("Idempotency-Key" = Option<String>, Header, description = "makes retries safe: a batch is stored once per key")),
    request_body(description = "Rows with the source's columns: a JSON array of objects, NDJSON or CSV with a header",
                 content((Vec<Object> = "application/json"), (String = "application/x-ndjson"), (String = "text/csv"))),
    responses((status = 201, description = "Committed: the rows are durable", body = Pushed),
              (status = 200, description = "Replayed: this key's batch was already committed", body = Pushed),
              (status = 422, description = "Bad rows (every one listed); nothing stored", body = ErrorBody),
              (status = 409, description = "Idempotency key reused for another batch", body = ErrorBody),
              (status = 403, description = "Not an organisation editor or admin token", body = ErrorBody),
              (status = 413, description = "Body larger than the server accepts", body = ErrorBody),
              (status = 415, body = ErrorBody)))]
async fn push(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Pushed>)> {
    p.require(Role::Editor)?;
    if p.token.party.is_some() {
        return Err(ApiError::Forbidden(
            "party tokens read what is shared with them; pushing rows needs one of the organisation's editor tokens"
                .into(),
        ));
    }
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let format = BodyFormat::from_content_type(ct).ok_or_else(|| {
        ApiError::UnsupportedMediaType(format!(
            "Content-Type `{ct}` is not accepted: use application/json (an array of objects), application/x-ndjson or text/csv"
        ))
    })?;
    let key = match headers.get("idempotency-key") {
        Some(v) => Some(
            v.to_str()
                .map_err(|_| ApiError::BadRequest("Idempotency-Key must be visible ASCII".into()))?
                .to_string(),
        ),
        None => None,
    };
    let project = state.snapshot().project.clone();
    let source = id.clone();
    // Parsing 10k rows is CPU work: off the request threads.
    let parsed = tokio::task::spawn_blocking(move || {
        let s = ingest::stored_source(&project, &source)?;
        let batch = ingest::parse_batch(&project, s, &body, format)?;
        let bytes = ingest::encode(&batch).map_err(|e| {
            PushError::BadRows(vec![ingest::RowError {
                row: 0,
                column: None,
                reason: format!("internal error encoding the batch: {e}"),
            }])
        })?;
        Ok::<_, PushError>((batch.num_rows() as i64, bytes))
    })
    .await
    .map_err(|e| ApiError::Internal(format!("push task failed: {e}")))?;
    let (rows, bytes) = parsed.map_err(|e| match e {
        PushError::UnknownSource(_) => ApiError::NotFound(format!("no source `{id}`")),
        PushError::NotStored(_) => ApiError::Conflict(e.to_string()),
        PushError::BadRows(rows) => ApiError::InvalidRows(rows),
    })?;
    let stored = state
        .store()
        .insert_batch(&NewBatch {
            source: &id,
            idempotency_key: key.as_deref(),
            rows,
            actor: &format!("token:{}", p.token.id),
            body: &bytes,
        })
        .await?;
    state.wake();
    let status = if stored.replayed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((
        status,
        Json(Pushed {
            source: id,
            rows: stored.rows,
            batch: stored.seq,
            replayed: stored.replayed,
        }),
    ))
}

// ---------------------------------------------------------------- tokens, audit

fn require_org_admin(p: &Principal) -> ApiResult<()> {
    p.require(Role::Admin)?;
    if p.token.party.is_some() {
        return Err(ApiError::Forbidden("party tokens cannot manage tokens".into()));
    }
    Ok(())
}

/// A token's role, as the API writes it.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RoleName {
    Admin,
    Editor,
    Viewer,
}

impl From<RoleName> for Role {
    fn from(r: RoleName) -> Self {
        match r {
            RoleName::Admin => Role::Admin,
            RoleName::Editor => Role::Editor,
            RoleName::Viewer => Role::Viewer,
        }
    }
}

/// `POST /api/v1/tokens`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewToken {
    /// What the token may do.
    pub role: RoleName,
    /// Limit the token to what is shared with this party.
    pub party: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/tokens", security(("bearer" = [])),
    responses((status = 200, body = Object), (status = 403, description = "Not an organisation admin token", body = ErrorBody)))]
async fn tokens(State(state): State<AppState>, Extension(p): Extension<Principal>) -> ApiResult<Json<Value>> {
    require_org_admin(&p)?;
    let list = state.store().tokens().await?;
    Ok(Json(json!({ "tokens": list })))
}

#[utoipa::path(post, path = "/api/v1/tokens", security(("bearer" = [])), request_body = NewToken,
    responses((status = 201, description = "The secret is shown once", body = Object), (status = 403, description = "Not an organisation admin token", body = ErrorBody),
              (status = 415, description = "Not a JSON body", body = ErrorBody)))]
async fn create_token(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    ApiJson(t): ApiJson<NewToken>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    require_org_admin(&p)?;
    let role = Role::from(t.role);
    let (token, secret) = state
        .store()
        .create_token(role, t.party.as_deref(), &format!("token:{}", p.token.id))
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"token": secret, "id": token.id, "role": token.role, "party": token.party})),
    ))
}

#[utoipa::path(delete, path = "/api/v1/tokens/{id}", security(("bearer" = [])),
    params(("id" = String, Path, description = "token id")),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 403, description = "Not an organisation admin token", body = ErrorBody)))]
async fn revoke_token(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    require_org_admin(&p)?;
    state
        .store()
        .revoke_token(&id, &format!("token:{}", p.token.id))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/audit", security(("bearer" = [])),
    responses((status = 200, description = "The newest 1000 writes: who, what, when", body = Object), (status = 403, description = "Not an organisation admin token", body = ErrorBody)))]
async fn audit(State(state): State<AppState>, Extension(p): Extension<Principal>) -> ApiResult<Json<Value>> {
    require_org_admin(&p)?;
    let entries: Vec<Value> = state
        .store()
        .audit_log(1000)
        .await?
        .into_iter()
        .map(
            |e| json!({"at": micros_rfc3339(e.at), "actor": e.actor, "action": e.action, "detail": e.detail}),
        )
        .collect();
    Ok(Json(json!({ "audit": entries })))
}

// ---------------------------------------------------------------- OpenAPI

/// The OpenAPI 3 document of API v1.
#[derive(Debug, OpenApi)]
#[openapi(
    info(title = "Yardstick API", version = "1", description = "KPIs, evaluations, contracts, scorecards, partnerships and ingestion."),
    paths(health, kpis, kpi, evaluations, restatements, contracts, clauses, scorecards, scorecard,
          partnerships, partnership, push, tokens, create_token, revoke_token, audit, crate::metrics::metrics,
          crate::web::events, crate::web::slo, crate::web::meta, crate::web::breakdown, crate::web::explain,
          crate::web::forecast, crate::web::alerts),
    components(schemas(Health, KpiSummary, Evaluations, Pushed, NewToken, RoleName, ErrorBody)),
    modifiers(&BearerAuth, &ErrorAnswers, &ItemLinks)
)]
pub struct ApiDoc;

#[utoipa::path(get, path = "/api/v1/openapi.json", security(("bearer" = [])), responses((status = 200, body = Object)))]
async fn openapi() -> Json<Value> {
    Json(crate::openapi::document(ApiDoc::openapi()))
}
