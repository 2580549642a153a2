//! `/api/v1/reconciliations`: both sides' records and KPIs per period, the
//! bridge, the discrepant records, each period's standing, and the
//! resolutions parties record.

use yardstick_core::reconcile::{Said, standing};
use yardstick_engine::reconcile::{PeriodReconciliation, Reconciliation};
use yardstick_store::{NewResolution, Resolution};

use super::*;

/// The resolution in force for each (reconcile, period): the newest.
fn in_force<'a>(all: &'a [Resolution], id: &str) -> BTreeMap<&'a str, &'a Resolution> {
    all.iter()
        .filter(|r| r.reconcile == id)
        .map(|r| (r.period.as_str(), r))
        .collect()
}

fn resolution_json(r: &Resolution) -> Value {
    json!({"state": r.state, "side": r.side, "comment": r.comment, "actor": r.actor,
           "at": micros_rfc3339(r.at)})
}

fn period_json(p: &PeriodReconciliation, said: Option<&Resolution>, history: Vec<Value>) -> Value {
    let discrepant = p.only_left + p.only_right + p.unequal + p.duplicate_keys.left + p.duplicate_keys.right;
    let st = standing(
        p.agreed(),
        discrepant,
        said.and_then(|r| Said::from_name(&r.state)),
    );
    let mut v = serde_json::to_value(p).unwrap_or(Value::Null);
    if let Value::Object(m) = &mut v {
        m.insert("standing".into(), json!(st));
        m.insert("discrepant".into(), json!(discrepant));
        m.insert("resolution".into(), said.map_or(Value::Null, resolution_json));
        m.insert("resolutions".into(), Value::Array(history));
    }
    v
}

fn summary(r: &Reconciliation, resolutions: &[Resolution]) -> Value {
    let said = in_force(resolutions, &r.reconcile);
    let periods: Vec<Value> = r
        .periods
        .iter()
        .map(|p| {
            let v = period_json(p, said.get(p.period.as_str()).copied(), Vec::new());
            json!({"period": p.period, "complete": p.complete, "standing": v["standing"],
                   "discrepant": v["discrepant"],
                   "kpis": p.kpis.iter().map(|k| json!({"kpi": k.kpi, "name": k.name, "unit": k.unit, "left": k.left, "right": k.right,
                        "difference": k.difference, "within_tolerance": k.within_tolerance})).collect::<Vec<_>>()})
        })
        .collect();
    json!({"id": r.reconcile, "name": r.name, "left": r.left, "right": r.right, "keys": r.keys,
           "parties": r.parties, "periods": periods})
}

#[utoipa::path(get, path = "/api/v1/reconciliations", security(("bearer" = [])),
    responses((status = 200, description = "Every reconciliation the token sees, each period's standing and KPI values", body = Object)))]
pub(super) async fn reconciliations(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
) -> ApiResult<Json<Value>> {
    let snap = state.snapshot();
    let resolutions = state.store().resolutions().await?;
    let list: Vec<Value> = snap
        .reconciliations
        .iter()
        .filter(|(id, _)| p.can_see_reconciliation(id))
        .map(|(id, r)| match r {
            Ok(r) => summary(r, &resolutions),
            Err(e) => json!({"id": id, "error": e, "periods": []}),
        })
        .collect();
    Ok(Json(
        json!({"as_of": rfc3339(snap.evaluated_at), "reconciliations": list}),
    ))
}

/// Which periods of a reconciliation.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReconcileQuery {
    /// Only this period (its label, e.g. `2026-10`).
    pub period: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/reconciliations/{id}", security(("bearer" = [])),
    params(("id" = String, Path, description = "reconciliation id"),
           ("period" = Option<String>, Query, pattern = r"^(FY[0-9]{4}(-Q[1-4])?|[0-9]{4}(-(Q[1-4]|H[12]|W(0[1-9]|[1-4][0-9]|5[0-3])|(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01]))?))?)$", description = "only this period, e.g. 2026-10 (none: an empty list)")),
    responses((status = 200, description = "Per period as `yardstick reconcile --format json`, with the standing, the resolution in force and its history", body = Object),
              (status = 404, body = ErrorBody)))]
pub(super) async fn reconciliation(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<ReconcileQuery>,
) -> ApiResult<Json<Value>> {
    let snap = state.snapshot();
    let r = match snap.reconciliations.get(&id) {
        Some(r) if p.can_see_reconciliation(&id) => r,
        _ => return Err(ApiError::unknown(Thing::Reconciliation, &id)),
    };
    let r = r.as_ref().map_err(|e| ApiError::Unanswerable(e.clone()))?;
    let resolutions = state.store().resolutions().await?;
    let said = in_force(&resolutions, &id);
    let mut periods = Vec::new();
    for per in &r.periods {
        if q.period.as_ref().is_some_and(|want| want != &per.period) {
            continue;
        }
        let history: Vec<Value> = resolutions
            .iter()
            .filter(|x| x.reconcile == id && x.period == per.period)
            .map(resolution_json)
            .collect();
        periods.push(period_json(per, said.get(per.period.as_str()).copied(), history));
    }
    if let Some(want) = &q.period {
        period_label(&snap.project, want)?;
    }
    Ok(Json(
        json!({"id": r.reconcile, "name": r.name, "left": r.left, "right": r.right,
                   "keys": r.keys, "parties": r.parties, "as_of": rfc3339(snap.evaluated_at),
                   "currency": snap.project.settings.currency, "periods": periods}),
    ))
}

/// A resolution of one period's discrepancy: accepted, naming the side
/// whose numbers stand, or disputed, saying why.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum NewResolutionBody {
    Accepted {
        /// The period's label, e.g. `2026-10`.
        #[schema(
            pattern = r"^(FY[0-9]{4}(-Q[1-4])?|[0-9]{4}(-(Q[1-4]|H[12]|W(0[1-9]|[1-4][0-9]|5[0-3])|(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01]))?))?)$"
        )]
        period: String,
        side: SideName,
        comment: Option<String>,
    },
    Disputed {
        #[schema(
            pattern = r"^(FY[0-9]{4}(-Q[1-4])?|[0-9]{4}(-(Q[1-4]|H[12]|W(0[1-9]|[1-4][0-9]|5[0-3])|(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01]))?))?)$"
        )]
        period: String,
        /// Why (at least one character that is not a space).
        #[schema(pattern = r"\S")]
        comment: String,
    },
}

/// The side of a reconciliation whose numbers stand.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SideName {
    Left,
    Right,
}

#[utoipa::path(post, path = "/api/v1/reconciliations/{id}/resolutions", security(("bearer" = [])),
    params(("id" = String, Path, description = "reconciliation id")),
    request_body = NewResolutionBody,
    responses((status = 201, description = "Recorded, with an audit entry", body = Object),
              (status = 400, body = ErrorBody),
              (status = 403, description = "Not an editor or admin token", body = ErrorBody),
              (status = 404, body = ErrorBody),
              (status = 415, description = "Not a JSON body", body = ErrorBody)))]
pub(super) async fn resolve(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<NewResolutionBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let snap = state.snapshot();
    let r = match snap.reconciliations.get(&id) {
        Some(r) if p.can_see_reconciliation(&id) => r,
        _ => return Err(ApiError::unknown(Thing::Reconciliation, &id)),
    };
    p.require(Role::Editor)?;
    let r = r.as_ref().map_err(|e| ApiError::Unanswerable(e.clone()))?;
    let (period, said, side, comment) = match &body {
        NewResolutionBody::Accepted {
            period,
            side,
            comment,
        } => (
            period,
            "accepted",
            Some(match side {
                SideName::Left => "left",
                SideName::Right => "right",
            }),
            comment.as_deref().map(str::trim).unwrap_or_default(),
        ),
        NewResolutionBody::Disputed { period, comment } => (period, "disputed", None, comment.trim()),
    };
    period_label(&snap.project, period)?;
    if !r.periods.iter().any(|x| &x.period == period) {
        return Err(ApiError::unknown(Thing::Period, &format!("{period} of `{id}`")));
    }
    if said == "disputed" && comment.is_empty() {
        return Err(ApiError::BadRequest(
            "a dispute says why: give a `comment`".into(),
        ));
    }
    let actor = p.actor();
    let stored = state
        .store()
        .resolve(&NewResolution {
            reconcile: &id,
            period,
            state: said,
            side,
            comment,
            actor: &actor,
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"reconcile": id, "period": period,
        "resolution": resolution_json(&stored)})),
    ))
}
