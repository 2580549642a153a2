//! `/api/v1/slo`: error budgets of share and availability KPIs.

use super::*;

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
            clause_report = found.ok_or_else(|| {
                ApiError::Unknown(Thing::Clause, format!("no contract `{c}` with a clause `{cl}`"))
            })?;
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
