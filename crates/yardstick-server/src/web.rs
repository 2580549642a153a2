//! The web dashboard: embedded assets, login (one-time code or token →
//! HttpOnly session cookie), server-sent events, and the API routes only the
//! dashboard needs (breakdowns, explanations, SLO budgets).
//!
//! The dashboard is plain HTML, CSS and JavaScript embedded in the binary
//! (no front-end build), with uPlot (MIT) for charts.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::time::Duration;

use axum::Extension;
use axum::Json;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio_stream::StreamExt;
use tokio_stream::wrappers::WatchStream;
use yardstick_engine::eval::EvalOptions;

use crate::error::ApiError;
use crate::extract::{ApiPath, ApiQuery};
use crate::{AppState, Principal};

const INDEX: &str = include_str!("../assets/index.html");
const APP_JS: &str = include_str!("../assets/app.js");
const APP_CSS: &str = include_str!("../assets/app.css");
const UPLOT_JS: &str = include_str!("../assets/vendor/uPlot.iife.min.js");
const UPLOT_CSS: &str = include_str!("../assets/vendor/uPlot.min.css");
const FAVICON: &str = include_str!("../assets/favicon.svg");

/// `GET /favicon.svg`: the tab icon.
pub(crate) async fn favicon() -> Response {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "max-age=86400"),
        ],
        FAVICON,
    )
        .into_response()
}

/// The session cookie's name.
pub const COOKIE: &str = "ys_session";

pub(crate) async fn index() -> impl IntoResponse {
    (
        [
            (header::CACHE_CONTROL, "no-store"),
            (header::X_FRAME_OPTIONS, "DENY"),
        ],
        Html(INDEX),
    )
}

pub(crate) async fn asset(Path(name): Path<String>) -> Response {
    let (body, ct) = match name.as_str() {
        "app.js" => (APP_JS, "text/javascript; charset=utf-8"),
        "app.css" => (APP_CSS, "text/css; charset=utf-8"),
        "uPlot.js" => (UPLOT_JS, "text/javascript; charset=utf-8"),
        "uPlot.css" => (UPLOT_CSS, "text/css; charset=utf-8"),
        _ => return ApiError::NotFound(format!("no asset `{name}`")).into_response(),
    };
    (
        [(header::CONTENT_TYPE, ct), (header::CACHE_CONTROL, "no-cache")],
        body,
    )
        .into_response()
}

fn session_cookie(id: &str) -> HeaderValue {
    HeaderValue::from_str(&format!("{COOKIE}={id}; HttpOnly; SameSite=Strict; Path=/"))
        .unwrap_or_else(|_| HeaderValue::from_static("ys_session=; Path=/"))
}

/// The session id in a request's cookies.
pub(crate) fn session_of(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v.to_string())
}

#[derive(Debug, Deserialize)]
pub(crate) struct LoginQuery {
    token: Option<String>,
}

/// `GET /login?token=…`: the URL `serve` prints. Exchanges the code (or a
/// token) for a session cookie and goes to the dashboard; without a token,
/// or with a bad one, the dashboard shows its login form.
pub(crate) async fn login_get(State(state): State<AppState>, Query(q): Query<LoginQuery>) -> Response {
    let Some(secret) = q.token else {
        return Redirect::to("/#/login").into_response();
    };
    match state.login(secret.trim()).await {
        Ok(Some(session)) => {
            let mut res = Redirect::to("/#/").into_response();
            res.headers_mut()
                .insert(header::SET_COOKIE, session_cookie(&session));
            res
        }
        Ok(None) => Redirect::to("/#/login?failed=1").into_response(),
        Err(e) => e.into_response(),
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct LoginForm {
    token: String,
}

/// `POST /login` (a form with `token`): as `GET /login?token=…`, answering
/// 204 with the cookie, or 401.
pub(crate) async fn login_post(State(state): State<AppState>, Form(f): Form<LoginForm>) -> Response {
    match state.login(f.token.trim()).await {
        Ok(Some(session)) => {
            let mut res = StatusCode::NO_CONTENT.into_response();
            res.headers_mut()
                .insert(header::SET_COOKIE, session_cookie(&session));
            res
        }
        Ok(None) => ApiError::InvalidToken.into_response(),
        Err(e) => e.into_response(),
    }
}

/// `POST /logout`.
pub(crate) async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(s) = session_of(&headers) {
        state.logout(&s);
    }
    let mut res = StatusCode::NO_CONTENT.into_response();
    res.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("ys_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"),
    );
    res
}

/// `GET /api/v1/events`: a `snapshot` event whenever new values are in
/// place (after a push, a definition change or the minute clock).
#[utoipa::path(get, path = "/api/v1/events", security(("bearer" = [])),
    responses((status = 200, description = "Server-sent events: `snapshot` with {n, evaluated_at, batch}", content_type = "text/event-stream", body = SnapshotEvent)))]
pub(crate) async fn events(State(state): State<AppState>) -> impl IntoResponse {
    let stream = WatchStream::new(state.subscribe()).map(move |n| {
        let snap = state.snapshot();
        let data = json!({"n": n, "evaluated_at": snap.evaluated_at.to_rfc3339(), "batch": snap.batch_seq});
        Ok::<_, Infallible>(Event::default().event("snapshot").data(data.to_string()))
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

/// One server-sent event of `GET /api/v1/events`.
#[derive(Debug, utoipa::ToSchema)]
#[allow(dead_code)] // Only its schema is used: the stream writes the event itself.
pub(crate) struct SnapshotEvent {
    /// Always `snapshot`: a new evaluation is ready.
    #[schema(pattern = "^snapshot$")]
    event: String,
    /// JSON `{"n", "evaluated_at", "batch"}`: the snapshot's number, its
    /// instant and the newest stored batch.
    data: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct SloQuery {
    kpi: Option<String>,
    contract: Option<String>,
    clause: Option<String>,
}

/// `GET /api/v1/slo`: error budgets of share and availability KPIs; with
/// `contract` and `clause`, of that clause's KPI judged by the clause's
/// target.
#[utoipa::path(get, path = "/api/v1/slo", security(("bearer" = [])),
    params(("kpi" = Option<String>, Query, description = "one KPI"),
           ("contract" = Option<String>, Query, pattern = r"^[A-Za-z_][A-Za-z0-9_-]*$", description = "a contract id (with `clause`)"),
           ("clause" = Option<String>, Query, pattern = r"^[A-Za-z_][A-Za-z0-9_-]*$", description = "a clause id of that contract (with `contract`)")),
    responses((status = 200, description = "As `yardstick slo --format json`", body = Object),
              (status = 400, description = "`contract` without `clause` or the other way round", body = crate::error::ErrorBody),
              (status = 404, description = "No such contract or clause", body = crate::error::ErrorBody)))]
pub(crate) async fn slo(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    ApiQuery(q): ApiQuery<SloQuery>,
) -> Result<Json<Value>, ApiError> {
    let snap = state.snapshot();
    let clause_report;
    let report = match (&q.contract, &q.clause) {
        (Some(c), Some(cl)) => {
            let found = p
                .can_see_contract(c)
                .then(|| yardstick_engine::consequences::clause_slo(&snap.project, &snap.evaluation, c, cl))
                .flatten();
            clause_report =
                found.ok_or_else(|| ApiError::NotFound(format!("no contract `{c}` with a clause `{cl}`")))?;
            &clause_report
        }
        (None, None) => &snap.slo,
        _ => {
            return Err(ApiError::BadRequest("`contract` and `clause` go together".into()));
        }
    };
    let rows: Vec<_> = report
        .slos
        .iter()
        .filter(|r| p.can_see_kpi(&r.kpi) && q.kpi.as_deref().is_none_or(|k| k == r.kpi))
        .collect();
    Ok(Json(json!({"as_of": report.as_of, "slos": rows})))
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
        return Err(ApiError::NotFound(format!("no KPI `{id}`")));
    };
    if !k.dimensions.iter().any(|d| d.value == q.by) {
        let dims: Vec<&str> = k.dimensions.iter().map(|d| d.value.as_str()).collect();
        return Err(ApiError::BadRequest(format!(
            "`{}` is not a dimension of `{id}`; declared: {}",
            q.by,
            if dims.is_empty() {
                "none".to_string()
            } else {
                dims.join(", ")
            }
        )));
    }
    let period = match q.period.as_deref() {
        Some(l) => Some(period_label(&snap.project, l)?),
        None => None,
    };
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
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
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
        return Err(ApiError::NotFound(format!("no KPI `{id}`")));
    }
    if p.token.party.is_some() {
        return Err(ApiError::Forbidden(
            "explanations show queries and row counts: they are for the organisation's tokens".into(),
        ));
    }
    let entity = entity_param(q.entity.as_deref())?;
    let project = snap.project.clone();
    let catalog = snap.catalog.clone();
    let as_of = snap.evaluated_at;
    let period = q.period.clone();
    let x = state
        .on_engine(async move {
            yardstick_engine::explain::explain(&project, &catalog, &id, &period, &entity, as_of).await
        })
        .await?
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    serde_json::to_value(x)
        .map(Json)
        .map_err(|e| ApiError::Internal(e.to_string()))
}

/// Dimension values and labels for the dashboard's filters.
#[utoipa::path(get, path = "/api/v1/meta", security(("bearer" = [])),
    responses((status = 200, description = "Project name, currency, zone, the caller's role and party, KPI → partnerships", body = Object)))]
pub(crate) async fn meta(State(state): State<AppState>, Extension(p): Extension<Principal>) -> Json<Value> {
    let snap = state.snapshot();
    let project = &snap.project;
    let mut partnership_of: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for x in project
        .partnerships
        .values()
        .filter(|x| p.can_see_partnership(&x.id.value))
    {
        for k in &x.kpis {
            partnership_of
                .entry(k.value.as_str())
                .or_default()
                .push(x.id.value.as_str());
        }
    }
    Json(json!({
        "project": project.settings.name,
        "currency": project.settings.currency,
        "timezone": project.settings.timezone.name(),
        "role": p.token.role,
        "party": p.token.party,
        "evaluated_at": snap.evaluated_at.to_rfc3339(),
        "partnership_of": partnership_of,
        "definition_errors": snap.definition_errors,
    }))
}

/// A period label of any grain, written as the calendar writes it.
fn period_label(project: &yardstick_core::model::Project, label: &str) -> Result<String, ApiError> {
    project
        .settings
        .calendar()
        .parse_label(label)
        .map(|_| label.to_string())
        .ok_or_else(|| {
            ApiError::BadRequest(format!(
                "`{label}` is not a period label such as 2026-10, 2026-Q4, 2026-W42 or 2026-10-14"
            ))
        })
}

/// The `entity=col=value[,col=value]` query parameter as pairs (empty
/// parts are skipped; the OpenAPI pattern says the same).
fn entity_param(p: Option<&str>) -> Result<Vec<(String, String)>, ApiError> {
    p.unwrap_or("")
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|kv| {
            kv.split_once('=')
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                .ok_or_else(|| ApiError::BadRequest(format!("entity `{kv}`: write column=value")))
        })
        .collect()
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
        return Err(ApiError::NotFound(format!("no KPI `{id}`")));
    }
    let entity = entity_param(q.entity.as_deref())?;
    let req = yardstick_engine::forecasts::ForecastRequest {
        kpi: id,
        horizon: q.horizon.unwrap_or(3),
        entity,
    };
    let report = state
        .on_engine(async move {
            yardstick_engine::forecasts::forecast(&snap.project, &snap.evaluation, &req, &|_, _| {})
        })
        .await?
        .map_err(|e| match e {
            yardstick_engine::eval::EvalError::Data(m) => ApiError::BadRequest(m),
            e @ yardstick_engine::eval::EvalError::Internal(_) => ApiError::Internal(e.to_string()),
        })?;
    serde_json::to_value(report)
        .map(Json)
        .map_err(|e| ApiError::Internal(e.to_string()))
}

/// `GET /api/v1/alerts`: alert rules and the instances firing now (as
/// delivered; organisation tokens see every rule, party tokens the rules
/// on KPIs shared with them).
#[utoipa::path(get, path = "/api/v1/alerts", security(("bearer" = [])),
    responses((status = 200, description = "Rules with `firing` instances (`instance`, `summary`, `since`)", body = Object)))]
pub(crate) async fn alerts(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
) -> Result<Json<Value>, ApiError> {
    let snap = state.snapshot();
    let firing = state
        .store()
        .alerts_firing()
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let project = &snap.project;
    let mut rules = Vec::new();
    for a in project.alerts.values() {
        let (kpi, subject) = yardstick_engine::alerts::subject_of(project, a);
        let visible = p.visible.is_none() || kpi.as_deref().is_some_and(|k| p.can_see_kpi(k));
        if !visible {
            continue;
        }
        let mine: Vec<&yardstick_store::AlertFiring> =
            firing.iter().filter(|f| f.alert == a.id.value).collect();
        rules.push(json!({
            "alert": a.id.value,
            "name": a.name,
            "when": a.when.value.name(),
            "subject": subject,
            "kpi": kpi,
            "firing": mine,
        }));
    }
    Ok(Json(json!({"alerts": rules})))
}
