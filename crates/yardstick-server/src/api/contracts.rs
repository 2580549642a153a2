//! `/api/v1/contracts`: contracts and their clause grid.

use super::*;

#[utoipa::path(get, path = "/api/v1/contracts", security(("bearer" = [])),
    responses((status = 200, body = Object)))]
pub(super) async fn contracts(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
) -> Json<Value> {
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
                           "target": cl.target.as_ref().map(|t| &t.value.text),
                           "targets": cl.targets.iter().map(|t| json!({"from": t.from.value.to_string(),
                               "target": t.target.value.text, "note": t.note})).collect::<Vec<_>>()})
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
    responses((status = 200, description = "Rows as `yardstick sla --format json`, and `terms`: whether every party signed the terms they are judged on", body = Object),
              (status = 404, body = ErrorBody)))]
pub(super) async fn clauses(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<RangeQuery>,
) -> ApiResult<Json<Value>> {
    let snap = state.snapshot();
    if !snap.project.contracts.contains_key(&id) || !p.can_see_contract(&id) {
        return Err(ApiError::unknown(Thing::Contract, &id));
    }
    let project = &snap.project;
    let (from, to) = time_range(project, q.from.as_deref(), q.to.as_deref())?;
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
    // Whether these results are judged on terms every party signed, and
    // each period (an amendment not yet signed leaves earlier ones signed).
    let agreement = match yardstick_core::terms::terms(project, &id) {
        Some(t) => Some(yardstick_workspace::agreements::complete(t, state.store()).await?),
        None => None,
    };
    let all = agreement.iter().cloned().collect::<Vec<_>>();
    let rows: Vec<Value> = rows
        .into_iter()
        .map(|r| {
            let mut v = json!(r);
            v["signed_terms"] = json!(yardstick_workspace::agreements::row_signed(
                project,
                &all,
                &r.contract,
                &r.clause,
                &r.period
            ));
            v
        })
        .collect();
    let terms = agreement.map(|a| a.standing());
    Ok(Json(
        json!({"as_of": snap.sla.as_of, "clauses": rows, "terms": terms}),
    ))
}
