//! `/api/v1/actions`: corrective actions against a KPI's miss (and a cause
//! from `why`), each with the KPI and the cause's segment before and
//! after, judged on the snapshot's catalog and instant.

use std::collections::BTreeMap;

use super::*;
use yardstick_engine::why::effect::ActionScope;
use yardstick_store::{Close, NewAction};
use yardstick_workspace::actions::{cause_text, entity_text, judge, judged, next_period};

#[derive(Debug, Deserialize)]
pub(crate) struct ActionsQuery {
    kpi: Option<String>,
}

/// An action to record.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct NewActionBody {
    /// KPI id.
    pub(super) kpi: String,
    /// The period the action answers, e.g. 2026-05.
    pub period: String,
    /// What will be done.
    pub title: String,
    /// Who does it.
    pub owner: String,
    /// By when, YYYY-MM-DD.
    pub due: String,
    /// The cause's segment as `why` names it: dimension → value.
    #[serde(default)]
    pub cause: Option<BTreeMap<String, String>>,
    /// `col=value[,col=value]` of a `for_each` KPI.
    #[serde(default)]
    pub entity: Option<String>,
    /// First and last period its effect is judged in (default: the next period).
    #[serde(default)]
    pub judge_from: Option<String>,
    #[serde(default)]
    pub judge_to: Option<String>,
}

/// What came of an action.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CloseActionBody {
    pub outcome: String,
}

/// `GET /api/v1/actions[?kpi=ID]`: every action on a KPI the caller sees,
/// with its effect.
#[utoipa::path(get, path = "/api/v1/actions", security(("bearer" = [])),
    params(("kpi" = Option<String>, Query, pattern = r"^[A-Za-z_][A-Za-z0-9_-]*$", description = "only this KPI's actions")),
    responses((status = 200, description = "Actions with the KPI and segment before and after", body = Object),
              (status = 404, body = crate::error::ErrorBody)))]
pub(crate) async fn actions(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    ApiQuery(q): ApiQuery<ActionsQuery>,
) -> ApiResult<Json<Value>> {
    let snap = state.snapshot();
    // A KPI asked for must be one the caller sees.
    if let Some(k) = q.kpi.as_deref()
        && !(snap.project.kpis.contains_key(k) && p.can_see_kpi(k))
    {
        return Err(ApiError::unknown(Thing::Kpi, k));
    }
    let all: Vec<_> = state
        .store()
        .actions()
        .await?
        .into_iter()
        .filter(|a| p.can_see_kpi(&a.kpi) && q.kpi.as_deref().is_none_or(|k| k == a.kpi))
        .collect();
    let project = snap.project.clone();
    let catalog = snap.catalog.clone();
    let as_of = snap.evaluated_at;
    let listed = state
        .on_engine(async move { judged(&project, &catalog, all, as_of).await })
        .await?;
    Ok(Json(json!({"as_of": rfc3339(as_of), "actions": listed})))
}

/// `POST /api/v1/actions`: records an action (editor tokens; a party on
/// the KPIs it sees, by their declared dimensions). What it names must
/// exist: the KPI, the periods and the cause's rows.
#[utoipa::path(post, path = "/api/v1/actions", security(("bearer" = [])),
    request_body = NewActionBody,
    responses((status = 201, description = "The action with its effect", body = Object),
              (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody),
              (status = 415, description = "Not a JSON body", body = crate::error::ErrorBody)))]
pub(crate) async fn add(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    ApiJson(body): ApiJson<NewActionBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let snap = state.snapshot();
    let Some(k) = snap
        .project
        .kpis
        .get(&body.kpi)
        .filter(|_| p.can_see_kpi(&body.kpi))
    else {
        return Err(ApiError::unknown(Thing::Kpi, &body.kpi));
    };
    p.require(Role::Editor)?;
    for (field, text) in [("title", &body.title), ("owner", &body.owner)] {
        if text.trim().is_empty() {
            return Err(ApiError::BadRequest(format!("`{field}` is empty: say it")));
        }
    }
    if chrono::NaiveDate::parse_from_str(&body.due, "%Y-%m-%d").is_err() {
        return Err(ApiError::BadRequest(format!(
            "`due` {:?} is not a date (YYYY-MM-DD)",
            body.due
        )));
    }
    let period = period_label(&snap.project, &body.period)?;
    let cause: Vec<(String, Option<String>)> = body
        .cause
        .clone()
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k, Some(v)))
        .collect();
    if p.token.party.is_some()
        && let Some((d, _)) = cause
            .iter()
            .find(|(d, _)| !k.dimensions.iter().chain(&k.for_each).any(|x| &x.value == d))
    {
        return Err(ApiError::BadDimension(format!(
            "`{d}` is not a dimension of `{}`",
            body.kpi
        )));
    }
    let entity = entity_param(body.entity.as_deref())?;
    let judge_from = match &body.judge_from {
        Some(l) => period_label(&snap.project, l)?,
        None => next_period(&snap.project, &period).unwrap_or_default(),
    };
    let judge_to = match &body.judge_to {
        Some(l) => period_label(&snap.project, l)?,
        None => judge_from.clone(),
    };
    let project = snap.project.clone();
    let catalog = snap.catalog.clone();
    let as_of = snap.evaluated_at;
    let (kpi_id, period_c, cause_c, entity_c, from_c, to_c) = (
        body.kpi.clone(),
        period.clone(),
        cause.clone(),
        entity.clone(),
        judge_from.clone(),
        judge_to.clone(),
    );
    state
        .on_engine(async move {
            let scope = ActionScope {
                kpi: &kpi_id,
                entity: &entity_c,
                period: &period_c,
                cause: &cause_c,
                judge_from: &from_c,
                judge_to: &to_c,
            };
            judge(&project, &catalog, &scope, as_of).await
        })
        .await?
        .map_err(ApiError::from)?;
    let entity_text = entity_text(&entity);
    let cause_json = cause_text(&cause);
    let actor = p.actor();
    let stored = state
        .store()
        .add_action(&NewAction {
            kpi: &body.kpi,
            entity: entity_text.as_deref(),
            period: &period,
            cause: cause_json.as_deref(),
            title: body.title.trim(),
            owner: body.owner.trim(),
            due: &body.due,
            judge_from: &judge_from,
            judge_to: &judge_to,
            actor: &actor,
        })
        .await?;
    let project = snap.project.clone();
    let catalog = snap.catalog.clone();
    let listed = state
        .on_engine(async move { judged(&project, &catalog, vec![stored], as_of).await })
        .await?;
    Ok((StatusCode::CREATED, Json(json!(listed.first()))))
}

/// `POST /api/v1/actions/{id}/close`: closes an action with what came of
/// it (editor tokens).
#[utoipa::path(post, path = "/api/v1/actions/{id}/close", security(("bearer" = [])),
    params(("id" = i64, Path, description = "action number")),
    request_body = CloseActionBody,
    responses((status = 200, description = "The closed action", body = Object),
              (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody),
              (status = 415, description = "Not a JSON body", body = crate::error::ErrorBody)))]
pub(crate) async fn close(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<CloseActionBody>,
) -> ApiResult<Json<Value>> {
    let unknown = || ApiError::unknown(Thing::Action, &id.to_string());
    let found = state.store().actions().await?.into_iter().find(|a| a.id == id);
    match found {
        Some(a) if p.can_see_kpi(&a.kpi) => {}
        _ => return Err(unknown()),
    }
    p.require(Role::Editor)?;
    if body.outcome.trim().is_empty() {
        return Err(ApiError::BadRequest(
            "`outcome` is empty: say what came of it".into(),
        ));
    }
    match state
        .store()
        .close_action(id, &p.actor(), body.outcome.trim())
        .await?
    {
        Close::Closed(a) => Ok(Json(json!(a))),
        Close::Unknown => Err(unknown()),
        Close::AlreadyClosed(a) => Err(ApiError::Conflict(format!(
            "action #{id} was closed already: {}",
            a.outcome.unwrap_or_default()
        ))),
    }
}
