//! API v1: routes, handlers and the OpenAPI document generated from them.
//!
//! Every route but `/api/v1/health` needs a bearer token. A party token sees
//! only what is shared with its party (see `yardstick_core::visibility`);
//! anything else answers 404, exactly as an id that does not exist.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Extension, Json, Router};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio_stream::StreamExt;
use tokio_stream::wrappers::WatchStream;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use utoipa::{IntoParams, OpenApi, ToSchema};
use yardstick_core::model::{Cadence, MeasureDef, Project};
use yardstick_engine::eval::{EvalOptions, Row};
use yardstick_engine::ingest::{BodyFormat, PushError};
use yardstick_store::{NewBatch, Role};
use yardstick_workspace::PushFailure;

use crate::error::{ApiError, ErrorBody, Thing};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::openapi::{BearerAuth, ErrorAnswers, ItemLinks};
use crate::{AppState, Principal};

// One module per resource; each reads this module's imports through
// `use super::*`.
mod actions;
mod agreements;
mod contracts;
mod evaluations;
mod kpis;
mod live;
mod params;
mod proposals;
mod reconciliations;
mod reviews;
mod scorecards;
mod slo;
mod sources;
mod tokens;
mod why;

use params::{entity_matches, entity_param, kpi_filter, parse_instant, period_label, time_range};

// The API's documented shapes.
pub use contracts::RangeQuery;
pub use evaluations::{EvalQuery, Evaluations, KpiQuery};
pub use kpis::KpiSummary;
pub use reconciliations::{NewResolutionBody, ReconcileQuery, SideName};
pub use sources::Pushed;
pub use tokens::{NewToken, RoleName};

type ApiResult<T> = Result<T, ApiError>;

/// The router with default limits (30 s per request, 64 MiB bodies).
pub fn app(state: AppState) -> Router {
    app_with(state, Duration::from_secs(30), 64 * 1024 * 1024)
}

/// The router with the given request timeout and body limit.
pub fn app_with(state: AppState, timeout: Duration, body_limit: usize) -> Router {
    let protected = Router::new()
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/kpis", get(kpis::kpis))
        .route("/api/v1/kpis/{id}", get(kpis::kpi))
        .route("/api/v1/evaluations", get(evaluations::evaluations))
        .route("/api/v1/restatements", get(evaluations::restatements))
        .route("/api/v1/contracts", get(contracts::contracts))
        .route("/api/v1/contracts/{id}/clauses", get(contracts::clauses))
        .route("/api/v1/scorecards", get(scorecards::scorecards))
        .route("/api/v1/scorecards/{id}", get(scorecards::scorecard))
        .route("/api/v1/partnerships", get(scorecards::partnerships))
        .route("/api/v1/partnerships/{id}", get(scorecards::partnership))
        .route("/api/v1/sources/{id}/rows", post(sources::push))
        .route("/api/v1/tokens", get(tokens::tokens).post(tokens::create_token))
        .route("/api/v1/tokens/{id}", delete(tokens::revoke_token))
        .route("/api/v1/audit", get(tokens::audit))
        .route("/metrics", get(crate::metrics::metrics))
        .route("/api/v1/events", get(live::events))
        .route("/api/v1/slo", get(slo::slo))
        .route("/api/v1/meta", get(live::meta))
        .route("/api/v1/kpis/{id}/breakdown", get(kpis::breakdown))
        .route("/api/v1/kpis/{id}/explain", get(kpis::explain))
        .route("/api/v1/kpis/{id}/forecast", get(kpis::forecast))
        .route("/api/v1/kpis/{id}/why", get(why::why))
        .route("/api/v1/actions", get(actions::actions).post(actions::add))
        .route("/api/v1/actions/{id}/close", post(actions::close))
        .route("/api/v1/agreements", get(agreements::agreements_list))
        .route("/api/v1/agreements/{id}", get(agreements::agreement))
        .route("/api/v1/agreements/{id}/sign", post(agreements::sign))
        .route("/api/v1/agreements/{id}/appendix", get(agreements::appendix))
        .route("/api/v1/reviews", get(reviews::review))
        .route("/api/v1/reviews/issued", get(reviews::issued))
        .route("/api/v1/reviews/issued/{id}", get(reviews::issued_pack))
        .route("/api/v1/agreements/{id}/proposals", post(proposals::create))
        .route("/api/v1/proposals/{n}/accept", post(proposals::accept))
        .route("/api/v1/proposals/{n}/reject", post(proposals::reject))
        .route("/api/v1/alerts", get(live::alerts))
        .route("/api/v1/reconciliations", get(reconciliations::reconciliations))
        .route(
            "/api/v1/reconciliations/{id}",
            get(reconciliations::reconciliation),
        )
        .route(
            "/api/v1/reconciliations/{id}/resolutions",
            post(reconciliations::resolve),
        )
        .route_layer(middleware::from_fn_with_state(state.clone(), authenticate));
    Router::new()
        .route("/api/v1/health", get(health))
        .route("/", get(crate::web::index))
        .route("/assets/{*name}", get(crate::web::asset))
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
    pub last_evaluation: LastEvaluation,
}

/// What the last evaluation cost. A refresh starts from the one before:
/// a group of KPIs over a source that did not change is kept, one over a
/// source that only gained rows (new files, pushed batches) reads those
/// rows alone and merges them.
#[derive(Debug, Serialize, ToSchema)]
pub struct LastEvaluation {
    /// Wall time of the evaluation, in seconds.
    pub seconds: f64,
    /// Aggregate queries not run again: their source did not change.
    pub groups_kept: usize,
    /// Aggregate queries run over appended rows alone, then merged.
    pub groups_merged: usize,
    /// Periods recomputed over all rows (an aggregate that does not merge,
    /// such as a distinct count, gained rows in a period that had some).
    pub periods_recomputed: usize,
    /// Aggregate queries run over all rows.
    pub groups_read_whole: usize,
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
        last_evaluation: last_evaluation(&snap),
    })
}

fn last_evaluation(snap: &crate::snapshot::Snapshot) -> LastEvaluation {
    LastEvaluation {
        seconds: snap.cost.seconds,
        groups_kept: snap.cost.outcome.reused,
        groups_merged: snap.cost.outcome.merged,
        periods_recomputed: snap.cost.outcome.recomputed_periods,
        groups_read_whole: snap.cost.outcome.full,
    }
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn micros_rfc3339(us: i64) -> String {
    DateTime::from_timestamp_micros(us)
        .map(rfc3339)
        .unwrap_or_default()
}

// ---------------------------------------------------------------- OpenAPI

/// The OpenAPI 3 document of API v1.
#[derive(Debug, OpenApi)]
#[openapi(
    info(title = "Yardstick API", version = "1", description = "KPIs, evaluations, contracts, scorecards, partnerships and ingestion."),
    paths(health, kpis::kpis, kpis::kpi, evaluations::evaluations, evaluations::restatements,
          contracts::contracts, contracts::clauses, scorecards::scorecards, scorecards::scorecard,
          scorecards::partnerships, scorecards::partnership, sources::push, tokens::tokens,
          tokens::create_token, tokens::revoke_token, tokens::audit, crate::metrics::metrics,
          live::events, slo::slo, live::meta, kpis::breakdown, kpis::explain, kpis::forecast, why::why,
          live::alerts, reconciliations::reconciliations, reconciliations::reconciliation,
          reconciliations::resolve, actions::actions, actions::add, actions::close,
          agreements::agreements_list, agreements::agreement, agreements::sign, agreements::appendix,
          proposals::create, proposals::accept, proposals::reject, reviews::review,
          reviews::issued, reviews::issued_pack),
    components(schemas(Health, LastEvaluation, kpis::KpiSummary, evaluations::Evaluations, sources::Pushed,
          tokens::NewToken, tokens::RoleName, reconciliations::NewResolutionBody, reconciliations::SideName, actions::NewActionBody, actions::CloseActionBody, agreements::SignBody, proposals::ProposeBody, proposals::DecideBody, ErrorBody)),
    modifiers(&BearerAuth, &ErrorAnswers, &ItemLinks)
)]
pub struct ApiDoc;

#[utoipa::path(get, path = "/api/v1/openapi.json", security(("bearer" = [])), responses((status = 200, body = Object)))]
async fn openapi() -> Json<Value> {
    Json(crate::openapi::document(ApiDoc::openapi()))
}
