//! `GET /api/v1/kpis/{id}/why`: why a KPI moved or missed in a period, as
//! `yardstick why --format json`, on the snapshot's catalog and instant.

use super::*;
use yardstick_core::why::search::Roots;
use yardstick_engine::why::{Vs, WhyOptions};

#[derive(Debug, Deserialize)]
pub(crate) struct WhyQuery {
    period: String,
    /// previous (default), year_ago, target, baseline, forecast.
    vs: Option<String>,
    /// `col=value`, comma-separated for several columns.
    entity: Option<String>,
    /// `col=value`, comma-separated: only rows of this segment.
    within: Option<String>,
    /// Comma-separated columns (default: the KPI's dimensions).
    dimensions: Option<String>,
    depth: Option<usize>,
    top: Option<usize>,
    /// explain (default) or unusual.
    roots: Option<String>,
}

/// `GET /api/v1/kpis/{id}/why?period=LABEL[&vs=previous|year_ago|target|baseline|forecast]`:
/// the gap to the reference split over the KPI's dimensions into ranked
/// causes. A party token may split by the KPI's declared dimensions only.
#[utoipa::path(get, path = "/api/v1/kpis/{id}/why", security(("bearer" = [])),
    params(("id" = String, Path, description = "KPI id"),
           ("period" = String, Query, pattern = r"^(FY[0-9]{4}(-Q[1-4])?|[0-9]{4}(-(Q[1-4]|H[12]|W(0[1-9]|[1-4][0-9]|5[0-3])|(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01]))?))?)$", description = "a period label of the KPI's grain, e.g. 2026-10"),
           ("vs" = Option<String>, Query, pattern = r"^(previous|year_ago|target|baseline|forecast)$", description = "the reference (default previous)"),
           ("entity" = Option<String>, Query, pattern = r"^([^,]*=[^,]*)?(,([^,]*=[^,]*)?)*$", description = "col=value[,col=value]"),
           ("within" = Option<String>, Query, pattern = r"^([^,]*=[^,]*)?(,([^,]*=[^,]*)?)*$", description = "col=value[,col=value]: only rows of this segment"),
           ("dimensions" = Option<String>, Query, pattern = r"^[A-Za-z_][A-Za-z0-9_-]*(,[A-Za-z_][A-Za-z0-9_-]*)*$", description = "columns to split by, comma-separated"),
           ("depth" = Option<usize>, Query, minimum = 1, maximum = 6, description = "most dimensions in one cause (default 3)"),
           ("top" = Option<usize>, Query, minimum = 1, maximum = 1000, description = "causes listed (default 10; roots always are)"),
           ("roots" = Option<String>, Query, pattern = r"^(explain|unusual)$", description = "what makes a cause a root: explain (default: the few that explain the gap) or unusual (every segment that moved unusually)")),
    responses((status = 200, description = "As `yardstick why --format json`", body = Object),
              (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub(crate) async fn why(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<WhyQuery>,
) -> Result<Json<Value>, ApiError> {
    let snap = state.snapshot();
    let Some(k) = snap.project.kpis.get(&id).filter(|_| p.can_see_kpi(&id)) else {
        return Err(ApiError::unknown(Thing::Kpi, &id));
    };
    let vs = match q.vs.as_deref() {
        None => Vs::Previous,
        Some(v) => Vs::parse(v).ok_or_else(|| {
            ApiError::BadRequest(format!("`vs={v}` is not one of {}", Vs::NAMES.join(", ")))
        })?,
    };
    let depth = q.depth.unwrap_or(3);
    if !(1..=6).contains(&depth) {
        return Err(ApiError::BadRequest(format!(
            "`depth={depth}` is out of range: combine 1 to 6 dimensions"
        )));
    }
    let top = q.top.unwrap_or(10);
    if !(1..=1000).contains(&top) {
        return Err(ApiError::BadRequest(format!(
            "`top={top}` is out of range: list 1 to 1000 causes"
        )));
    }
    let roots = match q.roots.as_deref() {
        None => Roots::Explain,
        Some(r) => Roots::parse(r)
            .ok_or_else(|| ApiError::BadRequest(format!("`roots={r}` is not one of explain, unusual")))?,
    };
    let entity = entity_param(q.entity.as_deref())?;
    let within = entity_param(q.within.as_deref())?;
    let period = period_label(&snap.project, &q.period)?;
    let dimensions: Option<Vec<String>> = q.dimensions.as_deref().map(|d| {
        d.split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    });
    // A party sees the splits the KPI declares, nothing finer.
    if p.token.party.is_some()
        && let Some(d) = dimensions
            .iter()
            .flatten()
            .chain(within.iter().map(|(c, _)| c))
            .find(|d| !k.dimensions.iter().chain(&k.for_each).any(|x| &x.value == *d))
    {
        return Err(ApiError::BadDimension(format!(
            "`{d}` is not a dimension of `{id}`; declared: {}",
            k.dimensions
                .iter()
                .map(|x| x.value.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    // …and by default those only (a fleet's units are not declared).
    let dimensions = match dimensions {
        None if p.token.party.is_some() => Some(
            super::kpis::why_by(k, &p)
                .into_iter()
                .filter(|d| !entity.iter().chain(&within).any(|(c, _)| c == d))
                .collect(),
        ),
        d => d,
    };
    let opts = WhyOptions {
        kpi: id,
        period,
        vs,
        entity,
        within,
        dimensions,
        depth,
        top,
        roots,
        as_of: snap.evaluated_at,
    };
    let project = snap.project.clone();
    let catalog = snap.catalog.clone();
    let x = state
        .on_engine(async move { yardstick_engine::why::why(&project, &catalog, &opts).await })
        .await?
        .map_err(ApiError::from)?;
    serde_json::to_value(x)
        .map(Json)
        .map_err(|e| ApiError::Internal(e.to_string()))
}
