//! `/api/v1/scorecards` and `/api/v1/partnerships`.

use super::*;

#[utoipa::path(get, path = "/api/v1/scorecards", security(("bearer" = [])), responses((status = 200, body = Object)))]
pub(super) async fn scorecards(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
) -> Json<Value> {
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
pub(super) async fn scorecard(
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
        return Err(ApiError::unknown(Thing::Scorecard, &id));
    };
    let scores: Vec<_> = snap.scores.scores.iter().filter(|r| r.scorecard == id).collect();
    Ok(Json(
        json!({"as_of": snap.scores.as_of, "id": id, "name": s.name, "scores": scores}),
    ))
}

#[utoipa::path(get, path = "/api/v1/partnerships", security(("bearer" = [])), responses((status = 200, body = Object)))]
pub(super) async fn partnerships(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
) -> Json<Value> {
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
pub(super) async fn partnership(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Value>> {
    let snap = state.snapshot();
    if !p.can_see_partnership(&id) {
        return Err(ApiError::unknown(Thing::Partnership, &id));
    }
    let report = yardstick_engine::consequences::partnership(&snap.project, &snap.evaluation, &id)
        .ok_or_else(|| ApiError::unknown(Thing::Partnership, &id))?;
    let mut v = serde_json::to_value(report).map_err(|e| ApiError::Internal(e.to_string()))?;
    // Whether the review is judged on terms both partners signed.
    if let Some(t) = yardstick_core::terms::terms(&snap.project, &id) {
        v["terms"] = json!(
            yardstick_workspace::agreements::complete(t, state.store())
                .await?
                .standing()
        );
    }
    Ok(Json(v))
}
